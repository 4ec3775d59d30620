/**
 * The log of one partition replica (Kafka's `UnifiedLog` + `LocalLog`): the ordered
 * {@link LogSegment}s in `<dataDir>/<topic>-<partition>/`, the last of which is active.
 *
 * - append: validates every batch of the request first (framing, magic, CRC, sizes, offset
 *   ranges) so a bad request writes nothing; the leader then assigns offsets by rewriting each
 *   batch's baseOffset (and partitionLeaderEpoch) in place, which the CRC does not cover; with
 *   `message.timestamp.type=LogAppendTime` it also stamps maxTimestamp and recomputes the CRC,
 *   as Kafka does. Batches go to the active segment with one positional write, rolling first on
 *   `segment.bytes`, `segment.ms`, a full index or an offset too far from the segment base.
 * - read: finds the segment by binary search over base offsets, the batch through the offset
 *   index and a short header scan, and returns whole batches (Kafka's fetch rules).
 * - durability: the page cache by default; `flush.messages` fsyncs once that many records are
 *   unflushed (1 = before the append returns); `flush.ms` is applied by LogManager.flushDirty.
 *   Each flush advances the recovery point and persists it.
 * - retention, DeleteRecords, truncation (replication), compaction swap, close and delete.
 *
 * Thread: owned by exactly one shard thread; not thread-safe; every method is synchronous.
 * Errors: typed ShardlogErrors; file-system failures surface as KafkaStorageError.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import {
  CorruptRecordError, InvalidRecordError, InvalidTopicError, KafkaStorageError, OffsetOutOfRangeError, RecordListTooLargeError,
  RecordTooLargeError, UnknownServerError, isShardlogError,
} from '../errors.js'
import {
  ATTRIBUTES, BATCH_LENGTH, CURRENT_MAGIC, LAST_OFFSET_DELTA, LOG_OVERHEAD, MAGIC, MAX_TIMESTAMP, PARTITION_LEADER_EPOCH,
  RECORDS_COUNT, RECORD_BATCH_OVERHEAD, TIMESTAMP_TYPE_MASK, isBatchCrcValid, readInt64, writeBatchCrc, writeInt64,
} from '../records/batch-header.js'
import { FileHandleCache } from './file-handle-cache.js'
import {
  CLEAN_SHUTDOWN_FILE, CLEANED_FILE_SUFFIX, DELETED_FILE_SUFFIX, LOG_START_OFFSET_CHECKPOINT_FILE, RECOVERY_POINT_CHECKPOINT_FILE,
  SWAP_FILE_SUFFIX, parsePartitionDirName,
} from './file-names.js'
import type { LogConfig } from './log-config.js'
import { loadLog, stderrLogger, writeOffsetCheckpoint, type Logger } from './log-loader.js'
import { LogSegment, type LogSegmentOptions } from './log-segment.js'
import { retentionDecision, segmentsBelowLogStartOffset } from './retention.js'

export type { Logger } from './log-loader.js'

/** How an append is made. */
export interface AppendOptions {
  /** Leader: true (offsets assigned from the log end). Follower replica: false (offsets kept; they must continue at or after the log end). */
  assignOffsets: boolean
  /** Stamped into each batch's partitionLeaderEpoch when assigning offsets. */
  leaderEpoch?: number
  /** Wall clock (ms) for LogAppendTime, `segment.ms` and retention; default the log's clock. */
  now?: number
  /**
   * Every batch's CRC-32C was already checked by the caller (e.g. on the codec pool, off the
   * shard thread, as DESIGN.md plans): skip that one check here. Every other check still runs,
   * and reads and recovery still verify CRCs. The CRC is ~7.7 µs of a 100 KB append. Default false.
   */
  crcVerified?: boolean
}

/** What an append did. */
export interface AppendResult {
  firstOffset: number
  lastOffset: number
  /** The stamped time with `message.timestamp.type=LogAppendTime` on the leader, else -1. */
  logAppendTime: number
  /** Greatest batch maxTimestamp of the append (after stamping). */
  maxTimestamp: number
  recordCount: number
  logStartOffset: number
  batchCount: number
}

/** How a read is bounded. */
export interface ReadOptions {
  /** Exclusive upper bound (e.g. the high watermark): no batch whose last offset reaches it is returned. */
  maxOffset?: number
  /** Return the first batch even when it is larger than maxBytes (Kafka's fetch rule). Default true. */
  minOneMessage?: boolean
}

/** What a read found. */
export interface ReadResult {
  /** Whole batches, back to back; an empty Buffer when there is nothing to return. */
  data: Buffer
  /** Base offset of the first batch returned (may be below the requested offset); the requested offset when empty. */
  firstOffset: number
  logStartOffset: number
  logEndOffset: number
}

/** Options of {@link PartitionLog.open}. */
export interface PartitionLogOptions {
  /** Shared descriptor cache (the LogManager's); a private one of 1000 is made when absent. */
  handles?: FileHandleCache
  /** Default: one line per message on stderr. */
  logger?: Logger
  /** Wall clock in ms; default Date.now. Tests inject their own. */
  now?: () => number
  /** `false` forces recovery even if the partition's clean-shutdown marker is present. */
  cleanShutdown?: boolean
  /** Check each batch's CRC before returning it from {@link PartitionLog.read}. Default true. */
  verifyCrcOnRead?: boolean
}

/** ListOffsets sentinel timestamps (Kafka's `ListOffsetsRequest`). */
export const LATEST_TIMESTAMP = -1
export const EARLIEST_TIMESTAMP = -2
export const MAX_TIMESTAMP_SENTINEL = -3
export const EARLIEST_LOCAL_TIMESTAMP = -4

const EMPTY = Buffer.alloc(0)
const INT32_MAX = 0x7fff_ffff

/** The log of one partition replica; see the module comment. */
export class PartitionLog {
  readonly topic: string
  readonly partition: number
  readonly dir: string
  /** True when the last open skipped recovery thanks to the clean-shutdown marker. */
  readonly hadCleanShutdown: boolean
  /** Check CRCs on read (see {@link PartitionLogOptions.verifyCrcOnRead}). */
  verifyCrcOnRead: boolean
  private currentConfig: LogConfig
  private readonly segments: LogSegment[]
  private startOffset: number
  private recoveryPointOffset: number
  private lastFlushTime: number
  private sizeBytes: number
  private readonly handles: FileHandleCache
  private readonly ownsHandles: boolean
  private readonly logger: Logger
  private readonly clock: () => number
  private closed = false
  /** Segment files were created or renamed since the partition directory was last fsynced. */
  private dirNeedsSync = false
  /** The partition directory itself was created by this open: its entry in the parent needs a sync too. */
  private parentDirNeedsSync = false
  /** Values last written to the checkpoint files (-1: none), to skip rewriting unchanged ones. */
  private checkpointedRecoveryPoint: number
  private checkpointedLogStart: number
  /** Start of each batch of the append being made, then its end (reused between appends). */
  private readonly batchStarts: number[] = []

  private constructor(dir: string, topic: string, partition: number, config: LogConfig, opts: PartitionLogOptions, handles: FileHandleCache) {
    this.dir = dir
    this.topic = topic
    this.partition = partition
    this.currentConfig = config
    this.handles = handles
    this.ownsHandles = opts.handles === undefined
    this.logger = opts.logger ?? stderrLogger
    this.clock = opts.now ?? Date.now
    this.verifyCrcOnRead = opts.verifyCrcOnRead ?? true
    const loaded = loadLog(dir, config, {
      topic, partition, handles, logger: this.logger, now: this.clock(), cleanShutdown: opts.cleanShutdown,
    })
    this.segments = loaded.segments
    this.startOffset = loaded.logStartOffset
    this.recoveryPointOffset = loaded.recoveryPoint
    this.hadCleanShutdown = loaded.hadCleanShutdown
    this.dirNeedsSync = loaded.createdSegment
    this.checkpointedRecoveryPoint = loaded.checkpointed.recoveryPoint
    this.checkpointedLogStart = loaded.checkpointed.logStartOffset
    this.lastFlushTime = this.clock()
    this.sizeBytes = this.segments.reduce((sum, s) => sum + s.size, 0)
  }

  /**
   * Opens (creating if needed) the log in `dir`, whose name must be `<topic>-<partition>`,
   * recovering it when its clean-shutdown marker is absent (see log-loader.ts).
   * @throws InvalidTopicError for a directory name that is not a valid partition name;
   *   KafkaStorageError when the files cannot be read.
   */
  static open(dir: string, config: LogConfig, opts: PartitionLogOptions = {}): PartitionLog {
    const parsed = parsePartitionDirName(basename(dir))
    if (!parsed) throw new InvalidTopicError(`${basename(dir)} is not a partition directory name (<topic>-<partition>)`)
    const handles = opts.handles ?? new FileHandleCache()
    try {
      const created = mkdirSync(dir, { recursive: true }) !== undefined
      const log = new PartitionLog(dir, parsed.topic, parsed.partition, config, opts, handles)
      log.parentDirNeedsSync = created
      // A new partition gets its first segment's .log, .index and .timeindex at once, as Kafka's
      // do when the log is created: creating a file costs 40-300 µs here, which the first appends
      // to each of a thousand new partitions would otherwise pay three times over.
      if (created) log.activeSegment.materialize()
      return log
    } catch (err) {
      handles.closeUnder(dir)
      throw asStorageError(err, `open of ${basename(dir)}`)
    }
  }

  /** The topic config in force. */
  get config(): LogConfig {
    return this.currentConfig
  }

  set config(config: LogConfig) {
    this.updateConfig(config)
  }

  /** Applies a new topic config (AlterConfigs); it takes effect from the next append, roll or retention run. */
  updateConfig(config: LogConfig): void {
    this.currentConfig = config
    const active = this.activeSegment
    active.indexIntervalBytes = config.indexIntervalBytes
    active.offsetIndex.resize(config.segmentIndexBytes)
    active.timeIndex.resize(config.segmentIndexBytes)
  }

  /** First offset that may be read (Kafka's log start offset / low watermark). */
  get logStartOffset(): number {
    return this.startOffset
  }

  /** The offset the next record will get. */
  get logEndOffset(): number {
    return this.activeSegment.nextOffset
  }

  /** Offsets below this are fsynced (and checkpointed). */
  get recoveryPoint(): number {
    return this.recoveryPointOffset
  }

  /** Records (offsets) written since the last flush. */
  get unflushedMessages(): number {
    return this.logEndOffset - this.recoveryPointOffset
  }

  /** Wall-clock time (ms) of the last flush (or of the open). */
  get lastFlushMs(): number {
    return this.lastFlushTime
  }

  /** Bytes of all segments. */
  get size(): number {
    return this.sizeBytes
  }

  /** Number of segments (including the active one). */
  get segmentCount(): number {
    return this.segments.length
  }

  /** The segments, oldest first; the last one is active. Read-only view for tools and tests. */
  get segmentList(): ReadonlyArray<LogSegment> {
    return this.segments
  }

  /** The segment taking appends. */
  get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!
  }

  /** True after {@link close} or {@link delete}. */
  get isClosed(): boolean {
    return this.closed
  }

  /**
   * Appends one or more batches laid back to back in `batches`, which is modified in place
   * (offsets, leader epoch, LogAppendTime). Either every batch is written or, if any batch is
   * invalid, none is and the error says which and why.
   * @throws CorruptRecordError (framing, magic, CRC, lastOffsetDelta), InvalidRecordError
   *   (a client batch whose record count does not match its offset range), RecordTooLargeError
   *   (a batch above `max.message.bytes`), RecordListTooLargeError (a batch above
   *   `segment.bytes`), UnknownServerError (follower offsets below the log end),
   *   KafkaStorageError (I/O).
   */
  append(batches: Buffer, opts: AppendOptions): AppendResult {
    this.ensureOpen()
    const now = opts.now ?? this.clock()
    const count = this.validateAppend(batches, opts.assignOffsets, opts.crcVerified === true)
    const starts = this.batchStarts
    const logAppendTime = opts.assignOffsets && this.currentConfig.messageTimestampType === 'LogAppendTime' ? now : -1
    let next = this.logEndOffset
    let maxTimestamp = -1
    let recordCount = 0
    let firstOffset = -1
    for (let i = 0; i < count; i++) {
      const pos = starts[i]!
      if (opts.assignOffsets) {
        writeInt64(batches, next, pos)
        if (opts.leaderEpoch !== undefined) batches.writeInt32BE(opts.leaderEpoch, pos + PARTITION_LEADER_EPOCH)
        if (logAppendTime >= 0) {
          batches.writeInt16BE(batches.readInt16BE(pos + ATTRIBUTES) | TIMESTAMP_TYPE_MASK, pos + ATTRIBUTES)
          writeInt64(batches, logAppendTime, pos + MAX_TIMESTAMP)
          writeBatchCrc(batches, pos, starts[i + 1]! - pos)
        }
      }
      const base = readInt64(batches, pos)
      if (i === 0) firstOffset = base
      next = base + batches.readInt32BE(pos + LAST_OFFSET_DELTA) + 1
      maxTimestamp = Math.max(maxTimestamp, readInt64(batches, pos + MAX_TIMESTAMP))
      recordCount += batches.readInt32BE(pos + RECORDS_COUNT)
    }
    try {
      this.writeBatches(batches, count, now)
      if (this.logEndOffset - this.recoveryPointOffset >= this.currentConfig.flushMessages) this.flushNow(now)
    } catch (err) {
      throw asStorageError(err, `append to ${this.name}`)
    }
    return {
      firstOffset, lastOffset: next - 1, logAppendTime, maxTimestamp, recordCount, logStartOffset: this.startOffset, batchCount: count,
    }
  }

  /**
   * Reads whole batches starting with the one holding `offset`, up to `maxBytes` (at least
   * one batch unless `minOneMessage` is false), none reaching `maxOffset`.
   * @throws OffsetOutOfRangeError when `offset` is below the log start or above the log end;
   *   CorruptRecordError when the first batch fails its checks; KafkaStorageError (I/O).
   */
  read(offset: number, maxBytes: number, opts: ReadOptions = {}): ReadResult {
    this.ensureOpen()
    const logEndOffset = this.logEndOffset
    if (!Number.isSafeInteger(offset) || offset < this.startOffset || offset > logEndOffset) {
      throw new OffsetOutOfRangeError(`Offset ${offset} is out of range for ${this.name}: log start offset ${this.startOffset}, log end offset ${logEndOffset}`)
    }
    const maxOffset = Math.min(opts.maxOffset ?? logEndOffset, logEndOffset)
    const empty: ReadResult = { data: EMPTY, firstOffset: offset, logStartOffset: this.startOffset, logEndOffset }
    if (offset >= maxOffset) return empty
    try {
      for (let i = this.floorSegmentIndex(offset); i < this.segments.length; i++) {
        const segment = this.segments[i]!
        const batch = segment.translateOffset(offset)
        if (!batch) continue // a gap after compaction, or the offset is past this segment's data
        const result = segment.read(batch.position, maxBytes, maxOffset, opts.minOneMessage ?? true, this.verifyCrcOnRead)
        return { ...empty, data: result.data, firstOffset: result.firstOffset ?? offset }
      }
      return empty
    } catch (err) {
      throw asStorageError(err, `read of ${this.name} at offset ${offset}`)
    }
  }

  /**
   * ListOffsets by timestamp: the first record at or after the log start whose timestamp is
   * >= `timestamp`, with that record's timestamp; null when there is none. Kafka's sentinels
   * are answered too: -1 latest (log end), -2 earliest and -4 earliest local (log start),
   * -3 the record with the greatest timestamp; their timestamp is -1 except for -3.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | null {
    this.ensureOpen()
    if (timestamp === LATEST_TIMESTAMP) return { offset: this.logEndOffset, timestamp: -1 }
    if (timestamp === EARLIEST_TIMESTAMP || timestamp === EARLIEST_LOCAL_TIMESTAMP) return { offset: this.startOffset, timestamp: -1 }
    try {
      if (timestamp === MAX_TIMESTAMP_SENTINEL) {
        let best: LogSegment | undefined
        for (const segment of this.segments) {
          if (segment.nextOffset > this.startOffset && segment.maxTimestampSoFar >= 0 && segment.maxTimestampSoFar > (best?.maxTimestampSoFar ?? -1)) best = segment
        }
        return best?.findOffsetByTimestamp(best.maxTimestampSoFar, this.startOffset) ?? null
      }
      if (timestamp < 0) return null
      for (let i = this.floorSegmentIndex(this.startOffset); i < this.segments.length; i++) {
        const segment = this.segments[i]!
        if (segment.maxTimestampSoFar < timestamp) continue
        const found = segment.findOffsetByTimestamp(timestamp, this.startOffset)
        if (found) return found
      }
      return null
    } catch (err) {
      throw asStorageError(err, `offset lookup by timestamp in ${this.name}`)
    }
  }

  /**
   * DeleteRecords: moves the log start offset up to `offset` (persisted at once) and deletes
   * the segments that lie entirely below it. A lower offset changes nothing.
   * @returns the new log start offset (the low watermark).
   * @throws OffsetOutOfRangeError when `offset` is above the log end.
   */
  deleteRecordsBefore(offset: number): number {
    this.ensureOpen()
    if (!Number.isSafeInteger(offset) || offset > this.logEndOffset) {
      throw new OffsetOutOfRangeError(`Cannot delete records of ${this.name} before ${offset}: the log end offset is ${this.logEndOffset}`)
    }
    if (offset <= this.startOffset) return this.startOffset
    try {
      this.startOffset = offset
      this.checkpointLogStartOffset()
      this.deleteLeadingSegments(segmentsBelowLogStartOffset(this.segments, offset), ['log-start-offset'])
      return this.startOffset
    } catch (err) {
      throw asStorageError(err, `deleteRecords of ${this.name}`)
    }
  }

  /**
   * Removes every batch at or after `offset` (a follower after a leader change): whole
   * segments beyond it go, the segment holding it is cut (the batch holding `offset` goes
   * whole), indexes follow, the log end becomes the end of what remains.
   */
  truncateTo(offset: number): void {
    this.ensureOpen()
    if (!Number.isSafeInteger(offset) || offset < 0) throw new OffsetOutOfRangeError(`Cannot truncate ${this.name} to ${offset}`)
    const before = this.logEndOffset
    if (offset >= before) return
    try {
      while (this.segments.length > 1 && this.activeSegment.baseOffset >= offset) this.segments.pop()!.deleteFiles()
      if (this.activeSegment.baseOffset >= offset) {
        // Kafka's truncateFullyAndStartAt: nothing below the target remains.
        this.segments.pop()!.deleteFiles()
        this.segments.push(this.createSegment(offset))
        this.startOffset = offset
      } else {
        this.activeSegment.makeActive()
        this.activeSegment.indexIntervalBytes = this.currentConfig.indexIntervalBytes
        this.activeSegment.truncateTo(offset)
      }
      const end = this.logEndOffset
      this.startOffset = Math.min(this.startOffset, end)
      // A lower recovery point must be durable before new data lands where the old was.
      this.recoveryPointOffset = Math.min(this.recoveryPointOffset, end)
      this.sizeBytes = this.segments.reduce((sum, s) => sum + s.size, 0)
      this.checkpointRecoveryPoint(true)
      this.checkpointLogStartOffset()
      this.logger.info('Truncated log', { partition: this.name, requestedOffset: offset, previousLogEndOffset: before, logEndOffset: end })
    } catch (err) {
      throw asStorageError(err, `truncation of ${this.name} to ${offset}`)
    }
  }

  /** Starts a new active segment at the log end (no-op when the active segment is empty). */
  roll(): void {
    this.ensureOpen()
    if (this.activeSegment.size === 0) return
    try {
      this.rollAt(this.logEndOffset)
    } catch (err) {
      throw asStorageError(err, `roll of ${this.name}`)
    }
  }

  /**
   * fsyncs every segment written since the recovery point (and the directory after a new
   * segment was created), then advances the recovery point to the log end and persists it.
   */
  flush(): void {
    this.ensureOpen()
    try {
      this.flushNow(this.clock())
    } catch (err) {
      throw asStorageError(err, `flush of ${this.name}`)
    }
  }

  /**
   * Deletes old segments by `retention.ms`, `retention.bytes` (with `cleanup.policy=delete`) and
   * the log start offset, never the active segment; see retention.ts.
   * @returns the number of segments deleted.
   */
  applyRetention(now?: number): number {
    this.ensureOpen()
    try {
      const decision = retentionDecision(this.segments, this.currentConfig, now ?? this.clock(), this.startOffset)
      return this.deleteLeadingSegments(decision.count, decision.reasons)
    } catch (err) {
      throw asStorageError(err, `retention of ${this.name}`)
    }
  }

  /** Every segment but the active one, oldest first: what the cleaner may compact. */
  segmentsForCleaning(): ReadonlyArray<LogSegment> {
    return this.segments.slice(0, -1)
  }

  /**
   * Writes a cleaned segment (files suffixed `.cleaned`) from `batches`, offsets kept, ready
   * for {@link replaceSegments}. Uses this log's descriptor cache and index settings.
   * `lastModifiedMs` becomes the `.log` mtime (Kafka's cleaner keeps the replaced segments' newest).
   */
  createCleanedSegment(baseOffset: number, batches: Iterable<Buffer>, lastModifiedMs?: number): LogSegment {
    this.ensureOpen()
    try {
      return LogSegment.createFromBatches(this.dir, baseOffset, batches, { ...this.segmentOptions(), fileSuffix: CLEANED_FILE_SUFFIX, lastModifiedMs })
    } catch (err) {
      throw asStorageError(err, `writing a cleaned segment of ${this.name}`)
    }
  }

  /**
   * Swaps a cleaned segment in for `oldSegments` (consecutive, not the active one), crash-safe
   * like Kafka's `replaceSegments`: the cleaned files are fsynced and renamed `.cleaned` ->
   * `.swap` (the commit point: after a crash the loader completes the swap), the old segments
   * are renamed `.deleted` and removed, then the `.swap` files get their final names.
   * Old segments entirely beyond the cleaned data are deleted first, so the loader's rule
   * (replace the segments whose base offset lies in the swap's offset range) covers the rest.
   * An empty cleaned segment replacing the log's first segment is kept (as an empty file): its
   * base offset anchors the log start offset on reload. Any other empty one just deletes the old.
   */
  replaceSegments(oldSegments: LogSegment[], newSegment: LogSegment): void {
    this.ensureOpen()
    const first = oldSegments.length > 0 ? this.segments.indexOf(oldSegments[0]!) : -1
    const following = this.segments[first + oldSegments.length]
    if (first < 0 || !following || oldSegments.some((s, k) => this.segments[first + k] !== s)) {
      throw new UnknownServerError(`replaceSegments on ${this.name}: the old segments must be consecutive segments of this log, not the active one`)
    }
    const empty = newSegment.size === 0
    if (!empty && (newSegment.baseOffset < oldSegments[0]!.baseOffset || newSegment.nextOffset > following.baseOffset)) {
      throw new UnknownServerError(`replaceSegments on ${this.name}: cleaned offsets [${newSegment.baseOffset}, ${newSegment.nextOffset}) exceed the replaced range [${oldSegments[0]!.baseOffset}, ${following.baseOffset})`)
    }
    const keepAnchor = empty && first === 0 && newSegment.baseOffset === oldSegments[0]!.baseOffset
    try {
      const rangeEnd = keepAnchor ? newSegment.baseOffset + 1 : newSegment.nextOffset
      const beyond = oldSegments.filter((s) => (empty && !keepAnchor) || s.baseOffset >= rangeEnd)
      const covered = oldSegments.filter((s) => !beyond.includes(s))
      for (const s of beyond) s.deleteFiles()
      if (empty && !keepAnchor) {
        newSegment.deleteFiles()
      } else {
        if (keepAnchor) newSegment.materialize()
        newSegment.flushAll()
        if (newSegment.fileSuffix !== SWAP_FILE_SUFFIX) newSegment.changeFileSuffix(SWAP_FILE_SUFFIX)
        for (const s of covered) s.changeFileSuffix(DELETED_FILE_SUFFIX)
        newSegment.changeFileSuffix('')
        for (const s of covered) s.deleteFiles()
      }
      this.segments.splice(first, oldSegments.length, ...(empty && !keepAnchor ? [] : [newSegment]))
      this.sizeBytes = this.segments.reduce((sum, s) => sum + s.size, 0)
      this.dirNeedsSync = true
    } catch (err) {
      throw asStorageError(err, `segment swap in ${this.name}`)
    }
  }

  /**
   * Clean shutdown: seals the active segment's indexes, fsyncs everything unflushed, persists
   * both checkpoints, writes this partition's clean-shutdown marker (unless the log is empty:
   * there is nothing to recover) and closes the descriptors. Idempotent.
   */
  close(): void {
    if (this.closed) return
    try {
      this.activeSegment.seal()
      // Only files changed since they were last synced are fsynced: closing 10,000 idle logs is cheap.
      for (let i = this.floorSegmentIndex(this.recoveryPointOffset); i < this.segments.length; i++) this.segments[i]!.flushAll()
      this.syncDirIfNeeded()
      this.recoveryPointOffset = this.logEndOffset
      // Not fsynced: while the marker exists the checkpoint is not read, and without it an older
      // recovery point only means a longer recovery. The marker itself follows the synced data.
      this.checkpointRecoveryPoint(false)
      this.checkpointLogStartOffset()
      // An empty log has nothing to recover, so it needs no marker (and an idle partition no write).
      if (this.sizeBytes > 0) writeFileSync(join(this.dir, CLEAN_SHUTDOWN_FILE), '')
    } catch (err) {
      throw asStorageError(err, `close of ${this.name}`)
    } finally {
      this.closed = true
      this.releaseHandles()
    }
  }

  /** Closes without flushing and removes the partition directory and everything in it. */
  delete(): void {
    this.closed = true
    this.releaseHandles()
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** Closes the descriptors without flushing or marking a clean shutdown (a crash, for tests and for removal). */
  abandon(): void {
    this.closed = true
    this.releaseHandles()
  }

  private get name(): string {
    return `${this.topic}-${this.partition}`
  }

  private ensureOpen(): void {
    if (this.closed) throw new KafkaStorageError(`The log of ${this.name} is closed`)
  }

  private releaseHandles(): void {
    if (this.ownsHandles) this.handles.closeAll()
    else this.handles.closeUnder(this.dir)
  }

  /**
   * Checks every batch of an append before anything is changed or written; records where each
   * starts in {@link batchStarts}. Returns the number of batches.
   */
  private validateAppend(buf: Buffer, assignOffsets: boolean, crcVerified: boolean): number {
    const config = this.currentConfig
    const starts = this.batchStarts
    starts.length = 0
    if (buf.length === 0) throw new CorruptRecordError(`Append to ${this.name} holds no record batch`)
    let expected = this.logEndOffset
    let pos = 0
    while (pos < buf.length) {
      const where = `batch ${starts.length} (byte ${pos}) of the append to ${this.name}`
      if (buf.length - pos < RECORD_BATCH_OVERHEAD) throw new CorruptRecordError(`${where}: ${buf.length - pos} bytes left, less than a batch header (${RECORD_BATCH_OVERHEAD})`)
      const size = buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD
      if (size < RECORD_BATCH_OVERHEAD) throw new CorruptRecordError(`${where}: batchLength ${size - LOG_OVERHEAD} is below the minimum ${RECORD_BATCH_OVERHEAD - LOG_OVERHEAD}`)
      if (size > buf.length - pos) throw new CorruptRecordError(`${where}: batch of ${size} bytes is cut off after ${buf.length - pos} bytes`)
      const magic = buf.readInt8(pos + MAGIC)
      if (magic !== CURRENT_MAGIC) throw new CorruptRecordError(`${where}: magic ${magic}; only magic ${CURRENT_MAGIC} (RecordBatch v2) is supported`)
      if (size > config.maxMessageBytes) {
        throw new RecordTooLargeError(`The record batch size in the append to ${this.name} is ${size} bytes which exceeds the maximum configured value of ${config.maxMessageBytes} (max.message.bytes).`)
      }
      if (size > config.segmentBytes) {
        throw new RecordListTooLargeError(`Message batch size is ${size} bytes in append to partition ${this.name} which exceeds the maximum configured segment size of ${config.segmentBytes} (segment.bytes).`)
      }
      const delta = buf.readInt32BE(pos + LAST_OFFSET_DELTA)
      const count = buf.readInt32BE(pos + RECORDS_COUNT)
      if (delta < 0) throw new CorruptRecordError(`${where}: lastOffsetDelta ${delta} is negative`)
      if (assignOffsets && count !== delta + 1) {
        throw new InvalidRecordError(`${where}: inconsistent batch offset range [0, ${delta}] and count of records ${count}`)
      }
      if (count < 0 || count > delta + 1) throw new CorruptRecordError(`${where}: records count ${count} does not fit lastOffsetDelta ${delta}`)
      if (!crcVerified && !isBatchCrcValid(buf, pos, size)) throw new CorruptRecordError(`${where}: CRC-32C mismatch (stored ${buf.readUInt32BE(pos + 17)})`)
      if (!assignOffsets) {
        const base = readInt64(buf, pos)
        if (base < expected) {
          throw new UnknownServerError(`${where}: follower append at offset ${base} below the expected offset ${expected} (truncate first)`)
        }
        expected = base + delta + 1
      }
      starts.push(pos)
      pos += size
    }
    starts.push(pos)
    return starts.length - 1
  }

  /**
   * Writes validated batches: each run of batches that fits the active segment with one
   * pwrite, rolling before a run on Kafka's conditions (`shouldRoll`).
   */
  private writeBatches(buf: Buffer, count: number, now: number): void {
    const starts = this.batchStarts
    const config = this.currentConfig
    let i = 0
    while (i < count) {
      const runStart = starts[i]!
      const remainingBytes = starts[count]! - runStart
      const firstBase = readInt64(buf, runStart)
      let remainingMaxTs = -1
      for (let k = i; k < count; k++) remainingMaxTs = Math.max(remainingMaxTs, readInt64(buf, starts[k]! + MAX_TIMESTAMP))
      let active = this.activeSegment
      const firstLast = firstBase + buf.readInt32BE(runStart + LAST_OFFSET_DELTA)
      if (active.size === 0) {
        // An empty segment takes any batch that fits; it is only re-based when the offsets would not fit it.
        if (firstLast - active.baseOffset > INT32_MAX) active = this.rollAt(firstBase)
      } else if (
        active.size > config.segmentBytes - remainingBytes ||
        active.timeWaitedForRoll(now, remainingMaxTs) > config.segmentMs ||
        active.offsetIndex.isFull || active.timeIndex.isFull ||
        firstLast - active.baseOffset > INT32_MAX
      ) {
        active = this.rollAt(firstBase)
      }
      let j = i + 1
      while (j < count && active.size + (starts[j + 1]! - runStart) <= config.segmentBytes &&
        readInt64(buf, starts[j]!) + buf.readInt32BE(starts[j]! + LAST_OFFSET_DELTA) - active.baseOffset <= INT32_MAX) j++
      active.append(buf, runStart, starts[j]!, now)
      this.sizeBytes += starts[j]! - runStart
      i = j
    }
  }

  /** Seals the active segment and starts a new one at `baseOffset` (an empty active segment is replaced). */
  private rollAt(baseOffset: number): LogSegment {
    const old = this.activeSegment
    if (old.size === 0) {
      if (old.baseOffset === baseOffset) return old
      this.segments.pop()
      old.deleteFiles()
    } else {
      old.seal()
    }
    const created = this.createSegment(baseOffset)
    this.segments.push(created)
    return created
  }

  private createSegment(baseOffset: number): LogSegment {
    this.dirNeedsSync = true
    return LogSegment.create(this.dir, baseOffset, this.segmentOptions())
  }

  private segmentOptions(): LogSegmentOptions {
    return {
      handles: this.handles, indexIntervalBytes: this.currentConfig.indexIntervalBytes, maxIndexSize: this.currentConfig.segmentIndexBytes,
      now: this.clock(), logger: this.logger,
    }
  }

  private flushNow(now: number): void {
    const end = this.logEndOffset
    if (end === this.recoveryPointOffset && !this.dirNeedsSync) return
    for (let i = this.floorSegmentIndex(this.recoveryPointOffset); i < this.segments.length; i++) this.segments[i]!.flush()
    this.syncDirIfNeeded()
    this.recoveryPointOffset = end
    this.lastFlushTime = now
    this.checkpointRecoveryPoint(false)
  }

  /**
   * fsyncs the partition directory after segment files were created or renamed (Kafka's
   * flushDir). Skipped while the log holds no bytes: losing the entries of empty files loses nothing.
   */
  private syncDirIfNeeded(): void {
    if (this.sizeBytes === 0) return
    if (this.dirNeedsSync) {
      syncDirectory(this.dir)
      this.dirNeedsSync = false
    }
    if (this.parentDirNeedsSync) {
      syncDirectory(dirname(this.dir))
      this.parentDirNeedsSync = false
    }
  }

  /**
   * Persists the log start offset (fsynced: an older value would resurrect deleted records).
   * Skipped when loading would derive the same value anyway (the greater of the file's value
   * and the first segment's base offset), which is the common case and keeps closing many idle
   * logs free of fsyncs.
   */
  private checkpointLogStartOffset(): void {
    if (Math.max(this.checkpointedLogStart, this.segments[0]!.baseOffset) === this.startOffset) return
    writeOffsetCheckpoint(join(this.dir, LOG_START_OFFSET_CHECKPOINT_FILE), this.topic, this.partition, this.startOffset, true)
    this.checkpointedLogStart = this.startOffset
  }

  /** Persists the recovery point when it changed; `durable` when a lower value must survive a crash. */
  private checkpointRecoveryPoint(durable: boolean): void {
    if (this.recoveryPointOffset === this.checkpointedRecoveryPoint) return
    // Without a file, loading recovers from the first segment: nothing to write for an empty log.
    if (this.checkpointedRecoveryPoint === -1 && this.sizeBytes === 0) return
    writeOffsetCheckpoint(join(this.dir, RECOVERY_POINT_CHECKPOINT_FILE), this.topic, this.partition, this.recoveryPointOffset, durable)
    this.checkpointedRecoveryPoint = this.recoveryPointOffset
  }

  /** Deletes the first `count` segments (never the active one) and raises the log start offset to what remains. */
  private deleteLeadingSegments(count: number, reasons: string[]): number {
    const n = Math.min(count, this.segments.length - 1)
    if (n <= 0) return 0
    const deleted = this.segments.splice(0, n)
    const newStart = Math.max(this.startOffset, this.segments[0]!.baseOffset)
    if (newStart !== this.startOffset) {
      this.startOffset = newStart
      this.checkpointLogStartOffset() // before the files go: a crash must not resurrect readable offsets
    }
    for (const segment of deleted) segment.deleteFiles()
    this.sizeBytes = this.segments.reduce((sum, s) => sum + s.size, 0)
    this.logger.info('Deleted old segments', { partition: this.name, reasons, baseOffsets: deleted.map((s) => s.baseOffset), logStartOffset: this.startOffset })
    return n
  }

  /** Index of the last segment whose base offset is <= `offset` (0 when none is). */
  private floorSegmentIndex(offset: number): number {
    let lo = 0
    let hi = this.segments.length - 1
    let found = 0
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }
}

function syncDirectory(path: string): void {
  const fd = openSync(path, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/** Typed errors pass through; anything else (fs errors) becomes KAFKA_STORAGE_ERROR with the cause kept. */
function asStorageError(err: unknown, what: string): Error {
  if (isShardlogError(err)) return err
  const message = err instanceof Error ? err.message : String(err)
  return new KafkaStorageError(`I/O error during ${what}: ${message}`, { cause: err })
}
