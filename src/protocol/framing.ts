/**
 * Kafka's framing: every request and response on a connection is an int32 big-endian size
 * followed by that many bytes (header + body).
 *
 * ```
 * | size (int32 BE) | header + body (size bytes) | size | header + body | ...
 * ```
 *
 * {@link FrameDecoder} turns the chunks a socket delivers into whole frames. A frame that lies
 * inside one chunk is returned as a view of it (no copy); a frame split across chunks is
 * copied once into a buffer of its exact size, so every byte is copied at most once however
 * the stream is cut. Sizes below 0 or above the limit (the broker's
 * `socket.request.max.bytes`, 104857600 by default) are rejected before anything is
 * allocated, as Kafka's `NetworkReceive` does; the connection must then be closed, because
 * the stream cannot be resynchronised.
 */
import { InvalidRequestError } from '../errors.js'
import type { Writer } from './writer.js'

/** Kafka's default `socket.request.max.bytes`: the largest request a broker accepts. */
export const DEFAULT_MAX_FRAME_BYTES = 104_857_600

/** Bytes of the size prefix. */
export const FRAME_SIZE_BYTES = 4

const EMPTY_FRAME = Buffer.alloc(0)

/** Options of {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Largest accepted frame size in bytes (excluding the prefix); default {@link DEFAULT_MAX_FRAME_BYTES}. */
  maxFrameBytes?: number
}

/**
 * Reassembles frames from a byte stream. Feed it every chunk in order with {@link push},
 * then call {@link next} until it returns undefined (or use {@link feed} for both). After an
 * invalid size it stays failed: every later call throws the same error.
 *
 * One decoder per connection; not shared between connections.
 */
export class FrameDecoder {
  /** Largest accepted frame size in bytes. */
  readonly maxFrameBytes: number
  private chunks: Buffer[] = []
  /** Index of the first chunk with unread bytes. */
  private first = 0
  /** Read position in `chunks[first]`. */
  private firstOffset = 0
  private buffered = 0
  /** The size of the frame being assembled, or -1 while its prefix is still unread. */
  private pendingSize = -1
  private failure: InvalidRequestError | undefined

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  }

  /** Bytes received but not yet returned as frames (including a partial size prefix). */
  get bufferedBytes(): number {
    return this.buffered
  }

  /** Adds the next chunk of the stream. The decoder keeps a reference; do not reuse the chunk's memory. */
  push(chunk: Buffer): void {
    if (this.failure !== undefined) throw this.failure
    if (chunk.length === 0) return
    this.chunks.push(chunk)
    this.buffered += chunk.length
  }

  /**
   * The next complete frame (without its size prefix), or undefined when more bytes are
   * needed. Throws InvalidRequestError for a negative or oversized frame size.
   */
  next(): Buffer | undefined {
    if (this.failure !== undefined) throw this.failure
    if (this.pendingSize < 0) {
      if (this.buffered < FRAME_SIZE_BYTES) return undefined
      const size = this.readSize()
      if (size < 0 || size > this.maxFrameBytes) {
        this.failure = new InvalidRequestError(
          size < 0
            ? `invalid frame size ${size}`
            : `frame of ${size} bytes exceeds the limit of ${this.maxFrameBytes} (socket.request.max.bytes)`,
        )
        throw this.failure
      }
      this.pendingSize = size
    }
    const size = this.pendingSize
    if (this.buffered < size) return undefined
    this.pendingSize = -1
    return this.take(size)
  }

  /** Pushes `chunk` and returns every frame completed by it. */
  feed(chunk: Buffer): Buffer[] {
    this.push(chunk)
    const frames: Buffer[] = []
    for (let frame = this.next(); frame !== undefined; frame = this.next()) frames.push(frame)
    return frames
  }

  private readSize(): number {
    const head = this.chunks[this.first]!
    const o = this.firstOffset
    if (head.length - o >= FRAME_SIZE_BYTES) {
      this.firstOffset = o + FRAME_SIZE_BYTES
      this.buffered -= FRAME_SIZE_BYTES
      this.dropConsumedHead()
      return (head[o]! << 24) | (head[o + 1]! << 16) | (head[o + 2]! << 8) | head[o + 3]!
    }
    const prefix = this.take(FRAME_SIZE_BYTES)
    return (prefix[0]! << 24) | (prefix[1]! << 16) | (prefix[2]! << 8) | prefix[3]!
  }

  /** Removes the next `n` bytes (all buffered) and returns them, as a view when they lie in one chunk. */
  private take(n: number): Buffer {
    if (n === 0) return EMPTY_FRAME
    this.buffered -= n
    const head = this.chunks[this.first]!
    const o = this.firstOffset
    if (head.length - o >= n) {
      this.firstOffset = o + n
      this.dropConsumedHead()
      return head.subarray(o, o + n)
    }
    const out = Buffer.allocUnsafe(n)
    let filled = 0
    while (filled < n) {
      const chunk = this.chunks[this.first]!
      const start = this.firstOffset
      const count = Math.min(chunk.length - start, n - filled)
      chunk.copy(out, filled, start, start + count)
      filled += count
      this.firstOffset = start + count
      this.dropConsumedHead()
    }
    return out
  }

  /** Advances past a fully read first chunk and compacts the list now and then. */
  private dropConsumedHead(): void {
    if (this.firstOffset < this.chunks[this.first]!.length) return
    this.first++
    this.firstOffset = 0
    if (this.first === this.chunks.length) {
      this.chunks = []
      this.first = 0
    } else if (this.first >= 64) {
      this.chunks = this.chunks.slice(this.first)
      this.first = 0
    }
  }
}

/** Prefixes a payload (one buffer or a chunk list) with its size; the result is ready for `writev`. */
export function encodeFrame(payload: Buffer | readonly Buffer[]): Buffer[] {
  const chunks = Buffer.isBuffer(payload) ? [payload] : payload
  let size = 0
  for (const chunk of chunks) size += chunk.length
  if (size > 0x7fffffff) throw new InvalidRequestError(`frame of ${size} bytes does not fit Kafka's int32 size prefix`)
  const prefix = Buffer.allocUnsafe(FRAME_SIZE_BYTES)
  prefix.writeInt32BE(size, 0)
  return [prefix, ...chunks]
}

/**
 * Starts a frame in `w` by reserving its size prefix; write the header and body, then call
 * {@link endFrame} with the returned offset.
 */
export function beginFrame(w: Writer): number {
  return w.reserveInt32()
}

/** Fills in the size prefix reserved by {@link beginFrame}. */
export function endFrame(w: Writer, sizeOffset: number): void {
  w.patchInt32(sizeOffset, w.length - sizeOffset - FRAME_SIZE_BYTES)
}
