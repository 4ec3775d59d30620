/**
 * The group APIs over the wire with the raw client, one member playing a whole lifecycle:
 * FindCoordinator, JoinGroup (KIP-394's MEMBER_ID_REQUIRED first from v4), SyncGroup,
 * Heartbeat, OffsetCommit, OffsetFetch (v1 and the batched v8), DescribeGroups, ListGroups,
 * LeaveGroup (v0's single member), OffsetDelete and DeleteGroups.
 */
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import type { KafkaConnection } from '../../../src/protocol/connection.js'
import type { JoinGroupRequest } from '../../../src/protocol/messages/join-group.js'
import { decodeAssignment, encodeAssignment, encodeSubscription } from '../../../src/group/consumer-protocol.js'
import { topicName } from '../../helpers/cluster.js'
import { connect, sharedServedCluster } from './helpers.js'

const shared = sharedServedCluster()

function joinRequest(groupId: string, topic: string, memberId = ''): JoinGroupRequest {
  return {
    groupId, memberId, groupInstanceId: null, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: 'consumer', reason: null,
    protocols: [{ name: 'range', metadata: encodeSubscription({ topics: [topic] }) }],
  }
}

async function commit(connection: KafkaConnection, groupId: string, topic: string, generationId: number, memberId: string, offset: number): Promise<number[]> {
  const r = await connection.request(ApiKey.OffsetCommit, {
    groupId, generationIdOrMemberEpoch: generationId, memberId, groupInstanceId: null, retentionTimeMs: -1,
    topics: [{ name: topic, partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, committedOffset: offset + partitionIndex, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: 'meta' })) }],
  })
  return r.topics[0]!.partitions.map((p) => p.errorCode)
}

describe('protocol > server > group APIs', () => {
  it('runs a member through join, sync, heartbeat, commit, fetch, describe, list and leave', async () => {
    const served = shared()
    const topic = topicName('grp')
    const groupId = `group-${topic}`
    await served.cluster.engine.createTopic({ topic, numPartitions: 2, replicationFactor: 1, configs: {} })
    const connection = await connect(served.port(), 'member-client')
    const found = await connection.request(ApiKey.FindCoordinator, { key: groupId, keyType: 0, coordinatorKeys: [] }, { version: 3 })
    expect(found).toMatchObject({ errorCode: 0, nodeId: 0, port: served.port() })

    const first = await connection.request(ApiKey.JoinGroup, joinRequest(groupId, topic), { version: 5 })
    expect(first.errorCode).toBe(79) // MEMBER_ID_REQUIRED (KIP-394)
    const memberId = first.memberId
    expect(memberId).toMatch(/^member-client-/)
    const joined = await connection.request(ApiKey.JoinGroup, joinRequest(groupId, topic, memberId), { version: 5 })
    expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: 'range', leader: memberId, memberId })
    expect(joined.members.map((m) => m.memberId)).toEqual([memberId])

    const assignment = encodeAssignment({ assignedPartitions: [{ topic, partitions: [0, 1] }] })
    const synced = await connection.request(ApiKey.SyncGroup, { groupId, generationId: 1, memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId, assignment }] }, { version: 5 })
    expect(synced).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' })
    expect(decodeAssignment(synced.assignment).assignedPartitions).toEqual([{ topic, partitions: [0, 1] }])

    const beat = await connection.request(ApiKey.Heartbeat, { groupId, generationId: 1, memberId, groupInstanceId: null })
    expect(beat.errorCode).toBe(0)
    expect((await connection.request(ApiKey.Heartbeat, { groupId, generationId: 7, memberId, groupInstanceId: null })).errorCode).toBe(22) // ILLEGAL_GENERATION

    expect(await commit(connection, groupId, topic, 1, memberId, 10)).toEqual([0, 0])
    expect(await commit(connection, groupId, topic, 2, memberId, 10)).toEqual([22, 22])
    const v1 = await connection.request(ApiKey.OffsetFetch, { groupId, topics: [{ name: topic, partitionIndexes: [0, 1] }], groups: [], requireStable: false }, { version: 1 })
    expect(v1.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.metadata, p.errorCode])).toEqual([[0, 10, 'meta', 0], [1, 11, 'meta', 0]])
    const v8 = await connection.request(ApiKey.OffsetFetch, { groupId: '', topics: [], groups: [{ groupId, memberId: null, memberEpoch: -1, topics: null }, { groupId: 'no-such-group', memberId: null, memberEpoch: -1, topics: [{ name: topic, partitionIndexes: [0] }] }], requireStable: true }, { version: 8 })
    expect(v8.groups[0]!.topics[0]!.partitions.map((p) => p.committedOffset)).toEqual([10, 11])
    expect(v8.groups[1]!.topics[0]!.partitions[0]!.committedOffset).toBe(-1)

    const described = await connection.request(ApiKey.DescribeGroups, { groups: [groupId, 'no-such-group'], includeAuthorizedOperations: false })
    expect(described.groups[0]).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' })
    expect(described.groups[0]!.members[0]).toMatchObject({ memberId, clientId: 'member-client', clientHost: '/127.0.0.1' })
    expect(described.groups[1]).toMatchObject({ errorCode: 0, groupState: 'Dead' })
    const stable = await connection.request(ApiKey.ListGroups, { statesFilter: ['Stable'], typesFilter: [] })
    expect(stable.groups.find((g) => g.groupId === groupId)).toMatchObject({ protocolType: 'consumer', groupState: 'Stable' })

    // Members' subscriptions protect their topics' offsets.
    const protectedDelete = await connection.request(ApiKey.OffsetDelete, { groupId, topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }] })
    expect(protectedDelete.topics[0]!.partitions[0]!.errorCode).toBe(86) // GROUP_SUBSCRIBED_TO_TOPIC
    expect((await connection.request(ApiKey.DeleteGroups, { groupsNames: [groupId] })).results[0]!.errorCode).toBe(68) // NON_EMPTY_GROUP

    const left = await connection.request(ApiKey.LeaveGroup, { groupId, memberId, members: [] }, { version: 0 })
    expect(left.errorCode).toBe(0)
    const leftAgain = await connection.request(ApiKey.LeaveGroup, { groupId, memberId, members: [] }, { version: 0 })
    expect(leftAgain.errorCode).toBe(25) // UNKNOWN_MEMBER_ID, at the top level before v3

    const deleted = await connection.request(ApiKey.OffsetDelete, { groupId, topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }] })
    expect(deleted).toMatchObject({ errorCode: 0, topics: [{ name: topic, partitions: [{ partitionIndex: 0, errorCode: 0 }] }] })
    const dropped = await connection.request(ApiKey.DeleteGroups, { groupsNames: [groupId, 'no-such-group'] })
    expect(dropped.results.map((r) => r.errorCode)).toEqual([0, 69]) // GROUP_ID_NOT_FOUND
  })

  it('serves JoinGroup v0 (no rebalance timeout) and rejects a bad session timeout', async () => {
    const served = shared()
    const topic = topicName('grp0')
    const connection = await connect(served.port())
    const joined = await connection.request(ApiKey.JoinGroup, joinRequest(`group-${topic}`, topic), { version: 0 })
    expect(joined.errorCode).toBe(0)
    expect(joined.leader).toBe(joined.memberId)
    const tooShort = await connection.request(ApiKey.JoinGroup, { ...joinRequest(`group2-${topic}`, topic), sessionTimeoutMs: 10 }, { version: 5 })
    expect(tooShort.errorCode).toBe(26) // INVALID_SESSION_TIMEOUT
    const emptyId = await connection.request(ApiKey.JoinGroup, joinRequest('', topic), { version: 7 })
    expect(emptyId.errorCode).toBe(24) // INVALID_GROUP_ID
    expect(emptyId.protocolName).toBeNull()
  })
})
