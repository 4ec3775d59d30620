/**
 * Log compaction for `cleanup.policy=compact` (Kafka's `LogCleaner` / `Cleaner`): keep only the
 * latest record of each key, and drop tombstones (null value) once they have been visible for
 * `delete.retention.ms`.
 *
 * {@link cleanSegments} is the pure part of a cleaning round: it reads the batches of the
 * segments the partition log hands it and returns the rewritten segments; the log writes them as
 * `.cleaned` files, swaps them in and deletes the old ones. Two passes, as Kafka's cleaner:
 *
 * 1. Offset map: key -> offset of its latest record, over the cleanable segments (see below).
 *    Keys are stored as themselves when short and as their MD5 digest otherwise (Kafka's
 *    `SkimpyOffsetMap` stores MD5 digests), so memory per key is bounded; `maxOffsetMapKeys`
 *    bounds the number of keys (Kafka's `log.cleaner.dedupe.buffer.size`). When the map is
 *    full the round stops at that offset and the rest waits for the next round.
 * 2. Rewrite every batch of the cleanable segments, keeping a record when the map holds its own
 *    offset for its key, and, for a tombstone, only while its segment was modified less than
 *    `delete.retention.ms` before `now` (removed from `lastModifiedMs + delete.retention.ms`
 *    on). Kafka before KIP-534 compared the segment's mtime with the mtime of the last cleaned
 *    segment minus `delete.retention.ms`; KIP-534 stamps a delete horizon into the batch.
 *    Measuring from `now` gives every consumer the full `delete.retention.ms` to see a
 *    tombstone, without rewriting batches just to stamp them. Records at or past the map's end
 *    are kept untouched.
 *
 * Which segments are cleanable: the ones given (the caller never passes the active segment,
 * which Kafka never cleans), in offset order, up to the first one that (a) starts at or after
 * `dirtyUpTo`, or (b) holds a record younger than `min.compaction.lag.ms` (its largest
 * timestamp is above `now - minCompactionLagMs`; Kafka's first uncleanable segment). That
 * segment and every later one are left alone.
 *
 * Batches keep their offsets: a batch with some records removed is re-encoded with the same
 * baseOffset, lastOffsetDelta, partitionLeaderEpoch, producer id/epoch/base sequence,
 * attributes (codec, timestamp type, transactional) and, for LogAppendTime, maxTimestamp; for
 * CreateTime base/max timestamps follow the records kept (Kafka's `MemoryRecords.filterTo`).
 * A batch with nothing removed is copied byte for byte. A batch with nothing left is dropped,
 * except the last batch of each producer id among the given segments, which is kept as an
 * empty batch (header only, no codec, as Kafka's `writeEmptyHeader`) so that the producer's
 * last sequence number survives a rebuild of producer state from the log.
 *
 * Not cleaned, copied as they are, and left out of the offset map:
 * - zstd batches: the zstd binding is async only and cleaning is synchronous, so their keys are
 *   unknown. This only ever keeps more than needed: a zstd record is never removed, a record
 *   superseded only by a zstd one is kept as well, and no tombstone after the first zstd batch
 *   is removed (it may be what deletes a key whose older value sits in that batch);
 * - control batches (transaction markers): transactions are not implemented.
 * Records without a key (only possible if the topic was switched from `delete` to `compact`)
 * are removed, as Kafka's cleaner removes them ("invalid message").
 *
 * A batch that fails its CRC or cannot be decoded aborts the round with a
 * {@link CorruptRecordError} naming the segment; nothing is returned, so nothing is swapped.
 * Kafka marks such a partition uncleanable (KIP-346) and keeps serving it.
 *
 * Output segments: consecutive cleaned segments are merged while their cleaned size fits
 * `maxSegmentBytes` and their offsets fit the index's int32 relative offsets (Kafka's
 * `groupSegmentsBySize`). Each output names the input segments it replaces.
 *
 * Thread: runs on the shard thread that owns the partition (or any thread given the bytes);
 * pure apart from the module-level scratch state of the record codec.
 */
import { createHash } from 'node:crypto'
import {
  ATTRIBUTES, COMPRESSION_CODEC_MASK, CONTROL_FLAG_MASK, LAST_OFFSET_DELTA, MAX_TIMESTAMP, PRODUCER_ID,
  RECORD_BATCH_OVERHEAD, batchSizeAt, readInt64,
} from '../records/batch-header.js'
import { CompressionCodecId } from '../records/compression/index.js'
import {
  decodeRecordBatch, decodeRecordBatchSync, encodeRecordBatchSync, type DecodedBatch, type Record, type RecordInput,
} from '../records/record-batch.js'
import { CorruptRecordError, InvalidRecordError } from '../errors.js'

/** A segment as the cleaner reads it. */
export interface CleanableSegment {
  /** The segment's base offset (its file name). */
  baseOffset: number
  /** mtime of the segment's `.log` in ms: tombstones in it expire `delete.retention.ms` after it. */
  lastModifiedMs: number
  /** The segment's batches in order, each one whole batch (called once per pass, so up to three times). */
  batches(): Iterable<Buffer>
  /**
   * Greatest record timestamp in the segment (Kafka's `LogSegment.largestTimestamp`), for
   * `min.compaction.lag.ms`. When absent it is computed from the batch headers (one more read).
   */
  largestTimestampMs?: number
}

/** One rewritten segment. */
export interface CleanedSegment {
  /** Base offset of the first segment it replaces: the name the cleaned files take. */
  baseOffset: number
  /**
   * The batches to write, in order. May be empty: keep such a segment when it is the log's first
   * (its base offset anchors the log start offset on reload); a later one may be dropped.
   */
  batches: Buffer[]
  /** Base offsets of the input segments this one replaces, ascending (several when merged). */
  replaces: number[]
  /**
   * The newest `lastModifiedMs` of the segments it replaces. Set it as the mtime of the new
   * `.log` (as Kafka's cleaner does) so that tombstones do not get a fresh `delete.retention.ms`.
   */
  lastModifiedMs: number
}

/** What a cleaning round produced. */
export interface CleanResult {
  /**
   * The segments that replace the cleaned ones, ascending. Empty when nothing was removed: the
   * log then keeps its files as they are. Input segments not named in any `replaces` are untouched.
   */
  segments: CleanedSegment[]
  /** Records removed (superseded values, expired tombstones, records without a key). */
  recordsRemoved: number
  /** Bytes of the segments that were cleaned, before. */
  bytesBefore: number
  /** Bytes of the same range, after. */
  bytesAfter: number
  /**
   * End (exclusive) of the offset range that was deduplicated: Kafka's cleaner checkpoint
   * (superseded records below it are gone, apart from the zstd exception in the module comment).
   * Equals the first given segment's base offset when nothing was cleanable.
   */
  cleanedUpTo: number
}

/** Parameters of a cleaning round; names follow the topic configs they come from. */
export interface CleanOptions {
  /** Current time, ms. */
  now: number
  /** `delete.retention.ms`. */
  deleteRetentionMs: number
  /** `min.compaction.lag.ms`. */
  minCompactionLagMs: number
  /** `segment.bytes`: merged output segments stay within it. */
  maxSegmentBytes: number
  /** Offsets at or above this are not compacted (e.g. the last stable offset); default: no bound. */
  dirtyUpTo?: number
  /** Most distinct keys one round deduplicates (Kafka's `log.cleaner.dedupe.buffer.size`); default 1,000,000. */
  maxOffsetMapKeys?: number
}

/** Default of {@link CleanOptions.maxOffsetMapKeys}: about 100 MB of map at worst. */
export const DEFAULT_MAX_OFFSET_MAP_KEYS = 1_000_000
/** Keys up to this many bytes are stored as they are; longer ones as their MD5 digest. */
const MAX_RAW_KEY_BYTES = 16
const INT32_MAX = 0x7fff_ffff
const ZSTD = CompressionCodecId.zstd

/**
 * Checks batches produced to a compacted topic (one whole batch, or several back to back): every
 * record must have a key. Kafka's `LogValidator.validateKey` ("Compacted topic cannot accept
 * message without key").
 *
 * zstd batches cannot be decompressed synchronously and are accepted unchecked; call
 * {@link validateCompactedBatchAsync} where awaiting is possible.
 * @throws InvalidRecordError (INVALID_RECORD, not retriable) for a record with a null key. Kafka
 *   returns INVALID_RECORD since 2.5 (KIP-467); before that CORRUPT_MESSAGE, which is retriable,
 *   so clients retried a batch that can never succeed.
 * @throws CorruptRecordError when the bytes are not whole valid batches (length, magic, CRC).
 */
export function validateCompactedBatch(batch: Buffer): void {
  for (const pos of batchPositions(batch)) {
    if (codecIdOf(batch, pos) !== ZSTD) requireKeys(decodeRecordBatchSync(batch, pos))
  }
}

/** {@link validateCompactedBatch} for every codec, zstd included. */
export async function validateCompactedBatchAsync(batch: Buffer): Promise<void> {
  for (const pos of batchPositions(batch)) requireKeys(await decodeRecordBatch(batch, pos))
}

/** Start of each batch in `buf`; throws when the last one is not whole or a length is impossible. */
function batchPositions(buf: Buffer): number[] {
  const positions: number[] = []
  let pos = 0
  do {
    if (buf.length - pos < RECORD_BATCH_OVERHEAD) {
      throw new CorruptRecordError(`${buf.length - pos} bytes at position ${pos} are not a whole batch (the header alone is ${RECORD_BATCH_OVERHEAD})`)
    }
    const size = batchSizeAt(buf, pos)
    if (size < RECORD_BATCH_OVERHEAD || size > buf.length - pos) {
      throw new CorruptRecordError(`batch at position ${pos} declares ${size} bytes; ${buf.length - pos} are there`)
    }
    positions.push(pos)
    pos += size
  } while (pos < buf.length)
  return positions
}

function requireKeys(decoded: DecodedBatch): void {
  const records = decoded.records
  for (let i = 0; i < records.length; i++) {
    if (records[i]!.key === null) {
      throw new InvalidRecordError(`Compacted topic cannot accept message without key (record ${i}, offset delta ${records[i]!.offset - decoded.header.baseOffset})`)
    }
  }
}

/**
 * Runs one compaction round over `segments` (ascending, the active segment excluded) and returns
 * the segments that replace the cleaned ones. See the module comment for every rule.
 * @throws CorruptRecordError when a batch of a cleanable segment is corrupt; nothing is cleaned.
 */
export function cleanSegments(segments: readonly CleanableSegment[], opts: CleanOptions): CleanResult {
  const dirtyUpTo = opts.dirtyUpTo ?? Number.POSITIVE_INFINITY
  const cleanable = cleanablePrefix(segments, opts, dirtyUpTo)
  if (cleanable.length === 0) {
    return { segments: [], recordsRemoved: 0, bytesBefore: 0, bytesAfter: 0, cleanedUpTo: segments[0]?.baseOffset ?? 0 }
  }

  // Pass 1: the offset map over the cleanable segments, and the last batch of every producer
  // over all given segments (those batches are kept even when emptied).
  const map = new OffsetMap(opts.maxOffsetMapKeys ?? DEFAULT_MAX_OFFSET_MAP_KEYS, dirtyUpTo)
  const lastBatchOfProducer = new Map<number, number>()
  let firstUnreadableOffset = Number.POSITIVE_INFINITY
  let cleanableEnd = segments[cleanable.length]?.baseOffset ?? 0
  for (const [i, segment] of segments.entries()) {
    const inCleanable = i < cleanable.length
    for (const batch of segment.batches()) {
      checkFraming(segment, batch)
      const producerId = readInt64(batch, PRODUCER_ID)
      if (producerId >= 0) lastBatchOfProducer.set(producerId, lastOffsetOf(batch))
      if (codecIdOf(batch) === ZSTD) firstUnreadableOffset = Math.min(firstUnreadableOffset, readInt64(batch, 0))
      if (!inCleanable) continue
      if (i === cleanable.length - 1 && i === segments.length - 1) cleanableEnd = lastOffsetOf(batch) + 1
      if (!map.full && isCleanable(batch)) map.addBatch(decodeIn(segment, batch))
    }
  }
  const mapEnd = map.full ? map.limit : Math.min(dirtyUpTo, Math.max(cleanableEnd, cleanable.at(-1)!.baseOffset))
  const facts: LogFacts = { map, mapEnd, lastBatchOfProducer, firstUnreadableOffset }

  // Pass 2: rewrite every cleanable segment below the map's end.
  let recordsRemoved = 0
  let bytesBefore = 0
  const rewritten: RewrittenSegment[] = []
  for (const segment of cleanable) {
    if (segment.baseOffset >= mapEnd) break
    // Kafka's rule: a tombstone outlives its segment's last modification by delete.retention.ms.
    const tombstonesExpired = opts.now - segment.lastModifiedMs >= opts.deleteRetentionMs
    const out: RewrittenSegment = { source: segment, batches: [], size: 0, lastOffset: segment.baseOffset }
    for (const batch of segment.batches()) {
      bytesBefore += batch.length
      const kept = cleanBatch(segment, batch, facts, tombstonesExpired)
      recordsRemoved += kept.removed
      if (kept.batch === undefined) continue
      out.batches.push(kept.batch)
      out.size += kept.batch.length
      out.lastOffset = lastOffsetOf(kept.batch)
    }
    rewritten.push(out)
  }
  // Nothing to remove: rewriting files only to merge them is not worth the I/O of every round.
  if (recordsRemoved === 0) return { segments: [], recordsRemoved: 0, bytesBefore, bytesAfter: bytesBefore, cleanedUpTo: mapEnd }

  const grouped = groupBySize(rewritten, opts.maxSegmentBytes)
  const bytesAfter = rewritten.reduce((n, seg) => n + seg.size, 0)
  return { segments: grouped, recordsRemoved, bytesBefore, bytesAfter, cleanedUpTo: mapEnd }
}

interface RewrittenSegment {
  source: CleanableSegment
  batches: Buffer[]
  size: number
  /** Last offset of the last batch kept (the base offset when none is). */
  lastOffset: number
}

/**
 * Merges consecutive rewritten segments while the merged size fits `segment.bytes` and every
 * offset stays within int32 of the merged base offset (the indexes store relative offsets), as
 * Kafka's `groupSegmentsBySize`.
 */
function groupBySize(rewritten: readonly RewrittenSegment[], maxSegmentBytes: number): CleanedSegment[] {
  const groups: CleanedSegment[] = []
  let groupSize = 0
  for (const seg of rewritten) {
    const open = groups.at(-1)
    if (open !== undefined && groupSize + seg.size <= maxSegmentBytes && seg.lastOffset - open.baseOffset <= INT32_MAX) {
      for (const b of seg.batches) open.batches.push(b)
      open.replaces.push(seg.source.baseOffset)
      open.lastModifiedMs = Math.max(open.lastModifiedMs, seg.source.lastModifiedMs)
      groupSize += seg.size
    } else {
      groups.push({ baseOffset: seg.source.baseOffset, batches: [...seg.batches], replaces: [seg.source.baseOffset], lastModifiedMs: seg.source.lastModifiedMs })
      groupSize = seg.size
    }
  }
  return groups
}

/** Rejects a buffer that is not exactly one batch with at least a whole header. */
function checkFraming(segment: CleanableSegment, batch: Buffer): void {
  if (batch.length < RECORD_BATCH_OVERHEAD || batchSizeAt(batch) !== batch.length) {
    throw new CorruptRecordError(`cannot clean segment ${segment.baseOffset}: a batch of ${batch.length} bytes is not exactly one whole batch`)
  }
}

/** The leading segments that may be cleaned: stop at `dirtyUpTo` and at the first one younger than `min.compaction.lag.ms`. */
function cleanablePrefix(segments: readonly CleanableSegment[], opts: CleanOptions, dirtyUpTo: number): CleanableSegment[] {
  const prefix: CleanableSegment[] = []
  for (const segment of segments) {
    if (segment.baseOffset >= dirtyUpTo) break
    if (opts.minCompactionLagMs > 0 && largestTimestampOf(segment) > opts.now - opts.minCompactionLagMs) break
    prefix.push(segment)
  }
  return prefix
}

/** Kafka's `LogSegment.largestTimestamp`: the greatest batch maxTimestamp, or the mtime when no batch has one. */
function largestTimestampOf(segment: CleanableSegment): number {
  if (segment.largestTimestampMs !== undefined) return segment.largestTimestampMs
  let largest = -1
  for (const batch of segment.batches()) {
    checkFraming(segment, batch)
    const ts = readInt64(batch, MAX_TIMESTAMP)
    if (ts > largest) largest = ts
  }
  return largest >= 0 ? largest : segment.lastModifiedMs
}

/** Batches whose records the cleaner reads: not zstd (no sync codec), not control batches. */
function isCleanable(batch: Buffer): boolean {
  return codecIdOf(batch) !== ZSTD && (batch.readInt16BE(ATTRIBUTES) & CONTROL_FLAG_MASK) === 0
}

function codecIdOf(batch: Buffer, pos = 0): number {
  return batch.readInt16BE(pos + ATTRIBUTES) & COMPRESSION_CODEC_MASK
}

function lastOffsetOf(batch: Buffer): number {
  return readInt64(batch, 0) + batch.readInt32BE(LAST_OFFSET_DELTA)
}

/** Decodes a batch of `segment`, naming the segment in the error when it is corrupt. */
function decodeIn(segment: CleanableSegment, batch: Buffer): DecodedBatch {
  try {
    return decodeRecordBatchSync(batch)
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err)
    throw new CorruptRecordError(`cannot clean segment ${segment.baseOffset}: ${why}`, { cause: err })
  }
}

/** What pass 1 learned about the log. */
interface LogFacts {
  map: OffsetMap
  /** Records at or above this offset are kept untouched. */
  mapEnd: number
  /** producerId -> last offset of its last batch, over all given segments. */
  lastBatchOfProducer: ReadonlyMap<number, number>
  /**
   * Base offset of the first batch the cleaner cannot read (zstd). A tombstone after it may be
   * the only thing hiding an older value in that batch, so it is never removed.
   */
  firstUnreadableOffset: number
}

/** The batch to write in place of `batch` (undefined to drop it) and how many records it lost. */
function cleanBatch(segment: CleanableSegment, batch: Buffer, facts: LogFacts, tombstonesExpired: boolean): { batch: Buffer | undefined; removed: number } {
  const { map, mapEnd, lastBatchOfProducer, firstUnreadableOffset } = facts
  if (!isCleanable(batch) || readInt64(batch, 0) >= mapEnd) return { batch, removed: 0 }
  const decoded = decodeIn(segment, batch)
  const kept: Record[] = []
  for (const record of decoded.records) {
    if (record.offset >= mapEnd) {
      kept.push(record)
    } else if (record.key !== null && map.latestOffset(record.key) === record.offset &&
      (record.value !== null || !tombstonesExpired || record.offset > firstUnreadableOffset)) {
      kept.push(record)
    }
  }
  const removed = decoded.records.length - kept.length
  if (removed === 0) return { batch, removed: 0 }
  const { header } = decoded
  const lastOffset = header.baseOffset + header.lastOffsetDelta
  if (kept.length === 0) {
    const lastOfProducer = header.producerId >= 0 && lastBatchOfProducer.get(header.producerId) === lastOffset
    return { batch: lastOfProducer ? emptyBatchLike(decoded) : undefined, removed }
  }
  const logAppendTime = decoded.timestampType === 'LogAppendTime'
  const records: RecordInput[] = kept.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp, offset: r.offset }))
  const rewritten = encodeRecordBatchSync(records, {
    compression: decoded.compression,
    baseOffset: header.baseOffset,
    lastOffsetDelta: header.lastOffsetDelta,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    transactional: decoded.isTransactional,
    timestampType: decoded.timestampType,
    ...(logAppendTime ? { maxTimestamp: header.maxTimestamp } : {}),
    ...(decoded.deleteHorizonMs !== undefined ? { deleteHorizonMs: decoded.deleteHorizonMs } : {}),
  })
  return { batch: rewritten, removed }
}

/** A header-only batch in place of `decoded`: same offsets, producer fields and flags, no codec. */
function emptyBatchLike(decoded: DecodedBatch): Buffer {
  const { header } = decoded
  return encodeRecordBatchSync([], {
    compression: 'none',
    baseOffset: header.baseOffset,
    lastOffsetDelta: header.lastOffsetDelta,
    partitionLeaderEpoch: header.partitionLeaderEpoch,
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    transactional: decoded.isTransactional,
    timestampType: decoded.timestampType,
    baseTimestamp: header.maxTimestamp,
    maxTimestamp: header.maxTimestamp,
  })
}

/**
 * key -> offset of its latest record, for records below `limit`. Once `maxKeys` distinct keys
 * are held, the first record of yet another key ends the map: `limit` becomes its offset.
 */
class OffsetMap {
  readonly #offsets = new Map<string, number>()
  readonly #maxKeys: number
  #limit: number
  #full = false

  constructor(maxKeys: number, limit: number) {
    this.#maxKeys = maxKeys
    this.#limit = limit
  }

  /** True once a key did not fit. */
  get full(): boolean {
    return this.#full
  }

  /** Offsets at or above this are not in the map. */
  get limit(): number {
    return this.#limit
  }

  addBatch(decoded: DecodedBatch): void {
    for (const record of decoded.records) {
      if (record.offset >= this.#limit) return
      if (record.key === null) continue
      const k = mapKey(record.key)
      if (!this.#offsets.has(k) && this.#offsets.size >= this.#maxKeys) {
        this.#full = true
        this.#limit = record.offset
        return
      }
      this.#offsets.set(k, record.offset)
    }
  }

  latestOffset(key: Buffer): number | undefined {
    return this.#offsets.get(mapKey(key))
  }
}

/** Short keys as themselves, long ones as their MD5 digest; the prefix keeps the two apart. */
function mapKey(key: Buffer): string {
  if (key.length <= MAX_RAW_KEY_BYTES) return 'r' + key.toString('latin1')
  return 'h' + createHash('md5').update(key).digest('binary')
}
