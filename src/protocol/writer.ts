/**
 * Builds one Kafka protocol message (a frame, a header, a body) as a list of chunks, used by
 * the generated encoders in `messages/`.
 *
 * Layout: small values are written into a scratch buffer; when it fills up, the written part
 * is sealed as a chunk and a new scratch buffer is started (nothing written is ever copied
 * again). A large external buffer, such as the `records` of a Fetch response read from a
 * segment, is not copied at all: it becomes a chunk of its own, so the result can go to the
 * socket with `cork()` + `write()` per chunk (one `writev`) as `[header, ...recordChunks]`.
 *
 * ```
 * chunks: [ scratch 0..n ][ records (external, not copied) ][ scratch n..m ] ...
 * ```
 *
 * The writer never modifies a buffer it did not allocate. Values are written with plain
 * byte stores, not `Buffer#write*`, so an out-of-range number wraps (two's complement)
 * instead of throwing a RangeError: the generated encoders pass schema-typed values, and
 * int64 values are clamped to Kafka's Long range.
 *
 * Not thread-safe; one writer builds one message and is then dropped.
 */
import { InvalidRequestError } from '../errors.js'
import { MAX_STRING_BYTES, ZERO_UUID } from './reader.js'

/**
 * External buffers at least this long are appended by reference instead of being copied.
 * Below it, copying is cheaper than an extra entry in the socket's iovec.
 */
export const ZERO_COPY_MIN_BYTES = 2048

/** The largest scratch buffer the writer allocates when it grows. */
const MAX_SCRATCH_BYTES = 64 * 1024

const TWO_POW_32 = 0x1_0000_0000
const INT64_MAX_AS_NUMBER = 2 ** 63
const UUID_TEXT = /^[A-Za-z0-9_-]{22}$/
const EMPTY = Buffer.alloc(0)

/** Writes Kafka protocol primitives into a growing list of chunks. */
export class Writer {
  private buf: Buffer
  private pos = 0
  /** Start of the part of `buf` not yet sealed into `sealed`. */
  private segmentStart = 0
  private readonly sealed: Buffer[] = []
  private sealedBytes = 0

  /** @param initialCapacity size of the first scratch buffer in bytes */
  constructor(initialCapacity = 512) {
    this.buf = initialCapacity > 0 ? Buffer.allocUnsafe(initialCapacity) : EMPTY
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.sealedBytes + this.pos - this.segmentStart
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n)
  }

  private grow(n: number): void {
    this.seal()
    const capacity = Math.max(n, Math.min(this.buf.length * 2, MAX_SCRATCH_BYTES), 256)
    this.buf = Buffer.allocUnsafe(capacity)
    this.pos = 0
    this.segmentStart = 0
  }

  /** Moves the written part of the scratch buffer into the chunk list. */
  private seal(): void {
    if (this.pos > this.segmentStart) {
      this.sealed.push(this.buf.subarray(this.segmentStart, this.pos))
      this.sealedBytes += this.pos - this.segmentStart
      this.segmentStart = this.pos
    }
  }

  int8(value: number): void {
    this.ensure(1)
    this.buf[this.pos++] = value
  }

  bool(value: boolean): void {
    this.ensure(1)
    this.buf[this.pos++] = value ? 1 : 0
  }

  int16(value: number): void {
    this.ensure(2)
    const b = this.buf
    const p = this.pos
    b[p] = value >>> 8
    b[p + 1] = value
    this.pos = p + 2
  }

  uint16(value: number): void {
    this.int16(value)
  }

  int32(value: number): void {
    this.ensure(4)
    const b = this.buf
    const p = this.pos
    b[p] = value >>> 24
    b[p + 1] = value >>> 16
    b[p + 2] = value >>> 8
    b[p + 3] = value
    this.pos = p + 4
  }

  uint32(value: number): void {
    this.int32(value)
  }

  /**
   * A signed int64 from a JS number. Exact for safe integers; values at or beyond ±2^63
   * (e.g. a Long.MAX_VALUE that was read back as the double 2^63) are clamped to Kafka's
   * Long range instead of wrapping.
   */
  int64(value: number): void {
    let hi: number
    let lo: number
    if (value >= INT64_MAX_AS_NUMBER) {
      hi = 0x7fffffff
      lo = 0xffffffff
    } else if (value < -INT64_MAX_AS_NUMBER) {
      hi = -0x80000000
      lo = 0
    } else {
      hi = Math.floor(value / TWO_POW_32)
      lo = value - hi * TWO_POW_32
    }
    this.int32(hi)
    this.int32(lo)
  }

  float64(value: number): void {
    this.ensure(8)
    this.buf.writeDoubleBE(value, this.pos)
    this.pos += 8
  }

  /** A UUID given in Kafka's base64url text form (22 characters), written as 16 raw bytes. */
  uuid(value: string): void {
    this.ensure(16)
    if (value === ZERO_UUID) {
      this.buf.fill(0, this.pos, this.pos + 16)
    } else if (!UUID_TEXT.test(value) || this.buf.write(value, this.pos, 16, 'base64url') !== 16) {
      throw new InvalidRequestError(`invalid uuid ${JSON.stringify(value)}: expected 22 base64url characters`)
    }
    this.pos += 16
  }

  /** An unsigned LEB128 varint (0 .. 2^32 - 1). */
  uvarint(value: number): void {
    this.ensure(5)
    const b = this.buf
    let v = value >>> 0
    while (v >= 0x80) {
      b[this.pos++] = (v & 0x7f) | 0x80
      v >>>= 7
    }
    b[this.pos++] = v
  }

  /** A classic string (int16 length). */
  string(value: string): void {
    const n = stringBytes(value)
    this.ensure(2 + n)
    this.int16(n)
    this.utf8(value, n)
  }

  /** A classic nullable string (int16 length, -1 = null). */
  nullableString(value: string | null): void {
    if (value === null) this.int16(-1)
    else this.string(value)
  }

  /** A compact string (unsigned varint length + 1). */
  compactString(value: string): void {
    const n = stringBytes(value)
    // uvarint() asks for 5 bytes; ensuring them here keeps the string in the same scratch buffer.
    this.ensure(5 + n)
    this.uvarint(n + 1)
    this.utf8(value, n)
  }

  /** A compact nullable string (unsigned varint length + 1, 0 = null). */
  compactNullableString(value: string | null): void {
    if (value === null) this.uvarint(0)
    else this.compactString(value)
  }

  /** Classic bytes (int32 length); large buffers are appended without copying. */
  bytes(value: Buffer): void {
    this.int32(value.length)
    this.raw(value)
  }

  /** Classic nullable bytes (int32 length, -1 = null); also the classic form of `records`. */
  nullableBytes(value: Buffer | null): void {
    if (value === null) this.int32(-1)
    else this.bytes(value)
  }

  /** Compact bytes (unsigned varint length + 1). */
  compactBytes(value: Buffer): void {
    this.uvarint(value.length + 1)
    this.raw(value)
  }

  /** Compact nullable bytes (unsigned varint length + 1, 0 = null); also the flexible form of `records`. */
  compactNullableBytes(value: Buffer | null): void {
    if (value === null) this.uvarint(0)
    else this.compactBytes(value)
  }

  /** A classic array count (int32); pass -1 for a null array. */
  arrayLength(count: number): void {
    this.int32(count)
  }

  /** A compact array count (unsigned varint count + 1); pass -1 for a null array. */
  compactArrayLength(count: number): void {
    this.uvarint(count + 1)
  }

  /**
   * Appends bytes as they are. Buffers of {@link ZERO_COPY_MIN_BYTES} or more become a chunk
   * of their own (by reference: do not modify them until the message has been written out);
   * smaller ones are copied.
   */
  raw(value: Buffer): void {
    const n = value.length
    if (n >= ZERO_COPY_MIN_BYTES) {
      this.seal()
      this.sealed.push(value)
      this.sealedBytes += n
      return
    }
    this.ensure(n)
    value.copy(this.buf, this.pos)
    this.pos += n
  }

  /** Appends everything another writer has written (its large chunks by reference). */
  append(other: Writer): void {
    for (const chunk of other.chunks()) this.raw(chunk)
  }

  /**
   * Writes a placeholder int32 and returns its offset, to be filled in later with
   * {@link patchInt32} (a frame's size prefix, say).
   */
  reserveInt32(): number {
    const offset = this.length
    this.int32(0)
    return offset
  }

  /** Overwrites the int32 at `offset`, which must come from {@link reserveInt32}. */
  patchInt32(offset: number, value: number): void {
    let chunkStart = 0
    for (const chunk of this.sealed) {
      if (offset < chunkStart + chunk.length) {
        writeInt32At(chunk, offset - chunkStart, value)
        return
      }
      chunkStart += chunk.length
    }
    writeInt32At(this.buf.subarray(this.segmentStart, this.pos), offset - chunkStart, value)
  }

  /**
   * The message as a list of chunks, in order. Chunks may be views of the writer's scratch
   * memory or external buffers given to {@link raw}; the writer may keep writing afterwards
   * without affecting them.
   */
  chunks(): Buffer[] {
    this.seal()
    return this.sealed.slice()
  }

  /** The message as one buffer (copies only when there is more than one chunk). */
  toBuffer(): Buffer {
    const chunks = this.chunks()
    if (chunks.length === 1) return chunks[0]!
    return Buffer.concat(chunks, this.sealedBytes)
  }

  private utf8(value: string, n: number): void {
    const b = this.buf
    let p = this.pos
    if (n === value.length && n <= 32) {
      // ASCII (byte length == UTF-16 length only when every char is < 0x80): store directly,
      // which beats a native call for the short names that fill most messages.
      for (let i = 0; i < n; i++) b[p++] = value.charCodeAt(i)
      this.pos = p
      return
    }
    this.pos = p + b.write(value, p, n, 'utf8')
  }
}

function stringBytes(value: string): number {
  const n = Buffer.byteLength(value, 'utf8')
  if (n > MAX_STRING_BYTES) {
    throw new InvalidRequestError(`string of ${n} bytes exceeds Kafka's limit of ${MAX_STRING_BYTES}`)
  }
  return n
}

function writeInt32At(chunk: Buffer, at: number, value: number): void {
  if (at < 0 || at + 4 > chunk.length) {
    throw new InvalidRequestError(`patch offset ${at} does not point at a reserved int32`)
  }
  chunk[at] = value >>> 24
  chunk[at + 1] = value >>> 16
  chunk[at + 2] = value >>> 8
  chunk[at + 3] = value
}
