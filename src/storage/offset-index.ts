/**
 * The offset index of one segment (`<base>.index`), Kafka's on-disk format: a sparse,
 * sorted array of 8-byte big-endian entries
 *
 * ```
 * off size field
 *   0   4  relativeOffset  int32  lastOffset of the indexed batch - segment baseOffset
 *   4   4  position        int32  file position of that batch in the segment's .log
 * ```
 *
 * As in Kafka, an entry names the *last* offset of the batch that starts at `position`
 * (so Kafka's `DumpLogSegments --verify-index-only` accepts these files), and one entry is
 * added after every `index.interval.bytes` of batches. A lookup returns the greatest entry
 * whose offset is <= the target; the segment then scans batch headers forward from there.
 *
 * Lifecycle (the choice documented in README.md): files are **append-only, not preallocated**,
 * and created lazily (as Kafka's `LazyIndex` does): when the first entries are written, or when
 * a non-empty segment is sealed or closed, so that creating a partition costs one file.
 * The active segment keeps all its entries in memory (at most `segment.index.bytes`, 10 MiB by
 * default, usually far less), appends to memory, and writes pending entries to the file
 * positionally in batches, on flush, on roll and on close. No mmap: Node has none, and the
 * page cache serves the positional reads of sealed indexes just as well. A sealed (inactive)
 * index holds nothing in memory and binary-searches the file with positional reads.
 * `segment.index.bytes` still bounds the file: a full index rolls the segment.
 * Entries buffered at a crash are lost; recovery rebuilds the index of every segment at or
 * after the recovery point from the log, so a short index is never trusted blindly.
 *
 * Thread: owned by its LogSegment on one shard thread; not thread-safe.
 */
import { fstatSync, fsyncSync, ftruncateSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs'
import { CorruptRecordError } from '../errors.js'
import type { FileHandleCache } from './file-handle-cache.js'

/** Pending entries written to the file in one pwrite once this many have accumulated. */
const WRITE_BATCH_ENTRIES = 512
const INITIAL_CAPACITY_ENTRIES = 64
const INT32_MAX = 0x7fff_ffff

/**
 * What Kafka's `AbstractIndex` does for both indexes: the entry array in memory (mutable) or
 * on disk (sealed), batched positional writes, binary search, truncation, rename and delete.
 */
export abstract class AbstractIndex {
  readonly baseOffset: number
  /** Entries the index may hold: `floor(segment.index.bytes / entrySize)`. */
  maxEntries: number
  protected filePath: string
  protected readonly handles: FileHandleCache
  protected readonly entrySize: number
  /** All entries when mutable; null when sealed. */
  protected mem: Buffer | null = null
  protected count: number
  /** Entries already written to the file. */
  protected persisted: number
  /** Bytes were written or cut since the last fsync. */
  private dirty = false
  /** False until the file is created (lazily, see the module comment). */
  protected fileExists: boolean
  /** Where {@link locate} put the entry: `mem` or `scratch`. */
  protected view: Buffer
  private readonly scratch: Buffer

  protected constructor(path: string, baseOffset: number, maxIndexSize: number, handles: FileHandleCache, entrySize: number, entries: number, fileExists: boolean) {
    this.fileExists = fileExists
    this.filePath = path
    this.baseOffset = baseOffset
    this.handles = handles
    this.entrySize = entrySize
    this.maxEntries = Math.floor(maxIndexSize / entrySize)
    this.count = entries
    this.persisted = entries
    this.scratch = Buffer.alloc(entrySize)
    this.view = this.scratch
  }

  /** Counts the entries of an existing index file; a size that is not a whole number of entries is corrupt. */
  protected static entriesInFile(path: string, handles: FileHandleCache, entrySize: number): number {
    const size = fstatSync(handles.fd(path)).size
    if (size % entrySize !== 0) {
      throw new CorruptRecordError(`Corrupt index file ${path}: size ${size} is not a multiple of the entry size ${entrySize}`)
    }
    return size / entrySize
  }

  /** Current path of the index file. */
  get path(): string {
    return this.filePath
  }

  /** Number of entries. */
  get entries(): number {
    return this.count
  }

  /** True when no further entry fits within `segment.index.bytes` (Kafka rolls the segment then). */
  get isFull(): boolean {
    return this.count >= this.maxEntries
  }

  /** True while the entries live in memory (active segment). */
  get isMutable(): boolean {
    return this.mem !== null
  }

  /** Bytes of entries (written or pending). */
  get sizeInBytes(): number {
    return this.count * this.entrySize
  }

  /** Changes the bound (after an update of `segment.index.bytes`). */
  resize(maxIndexSize: number): void {
    this.maxEntries = Math.floor(maxIndexSize / this.entrySize)
  }

  /** Loads every entry into memory so that appends and lookups need no I/O (the active segment). */
  makeMutable(): void {
    if (this.mem) return
    const mem = Buffer.allocUnsafe(Math.max(INITIAL_CAPACITY_ENTRIES, this.count * 2) * this.entrySize)
    const bytes = this.persisted * this.entrySize
    if (bytes > 0) readFully(this.handles, this.filePath, mem, bytes, 0)
    this.mem = mem
  }

  /** Writes pending entries and drops the in-memory copy (the segment became inactive). */
  seal(): void {
    this.flush()
    this.mem = null
  }

  /** Writes the pending entries to the file with one positional write. */
  flush(): void {
    if (this.count <= this.persisted || !this.mem) return
    const from = this.persisted * this.entrySize
    const length = (this.count - this.persisted) * this.entrySize
    this.materialize()
    writeFully(this.handles, this.filePath, this.mem, from, length, from)
    this.persisted = this.count
    this.dirty = true
  }

  /** Creates the (empty) file if it does not exist yet, so that a clean load finds it. */
  materialize(): void {
    if (this.fileExists) return
    this.handles.fdCreate(this.filePath)
    this.fileExists = true
  }

  /** Removes a file left at `path` by an earlier segment of the same name (the index starts empty). */
  protected static removeStale(path: string, handles: FileHandleCache): void {
    handles.close(path)
    try {
      unlinkSync(path)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }

  /** Writes pending entries and fsyncs the file when it changed since the last sync. */
  sync(): void {
    this.flush()
    if (!this.dirty) return
    fsyncSync(this.handles.fd(this.filePath))
    this.dirty = false
  }

  /** Keeps the first `entries` entries. */
  truncateToEntries(entries: number): void {
    if (entries >= this.count) return
    this.count = entries
    if (this.persisted > entries) {
      ftruncateSync(this.handles.fd(this.filePath), entries * this.entrySize)
      this.persisted = entries
      this.dirty = true
    }
  }

  /** Removes every entry (before a rebuild). */
  reset(): void {
    this.truncateToEntries(0)
  }

  /** Renames the file (temp suffix changes during compaction and deletion). */
  renameTo(newPath: string): void {
    this.flush()
    this.handles.close(this.filePath)
    if (this.fileExists) renameSync(this.filePath, newPath)
    else AbstractIndex.removeStale(newPath, this.handles)
    this.filePath = newPath
  }

  /** Closes the descriptor after writing pending entries. */
  close(): void {
    this.flush()
    this.handles.close(this.filePath)
  }

  /** Closes and removes the file (a missing file is fine). */
  deleteFile(): void {
    this.handles.close(this.filePath)
    this.mem = null
    this.fileExists = false
    try {
      unlinkSync(this.filePath)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }

  /** Reserves room for one more entry in memory and returns its byte position there. */
  protected slotForAppend(): number {
    const mem = this.mem
    if (!mem) throw new Error(`Index ${this.filePath} is sealed; appends go to the active segment only`)
    const at = this.count * this.entrySize
    if (at + this.entrySize > mem.length) {
      const grown = Buffer.allocUnsafe(mem.length * 2)
      mem.copy(grown, 0, 0, at)
      this.mem = grown
    }
    return at
  }

  /** Counts the entry written at {@link slotForAppend}; writes a batch of pending entries when due. */
  protected commitAppend(): void {
    this.count++
    if (this.count - this.persisted >= WRITE_BATCH_ENTRIES) this.flush()
  }

  /** Makes entry `i` readable in {@link view}; returns its byte position there. */
  protected locate(i: number): number {
    if (this.mem) {
      this.view = this.mem
      return i * this.entrySize
    }
    readFully(this.handles, this.filePath, this.scratch, this.entrySize, i * this.entrySize)
    this.view = this.scratch
    return 0
  }

  /** Index of the greatest entry whose key is <= `target`, or -1; keys must be sorted. */
  protected findLargestAtMost(target: number, keyAt: (i: number) => number): number {
    let lo = 0
    let hi = this.count - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (keyAt(mid) <= target) {
        found = mid
        lo = mid + 1
      } else {
        hi = mid - 1
      }
    }
    return found
  }
}

/** An offset and the file position of the batch it names. */
export interface OffsetPosition {
  offset: number
  position: number
}

/** Sparse map from a batch's last offset to its position in the segment's .log (see module comment). */
export class OffsetIndex extends AbstractIndex {
  /** Bytes per entry: int32 relative offset, int32 position. */
  static readonly ENTRY_SIZE = 8
  private lastRelative = -1
  private lastPosition = -1
  private readonly keyAt = (i: number): number => {
    const at = this.locate(i)
    return this.view.readInt32BE(at)
  }

  private constructor(path: string, baseOffset: number, maxIndexSize: number, handles: FileHandleCache, entries: number, fileExists: boolean) {
    super(path, baseOffset, maxIndexSize, handles, OffsetIndex.ENTRY_SIZE, entries, fileExists)
  }

  /** A new empty, mutable index; its file is created lazily (an old file at `path` is removed). */
  static create(path: string, baseOffset: number, maxIndexSize: number, handles: FileHandleCache): OffsetIndex {
    AbstractIndex.removeStale(path, handles)
    const index = new OffsetIndex(path, baseOffset, maxIndexSize, handles, 0, false)
    index.makeMutable()
    return index
  }

  /**
   * Opens an existing index file, sealed. Checks what Kafka's `sanityCheck` checks: whole
   * entries, and a last entry at or after the base offset.
   * @throws CorruptRecordError when the file is corrupt; the fs error (ENOENT) when missing.
   */
  static open(path: string, baseOffset: number, maxIndexSize: number, handles: FileHandleCache): OffsetIndex {
    const entries = AbstractIndex.entriesInFile(path, handles, OffsetIndex.ENTRY_SIZE)
    const index = new OffsetIndex(path, baseOffset, maxIndexSize, handles, entries, true)
    index.loadLastEntry()
    if (entries > 0 && (index.lastRelative < 0 || index.lastPosition < 0)) {
      throw new CorruptRecordError(`Corrupt index file ${path}: last entry (${index.lastRelative}, ${index.lastPosition}) is negative`)
    }
    return index
  }

  /** The last entry, or (baseOffset, 0) when empty. */
  get lastEntry(): OffsetPosition {
    return this.count === 0 ? { offset: this.baseOffset, position: 0 } : { offset: this.baseOffset + this.lastRelative, position: this.lastPosition }
  }

  /** Entry `i` as absolute offset and position. */
  entry(i: number): OffsetPosition {
    if (i < 0 || i >= this.count) throw new RangeError(`Index entry ${i} out of range [0, ${this.count})`)
    const at = this.locate(i)
    return { offset: this.baseOffset + this.view.readInt32BE(at), position: this.view.readInt32BE(at + 4) }
  }

  /**
   * The greatest entry whose offset is <= `targetOffset` (binary search), or
   * (baseOffset, 0) when there is none: the position to scan forward from.
   */
  lookup(targetOffset: number): OffsetPosition {
    const relative = Math.min(targetOffset - this.baseOffset, INT32_MAX)
    if (relative < 0 || this.count === 0) return { offset: this.baseOffset, position: 0 }
    if (relative >= this.lastRelative) return this.lastEntry
    const i = this.findLargestAtMost(relative, this.keyAt)
    return i < 0 ? { offset: this.baseOffset, position: 0 } : this.entry(i)
  }

  /** True when `offset` can be stored relative to this index's base offset (an int32). */
  canAppendOffset(offset: number): boolean {
    const relative = offset - this.baseOffset
    return relative >= 0 && relative <= INT32_MAX
  }

  /**
   * Appends an entry for the batch ending at `offset` that starts at `position`. Offsets and
   * positions must increase; a broken order is a bug and throws with the values.
   */
  append(offset: number, position: number): void {
    const relative = offset - this.baseOffset
    if (relative <= this.lastRelative || position <= this.lastPosition || relative > INT32_MAX || position > INT32_MAX) {
      throw new Error(`Offset index ${this.filePath}: entry (${offset}, ${position}) does not follow (${this.baseOffset + this.lastRelative}, ${this.lastPosition})`)
    }
    const at = this.slotForAppend()
    this.mem!.writeInt32BE(relative, at)
    this.mem!.writeInt32BE(position, at + 4)
    this.lastRelative = relative
    this.lastPosition = position
    this.commitAppend()
  }

  /** Removes every entry whose offset is >= `offset` (Kafka's `OffsetIndex.truncateTo`). */
  truncateTo(offset: number): void {
    const keep = this.findLargestAtMost(offset - this.baseOffset - 1, this.keyAt) + 1
    this.truncateToEntries(keep)
  }

  override truncateToEntries(entries: number): void {
    super.truncateToEntries(entries)
    this.loadLastEntry()
  }

  /**
   * Full check of every entry against the log (used when recovery cannot trust the files):
   * strictly increasing offsets and positions, all positions inside the log.
   * @throws CorruptRecordError naming the first bad entry.
   */
  validateEntries(logSize: number): void {
    let prevRel = -1
    let prevPos = -1
    for (let i = 0; i < this.count; i++) {
      const at = this.locate(i)
      const rel = this.view.readInt32BE(at)
      const pos = this.view.readInt32BE(at + 4)
      if (rel <= prevRel || pos <= prevPos || pos >= logSize) {
        throw new CorruptRecordError(`Corrupt index file ${this.filePath}: entry ${i} (${rel}, ${pos}) after (${prevRel}, ${prevPos}), log size ${logSize}`)
      }
      prevRel = rel
      prevPos = pos
    }
  }

  private loadLastEntry(): void {
    if (this.count === 0) {
      this.lastRelative = -1
      this.lastPosition = -1
      return
    }
    const at = this.locate(this.count - 1)
    this.lastRelative = this.view.readInt32BE(at)
    this.lastPosition = this.view.readInt32BE(at + 4)
  }
}

/** Reads exactly `length` bytes at `position` of `path` into `buf` (from 0). */
export function readFully(handles: FileHandleCache, path: string, buf: Buffer, length: number, position: number): void {
  let done = 0
  while (done < length) {
    const n = readSync(handles.fd(path), buf, done, length - done, position + done)
    if (n === 0) throw new CorruptRecordError(`Unexpected end of file ${path} at ${position + done} (wanted ${length} bytes at ${position})`)
    done += n
  }
}

/** Writes exactly `length` bytes of `buf` from `offset` at file `position` of `path`. */
export function writeFully(handles: FileHandleCache, path: string, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0
  while (done < length) {
    done += writeSync(handles.fd(path), buf, offset + done, length - done, position + done)
  }
}
