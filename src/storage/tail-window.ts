/**
 * The last bytes appended to a segment's `.log`, kept in memory: a consumer that reads right
 * behind the producer (a tailing fetch, the header scan that finds its offset) is served from
 * here instead of with a read syscall. The file stays the source of truth; the window only
 * ever holds a copy of its last bytes, updated by the appender after each successful write and
 * cut with the file, so a read from it returns what a read from the file would.
 *
 * Why our own: Kafka leaves this to the page cache, and so does shardlog for everything else,
 * but a tailing fetch costs two `pread`s (the header scan that finds the offset, then the
 * batches), and with `shards: 0` in the e2e benchmark they took a tenth of the main thread
 * (about 2.5 µs each there). In isolation (bench/micro/storage.bench.ts) the read of the last
 * small batch takes 1.7 µs from the window against 2.6 µs from the file; a copy of the bytes
 * appended costs a memcpy.
 *
 * Memory: {@link kTailWindowBytes} per active segment that takes small appends, allocated at
 * its first such append and released when the segment is sealed, within a budget per thread
 * ({@link TailWindowPool}, {@link kTailWindowBudgetBytes}): with more such segments than fit,
 * the ones appended to least recently give up their copy (their readers use the file again),
 * so ten thousand partitions cost no more than a few hundred.
 * Thread: the segment's shard thread.
 */

/** Bytes kept per active segment: several tailing fetches' worth of small batches. */
export const kTailWindowBytes = 16 * 1024

/** Bytes of windows one thread keeps at most: 512 windows of the default size. */
export const kTailWindowBudgetBytes = 8 * 1024 * 1024

/**
 * The windows of one thread that hold memory, least recently appended first: a list linked
 * through the windows themselves (no Map or Set to rehash on every append, see RequestTable).
 */
export class TailWindowPool {
  /** @internal Least recently appended window holding memory. */
  oldest: TailWindow | undefined
  /** @internal Most recently appended window holding memory. */
  newest: TailWindow | undefined
  #count = 0

  constructor(readonly maxWindows: number) {}

  /** Windows holding memory. */
  get size(): number {
    return this.#count
  }

  /**
   * @internal `window` was appended to: it becomes the newest. A window joining a full pool
   * evicts the oldest and gets its buffer, so a thread with more busy partitions than windows
   * reuses the same buffers instead of allocating one per append.
   */
  touch(window: TailWindow): Buffer | undefined {
    let recycled: Buffer | undefined
    if (window.inPool) {
      if (this.newest === window) return undefined
      this.unlink(window)
    } else if (this.#count >= this.maxWindows && this.oldest !== undefined) {
      recycled = this.oldest.release()
    }
    window.olderInPool = this.newest
    window.newerInPool = undefined
    if (this.newest !== undefined) this.newest.newerInPool = window
    this.newest = window
    this.oldest ??= window
    window.inPool = true
    this.#count++
    return recycled
  }

  /** @internal `window` let go of its memory. */
  unlink(window: TailWindow): void {
    if (!window.inPool) return
    if (window.olderInPool !== undefined) window.olderInPool.newerInPool = window.newerInPool
    else this.oldest = window.newerInPool
    if (window.newerInPool !== undefined) window.newerInPool.olderInPool = window.olderInPool
    else this.newest = window.olderInPool
    window.olderInPool = undefined
    window.newerInPool = undefined
    window.inPool = false
    this.#count--
  }
}

/** The windows of this thread (each shard worker has its own module instance, so its own pool). */
const threadPool = new TailWindowPool(Math.floor(kTailWindowBudgetBytes / kTailWindowBytes))

/** A copy of the bytes at the end of one file; see the module comment. */
export class TailWindow {
  #buf: Buffer | undefined
  /** File position of `#buf[0]`. */
  #start: number
  #length = 0
  /** @internal Links of the pool's list (see TailWindowPool). */
  inPool = false
  /** @internal */
  olderInPool: TailWindow | undefined
  /** @internal */
  newerInPool: TailWindow | undefined

  /** `end`: the file's size now; the window starts empty there. */
  constructor(end: number, private readonly capacity = kTailWindowBytes, private readonly pool: TailWindowPool = threadPool) {
    this.#start = end
  }

  /** File position of the first byte held. */
  get start(): number {
    return this.#start
  }

  /** Bytes held. */
  get length(): number {
    return this.#length
  }

  /**
   * `src[from, to)` was written at file position `at`, the end of the file. A write anywhere
   * else (never done by the appender) empties the window rather than leave a hole.
   */
  appended(src: Uint8Array, from: number, to: number, at: number): void {
    const n = to - from
    if (at !== this.#start + this.#length || n > this.capacity >>> 1) {
      // A batch larger than half the window is not worth keeping: restart empty after it.
      this.#start = at + n
      this.#length = 0
      return
    }
    const recycled = this.pool.touch(this)
    const buf = (this.#buf ??= recycled?.length === this.capacity ? recycled : Buffer.allocUnsafeSlow(this.capacity))
    if (this.#length + n > this.capacity) {
      // Keep the newest half (minus room for this write): each byte is moved at most once
      // per half-window appended, so the copying stays proportional to the bytes written.
      const keep = Math.min(this.#length, (this.capacity >>> 1) - n)
      buf.copy(buf, 0, this.#length - keep, this.#length)
      this.#start += this.#length - keep
      this.#length = keep
    }
    buf.set(src.subarray(from, to), this.#length)
    this.#length += n
  }

  /** The file was cut to `size` bytes. */
  truncated(size: number): void {
    if (size >= this.#start + this.#length) return
    if (size >= this.#start) {
      this.#length = size - this.#start
    } else {
      this.#start = size
      this.#length = 0
    }
  }

  /**
   * Copies file bytes `[position, position + length)` into `dest` at `destAt` when the window
   * holds all of them; false (and nothing copied) otherwise.
   */
  read(dest: Uint8Array, destAt: number, length: number, position: number): boolean {
    const from = position - this.#start
    if (this.#buf === undefined || from < 0 || from + length > this.#length) return false
    dest.set(this.#buf.subarray(from, from + length), destAt)
    return true
  }

  /**
   * Lets go of the memory (the segment was sealed, or the pool gives the buffer to another
   * window, which gets it back from here); the window starts empty at the file's end.
   */
  release(): Buffer | undefined {
    const buf = this.#buf
    this.pool.unlink(this)
    this.#buf = undefined
    this.#start += this.#length
    this.#length = 0
    return buf
  }
}
