/**
 * The groups' durable side, as Kafka's `GroupMetadataManager`: the cache of all groups, and
 * their records in the compacted internal topic `__consumer_offsets` (committed offsets and
 * group metadata, encoded by offset-record.ts, one partition per group by
 * partition-for-group.ts). Offsets and group state survive a restart because {@link load}
 * replays that topic.
 *
 * The store does not own the log: it writes and reads through the {@link OffsetsLog} port, which
 * the broker implements over the real partition logs (the normal produce path, so replication
 * and compaction apply as to any topic).
 *
 * Lives on the main thread. Appends are awaited; callers re-check group state after them.
 */
import { CorruptRecordError, isShardlogError } from '../errors.js'
import { ErrorCode, GroupMetadata, type GroupOffset } from './group-metadata.js'
import { MemberMetadata } from './member-metadata.js'
import {
  decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsRecordKey, encodeGroupMetadataKey,
  encodeGroupMetadataValue, encodeOffsetCommitKey, encodeOffsetCommitValue,
  type GroupMetadataValue, type OffsetCommitValue,
} from './offset-record.js'
import { partitionForGroup } from './partition-for-group.js'

/** One record of `__consumer_offsets` to append; a null value is a tombstone. */
export interface OffsetsLogRecord {
  key: Buffer
  value: Buffer | null
}

/**
 * Port to the `__consumer_offsets` partitions, implemented by the broker over the real logs.
 * `append` resolves once the records are durable by the topic's own rules (the group coordinator
 * answers only after that) and rejects with a ShardlogError on failure.
 */
export interface OffsetsLog {
  append(partition: number, records: Array<{ key: Buffer; value: Buffer | null }>): Promise<void>
  /** Every record of the partition in offset order (after compaction, if any ran). */
  readAll(partition: number): AsyncIterable<{ key: Buffer | null; value: Buffer | null }>
}

/** Options of {@link OffsetStore}. */
export interface OffsetStoreOptions {
  log: OffsetsLog
  /** `offsets.topic.num.partitions`. */
  numPartitions: number
  now: () => number
}

/** A committed offset as OffsetFetch returns it. */
export interface FetchedOffset {
  topic: string
  partition: number
  /** -1 when nothing is committed. */
  offset: number
  leaderEpoch: number
  /** "" when nothing is committed (Kafka's NO_METADATA). */
  metadata: string
  errorCode: number
}

const EMPTY = Buffer.alloc(0)

/** The group cache and its `__consumer_offsets` persistence; see the file comment. */
export class OffsetStore {
  private readonly log: OffsetsLog
  private readonly numPartitions: number
  private readonly now: () => number
  private readonly groups = new Map<string, GroupMetadata>()

  constructor(opts: OffsetStoreOptions) {
    this.log = opts.log
    this.numPartitions = opts.numPartitions
    this.now = opts.now
    // Validates the partition count once, here, rather than on the first request.
    partitionForGroup('', this.numPartitions)
  }

  /** The `__consumer_offsets` partition of `groupId`. */
  partitionFor(groupId: string): number {
    return partitionForGroup(groupId, this.numPartitions)
  }

  /** The cached group, if any. */
  getGroup(groupId: string): GroupMetadata | undefined {
    return this.groups.get(groupId)
  }

  /** Caches `group` unless one with its id exists; returns the cached one. */
  addGroup(group: GroupMetadata): GroupMetadata {
    const existing = this.groups.get(group.groupId)
    if (existing !== undefined) return existing
    this.groups.set(group.groupId, group)
    return group
  }

  /** Every cached group. */
  allGroups(): GroupMetadata[] {
    return [...this.groups.values()]
  }

  /**
   * Persists the group's metadata with `assignment` (member id -> assignment bytes) as a
   * GroupMetadataValue. Resolves with an error code for the group protocol (0 on success), mapped
   * from the append failure as Kafka's `storeGroup` does.
   */
  async storeGroup(group: GroupMetadata, assignment: ReadonlyMap<string, Buffer>): Promise<number> {
    const value = encodeGroupMetadataValue(groupMetadataValueOf(group, assignment))
    try {
      await this.log.append(this.partitionFor(group.groupId), [{ key: encodeGroupMetadataKey(group.groupId), value }])
      return ErrorCode.NONE
    } catch (err) {
      return storeGroupErrorCode(err)
    }
  }

  /**
   * Appends committed offsets as one batch, staging them on the group until the append resolves
   * (so OffsetFetch with requireStable sees UNSTABLE_OFFSET_COMMIT meanwhile). Resolves with one
   * error code for all of them, mapped as Kafka's `maybeConvertOffsetCommitError`.
   */
  async storeOffsets(group: GroupMetadata, entries: readonly GroupOffset[]): Promise<number> {
    if (entries.length === 0) return ErrorCode.NONE
    const records = entries.map((e) => ({
      key: encodeOffsetCommitKey(group.groupId, e.topic, e.partition),
      value: encodeOffsetCommitValue(e.value),
    }))
    group.prepareOffsetCommit(entries)
    try {
      await this.log.append(this.partitionFor(group.groupId), records)
    } catch (err) {
      for (const e of entries) group.failPendingOffsetWrite(e)
      return commitErrorCode(err)
    }
    for (const e of entries) group.completePendingOffsetWrite(e)
    return ErrorCode.NONE
  }

  /**
   * Committed offsets of `groupId` for `partitions` (null = every committed partition). Offsets
   * are returned whatever the group state, since simple consumers commit without membership.
   */
  getOffsets(groupId: string, requireStable: boolean, partitions: ReadonlyArray<{ topic: string; partition: number }> | null): FetchedOffset[] {
    const group = this.groups.get(groupId)
    if (group === undefined || group.is('Dead')) return (partitions ?? []).map((tp) => noOffset(tp.topic, tp.partition))
    const wanted = partitions ?? group.allOffsets().map(({ topic, partition }) => ({ topic, partition }))
    return wanted.map(({ topic, partition }) => {
      if (requireStable && group.hasPendingOffsetCommit(topic, partition)) {
        return { ...noOffset(topic, partition), errorCode: ErrorCode.UNSTABLE_OFFSET_COMMIT }
      }
      const v = group.offset(topic, partition)
      if (v === undefined) return noOffset(topic, partition)
      return { topic, partition, offset: v.offset, leaderEpoch: v.leaderEpoch, metadata: v.metadata, errorCode: ErrorCode.NONE }
    })
  }

  /**
   * Kafka's `cleanupGroupMetadata`: removes the offsets `selector` picks from each group, turns
   * groups left Empty without offsets into Dead ones, drops Dead groups from the cache, and
   * appends the tombstones. Returns the number of offsets removed.
   */
  async cleanupGroupMetadata(groups: readonly GroupMetadata[], selector: (group: GroupMetadata) => GroupOffset[]): Promise<number> {
    let removedCount = 0
    for (const group of groups) {
      const removed = selector(group)
      if (group.is('Empty') && !group.hasOffsets()) group.transitionTo('Dead', this.now())
      const tombstones: OffsetsLogRecord[] = removed.map((o) => ({ key: encodeOffsetCommitKey(group.groupId, o.topic, o.partition), value: null }))
      if (group.is('Dead') && this.groups.get(group.groupId) === group) {
        this.groups.delete(group.groupId)
        // Generation 0 means the group only ever stored offsets and never wrote metadata.
        if (group.generationId > 0) tombstones.push({ key: encodeGroupMetadataKey(group.groupId), value: null })
      }
      removedCount += removed.length
      if (tombstones.length === 0) continue
      try {
        await this.log.append(this.partitionFor(group.groupId), tombstones)
      } catch {
        // As in Kafka, the cache already forgot these offsets and a failed tombstone is not
        // retried: a later cleanup or delete writes it again if the records come back on reload.
      }
    }
    return removedCount
  }

  /** Removes offsets past `offsets.retention.ms` from every group (Kafka's periodic expiration task). */
  cleanupExpiredOffsets(retentionMs: number): Promise<number> {
    const now = this.now()
    return this.cleanupGroupMetadata(this.allGroups(), (g) => g.removeExpiredOffsets(now, retentionMs))
  }

  /**
   * Replays every `__consumer_offsets` partition in offset order and rebuilds the cache: the last
   * record per key wins, tombstones delete. Groups with members come back Stable (their members
   * must heartbeat again within their session timeout), groups without Empty, and offsets without
   * group metadata form offsets-only groups. Returns the groups loaded.
   * Throws CORRUPT_MESSAGE for a record that is not a valid group coordinator record.
   */
  async load(): Promise<GroupMetadata[]> {
    const offsets = new Map<string, Map<string, Map<number, OffsetCommitValue>>>()
    const metadata = new Map<string, GroupMetadataValue>()
    for (let partition = 0; partition < this.numPartitions; partition++) {
      let index = 0
      for await (const record of this.log.readAll(partition)) {
        try {
          applyRecord(record, offsets, metadata)
        } catch (err) {
          throw new CorruptRecordError(`__consumer_offsets-${partition} record #${index}: ${(err as Error).message}`, { cause: err })
        }
        index++
      }
    }
    const loaded: GroupMetadata[] = []
    const now = this.now()
    for (const [groupId, value] of metadata) loaded.push(groupFromValue(groupId, value, now))
    for (const [groupId, byTopic] of offsets) {
      // Offsets without group metadata form an offsets-only group, unless all were tombstoned.
      const hasOffsets = [...byTopic.values()].some((byPartition) => byPartition.size > 0)
      if (hasOffsets && !metadata.has(groupId)) loaded.push(new GroupMetadata(groupId, 'Empty', now))
    }
    for (const group of loaded) {
      for (const [topic, byPartition] of offsets.get(group.groupId) ?? []) {
        for (const [partition, value] of byPartition) group.initializeOffset(topic, partition, value)
      }
      this.groups.set(group.groupId, group)
    }
    return loaded
  }
}

function applyRecord(record: { key: Buffer | null; value: Buffer | null },
  offsets: Map<string, Map<string, Map<number, OffsetCommitValue>>>, metadata: Map<string, GroupMetadataValue>): void {
  if (record.key === null) throw new CorruptRecordError('a group coordinator record has a null key')
  const key = decodeOffsetsRecordKey(record.key)
  if (key.type === 'offsetCommit') {
    let byTopic = offsets.get(key.group)
    if (record.value === null) {
      byTopic?.get(key.topic)?.delete(key.partition)
      return
    }
    if (byTopic === undefined) {
      byTopic = new Map()
      offsets.set(key.group, byTopic)
    }
    let byPartition = byTopic.get(key.topic)
    if (byPartition === undefined) {
      byPartition = new Map()
      byTopic.set(key.topic, byPartition)
    }
    byPartition.set(key.partition, decodeOffsetCommitValue(record.value))
  } else if (key.type === 'groupMetadata') {
    if (record.value === null) metadata.delete(key.group)
    else metadata.set(key.group, decodeGroupMetadataValue(record.value))
  }
  // Record types of newer coordinators (KIP-848 consumer groups, share groups) are not ours.
}

function groupFromValue(groupId: string, value: GroupMetadataValue, now: number): GroupMetadata {
  if (value.members.length > 0 && value.protocol === null) {
    throw new CorruptRecordError(`group ${groupId} has ${value.members.length} members but no protocol`)
  }
  const group = new GroupMetadata(groupId, value.members.length === 0 ? 'Empty' : 'Stable', now)
  group.protocolType = value.protocolType === '' ? null : value.protocolType
  for (const m of value.members) {
    const member = new MemberMetadata({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      protocolType: value.protocolType,
      protocols: [{ name: value.protocol as string, metadata: m.subscription }],
    })
    member.assignment = m.assignment
    group.add(member, null)
  }
  group.generationId = value.generation
  group.protocolName = value.protocol
  group.leaderId = value.leader
  group.currentStateTimestamp = value.currentStateTimestamp === -1 ? null : value.currentStateTimestamp
  group.subscribedTopics = group.computeSubscribedTopics()
  return group
}

function groupMetadataValueOf(group: GroupMetadata, assignment: ReadonlyMap<string, Buffer>): GroupMetadataValue {
  const protocol = group.protocolName
  return {
    protocolType: group.protocolType ?? '',
    generation: group.generationId,
    protocol,
    leader: group.leaderId,
    currentStateTimestamp: group.currentStateTimestamp ?? -1,
    members: [...group.members.values()].map((m) => ({
      memberId: m.memberId,
      groupInstanceId: m.groupInstanceId,
      clientId: m.clientId,
      clientHost: m.clientHost,
      rebalanceTimeoutMs: m.rebalanceTimeoutMs,
      sessionTimeoutMs: m.sessionTimeoutMs,
      subscription: protocol === null ? EMPTY : m.metadata(protocol),
      assignment: assignment.get(m.memberId) ?? EMPTY,
    })),
  }
}

function noOffset(topic: string, partition: number): FetchedOffset {
  return { topic, partition, offset: -1, leaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }
}

function appendErrorCode(err: unknown): number {
  return isShardlogError(err) ? err.errorCode : ErrorCode.UNKNOWN_SERVER_ERROR
}

/** Kafka's mapping of a failed group metadata append to the code a JoinGroup/SyncGroup gets. */
function storeGroupErrorCode(err: unknown): number {
  const code = appendErrorCode(err)
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.REBALANCE_IN_PROGRESS
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.UNKNOWN_SERVER_ERROR
    default:
      return code
  }
}

/** Kafka's mapping of a failed offset commit append to the code each partition gets. */
function commitErrorCode(err: unknown): number {
  const code = appendErrorCode(err)
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
      return ErrorCode.NOT_COORDINATOR
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return ErrorCode.INVALID_COMMIT_OFFSET_SIZE
    default:
      return code
  }
}
