/**
 * Helpers for the wire-protocol server tests: a real cluster (worker threads, files in a temp
 * dir) with a listener per broker on free loopback ports, a logger that collects lines, and
 * raw client connections; everything registers its own cleanup.
 */
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, onTestFinished } from 'vitest'
import { Cluster, type ClusterOptions } from '../../../src/client/cluster.js'
import { startListeners, type Listeners } from '../../../src/protocol/listeners.js'
import { KafkaConnection } from '../../../src/protocol/connection.js'
import type { ProtocolLogger } from '../../../src/protocol/handlers/index.js'
import { encodeRecordBatch, type RecordInput } from '../../../src/records/record-batch.js'

/** A logger that keeps every line, for assertions. */
export interface CollectingLogger extends ProtocolLogger {
  readonly lines: string[]
}

/** A logger that keeps its lines in `lines`. */
export function collectingLogger(): CollectingLogger {
  const lines: string[] = []
  return {
    lines,
    info: (m) => { lines.push(`info: ${m}`) },
    warn: (m) => { lines.push(`warn: ${m}`) },
    error: (m) => { lines.push(`error: ${m}`) },
  }
}

/** A cluster serving the Kafka protocol on loopback. */
export interface ServedCluster {
  cluster: Cluster
  listeners: Listeners
  logger: CollectingLogger
  /** Port of broker `id`'s listener. */
  port(id?: number): number
}

/** A served cluster that the caller stops. */
export interface OwnedServedCluster extends ServedCluster {
  /** Closes the listeners, stops the cluster and removes its data directory. */
  stop(): Promise<void>
}

/** Starts a cluster (2 shards unless told) in a fresh temp dir, with listeners on free loopback ports. */
export async function launchServedCluster(options: ClusterOptions = {}): Promise<OwnedServedCluster> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'shardlog-server-test-'))
  const removeDir = (): void => { if (options.dataDir === undefined) fs.rmSync(dataDir, { recursive: true, force: true }) }
  let cluster: Cluster
  try {
    cluster = await Cluster.start({ shards: 2, ...options, dataDir })
  } catch (err) {
    removeDir()
    throw err
  }
  const logger = collectingLogger()
  let listeners: Listeners
  try {
    listeners = await startListeners(cluster.engine, () => cluster.groupCoordinator(), { host: '127.0.0.1', port: 0, logger })
  } catch (err) {
    await cluster.stop()
    removeDir()
    throw err
  }
  return {
    cluster,
    listeners,
    logger,
    port: (id = 0) => listeners.addresses.find((a) => a.brokerId === id)!.port,
    stop: async () => {
      await listeners.close()
      await cluster.stop()
      removeDir()
    },
  }
}

/** {@link launchServedCluster}, stopped after the current test. */
export async function startServedCluster(options: ClusterOptions = {}): Promise<ServedCluster> {
  const served = await launchServedCluster(options)
  onTestFinished(() => served.stop())
  return served
}

/**
 * One served cluster for every test of the enclosing describe block (started in beforeAll,
 * stopped in afterAll); tests keep apart by using fresh topic and group names.
 */
export function sharedServedCluster(options: ClusterOptions = {}): () => ServedCluster {
  let served: OwnedServedCluster | undefined
  beforeAll(async () => { served = await launchServedCluster(options) })
  afterAll(async () => { await served?.stop() })
  return () => {
    if (served === undefined) throw new Error('the shared cluster is not started (call inside a test)')
    return served
  }
}

/** A raw client connection to a listener, closed after the test. */
export async function connect(port: number, clientId = 'raw-test'): Promise<KafkaConnection> {
  const connection = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId, timeoutMs: 10_000 })
  onTestFinished(async () => { await connection.close() })
  return connection
}

/** A plain socket to a listener, destroyed after the test. */
export async function rawSocket(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  socket.on('error', () => undefined)
  onTestFinished(() => { socket.destroy() })
  return socket
}

/** Resolves true once `socket` is closed by the peer, false if it is still open after `timeoutMs`. */
export function closedWithin(socket: net.Socket, timeoutMs: number): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs)
    const done = (): void => {
      clearTimeout(timer)
      resolve(true)
    }
    socket.once('close', done)
    socket.once('end', done)
  })
}

/** One RecordBatch v2 holding `count` records `value-<i>` (uncompressed unless told). */
export function batchOf(count: number, extra: { producerId?: number; producerEpoch?: number; baseSequence?: number; timestamp?: number } = {}): Promise<Buffer> {
  const records: RecordInput[] = Array.from({ length: count }, (_, i) => ({
    key: Buffer.from(`key-${i}`),
    value: Buffer.from(`value-${i}`),
    timestamp: extra.timestamp,
  }))
  return encodeRecordBatch(records, {
    producerId: extra.producerId,
    producerEpoch: extra.producerEpoch,
    baseSequence: extra.baseSequence,
  })
}
