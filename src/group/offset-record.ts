/**
 * Keys and values of the records in `__consumer_offsets`, byte-compatible with Kafka's group
 * coordinator (group-coordinator/src/main/resources/common/message/*.json). Every key and value
 * starts with an int16 version; the key version says what the record is:
 *
 * ```
 * key   v0/v1  OffsetCommitKey    group string, topic string, partition int32     (written: v1)
 * key   v2     GroupMetadataKey   group string                                    (written: v2)
 * key   v3+    KIP-848 consumer-group records: not used by the classic protocol, skipped
 *
 * value OffsetCommitValue  v0: offset int64, metadata string, commitTimestamp int64
 *                          v1: v0 + expireTimestamp int64          (written when a commit
 *                                                                    carries retentionTimeMs)
 *                          v2: same as v0
 *                          v3: offset, leaderEpoch int32, metadata, commitTimestamp (written)
 *                          v4: v3, flexible (compact strings, tagged fields)      (read only)
 * value GroupMetadataValue v0: protocolType string, generation int32, protocol string?,
 *                              leader string?, members [MemberMetadata]
 *                          v2+: currentStateTimestamp int64 before members
 *                          v3: written; v4 flexible, read only
 *       MemberMetadata     memberId string, groupInstanceId string? (v3+), clientId string,
 *                          clientHost string, rebalanceTimeout int32 (v1+), sessionTimeout int32,
 *                          subscription bytes, assignment bytes
 * ```
 *
 * A null value is a tombstone: the offset (or the whole group) was deleted, and log compaction
 * eventually drops both the tombstone and the records it shadows.
 */
import { CorruptRecordError, type ShardlogError } from '../errors.js'
import { StructReader, StructWriter } from './consumer-protocol.js'

/** Key version Kafka writes for OffsetCommitKey. */
export const OFFSET_COMMIT_KEY_VERSION = 1
/** Key version of GroupMetadataKey. */
export const GROUP_METADATA_KEY_VERSION = 2
/** OffsetCommitValue version written for a commit without an explicit expire timestamp. */
export const OFFSET_COMMIT_VALUE_VERSION = 3
/** OffsetCommitValue version written for a commit with an expire timestamp (OffsetCommit v2-v4 retentionTimeMs). */
export const OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY = 1
/** GroupMetadataValue version written. */
export const GROUP_METADATA_VALUE_VERSION = 3

/** What an `__consumer_offsets` key names. */
export type OffsetsRecordKey =
  | { type: 'offsetCommit'; group: string; topic: string; partition: number }
  | { type: 'groupMetadata'; group: string }
  /** A record type of a newer coordinator (KIP-848 and later) that the classic protocol ignores. */
  | { type: 'unknown'; version: number }

/** A committed offset as stored (Kafka's OffsetAndMetadata). */
export interface OffsetCommitValue {
  offset: number
  /** -1 when the committer did not know the leader epoch. */
  leaderEpoch: number
  metadata: string
  /** When the coordinator accepted the commit (ms since epoch). */
  commitTimestamp: number
  /** Explicit expiry from OffsetCommit's retentionTimeMs, or null for `offsets.retention.ms`. */
  expireTimestamp: number | null
}

/** One member in a GroupMetadataValue. */
export interface GroupMetadataMemberValue {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  rebalanceTimeoutMs: number
  sessionTimeoutMs: number
  /** The member's protocol metadata for the group's selected protocol. */
  subscription: Buffer
  assignment: Buffer
}

/** A group's persisted state (Kafka's GroupMetadataValue). */
export interface GroupMetadataValue {
  /** "" when the group never had a protocol type. */
  protocolType: string
  generation: number
  protocol: string | null
  leader: string | null
  /** When the group entered its current state, or -1 when unknown (v0/v1 records). */
  currentStateTimestamp: number
  members: GroupMetadataMemberValue[]
}

/** Encodes the key of a committed offset (OffsetCommitKey, key version 1). */
export function encodeOffsetCommitKey(group: string, topic: string, partition: number): Buffer {
  return new StructWriter().int16(OFFSET_COMMIT_KEY_VERSION).string(group).string(topic).int32(partition).toBuffer()
}

/** Encodes the key of a group's metadata (GroupMetadataKey, key version 2). */
export function encodeGroupMetadataKey(group: string): Buffer {
  return new StructWriter().int16(GROUP_METADATA_KEY_VERSION).string(group).toBuffer()
}

/** Decodes any `__consumer_offsets` key; throws CORRUPT_MESSAGE for malformed bytes. */
export function decodeOffsetsRecordKey(buf: Buffer): OffsetsRecordKey {
  const r = reader(buf, 'OffsetsRecordKey')
  const version = r.int16()
  if (version === 0 || version === 1) return { type: 'offsetCommit', group: r.string(), topic: r.string(), partition: r.int32() }
  if (version === GROUP_METADATA_KEY_VERSION) return { type: 'groupMetadata', group: r.string() }
  if (version < 0) throw corrupt(`OffsetsRecordKey: negative version ${version}`)
  return { type: 'unknown', version }
}

/**
 * Encodes a committed offset: version 3, or version 1 (the only one with an expire timestamp)
 * when `expireTimestamp` is set, as Kafka's `GroupMetadataManager.offsetCommitValue` does.
 */
export function encodeOffsetCommitValue(value: OffsetCommitValue): Buffer {
  const w = new StructWriter()
  if (value.expireTimestamp !== null) {
    return w.int16(OFFSET_COMMIT_VALUE_VERSION_WITH_EXPIRY).int64(value.offset).string(value.metadata)
      .int64(value.commitTimestamp).int64(value.expireTimestamp).toBuffer()
  }
  return w.int16(OFFSET_COMMIT_VALUE_VERSION).int64(value.offset).int32(value.leaderEpoch).string(value.metadata)
    .int64(value.commitTimestamp).toBuffer()
}

/** Decodes an OffsetCommitValue of any version 0-4. */
export function decodeOffsetCommitValue(buf: Buffer): OffsetCommitValue {
  const r = reader(buf, 'OffsetCommitValue')
  const version = r.int16()
  switch (version) {
    case 0:
    case 2:
      return { offset: r.int64(), leaderEpoch: -1, metadata: r.string(), commitTimestamp: r.int64(), expireTimestamp: null }
    case 1: {
      const offset = r.int64()
      const metadata = r.string()
      const commitTimestamp = r.int64()
      const expire = r.int64()
      return { offset, leaderEpoch: -1, metadata, commitTimestamp, expireTimestamp: expire === -1 ? null : expire }
    }
    case 3:
      return { offset: r.int64(), leaderEpoch: r.int32(), metadata: r.string(), commitTimestamp: r.int64(), expireTimestamp: null }
    case 4: {
      const value = { offset: r.int64(), leaderEpoch: r.int32(), metadata: r.compactString(), commitTimestamp: r.int64(), expireTimestamp: null }
      r.skipTaggedFields()
      return value
    }
    default:
      throw corrupt(`OffsetCommitValue: unknown version ${version}`)
  }
}

/** Encodes a group's state as GroupMetadataValue version 3. */
export function encodeGroupMetadataValue(value: GroupMetadataValue): Buffer {
  const w = new StructWriter().int16(GROUP_METADATA_VALUE_VERSION)
  w.string(value.protocolType).int32(value.generation).nullableString(value.protocol).nullableString(value.leader)
  w.int64(value.currentStateTimestamp)
  w.array(value.members, (m) => {
    w.string(m.memberId).nullableString(m.groupInstanceId).string(m.clientId).string(m.clientHost)
    w.int32(m.rebalanceTimeoutMs).int32(m.sessionTimeoutMs).nullableBytes(m.subscription).nullableBytes(m.assignment)
  })
  return w.toBuffer()
}

/** Decodes a GroupMetadataValue of any version 0-4. */
export function decodeGroupMetadataValue(buf: Buffer): GroupMetadataValue {
  const r = reader(buf, 'GroupMetadataValue')
  const version = r.int16()
  if (version < 0 || version > 4) throw corrupt(`GroupMetadataValue: unknown version ${version}`)
  if (version === 4) return decodeFlexibleGroupMetadataValue(r)
  const protocolType = r.string()
  const generation = r.int32()
  const protocol = r.nullableString()
  const leader = r.nullableString()
  const currentStateTimestamp = version >= 2 ? r.int64() : -1
  const members = r.array((): GroupMetadataMemberValue => {
    const memberId = r.string()
    const groupInstanceId = version >= 3 ? r.nullableString() : null
    const clientId = r.string()
    const clientHost = r.string()
    const rebalanceTimeout = version >= 1 ? r.int32() : null
    const sessionTimeoutMs = r.int32()
    // v0 had no rebalance timeout: Kafka used the session timeout in its place.
    const rebalanceTimeoutMs = rebalanceTimeout ?? sessionTimeoutMs
    return { memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs, subscription: r.bytes(), assignment: r.bytes() }
  })
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members }
}

function decodeFlexibleGroupMetadataValue(r: StructReader): GroupMetadataValue {
  const protocolType = r.compactString()
  const generation = r.int32()
  const protocol = r.compactNullableString()
  const leader = r.compactNullableString()
  const currentStateTimestamp = r.int64()
  const members = r.compactArray((): GroupMetadataMemberValue => {
    const member = {
      memberId: r.compactString(),
      groupInstanceId: r.compactNullableString(),
      clientId: r.compactString(),
      clientHost: r.compactString(),
      rebalanceTimeoutMs: r.int32(),
      sessionTimeoutMs: r.int32(),
      subscription: r.compactBytes(),
      assignment: r.compactBytes(),
    }
    r.skipTaggedFields()
    return member
  })
  r.skipTaggedFields()
  return { protocolType, generation, protocol, leader, currentStateTimestamp, members }
}

function reader(buf: Buffer, what: string): StructReader {
  return new StructReader(buf, what, corrupt)
}

function corrupt(message: string): ShardlogError {
  return new CorruptRecordError(message)
}
