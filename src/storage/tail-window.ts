/**
 * The last bytes appended to a segment's `.log`, kept in memory: a consumer that reads right
 * behind the producer (a tailing fetch, the header scan that finds its offset) is served from
 * here instead of with a read syscall. The file stays the source of truth; the window only
 * ever holds a copy of its last bytes, updated by the appender after each successful write and
 * cut with the file, so a read from it returns what a read from the file would.
 *
 * Why our own: Kafka leaves this to the page cache, and so does shardlog for everything else,
 * but a `pread` of a few hundred bytes costs 5–10 µs on a VM, twice per partition fetched
 * (header scan, then the batches): a tenth of the main thread's time in the e2e benchmark with
 * `shards: 0`. A copy of the bytes appended costs a memcpy.
 *
 * Memory: {@link kTailWindowBytes} per segment that was appended to since it was opened,
 * allocated at the first append and released when the segment is sealed.
 * Thread: the segment's shard thread.
 */

/** Bytes kept per active segment: several tailing fetches' worth of small batches. */
export const kTailWindowBytes = 16 * 1024

/** A copy of the bytes at the end of one file; see the module comment. */
export class TailWindow {
  #buf: Buffer | undefined
  /** File position of `#buf[0]`. */
  #start: number
  #length = 0

  /** `end`: the file's size now; the window starts empty there. */
  constructor(end: number, private readonly capacity = kTailWindowBytes) {
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
    const buf = (this.#buf ??= Buffer.allocUnsafeSlow(this.capacity))
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

  /** Lets go of the memory (the segment was sealed); the window starts empty at the file's end. */
  release(): void {
    this.#buf = undefined
    this.#start += this.#length
    this.#length = 0
  }
}
