/**
 * Per-connection limits: reading pauses while `maxInFlightRequests` requests are open and
 * resumes as they are answered (a deep pipeline is still answered completely and in order),
 * and `connections.max.idle.ms` closes a connection with nothing in flight, but not one whose
 * long poll is still waiting.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { KafkaConnection } from '../../../src/protocol/connection.js'
import { startListeners } from '../../../src/protocol/listeners.js'
import { topicName } from '../../helpers/cluster.js'
import { closedWithin, collectingLogger, rawSocket, sharedServedCluster } from './helpers.js'

const shared = sharedServedCluster()

async function limitedListener(connection: { maxInFlightRequests?: number; connectionsMaxIdleMs?: number }): Promise<number> {
  const cluster = shared().cluster
  const listeners = await startListeners(cluster.engine, () => cluster.groupCoordinator(), { host: '127.0.0.1', port: 0, logger: collectingLogger(), connection })
  onTestFinished(() => listeners.close())
  return listeners.addresses[0]!.port
}

describe('protocol > server > connection limits', () => {
  it('answers a pipeline far deeper than maxInFlightRequests, in order', async () => {
    const port = await limitedListener({ maxInFlightRequests: 4 })
    const connection = await KafkaConnection.connect({ host: '127.0.0.1', port, timeoutMs: 10_000 })
    onTestFinished(() => connection.close())
    const topic = topicName('deep')
    await shared().cluster.engine.createTopic({ topic, numPartitions: 1, replicationFactor: 1, configs: {} })
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => i % 2 === 0
      ? connection.request(ApiKey.ApiVersions, { clientSoftwareName: 'deep', clientSoftwareVersion: String(i) }).then((r) => r.errorCode)
      : connection.request(ApiKey.Metadata, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }).then((r) => r.topics[0]!.errorCode)))
    expect(answers).toEqual(new Array(300).fill(0))
  })

  it('closes an idle connection after connections.max.idle.ms, but not one with a request in flight', async () => {
    const port = await limitedListener({ connectionsMaxIdleMs: 150 })
    const idle = await rawSocket(port)
    expect(await closedWithin(idle, 5000)).toBe(true)
    const topic = topicName('idle')
    await shared().cluster.engine.createTopic({ topic, numPartitions: 1, replicationFactor: 1, configs: {} })
    const polling = await KafkaConnection.connect({ host: '127.0.0.1', port, timeoutMs: 10_000 })
    onTestFinished(() => polling.close())
    const response = await polling.request(ApiKey.Fetch, {
      replicaId: -1, maxWaitMs: 600, minBytes: 1, maxBytes: 1024, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, topicId: 'AAAAAAAAAAAAAAAAAAAAAA', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1024 }] }],
      forgottenTopicsData: [], rackId: '',
    }, { version: 12 })
    expect(response.responses[0]!.partitions[0]!.errorCode).toBe(0)
  })
})
