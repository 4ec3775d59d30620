/**
 * Which `__consumer_offsets` partition holds a group's records: Kafka's
 * `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`. The hash is Java's
 * `String.hashCode` over UTF-16 code units with int32 overflow, and `Utils.abs` maps
 * `Integer.MIN_VALUE` to 0 (where `Math.abs` would stay negative), so a group lands on the same
 * partition number as on a Kafka cluster with the same partition count.
 */
import { InvalidConfigError } from '../errors.js'

/** Kafka's internal topic that stores committed offsets and group metadata. */
export const OFFSETS_TOPIC_NAME = '__consumer_offsets'

/** Config name for the partition count of {@link OFFSETS_TOPIC_NAME}. */
export const OFFSETS_TOPIC_NUM_PARTITIONS = 'offsets.topic.num.partitions'
/** Kafka's default for `offsets.topic.num.partitions`. */
export const DEFAULT_OFFSETS_TOPIC_NUM_PARTITIONS = 50

/** Java's `String.hashCode()`: `s[0]*31^(n-1) + ... + s[n-1]` in int32 arithmetic. */
export function javaStringHashCode(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0
  return h
}

/** Kafka's `Utils.abs`: absolute value of an int32 where `Integer.MIN_VALUE` becomes 0. */
export function kafkaAbs(n: number): number {
  return n === -0x8000_0000 ? 0 : Math.abs(n)
}

/**
 * The `__consumer_offsets` partition of `groupId` (Kafka's `GroupMetadataManager.partitionFor`).
 * @param numPartitions the topic's partition count (`offsets.topic.num.partitions`), at least 1
 */
export function partitionForGroup(groupId: string, numPartitions = DEFAULT_OFFSETS_TOPIC_NUM_PARTITIONS): number {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new InvalidConfigError(`${OFFSETS_TOPIC_NUM_PARTITIONS} must be a positive integer, got ${numPartitions}`)
  }
  return kafkaAbs(javaStringHashCode(groupId)) % numPartitions
}
