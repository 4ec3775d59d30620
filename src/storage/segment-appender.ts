/**
 * The only writer of a segment's `.log` file (Redpanda's `segment_appender`): positional
 * writes at the end of the data, truncation and fsync. It keeps the write position in memory,
 * so an append is exactly one `pwrite` of the caller's bytes through the OS page cache: no
 * stat, no open (the descriptor comes from the {@link FileHandleCache}). A copy of the last few
 * KiB written is kept in a {@link TailWindow}, so reads right behind the writer need no syscall
 * ({@link readRecent}).
 *
 * The file is created by the first append (an empty segment has no `.log` file yet), so an
 * idle partition costs a directory and nothing else.
 *
 * Lifecycle: created by its LogSegment; `rename` follows the segment's temp suffixes.
 * Thread: one shard thread; one append at a time (all calls are synchronous).
 */
import { fsyncSync, ftruncateSync, renameSync } from 'node:fs'
import type { FileHandleCache } from './file-handle-cache.js'
import { writeFully } from './offset-index.js'
import { TailWindow } from './tail-window.js'

/** Appends, truncates and syncs one `.log` file. */
export class SegmentAppender {
  private filePath: string
  private readonly handles: FileHandleCache
  private end: number
  private unsynced = false
  private exists: boolean
  private readonly tail: TailWindow

  /**
   * @param position where the next append goes (the size of the valid data).
   * @param fileExists false for a new segment whose file the first append creates.
   */
  constructor(path: string, handles: FileHandleCache, position: number, fileExists = true) {
    this.filePath = path
    this.handles = handles
    this.end = position
    this.exists = fileExists
    this.tail = new TailWindow(position)
  }

  /** False until the first append of a new segment creates the file. */
  get fileExists(): boolean {
    return this.exists
  }

  /** Current path of the file. */
  get path(): string {
    return this.filePath
  }

  /** Bytes of valid data: where the next append goes. */
  get position(): number {
    return this.end
  }

  /** True when bytes were appended or cut since the last {@link sync}. */
  get hasUnsyncedData(): boolean {
    return this.unsynced
  }

  /**
   * Writes `buf[start, end)` at the end of the file (one pwrite, repeated only on a short
   * write) and returns the position it was written at. On an I/O error the file is cut back
   * to where it was, so a failed append leaves no partial batch behind.
   */
  append(buf: Buffer, start = 0, end = buf.length): number {
    const at = this.end
    if (!this.exists) {
      this.handles.fdCreate(this.filePath, true)
      this.exists = true
    }
    try {
      writeFully(this.handles, this.filePath, buf, start, end - start, at)
    } catch (err) {
      try {
        ftruncateSync(this.handles.fd(this.filePath), at)
      } catch {
        // The write error is the one to report; recovery cuts any torn tail on the next open.
      }
      throw err
    }
    this.end = at + (end - start)
    this.unsynced = true
    this.tail.appended(buf, start, end, at)
    return at
  }

  /** Creates the file now if the first append has not (an empty segment that must exist on disk). */
  materialize(): void {
    if (this.exists) return
    this.handles.fdCreate(this.filePath, true)
    this.exists = true
    this.unsynced = true
  }

  /** Cuts the file to `position` bytes (truncation, recovery of a torn tail). */
  truncateTo(position: number): void {
    if (!this.exists) return
    ftruncateSync(this.handles.fd(this.filePath), position)
    this.end = position
    this.unsynced = true
    this.tail.truncated(position)
  }

  /**
   * Copies file bytes `[position, position + length)` into `dest` at `destAt` from the copy of
   * the last bytes written, when it holds them all; false otherwise (read the file instead).
   */
  readRecent(dest: Uint8Array, destAt: number, length: number, position: number): boolean {
    return this.tail.read(dest, destAt, length, position)
  }

  /** Drops the copy of the last bytes written (the segment was sealed: no reader is right behind it). */
  releaseRecent(): void {
    this.tail.release()
  }

  /** fsyncs the file (Kafka's `FileRecords.flush`) when anything changed since the last sync. */
  sync(): void {
    if (!this.unsynced) return
    fsyncSync(this.handles.fd(this.filePath))
    this.unsynced = false
  }

  /** Renames the file, closing its cached descriptor first. */
  renameTo(newPath: string): void {
    this.handles.close(this.filePath)
    if (this.exists) renameSync(this.filePath, newPath)
    this.filePath = newPath
  }
}
