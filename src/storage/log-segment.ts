/**
 * One segment of a partition log (Kafka's `LogSegment`): the `.log` file of record batches
 * starting at `baseOffset`, its {@link OffsetIndex} and its {@link TimeIndex}. The
 * {@link SegmentAppender} is the only writer of the `.log` file.
 *
 * `.log` format: RecordBatch v2 blobs back to back, exactly as produced and as fetched
 * (see records/batch-header.ts); offsets increase from batch to batch, gaps allowed
 * (compaction). Nothing else is in the file.
 *
 * Lifecycle: created empty ({@link LogSegment.create}) or opened from disk
 * ({@link LogSegment.open}); exactly one segment of a log is *active* (indexes in memory,
 * appends allowed, {@link LogSegment.makeActive}); on roll it is sealed
 * ({@link LogSegment.seal}: final time index entry, pending index entries written, memory
 * dropped). A sealed segment only serves reads, and may be deleted or replaced by a cleaned one.
 *
 * Validation: appends are validated by the partition log before they reach a segment.
 * {@link LogSegment.recover} validates every batch (framing, magic, CRC, increasing offsets)
 * and cuts a torn or corrupt tail; reads check framing always and CRCs on request, so a batch
 * that fails its CRC is never returned.
 *
 * Thread: owned by its PartitionLog on one shard thread; not thread-safe.
 */
import { fstatSync, unlinkSync, utimesSync } from 'node:fs'
import { CorruptRecordError, ShardlogError, UnsupportedCompressionTypeError } from '../errors.js'
import {
  BATCH_LENGTH, LAST_OFFSET_DELTA, LOG_OVERHEAD, MAGIC, MAX_TIMESTAMP, RECORDS_COUNT, RECORD_BATCH_OVERHEAD,
  CURRENT_MAGIC, isBatchCrcValid, readInt64,
} from '../records/batch-header.js'
import { decodeRecordBatchSync } from '../records/record-batch.js'
import type { FileHandleCache } from './file-handle-cache.js'
import { logFilePath, offsetIndexFilePath, timeIndexFilePath } from './file-names.js'
import type { Logger } from './log-loader.js'
import { OffsetIndex, readFully } from './offset-index.js'
import { SegmentAppender } from './segment-appender.js'
import { TimeIndex, type TimestampOffset } from './time-index.js'

/** How a segment is opened or created. */
export interface LogSegmentOptions {
  handles: FileHandleCache
  /** `index.interval.bytes`. */
  indexIntervalBytes: number
  /** `segment.index.bytes`. */
  maxIndexSize: number
  /** `''` for a live segment; `.cleaned` or `.swap` while the cleaner builds or swaps it in. */
  fileSuffix?: string
  /** Wall clock (ms) at creation/open; default `Date.now()`. */
  now?: number
  /** Where index rebuilds are reported. */
  logger?: Logger
  /**
   * For {@link LogSegment.createFromBatches}: the modification time (ms) to give the new
   * `.log`, as Kafka's cleaner keeps the newest mtime of the segments it replaces (so tombstones
   * do not get a fresh `delete.retention.ms`).
   */
  lastModifiedMs?: number
}

/** The header fields of one batch found by a scan, and where it is. */
export interface SegmentBatch {
  position: number
  size: number
  baseOffset: number
  lastOffset: number
  maxTimestamp: number
}

/** A batch as {@link LogSegment.readBatches} yields it. */
export interface SegmentBatchData {
  /** Position of the batch in the `.log` file. */
  pos: number
  /** The whole batch (header included). */
  data: Buffer
}

/** What {@link LogSegment.read} found. */
export interface SegmentReadResult {
  data: Buffer
  /** Base offset of the first batch (undefined when `data` is empty). */
  firstOffset: number | undefined
}

/** Bytes read at once when scanning batch headers. */
const HEADER_SCAN_WINDOW = 8192
/** Bytes read at once when validating whole batches (recovery, readBatches). */
const BATCH_READ_WINDOW = 1 << 20
const INT32_MAX = 0x7fff_ffff

/** Scratch for header scans: scans are synchronous and never nested, so one buffer serves all. */
const headerWindow = Buffer.allocUnsafe(HEADER_SCAN_WINDOW)

/**
 * What is wrong with the batch at `pos` of `buf[0, end)`, or undefined when it is well formed:
 * complete, `batchLength` sane, magic 2, `lastOffsetDelta` >= 0, a records count that the
 * offset range can hold, and (when `verifyCrc`) a matching CRC-32C.
 */
export function batchProblem(buf: Buffer, pos: number, end: number, verifyCrc: boolean): string | undefined {
  const left = end - pos
  if (left < RECORD_BATCH_OVERHEAD) return `${left} bytes left, less than a batch header (${RECORD_BATCH_OVERHEAD})`
  const size = buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD
  if (size < RECORD_BATCH_OVERHEAD) return `batch size ${size} is below the header size ${RECORD_BATCH_OVERHEAD}`
  if (size > left) return `batch of ${size} bytes is cut off after ${left} bytes`
  const magic = buf.readInt8(pos + MAGIC)
  if (magic !== CURRENT_MAGIC) return `magic ${magic}, expected ${CURRENT_MAGIC}`
  const lastOffsetDelta = buf.readInt32BE(pos + LAST_OFFSET_DELTA)
  if (lastOffsetDelta < 0) return `lastOffsetDelta ${lastOffsetDelta} is negative`
  const count = buf.readInt32BE(pos + RECORDS_COUNT)
  if (count < 0 || count > lastOffsetDelta + 1) return `records count ${count} does not fit lastOffsetDelta ${lastOffsetDelta}`
  if (verifyCrc && !isBatchCrcValid(buf, pos, size)) return 'CRC-32C mismatch'
  return undefined
}

/** One segment: a `.log` file and its two indexes (see module comment). */
export class LogSegment {
  readonly dir: string
  readonly baseOffset: number
  readonly offsetIndex: OffsetIndex
  readonly timeIndex: TimeIndex
  /** Wall-clock time (ms) this object was created or opened; `segment.ms` falls back to it. */
  readonly createdMs: number
  /** `index.interval.bytes` in force for appends. */
  indexIntervalBytes: number
  /** Set by {@link LogSegment.open} when an index file was missing or failed its checks. */
  indexProblem: string | undefined
  private readonly appender: SegmentAppender
  private readonly handles: FileHandleCache
  private readonly logger: Logger | undefined
  private suffix: string
  private lastModified: number
  private bytesSinceLastIndexEntry = 0
  /** nextOffset and max timestamp are known (false for a sealed segment opened from disk until asked). */
  private tailKnown: boolean
  private next: number
  private maxTimestamp = -1
  private offsetOfMaxTimestamp: number
  /** maxTimestamp of the first batch (Kafka's rollingBasedTimestamp); null = not read yet. */
  private firstBatchTimestamp: number | null = null

  private constructor(dir: string, baseOffset: number, opts: LogSegmentOptions, offsetIndex: OffsetIndex, timeIndex: TimeIndex,
    logSize: number, lastModifiedMs: number, tailKnown: boolean, logFileExists: boolean) {
    this.dir = dir
    this.baseOffset = baseOffset
    this.handles = opts.handles
    this.logger = opts.logger
    this.suffix = opts.fileSuffix ?? ''
    this.indexIntervalBytes = opts.indexIntervalBytes
    this.offsetIndex = offsetIndex
    this.timeIndex = timeIndex
    this.appender = new SegmentAppender(logFilePath(dir, baseOffset, this.suffix), opts.handles, logSize, logFileExists)
    this.createdMs = opts.now ?? Date.now()
    this.lastModified = lastModifiedMs
    this.tailKnown = tailKnown
    this.next = baseOffset
    this.offsetOfMaxTimestamp = baseOffset
  }

  /**
   * A new empty, active segment. No file is created yet (the first append creates the `.log`,
   * the first index entries or the seal create the indexes); stale files of the same name are removed.
   */
  static create(dir: string, baseOffset: number, opts: LogSegmentOptions): LogSegment {
    const suffix = opts.fileSuffix ?? ''
    const logPath = logFilePath(dir, baseOffset, suffix)
    opts.handles.close(logPath)
    unlinkIfExists(logPath)
    const offsetIndex = OffsetIndex.create(offsetIndexFilePath(dir, baseOffset, suffix), baseOffset, opts.maxIndexSize, opts.handles)
    const timeIndex = TimeIndex.create(timeIndexFilePath(dir, baseOffset, suffix), baseOffset, opts.maxIndexSize, opts.handles)
    const now = opts.now ?? Date.now()
    return new LogSegment(dir, baseOffset, opts, offsetIndex, timeIndex, 0, now, true, false)
  }

  /**
   * Opens an existing segment, sealed. A missing or corrupt index does not fail the open: the
   * index is emptied, {@link indexProblem} says why, and the caller must {@link recover} (or
   * {@link rebuildIndexes}) the segment before using it.
   * @throws the fs error when the `.log` file cannot be opened.
   */
  static open(dir: string, baseOffset: number, opts: LogSegmentOptions): LogSegment {
    const suffix = opts.fileSuffix ?? ''
    const stat = fstatSync(opts.handles.fd(logFilePath(dir, baseOffset, suffix)))
    const logSize = stat.size
    let problem: string | undefined
    const offsetPath = offsetIndexFilePath(dir, baseOffset, suffix)
    const timePath = timeIndexFilePath(dir, baseOffset, suffix)
    let offsetIndex: OffsetIndex
    let timeIndex: TimeIndex
    try {
      offsetIndex = OffsetIndex.open(offsetPath, baseOffset, opts.maxIndexSize, opts.handles)
      if (offsetIndex.entries > 0 && offsetIndex.lastEntry.position >= logSize) {
        throw new CorruptRecordError(`Corrupt index file ${offsetPath}: last entry points at ${offsetIndex.lastEntry.position}, beyond the log size ${logSize}`)
      }
    } catch (err) {
      // An empty segment may have no index files at all: they are created lazily.
      if (logSize > 0 || !isMissingFile(err)) problem = describeIndexError(err)
      offsetIndex = OffsetIndex.create(offsetPath, baseOffset, opts.maxIndexSize, opts.handles)
    }
    try {
      timeIndex = TimeIndex.open(timePath, baseOffset, opts.maxIndexSize, opts.handles)
    } catch (err) {
      if (logSize > 0 || !isMissingFile(err)) problem ??= describeIndexError(err)
      timeIndex = TimeIndex.create(timePath, baseOffset, opts.maxIndexSize, opts.handles)
    }
    if (problem !== undefined) {
      // Both indexes are rebuilt together: their entries are written in lockstep.
      offsetIndex.reset()
      timeIndex.reset()
    }
    // An opened segment starts sealed, replacement indexes included; makeActive() or recover() decide the rest.
    offsetIndex.seal()
    timeIndex.seal()
    const segment = new LogSegment(dir, baseOffset, opts, offsetIndex, timeIndex, logSize, stat.mtimeMs, false, true)
    segment.indexProblem = problem
    return segment
  }

  /**
   * Writes a new sealed segment holding `batches` (offsets kept, for the log cleaner), under
   * `opts.fileSuffix` (default `.cleaned`, so it cannot clash with the segment it replaces).
   * Every batch is checked (framing, magic, CRC, increasing offsets that fit the segment).
   * Hand the result to `PartitionLog.replaceSegments`.
   * @throws CorruptRecordError for a bad batch (the partial files are deleted).
   */
  static createFromBatches(dir: string, baseOffset: number, batches: Iterable<Buffer>, opts: LogSegmentOptions): LogSegment {
    const segment = LogSegment.create(dir, baseOffset, { ...opts, fileSuffix: opts.fileSuffix ?? '.cleaned' })
    try {
      const pending: Buffer[] = []
      let pendingBytes = 0
      for (const batch of batches) {
        const problem = batchProblem(batch, 0, batch.length, true)
        if (problem !== undefined) throw new CorruptRecordError(`Cannot write batch to segment ${segment.logPath}: ${problem}`)
        const size = batch.readInt32BE(BATCH_LENGTH) + LOG_OVERHEAD
        if (size !== batch.length) throw new CorruptRecordError(`Cannot write batch to segment ${segment.logPath}: buffer holds ${batch.length} bytes, batch ${size}`)
        const base = readInt64(batch, 0)
        const last = base + batch.readInt32BE(LAST_OFFSET_DELTA)
        const expected = segment.next + pendingOffsets(pending)
        if (base < Math.max(expected, baseOffset) || last - baseOffset > INT32_MAX) {
          throw new CorruptRecordError(`Cannot write batch [${base}, ${last}] to segment ${segment.logPath}: offsets must increase from ${expected} and fit the segment`)
        }
        pending.push(batch)
        pendingBytes += size
        if (pendingBytes >= BATCH_READ_WINDOW) {
          segment.append(Buffer.concat(pending, pendingBytes), 0, pendingBytes, opts.now ?? Date.now())
          pending.length = 0
          pendingBytes = 0
        }
      }
      if (pendingBytes > 0) segment.append(Buffer.concat(pending, pendingBytes), 0, pendingBytes, opts.now ?? Date.now())
      segment.seal()
      if (opts.lastModifiedMs !== undefined) segment.setLastModified(opts.lastModifiedMs)
      return segment
    } catch (err) {
      segment.deleteFiles()
      throw err
    }

    function pendingOffsets(pending: Buffer[]): number {
      if (pending.length === 0) return 0
      const last = pending[pending.length - 1]!
      return readInt64(last, 0) + last.readInt32BE(LAST_OFFSET_DELTA) + 1 - segment.next
    }
  }

  /** Path of the `.log` file (with the temp suffix, if any). */
  get logPath(): string {
    return this.appender.path
  }

  /** The temp suffix of the files (`''` for a live segment). */
  get fileSuffix(): string {
    return this.suffix
  }

  /** Bytes of batches in the `.log` file. */
  get size(): number {
    return this.appender.position
  }

  /** The offset after the last batch (the base offset when empty). */
  get nextOffset(): number {
    this.ensureTailState()
    return this.next
  }

  /** Wall-clock time of the last append (the file's mtime for a segment opened from disk). */
  get lastModifiedMs(): number {
    return this.lastModified
  }

  /** Greatest batch maxTimestamp in the segment, or -1 when none has a timestamp. */
  get maxTimestampSoFar(): number {
    this.ensureTailState()
    return this.maxTimestamp
  }

  /** Last offset of the batch holding {@link maxTimestampSoFar}. */
  get offsetOfMaxTimestampSoFar(): number {
    this.ensureTailState()
    return this.offsetOfMaxTimestamp
  }

  /** Kafka's `largestTimestamp`: the greatest record timestamp, or the last modification time. */
  get largestTimestamp(): number {
    const max = this.maxTimestampSoFar
    return max >= 0 ? max : this.lastModified
  }

  /** Sets the modification time (ms), on the `.log` file too once it exists. */
  setLastModified(ms: number): void {
    this.lastModified = ms
    if (this.appender.fileExists) utimesSync(this.logPath, new Date(), new Date(ms))
  }

  /** Creates the files of an empty segment that must exist on disk (so a reload finds it). */
  materialize(): void {
    this.appender.materialize()
    this.offsetIndex.materialize()
    this.timeIndex.materialize()
    this.setLastModified(this.lastModified)
  }

  /** True while the indexes are in memory and the segment takes appends. */
  get isActive(): boolean {
    return this.offsetIndex.isMutable
  }

  /**
   * How long the segment has been filling, for `segment.ms` (Kafka's `timeWaitedForRoll`):
   * the incoming batches' max timestamp minus the first batch's, or wall-clock time since the
   * segment was created when the first batch has no timestamp.
   */
  timeWaitedForRoll(nowMs: number, incomingMaxTimestamp: number): number {
    if (this.firstBatchTimestamp === null) this.firstBatchTimestamp = this.readFirstBatchTimestamp()
    return this.firstBatchTimestamp >= 0 ? incomingMaxTimestamp - this.firstBatchTimestamp : nowMs - this.createdMs
  }

  /** Loads both indexes into memory so the segment takes appends. */
  makeActive(): void {
    this.ensureTailState()
    this.offsetIndex.makeMutable()
    this.timeIndex.makeMutable()
  }

  /**
   * The segment stops taking appends (Kafka's `onBecomeInactiveSegment`): the final time index
   * entry records the greatest timestamp, pending index entries are written, memory dropped.
   */
  seal(): void {
    this.ensureTailState()
    if (this.timeIndex.isMutable && this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true)
    this.offsetIndex.seal()
    this.timeIndex.seal()
    this.appender.releaseRecent()
    if (this.size > 0) {
      // A non-empty segment always has its index files once sealed, so a clean load finds them.
      this.offsetIndex.materialize()
      this.timeIndex.materialize()
    }
  }

  /**
   * Appends pre-validated batches `buf[start, end)` with one positional write, then updates
   * the indexes in memory: an entry after every `index.interval.bytes` (Kafka's rule).
   * The caller guarantees whole, valid batches with increasing offsets that fit this segment.
   */
  append(buf: Buffer, start: number, end: number, nowMs: number): void {
    let physical = this.appender.append(buf, start, end)
    for (let pos = start; pos < end;) {
      const size = buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD
      const lastOffset = readInt64(buf, pos) + buf.readInt32BE(pos + LAST_OFFSET_DELTA)
      const maxTs = readInt64(buf, pos + MAX_TIMESTAMP)
      if (physical === 0) this.firstBatchTimestamp = maxTs
      this.indexBatch(physical, size, lastOffset, maxTs)
      physical += size
      pos += size
    }
    this.lastModified = nowMs
  }

  /**
   * The first batch whose last offset is >= `offset` (the batch holding it, or the next one
   * after a gap), found through the offset index and a short forward scan of headers; undefined
   * when the segment has none. An index entry that does not match the log is repaired on the
   * spot (the index is rebuilt) rather than trusted.
   * @throws CorruptRecordError when an invalid batch header stands between the index entry and the offset.
   */
  translateOffset(offset: number, startingPosition = 0): SegmentBatch | undefined {
    const entry = this.offsetIndex.lookup(offset)
    const from = Math.max(entry.position, startingPosition)
    const checkEntry = entry.position > 0 && from === entry.position
    let found = undefined as SegmentBatch | undefined
    let first = true as boolean
    let mismatch = false as boolean
    const stoppedAt = this.scanHeaders(from, (batch) => {
      if (first && checkEntry && batch.lastOffset !== entry.offset) {
        mismatch = true
        return false
      }
      first = false
      if (batch.lastOffset >= offset) {
        found = batch
        return false
      }
      return true
    })
    if ((mismatch || (first && checkEntry)) && this.repairIndex(`offset index entry (${entry.offset}, ${entry.position}) does not match the log`)) {
      return this.translateOffset(offset, startingPosition)
    }
    if (!found && stoppedAt < this.size) this.reportCorrupt(stoppedAt, 'invalid batch header (size, magic or offsets) while looking for an offset')
    return found
  }

  /**
   * Reads whole batches from `position` (which must start a batch): as many as fit in
   * `maxBytes`, at least one when `minOneMessage` (Kafka's fetch rule), none whose last offset
   * is >= `maxOffset`. Framing is checked always and CRCs when `verifyCrc`: a bad batch ends the
   * result; a bad first batch throws.
   * @throws CorruptRecordError when the first batch is corrupt.
   */
  read(position: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, verifyCrc: boolean): SegmentReadResult {
    const available = this.size - position
    if (available <= 0) return { data: EMPTY, firstOffset: undefined }
    const wanted = Math.max(Math.floor(maxBytes), 0)
    const length = Math.min(Math.max(wanted, RECORD_BATCH_OVERHEAD), available)
    let buf = Buffer.allocUnsafe(length)
    this.readAt(buf, length, position)
    if (length < RECORD_BATCH_OVERHEAD) this.reportCorrupt(position, `${length} bytes left in the segment, less than a batch header`)
    const firstSize = buf.readInt32BE(BATCH_LENGTH) + LOG_OVERHEAD
    const firstMagic = buf.readInt8(MAGIC)
    if (firstSize < RECORD_BATCH_OVERHEAD || firstSize > available || firstMagic !== CURRENT_MAGIC) {
      this.reportCorrupt(position, `implausible batch header (size ${firstSize}, magic ${firstMagic}, ${available} bytes left)`)
    }
    if (readInt64(buf, 0) + buf.readInt32BE(LAST_OFFSET_DELTA) >= maxOffset) return { data: EMPTY, firstOffset: undefined }
    let end = wholeBatchesEnd(buf, length, maxOffset, wanted)
    if (end === 0) {
      if (!minOneMessage) return { data: EMPTY, firstOffset: undefined }
      // Kafka's minOneMessage: the first batch goes out whole even when larger than maxBytes.
      if (firstSize > length) {
        buf = Buffer.allocUnsafe(firstSize)
        this.readAt(buf, firstSize, position)
      }
      end = firstSize
    }
    end = this.validPrefix(buf, end, position, verifyCrc)
    const data = buf.subarray(0, end)
    // Do not pin a large read buffer for a small answer.
    return { data: end < buf.length >>> 1 && buf.length > 65536 ? Buffer.from(data) : data, firstOffset: readInt64(buf, 0) }
  }

  /**
   * Kafka's `findOffsetByTimestamp`: the first record at or after `startingOffset` whose
   * timestamp is >= `timestamp`, using the time index, then the offset index, then a header
   * scan, then the records of the batch found. A zstd batch (no synchronous codec) answers
   * with its first offset at or after `startingOffset` and its max timestamp.
   */
  findOffsetByTimestamp(timestamp: number, startingOffset: number): TimestampOffset | undefined {
    const fromTime = this.timeIndex.lookup(timestamp)
    const position = this.offsetIndex.lookup(Math.max(fromTime.offset, startingOffset)).position
    let found = undefined as SegmentBatch | undefined
    this.scanHeaders(position, (batch) => {
      if (batch.maxTimestamp >= timestamp && batch.lastOffset >= startingOffset) {
        found = batch
        return false
      }
      return true
    })
    if (!found) return undefined
    const bytes = Buffer.allocUnsafe(found.size)
    this.readAt(bytes, found.size, found.position)
    try {
      for (const record of decodeRecordBatchSync(bytes, 0).records) {
        if (record.timestamp >= timestamp && record.offset >= startingOffset) return { offset: record.offset, timestamp: record.timestamp }
      }
      return undefined
    } catch (err) {
      if (!(err instanceof UnsupportedCompressionTypeError)) throw err
      return { offset: Math.max(found.baseOffset, startingOffset), timestamp: found.maxTimestamp }
    }
  }

  /**
   * Every batch from `fromPosition` (a batch start) to the end, whole and checked (framing,
   * magic, CRC): for the cleaner and for tools. Reads in windows of 1 MiB.
   * @throws CorruptRecordError at the first bad batch.
   */
  *readBatches(fromPosition = 0): Generator<SegmentBatchData> {
    const end = this.size
    let pos = fromPosition
    while (pos < end) {
      const window = readWindow(this.handles, this.logPath, pos, end)
      let at = 0
      while (at < window.length) {
        if (continuesInNextWindow(window, at, window.length, pos, end)) break
        const problem = batchProblem(window, at, window.length, true)
        if (problem !== undefined) throw new CorruptRecordError(`Corrupt batch at position ${pos + at} of ${this.logPath}: ${problem}`)
        const size = window.readInt32BE(at + BATCH_LENGTH) + LOG_OVERHEAD
        yield { pos: pos + at, data: window.subarray(at, at + size) }
        at += size
      }
      pos += at
    }
  }

  /**
   * Validates every batch from the start (framing, magic, CRC, increasing offsets that fit
   * the segment), rebuilds both indexes, and cuts the file after the last valid batch
   * (Kafka's `LogSegment.recover`). Returns the number of bytes cut; the logger hears why.
   */
  recover(logger: Logger | undefined = this.logger): number {
    const wasActive = this.isActive
    this.offsetIndex.reset()
    this.timeIndex.reset()
    this.offsetIndex.makeMutable()
    this.timeIndex.makeMutable()
    this.resetTailState()
    const fileSize = this.appender.fileExists ? fstatSync(this.handles.fd(this.logPath)).size : 0
    let pos = 0
    let problem: string | undefined
    scan: while (pos < fileSize) {
      const window = readWindow(this.handles, this.logPath, pos, fileSize)
      let at = 0
      while (at < window.length) {
        if (continuesInNextWindow(window, at, window.length, pos, fileSize)) break
        problem = batchProblem(window, at, window.length, true)
        const base = problem === undefined ? readInt64(window, at) : 0
        const last = problem === undefined ? base + window.readInt32BE(at + LAST_OFFSET_DELTA) : 0
        if (problem === undefined && (base < this.next || last - this.baseOffset > INT32_MAX)) {
          problem = `offsets [${base}, ${last}] do not follow ${this.next - 1} in a segment based at ${this.baseOffset}`
        }
        if (problem !== undefined) {
          pos += at
          break scan
        }
        const size = window.readInt32BE(at + BATCH_LENGTH) + LOG_OVERHEAD
        const maxTs = readInt64(window, at + MAX_TIMESTAMP)
        if (pos + at === 0) this.firstBatchTimestamp = maxTs
        this.indexBatch(pos + at, size, last, maxTs)
        at += size
      }
      pos += at
    }
    this.tailKnown = true
    const cut = fileSize - pos
    this.appender.truncateTo(pos)
    if (cut > 0) {
      logger?.warn('Recovery cut the corrupt or torn tail of a segment', {
        segment: this.logPath, validBytes: pos, truncatedBytes: cut, reason: problem ?? 'incomplete batch at end of file', nextOffset: this.next,
      })
    }
    if (!wasActive) this.seal()
    return cut
  }

  /**
   * Rebuilds both indexes from the batch headers without validating CRCs or cutting the log
   * (repair of an index found wrong while serving reads).
   */
  rebuildIndexes(): void {
    const wasActive = this.isActive
    this.offsetIndex.reset()
    this.timeIndex.reset()
    this.offsetIndex.makeMutable()
    this.timeIndex.makeMutable()
    this.resetTailState()
    this.scanHeaders(0, (batch) => {
      if (batch.position === 0) this.firstBatchTimestamp = batch.maxTimestamp
      this.indexBatch(batch.position, batch.size, batch.lastOffset, batch.maxTimestamp)
      return true
    })
    this.tailKnown = true
    if (!wasActive) this.seal()
  }

  /**
   * Removes every batch at or after `offset`; the batch holding `offset` goes whole
   * (Kafka's `LogSegment.truncateTo`). Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    const found = this.translateOffset(offset)
    if (!found) return 0
    const removed = this.size - found.position
    this.offsetIndex.truncateTo(found.baseOffset)
    this.timeIndex.truncateTo(found.baseOffset)
    this.appender.truncateTo(found.position)
    this.tailKnown = false
    this.bytesSinceLastIndexEntry = 0
    if (found.position === 0) this.firstBatchTimestamp = null
    this.ensureTailState()
    return removed
  }

  /**
   * Makes the segment durable (Kafka's `LogSegment.flush`): fsync of the `.log`; for a sealed
   * segment also of both index files. An active segment's indexes are rebuilt by recovery
   * (it always lies at or after the recovery point), so they are not synced here.
   */
  flush(): void {
    this.appender.sync()
    if (!this.isActive) {
      this.offsetIndex.sync()
      this.timeIndex.sync()
    }
  }

  /** Writes pending index entries and fsyncs everything (clean shutdown, compaction swap). */
  flushAll(): void {
    this.appender.sync()
    this.offsetIndex.sync()
    this.timeIndex.sync()
  }

  /** Renames the three files from the current suffix to `newSuffix` (`.cleaned` -> `.swap` -> ''). */
  changeFileSuffix(newSuffix: string): void {
    this.appender.renameTo(logFilePath(this.dir, this.baseOffset, newSuffix))
    this.offsetIndex.renameTo(offsetIndexFilePath(this.dir, this.baseOffset, newSuffix))
    this.timeIndex.renameTo(timeIndexFilePath(this.dir, this.baseOffset, newSuffix))
    this.suffix = newSuffix
  }

  /** Writes pending index entries and closes the descriptors (the files stay). */
  close(): void {
    this.offsetIndex.close()
    this.timeIndex.close()
    this.handles.close(this.logPath)
  }

  /** Closes and removes the three files (the `.log` first, so a crash leaves no half segment that loads). */
  deleteFiles(): void {
    this.handles.close(this.logPath)
    unlinkIfExists(this.logPath)
    this.offsetIndex.deleteFile()
    this.timeIndex.deleteFile()
  }

  /**
   * Computes nextOffset and the max timestamp without reading the whole segment: batches up
   * to the last offset index entry are covered by the last time index entry (they are written
   * in lockstep), so only the batches from that entry on are scanned. Returns false when the
   * scan met an invalid header before the end of the file (a torn tail).
   */
  ensureTailState(): boolean {
    if (this.tailKnown) return true
    const lastTime = this.timeIndex.lastEntry
    this.maxTimestamp = lastTime.timestamp
    this.offsetOfMaxTimestamp = lastTime.timestamp >= 0 ? lastTime.offset : this.baseOffset
    this.next = this.baseOffset
    const from = this.offsetIndex.lastEntry.position
    const scanEnd = this.scanHeaders(from, (batch) => {
      this.next = batch.lastOffset + 1
      if (batch.maxTimestamp > this.maxTimestamp) {
        this.maxTimestamp = batch.maxTimestamp
        this.offsetOfMaxTimestamp = batch.lastOffset
      }
      return true
    })
    this.tailKnown = true
    return scanEnd === this.size
  }

  /** Adds index entries for a batch written at `position` (shared by append, recover, rebuild). */
  private indexBatch(position: number, size: number, lastOffset: number, maxTs: number): void {
    if (maxTs > this.maxTimestamp) {
      this.maxTimestamp = maxTs
      this.offsetOfMaxTimestamp = lastOffset
    }
    // Both indexes advance together (or not at all) so the last entries describe the same point.
    if (this.bytesSinceLastIndexEntry > this.indexIntervalBytes && !this.offsetIndex.isFull && !this.timeIndex.isFull) {
      this.offsetIndex.append(lastOffset, position)
      this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp)
      this.bytesSinceLastIndexEntry = 0
    }
    this.bytesSinceLastIndexEntry += size
    this.next = lastOffset + 1
  }

  private resetTailState(): void {
    this.next = this.baseOffset
    this.maxTimestamp = -1
    this.offsetOfMaxTimestamp = this.baseOffset
    this.bytesSinceLastIndexEntry = 0
    this.firstBatchTimestamp = null
  }

  /**
   * Visits batch headers from `from` while `visit` returns true; stops at the end of the data or
   * at the first header that is not a plausible batch (bad size or magic, cut off, offsets not
   * increasing). Returns where it stopped. Reads 8 KiB windows, so small batches cost no
   * syscall each and a large batch costs one small read.
   */
  private scanHeaders(from: number, visit: (batch: SegmentBatch) => boolean): number {
    const end = this.size
    let pos = from
    let windowStart = 0
    let windowLength = 0
    let prevLast = -1
    while (end - pos >= RECORD_BATCH_OVERHEAD) {
      if (pos < windowStart || pos + RECORD_BATCH_OVERHEAD > windowStart + windowLength) {
        windowStart = pos
        windowLength = Math.min(HEADER_SCAN_WINDOW, end - pos)
        this.readAt(headerWindow, windowLength, pos)
      }
      const at = pos - windowStart
      const size = headerWindow.readInt32BE(at + BATCH_LENGTH) + LOG_OVERHEAD
      const magic = headerWindow.readInt8(at + MAGIC)
      const delta = headerWindow.readInt32BE(at + LAST_OFFSET_DELTA)
      const baseOffset = readInt64(headerWindow, at)
      if (size < RECORD_BATCH_OVERHEAD || pos + size > end || magic !== CURRENT_MAGIC || delta < 0 || baseOffset <= prevLast || baseOffset < this.baseOffset) break
      const batch: SegmentBatch = {
        position: pos, size, baseOffset, lastOffset: baseOffset + delta, maxTimestamp: readInt64(headerWindow, at + MAX_TIMESTAMP),
      }
      prevLast = batch.lastOffset
      pos += size
      if (!visit(batch)) return pos
    }
    return pos
  }

  /** Keeps the batches of `buf[0, end)` up to the first bad one; throws when the first is bad. */
  private validPrefix(buf: Buffer, end: number, position: number, verifyCrc: boolean): number {
    let pos = 0
    let prevLast = -1
    while (pos < end) {
      let problem = batchProblem(buf, pos, end, verifyCrc)
      const base = problem === undefined ? readInt64(buf, pos) : 0
      if (problem === undefined && base <= prevLast) problem = `base offset ${base} does not follow ${prevLast}`
      if (problem !== undefined) {
        if (pos === 0) this.reportCorrupt(position, problem)
        this.logger?.warn('Read stopped before a corrupt batch', { segment: this.logPath, position: position + pos, reason: problem })
        return pos
      }
      prevLast = base + buf.readInt32BE(pos + LAST_OFFSET_DELTA)
      pos += buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD
    }
    return pos
  }

  private reportCorrupt(position: number, problem: string): never {
    this.logger?.warn('Refused to serve a corrupt batch', { segment: this.logPath, position, reason: problem })
    throw new CorruptRecordError(`Corrupt batch at position ${position} of ${this.logPath}: ${problem}`)
  }

  /** Rebuilds the indexes once after a mismatch; false when they were just rebuilt (the log is at fault). */
  private repairIndex(reason: string): boolean {
    if (this.offsetIndex.entries === 0) return false
    this.logger?.warn('Rebuilding a segment index that does not match its log', { segment: this.logPath, reason })
    this.rebuildIndexes()
    return true
  }

  /** Reads file bytes `[position, position + length)` into `buf`: from the tail window when it holds them, else from the file. */
  private readAt(buf: Buffer, length: number, position: number): void {
    if (!this.appender.readRecent(buf, 0, length, position)) readFully(this.handles, this.logPath, buf, length, position)
  }

  private readFirstBatchTimestamp(): number {
    if (this.size < RECORD_BATCH_OVERHEAD) return -1
    const header = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD)
    this.readAt(header, RECORD_BATCH_OVERHEAD, 0)
    return readInt64(header, MAX_TIMESTAMP)
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * End of the whole batches at the start of `buf[0, length)` that fit `maxBytes` and end before
 * `maxOffset`; stops at anything that is not a plausible batch header.
 */
function wholeBatchesEnd(buf: Buffer, length: number, maxOffset: number, maxBytes: number): number {
  let pos = 0
  const limit = Math.min(length, maxBytes)
  while (limit - pos >= RECORD_BATCH_OVERHEAD) {
    const size = buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD
    if (size < RECORD_BATCH_OVERHEAD || pos + size > limit) break
    const lastOffset = readInt64(buf, pos) + buf.readInt32BE(pos + LAST_OFFSET_DELTA)
    if (lastOffset >= maxOffset) break
    pos += size
  }
  return pos
}

function isMissingFile(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
}

function describeIndexError(err: unknown): string {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'index file missing'
  if (err instanceof ShardlogError) return err.message
  throw err
}

function unlinkIfExists(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

/**
 * True when the batch at `at` of a window is incomplete only because the window ends early:
 * the file has more bytes after the window, so the next window (starting there) decides.
 */
function continuesInNextWindow(window: Buffer, at: number, length: number, windowPos: number, fileEnd: number): boolean {
  if (at === 0 || windowPos + length >= fileEnd) return false
  const left = length - at
  return left < RECORD_BATCH_OVERHEAD || window.readInt32BE(at + BATCH_LENGTH) + LOG_OVERHEAD > left
}

/** Reads the batch window at `pos`: up to 1 MiB, or exactly the first batch when it is larger. */
function readWindow(handles: FileHandleCache, path: string, pos: number, fileEnd: number): Buffer {
  const length = Math.min(BATCH_READ_WINDOW, fileEnd - pos)
  const window = Buffer.allocUnsafe(length)
  readFully(handles, path, window, length, pos)
  if (length >= RECORD_BATCH_OVERHEAD) {
    const size = window.readInt32BE(BATCH_LENGTH) + LOG_OVERHEAD
    if (size > length && size >= RECORD_BATCH_OVERHEAD && pos + size <= fileEnd) {
      const whole = Buffer.allocUnsafe(size)
      readFully(handles, path, whole, size, pos)
      return whole
    }
  }
  return window
}
