import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { assignorByName, performAssignment, subscriptionProtocol, type PartitionAssignor } from '../../src/group/assignors/index.js'
import { GroupCoordinator, type GroupCoordinatorOptions, type OffsetsLog } from '../../src/group/group-coordinator.js'
import type { OffsetCommitRequest } from '../../src/group/coordinator-requests.js'
import { ErrorCode } from '../../src/group/group-metadata.js'
import { decodeOffsetCommitValue, decodeOffsetsRecordKey, encodeOffsetCommitKey } from '../../src/group/offset-record.js'
import { partitionForGroup } from '../../src/group/partition-for-group.js'
import { CorruptRecordError, NonEmptyGroupError, NotEnoughReplicasError, NotLeaderOrFollowerError, RecordTooLargeError, type ShardlogError } from '../../src/errors.js'

/**
 * Test-only stand-in for the broker's `__consumer_offsets` partitions: in-memory lists appended
 * and replayed in order. `failWith` makes the next appends fail; `hold` parks them until released.
 */
class MemoryOffsetsLog implements OffsetsLog {
  readonly partitions = new Map<number, Array<{ key: Buffer; value: Buffer | null }>>()
  failWith: ShardlogError | null = null
  private held: Array<() => void> | null = null

  async append(partition: number, records: Array<{ key: Buffer; value: Buffer | null }>): Promise<void> {
    if (this.failWith !== null) throw this.failWith
    if (this.held !== null) await new Promise<void>((resolve) => this.held?.push(resolve))
    const list = this.partitions.get(partition) ?? []
    list.push(...records.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) })))
    this.partitions.set(partition, list)
  }

  async *readAll(partition: number): AsyncIterable<{ key: Buffer | null; value: Buffer | null }> {
    for (const r of this.partitions.get(partition) ?? []) yield r
  }

  hold(): void {
    this.held = []
  }

  release(): void {
    const waiting = this.held ?? []
    this.held = null
    for (const w of waiting) w()
  }
}

const TOPICS: Record<string, number> = { orders: 3, audit: 2 }
const partitionCount = (topic: string): number | undefined => TOPICS[topic]
const GROUP = 'ledger'
const SESSION_MS = 10_000
const DAY = 24 * 60 * 60 * 1000

let log: MemoryOffsetsLog
let clock: number
const coordinators: GroupCoordinator[] = []

async function startCoordinator(opts: Partial<GroupCoordinatorOptions> = {}): Promise<GroupCoordinator> {
  const c = new GroupCoordinator({
    offsetsLog: log, topicPartitionCount: partitionCount, now: () => clock, minSessionTimeoutMs: 100, ...opts,
  })
  coordinators.push(c)
  await c.load()
  return c
}

interface Member { memberId: string; generationId: number }

/** One consumer joining and syncing alone, subscribed to `topics`. */
async function joinAlone(c: GroupCoordinator, topics = ['orders'], groupId = GROUP): Promise<Member> {
  const assignor = assignorByName('range') as PartitionAssignor
  const joining = c.joinGroup({
    groupId, memberId: '', groupInstanceId: null, protocolType: 'consumer', protocols: [subscriptionProtocol(assignor, { topics })],
    sessionTimeoutMs: SESSION_MS, rebalanceTimeoutMs: SESSION_MS, clientId: 'app', clientHost: '/10.0.0.1',
  })
  await vi.advanceTimersByTimeAsync(1)
  const join = await joining
  expect(join.errorCode).toBe(0)
  const sync = await c.syncGroup({
    groupId, generationId: join.generationId, memberId: join.memberId, groupInstanceId: null,
    assignments: performAssignment(assignor, join.members, partitionCount),
  })
  expect(sync.errorCode).toBe(0)
  return { memberId: join.memberId, generationId: join.generationId }
}

function commit(member: Member | null, offsets: Record<string, Record<number, number>>, extra: Partial<OffsetCommitRequest> = {}): OffsetCommitRequest {
  return {
    groupId: GROUP,
    generationId: member?.generationId ?? -1,
    memberId: member?.memberId ?? '',
    topics: Object.entries(offsets).map(([name, ps]) => ({
      name,
      partitions: Object.entries(ps).map(([p, offset]) => ({ partitionIndex: Number(p), committedOffset: offset, committedMetadata: `m${p}` })),
    })),
    ...extra,
  }
}

function codes(res: { topics: Array<{ partitions: Array<{ errorCode: number }> }> }): number[] {
  return res.topics.flatMap((t) => t.partitions.map((p) => p.errorCode))
}

function committed(c: GroupCoordinator, groupId = GROUP): Record<string, number> {
  const out: Record<string, number> = {}
  for (const t of c.fetchOffsets({ groupId, topics: null }).topics) for (const p of t.partitions) out[`${t.name}-${p.partitionIndex}`] = p.committedOffset
  return out
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  log = new MemoryOffsetsLog()
  clock = 1_700_000_000_000
})

afterEach(() => {
  for (const c of coordinators.splice(0)) c.close()
  vi.useRealTimers()
})

describe('group > offsets > commit and fetch', () => {
  it('stores a member\'s offsets with metadata and leader epoch, and fetches some or all', async () => {
    const c = await startCoordinator()
    const m = await joinAlone(c)
    const req = commit(m, { orders: { 0: 10, 1: 20 } })
    ;(req.topics[0]?.partitions[1] as { committedLeaderEpoch?: number }).committedLeaderEpoch = 7
    expect(codes(await c.commitOffsets(req))).toEqual([0, 0])
    const some = c.fetchOffsets({ groupId: GROUP, topics: [{ name: 'orders', partitionIndexes: [1, 2] }] })
    expect(some).toEqual({
      errorCode: 0,
      topics: [{ name: 'orders', partitions: [
        { partitionIndex: 1, committedOffset: 20, committedLeaderEpoch: 7, metadata: 'm1', errorCode: 0 },
        { partitionIndex: 2, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
      ] }],
    })
    expect(committed(c)).toEqual({ 'orders-0': 10, 'orders-1': 20 })
    expect(c.fetchOffsets({ groupId: 'unknown', topics: null })).toEqual({ errorCode: 0, topics: [] })
  })

  it('writes OffsetCommit records to the group\'s __consumer_offsets partition', async () => {
    const c = await startCoordinator()
    await c.commitOffsets(commit(null, { orders: { 2: 42 } }))
    const records = log.partitions.get(partitionForGroup(GROUP, 50)) ?? []
    expect(records).toHaveLength(1)
    expect(records[0]?.key).toEqual(encodeOffsetCommitKey(GROUP, 'orders', 2))
    expect(decodeOffsetsRecordKey(records[0]?.key as Buffer)).toEqual({ type: 'offsetCommit', group: GROUP, topic: 'orders', partition: 2 })
    expect(decodeOffsetCommitValue(records[0]?.value as Buffer)).toEqual({ offset: 42, leaderEpoch: -1, metadata: 'm2', commitTimestamp: clock, expireTimestamp: null })
  })

  it('accepts simple commits (generation -1, no member) only while the group has no members', async () => {
    const c = await startCoordinator()
    expect(codes(await c.commitOffsets(commit(null, { orders: { 0: 5 } })))).toEqual([0])
    expect(c.listGroups()).toEqual([{ groupId: GROUP, protocolType: '', groupState: 'Empty' }])
    await joinAlone(c)
    expect(codes(await c.commitOffsets(commit(null, { orders: { 0: 6 } })))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID])
    expect(committed(c)['orders-0']).toBe(5)
  })

  it('rejects commits from a wrong generation, an unknown member, and during CompletingRebalance', async () => {
    const c = await startCoordinator()
    expect(codes(await c.commitOffsets(commit({ memberId: 'm', generationId: 3 }, { orders: { 0: 1 } })))).toEqual([ErrorCode.ILLEGAL_GENERATION])
    const m = await joinAlone(c)
    expect(codes(await c.commitOffsets(commit({ ...m, generationId: m.generationId + 1 }, { orders: { 0: 1 } })))).toEqual([ErrorCode.ILLEGAL_GENERATION])
    expect(codes(await c.commitOffsets(commit({ ...m, memberId: 'ghost' }, { orders: { 0: 1 } })))).toEqual([ErrorCode.UNKNOWN_MEMBER_ID])
    // The member rejoins: the join completes at once (it is the only member), the sync has not come.
    const rejoin = await c.joinGroup({
      groupId: GROUP, memberId: m.memberId, groupInstanceId: null, protocolType: 'consumer',
      protocols: [subscriptionProtocol(assignorByName('range') as PartitionAssignor, { topics: ['orders'] })],
      sessionTimeoutMs: SESSION_MS, rebalanceTimeoutMs: SESSION_MS, clientId: 'app', clientHost: 'h',
    })
    expect(c.describeGroups([GROUP])[0]?.groupState).toBe('CompletingRebalance')
    expect(codes(await c.commitOffsets(commit({ memberId: m.memberId, generationId: rejoin.generationId }, { orders: { 0: 1 } })))).toEqual([ErrorCode.REBALANCE_IN_PROGRESS])
    expect(committed(c)).toEqual({})
  })

  it('accepts commits of the current generation while a rebalance is being prepared', async () => {
    const c = await startCoordinator()
    const a = await joinAlone(c)
    void c.joinGroup({
      groupId: GROUP, memberId: '', groupInstanceId: null, protocolType: 'consumer',
      protocols: [subscriptionProtocol(assignorByName('range') as PartitionAssignor, { topics: ['orders'] })],
      sessionTimeoutMs: SESSION_MS, rebalanceTimeoutMs: SESSION_MS, clientId: 'b', clientHost: 'h',
    })
    expect(c.describeGroups([GROUP])[0]?.groupState).toBe('PreparingRebalance')
    expect(codes(await c.commitOffsets(commit(a, { orders: { 1: 9 } })))).toEqual([0])
  })

  it('answers UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist, per partition', async () => {
    const c = await startCoordinator()
    const res = await c.commitOffsets(commit(null, { orders: { 0: 1, 3: 1, [-1]: 1 }, nope: { 0: 1 } }))
    expect(res.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode])])).toEqual([
      ['orders', [[0, 0], [3, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION], [-1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
      ['nope', [[0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    ])
    expect(committed(c)).toEqual({ 'orders-0': 1 })
  })

  it('rejects metadata longer than offset.metadata.max.bytes (OFFSET_METADATA_TOO_LARGE, 12)', async () => {
    const c = await startCoordinator()
    const req = commit(null, { orders: { 0: 1, 1: 1 } })
    ;(req.topics[0]?.partitions[0] as { committedMetadata: string }).committedMetadata = 'x'.repeat(4096)
    ;(req.topics[0]?.partitions[1] as { committedMetadata: string }).committedMetadata = 'x'.repeat(4097)
    expect(codes(await c.commitOffsets(req))).toEqual([0, 12])
    const small = await startCoordinator({ offsetMetadataMaxBytes: 3 })
    expect(codes(await small.commitOffsets({ ...commit(null, { audit: { 0: 1 } }), groupId: 'g' }))).toEqual([0])
  })

  it('rejects a committed offset that is not a safe integer (INVALID_REQUEST)', async () => {
    const c = await startCoordinator()
    expect(codes(await c.commitOffsets(commit(null, { orders: { 0: 1.5, 1: Number.NaN } })))).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST])
  })

  it('maps a failed append to Kafka\'s commit error codes and keeps the old offset', async () => {
    const c = await startCoordinator()
    await c.commitOffsets(commit(null, { orders: { 0: 1 } }))
    log.failWith = new NotLeaderOrFollowerError()
    expect(codes(await c.commitOffsets(commit(null, { orders: { 0: 2 } })))).toEqual([ErrorCode.NOT_COORDINATOR])
    log.failWith = new NotEnoughReplicasError()
    expect(codes(await c.commitOffsets(commit(null, { orders: { 0: 2 } })))).toEqual([ErrorCode.COORDINATOR_NOT_AVAILABLE])
    log.failWith = new RecordTooLargeError()
    expect(codes(await c.commitOffsets(commit(null, { orders: { 0: 2 } })))).toEqual([ErrorCode.INVALID_COMMIT_OFFSET_SIZE])
    expect(committed(c)).toEqual({ 'orders-0': 1 })
  })

  it('answers UNSTABLE_OFFSET_COMMIT with requireStable while a commit is being written', async () => {
    const c = await startCoordinator()
    log.hold()
    const pending = c.commitOffsets(commit(null, { orders: { 0: 8 } }))
    await vi.advanceTimersByTimeAsync(0)
    const stable = c.fetchOffsets({ groupId: GROUP, topics: [{ name: 'orders', partitionIndexes: [0] }], requireStable: true })
    expect(stable.topics[0]?.partitions[0]?.errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT)
    log.release()
    await pending
    expect(c.fetchOffsets({ groupId: GROUP, topics: [{ name: 'orders', partitionIndexes: [0] }], requireStable: true }).topics[0]?.partitions[0])
      .toMatchObject({ committedOffset: 8, errorCode: 0 })
  })
})

describe('group > offsets > restart', () => {
  it('brings offsets, metadata and the group back after a restart', async () => {
    const first = await startCoordinator()
    const m = await joinAlone(first, ['orders', 'audit'])
    await first.commitOffsets(commit(m, { orders: { 0: 10, 1: 11, 2: 12 }, audit: { 1: 3 } }))
    await first.commitOffsets(commit(m, { orders: { 1: 15 } }))
    const before = first.describeGroups([GROUP])
    first.close()

    const second = await startCoordinator()
    expect(committed(second)).toEqual({ 'orders-0': 10, 'orders-1': 15, 'orders-2': 12, 'audit-1': 3 })
    expect(second.fetchOffsets({ groupId: GROUP, topics: [{ name: 'audit', partitionIndexes: [1] }] }).topics[0]?.partitions[0]?.metadata).toBe('m1')
    expect(second.describeGroups([GROUP])).toEqual(before)
    // The loaded member carries on in its generation as long as it heartbeats in time.
    expect(second.heartbeat({ groupId: GROUP, generationId: m.generationId, memberId: m.memberId }).errorCode).toBe(0)
  })

  it('expires a loaded member that does not heartbeat within its session timeout', async () => {
    const first = await startCoordinator()
    await joinAlone(first)
    first.close()
    const second = await startCoordinator()
    await vi.advanceTimersByTimeAsync(SESSION_MS + 1)
    expect(second.describeGroups([GROUP])[0]?.groupState).toBe('Empty')
  })

  it('keeps deleted offsets and groups deleted after a restart (tombstones)', async () => {
    const first = await startCoordinator()
    await first.commitOffsets(commit(null, { orders: { 0: 1, 1: 2 }, audit: { 0: 3 } }))
    await first.commitOffsets({ ...commit(null, { orders: { 0: 1 } }), groupId: 'doomed' })
    expect(codes(await first.deleteOffsets({ groupId: GROUP, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1 }] }] }))).toEqual([0])
    expect(await first.deleteGroups(['doomed'])).toEqual([{ groupId: 'doomed', errorCode: 0 }])
    first.close()
    const second = await startCoordinator()
    expect(committed(second)).toEqual({ 'orders-0': 1, 'audit-0': 3 })
    expect(second.listGroups().map((g) => g.groupId)).toEqual([GROUP])
  })

  it('refuses to serve from a log with a corrupt record', async () => {
    log.partitions.set(3, [{ key: Buffer.from([0, 1, 0]), value: null }])
    const c = new GroupCoordinator({ offsetsLog: log, topicPartitionCount: partitionCount })
    coordinators.push(c)
    await expect(c.load()).rejects.toBeInstanceOf(CorruptRecordError)
    await expect(c.load()).rejects.toThrow(/__consumer_offsets-3 record #0/)
    expect(c.fetchOffsets({ groupId: GROUP, topics: null }).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
  })

  it('replays every partition of offsets.topic.num.partitions', async () => {
    const first = await startCoordinator({ offsetsTopicPartitions: 7 })
    for (const g of ['a', 'b', 'c', 'd', 'e']) await first.commitOffsets({ ...commit(null, { orders: { 0: g.charCodeAt(0) } }), groupId: g })
    expect(new Set([...log.partitions.keys()]).size).toBeGreaterThan(1)
    first.close()
    const second = await startCoordinator({ offsetsTopicPartitions: 7 })
    expect(['a', 'b', 'c', 'd', 'e'].map((g) => committed(second, g)['orders-0'])).toEqual([97, 98, 99, 100, 101])
  })
})

describe('group > offsets > admin', () => {
  it('deletes offsets of topics no active member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise)', async () => {
    const c = await startCoordinator()
    const m = await joinAlone(c, ['orders'])
    await c.commitOffsets(commit(m, { orders: { 0: 1 }, audit: { 0: 2 } }))
    const res = await c.deleteOffsets({ groupId: GROUP, topics: [
      { name: 'orders', partitions: [{ partitionIndex: 0 }] },
      { name: 'audit', partitions: [{ partitionIndex: 0 }] },
      { name: 'nope', partitions: [{ partitionIndex: 0 }] },
    ] })
    expect(res.errorCode).toBe(0)
    expect(codes(res)).toEqual([ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC, 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION])
    expect(committed(c)).toEqual({ 'orders-0': 1 })
  })

  it('refuses to reset offsets while members are active, and resets them once the group is empty', async () => {
    const c = await startCoordinator()
    const m = await joinAlone(c)
    const reset = { groupId: GROUP, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: 0 }] }] }
    await expect(c.resetOffsets(reset)).rejects.toBeInstanceOf(NonEmptyGroupError)
    await expect(c.resetOffsets(reset)).rejects.toThrow(/can only be reset if the group 'ledger' is inactive, but the current state is Stable/)
    c.leaveGroup({ groupId: GROUP, members: [{ memberId: m.memberId, groupInstanceId: null }] })
    await vi.advanceTimersByTimeAsync(1)
    expect(codes(await c.resetOffsets(reset))).toEqual([0])
    expect(committed(c)).toEqual({ 'orders-0': 0 })
    expect(codes(await c.resetOffsets({ ...reset, groupId: 'new-group' }))).toEqual([0])
  })

  it('deletes a group with members only after they left (NON_EMPTY_GROUP)', async () => {
    const c = await startCoordinator()
    const m = await joinAlone(c)
    await c.commitOffsets(commit(m, { orders: { 0: 4 } }))
    expect((await c.deleteGroups([GROUP, 'nope']))).toEqual([
      { groupId: GROUP, errorCode: ErrorCode.NON_EMPTY_GROUP }, { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ])
    c.leaveGroup({ groupId: GROUP, members: [{ memberId: m.memberId, groupInstanceId: null }] })
    await vi.advanceTimersByTimeAsync(1)
    expect(await c.deleteGroups([GROUP])).toEqual([{ groupId: GROUP, errorCode: 0 }])
    expect(committed(c)).toEqual({})
    expect(c.describeGroups([GROUP])[0]?.groupState).toBe('Dead')
  })
})

describe('group > offsets > retention', () => {
  it('expires an empty group\'s offsets offsets.retention.ms after it became empty', async () => {
    const c = await startCoordinator({ offsetsRetentionMs: 7 * DAY })
    const m = await joinAlone(c)
    await c.commitOffsets(commit(m, { orders: { 0: 1 } }))
    clock += 3 * DAY
    c.leaveGroup({ groupId: GROUP, members: [{ memberId: m.memberId, groupInstanceId: null }] })
    await vi.advanceTimersByTimeAsync(1)
    clock += 7 * DAY - 1
    expect(await c.cleanupExpiredOffsets()).toBe(0)
    expect(committed(c)).toEqual({ 'orders-0': 1 })
    clock += 1
    expect(await c.cleanupExpiredOffsets()).toBe(1)
    expect(committed(c)).toEqual({})
    expect(c.listGroups()).toEqual([])
    c.close()
    const reloaded = await startCoordinator()
    expect(committed(reloaded)).toEqual({})
    expect(reloaded.listGroups()).toEqual([])
  })

  it('keeps the offsets of a group with members on subscribed topics and expires the others', async () => {
    const c = await startCoordinator({ offsetsRetentionMs: DAY })
    const m = await joinAlone(c, ['orders'])
    await c.commitOffsets(commit(m, { orders: { 0: 1 }, audit: { 0: 1 } }))
    clock += 2 * DAY
    expect(c.heartbeat({ groupId: GROUP, generationId: m.generationId, memberId: m.memberId }).errorCode).toBe(0)
    expect(await c.cleanupExpiredOffsets()).toBe(1)
    expect(committed(c)).toEqual({ 'orders-0': 1 })
  })

  it('expires offsets-only groups by commit time, and explicit retentionTimeMs at its own time', async () => {
    const c = await startCoordinator({ offsetsRetentionMs: 10 * DAY })
    await c.commitOffsets(commit(null, { orders: { 0: 1 } }))
    await c.commitOffsets(commit(null, { orders: { 1: 1 } }, { retentionTimeMs: DAY }))
    clock += DAY
    expect(await c.cleanupExpiredOffsets()).toBe(1)
    expect(committed(c)).toEqual({ 'orders-0': 1 })
    clock += 9 * DAY
    expect(await c.cleanupExpiredOffsets()).toBe(1)
    expect(c.listGroups()).toEqual([])
  })

  it('runs the expiration every offsets.retention.check.interval.ms', async () => {
    const c = await startCoordinator({ offsetsRetentionMs: 1_000, offsetsRetentionCheckIntervalMs: 500, now: Date.now })
    await c.commitOffsets(commit(null, { orders: { 0: 1 } }))
    await vi.advanceTimersByTimeAsync(1_600)
    expect(committed(c)).toEqual({})
  })
})
