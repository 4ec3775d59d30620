/**
 * A bounded LRU of open file descriptors, keyed by path. Every segment file (`.log`, `.index`,
 * `.timeindex`) of every partition log of a {@link LogManager} is reached through one cache, so
 * a shard with 10,000 partitions holds at most `maxOpenFiles` descriptors (Kafka relies on a
 * high `ulimit -n` instead; a shard thread in a shared process cannot).
 *
 * Contract: a descriptor returned by {@link FileHandleCache.fd} is valid only until the next
 * call into the same cache, because that call may evict and close it. Callers therefore fetch
 * the descriptor right before each syscall and never keep it across another cache call.
 * A hit costs one Map lookup and moving the entry to the recent end of a linked list (skipped
 * when the same path is asked for twice in a row, which is the append hot path). The recency
 * order is that list rather than the Map's insertion order: re-inserting into a long-lived Map on
 * every hit made V8 allocate its rehashed tables straight in the old generation, several
 * mark-compacts a second in a busy shard (see RequestTable in src/shard/request-table.ts).
 *
 * Files are opened read-write without O_APPEND: all writes are positional (`pwrite`), and on
 * Linux O_APPEND would make `pwrite` ignore its position.
 *
 * Thread: owned by one shard thread (the LogManager's); not thread-safe.
 */
import { closeSync, constants, openSync } from 'node:fs'
import { sep } from 'node:path'

/** Options of a {@link FileHandleCache}. */
export interface FileHandleCacheOptions {
  /** Most descriptors open at once; the least recently used is closed first. Default 1000. */
  maxOpenFiles?: number
}

/** Counters, for tests and metrics. */
export interface FileHandleCacheStats {
  /** Files opened (misses). */
  opens: number
  /** Descriptors closed to make room. */
  evictions: number
}

/** Default bound on open descriptors per cache (per LogManager). */
export const DEFAULT_MAX_OPEN_FILES = 1000

const OPEN_FLAGS = constants.O_RDWR
const CREATE_FLAGS = constants.O_RDWR | constants.O_CREAT

/** One open descriptor, linked into the recency list (least recently used first). */
interface OpenFile {
  path: string
  fd: number
  older: OpenFile | undefined
  newer: OpenFile | undefined
}

/** An LRU of open file descriptors; see the module comment for the validity contract. */
export class FileHandleCache {
  /** The bound on descriptors held open by this cache. */
  readonly maxOpenFiles: number
  readonly stats: FileHandleCacheStats = { opens: 0, evictions: 0 }
  /** path -> its open descriptor. */
  private readonly open = new Map<string, OpenFile>()
  /** The least and the most recently used descriptors (ends of the recency list). */
  private oldest: OpenFile | undefined
  private newest: OpenFile | undefined
  private lastPath = ''
  private lastFd = -1

  constructor(opts: FileHandleCacheOptions = {}) {
    const max = opts.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES
    // Two is the least that works: a segment read touches a log and one index file in turn.
    if (!Number.isInteger(max) || max < 2) throw new RangeError(`maxOpenFiles must be an integer >= 2, got ${max}`)
    this.maxOpenFiles = max
  }

  /** Descriptors currently open. */
  get openCount(): number {
    return this.open.size
  }

  /**
   * A read-write descriptor for an existing file, opening it (and evicting the least recently
   * used descriptor) on a miss. Valid until the next call into this cache.
   * @throws the fs error (e.g. ENOENT) when the file cannot be opened.
   */
  fd(path: string): number {
    if (path === this.lastPath) return this.lastFd
    const entry = this.open.get(path)
    let fd: number
    if (entry === undefined) {
      fd = this.openFile(path, OPEN_FLAGS)
    } else {
      this.unlink(entry)
      this.linkNewest(entry)
      fd = entry.fd
    }
    this.lastPath = path
    this.lastFd = fd
    return fd
  }

  /**
   * Like {@link fd}, creating the file when it does not exist. Contents are kept, unless
   * `truncate` (then an existing file is emptied, with O_TRUNC: no extra syscall).
   */
  fdCreate(path: string, truncate = false): number {
    if (this.open.has(path)) {
      if (!truncate) return this.fd(path)
      this.close(path)
    }
    const fd = this.openFile(path, truncate ? CREATE_FLAGS | constants.O_TRUNC : CREATE_FLAGS)
    this.lastPath = path
    this.lastFd = fd
    return fd
  }

  /** Closes the descriptor of `path` if it is open (before a rename, truncate-by-delete or unlink). */
  close(path: string): void {
    const entry = this.open.get(path)
    if (entry === undefined) return
    this.open.delete(path)
    this.unlink(entry)
    if (this.lastPath === path) this.forgetLast()
    closeSync(entry.fd)
  }

  /** Closes every descriptor of a file directly inside or below `dir`. */
  closeUnder(dir: string): void {
    const prefix = dir.endsWith(sep) ? dir : dir + sep
    for (const path of [...this.open.keys()]) {
      if (path.startsWith(prefix)) this.close(path)
    }
  }

  /** Closes every descriptor. The cache stays usable. */
  closeAll(): void {
    const fds = [...this.open.values()].map((e) => e.fd)
    this.open.clear()
    this.oldest = undefined
    this.newest = undefined
    this.forgetLast()
    let first: unknown
    for (const fd of fds) {
      try {
        closeSync(fd)
      } catch (err) {
        first ??= err // keep closing the others; report the first failure
      }
    }
    if (first !== undefined) throw first
  }

  private openFile(path: string, flags: number): number {
    while (this.open.size >= this.maxOpenFiles) this.evictOldest()
    const fd = openSync(path, flags, 0o644)
    const entry: OpenFile = { path, fd, older: undefined, newer: undefined }
    this.open.set(path, entry)
    this.linkNewest(entry)
    this.stats.opens++
    return fd
  }

  private evictOldest(): void {
    const oldest = this.oldest!
    this.open.delete(oldest.path)
    this.unlink(oldest)
    if (this.lastPath === oldest.path) this.forgetLast()
    this.stats.evictions++
    closeSync(oldest.fd)
  }

  private unlink(entry: OpenFile): void {
    if (entry.older === undefined) this.oldest = entry.newer
    else entry.older.newer = entry.newer
    if (entry.newer === undefined) this.newest = entry.older
    else entry.newer.older = entry.older
    entry.older = undefined
    entry.newer = undefined
  }

  private linkNewest(entry: OpenFile): void {
    entry.older = this.newest
    if (this.newest === undefined) this.oldest = entry
    else this.newest.newer = entry
    this.newest = entry
  }

  private forgetLast(): void {
    this.lastPath = ''
    this.lastFd = -1
  }
}
