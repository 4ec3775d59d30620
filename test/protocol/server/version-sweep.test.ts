/**
 * Every advertised version of every served API gets a well-formed response: for each
 * (API, version) the sweep sends a small valid request over a real socket and decodes the
 * answer with the generated codec of that version. This catches handler results that the
 * version's layout cannot carry (a null where it is not nullable, a missing field).
 */
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { ADVERTISED_API_VERSIONS } from '../../../src/protocol/api-versions.js'
import { API_HANDLERS } from '../../../src/protocol/handlers/index.js'
import type { ApiRequests } from '../../../src/protocol/messages/index.js'
import { ZERO_UUID } from '../../../src/protocol/reader.js'
import { topicName } from '../../helpers/cluster.js'
import { batchOf, connect, startServedCluster } from './helpers.js'

type Bodies = { [K in ApiKey]?: (v: number) => ApiRequests[K] }

function requestBodies(topic: string, topicId: string, batch: Buffer, suffix: string): Bodies {
  const group = `sweep-group-${suffix}`
  return {
    [ApiKey.Produce]: () => ({ transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] }),
    [ApiKey.Fetch]: () => ({
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic, topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    }),
    [ApiKey.ListOffsets]: () => ({ replicaId: -1, isolationLevel: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2, maxNumOffsets: 1 }] }], timeoutMs: 1000 }),
    [ApiKey.Metadata]: (v) => ({ topics: [{ topicId: v >= 10 ? topicId : ZERO_UUID, name: v >= 10 ? null : topic }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }),
    [ApiKey.OffsetCommit]: () => ({
      groupId: group, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 1, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: 'm' }] }],
    }),
    [ApiKey.OffsetFetch]: (v) => v >= 8
      ? { groupId: '', topics: [], groups: [{ groupId: group, memberId: null, memberEpoch: -1, topics: null }], requireStable: false }
      : { groupId: group, topics: [{ name: topic, partitionIndexes: [0] }], groups: [], requireStable: false },
    [ApiKey.FindCoordinator]: (v) => (v >= 4 ? { key: '', keyType: 0, coordinatorKeys: [group] } : { key: group, keyType: 0, coordinatorKeys: [] }),
    [ApiKey.JoinGroup]: (v) => ({
      groupId: `${group}-join-${v}`, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', groupInstanceId: null,
      protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from([0, 0, 0, 0, 0, 0]) }], reason: null,
    }),
    [ApiKey.Heartbeat]: () => ({ groupId: group, generationId: 1, memberId: 'nobody', groupInstanceId: null }),
    [ApiKey.LeaveGroup]: (v) => (v >= 3
      ? { groupId: group, memberId: '', members: [{ memberId: 'nobody', groupInstanceId: null, reason: null }] }
      : { groupId: group, memberId: 'nobody', members: [] }),
    [ApiKey.SyncGroup]: () => ({ groupId: group, generationId: 1, memberId: 'nobody', groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
    [ApiKey.DescribeGroups]: () => ({ groups: [group], includeAuthorizedOperations: false }),
    [ApiKey.ListGroups]: () => ({ statesFilter: [], typesFilter: [] }),
    [ApiKey.ApiVersions]: () => ({ clientSoftwareName: 'sweep', clientSoftwareVersion: '1.0' }),
    [ApiKey.CreateTopics]: (v) => ({ topics: [{ name: `${topic}-created-${v}`, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false }),
    [ApiKey.DeleteTopics]: (v) => (v >= 6
      ? { topics: [{ name: 'no-such-topic', topicId: ZERO_UUID }], topicNames: [], timeoutMs: 5000 }
      : { topics: [], topicNames: ['no-such-topic'], timeoutMs: 5000 }),
    [ApiKey.DeleteRecords]: () => ({ topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 0 }] }], timeoutMs: 5000 }),
    [ApiKey.InitProducerId]: () => ({ transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 }),
    [ApiKey.OffsetForLeaderEpoch]: () => ({ replicaId: -2, topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] }),
    [ApiKey.DescribeConfigs]: (v) => ({ resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }], includeSynonyms: true, includeDocumentation: v >= 3 }),
    [ApiKey.AlterConfigs]: () => ({ resources: [{ resourceType: 2, resourceName: topic, configs: [{ name: 'retention.ms', value: '600000' }] }], validateOnly: true }),
    [ApiKey.CreatePartitions]: () => ({ topics: [{ name: topic, count: 1, assignments: null }], timeoutMs: 5000, validateOnly: true }),
    [ApiKey.DeleteGroups]: () => ({ groupsNames: ['no-such-group'] }),
    [ApiKey.IncrementalAlterConfigs]: () => ({ resources: [{ resourceType: 2, resourceName: topic, configs: [{ name: 'retention.ms', configOperation: 0, value: '600000' }] }], validateOnly: true }),
    [ApiKey.OffsetDelete]: () => ({ groupId: 'no-such-group', topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }] }),
  }
}

describe('protocol > server > every advertised version', () => {
  it('has exactly one handler per advertised API', () => {
    const advertised = ADVERTISED_API_VERSIONS.map((r) => r.apiKey).sort((a, b) => a - b)
    const handled = Object.keys(API_HANDLERS).map(Number).sort((a, b) => a - b)
    expect(handled).toEqual(advertised)
  })

  it('answers a request of each advertised version of each API with a decodable response', async () => {
    const served = await startServedCluster()
    const topic = topicName('sweep')
    const { topicId } = await served.cluster.engine.createTopic({ topic, numPartitions: 1, replicationFactor: 1, configs: {} })
    const batch = await batchOf(3)
    const connection = await connect(served.port())
    const bodies = requestBodies(topic, topicId, batch, topic)
    const answered: string[] = []
    for (const range of ADVERTISED_API_VERSIONS) {
      const body = bodies[range.apiKey] as ((v: number) => ApiRequests[ApiKey]) | undefined
      expect(body, `request body for API ${range.apiKey}`).toBeDefined()
      for (let v = range.minVersion; v <= range.maxVersion; v++) {
        const response = await connection.request(range.apiKey, body!(v) as never, { version: v }).catch((err: unknown) => { throw new Error(`API ${range.apiKey} v${v}: ${String(err)}\n${served.logger.lines.join("\n")}`) })
        expect(response, `API ${range.apiKey} v${v}`).toBeTypeOf('object')
        answered.push(`${range.apiKey}v${v}`)
      }
    }
    expect(answered.length).toBe(ADVERTISED_API_VERSIONS.reduce((n, r) => n + r.maxVersion - r.minVersion + 1, 0))
    expect(served.logger.lines.filter((l) => l.startsWith('error') || l.startsWith('warn'))).toEqual([])
    expect(connection.closed).toBe(false)
  })
})
