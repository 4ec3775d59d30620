/**
 * An in-process consumer's membership in a consumer group: Kafka's classic protocol run
 * against the cluster's {@link GroupCoordinator} directly (no sockets), with the same
 * steps a Kafka client takes: JoinGroup (KIP-394 member id round trip), the leader's
 * assignment with the chosen assignor, SyncGroup, periodic Heartbeat, OffsetCommit and
 * LeaveGroup. Lives on the consumer's (main) thread.
 */
import { hostname } from 'node:os'
import type { GroupCoordinator } from '../group/group-coordinator.js'
import { throwIfError } from '../group/group-coordinator.js'
import { assignorByName, performAssignment, subscriptionProtocol, type PartitionAssignor } from '../group/assignors/index.js'
import { decodeAssignment, CONSUMER_PROTOCOL_TYPE, type TopicPartitions } from '../group/consumer-protocol.js'
import type { TopicPartitionOffset } from './types.js'
import { InvalidConfigError, InvalidRequestError } from '../errors.js'
import { partitionKey } from '../topic-partition.js'

/** Settings of a membership (taken from the consumer's config). */
export interface MembershipConfig {
  groupId: string
  groupInstanceId: string | null
  clientId: string
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  heartbeatIntervalMs: number
  /** Assignor names in preference order. */
  assigners: string[]
  /** The topics this member subscribes to. */
  topics: () => string[]
  partitionCount: (topic: string) => number
}

const MEMBER_ID_REQUIRED = 79
const REBALANCE_IN_PROGRESS = 27
const UNKNOWN_MEMBER_ID = 25
const ILLEGAL_GENERATION = 22
const FENCED_INSTANCE_ID = 82

/** One consumer's group membership. */
export class GroupMembership {
  memberId = ''
  generationId = -1
  /** The partitions this member owns in the current generation. */
  assignment: Array<{ topic: string; partition: number }> = []
  private rejoin = true
  private heartbeatTimer: NodeJS.Timeout | undefined
  private readonly assignors: PartitionAssignor[]
  private aborted = false
  private owned: TopicPartitions[] = []
  /** Subscribed topics and their partition counts when the assignment was made. */
  private joinedWith = ''

  constructor(private readonly coordinator: GroupCoordinator, private readonly config: MembershipConfig) {
    this.assignors = config.assigners.map((name) => {
      const a = assignorByName(name)
      if (!a) throw new InvalidConfigError(`Unknown partition assigner '${name}': use range, roundrobin, sticky or cooperative-sticky`)
      return a
    })
  }

  /** Heartbeat interval, also the longest a fetch long-polls so heartbeats are not starved. */
  get heartbeatIntervalMs(): number {
    return this.config.heartbeatIntervalMs
  }

  /** True when the member must (re)join before fetching. */
  get needsJoin(): boolean {
    return this.rejoin
  }

  private metadataSnapshot(): string {
    return this.config.topics().map((t) => `${t}:${this.config.partitionCount(t)}`).sort().join(',')
  }

  /**
   * True when a subscribed topic gained partitions (or the subscription changed) since the
   * last join: as a Kafka consumer does on a metadata refresh, the member then rejoins so the
   * new partitions get assigned.
   */
  subscriptionChanged(): boolean {
    return !this.rejoin && this.metadataSnapshot() !== this.joinedWith
  }

  /** Marks the membership for a rejoin (after REBALANCE_IN_PROGRESS and the like). */
  requestRejoin(): void {
    this.rejoin = true
  }

  /** Joins (or rejoins) the group and waits for this member's assignment. */
  async join(): Promise<void> {
    this.stopHeartbeats()
    if (this.assignors.length === 0) throw new InvalidConfigError('A group consumer needs at least one partition assigner')
    for (;;) {
      if (this.aborted) return
      const topics = this.config.topics()
      this.joinedWith = this.metadataSnapshot()
      const res = await this.coordinator.joinGroup({
        groupId: this.config.groupId,
        memberId: this.memberId,
        groupInstanceId: this.config.groupInstanceId,
        protocolType: CONSUMER_PROTOCOL_TYPE,
        protocols: this.assignors.map((a) => subscriptionProtocol(a, { topics, ownedPartitions: this.owned, generationId: this.generationId })),
        sessionTimeoutMs: this.config.sessionTimeoutMs,
        rebalanceTimeoutMs: this.config.rebalanceTimeoutMs,
        clientId: this.config.clientId,
        clientHost: `/${hostname()}`,
        requireKnownMemberId: true,
      })
      if (res.errorCode === MEMBER_ID_REQUIRED) {
        this.memberId = res.memberId
        continue
      }
      if (res.errorCode === UNKNOWN_MEMBER_ID) {
        this.memberId = ''
        continue
      }
      if (res.errorCode === REBALANCE_IN_PROGRESS) continue
      throwIfError(res.errorCode, `JoinGroup ${this.config.groupId}`)
      this.memberId = res.memberId
      this.generationId = res.generationId
      let assignments: Array<{ memberId: string; assignment: Buffer }> = []
      if (res.leader === res.memberId && !res.skipAssignment) {
        const assignor = this.assignors.find((a) => a.name === res.protocolName)
        if (!assignor) throw new InvalidRequestError(`The group chose assignor '${String(res.protocolName)}', which this consumer does not know`)
        assignments = performAssignment(assignor, res.members, (t) => this.config.partitionCount(t))
      }
      const sync = await this.coordinator.syncGroup({
        groupId: this.config.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: this.config.groupInstanceId,
        protocolType: res.protocolType,
        protocolName: res.protocolName,
        assignments,
      })
      if (sync.errorCode === REBALANCE_IN_PROGRESS || sync.errorCode === ILLEGAL_GENERATION) continue
      if (sync.errorCode === UNKNOWN_MEMBER_ID) {
        this.memberId = ''
        continue
      }
      throwIfError(sync.errorCode, `SyncGroup ${this.config.groupId}`)
      const decoded = sync.assignment.length > 0 ? decodeAssignment(sync.assignment).assignedPartitions : []
      this.owned = decoded
      this.assignment = decoded.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })))
      this.rejoin = false
      this.startHeartbeats()
      return
    }
  }

  private startHeartbeats(): void {
    this.stopHeartbeats()
    this.heartbeatTimer = setInterval(() => this.heartbeatNow(), this.config.heartbeatIntervalMs)
    this.heartbeatTimer.unref()
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = undefined
  }

  /** Sends a heartbeat now; a rebalance or a lost membership marks the member for rejoin. */
  heartbeatNow(): void {
    if (this.rejoin || this.aborted) return
    const { errorCode } = this.coordinator.heartbeat({ groupId: this.config.groupId, generationId: this.generationId, memberId: this.memberId, groupInstanceId: this.config.groupInstanceId })
    if (errorCode === 0) return
    if (errorCode === UNKNOWN_MEMBER_ID || errorCode === FENCED_INSTANCE_ID) this.memberId = ''
    this.rejoin = true
  }

  /** Fetches committed offsets (-1 where none) for partitions. */
  async fetchCommitted(partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<Map<string, number>> {
    const byTopic = new Map<string, number[]>()
    for (const p of partitions) byTopic.set(p.topic, [...(byTopic.get(p.topic) ?? []), p.partition])
    const res = this.coordinator.fetchOffsets({ groupId: this.config.groupId, topics: [...byTopic].map(([name, partitionIndexes]) => ({ name, partitionIndexes })) })
    throwIfError(res.errorCode, `OffsetFetch ${this.config.groupId}`)
    const out = new Map<string, number>()
    for (const t of res.topics) for (const p of t.partitions) out.set(partitionKey(t.name, p.partitionIndex), p.committedOffset)
    return out
  }

  /** Commits offsets as this member (or as a simple, member-less commit before joining). */
  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    const byTopic = new Map<string, Array<{ partitionIndex: number; committedOffset: number; committedMetadata: string | null }>>()
    for (const o of offsets) {
      const offset = Number(o.offset)
      if (!Number.isInteger(offset) || offset < 0) throw new InvalidRequestError(`Invalid offset ${o.offset} for ${o.topic}-${o.partition}`)
      const list = byTopic.get(o.topic) ?? []
      list.push({ partitionIndex: o.partition, committedOffset: offset, committedMetadata: null })
      byTopic.set(o.topic, list)
    }
    const res = await this.coordinator.commitOffsets({
      groupId: this.config.groupId,
      generationId: this.memberId === '' ? -1 : this.generationId,
      memberId: this.memberId,
      groupInstanceId: this.config.groupInstanceId,
      topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })),
    })
    for (const t of res.topics) for (const p of t.partitions) {
      if (p.errorCode === REBALANCE_IN_PROGRESS || p.errorCode === ILLEGAL_GENERATION || p.errorCode === UNKNOWN_MEMBER_ID) this.rejoin = true
      throwIfError(p.errorCode, `OffsetCommit ${this.config.groupId} ${t.name}-${p.partitionIndex}`)
    }
  }

  /** Ends any wait, e.g. when the consumer stops. */
  abortWaits(): void {
    this.aborted = true
  }

  /** Leaves the group so its partitions move at once (LeaveGroup). */
  async leave(): Promise<void> {
    this.stopHeartbeats()
    if (this.memberId === '') return
    // A static member keeps its place across restarts, as in Kafka: it does not send LeaveGroup.
    if (this.config.groupInstanceId === null) {
      this.coordinator.leaveGroup({ groupId: this.config.groupId, members: [{ memberId: this.memberId, groupInstanceId: null }] })
    }
    this.memberId = ''
    this.assignment = []
  }
}
