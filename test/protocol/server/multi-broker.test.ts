/**
 * Three brokers, three listeners: Metadata advertises every broker with its own port and the
 * leader of every partition; a partition request sent to a broker that does not lead the
 * partition answers NOT_LEADER_OR_FOLLOWER (so clients refresh metadata); FindCoordinator
 * names the leader of the group's `__consumer_offsets` partition, and group requests are
 * accepted on any broker.
 */
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { ZERO_UUID } from '../../../src/protocol/reader.js'
import { topicName } from '../../helpers/cluster.js'
import { batchOf, connect, sharedServedCluster } from './helpers.js'

const shared = sharedServedCluster({ brokers: 3 })

describe('protocol > server > three brokers', () => {
  it('advertises each broker on its own port and the leader of each partition', async () => {
    const served = shared()
    const topic = topicName('multi')
    await served.cluster.engine.createTopic({ topic, numPartitions: 6, replicationFactor: 1, configs: {} })
    for (const id of [0, 1, 2]) {
      const connection = await connect(served.port(id))
      const md = await connection.request(ApiKey.Metadata, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })
      expect(md.brokers.map((b) => [b.nodeId, b.host, b.port])).toEqual([0, 1, 2].map((b) => [b, '127.0.0.1', served.port(b)]))
      expect(md.controllerId).toBe(0)
      expect(md.clusterId).toMatch(/^[A-Za-z0-9_-]{22}$/)
      const leaders = md.topics[0]!.partitions.map((p) => p.leaderId)
      expect(new Set(leaders)).toEqual(new Set([0, 1, 2]))
      expect(leaders).toEqual(served.cluster.engine.controller.topics.get(topic)!.partitions.map((p) => p.leader))
    }
  })

  it('answers NOT_LEADER_OR_FOLLOWER for a partition another broker leads', async () => {
    const served = shared()
    const topic = topicName('leader')
    await served.cluster.engine.createTopic({ topic, numPartitions: 3, replicationFactor: 1, configs: {} })
    const partitions = served.cluster.engine.controller.topics.get(topic)!.partitions
    const batch = await batchOf(1)
    for (const p of partitions) {
      for (const broker of [0, 1, 2]) {
        const connection = await connect(served.port(broker))
        const produced = await connection.request(ApiKey.Produce, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: p.partition, records: batch }] }] })
        const listed = await connection.request(ApiKey.ListOffsets, { replicaId: -1, isolationLevel: 0, timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partitionIndex: p.partition, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }] })
        const expected = broker === p.leader ? 0 : 6
        expect(produced.responses[0]!.partitionResponses[0]!.errorCode, `produce ${topic}-${p.partition} on broker ${broker}`).toBe(expected)
        expect(listed.topics[0]!.partitions[0]!.errorCode).toBe(expected)
      }
    }
  })

  it('names the coordinator that leads the group\'s offsets partition and serves group requests on any broker', async () => {
    const served = shared()
    const groupId = `group-${topicName('coord')}`
    const connection = await connect(served.port(2))
    const found = await connection.request(ApiKey.FindCoordinator, { key: groupId, keyType: 0, coordinatorKeys: [] }, { version: 2 })
    const coordinator = await served.cluster.groupCoordinator()
    const leader = served.cluster.engine.controller.topics.get('__consumer_offsets')!.partitions[coordinator.partitionFor(groupId)]!.leader
    expect(found).toMatchObject({ errorCode: 0, nodeId: leader, host: '127.0.0.1', port: served.port(leader) })
    const batched = await connection.request(ApiKey.FindCoordinator, { key: '', keyType: 0, coordinatorKeys: [groupId, 'other'] }, { version: 4 })
    expect(batched.coordinators.map((c) => c.key)).toEqual([groupId, 'other'])
    expect(batched.coordinators[0]).toMatchObject({ errorCode: 0, nodeId: leader })
    const txn = await connection.request(ApiKey.FindCoordinator, { key: 'tx', keyType: 1, coordinatorKeys: [] }, { version: 2 })
    expect(txn.errorCode).toBe(42)
    for (const broker of [0, 1, 2]) {
      const c = await connect(served.port(broker))
      const listed = await c.request(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] })
      expect(listed.errorCode).toBe(0)
    }
  })
})
