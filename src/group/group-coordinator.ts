/**
 * The group coordinator for Kafka's classic group protocol (JoinGroup / SyncGroup / Heartbeat /
 * LeaveGroup), committed offsets (OffsetCommit / OffsetFetch / OffsetDelete) and the group admin
 * APIs (DescribeGroups / ListGroups / DeleteGroups), after Kafka's `GroupCoordinator.scala`.
 *
 * Transport-agnostic: requests and responses mirror the Kafka messages' data, so a wire handler
 * decodes a request, calls one method and encodes the result, and the in-process consumer calls
 * the same methods. Request paths answer with Kafka error codes rather than throwing;
 * {@link throwIfError} turns a code into the typed error for in-process callers.
 *
 * JoinGroup and SyncGroup are long-held: their promises resolve when the rebalance step they wait
 * for completes, like Kafka's delayed operations (purgatory). Timers drive session expiry,
 * `group.initial.rebalance.delay.ms`, the rebalance timeout and the pending-sync timeout; they are
 * unref'd so they never keep the process alive, and {@link GroupCoordinator.close} stops them.
 *
 * Lives on the main thread, one call at a time; anything that awaits the log re-checks the
 * group's state and generation afterwards, as Kafka's callbacks do.
 *
 * Versions the wire handler maps: JoinGroup v0 has no rebalance timeout (pass the session
 * timeout), v4+ sets `requireKnownMemberId` (KIP-394), v9+ sets `supportSkippingAssignment`
 * (KIP-814); LeaveGroup v0-v2 carry one member and report its error at the top level.
 */
import { channel } from 'node:diagnostics_channel'
import { errorFromCode, InvalidConfigError, NonEmptyGroupError } from '../errors.js'
import { kafkaErrorByCode } from '../kafka-error-codes.js'
import { decodeAssignment, type TopicPartitions } from './consumer-protocol.js'
import { ErrorCode, GroupMetadata } from './group-metadata.js'
import { joinErrorResponse, MemberMetadata, syncErrorResponse } from './member-metadata.js'
import type { GroupOffset } from './group-metadata.js'
import { OffsetStore, type OffsetsLog } from './offset-store.js'
import { DEFAULT_OFFSETS_TOPIC_NUM_PARTITIONS } from './partition-for-group.js'

export type { OffsetsLog } from './offset-store.js'
import type {
  JoinGroupRequest, JoinGroupResponse, SyncGroupRequest, SyncGroupResponse,
  HeartbeatRequest, HeartbeatResponse, LeaveGroupMember, LeaveGroupRequest, LeaveGroupResponse,
  OffsetCommitPartition, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest,
  OffsetFetchPartition, OffsetFetchResponse, DescribedGroupMember, DescribedGroup, ListedGroup,
  DeleteGroupsResult, OffsetDeleteRequest, OffsetDeleteResponse, ResetOffsetsRequest,
} from './coordinator-requests.js'

// ---- configuration ---------------------------------------------------------------------------

/** Config name: how long the first rebalance of an empty group waits for more members. */
export const GROUP_INITIAL_REBALANCE_DELAY_MS = 'group.initial.rebalance.delay.ms'
/** shardlog's default for {@link GROUP_INITIAL_REBALANCE_DELAY_MS}: 0 (Kafka ships 3000) so a dev group forms at once. */
export const DEFAULT_GROUP_INITIAL_REBALANCE_DELAY_MS = 0
/** Config name: the smallest session timeout a member may ask for. */
export const GROUP_MIN_SESSION_TIMEOUT_MS = 'group.min.session.timeout.ms'
/** Kafka's default for {@link GROUP_MIN_SESSION_TIMEOUT_MS}. */
export const DEFAULT_GROUP_MIN_SESSION_TIMEOUT_MS = 6_000
/** Config name: the largest session timeout a member may ask for. */
export const GROUP_MAX_SESSION_TIMEOUT_MS = 'group.max.session.timeout.ms'
/** Kafka's default for {@link GROUP_MAX_SESSION_TIMEOUT_MS}. */
export const DEFAULT_GROUP_MAX_SESSION_TIMEOUT_MS = 1_800_000
/** Config name: the most members a group may have. */
export const GROUP_MAX_SIZE = 'group.max.size'
/** Kafka's default for {@link GROUP_MAX_SIZE} (Int.MaxValue: unlimited). */
export const DEFAULT_GROUP_MAX_SIZE = 2_147_483_647
/** Config name: how long offsets of an empty group (or an offsets-only group) are kept. */
export const OFFSETS_RETENTION_MS = 'offsets.retention.ms'
/** Kafka's default for {@link OFFSETS_RETENTION_MS}: 7 days. */
export const DEFAULT_OFFSETS_RETENTION_MS = 7 * 24 * 60 * 60 * 1000
/** Config name: how often expired offsets are looked for. */
export const OFFSETS_RETENTION_CHECK_INTERVAL_MS = 'offsets.retention.check.interval.ms'
/** Kafka's default for {@link OFFSETS_RETENTION_CHECK_INTERVAL_MS}: 10 minutes. */
export const DEFAULT_OFFSETS_RETENTION_CHECK_INTERVAL_MS = 600_000
/** Config name: the longest metadata string an offset commit may carry. */
export const OFFSET_METADATA_MAX_BYTES = 'offset.metadata.max.bytes'
/** Kafka's default for {@link OFFSET_METADATA_MAX_BYTES}. */
export const DEFAULT_OFFSET_METADATA_MAX_BYTES = 4096
/** Kafka's `NewMemberJoinTimeoutMs`: a new member's JoinGroup is dropped after this long. */
export const DEFAULT_NEW_MEMBER_JOIN_TIMEOUT_MS = 300_000

/** The DescribeGroups `authorizedOperations` value meaning "not requested". */
const AUTHORIZED_OPERATIONS_OMITTED = -2_147_483_648
/** Longest delay a Node timer takes; larger ones would fire after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647
const EMPTY = Buffer.alloc(0)

/** Published on every rebalance start: `{ groupId, generationId, reason }`. */
const rebalanceChannel = channel('shardlog:group:rebalance')

/** Options of {@link GroupCoordinator}; each names the Kafka config it stands for. */
export interface GroupCoordinatorOptions {
  /** Port to `__consumer_offsets`. */
  offsetsLog: OffsetsLog
  /** `offsets.topic.num.partitions` (default 50). */
  offsetsTopicPartitions?: number
  /** Partition count of a topic, or undefined if it does not exist (OffsetCommit's UNKNOWN_TOPIC_OR_PARTITION). */
  topicPartitionCount(topic: string): number | undefined
  /** Clock for commit and state timestamps, in ms (default `Date.now`). Timers use the global timer functions. */
  now?: () => number
  /** `group.initial.rebalance.delay.ms` (default 0, Kafka's is 3000). */
  initialRebalanceDelayMs?: number
  /** `group.min.session.timeout.ms` (default 6000). */
  minSessionTimeoutMs?: number
  /** `group.max.session.timeout.ms` (default 1800000). */
  maxSessionTimeoutMs?: number
  /** `offsets.retention.ms` (default 7 days). */
  offsetsRetentionMs?: number
  /** `offsets.retention.check.interval.ms` (default 600000). */
  offsetsRetentionCheckIntervalMs?: number
  /** `group.max.size` (default unlimited). */
  maxGroupSize?: number
  /** `offset.metadata.max.bytes` (default 4096). */
  offsetMetadataMaxBytes?: number
  /** How long a new member's first JoinGroup may stay parked (Kafka: 5 minutes). */
  newMemberJoinTimeoutMs?: number
}

/**
 * Throws the typed error for `errorCode` (a no-op for 0), with `context` in the message:
 * the bridge from the coordinator's codes to exceptions for in-process callers.
 */
export function throwIfError(errorCode: number, context: string): void {
  if (errorCode === ErrorCode.NONE) return
  throw errorFromCode(errorCode, `${context}: ${kafkaErrorByCode(errorCode).message}`)
}

type Status = 'unloaded' | 'loading' | 'active' | 'closed'

/** The group coordinator; see the file comment. */
export class GroupCoordinator {
  private readonly store: OffsetStore
  private readonly topicPartitionCount: (topic: string) => number | undefined
  private readonly now: () => number
  private readonly initialRebalanceDelayMs: number
  private readonly minSessionTimeoutMs: number
  private readonly maxSessionTimeoutMs: number
  private readonly offsetsRetentionMs: number
  private readonly offsetsRetentionCheckIntervalMs: number
  private readonly maxGroupSize: number
  private readonly offsetMetadataMaxBytes: number
  private readonly newMemberJoinTimeoutMs: number
  private status: Status = 'unloaded'
  private loading: Promise<void> | null = null
  private retentionTimer: ReturnType<typeof setInterval> | null = null

  constructor(opts: GroupCoordinatorOptions) {
    this.now = opts.now ?? Date.now
    this.topicPartitionCount = opts.topicPartitionCount
    this.initialRebalanceDelayMs = nonNegative(GROUP_INITIAL_REBALANCE_DELAY_MS, opts.initialRebalanceDelayMs, DEFAULT_GROUP_INITIAL_REBALANCE_DELAY_MS)
    this.minSessionTimeoutMs = nonNegative(GROUP_MIN_SESSION_TIMEOUT_MS, opts.minSessionTimeoutMs, DEFAULT_GROUP_MIN_SESSION_TIMEOUT_MS)
    this.maxSessionTimeoutMs = nonNegative(GROUP_MAX_SESSION_TIMEOUT_MS, opts.maxSessionTimeoutMs, DEFAULT_GROUP_MAX_SESSION_TIMEOUT_MS)
    if (this.minSessionTimeoutMs > this.maxSessionTimeoutMs) {
      throw new InvalidConfigError(`${GROUP_MIN_SESSION_TIMEOUT_MS} (${this.minSessionTimeoutMs}) exceeds ${GROUP_MAX_SESSION_TIMEOUT_MS} (${this.maxSessionTimeoutMs})`)
    }
    this.offsetsRetentionMs = positive(OFFSETS_RETENTION_MS, opts.offsetsRetentionMs, DEFAULT_OFFSETS_RETENTION_MS)
    this.offsetsRetentionCheckIntervalMs = positive(OFFSETS_RETENTION_CHECK_INTERVAL_MS, opts.offsetsRetentionCheckIntervalMs, DEFAULT_OFFSETS_RETENTION_CHECK_INTERVAL_MS)
    this.maxGroupSize = positive(GROUP_MAX_SIZE, opts.maxGroupSize, DEFAULT_GROUP_MAX_SIZE)
    this.offsetMetadataMaxBytes = nonNegative(OFFSET_METADATA_MAX_BYTES, opts.offsetMetadataMaxBytes, DEFAULT_OFFSET_METADATA_MAX_BYTES)
    this.newMemberJoinTimeoutMs = positive('newMemberJoinTimeoutMs', opts.newMemberJoinTimeoutMs, DEFAULT_NEW_MEMBER_JOIN_TIMEOUT_MS)
    this.store = new OffsetStore({
      log: opts.offsetsLog,
      numPartitions: opts.offsetsTopicPartitions ?? DEFAULT_OFFSETS_TOPIC_NUM_PARTITIONS,
      now: this.now,
    })
  }

  /**
   * Replays every `__consumer_offsets` partition to rebuild groups and offsets, then starts
   * serving (requests before that answer COORDINATOR_LOAD_IN_PROGRESS) and starts the periodic
   * offset expiration. Loaded members must heartbeat within their session timeout. Calling it
   * again returns the same load. Rejects (and stays unloaded) if the log cannot be read or holds
   * a corrupt record.
   */
  load(): Promise<void> {
    if (this.status === 'closed') return Promise.reject(errorFromCode(ErrorCode.COORDINATOR_NOT_AVAILABLE, 'the group coordinator is closed'))
    if (this.loading !== null) return this.loading
    this.status = 'loading'
    this.loading = this.store.load().then((groups) => {
      if (this.status !== 'loading') return
      this.status = 'active'
      for (const group of groups) this.onGroupLoaded(group)
      this.retentionTimer = setInterval(() => { void this.cleanupExpiredOffsets() }, Math.min(this.offsetsRetentionCheckIntervalMs, MAX_TIMER_MS))
      this.retentionTimer.unref?.()
    }, (err: unknown) => {
      if (this.status === 'loading') this.status = 'unloaded'
      this.loading = null
      throw err
    })
    return this.loading
  }

  /** The `__consumer_offsets` partition that holds `groupId` (FindCoordinator's key). */
  partitionFor(groupId: string): number {
    return this.store.partitionFor(groupId)
  }

  // ---- JoinGroup ------------------------------------------------------------------------------

  /**
   * JoinGroup: adds or updates the member and parks the request until the rebalance's join phase
   * completes (all known members rejoined, or the rebalance timeout passed). The leader's response
   * lists every member's metadata.
   */
  joinGroup(req: JoinGroupRequest): Promise<JoinGroupResponse> {
    const status = this.validateGroupStatus(req.groupId, false)
    if (status !== ErrorCode.NONE) return Promise.resolve(joinErrorResponse(req.memberId, status))
    if (req.sessionTimeoutMs < this.minSessionTimeoutMs || req.sessionTimeoutMs > this.maxSessionTimeoutMs) {
      return Promise.resolve(joinErrorResponse(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT))
    }
    const isUnknownMember = req.memberId === ''
    let group = this.store.getGroup(req.groupId)
    if (group === undefined) {
      // A group is created only by a new member; a known member id for an unknown group is stale.
      if (!isUnknownMember) return Promise.resolve(joinErrorResponse(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID))
      group = this.store.addGroup(new GroupMetadata(req.groupId, 'Empty', this.now()))
    }
    const g = group
    return new Promise<JoinGroupResponse>((resolve) => {
      if (!this.acceptJoiningMember(g, req.memberId)) {
        const member = g.members.get(req.memberId)
        if (member !== undefined) this.dropMember(g, member, ErrorCode.GROUP_MAX_SIZE_REACHED)
        resolve(joinErrorResponse('', ErrorCode.GROUP_MAX_SIZE_REACHED))
      } else if (isUnknownMember) {
        this.doNewMemberJoinGroup(g, req, resolve)
      } else {
        this.doCurrentMemberJoinGroup(g, req, resolve)
      }
      if (g.is('PreparingRebalance')) this.tryCompleteJoin(g)
    })
  }

  private acceptJoiningMember(group: GroupMetadata, memberId: string): boolean {
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return true
      case 'PreparingRebalance': {
        // Counting members that rejoined (not all members) lets a shrunken group.max.size shed
        // the members that rejoin last.
        const member = group.members.get(memberId)
        return (member !== undefined && member.isAwaitingJoin) || group.numAwaiting < this.maxGroupSize
      }
      case 'CompletingRebalance':
      case 'Stable':
        return group.has(memberId) || group.size < this.maxGroupSize
    }
  }

  private doNewMemberJoinGroup(group: GroupMetadata, req: JoinGroupRequest, resolve: (r: JoinGroupResponse) => void): void {
    if (group.is('Dead')) {
      resolve(joinErrorResponse('', ErrorCode.COORDINATOR_NOT_AVAILABLE))
    } else if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      resolve(joinErrorResponse('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
    } else {
      const newMemberId = group.generateMemberId(req.clientId, req.groupInstanceId)
      if (req.groupInstanceId !== null) {
        const oldMemberId = group.currentStaticMemberId(req.groupInstanceId)
        if (oldMemberId !== undefined) {
          this.updateStaticMemberAndRebalance(group, oldMemberId, newMemberId, req.groupInstanceId, req, resolve)
        } else {
          this.addMemberAndRebalance(group, newMemberId, req, resolve)
        }
      } else if (req.requireKnownMemberId === true) {
        // KIP-394: hand out the id first so a client that times out and retries does not leave
        // a defunct member behind; the id expires after the session timeout if it never returns.
        group.addPendingMember(newMemberId)
        this.addPendingMemberExpiration(group, newMemberId, req.sessionTimeoutMs)
        resolve(joinErrorResponse(newMemberId, ErrorCode.MEMBER_ID_REQUIRED))
      } else {
        this.addMemberAndRebalance(group, newMemberId, req, resolve)
      }
    }
  }

  private doCurrentMemberJoinGroup(group: GroupMetadata, req: JoinGroupRequest, resolve: (r: JoinGroupResponse) => void): void {
    const memberId = req.memberId
    if (group.is('Dead')) {
      resolve(joinErrorResponse(memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE))
      return
    }
    if (!group.supportsProtocols(req.protocolType, req.protocols.map((p) => p.name))) {
      resolve(joinErrorResponse(memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL))
      return
    }
    if (group.isPendingMember(memberId)) {
      // Pending (KIP-394) ids are only handed to dynamic members; Kafka treats a static one as a bug.
      if (req.groupInstanceId !== null) resolve(joinErrorResponse(memberId, ErrorCode.UNKNOWN_SERVER_ERROR))
      else this.addMemberAndRebalance(group, memberId, req, resolve)
      return
    }
    const error = this.validateCurrentMember(group, memberId, req.groupInstanceId)
    if (error !== ErrorCode.NONE) {
      resolve(joinErrorResponse(memberId, error))
      return
    }
    const member = group.get(memberId)
    switch (group.state) {
      case 'PreparingRebalance':
        this.updateMemberAndRebalance(group, member, req, resolve, `member ${memberId} joining during PreparingRebalance`)
        return
      case 'CompletingRebalance':
        if (member.matches(req.protocols)) {
          // The member lost its JoinGroup response: answer again for the current generation.
          resolve(this.currentGenerationResponse(group, member, group.isLeader(memberId)))
        } else {
          this.updateMemberAndRebalance(group, member, req, resolve, `member ${memberId} changed its metadata during CompletingRebalance`)
        }
        return
      case 'Stable':
        if (group.isLeader(memberId)) {
          // The leader rejoins to react to changes the metadata does not show (new partitions).
          this.updateMemberAndRebalance(group, member, req, resolve, `leader ${memberId} rejoining during Stable`)
        } else if (!member.matches(req.protocols)) {
          this.updateMemberAndRebalance(group, member, req, resolve, `member ${memberId} changed its metadata during Stable`)
        } else {
          resolve(this.currentGenerationResponse(group, member, false))
        }
        return
      case 'Empty':
      case 'Dead':
        resolve(joinErrorResponse(memberId, ErrorCode.UNKNOWN_MEMBER_ID))
    }
  }

  private currentGenerationResponse(group: GroupMetadata, member: MemberMetadata, withMembers: boolean): JoinGroupResponse {
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leader: group.leaderId ?? '',
      skipAssignment: false,
      memberId: member.memberId,
      members: withMembers ? group.currentMemberMetadata() : [],
    }
  }

  private addMemberAndRebalance(group: GroupMetadata, memberId: string, req: JoinGroupRequest, resolve: (r: JoinGroupResponse) => void): void {
    const member = new MemberMetadata({
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
    })
    member.isNew = true
    // Only the group's first rebalance may be stretched by members that keep arriving.
    if (group.is('PreparingRebalance') && group.generationId === 0) group.newMemberAdded = true
    this.clearPendingMemberTimer(group, memberId)
    group.add(member, resolve)
    // A new member has no id to heartbeat with and may have given up on its request; its join is
    // timed out separately so retries cannot pile up defunct members.
    this.scheduleExpiration(group, member, this.newMemberJoinTimeoutMs)
    this.maybePrepareRebalance(group, `adding new member ${memberId} with group instance id ${req.groupInstanceId}; reason: ${req.reason ?? 'not provided'}`)
  }

  private updateMemberAndRebalance(group: GroupMetadata, member: MemberMetadata, req: JoinGroupRequest,
    resolve: (r: JoinGroupResponse) => void, reason: string): void {
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, resolve)
    this.maybePrepareRebalance(group, `${reason}; reason: ${req.reason ?? 'not provided'}`)
  }

  /**
   * KIP-345: a restarted static member takes over its old member's slot. In a Stable group whose
   * protocol does not change, this is persisted and answered at once with the current generation,
   * so the member gets its old assignment back through SyncGroup without a rebalance.
   */
  private updateStaticMemberAndRebalance(group: GroupMetadata, oldMemberId: string, newMemberId: string, groupInstanceId: string,
    req: JoinGroupRequest, resolve: (r: JoinGroupResponse) => void): void {
    const currentLeader = group.leaderId
    const member = group.replaceStaticMember(groupInstanceId, oldMemberId, newMemberId)
    this.scheduleHeartbeatExpiration(group, member)
    const oldProtocols = member.supportedProtocols
    const oldRebalanceTimeoutMs = member.rebalanceTimeoutMs
    const oldSessionTimeoutMs = member.sessionTimeoutMs
    group.updateMember(member, req.protocols, req.rebalanceTimeoutMs, req.sessionTimeoutMs, resolve)
    switch (group.state) {
      case 'Stable': {
        if (group.protocolName !== group.selectProtocol()) {
          this.maybePrepareRebalance(group, `static member ${newMemberId} with instance id ${groupInstanceId} changed the group's protocol`)
          return
        }
        const assignment = new Map([...group.members.values()].map((m) => [m.memberId, m.assignment]))
        void this.store.storeGroup(group, assignment).then((errorCode) => {
          if (errorCode !== ErrorCode.NONE) {
            if (member.awaitingJoin !== resolve) return
            // Not persisted: give the slot back to the old member id, as Kafka does.
            group.updateMember(member, oldProtocols, oldRebalanceTimeoutMs, oldSessionTimeoutMs, null)
            if (group.members.get(newMemberId) === member) {
              const oldMember = group.replaceStaticMember(groupInstanceId, newMemberId, oldMemberId)
              this.scheduleHeartbeatExpiration(group, oldMember)
            }
            resolve({
              errorCode, generationId: group.generationId, protocolType: group.protocolType, protocolName: group.protocolName,
              leader: currentLeader ?? '', skipAssignment: false, memberId: '', members: [],
            })
            return
          }
          const supportSkipping = req.supportSkippingAssignment ?? true
          const isLeader = supportSkipping && group.isLeader(newMemberId)
          group.maybeInvokeJoinCallback(member, {
            errorCode: ErrorCode.NONE,
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            // KIP-814: a v9+ static leader learns it leads but skips the assignor (the group is
            // Stable, a new assignment would not be sent out). Older clients get the old leader
            // id, so the new member id does not think it leads.
            leader: (supportSkipping ? group.leaderId : currentLeader) ?? '',
            skipAssignment: isLeader,
            memberId: newMemberId,
            members: isLeader ? group.currentMemberMetadata() : [],
          })
        })
        return
      }
      case 'CompletingRebalance':
        // The leader may already have been sent the old member id; its assignment would not
        // reach the new one, so start over.
        this.prepareRebalance(group, `updating metadata for static member ${newMemberId} with instance id ${groupInstanceId}`)
        return
      case 'PreparingRebalance':
        return
      case 'Empty':
      case 'Dead':
        throw errorFromCode(ErrorCode.UNKNOWN_SERVER_ERROR,
          `group ${group.groupId} is ${group.state} while static member ${groupInstanceId} rejoins`)
    }
  }

  // ---- rebalance state machine ------------------------------------------------------------------

  private maybePrepareRebalance(group: GroupMetadata, reason: string): void {
    if (group.canRebalance()) this.prepareRebalance(group, reason)
  }

  private prepareRebalance(group: GroupMetadata, reason: string): void {
    if (group.is('CompletingRebalance')) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS)
    this.removeSyncExpiration(group)
    const fromEmpty = group.is('Empty')
    group.transitionTo('PreparingRebalance', this.now())
    if (rebalanceChannel.hasSubscribers) rebalanceChannel.publish({ groupId: group.groupId, generationId: group.generationId, reason })
    if (fromEmpty) {
      const delay = this.initialRebalanceDelayMs
      this.scheduleInitialDelayedJoin(group, delay, Math.max(group.rebalanceTimeoutMs - delay, 0))
    } else {
      this.scheduleDelayedJoin(group, group.rebalanceTimeoutMs)
    }
  }

  /** Kafka's DelayedJoin: completes when every member rejoined, or at the rebalance timeout. */
  private scheduleDelayedJoin(group: GroupMetadata, timeoutMs: number): void {
    this.cancelJoinOperation(group)
    const timer = this.timer(() => {
      group.joinOperation = null
      this.onCompleteJoin(group)
    }, timeoutMs)
    group.joinOperation = { initial: false, timer }
    this.tryCompleteJoin(group)
  }

  /**
   * Kafka's InitialDelayedJoin (`group.initial.rebalance.delay.ms`): a first rebalance waits the
   * delay, and again while new members keep arriving, up to the rebalance timeout.
   */
  private scheduleInitialDelayedJoin(group: GroupMetadata, delayMs: number, remainingMs: number): void {
    this.cancelJoinOperation(group)
    const configured = this.initialRebalanceDelayMs
    const timer = this.timer(() => {
      group.joinOperation = null
      if (group.newMemberAdded && remainingMs !== 0) {
        group.newMemberAdded = false
        this.scheduleInitialDelayedJoin(group, Math.min(configured, remainingMs), Math.max(remainingMs - delayMs, 0))
      } else {
        this.onCompleteJoin(group)
      }
    }, delayMs)
    group.joinOperation = { initial: true, timer }
  }

  private tryCompleteJoin(group: GroupMetadata): void {
    const op = group.joinOperation
    if (op === null || op.initial || !group.hasAllMembersJoined()) return
    clearTimeout(op.timer)
    group.joinOperation = null
    this.onCompleteJoin(group)
  }

  private cancelJoinOperation(group: GroupMetadata): void {
    if (group.joinOperation !== null) clearTimeout(group.joinOperation.timer)
    group.joinOperation = null
  }

  /** The join phase is over: drop dynamic members that did not rejoin, start the next generation. */
  private onCompleteJoin(group: GroupMetadata): void {
    if (this.status === 'closed') return
    for (const m of group.notYetRejoinedMembers()) {
      // Static members keep their slot: they may be restarting, and the pending-sync and session
      // timeouts remove them if they are really gone.
      if (!m.isStaticMember) this.dropMember(group, m, ErrorCode.UNKNOWN_MEMBER_ID)
    }
    if (group.is('Dead')) return
    if (!group.maybeElectNewJoinedLeader() && group.size > 0) {
      // Nobody rejoined: wait another rebalance timeout for session expiry to clear the members.
      this.scheduleDelayedJoin(group, group.rebalanceTimeoutMs)
      return
    }
    group.initNextGeneration(this.now())
    if (group.is('Empty')) {
      void this.store.storeGroup(group, new Map())
      // A failure here is only logged by Kafka: an empty generation has no members to mislead,
      // and the previous record (if it wins on reload) times out its members.
      return
    }
    const leaderMembers = group.currentMemberMetadata()
    for (const member of group.members.values()) {
      const isLeader = group.isLeader(member.memberId)
      group.maybeInvokeJoinCallback(member, {
        errorCode: ErrorCode.NONE,
        generationId: group.generationId,
        protocolType: group.protocolType,
        protocolName: group.protocolName,
        leader: group.leaderId ?? '',
        skipAssignment: false,
        memberId: member.memberId,
        members: isLeader ? leaderMembers : [],
      })
      this.scheduleHeartbeatExpiration(group, member)
      member.isNew = false
      group.addPendingSyncMember(member.memberId)
    }
    this.schedulePendingSync(group)
  }

  /** Kafka's DelayedSync: members that have not sent SyncGroup within the rebalance timeout are removed. */
  private schedulePendingSync(group: GroupMetadata): void {
    if (group.syncOperation !== null) clearTimeout(group.syncOperation.timer)
    const generationId = group.generationId
    const timer = this.timer(() => {
      group.syncOperation = null
      this.onExpirePendingSync(group, generationId)
    }, group.rebalanceTimeoutMs)
    group.syncOperation = { generationId, timer }
  }

  private maybeCompleteSyncExpiration(group: GroupMetadata): void {
    const op = group.syncOperation
    if (op === null) return
    const over = op.generationId !== group.generationId || group.is('Dead') || group.is('Empty') || group.is('PreparingRebalance')
    if (over || group.hasReceivedSyncFromAllMembers()) {
      clearTimeout(op.timer)
      group.syncOperation = null
    }
  }

  private removeSyncExpiration(group: GroupMetadata): void {
    group.clearPendingSyncMembers()
    this.maybeCompleteSyncExpiration(group)
  }

  private removePendingSyncMember(group: GroupMetadata, memberId: string): void {
    group.removePendingSyncMember(memberId)
    this.maybeCompleteSyncExpiration(group)
  }

  private onExpirePendingSync(group: GroupMetadata, generationId: number): void {
    if (this.status === 'closed' || generationId !== group.generationId) return
    if (!group.is('CompletingRebalance') && !group.is('Stable')) return
    if (group.hasReceivedSyncFromAllMembers()) return
    const missing = group.allPendingSyncMembers()
    for (const memberId of missing) {
      const member = group.members.get(memberId)
      if (member !== undefined) this.dropMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID)
    }
    this.prepareRebalance(group, `removing ${missing.join(', ')} on pending sync request expiration`)
  }

  // ---- SyncGroup ---------------------------------------------------------------------------------

  /**
   * SyncGroup: the leader's request carries every member's assignment; it is persisted, then all
   * parked SyncGroups are answered and the group becomes Stable. A follower's request waits for
   * the leader's. In a Stable group the current assignment is returned at once.
   */
  syncGroup(req: SyncGroupRequest): Promise<SyncGroupResponse> {
    const status = this.validateGroupStatus(req.groupId, false)
    // While loading, the rebalance state is lost: REBALANCE_IN_PROGRESS makes the member rejoin
    // without rediscovering the coordinator (older clients do not know LOAD_IN_PROGRESS here).
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return Promise.resolve(syncErrorResponse(ErrorCode.REBALANCE_IN_PROGRESS))
    if (status !== ErrorCode.NONE) return Promise.resolve(syncErrorResponse(status))
    const group = this.store.getGroup(req.groupId)
    if (group === undefined) return Promise.resolve(syncErrorResponse(ErrorCode.UNKNOWN_MEMBER_ID))
    const error = this.validateSyncGroup(group, req)
    if (error !== ErrorCode.NONE) return Promise.resolve(syncErrorResponse(error))
    switch (group.state) {
      case 'Empty':
        return Promise.resolve(syncErrorResponse(ErrorCode.UNKNOWN_MEMBER_ID))
      case 'PreparingRebalance':
        return Promise.resolve(syncErrorResponse(ErrorCode.REBALANCE_IN_PROGRESS))
      case 'CompletingRebalance':
        return new Promise<SyncGroupResponse>((resolve) => this.parkSyncGroup(group, req, resolve))
      case 'Stable': {
        this.removePendingSyncMember(group, req.memberId)
        const member = group.get(req.memberId)
        this.scheduleHeartbeatExpiration(group, member)
        return Promise.resolve({ errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment })
      }
      case 'Dead':
        return Promise.resolve(syncErrorResponse(ErrorCode.COORDINATOR_NOT_AVAILABLE))
    }
  }

  private validateSyncGroup(group: GroupMetadata, req: SyncGroupRequest): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE
    const error = this.validateCurrentMember(group, req.memberId, req.groupInstanceId)
    if (error !== ErrorCode.NONE) return error
    if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION
    if (req.protocolType != null && req.protocolType !== group.protocolType) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    if (req.protocolName != null && req.protocolName !== group.protocolName) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL
    return ErrorCode.NONE
  }

  private parkSyncGroup(group: GroupMetadata, req: SyncGroupRequest, resolve: (r: SyncGroupResponse) => void): void {
    const member = group.get(req.memberId)
    const previous = member.awaitingSync
    member.awaitingSync = resolve
    // A retried SyncGroup replaces the earlier one; answer that one instead of leaving it hanging.
    if (previous !== null) previous(syncErrorResponse(ErrorCode.REBALANCE_IN_PROGRESS))
    this.removePendingSyncMember(group, req.memberId)
    if (!group.isLeader(req.memberId)) return
    const provided = new Map(req.assignments.map((a) => [a.memberId, a.assignment]))
    // Members the leader left out get an empty assignment, as in Kafka.
    const assignment = new Map([...group.members.keys()].map((id) => [id, provided.get(id) ?? EMPTY]))
    const generationId = group.generationId
    void this.store.storeGroup(group, assignment).then((errorCode) => {
      // The group may have moved on (a join, a leave, an expiry) while the record was written.
      if (!group.is('CompletingRebalance') || group.generationId !== generationId || this.status === 'closed') return
      if (errorCode !== ErrorCode.NONE) {
        this.resetAndPropagateAssignmentError(group, errorCode)
        this.maybePrepareRebalance(group, `error ${errorCode} storing the assignment of generation ${generationId}`)
        return
      }
      for (const m of group.members.values()) m.assignment = assignment.get(m.memberId) ?? EMPTY
      this.propagateAssignment(group, ErrorCode.NONE)
      group.transitionTo('Stable', this.now())
    })
  }

  private resetAndPropagateAssignmentError(group: GroupMetadata, errorCode: number): void {
    for (const m of group.members.values()) m.assignment = EMPTY
    this.propagateAssignment(group, errorCode)
  }

  private propagateAssignment(group: GroupMetadata, errorCode: number): void {
    const ok = errorCode === ErrorCode.NONE
    for (const member of group.members.values()) {
      const answered = group.maybeInvokeSyncCallback(member, {
        errorCode,
        protocolType: ok ? group.protocolType : null,
        protocolName: ok ? group.protocolName : null,
        assignment: member.assignment,
      })
      // The session restarts once the member has its assignment: an expiry that fell while it
      // waited for the leader was ignored.
      if (answered) this.scheduleHeartbeatExpiration(group, member)
    }
  }

  // ---- Heartbeat and LeaveGroup ------------------------------------------------------------------

  /** Heartbeat: keeps the member's session alive; REBALANCE_IN_PROGRESS tells it to rejoin. */
  heartbeat(req: HeartbeatRequest): HeartbeatResponse {
    const status = this.validateGroupStatus(req.groupId, false)
    // While loading, the member cannot be checked: answer blindly, as Kafka does.
    if (status === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) return { errorCode: ErrorCode.NONE }
    if (status !== ErrorCode.NONE) return { errorCode: status }
    const group = this.store.getGroup(req.groupId)
    if (group === undefined) return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }
    const error = this.validateCurrentMember(group, req.memberId, req.groupInstanceId ?? null)
    if (error !== ErrorCode.NONE) return { errorCode: error }
    if (req.generationId !== group.generationId) return { errorCode: ErrorCode.ILLEGAL_GENERATION }
    switch (group.state) {
      case 'Empty':
        return { errorCode: ErrorCode.UNKNOWN_MEMBER_ID }
      case 'CompletingRebalance':
      case 'Stable':
        this.scheduleHeartbeatExpiration(group, group.get(req.memberId))
        return { errorCode: ErrorCode.NONE }
      case 'PreparingRebalance':
        this.scheduleHeartbeatExpiration(group, group.get(req.memberId))
        return { errorCode: ErrorCode.REBALANCE_IN_PROGRESS }
      case 'Dead':
        return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }
    }
  }

  /**
   * LeaveGroup: removes members (by member id, or static members by instance id alone) and
   * rebalances the rest. Per-member errors are in `members`.
   */
  leaveGroup(req: LeaveGroupRequest): LeaveGroupResponse {
    const status = this.validateGroupStatus(req.groupId, false)
    if (status !== ErrorCode.NONE) return { errorCode: status, members: [] }
    const result = (m: LeaveGroupMember, errorCode: number): LeaveGroupResponse['members'][number] =>
      ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, errorCode })
    const group = this.store.getGroup(req.groupId)
    if (group === undefined) return { errorCode: ErrorCode.NONE, members: req.members.map((m) => result(m, ErrorCode.UNKNOWN_MEMBER_ID)) }
    if (group.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] }
    const members = req.members.map((leaving) => {
      const reason = `member left with LeaveGroup; reason: ${leaving.reason ?? 'not provided'}`
      if (leaving.memberId === '') {
        const current = leaving.groupInstanceId === null ? undefined : group.currentStaticMemberId(leaving.groupInstanceId)
        if (current === undefined) return result(leaving, ErrorCode.UNKNOWN_MEMBER_ID)
        this.removeMemberAndUpdateGroup(group, group.get(current), reason)
        return result(leaving, ErrorCode.NONE)
      }
      if (group.isPendingMember(leaving.memberId)) {
        this.removePendingMemberAndUpdateGroup(group, leaving.memberId)
        return result(leaving, ErrorCode.NONE)
      }
      const error = this.validateCurrentMember(group, leaving.memberId, leaving.groupInstanceId)
      if (error !== ErrorCode.NONE) return result(leaving, error)
      this.removeMemberAndUpdateGroup(group, group.get(leaving.memberId), reason)
      return result(leaving, ErrorCode.NONE)
    })
    return { errorCode: ErrorCode.NONE, members }
  }

  // ---- membership helpers -------------------------------------------------------------------------

  /**
   * Checks that `memberId` is a member and, for a static member, that it still holds its
   * `group.instance.id` (else FENCED_INSTANCE_ID: a newer instance took over).
   */
  private validateCurrentMember(group: GroupMetadata, memberId: string, groupInstanceId: string | null): number {
    if (groupInstanceId !== null) {
      const current = group.currentStaticMemberId(groupInstanceId)
      if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID
      if (current !== memberId) return ErrorCode.FENCED_INSTANCE_ID
    }
    return group.has(memberId) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID
  }

  private removeMemberAndUpdateGroup(group: GroupMetadata, member: MemberMetadata, reason: string): void {
    // A new member may still be parked in JoinGroup; UNKNOWN_MEMBER_ID makes it retry if alive.
    this.dropMember(group, member, ErrorCode.UNKNOWN_MEMBER_ID)
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.maybePrepareRebalance(group, reason)
        return
      case 'PreparingRebalance':
        this.tryCompleteJoin(group)
        return
      case 'Empty':
      case 'Dead':
    }
  }

  private removePendingMemberAndUpdateGroup(group: GroupMetadata, memberId: string): void {
    this.clearPendingMemberTimer(group, memberId)
    group.remove(memberId)
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group)
  }

  /** Removes a member outright, answering whatever it has parked with `errorCode`. */
  private dropMember(group: GroupMetadata, member: MemberMetadata, errorCode: number): void {
    group.maybeInvokeJoinCallback(member, joinErrorResponse('', errorCode))
    group.maybeInvokeSyncCallback(member, syncErrorResponse(errorCode))
    if (member.heartbeatTimer !== null) clearTimeout(member.heartbeatTimer)
    member.heartbeatTimer = null
    group.remove(member.memberId)
  }

  private scheduleHeartbeatExpiration(group: GroupMetadata, member: MemberMetadata): void {
    this.scheduleExpiration(group, member, member.sessionTimeoutMs)
  }

  /** Restarts the member's expiration timer (Kafka's completeAndScheduleNextExpiration). */
  private scheduleExpiration(group: GroupMetadata, member: MemberMetadata, timeoutMs: number): void {
    if (member.heartbeatTimer !== null) clearTimeout(member.heartbeatTimer)
    member.heartbeatTimer = null
    // A member parked in a rebalance is not expected to heartbeat; its timer starts again when the
    // rebalance answers it.
    if (member.isExemptFromExpiry()) return
    member.heartbeatTimer = this.timer(() => {
      member.heartbeatTimer = null
      this.onExpireHeartbeat(group, member)
    }, timeoutMs)
  }

  private onExpireHeartbeat(group: GroupMetadata, member: MemberMetadata): void {
    if (this.status === 'closed' || group.is('Dead')) return
    if (group.members.get(member.memberId) !== member || member.isExemptFromExpiry()) return
    this.removeMemberAndUpdateGroup(group, member, `member ${member.memberId} expired after ${member.sessionTimeoutMs} ms without a heartbeat`)
  }

  private addPendingMemberExpiration(group: GroupMetadata, memberId: string, timeoutMs: number): void {
    this.clearPendingMemberTimer(group, memberId)
    group.pendingMemberTimers.set(memberId, this.timer(() => {
      group.pendingMemberTimers.delete(memberId)
      if (this.status !== 'closed' && !group.is('Dead') && group.isPendingMember(memberId)) this.removePendingMemberAndUpdateGroup(group, memberId)
    }, timeoutMs))
  }

  private clearPendingMemberTimer(group: GroupMetadata, memberId: string): void {
    const t = group.pendingMemberTimers.get(memberId)
    if (t !== undefined) clearTimeout(t)
    group.pendingMemberTimers.delete(memberId)
  }

  private onGroupLoaded(group: GroupMetadata): void {
    if (group.size > this.maxGroupSize) {
      this.prepareRebalance(group, `freshly loaded group is over capacity (${GROUP_MAX_SIZE} ${this.maxGroupSize})`)
    }
    for (const member of group.members.values()) this.scheduleHeartbeatExpiration(group, member)
  }

  // ---- offsets -------------------------------------------------------------------------------------

  /**
   * OffsetCommit: stores offsets in `__consumer_offsets` and resolves once they are appended.
   * Members commit with their generation; a commit with generation -1 and no member id is accepted
   * only while the group has no members (manual assignment, admin tools).
   */
  async commitOffsets(req: OffsetCommitRequest): Promise<OffsetCommitResponse> {
    const response: OffsetCommitResponse = {
      topics: req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.NONE })) })),
    }
    const setAll = (cells: Array<{ errorCode: number }>, errorCode: number): void => { for (const c of cells) c.errorCode = errorCode }
    const status = this.validateGroupStatus(req.groupId, true)
    if (status !== ErrorCode.NONE) {
      for (const t of response.topics) setAll(t.partitions, status)
      return response
    }
    // What Kafka's request handler checks before the coordinator sees the request.
    const valid: Array<{ cell: { errorCode: number }; topic: string; p: OffsetCommitPartition }> = []
    req.topics.forEach((t, ti) => {
      const count = this.topicPartitionCount(t.name)
      t.partitions.forEach((p, pi) => {
        const cell = (response.topics[ti] as OffsetCommitResponse['topics'][number]).partitions[pi] as { errorCode: number }
        if (count === undefined || !Number.isInteger(p.partitionIndex) || p.partitionIndex < 0 || p.partitionIndex >= count) {
          cell.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION
        } else if (!Number.isSafeInteger(p.committedOffset)) {
          cell.errorCode = ErrorCode.INVALID_REQUEST
        } else {
          valid.push({ cell, topic: t.name, p })
        }
      })
    })
    if (valid.length === 0) return response
    const cells = valid.map((v) => v.cell)
    let group = this.store.getGroup(req.groupId)
    if (group === undefined) {
      if (req.generationId >= 0) {
        // A generation for a group this coordinator does not know: a stale member.
        setAll(cells, ErrorCode.ILLEGAL_GENERATION)
        return response
      }
      // The group does not use group management: it exists only to hold offsets.
      group = this.store.addGroup(new GroupMetadata(req.groupId, 'Empty', this.now()))
    }
    const groupInstanceId = req.groupInstanceId ?? null
    const error = this.validateOffsetCommit(group, req.generationId, req.memberId, groupInstanceId)
    if (error !== ErrorCode.NONE) {
      setAll(cells, error)
      return response
    }
    switch (group.state) {
      case 'Empty':
        break
      case 'Stable':
      case 'PreparingRebalance':
        // Commits from the current generation are still accepted while preparing: the heartbeat
        // response is what tells the member to rejoin. A commit counts as a heartbeat.
        this.scheduleHeartbeatExpiration(group, group.get(req.memberId))
        break
      case 'CompletingRebalance':
        // The member has its new generation but not its assignment yet.
        setAll(cells, ErrorCode.REBALANCE_IN_PROGRESS)
        return response
      case 'Dead':
        setAll(cells, ErrorCode.COORDINATOR_NOT_AVAILABLE)
        return response
    }
    const now = this.now()
    const retention = req.retentionTimeMs ?? -1
    const entries: GroupOffset[] = []
    const entryCells: Array<{ errorCode: number }> = []
    for (const { cell, topic, p } of valid) {
      const metadata = p.committedMetadata ?? ''
      // Kafka compares the string's length (UTF-16 units), not its UTF-8 bytes, despite the name.
      if (metadata.length > this.offsetMetadataMaxBytes) {
        cell.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE
        continue
      }
      entries.push({
        topic,
        partition: p.partitionIndex,
        value: {
          offset: p.committedOffset,
          leaderEpoch: p.committedLeaderEpoch ?? -1,
          metadata,
          commitTimestamp: now,
          expireTimestamp: retention === -1 ? null : now + retention,
        },
      })
      entryCells.push(cell)
    }
    const errorCode = await this.store.storeOffsets(group, entries)
    setAll(entryCells, errorCode)
    return response
  }

  private validateOffsetCommit(group: GroupMetadata, generationId: number, memberId: string, groupInstanceId: string | null): number {
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE
    // Generation -1 on an empty group: an admin client or a consumer without group management.
    if (generationId < 0 && group.is('Empty')) return ErrorCode.NONE
    if (generationId >= 0 || memberId !== '' || groupInstanceId !== null) {
      const error = this.validateCurrentMember(group, memberId, groupInstanceId)
      if (error !== ErrorCode.NONE) return error
      return generationId === group.generationId ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION
    }
    // Only members may commit to a group that has members.
    return group.is('Empty') ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID
  }

  /** OffsetFetch: committed offsets whatever the group state (-1 and "" for none). */
  fetchOffsets(req: OffsetFetchRequest): OffsetFetchResponse {
    const status = this.validateGroupStatus(req.groupId, true)
    if (status !== ErrorCode.NONE) return { errorCode: status, topics: [] }
    const wanted = req.topics === null ? null : req.topics.flatMap((t) => t.partitionIndexes.map((partition) => ({ topic: t.name, partition })))
    const fetched = this.store.getOffsets(req.groupId, req.requireStable ?? false, wanted)
    const byTopic = new Map<string, OffsetFetchPartition[]>()
    for (const f of fetched) {
      let list = byTopic.get(f.topic)
      if (list === undefined) {
        list = []
        byTopic.set(f.topic, list)
      }
      list.push({ partitionIndex: f.partition, committedOffset: f.offset, committedLeaderEpoch: f.leaderEpoch, metadata: f.metadata, errorCode: f.errorCode })
    }
    return { errorCode: ErrorCode.NONE, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) }
  }

  /**
   * OffsetDelete: removes committed offsets. A group with members keeps the offsets of topics
   * its members subscribe to (GROUP_SUBSCRIBED_TO_TOPIC).
   */
  async deleteOffsets(req: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
    const status = this.validateGroupStatus(req.groupId, true)
    if (status !== ErrorCode.NONE) return { errorCode: status, topics: [] }
    const group = this.store.getGroup(req.groupId)
    if (group === undefined || group.is('Dead')) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] }
    if (!group.is('Empty') && !group.isConsumerGroup) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] }
    const eligible: Array<{ topic: string; partition: number }> = []
    const topics = req.topics.map((t) => {
      const exists = this.topicPartitionCount(t.name) !== undefined
      const subscribed = !group.is('Empty') && group.isSubscribedToTopic(t.name)
      return {
        name: t.name,
        partitions: t.partitions.map(({ partitionIndex }) => {
          if (!exists) return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }
          if (subscribed) return { partitionIndex, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }
          eligible.push({ topic: t.name, partition: partitionIndex })
          return { partitionIndex, errorCode: ErrorCode.NONE }
        }),
      }
    })
    if (eligible.length > 0) await this.store.cleanupGroupMetadata([group], (g) => g.removeOffsets(eligible))
    return { errorCode: ErrorCode.NONE, topics }
  }

  /**
   * Sets a group's offsets for `kafka-consumer-groups --reset-offsets`: allowed only while the group
   * has no active members (Empty, or unknown). Throws NON_EMPTY_GROUP otherwise, with the message
   * Kafka's tool prints, and rejects with the coordinator's error when it is not serving. The
   * per-partition results (e.g. UNKNOWN_TOPIC_OR_PARTITION) are returned, not thrown.
   */
  async resetOffsets(req: ResetOffsetsRequest): Promise<OffsetCommitResponse> {
    throwIfError(this.validateGroupStatus(req.groupId, true), `reset offsets of group ${req.groupId}`)
    const group = this.store.getGroup(req.groupId)
    if (group !== undefined && !group.is('Empty') && !group.is('Dead')) {
      throw new NonEmptyGroupError(`Assignments can only be reset if the group '${req.groupId}' is inactive, but the current state is ${group.state}.`)
    }
    return this.commitOffsets({
      groupId: req.groupId,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: req.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.offset,
          committedLeaderEpoch: p.leaderEpoch ?? -1,
          committedMetadata: p.metadata ?? null,
        })),
      })),
    })
  }

  /**
   * Removes offsets past `offsets.retention.ms` (see GroupMetadata.removeExpiredOffsets) and the
   * empty groups left without offsets, writing tombstones. Runs every
   * `offsets.retention.check.interval.ms`; callable directly. Returns the number of offsets removed.
   */
  async cleanupExpiredOffsets(): Promise<number> {
    if (this.status !== 'active') return 0
    return this.store.cleanupExpiredOffsets(this.offsetsRetentionMs)
  }

  // ---- admin ---------------------------------------------------------------------------------------

  /**
   * DescribeGroups. Member metadata and assignments are only shown for Stable groups (as Kafka);
   * an unknown group is described as Dead with error 0, as DescribeGroups v0-v5 answer.
   */
  describeGroups(groupIds: string[]): DescribedGroup[] {
    return groupIds.map((groupId): DescribedGroup => {
      const base = { groupId, protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED }
      const status = this.validateGroupStatus(groupId, true)
      if (status !== ErrorCode.NONE) return { ...base, errorCode: status, groupState: '' }
      const group = this.store.getGroup(groupId)
      if (group === undefined) return { ...base, errorCode: ErrorCode.NONE, groupState: 'Dead' }
      const stable = group.is('Stable') && group.protocolName !== null
      const protocol = group.protocolName ?? ''
      const members = [...group.members.values()].map((m): DescribedGroupMember => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable ? m.metadata(protocol) : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
        assignment: stable && group.isConsumerGroup ? decodedAssignment(m.assignment) : null,
      }))
      return { ...base, errorCode: ErrorCode.NONE, groupState: group.state, protocolType: group.protocolType ?? '', protocolData: stable ? protocol : '', members }
    })
  }

  /**
   * ListGroups: every group, optionally only those in `states` (Kafka's state names, matched
   * case-insensitively). Empty while the coordinator is not serving.
   */
  listGroups(states?: string[]): ListedGroup[] {
    if (this.status !== 'active') return []
    const wanted = new Set((states ?? []).map((s) => s.toLowerCase()))
    return this.store.allGroups()
      .filter((g) => wanted.size === 0 || wanted.has(g.state.toLowerCase()))
      .map((g) => ({ groupId: g.groupId, protocolType: g.protocolType ?? '', groupState: g.state }))
  }

  /**
   * DeleteGroups: deletes empty groups with all their offsets (tombstones in `__consumer_offsets`).
   * NON_EMPTY_GROUP for a group with members, GROUP_ID_NOT_FOUND for an unknown one.
   */
  async deleteGroups(groupIds: string[]): Promise<DeleteGroupsResult[]> {
    const results = new Map<string, number>()
    const eligible: GroupMetadata[] = []
    for (const groupId of groupIds) {
      const status = this.validateGroupStatus(groupId, true)
      const group = this.store.getGroup(groupId)
      if (status !== ErrorCode.NONE) results.set(groupId, status)
      else if (group === undefined || group.is('Dead')) results.set(groupId, ErrorCode.GROUP_ID_NOT_FOUND)
      else if (!group.is('Empty')) results.set(groupId, ErrorCode.NON_EMPTY_GROUP)
      else if (!eligible.includes(group)) {
        for (const id of [...group.pendingMembers]) this.clearPendingMemberTimer(group, id)
        group.transitionTo('Dead', this.now())
        eligible.push(group)
      }
    }
    if (eligible.length > 0) {
      await this.store.cleanupGroupMetadata(eligible, (g) => g.removeAllOffsets())
      for (const g of eligible) results.set(g.groupId, ErrorCode.NONE)
    }
    return groupIds.map((groupId) => ({ groupId, errorCode: results.get(groupId) ?? ErrorCode.NONE }))
  }

  /**
   * Stops serving: cancels every timer and answers parked JoinGroup/SyncGroup requests with
   * NOT_COORDINATOR (as Kafka does when it unloads a group). Later requests get
   * COORDINATOR_NOT_AVAILABLE. Appends already handed to the log are not awaited.
   */
  close(): void {
    if (this.status === 'closed') return
    this.status = 'closed'
    if (this.retentionTimer !== null) clearInterval(this.retentionTimer)
    this.retentionTimer = null
    for (const group of this.store.allGroups()) {
      this.cancelJoinOperation(group)
      if (group.syncOperation !== null) clearTimeout(group.syncOperation.timer)
      group.syncOperation = null
      for (const id of [...group.pendingMemberTimers.keys()]) this.clearPendingMemberTimer(group, id)
      for (const member of group.members.values()) {
        if (member.heartbeatTimer !== null) clearTimeout(member.heartbeatTimer)
        member.heartbeatTimer = null
        group.maybeInvokeJoinCallback(member, joinErrorResponse(member.memberId, ErrorCode.NOT_COORDINATOR))
        group.maybeInvokeSyncCallback(member, syncErrorResponse(ErrorCode.NOT_COORDINATOR))
      }
    }
  }

  /**
   * Kafka's `validateGroupStatus`: a valid group id (empty allowed only for the offset and admin
   * APIs, for compatibility) and a coordinator that is serving.
   */
  private validateGroupStatus(groupId: string, allowEmptyGroupId: boolean): number {
    if (typeof groupId !== 'string' || (!allowEmptyGroupId && groupId.length === 0)) return ErrorCode.INVALID_GROUP_ID
    switch (this.status) {
      case 'active':
        return ErrorCode.NONE
      case 'closed':
        return ErrorCode.COORDINATOR_NOT_AVAILABLE
      case 'unloaded':
      case 'loading':
        return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS
    }
  }

  private timer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
    const t = setTimeout(fn, Math.min(Math.max(ms, 0), MAX_TIMER_MS))
    t.unref?.()
    return t
  }
}

function decodedAssignment(bytes: Buffer): TopicPartitions[] | null {
  try {
    return decodeAssignment(bytes).assignedPartitions
  } catch {
    // The leader is free to send any bytes; describe shows the raw bytes and no decoded form.
    return null
  }
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v < 0) throw new InvalidConfigError(`${name} must be a non-negative number, got ${value}`)
  return v
}

function positive(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v < 1) throw new InvalidConfigError(`${name} must be at least 1, got ${value}`)
  return v
}
