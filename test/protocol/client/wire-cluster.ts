/**
 * Test helper: a real shardlog cluster (worker threads, files in a temp dir) serving the Kafka
 * wire protocol on free loopback ports. Listeners close and the cluster stops after the test.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, onTestFinished } from 'vitest'
import { Cluster, type ClusterOptions } from '../../../src/client/cluster.js'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { KafkaClient } from '../../../src/protocol/client/kafka-client.js'
import { startListeners } from '../../../src/protocol/listeners.js'
import { decodeRecordBatches, type DecodedBatch } from '../../../src/records/record-batch.js'

/** A running cluster and the bootstrap address of its listeners. */
export interface WireCluster {
  cluster: Cluster
  /** `host:port` of broker 0. */
  bootstrap: string
  /** Log lines of the listeners (connection problems), for assertions. */
  log: string[]
}

/** Starts a cluster (2 shards unless told) with listeners on 127.0.0.1; it stops after the test. */
export async function startWireCluster(options: ClusterOptions = {}): Promise<WireCluster> {
  const { wire, stop } = await launch(options)
  onTestFinished(stop)
  return wire
}

/**
 * One cluster for every test of the file (started in beforeAll, stopped in afterAll): the
 * returned object is filled in before the first test runs. Tests must use their own random
 * topic and group names.
 */
export function sharedWireCluster(options: ClusterOptions = {}): WireCluster {
  const shared = { log: [] } as unknown as WireCluster
  let stop: (() => Promise<void>) | undefined
  beforeAll(async () => {
    const launched = await launch(options)
    Object.assign(shared, launched.wire)
    stop = launched.stop
  })
  afterAll(async () => { await stop?.() })
  return shared
}

async function launch(options: ClusterOptions): Promise<{ wire: WireCluster; stop: () => Promise<void> }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardlog-wire-'))
  const cluster = await Cluster.start({ shards: 2, dataDir, ...options })
  const log: string[] = []
  const logger = { info: (m: string) => log.push(m), warn: (m: string) => log.push(m), error: (m: string) => log.push(m) }
  let listeners
  try {
    listeners = await startListeners(cluster.engine, () => cluster.groupCoordinator(), { host: '127.0.0.1', port: 0, logger })
  } catch (err) {
    await cluster.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
    throw err
  }
  const opened = listeners
  const stop = async (): Promise<void> => {
    await opened.close()
    await cluster.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
  return { wire: { cluster, bootstrap: opened.bootstrap, log }, stop }
}

/** A random topic or group name. */
export function randomName(prefix = 'topic'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** Every RecordBatch of a partition from offset 0, fetched raw (one Fetch), to check batch boundaries. */
export async function fetchRawBatches(bootstrap: string, topic: string, partition: number): Promise<DecodedBatch[]> {
  const client = await KafkaClient.connect({ bootstrap })
  try {
    const meta = (await client.topicMetadata([topic])).get(topic)!
    const connection = await client.brokerConnection(meta.partitions[partition]!.leader)
    const response = await connection.request(ApiKey.Fetch, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 24, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, topicId: meta.topicId, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 24 }] }],
      forgottenTopicsData: [], rackId: '',
    })
    const records = response.responses[0]?.partitions[0]?.records
    return records ? decodeRecordBatches(records) : []
  } finally {
    await client.close()
  }
}
