/**
 * The state of one classic consumer group, as Kafka's `GroupMetadata`: the state machine,
 * members (dynamic and static), the selected protocol, generation and leader, the members the
 * coordinator still waits for, and the group's committed offsets.
 *
 * State machine (Kafka's names; `Dead` is final):
 * ```
 *            join                  all joined / timeout          leader's SyncGroup stored
 *  Empty ───────────▶ PreparingRebalance ──────────▶ CompletingRebalance ──────────▶ Stable
 *    ▲                   ▲    │ nobody left             │  join / leave / expiry       │
 *    └───────────────────┼────┘                         ▼                              │
 *                        └──────────────────────────────┴──────────────────────────────┘
 *  any state ──(deleted, offsets expired)──▶ Dead
 * ```
 *
 * Lives on the main thread and is mutated only by the GroupCoordinator and the OffsetStore, one
 * call at a time; the coordinator re-checks state after every await, as Kafka re-checks inside
 * its callbacks.
 */
import { randomUUID } from 'node:crypto'
import { UnknownServerError } from '../errors.js'
import { CONSUMER_PROTOCOL_TYPE, decodeSubscription } from './consumer-protocol.js'
import type { JoinGroupResponse, JoinGroupResponseMember, SyncGroupResponse } from './coordinator-requests.js'
import { joinErrorResponse, MemberMetadata, syncErrorResponse, type JoinGroupProtocol } from './member-metadata.js'
import type { OffsetCommitValue } from './offset-record.js'

/** Kafka's error codes that the group coordinator answers with (values of Kafka's `Errors`). */
export const ErrorCode = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  INVALID_FETCH_SIZE: 4,
  MESSAGE_TOO_LARGE: 10,
  OFFSET_METADATA_TOO_LARGE: 12,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  RECORD_LIST_TOO_LARGE: 18,
  NOT_ENOUGH_REPLICAS: 19,
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 20,
  ILLEGAL_GENERATION: 22,
  INCONSISTENT_GROUP_PROTOCOL: 23,
  INVALID_GROUP_ID: 24,
  UNKNOWN_MEMBER_ID: 25,
  INVALID_SESSION_TIMEOUT: 26,
  REBALANCE_IN_PROGRESS: 27,
  INVALID_COMMIT_OFFSET_SIZE: 28,
  REQUEST_TIMED_OUT: 7,
  NOT_LEADER_OR_FOLLOWER: 6,
  INVALID_REQUEST: 42,
  KAFKA_STORAGE_ERROR: 56,
  NON_EMPTY_GROUP: 68,
  GROUP_ID_NOT_FOUND: 69,
  MEMBER_ID_REQUIRED: 79,
  GROUP_MAX_SIZE_REACHED: 81,
  FENCED_INSTANCE_ID: 82,
  GROUP_SUBSCRIBED_TO_TOPIC: 86,
  UNSTABLE_OFFSET_COMMIT: 88,
} as const

/** Kafka's classic group states, named as Kafka prints them. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead'

/** Every {@link GroupState}. */
export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead']

const validPreviousStates: Record<GroupState, readonly GroupState[]> = {
  Dead: ['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty', 'Dead'],
  CompletingRebalance: ['PreparingRebalance'],
  Stable: ['CompletingRebalance'],
  PreparingRebalance: ['Stable', 'CompletingRebalance', 'Empty'],
  Empty: ['PreparingRebalance'],
}

/** The delayed JoinGroup completion in flight (Kafka's DelayedJoin / InitialDelayedJoin). */
export interface DelayedJoinOperation {
  /** An initial delayed join (`group.initial.rebalance.delay.ms`) never completes early. */
  readonly initial: boolean
  readonly timer: ReturnType<typeof setTimeout>
}

/** The wait for every member's SyncGroup (Kafka's DelayedSync). */
export interface DelayedSyncOperation {
  readonly generationId: number
  readonly timer: ReturnType<typeof setTimeout>
}

/** A committed offset of the group, with its partition. */
export interface GroupOffset {
  topic: string
  partition: number
  value: OffsetCommitValue
}

/** One group; see the file comment. */
export class GroupMetadata {
  readonly groupId: string
  private currentState: GroupState
  /** When the group entered its current state (ms); drives offset expiry of empty groups. */
  currentStateTimestamp: number | null
  /** The protocol type of the members (`consumer` for consumer groups); null for offset-only groups. */
  protocolType: string | null = null
  /** The protocol (assignor) selected for the current generation. */
  protocolName: string | null = null
  generationId = 0
  leaderId: string | null = null
  /** Set when a member joins during the first rebalance, so the initial delay is extended. */
  newMemberAdded = false
  /** Topics the members subscribe to (consumer groups), or null when unknown. */
  subscribedTopics: ReadonlySet<string> | null = null
  /** Members by member id, in join order. */
  readonly members = new Map<string, MemberMetadata>()
  /** Member ids handed out with MEMBER_ID_REQUIRED (KIP-394) that have not joined yet. */
  readonly pendingMembers = new Set<string>()
  /** Expiry timers of {@link pendingMembers}. */
  readonly pendingMemberTimers = new Map<string, ReturnType<typeof setTimeout>>()
  /** The pending delayed join, owned by the coordinator. */
  joinOperation: DelayedJoinOperation | null = null
  /** The pending delayed sync, owned by the coordinator. */
  syncOperation: DelayedSyncOperation | null = null

  private readonly staticMembers = new Map<string, string>()
  private readonly pendingSyncMembers = new Set<string>()
  private numMembersAwaitingJoin = 0
  private readonly supportedProtocols = new Map<string, number>()
  private readonly offsets = new Map<string, Map<number, OffsetCommitValue>>()
  private readonly pendingOffsetCommits = new Map<string, Map<number, OffsetCommitValue>>()

  constructor(groupId: string, initialState: GroupState, now: number) {
    this.groupId = groupId
    this.currentState = initialState
    this.currentStateTimestamp = now
  }

  /** The current state. */
  get state(): GroupState {
    return this.currentState
  }

  /** True in `state`. */
  is(state: GroupState): boolean {
    return this.currentState === state
  }

  /** Number of members. */
  get size(): number {
    return this.members.size
  }

  /** True if `memberId` is a member. */
  has(memberId: string): boolean {
    return this.members.has(memberId)
  }

  /** The member `memberId`; it must exist. */
  get(memberId: string): MemberMetadata {
    const m = this.members.get(memberId)
    if (m === undefined) throw new UnknownServerError(`group ${this.groupId} has no member ${memberId}`)
    return m
  }

  /** True if `memberId` leads the group. */
  isLeader(memberId: string): boolean {
    return this.leaderId === memberId
  }

  /** True for groups whose members speak the consumer protocol. */
  get isConsumerGroup(): boolean {
    return this.protocolType === CONSUMER_PROTOCOL_TYPE
  }

  /** A new member id: Kafka's `<clientId>-<uuid>`, or `<group.instance.id>-<uuid>` for static members. */
  generateMemberId(clientId: string, groupInstanceId: string | null): string {
    return `${groupInstanceId ?? clientId}-${randomUUID()}`
  }

  /**
   * Adds a member. The first member fixes the protocol type and becomes leader; `callback`
   * (its parked JoinGroup) makes it count as joined.
   */
  add(member: MemberMetadata, callback: ((response: JoinGroupResponse) => void) | null): void {
    if (this.members.size === 0) this.protocolType = member.protocolType
    if (this.leaderId === null) this.leaderId = member.memberId
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId)
    this.members.set(member.memberId, member)
    this.countProtocols(member.protocolNames(), 1)
    member.awaitingJoin = callback
    if (callback !== null) this.numMembersAwaitingJoin++
    this.pendingMembers.delete(member.memberId)
  }

  /**
   * Removes a member (or a pending member id). A leaving leader hands leadership to the first
   * remaining member; the coordinator picks a joined one when the rebalance completes.
   */
  remove(memberId: string): void {
    const member = this.members.get(memberId)
    if (member !== undefined) {
      this.countProtocols(member.protocolNames(), -1)
      if (member.isAwaitingJoin) this.numMembersAwaitingJoin--
      if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
        this.staticMembers.delete(member.groupInstanceId)
      }
      this.members.delete(memberId)
    }
    if (this.leaderId === memberId) {
      const next = this.members.keys().next()
      this.leaderId = next.done === true ? null : next.value
    }
    this.pendingMembers.delete(memberId)
    this.pendingSyncMembers.delete(memberId)
  }

  /** The member id currently holding `groupInstanceId`, if any. */
  currentStaticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId)
  }

  /**
   * Gives a static member's slot to a new member id (a restarted instance). The old id's parked
   * requests are answered FENCED_INSTANCE_ID at once; leadership and a pending SyncGroup move too.
   */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): MemberMetadata {
    const member = this.get(oldMemberId)
    this.members.delete(oldMemberId)
    this.maybeInvokeJoinCallback(member, joinErrorResponse(oldMemberId, ErrorCode.FENCED_INSTANCE_ID))
    this.maybeInvokeSyncCallback(member, syncErrorResponse(ErrorCode.FENCED_INSTANCE_ID))
    member.memberId = newMemberId
    this.members.set(newMemberId, member)
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId
    if (this.pendingSyncMembers.delete(oldMemberId)) this.pendingSyncMembers.add(newMemberId)
    this.staticMembers.set(groupInstanceId, newMemberId)
    return member
  }

  /**
   * Re-registers a rejoining member with its new protocols and timeouts. A non-null `callback`
   * parks its JoinGroup; a JoinGroup parked before is answered REBALANCE_IN_PROGRESS so no
   * promise is left hanging (Kafka overwrites it; the client has given up on it).
   */
  updateMember(member: MemberMetadata, protocols: JoinGroupProtocol[], rebalanceTimeoutMs: number, sessionTimeoutMs: number,
    callback: ((response: JoinGroupResponse) => void) | null): void {
    this.countProtocols(member.protocolNames(), -1)
    member.supportedProtocols = protocols
    this.countProtocols(member.protocolNames(), 1)
    member.rebalanceTimeoutMs = rebalanceTimeoutMs
    member.sessionTimeoutMs = sessionTimeoutMs
    const previous = member.awaitingJoin
    if (callback !== null && previous === null) this.numMembersAwaitingJoin++
    else if (callback === null && previous !== null) this.numMembersAwaitingJoin--
    member.awaitingJoin = callback
    if (previous !== null && callback !== null && previous !== callback) {
      previous(joinErrorResponse(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS))
    }
  }

  /** Answers the member's parked JoinGroup, if any; true if one was answered. */
  maybeInvokeJoinCallback(member: MemberMetadata, response: JoinGroupResponse): boolean {
    const callback = member.awaitingJoin
    if (callback === null) return false
    member.awaitingJoin = null
    this.numMembersAwaitingJoin--
    callback(response)
    return true
  }

  /** Answers the member's parked SyncGroup, if any; true if one was answered. */
  maybeInvokeSyncCallback(member: MemberMetadata, response: SyncGroupResponse): boolean {
    const callback = member.awaitingSync
    if (callback === null) return false
    member.awaitingSync = null
    callback(response)
    return true
  }

  /** Registers a KIP-394 member id that must rejoin with it. */
  addPendingMember(memberId: string): void {
    this.pendingMembers.add(memberId)
  }

  /** True for a KIP-394 member id that has not joined yet. */
  isPendingMember(memberId: string): boolean {
    return this.pendingMembers.has(memberId)
  }

  /** Number of members with a parked JoinGroup. */
  get numAwaiting(): number {
    return this.numMembersAwaitingJoin
  }

  /** Kafka's `hasAllMembersJoined`: every member parked a JoinGroup and no KIP-394 id is outstanding. */
  hasAllMembersJoined(): boolean {
    return this.members.size === this.numMembersAwaitingJoin && this.pendingMembers.size === 0
  }

  /** Members that have not rejoined in the current rebalance. */
  notYetRejoinedMembers(): MemberMetadata[] {
    return [...this.members.values()].filter((m) => !m.isAwaitingJoin)
  }

  /** The longest rebalance timeout of the members: how long a rebalance may wait. */
  get rebalanceTimeoutMs(): number {
    let max = 0
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs)
    return max
  }

  /** Kafka's `canRebalance`: a rebalance may start from this state. */
  canRebalance(): boolean {
    return validPreviousStates.PreparingRebalance.includes(this.currentState)
  }

  /** Moves to `state`, checking the transition is one Kafka allows. */
  transitionTo(state: GroupState, now: number): void {
    if (!validPreviousStates[state].includes(this.currentState)) {
      throw new UnknownServerError(`group ${this.groupId} should be in one of ${validPreviousStates[state].join(', ')} ` +
        `before moving to ${state}, but is in ${this.currentState}`)
    }
    this.currentState = state
    this.currentStateTimestamp = now
  }

  /**
   * Kafka's `maybeElectNewJoinedLeader`: if the leader has not rejoined, a member that has takes
   * over. False when nobody has rejoined.
   */
  maybeElectNewJoinedLeader(): boolean {
    if (this.leaderId === null) return false
    const leader = this.members.get(this.leaderId)
    if (leader !== undefined && leader.isAwaitingJoin) return true
    for (const m of this.members.values()) {
      if (m.isAwaitingJoin) {
        this.leaderId = m.memberId
        return true
      }
    }
    return false
  }

  /** True if a member with `protocolType` and `protocolNames` may join (Kafka's `supportsProtocols`). */
  supportsProtocols(protocolType: string, protocolNames: readonly string[]): boolean {
    if (this.is('Empty')) return protocolType.length > 0 && protocolNames.length > 0
    return this.protocolType === protocolType && protocolNames.some((n) => this.supportedProtocols.get(n) === this.members.size)
  }

  /**
   * Picks the protocol for the next generation: among the protocols every member supports, each
   * member votes for its most preferred one and the most votes win (ties go to the protocol
   * voted for first, in member order).
   */
  selectProtocol(): string {
    if (this.members.size === 0) throw new UnknownServerError(`cannot select a protocol for empty group ${this.groupId}`)
    const candidates = new Set<string>()
    for (const [name, count] of this.supportedProtocols) if (count === this.members.size) candidates.add(name)
    const votes = new Map<string, number>()
    for (const m of this.members.values()) {
      const choice = m.vote(candidates)
      votes.set(choice, (votes.get(choice) ?? 0) + 1)
    }
    let best = ''
    let bestVotes = -1
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name
        bestVotes = n
      }
    }
    return best
  }

  /** Starts the next generation once the join phase is over (Kafka's `initNextGeneration`). */
  initNextGeneration(now: number): void {
    this.generationId++
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol()
      this.subscribedTopics = this.computeSubscribedTopics()
      this.transitionTo('CompletingRebalance', now)
    } else {
      this.protocolName = null
      this.subscribedTopics = this.computeSubscribedTopics()
      this.transitionTo('Empty', now)
    }
    this.pendingSyncMembers.clear()
  }

  /** The member list the leader receives in its JoinGroup response. */
  currentMemberMetadata(): JoinGroupResponseMember[] {
    if (this.protocolName === null) throw new UnknownServerError(`group ${this.groupId} has no selected protocol`)
    const protocol = this.protocolName
    return [...this.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: m.metadata(protocol) }))
  }

  /**
   * The union of the members' subscribed topics for consumer groups; null when the group does not
   * use the consumer protocol or a subscription cannot be decoded (then every topic counts as
   * subscribed, as in Kafka).
   */
  computeSubscribedTopics(): ReadonlySet<string> | null {
    if (!this.isConsumerGroup) return null
    if (this.members.size === 0) return new Set()
    if (this.protocolName === null) return null
    const topics = new Set<string>()
    try {
      const protocol = this.protocolName
      for (const m of this.members.values()) for (const t of decodeSubscription(m.metadata(protocol)).topics) topics.add(t)
    } catch {
      // A member's metadata is not a consumer subscription: fall back to "unknown", which makes
      // OffsetDelete refuse and offset expiry wait, the safe side of both.
      return null
    }
    return topics
  }

  /** True if a member subscribes to `topic` (or the subscriptions are unknown). */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null ? true : this.subscribedTopics.has(topic)
  }

  /** Marks `memberId` as owing a SyncGroup in this generation. */
  addPendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.add(memberId)
  }

  /** Records that `memberId` sent its SyncGroup. */
  removePendingSyncMember(memberId: string): void {
    this.pendingSyncMembers.delete(memberId)
  }

  /** Forgets every owed SyncGroup (a new rebalance started). */
  clearPendingSyncMembers(): void {
    this.pendingSyncMembers.clear()
  }

  /** True once every member of the generation sent SyncGroup. */
  hasReceivedSyncFromAllMembers(): boolean {
    return this.pendingSyncMembers.size === 0
  }

  /** Members that still owe a SyncGroup. */
  allPendingSyncMembers(): string[] {
    return [...this.pendingSyncMembers]
  }

  // ---- committed offsets -------------------------------------------------------------------

  /** The committed offset of a partition, if any. */
  offset(topic: string, partition: number): OffsetCommitValue | undefined {
    return this.offsets.get(topic)?.get(partition)
  }

  /** Every committed offset, grouped by topic in commit order. */
  allOffsets(): GroupOffset[] {
    const out: GroupOffset[] = []
    for (const [topic, byPartition] of this.offsets) for (const [partition, value] of byPartition) out.push({ topic, partition, value })
    return out
  }

  /** True if the group has committed (or is committing) any offset. */
  hasOffsets(): boolean {
    return this.offsets.size > 0 || this.pendingOffsetCommits.size > 0
  }

  /** Installs an offset read back from the log. */
  initializeOffset(topic: string, partition: number, value: OffsetCommitValue): void {
    mapFor(this.offsets, topic).set(partition, value)
  }

  /** Stages offsets whose records are being appended. */
  prepareOffsetCommit(entries: readonly GroupOffset[]): void {
    for (const e of entries) mapFor(this.pendingOffsetCommits, e.topic).set(e.partition, e.value)
  }

  /**
   * Publishes an appended offset. Skipped if the offset was deleted while its append was in
   * flight; the stage is cleared only if no newer commit for the partition replaced it.
   */
  completePendingOffsetWrite(entry: GroupOffset): void {
    const pending = this.pendingOffsetCommits.get(entry.topic)
    if (pending === undefined || !pending.has(entry.partition)) return
    mapFor(this.offsets, entry.topic).set(entry.partition, entry.value)
    if (pending.get(entry.partition) === entry.value) deleteFrom(this.pendingOffsetCommits, entry.topic, entry.partition)
  }

  /** Drops a staged offset whose append failed. */
  failPendingOffsetWrite(entry: GroupOffset): void {
    if (this.pendingOffsetCommits.get(entry.topic)?.get(entry.partition) === entry.value) {
      deleteFrom(this.pendingOffsetCommits, entry.topic, entry.partition)
    }
  }

  /** True if an append for the partition's offset is in flight (OffsetFetch's requireStable). */
  hasPendingOffsetCommit(topic: string, partition: number): boolean {
    return this.pendingOffsetCommits.get(topic)?.has(partition) === true
  }

  /** Removes the offsets of `partitions` (and any in-flight commit of them); returns those removed. */
  removeOffsets(partitions: ReadonlyArray<{ topic: string; partition: number }>): GroupOffset[] {
    const removed: GroupOffset[] = []
    for (const { topic, partition } of partitions) {
      deleteFrom(this.pendingOffsetCommits, topic, partition)
      const value = this.offsets.get(topic)?.get(partition)
      if (value !== undefined) {
        deleteFrom(this.offsets, topic, partition)
        removed.push({ topic, partition, value })
      }
    }
    return removed
  }

  /** Removes every offset; returns those removed. */
  removeAllOffsets(): GroupOffset[] {
    return this.removeOffsets(this.allOffsets())
  }

  /**
   * Removes and returns the offsets past retention (Kafka's `removeExpiredOffsets`, KIP-211):
   * - an Empty group with a protocol type: `offsets.retention.ms` after it became Empty;
   * - a Stable consumer group with known subscriptions: offsets of topics nobody subscribes to,
   *   `offsets.retention.ms` after their commit;
   * - an offsets-only group (no protocol type): `offsets.retention.ms` after each commit;
   * - a commit with an explicit expire timestamp (OffsetCommit v2-v4) expires at that time.
   */
  removeExpiredOffsets(now: number, retentionMs: number): GroupOffset[] {
    let base: ((value: OffsetCommitValue) => number) | null = null
    let keepTopics: ReadonlySet<string> = new Set()
    if (this.protocolType !== null && this.is('Empty')) {
      const stateTs = this.currentStateTimestamp
      base = (v) => stateTs ?? v.commitTimestamp
    } else if (this.isConsumerGroup && this.subscribedTopics !== null && this.is('Stable')) {
      base = (v) => v.commitTimestamp
      keepTopics = this.subscribedTopics
    } else if (this.protocolType === null) {
      base = (v) => v.commitTimestamp
    }
    if (base === null) return []
    const baseOf = base
    const expired = this.allOffsets().filter(({ topic, partition, value }) => {
      if (keepTopics.has(topic) || this.hasPendingOffsetCommit(topic, partition)) return false
      return value.expireTimestamp === null ? now - baseOf(value) >= retentionMs : now >= value.expireTimestamp
    })
    return this.removeOffsets(expired)
  }

  private countProtocols(names: readonly string[], delta: number): void {
    for (const name of names) {
      const n = (this.supportedProtocols.get(name) ?? 0) + delta
      if (n === 0) this.supportedProtocols.delete(name)
      else this.supportedProtocols.set(name, n)
    }
  }
}

function mapFor<V>(outer: Map<string, Map<number, V>>, topic: string): Map<number, V> {
  let inner = outer.get(topic)
  if (inner === undefined) {
    inner = new Map()
    outer.set(topic, inner)
  }
  return inner
}

function deleteFrom<V>(outer: Map<string, Map<number, V>>, topic: string, partition: number): void {
  const inner = outer.get(topic)
  if (inner === undefined) return
  inner.delete(partition)
  if (inner.size === 0) outer.delete(topic)
}
