/**
 * Names of everything the storage layer puts on disk, after Kafka's `LogFileUtils` and
 * `Topic`:
 *
 * ```
 * <broker dir>/<topic>-<partition>/                  one partition log
 *     00000000000000000000.log                        record batches (base offset 0)
 *     00000000000000000000.index                      offset index of that segment
 *     00000000000000000000.timeindex                  time index of that segment
 *     <name>.cleaned / <name>.swap / <name>.deleted   segment files mid-compaction / mid-delete
 *     recovery-point-offset-checkpoint                offsets below this are fsynced
 *     log-start-offset-checkpoint                     DeleteRecords / retention low watermark
 *     .kafka_cleanshutdown                            the log was closed cleanly (per partition)
 * <broker dir>/<topic>-<partition>.<uuid>-delete/    a removed partition, being deleted
 * ```
 *
 * Topic names are checked with Kafka's rules before they become directory names, which also
 * keeps a name from escaping the data directory (`/` and `..` are refused).
 */
import { join } from 'node:path'
import { InvalidPartitionsError, InvalidTopicError } from '../errors.js'

/** Record batches of a segment. */
export const LOG_FILE_SUFFIX = '.log'
/** Offset index of a segment (relative offset -> file position). */
export const INDEX_FILE_SUFFIX = '.index'
/** Time index of a segment (timestamp -> relative offset). */
export const TIME_INDEX_FILE_SUFFIX = '.timeindex'
/** A segment written by the cleaner, not yet part of the log (deleted on load). */
export const CLEANED_FILE_SUFFIX = '.cleaned'
/** A cleaned segment committed to replace older ones (the swap is completed on load). */
export const SWAP_FILE_SUFFIX = '.swap'
/** A segment being deleted (deleted on load). */
export const DELETED_FILE_SUFFIX = '.deleted'
/** Suffix of a removed partition directory awaiting deletion (Kafka's `-delete`). */
export const DELETE_DIR_SUFFIX = '-delete'
/**
 * Clean-shutdown marker. Kafka keeps one per log directory; shardlog keeps one per partition
 * directory too, because several shard threads share a broker directory (see log-manager.ts).
 */
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown'
/** Per-partition recovery point checkpoint (Kafka's per-directory file of the same name). */
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint'
/** Per-partition log start offset checkpoint (Kafka's per-directory file of the same name). */
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint'

/** Kafka's `Topic.MAX_NAME_LENGTH`. */
export const MAX_TOPIC_NAME_LENGTH = 249
/** Digits of the zero-padded base offset in a segment file name. */
export const OFFSET_FILE_NAME_DIGITS = 20

const LEGAL_TOPIC_CHARS = /^[a-zA-Z0-9._-]+$/
const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)((?:\.cleaned|\.swap|\.deleted)?)$/
const DELETE_DIR = /^(.+)-(\d+)\.([0-9a-f]{32})-delete$/

/**
 * Checks a topic name against Kafka's rules (`org.apache.kafka.common.internals.Topic`):
 * 1 to 249 characters from `[a-zA-Z0-9._-]`, and neither `.` nor `..`.
 * @throws InvalidTopicError naming the rule that was broken.
 */
export function validateTopicName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new InvalidTopicError('Topic name is illegal, it can\'t be empty')
  if (name === '.' || name === '..') throw new InvalidTopicError('Topic name cannot be "." or ".."')
  if (name.length > MAX_TOPIC_NAME_LENGTH) {
    throw new InvalidTopicError(`Topic name is illegal, it can't be longer than ${MAX_TOPIC_NAME_LENGTH} characters, topic name: ${name.slice(0, 40)}...`)
  }
  if (!LEGAL_TOPIC_CHARS.test(name)) {
    throw new InvalidTopicError(`Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`)
  }
}

/**
 * Checks a partition number: an integer in [0, 2^31 - 1] (Kafka's int32 partition id).
 * @throws InvalidPartitionsError
 */
export function validatePartition(partition: number): void {
  if (!Number.isInteger(partition) || partition < 0 || partition > 0x7fff_ffff) {
    throw new InvalidPartitionsError(`Partition must be an integer in [0, 2147483647], got ${partition}`)
  }
}

/** `<topic>-<partition>`, after checking both. */
export function partitionDirName(topic: string, partition: number): string {
  validateTopicName(topic)
  validatePartition(partition)
  return `${topic}-${partition}`
}

/**
 * Splits a partition directory name at its last `-` (topics may contain `-`).
 * Returns undefined for names that are not a valid `<topic>-<partition>`.
 */
export function parsePartitionDirName(name: string): { topic: string; partition: number } | undefined {
  const dash = name.lastIndexOf('-')
  if (dash <= 0 || dash === name.length - 1) return undefined
  const digits = name.slice(dash + 1)
  if (!/^\d+$/.test(digits) || (digits.length > 1 && digits.startsWith('0'))) return undefined
  const topic = name.slice(0, dash)
  const partition = Number(digits)
  try {
    validateTopicName(topic)
    validatePartition(partition)
  } catch {
    return undefined // not a partition directory: callers skip it
  }
  return { topic, partition }
}

/** `<topic>-<partition>.<uuid without dashes>-delete`, Kafka's name for a removed partition. */
export function deleteDirName(topic: string, partition: number, uuid: string): string {
  return `${partitionDirName(topic, partition)}.${uuid.replace(/-/g, '')}${DELETE_DIR_SUFFIX}`
}

/** True for a directory name produced by {@link deleteDirName}. */
export function isDeleteDirName(name: string): boolean {
  return DELETE_DIR.test(name)
}

/** The 20-digit zero-padded form of an offset used in segment file names. */
export function filenamePrefixFromOffset(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`Segment base offset must be a non-negative safe integer, got ${offset}`)
  return String(offset).padStart(OFFSET_FILE_NAME_DIGITS, '0')
}

/** Path of a segment's `.log` file, with an optional temp suffix (`.cleaned`, `.swap`, `.deleted`). */
export function logFilePath(dir: string, baseOffset: number, suffix = ''): string {
  return join(dir, `${filenamePrefixFromOffset(baseOffset)}${LOG_FILE_SUFFIX}${suffix}`)
}

/** Path of a segment's `.index` file, with an optional temp suffix. */
export function offsetIndexFilePath(dir: string, baseOffset: number, suffix = ''): string {
  return join(dir, `${filenamePrefixFromOffset(baseOffset)}${INDEX_FILE_SUFFIX}${suffix}`)
}

/** Path of a segment's `.timeindex` file, with an optional temp suffix. */
export function timeIndexFilePath(dir: string, baseOffset: number, suffix = ''): string {
  return join(dir, `${filenamePrefixFromOffset(baseOffset)}${TIME_INDEX_FILE_SUFFIX}${suffix}`)
}

/** What a segment file name says: its base offset, kind and temp suffix (`''` when none). */
export interface SegmentFileName {
  baseOffset: number
  kind: 'log' | 'index' | 'timeindex'
  suffix: '' | typeof CLEANED_FILE_SUFFIX | typeof SWAP_FILE_SUFFIX | typeof DELETED_FILE_SUFFIX
}

/** Parses `00000000000000000042.log[.swap]` and friends; undefined for any other name. */
export function parseSegmentFileName(name: string): SegmentFileName | undefined {
  const m = SEGMENT_FILE.exec(name)
  if (!m) return undefined
  const baseOffset = Number(m[1])
  if (!Number.isSafeInteger(baseOffset)) return undefined
  return { baseOffset, kind: m[2] as SegmentFileName['kind'], suffix: m[3] as SegmentFileName['suffix'] }
}
