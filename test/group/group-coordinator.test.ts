import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { assignorByName, performAssignment, subscriptionProtocol, type PartitionAssignor } from '../../src/group/assignors/index.js'
import { decodeAssignment, encodeSubscription, type TopicPartitions } from '../../src/group/consumer-protocol.js'
import { GroupCoordinator, throwIfError, type GroupCoordinatorOptions, type OffsetsLog } from '../../src/group/group-coordinator.js'
import type { JoinGroupResponse } from '../../src/group/coordinator-requests.js'
import { ErrorCode } from '../../src/group/group-metadata.js'
import type { JoinGroupProtocol } from '../../src/group/member-metadata.js'
import { kafkaErrorByName } from '../../src/kafka-error-codes.js'
import { IllegalGenerationError, isShardlogError } from '../../src/errors.js'

/**
 * Test-only stand-in for the broker's `__consumer_offsets` partitions: an in-memory list per
 * partition, appended and replayed in order (the real port runs over partition logs).
 */
class MemoryOffsetsLog implements OffsetsLog {
  readonly partitions = new Map<number, Array<{ key: Buffer; value: Buffer | null }>>()

  async append(partition: number, records: Array<{ key: Buffer; value: Buffer | null }>): Promise<void> {
    const list = this.partitions.get(partition) ?? []
    list.push(...records.map((r) => ({ key: Buffer.from(r.key), value: r.value === null ? null : Buffer.from(r.value) })))
    this.partitions.set(partition, list)
  }

  async *readAll(partition: number): AsyncIterable<{ key: Buffer | null; value: Buffer | null }> {
    for (const r of this.partitions.get(partition) ?? []) yield r
  }
}

const TOPICS: Record<string, number> = { orders: 6, payments: 3 }
const partitionCount = (topic: string): number | undefined => TOPICS[topic]
const GROUP = 'billing'
const SESSION_MS = 200
const REBALANCE_MS = 500

interface MemberOptions {
  clientId?: string
  groupInstanceId?: string | null
  topics?: string[]
  assignor?: string
  protocols?: JoinGroupProtocol[]
  sessionTimeoutMs?: number
  requireKnownMemberId?: boolean
}

/** Plays a consumer's side of the classic protocol against the coordinator. */
class TestMember {
  memberId = ''
  generationId = -1
  assignment: TopicPartitions[] = []
  lastJoin: JoinGroupResponse | null = null

  constructor(private readonly c: GroupCoordinator, private readonly opts: MemberOptions = {}, readonly groupId = GROUP) {}

  get groupInstanceId(): string | null {
    return this.opts.groupInstanceId ?? null
  }

  private get assignor(): PartitionAssignor {
    return assignorByName(this.opts.assignor ?? 'range') as PartitionAssignor
  }

  protocols(): JoinGroupProtocol[] {
    return this.opts.protocols ?? [subscriptionProtocol(this.assignor, {
      topics: this.opts.topics ?? ['orders'], ownedPartitions: this.assignment, generationId: this.generationId,
    })]
  }

  join(overrides: Partial<Parameters<GroupCoordinator['joinGroup']>[0]> = {}): Promise<JoinGroupResponse> {
    return this.c.joinGroup({
      groupId: this.groupId,
      memberId: this.memberId,
      groupInstanceId: this.groupInstanceId,
      protocolType: 'consumer',
      protocols: this.protocols(),
      sessionTimeoutMs: this.opts.sessionTimeoutMs ?? SESSION_MS,
      rebalanceTimeoutMs: REBALANCE_MS,
      clientId: this.opts.clientId ?? 'app',
      clientHost: '/127.0.0.1',
      requireKnownMemberId: this.opts.requireKnownMemberId ?? false,
      ...overrides,
    })
  }

  /** JoinGroup (twice under KIP-394), the leader's assignment, SyncGroup. */
  async rejoin(): Promise<TopicPartitions[]> {
    let res = await this.join()
    if (res.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
      this.memberId = res.memberId
      res = await this.join()
    }
    throwIfError(res.errorCode, 'join')
    this.lastJoin = res
    this.memberId = res.memberId
    this.generationId = res.generationId
    const leads = res.leader === res.memberId && !res.skipAssignment
    const assignments = leads ? performAssignment(assignorByName(res.protocolName as string) as PartitionAssignor, res.members, partitionCount) : []
    const sync = await this.c.syncGroup({
      groupId: this.groupId, generationId: res.generationId, memberId: this.memberId, groupInstanceId: this.groupInstanceId,
      protocolType: 'consumer', protocolName: res.protocolName, assignments,
    })
    throwIfError(sync.errorCode, 'sync')
    this.assignment = decodeAssignment(sync.assignment).assignedPartitions
    return this.assignment
  }

  heartbeat(): number {
    return this.c.heartbeat({ groupId: this.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.groupInstanceId }).errorCode
  }

  leave(): number {
    const res = this.c.leaveGroup({ groupId: this.groupId, members: [{ memberId: this.memberId, groupInstanceId: this.groupInstanceId }] })
    return res.members[0]?.errorCode ?? res.errorCode
  }

  partitions(): number[] {
    return this.assignment.flatMap((tp) => tp.partitions.map((p) => p)).sort((a, b) => a - b)
  }
}

let log: MemoryOffsetsLog
const coordinators: GroupCoordinator[] = []

async function startCoordinator(opts: Partial<GroupCoordinatorOptions> = {}): Promise<GroupCoordinator> {
  const c = new GroupCoordinator({
    offsetsLog: log, topicPartitionCount: partitionCount, minSessionTimeoutMs: 100, maxSessionTimeoutMs: 60_000, ...opts,
  })
  coordinators.push(c)
  await c.load()
  return c
}

/** Runs a whole rebalance for `members` (concurrently, as real consumers would). */
async function rebalance(members: TestMember[], advanceMs = 1): Promise<TopicPartitions[][]> {
  const all = Promise.all(members.map((m) => m.rejoin()))
  all.catch(() => undefined)
  await vi.advanceTimersByTimeAsync(advanceMs)
  return all
}

function stateOf(c: GroupCoordinator, groupId = GROUP): string {
  return c.describeGroups([groupId])[0]?.groupState ?? ''
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
  log = new MemoryOffsetsLog()
})

afterEach(() => {
  for (const c of coordinators.splice(0)) c.close()
  vi.useRealTimers()
})

describe('group > GroupCoordinator > membership', () => {
  for (const assignor of ['range', 'roundrobin', 'sticky', 'cooperative-sticky']) {
    it(`gives 3 members 2 of 6 partitions each with the ${assignor} assignor`, async () => {
      const c = await startCoordinator()
      const members = [0, 1, 2].map((i) => new TestMember(c, { assignor, clientId: `app-${i}` }))
      const assignments = await rebalance(members)
      expect(assignments.map((a) => a.flatMap((tp) => tp.partitions).length)).toEqual([2, 2, 2])
      expect(members.flatMap((m) => m.partitions()).sort()).toEqual([0, 1, 2, 3, 4, 5])
      expect(new Set(members.map((m) => m.generationId))).toEqual(new Set([1]))
      const [described] = c.describeGroups([GROUP])
      expect(described).toMatchObject({ errorCode: 0, groupState: 'Stable', protocolType: 'consumer', protocolData: assignor })
      expect(described?.members.map((m) => m.assignment?.[0]?.partitions.length)).toEqual([2, 2, 2])
    })
  }

  it('assigns Kafka member ids <clientId>-<uuid> and picks the first joiner as leader', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c, { clientId: 'billing-app' })
    const b = new TestMember(c, { clientId: 'other' })
    await rebalance([a, b])
    expect(a.memberId).toMatch(/^billing-app-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(a.lastJoin?.leader).toBe(a.memberId)
    expect(a.lastJoin?.members.map((m) => m.memberId)).toEqual([a.memberId, b.memberId])
    expect(b.lastJoin?.members).toEqual([])
  })

  it('rebalances when a member leaves and gives its partitions to the others', async () => {
    const c = await startCoordinator()
    const [a, b, leaving] = [new TestMember(c), new TestMember(c), new TestMember(c)]
    await rebalance([a, b, leaving])
    const gone = leaving.partitions()
    expect(leaving.leave()).toBe(ErrorCode.NONE)
    expect(stateOf(c)).toBe('PreparingRebalance')
    expect(a.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    await rebalance([a, b])
    expect(a.partitions().length + b.partitions().length).toBe(6)
    expect([...a.partitions(), ...b.partitions()]).toEqual(expect.arrayContaining(gone))
    expect(a.generationId).toBe(2)
    expect(c.describeGroups([GROUP])[0]?.members.map((m) => m.memberId).sort()).toEqual([a.memberId, b.memberId].sort())
  })

  it('removes a member whose session expires and rebalances the rest', async () => {
    const c = await startCoordinator()
    const [a, b, silent] = [new TestMember(c), new TestMember(c), new TestMember(c)]
    await rebalance([a, b, silent])
    await vi.advanceTimersByTimeAsync(SESSION_MS / 2)
    expect([a.heartbeat(), b.heartbeat()]).toEqual([0, 0])
    await vi.advanceTimersByTimeAsync(SESSION_MS / 2 + 10)
    expect(stateOf(c)).toBe('PreparingRebalance')
    expect(a.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    expect(silent.heartbeat()).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    await rebalance([a, b])
    expect([a.partitions().length, b.partitions().length]).toEqual([3, 3])
    expect(stateOf(c)).toBe('Stable')
  })

  it('keeps heartbeating members for longer than the session timeout', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c)
    await rebalance([a])
    for (let i = 0; i < 10; i++) {
      await vi.advanceTimersByTimeAsync(SESSION_MS / 2)
      expect(a.heartbeat()).toBe(ErrorCode.NONE)
    }
    expect(stateOf(c)).toBe('Stable')
  })

  it('rebalances when a new member joins a stable group', async () => {
    const c = await startCoordinator()
    const [a, b] = [new TestMember(c), new TestMember(c)]
    await rebalance([a, b])
    const newcomer = new TestMember(c)
    const joined = newcomer.rejoin()
    await vi.advanceTimersByTimeAsync(1)
    expect(stateOf(c)).toBe('PreparingRebalance')
    expect(a.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    expect(b.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    await rebalance([a, b])
    await joined
    expect([a, b, newcomer].map((m) => m.partitions().length)).toEqual([2, 2, 2])
    expect(newcomer.generationId).toBe(2)
  })

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const c = await startCoordinator()
    const [a, b] = [new TestMember(c), new TestMember(c)]
    await rebalance([a, b])
    const rejoined = a.rejoin()
    for (let t = 0; t < REBALANCE_MS; t += SESSION_MS / 2) {
      // b is alive (it heartbeats) but ignores REBALANCE_IN_PROGRESS.
      expect(b.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
      await vi.advanceTimersByTimeAsync(SESSION_MS / 2)
    }
    expect(await rejoined).toEqual([{ topic: 'orders', partitions: [0, 1, 2, 3, 4, 5] }])
    expect(b.heartbeat()).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('waits group.initial.rebalance.delay.ms for more members, extending it while they arrive', async () => {
    const c = await startCoordinator({ initialRebalanceDelayMs: 300 })
    const [a, b] = [new TestMember(c), new TestMember(c)]
    let aDone = false
    const aJoin = a.join().then((r) => { aDone = true; return r })
    await vi.advanceTimersByTimeAsync(100)
    const bJoin = b.join()
    await vi.advanceTimersByTimeAsync(250)
    expect(aDone).toBe(false)
    await vi.advanceTimersByTimeAsync(300)
    const [ra, rb] = await Promise.all([aJoin, bJoin])
    expect(ra.errorCode).toBe(0)
    expect(ra.members).toHaveLength(2)
    expect(rb.generationId).toBe(1)
  })

  it('completes the join at once when every known member has rejoined', async () => {
    const c = await startCoordinator()
    const [a, b] = [new TestMember(c), new TestMember(c)]
    await rebalance([a, b])
    const pa = a.join()
    const pb = b.join()
    const [ra, rb] = await Promise.all([pa, pb])
    expect([ra.generationId, rb.generationId]).toEqual([2, 2])
  })

  it('lets a follower SyncGroup wait for the leader and answers both with their assignments', async () => {
    const c = await startCoordinator()
    const [a, b] = [new TestMember(c), new TestMember(c)]
    const joins = Promise.all([a.join(), b.join()])
    await vi.advanceTimersByTimeAsync(1)
    const [ja, jb] = await joins
    const leader = ja.leader === ja.memberId ? ja : jb
    const follower = leader === ja ? jb : ja
    let followerDone = false
    const followerSync = c.syncGroup({ groupId: GROUP, generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: null, assignments: [] })
      .then((r) => { followerDone = true; return r })
    await vi.advanceTimersByTimeAsync(1)
    expect(followerDone).toBe(false)
    expect(stateOf(c)).toBe('CompletingRebalance')
    const assignments = performAssignment(assignorByName('range') as PartitionAssignor, leader.members, partitionCount)
    const leaderSync = await c.syncGroup({ groupId: GROUP, generationId: leader.generationId, memberId: leader.memberId, groupInstanceId: null, assignments })
    const fs = await followerSync
    expect(leaderSync.errorCode).toBe(0)
    expect(fs).toMatchObject({ errorCode: 0, protocolType: 'consumer', protocolName: 'range' })
    expect(decodeAssignment(fs.assignment).assignedPartitions[0]?.partitions).toHaveLength(3)
    expect(stateOf(c)).toBe('Stable')
  })

  it('removes members that never send SyncGroup within the rebalance timeout', async () => {
    const c = await startCoordinator()
    const [a, b] = [new TestMember(c), new TestMember(c)]
    await rebalance([a, b])
    const ja = a.join()
    const jb = b.join()
    await Promise.all([ja, jb])
    expect(stateOf(c)).toBe('CompletingRebalance')
    await vi.advanceTimersByTimeAsync(REBALANCE_MS + 1)
    expect(stateOf(c)).not.toBe('CompletingRebalance')
    expect(c.describeGroups([GROUP])[0]?.members).toHaveLength(0)
  })

  it('selects the protocol by the members\' votes among the common ones', async () => {
    const c = await startCoordinator()
    const meta = encodeSubscription({ topics: ['orders'] })
    const p = (...names: string[]): JoinGroupProtocol[] => names.map((name) => ({ name, metadata: meta }))
    const members = [p('range', 'roundrobin'), p('range', 'roundrobin'), p('roundrobin', 'range', 'sticky')].map((protocols) => new TestMember(c, { protocols }))
    await rebalance(members)
    expect(members[0]?.lastJoin?.protocolName).toBe('range')
  })

  it('answers a JoinGroup without a member id with MEMBER_ID_REQUIRED and its new id (KIP-394)', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c, { clientId: 'kip394', requireKnownMemberId: true })
    const first = await a.join()
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED)
    expect(first.memberId).toMatch(/^kip394-/)
    expect(first.generationId).toBe(-1)
    a.memberId = first.memberId
    await rebalance([a])
    expect(a.memberId).toBe(first.memberId)
  })

  it('forgets a KIP-394 member id that does not come back within the session timeout', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c)
    await rebalance([a])
    const pending = await new TestMember(c, { requireKnownMemberId: true }).join()
    const rejoined = a.join()
    await vi.advanceTimersByTimeAsync(SESSION_MS - 10)
    // The pending id holds the join back: it may still arrive.
    expect(stateOf(c)).toBe('PreparingRebalance')
    await vi.advanceTimersByTimeAsync(20)
    expect((await rejoined).members.map((m) => m.memberId)).toEqual([a.memberId])
    const late = await c.joinGroup({ ...(await joinRequest(pending.memberId)) })
    expect(late.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })
})

async function joinRequest(memberId: string): Promise<Parameters<GroupCoordinator['joinGroup']>[0]> {
  return {
    groupId: GROUP, memberId, groupInstanceId: null, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: encodeSubscription({ topics: ['orders'] }) }],
    sessionTimeoutMs: SESSION_MS, rebalanceTimeoutMs: REBALANCE_MS, clientId: 'app', clientHost: '/127.0.0.1',
  }
}

describe('group > GroupCoordinator > real timers', () => {
  it('expires a silent member and forms the group again with the one left', async () => {
    vi.useRealTimers()
    const c = await startCoordinator()
    // A generous session for the member that stays, so a busy machine cannot expire it too.
    const [alive, silent] = [new TestMember(c, { sessionTimeoutMs: 5_000 }), new TestMember(c)]
    await Promise.all([alive.rejoin(), silent.rejoin()])
    const beat = setInterval(() => alive.heartbeat(), SESSION_MS / 4)
    try {
      await vi.waitFor(() => expect(alive.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS), { timeout: 5_000, interval: 20 })
      expect(await alive.rejoin()).toEqual([{ topic: 'orders', partitions: [0, 1, 2, 3, 4, 5] }])
      expect(silent.heartbeat()).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    } finally {
      clearInterval(beat)
    }
  })
})

describe('group > GroupCoordinator > static membership', () => {
  it('gives a restarted static member its partitions back without a rebalance', async () => {
    const c = await startCoordinator()
    const members = ['a', 'b', 'c'].map((id) => new TestMember(c, { groupInstanceId: `instance-${id}`, sessionTimeoutMs: 5_000 }))
    await rebalance(members)
    const before = members[1] as TestMember
    const generation = before.generationId
    const restarted = new TestMember(c, { groupInstanceId: 'instance-b', sessionTimeoutMs: 5_000 })
    const partitions = await restarted.rejoin()
    expect(restarted.memberId).not.toBe(before.memberId)
    expect(restarted.memberId).toMatch(/^instance-b-/)
    expect(restarted.generationId).toBe(generation)
    expect(partitions).toEqual(before.assignment)
    expect(stateOf(c)).toBe('Stable')
    for (const m of [members[0], members[2]] as TestMember[]) expect(m.heartbeat()).toBe(ErrorCode.NONE)
  })

  it('fences the old instance once a new one holds its group.instance.id', async () => {
    const c = await startCoordinator()
    const old = new TestMember(c, { groupInstanceId: 'node-1', sessionTimeoutMs: 5_000 })
    const other = new TestMember(c, { groupInstanceId: 'node-2', sessionTimeoutMs: 5_000 })
    await rebalance([old, other])
    await new TestMember(c, { groupInstanceId: 'node-1', sessionTimeoutMs: 5_000 }).rejoin()
    expect(old.heartbeat()).toBe(ErrorCode.FENCED_INSTANCE_ID)
    expect((await old.join()).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID)
    const commit = await c.commitOffsets({
      groupId: GROUP, generationId: old.generationId, memberId: old.memberId, groupInstanceId: 'node-1',
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 1, committedMetadata: null }] }],
    })
    expect(commit.topics[0]?.partitions[0]?.errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID)
  })

  it('tells a restarted static leader it leads but must skip the assignment (KIP-814)', async () => {
    const c = await startCoordinator()
    const leader = new TestMember(c, { groupInstanceId: 'lead', sessionTimeoutMs: 5_000 })
    const follower = new TestMember(c, { groupInstanceId: 'follow', sessionTimeoutMs: 5_000 })
    await rebalance([leader, follower])
    expect(leader.lastJoin?.leader).toBe(leader.memberId)
    const restarted = new TestMember(c, { groupInstanceId: 'lead', sessionTimeoutMs: 5_000 })
    const partitions = await restarted.rejoin()
    expect(restarted.lastJoin).toMatchObject({ skipAssignment: true, leader: restarted.memberId, generationId: leader.generationId })
    expect(restarted.lastJoin?.members).toHaveLength(2)
    expect(partitions).toEqual(leader.assignment)

    const legacy = await c.joinGroup({ ...(await joinRequest('')), groupInstanceId: 'lead', supportSkippingAssignment: false })
    expect(legacy).toMatchObject({ errorCode: 0, skipAssignment: false, leader: restarted.memberId, members: [] })
  })

  it('keeps a static member that misses a rebalance in the group until its session expires', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c, { groupInstanceId: 'a', sessionTimeoutMs: 2_000 })
    const b = new TestMember(c, { groupInstanceId: 'b', sessionTimeoutMs: 2_000 })
    await rebalance([a, b])
    const rejoined = a.join()
    await vi.advanceTimersByTimeAsync(REBALANCE_MS + 1)
    const res = await rejoined
    expect(res.members.map((m) => m.groupInstanceId).sort()).toEqual(['a', 'b'])
  })

  it('removes a static member by instance id alone (admin LeaveGroup)', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c, { groupInstanceId: 'a', sessionTimeoutMs: 5_000 })
    await rebalance([a])
    const res = c.leaveGroup({ groupId: GROUP, members: [{ memberId: '', groupInstanceId: 'a' }, { memberId: '', groupInstanceId: 'zz' }] })
    expect(res.members.map((m) => m.errorCode)).toEqual([0, ErrorCode.UNKNOWN_MEMBER_ID])
    await vi.advanceTimersByTimeAsync(1)
    expect(stateOf(c)).toBe('Empty')
  })
})

describe('group > GroupCoordinator > errors', () => {
  it('answers requests for an unknown group as Kafka does', async () => {
    const c = await startCoordinator()
    expect(c.heartbeat({ groupId: 'nope', generationId: 1, memberId: 'm', groupInstanceId: null }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect((await c.syncGroup({ groupId: 'nope', generationId: 1, memberId: 'm', groupInstanceId: null, assignments: [] })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect((await c.joinGroup({ ...(await joinRequest('m-1')), groupId: 'nope' })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(c.leaveGroup({ groupId: 'nope', members: [{ memberId: 'm', groupInstanceId: null }] }).members[0]?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(await c.deleteGroups(['nope'])).toEqual([{ groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND }])
    expect((await c.deleteOffsets({ groupId: 'nope', topics: [] })).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND)
    expect(c.describeGroups(['nope'])[0]).toMatchObject({ errorCode: 0, groupState: 'Dead', members: [] })
  })

  it('rejects an unknown member, an illegal generation and a fenced one', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c)
    await rebalance([a])
    expect(c.heartbeat({ groupId: GROUP, generationId: a.generationId, memberId: 'ghost', groupInstanceId: null }).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(c.heartbeat({ groupId: GROUP, generationId: a.generationId + 1, memberId: a.memberId, groupInstanceId: null }).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION)
    const sync = await c.syncGroup({ groupId: GROUP, generationId: 99, memberId: a.memberId, groupInstanceId: null, assignments: [] })
    expect(sync.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION)
    expect((await c.joinGroup(await joinRequest('ghost'))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
    expect(c.leaveGroup({ groupId: GROUP, members: [{ memberId: 'ghost', groupInstanceId: null }] }).members[0]?.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID)
  })

  it('answers REBALANCE_IN_PROGRESS to heartbeats and SyncGroup while preparing a rebalance', async () => {
    const c = await startCoordinator()
    const [a, b] = [new TestMember(c), new TestMember(c)]
    await rebalance([a, b])
    void a.join()
    expect(b.heartbeat()).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    const sync = await c.syncGroup({ groupId: GROUP, generationId: b.generationId, memberId: b.memberId, groupInstanceId: null, assignments: [] })
    expect(sync.errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
  })

  it('answers a parked SyncGroup with REBALANCE_IN_PROGRESS when a new rebalance starts', async () => {
    const c = await startCoordinator()
    const [a, b] = [new TestMember(c), new TestMember(c)]
    const joins = Promise.all([a.join(), b.join()])
    await vi.advanceTimersByTimeAsync(1)
    const [ja, jb] = await joins
    const follower = ja.leader === ja.memberId ? jb : ja
    const parked = c.syncGroup({ groupId: GROUP, generationId: follower.generationId, memberId: follower.memberId, groupInstanceId: null, assignments: [] })
    void new TestMember(c).join()
    expect((await parked).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS)
  })

  it('rejects protocols the group does not share (INCONSISTENT_GROUP_PROTOCOL)', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c, { assignor: 'range' })
    await rebalance([a])
    const other = await new TestMember(c, { assignor: 'roundrobin' }).join()
    expect(other.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    expect((await c.joinGroup({ ...(await joinRequest('')), protocolType: 'connect' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    expect((await c.joinGroup({ ...(await joinRequest('')), groupId: 'fresh', protocols: [] })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    expect((await c.joinGroup({ ...(await joinRequest('')), groupId: 'fresh2', protocolType: '' })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
    const sync = await c.syncGroup({ groupId: GROUP, generationId: a.generationId, memberId: a.memberId, groupInstanceId: null, protocolName: 'sticky', assignments: [] })
    expect(sync.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL)
  })

  it('rejects session timeouts outside group.min/max.session.timeout.ms', async () => {
    const c = await startCoordinator({ minSessionTimeoutMs: 1_000, maxSessionTimeoutMs: 10_000 })
    expect((await c.joinGroup({ ...(await joinRequest('')), sessionTimeoutMs: 999 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT)
    expect((await c.joinGroup({ ...(await joinRequest('')), sessionTimeoutMs: 10_001 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT)
    const ok = c.joinGroup({ ...(await joinRequest('')), sessionTimeoutMs: 10_000 })
    await vi.advanceTimersByTimeAsync(1)
    expect((await ok).errorCode).toBe(0)
  })

  it('rejects an empty group id (INVALID_GROUP_ID)', async () => {
    const c = await startCoordinator()
    expect((await c.joinGroup({ ...(await joinRequest('')), groupId: '' })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID)
    expect(c.heartbeat({ groupId: '', generationId: 1, memberId: 'x' }).errorCode).toBe(ErrorCode.INVALID_GROUP_ID)
  })

  it('refuses members beyond group.max.size (GROUP_MAX_SIZE_REACHED)', async () => {
    const c = await startCoordinator({ maxGroupSize: 2 })
    await rebalance([new TestMember(c), new TestMember(c)])
    expect((await new TestMember(c).join()).errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED)
  })

  it('answers COORDINATOR_LOAD_IN_PROGRESS before load and COORDINATOR_NOT_AVAILABLE after close', async () => {
    const c = new GroupCoordinator({ offsetsLog: log, topicPartitionCount: partitionCount, minSessionTimeoutMs: 100 })
    coordinators.push(c)
    expect((await c.joinGroup(await joinRequest(''))).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
    expect(c.fetchOffsets({ groupId: GROUP, topics: null }).errorCode).toBe(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS)
    expect((await c.syncGroup({ groupId: GROUP, generationId: 1, memberId: 'm', groupInstanceId: null, assignments: [] })).errorCode)
      .toBe(ErrorCode.REBALANCE_IN_PROGRESS)
    expect(c.heartbeat({ groupId: GROUP, generationId: 1, memberId: 'm' }).errorCode).toBe(ErrorCode.NONE)
    expect(c.listGroups()).toEqual([])
    await c.load()
    const joined = c.joinGroup(await joinRequest(''))
    await vi.advanceTimersByTimeAsync(1)
    expect((await joined).errorCode).toBe(ErrorCode.NONE)
    c.close()
    expect((await c.joinGroup(await joinRequest(''))).errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE)
    await expect(c.load()).rejects.toMatchObject({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE })
  })

  it('answers parked JoinGroups with NOT_COORDINATOR on close', async () => {
    const c = await startCoordinator({ initialRebalanceDelayMs: 1_000 })
    const parked = new TestMember(c).join()
    c.close()
    expect((await parked).errorCode).toBe(ErrorCode.NOT_COORDINATOR)
  })

  it('rejects bad options with INVALID_CONFIG', () => {
    const base = { offsetsLog: log, topicPartitionCount: partitionCount }
    expect(() => new GroupCoordinator({ ...base, minSessionTimeoutMs: 10, maxSessionTimeoutMs: 5 })).toThrow(/group.min.session.timeout.ms/)
    expect(() => new GroupCoordinator({ ...base, offsetsTopicPartitions: 0 })).toThrow(/offsets.topic.num.partitions/)
    expect(() => new GroupCoordinator({ ...base, initialRebalanceDelayMs: -1 })).toThrow(/group.initial.rebalance.delay.ms/)
    expect(() => new GroupCoordinator({ ...base, maxGroupSize: 0 })).toThrow(/group.max.size/)
  })

  it('turns codes into typed errors with throwIfError', () => {
    expect(() => throwIfError(0, 'ok')).not.toThrow()
    try {
      throwIfError(ErrorCode.ILLEGAL_GENERATION, 'commit offsets')
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(IllegalGenerationError)
      expect(isShardlogError(err) && err.code).toBe('ILLEGAL_GENERATION')
      expect((err as Error).message).toMatch(/^commit offsets: /)
    }
  })

  it('uses Kafka\'s numeric codes', () => {
    for (const [name, code] of Object.entries(ErrorCode)) {
      const known = kafkaErrorByName(name)
      if (known !== undefined) expect([name, known.code]).toEqual([name, code])
    }
  })
})

describe('group > GroupCoordinator > admin', () => {
  it('lists groups with their state and protocol type, filtered by state', async () => {
    const c = await startCoordinator()
    await rebalance([new TestMember(c)])
    await c.commitOffsets({ groupId: 'offsets-only', generationId: -1, memberId: '', topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 3, committedMetadata: null }] }] })
    expect(c.listGroups().sort((a, b) => a.groupId.localeCompare(b.groupId))).toEqual([
      { groupId: GROUP, protocolType: 'consumer', groupState: 'Stable' },
      { groupId: 'offsets-only', protocolType: '', groupState: 'Empty' },
    ])
    expect(c.listGroups(['empty']).map((g) => g.groupId)).toEqual(['offsets-only'])
    expect(c.listGroups(['Stable', 'Dead']).map((g) => g.groupId)).toEqual([GROUP])
  })

  it('describes members with their client id, host and decoded assignment', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c, { clientId: 'svc', groupInstanceId: 'pod-0', topics: ['orders', 'payments'], sessionTimeoutMs: 5_000 })
    await rebalance([a])
    const [g] = c.describeGroups([GROUP])
    expect(g?.members).toHaveLength(1)
    expect(g?.members[0]).toMatchObject({
      memberId: a.memberId, groupInstanceId: 'pod-0', clientId: 'svc', clientHost: '/127.0.0.1',
      assignment: [{ topic: 'orders', partitions: [0, 1, 2, 3, 4, 5] }, { topic: 'payments', partitions: [0, 1, 2] }],
    })
    expect(g?.members[0]?.memberMetadata.length).toBeGreaterThan(0)
  })

  it('deletes only empty groups (NON_EMPTY_GROUP otherwise)', async () => {
    const c = await startCoordinator()
    const a = new TestMember(c)
    await rebalance([a])
    expect(await c.deleteGroups([GROUP])).toEqual([{ groupId: GROUP, errorCode: ErrorCode.NON_EMPTY_GROUP }])
    a.leave()
    await vi.advanceTimersByTimeAsync(1)
    expect(stateOf(c)).toBe('Empty')
    expect(await c.deleteGroups([GROUP])).toEqual([{ groupId: GROUP, errorCode: 0 }])
    expect(c.listGroups()).toEqual([])
  })
})
