/**
 * A bounds-checked cursor over one Kafka protocol message (a request or response body,
 * or a header), used by the generated decoders in `messages/`.
 *
 * Contract: every malformed input throws {@link InvalidRequestError} (INVALID_REQUEST, 42)
 * with the byte offset in the message; nothing here throws a RangeError or allocates more
 * than the input can justify. Lengths and element counts are checked against the bytes that
 * remain before anything is allocated, so a hostile count of 2^31 fails at once.
 *
 * Zero copy: `bytes`/`records` values are views (`subarray`) of the input buffer, not
 * copies. They stay valid as long as the input buffer is not reused; the Produce path keeps
 * them and hands them to the log as they are.
 *
 * Encodings follow Kafka's protocol guide: big-endian integers; classic strings carry an
 * int16 length and bytes/arrays an int32 length, with -1 for null; the "compact" forms of
 * flexible versions carry length + 1 as an unsigned varint, with 0 for null.
 */
import { InvalidRequestError } from '../errors.js'

/** Kafka's textual form of the all-zero UUID (`Uuid.ZERO_UUID`): "no topic id". */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA'

/** Kafka rejects classic and compact strings longer than this (Java `Short.MAX_VALUE`). */
export const MAX_STRING_BYTES = 0x7fff

const TWO_POW_32 = 0x1_0000_0000

/** Reads Kafka protocol primitives from a buffer, from `offset` up to `end`. */
export class Reader {
  /** The buffer being read. */
  readonly buf: Buffer
  /** The position of the next byte to read. */
  offset: number
  /** One past the last readable byte (narrowed temporarily while reading a tagged field). */
  end: number

  /**
   * @param buf the message bytes
   * @param offset where to start reading (default 0)
   * @param end one past the last byte that belongs to the message (default `buf.length`)
   */
  constructor(buf: Buffer, offset = 0, end = buf.length) {
    if (offset < 0 || end > buf.length || offset > end) {
      throw new InvalidRequestError(`reader bounds ${offset}..${end} outside a buffer of ${buf.length} bytes`)
    }
    this.buf = buf
    this.offset = offset
    this.end = end
  }

  /** Bytes left between the cursor and the end. */
  get remaining(): number {
    return this.end - this.offset
  }

  /** Throws unless `n` more bytes are readable. */
  private need(n: number): void {
    if (n > this.end - this.offset) {
      throw new InvalidRequestError(`message truncated: needed ${n} bytes at offset ${this.offset}, ${this.end - this.offset} left`)
    }
  }

  /** Skips `n` bytes. */
  skip(n: number): void {
    this.need(n)
    this.offset += n
  }

  int8(): number {
    this.need(1)
    return (this.buf[this.offset++] << 24) >> 24
  }

  bool(): boolean {
    this.need(1)
    return this.buf[this.offset++] !== 0
  }

  int16(): number {
    this.need(2)
    const b = this.buf
    const o = this.offset
    this.offset = o + 2
    return (((b[o] << 8) | b[o + 1]) << 16) >> 16
  }

  uint16(): number {
    this.need(2)
    const b = this.buf
    const o = this.offset
    this.offset = o + 2
    return (b[o] << 8) | b[o + 1]
  }

  int32(): number {
    this.need(4)
    const b = this.buf
    const o = this.offset
    this.offset = o + 4
    return (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]
  }

  uint32(): number {
    return this.int32() >>> 0
  }

  /**
   * A signed int64 as a JS number. Exact for |value| <= 2^53 - 1 (Number.MAX_SAFE_INTEGER);
   * larger magnitudes (e.g. Long.MAX_VALUE used as "no limit") round to the nearest double.
   */
  int64(): number {
    this.need(8)
    const b = this.buf
    const o = this.offset
    this.offset = o + 8
    const hi = (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]
    const lo = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0
    return hi * TWO_POW_32 + lo
  }

  float64(): number {
    this.need(8)
    const value = this.buf.readDoubleBE(this.offset)
    this.offset += 8
    return value
  }

  /** 16 raw bytes as Kafka's base64url text form (22 characters, no padding). */
  uuid(): string {
    this.need(16)
    const o = this.offset
    this.offset = o + 16
    return this.buf.toString('base64url', o, o + 16)
  }

  /** An unsigned LEB128 varint of at most 5 bytes (0 .. 2^32 - 1). */
  uvarint(): number {
    this.need(1)
    const b = this.buf
    let byte = b[this.offset++]
    if (byte < 0x80) return byte
    let value = byte & 0x7f
    let multiplier = 0x80
    for (let i = 1; i < 5; i++) {
      this.need(1)
      byte = b[this.offset++]
      value += (byte & 0x7f) * multiplier
      if (byte < 0x80) {
        if (value >= TWO_POW_32) break
        return value
      }
      multiplier *= 0x80
    }
    throw new InvalidRequestError(`unsigned varint longer than 32 bits at offset ${this.offset}`)
  }

  /** A classic string (int16 length); null is an error. */
  string(): string {
    const n = this.int16()
    if (n < 0) throw this.nullError('string')
    return this.utf8(n)
  }

  /** A classic nullable string (int16 length, -1 = null). */
  nullableString(): string | null {
    const n = this.int16()
    if (n === -1) return null
    if (n < 0) throw this.lengthError('string', n)
    return this.utf8(n)
  }

  /** A compact string (unsigned varint length + 1); null is an error. */
  compactString(): string {
    const n = this.uvarint() - 1
    if (n < 0) throw this.nullError('compact string')
    if (n > MAX_STRING_BYTES) throw this.lengthError('compact string', n)
    return this.utf8(n)
  }

  /** A compact nullable string (unsigned varint length + 1, 0 = null). */
  compactNullableString(): string | null {
    const n = this.uvarint() - 1
    if (n < 0) return null
    if (n > MAX_STRING_BYTES) throw this.lengthError('compact string', n)
    return this.utf8(n)
  }

  /** Classic bytes (int32 length); null is an error. The result is a view of the input. */
  bytes(): Buffer {
    const n = this.int32()
    if (n < 0) throw this.nullError('bytes')
    return this.view(n)
  }

  /** Classic nullable bytes (int32 length, -1 = null). Also the classic form of `records`. */
  nullableBytes(): Buffer | null {
    const n = this.int32()
    if (n === -1) return null
    if (n < 0) throw this.lengthError('bytes', n)
    return this.view(n)
  }

  /** Compact bytes (unsigned varint length + 1); null is an error. */
  compactBytes(): Buffer {
    const n = this.uvarint() - 1
    if (n < 0) throw this.nullError('compact bytes')
    return this.view(n)
  }

  /** Compact nullable bytes (unsigned varint length + 1, 0 = null). Also the flexible form of `records`. */
  compactNullableBytes(): Buffer | null {
    const n = this.uvarint() - 1
    if (n < 0) return null
    return this.view(n)
  }

  /**
   * A classic array count (int32, -1 = null, returned as -1). `minItemBytes` is the smallest
   * encoded size of one element: the count must fit in the bytes that remain.
   */
  arrayLength(minItemBytes: number): number {
    const n = this.int32()
    if (n === -1) return -1
    if (n < 0) throw this.lengthError('array', n)
    if (n * minItemBytes > this.end - this.offset) throw this.countError(n, minItemBytes)
    return n
  }

  /** A compact array count (unsigned varint count + 1, 0 = null, returned as -1); see {@link arrayLength}. */
  compactArrayLength(minItemBytes: number): number {
    const n = this.uvarint() - 1
    if (n < 0) return -1
    if (n * minItemBytes > this.end - this.offset) throw this.countError(n, minItemBytes)
    return n
  }

  /**
   * Limits reading to the next `size` bytes (one tagged field's value) and returns the end
   * to restore with {@link endTaggedField}.
   */
  beginTaggedField(size: number): number {
    this.need(size)
    const savedEnd = this.end
    this.end = this.offset + size
    return savedEnd
  }

  /**
   * Skips whatever the tagged field's reader left unread (unknown tags are skipped whole,
   * as Kafka does) and restores the end saved by {@link beginTaggedField}.
   */
  endTaggedField(savedEnd: number): void {
    this.offset = this.end
    this.end = savedEnd
  }

  /** Skips a whole tagged-field section (count, then tag/size/bytes per field). */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      this.skip(this.uvarint())
    }
  }

  /** Throws unless every byte was consumed (for callers that want to reject trailing garbage). */
  expectEnd(what: string): void {
    if (this.offset !== this.end) {
      throw new InvalidRequestError(`${what}: ${this.end - this.offset} unexpected trailing bytes at offset ${this.offset}`)
    }
  }

  private utf8(n: number): string {
    this.need(n)
    const o = this.offset
    this.offset = o + n
    return this.buf.toString('utf8', o, o + n)
  }

  private view(n: number): Buffer {
    this.need(n)
    const o = this.offset
    this.offset = o + n
    return this.buf.subarray(o, o + n)
  }

  private nullError(what: string): InvalidRequestError {
    return new InvalidRequestError(`null ${what} where a non-nullable value is required, before offset ${this.offset}`)
  }

  private lengthError(what: string, n: number): InvalidRequestError {
    return new InvalidRequestError(`invalid ${what} length ${n} before offset ${this.offset}`)
  }

  private countError(n: number, minItemBytes: number): InvalidRequestError {
    return new InvalidRequestError(
      `array count ${n} (at least ${minItemBytes} bytes each) exceeds the ${this.end - this.offset} bytes left at offset ${this.offset}`,
    )
  }
}
