/**
 * The time index of one segment (`<base>.timeindex`), Kafka's on-disk format: a sparse,
 * sorted array of 12-byte big-endian entries
 *
 * ```
 * off size field
 *   0   8  timestamp       int64  the greatest batch maxTimestamp seen up to this entry
 *   8   4  relativeOffset  int32  last offset of the batch holding that timestamp - baseOffset
 * ```
 *
 * As in Kafka's `TimeIndex`, an entry is added together with each offset index entry, but
 * only when the timestamp grew, so both columns are non-decreasing; when a segment becomes
 * inactive (roll, close) a final entry records its greatest timestamp, which is then the
 * segment's `largestTimestamp` for retention. A lookup returns the greatest entry whose
 * timestamp is <= the target: batches before that entry's offset are all older than the
 * target, so the search for a timestamp starts there.
 *
 * Same lifecycle as the offset index (append-only file created lazily, entries in memory while
 * active, positional reads while sealed); see offset-index.ts.
 *
 * Thread: owned by its LogSegment on one shard thread; not thread-safe.
 */
import { CorruptRecordError } from '../errors.js'
import { readInt64, writeInt64 } from '../records/batch-header.js'
import type { FileHandleCache } from './file-handle-cache.js'
import { AbstractIndex } from './offset-index.js'

/** A timestamp and the offset it was seen at. */
export interface TimestampOffset {
  timestamp: number
  offset: number
}

/** Sparse map from timestamps to offsets (see module comment). */
export class TimeIndex extends AbstractIndex {
  /** Bytes per entry: int64 timestamp, int32 relative offset. */
  static readonly ENTRY_SIZE = 12
  private lastTimestamp = -1
  private lastRelative = -1
  private readonly timestampAt = (i: number): number => {
    const at = this.locate(i) // sets this.view: read it only afterwards
    return readInt64(this.view, at)
  }
  private readonly relativeAt = (i: number): number => {
    const at = this.locate(i)
    return this.view.readInt32BE(at + 8)
  }

  private constructor(path: string, baseOffset: number, maxIndexSize: number, handles: FileHandleCache, entries: number, fileExists: boolean) {
    super(path, baseOffset, maxIndexSize, handles, TimeIndex.ENTRY_SIZE, entries, fileExists)
  }

  /** A new empty, mutable index; its file is created lazily (an old file at `path` is removed). */
  static create(path: string, baseOffset: number, maxIndexSize: number, handles: FileHandleCache): TimeIndex {
    AbstractIndex.removeStale(path, handles)
    const index = new TimeIndex(path, baseOffset, maxIndexSize, handles, 0, false)
    index.makeMutable()
    return index
  }

  /**
   * Opens an existing time index file, sealed, with Kafka's sanity checks: whole entries, a
   * last entry not older than the first and not below the base offset.
   * @throws CorruptRecordError when the file is corrupt; the fs error (ENOENT) when missing.
   */
  static open(path: string, baseOffset: number, maxIndexSize: number, handles: FileHandleCache): TimeIndex {
    const entries = AbstractIndex.entriesInFile(path, handles, TimeIndex.ENTRY_SIZE)
    const index = new TimeIndex(path, baseOffset, maxIndexSize, handles, entries, true)
    index.loadLastEntry()
    if (entries > 0) {
      const first = index.timestampAt(0)
      if (index.lastRelative < 0 || index.lastTimestamp < first) {
        throw new CorruptRecordError(`Corrupt time index file ${path}: last entry (${index.lastTimestamp}, ${index.lastRelative}) before first timestamp ${first}`)
      }
    }
    return index
  }

  /** The last entry, or (-1, baseOffset) when empty (Kafka's `TimeIndex.lastEntry`). */
  get lastEntry(): TimestampOffset {
    return this.count === 0 ? { timestamp: -1, offset: this.baseOffset } : { timestamp: this.lastTimestamp, offset: this.baseOffset + this.lastRelative }
  }

  /** Entry `i`. */
  entry(i: number): TimestampOffset {
    if (i < 0 || i >= this.count) throw new RangeError(`Time index entry ${i} out of range [0, ${this.count})`)
    const at = this.locate(i)
    return { timestamp: readInt64(this.view, at), offset: this.baseOffset + this.view.readInt32BE(at + 8) }
  }

  /** The greatest entry whose timestamp is <= `targetTimestamp`, or (-1, baseOffset). */
  lookup(targetTimestamp: number): TimestampOffset {
    if (this.count === 0) return { timestamp: -1, offset: this.baseOffset }
    if (targetTimestamp >= this.lastTimestamp) return this.lastEntry
    const i = this.findLargestAtMost(targetTimestamp, this.timestampAt)
    return i < 0 ? { timestamp: -1, offset: this.baseOffset } : this.entry(i)
  }

  /**
   * Appends (timestamp, offset) when the timestamp is greater than the last one (Kafka's
   * `maybeAppend`); `force` appends even to a full index (the final entry of a segment).
   */
  maybeAppend(timestamp: number, offset: number, force = false): void {
    if (timestamp <= this.lastTimestamp || timestamp < 0) return
    if (this.isFull && !force) return
    const relative = offset - this.baseOffset
    if (relative < this.lastRelative || relative < 0 || relative > 0x7fff_ffff) {
      throw new Error(`Time index ${this.filePath}: offset ${offset} does not follow ${this.baseOffset + this.lastRelative}`)
    }
    const at = this.slotForAppend()
    writeInt64(this.mem!, timestamp, at)
    this.mem!.writeInt32BE(relative, at + 8)
    this.lastTimestamp = timestamp
    this.lastRelative = relative
    this.commitAppend()
  }

  /** Removes every entry whose offset is >= `offset` (Kafka's `TimeIndex.truncateTo`). */
  truncateTo(offset: number): void {
    const keep = this.findLargestAtMost(offset - this.baseOffset - 1, this.relativeAt) + 1
    this.truncateToEntries(keep)
  }

  override truncateToEntries(entries: number): void {
    super.truncateToEntries(entries)
    this.loadLastEntry()
  }

  /**
   * Full check of every entry (used when recovery cannot trust the files): non-decreasing
   * timestamps and offsets, offsets below `nextOffset`.
   * @throws CorruptRecordError naming the first bad entry.
   */
  validateEntries(nextOffset: number): void {
    let prevTs = -1
    let prevRel = -1
    for (let i = 0; i < this.count; i++) {
      const at = this.locate(i)
      const ts = readInt64(this.view, at)
      const rel = this.view.readInt32BE(at + 8)
      if (ts < prevTs || rel < prevRel || this.baseOffset + rel >= nextOffset) {
        throw new CorruptRecordError(`Corrupt time index file ${this.filePath}: entry ${i} (${ts}, ${rel}) after (${prevTs}, ${prevRel}), next offset ${nextOffset}`)
      }
      prevTs = ts
      prevRel = rel
    }
  }

  private loadLastEntry(): void {
    if (this.count === 0) {
      this.lastTimestamp = -1
      this.lastRelative = -1
      return
    }
    const at = this.locate(this.count - 1)
    this.lastTimestamp = readInt64(this.view, at)
    this.lastRelative = this.view.readInt32BE(at + 8)
  }
}
