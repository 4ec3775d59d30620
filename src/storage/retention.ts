/**
 * Which old segments retention deletes (Kafka's `UnifiedLog.deleteOldSegments`), as pure
 * functions over the ordered segments of one log, so the rules are testable without files.
 *
 * Three rules, each deleting a *prefix* of the log (Kafka never deletes from the middle), and
 * never the active (last) segment:
 * - log start offset: a segment whose next segment starts at or below `logStartOffset`
 *   holds nothing readable any more (after DeleteRecords); always applies.
 * - `retention.bytes` (when `cleanup.policy` includes `delete` and the value is >= 0): while
 *   the log minus the segment would still be at least the limit, delete the segment.
 * - `retention.ms` (same condition): a segment whose largest timestamp is older than
 *   `now - retention.ms`.
 *
 * Thread: pure; used by PartitionLog on its shard thread.
 */

/** What retention needs to know of a segment. */
export interface RetentionSegment {
  readonly baseOffset: number
  readonly size: number
  /** Greatest record timestamp, or the last modification time without timestamps (Kafka's `largestTimestamp`). */
  readonly largestTimestamp: number
}

/** The retention settings of a log (a subset of LogConfig). */
export interface RetentionPolicy {
  retentionMs: number
  retentionBytes: number
  cleanupPolicy: { delete: boolean; compact: boolean }
}

/** Why segments were chosen, for the log line. */
export type RetentionReason = 'log-start-offset' | 'retention.bytes' | 'retention.ms'

/** How many leading segments to delete, and the rule that chose the last of them. */
export interface RetentionDecision {
  count: number
  reasons: RetentionReason[]
}

/** Leading segments entirely below `logStartOffset` (their successor starts at or below it). */
export function segmentsBelowLogStartOffset(segments: ReadonlyArray<RetentionSegment>, logStartOffset: number): number {
  let n = 0
  while (n < segments.length - 1 && segments[n + 1]!.baseOffset <= logStartOffset) n++
  return n
}

/** Leading segments to delete so the log stays at or above `retentionBytes` (Kafka's rule); none when negative. */
export function segmentsBeyondRetentionBytes(segments: ReadonlyArray<RetentionSegment>, retentionBytes: number): number {
  if (retentionBytes < 0) return 0
  let diff = -retentionBytes
  for (const segment of segments) diff += segment.size
  let n = 0
  while (n < segments.length - 1 && diff - segments[n]!.size >= 0) {
    diff -= segments[n]!.size
    n++
  }
  return n
}

/** Leading segments whose largest timestamp is older than `nowMs - retentionMs`; none when negative. */
export function segmentsBeyondRetentionMs(segments: ReadonlyArray<RetentionSegment>, retentionMs: number, nowMs: number): number {
  if (retentionMs < 0) return 0
  let n = 0
  while (n < segments.length - 1 && nowMs - segments[n]!.largestTimestamp > retentionMs) n++
  return n
}

/**
 * How many leading segments retention deletes now: the longest prefix any rule allows
 * (the size and time rules only under `cleanup.policy=delete`), never the last segment.
 */
export function retentionDecision(segments: ReadonlyArray<RetentionSegment>, policy: RetentionPolicy, nowMs: number, logStartOffset: number): RetentionDecision {
  const candidates: Array<[RetentionReason, number]> = [['log-start-offset', segmentsBelowLogStartOffset(segments, logStartOffset)]]
  if (policy.cleanupPolicy.delete) {
    candidates.push(['retention.bytes', segmentsBeyondRetentionBytes(segments, policy.retentionBytes)])
    candidates.push(['retention.ms', segmentsBeyondRetentionMs(segments, policy.retentionMs, nowMs)])
  }
  let count = 0
  for (const [, n] of candidates) count = Math.max(count, n)
  const reasons = candidates.filter(([, n]) => n > 0).map(([reason]) => reason)
  return { count, reasons }
}
