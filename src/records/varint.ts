/**
 * Variable-length integers as Kafka writes them (`org.apache.kafka.common.utils.ByteUtils`):
 *
 * - `VarInt`: a signed int32, zig-zag mapped (`(n << 1) ^ (n >> 31)`) then LEB128: 7 bits per
 *   byte, low group first, high bit set on every byte but the last; 1 to 5 bytes.
 * - `VarLong`: the same for a signed int64; 1 to 10 bytes. Values are JS numbers, so only the
 *   safe-integer range (|n| < 2^53) is representable; reading anything wider throws.
 * - `UnsignedVarInt`: LEB128 of an unsigned int32 without zig-zag (the protocol's compact
 *   lengths and tagged fields); 1 to 5 bytes.
 *
 * Writers take `(buf, value, pos)` and return the position after the last byte written; the
 * caller sizes the buffer first with the `sizeOf*` functions (writers do not bounds-check, as
 * the hot path computes exact sizes before it allocates). Readers check bounds and throw
 * {@link CorruptRecordError} on a varint that runs past the end of the buffer or is too long,
 * which is Kafka's "Varint is too long" / underflow behaviour.
 *
 * Two read styles: `readVarInt(buf, pos)` returns `{ value, next }` (convenient), and
 * `takeVarInt(buf, cursor)` returns the value and advances `cursor.pos` (no allocation; the
 * record decoder uses this one).
 *
 * Thread: any. All functions are pure apart from the cursor they are given.
 */
import { CorruptRecordError } from '../errors.js'

/** A read position that the `take*` readers advance in place. */
export interface ByteCursor {
  pos: number
}

/** The value read and the position just after it. */
export interface VarIntRead {
  value: number
  next: number
}

const TWO_POW_32 = 0x1_0000_0000

// ---------------------------------------------------------------------------------------------
// Unsigned LEB128 of a uint32 (shared by VarInt after zig-zag, and UnsignedVarInt)

/** Writes `u` (already a uint32) as LEB128. */
function writeUint32Leb(buf: Uint8Array, u: number, pos: number): number {
  while (u >= 0x80) {
    buf[pos++] = (u & 0x7f) | 0x80
    u >>>= 7
  }
  buf[pos++] = u
  return pos
}

/** Bytes taken by the LEB128 form of a uint32. */
function sizeOfUint32Leb(u: number): number {
  if (u < 0x80) return 1
  if (u < 0x4000) return 2
  if (u < 0x20_0000) return 3
  if (u < 0x1000_0000) return 4
  return 5
}

/** Reads a LEB128 uint32 of at most 5 bytes at `cursor.pos`; the result is a uint32. */
function takeUint32Leb(buf: Uint8Array, cursor: ByteCursor, what: string): number {
  let pos = cursor.pos
  const end = buf.length
  if (pos >= end) throw truncated(what, pos)
  let b = buf[pos++]!
  let result = b & 0x7f
  if (b < 0x80) {
    cursor.pos = pos
    return result
  }
  for (let shift = 7; shift <= 28; shift += 7) {
    if (pos >= end) throw truncated(what, pos)
    b = buf[pos++]!
    // Bits above 32 in the fifth byte are dropped, as Kafka's ByteUtils.readVarint drops them.
    result |= (b & 0x7f) << shift
    if (b < 0x80) {
      cursor.pos = pos
      return result >>> 0
    }
  }
  throw new CorruptRecordError(`${what} at position ${cursor.pos} is longer than 5 bytes`)
}

function truncated(what: string, pos: number): CorruptRecordError {
  return new CorruptRecordError(`${what} is truncated: the buffer ends at position ${pos}`)
}

// ---------------------------------------------------------------------------------------------
// VarInt: zig-zag int32

/**
 * Writes a signed int32 as a zig-zag varint at `pos` and returns the position after it.
 * `value` must be an int32; the buffer must have room ({@link sizeOfVarInt}).
 */
export function writeVarInt(buf: Buffer, value: number, pos: number): number {
  return writeUint32Leb(buf, ((value << 1) ^ (value >> 31)) >>> 0, pos)
}

/** Bytes a signed int32 takes as a zig-zag varint (1 to 5). */
export function sizeOfVarInt(value: number): number {
  return sizeOfUint32Leb(((value << 1) ^ (value >> 31)) >>> 0)
}

/** Reads a zig-zag varint at `pos`. Throws {@link CorruptRecordError} if it is truncated or too long. */
export function readVarInt(buf: Buffer, pos: number): VarIntRead {
  const cursor = { pos }
  const value = takeVarInt(buf, cursor)
  return { value, next: cursor.pos }
}

/** Reads a zig-zag varint at `cursor.pos` and advances the cursor past it (no allocation). */
export function takeVarInt(buf: Uint8Array, cursor: ByteCursor): number {
  const raw = takeUint32Leb(buf, cursor, 'varint')
  return (raw >>> 1) ^ -(raw & 1)
}

// ---------------------------------------------------------------------------------------------
// VarLong: zig-zag int64 held in a JS number

/**
 * Writes a signed integer (a safe integer, |value| < 2^53) as a zig-zag varlong at `pos` and
 * returns the position after it. Values in the int32 range take the varint path.
 */
export function writeVarLong(buf: Buffer, value: number, pos: number): number {
  if ((value | 0) === value) return writeUint32Leb(buf, ((value << 1) ^ (value >> 31)) >>> 0, pos)
  // Zig-zag in two 32-bit halves: 2|n| (+1 when negative) can exceed 2^53, where doubles
  // stop being exact, so the doubling is done on the halves instead.
  const negative = value < 0
  const magnitude = negative ? -value - 1 : value
  const mLo = magnitude % TWO_POW_32
  const mHi = (magnitude - mLo) / TWO_POW_32
  let lo = ((mLo << 1) | (negative ? 1 : 0)) >>> 0
  let hi = ((mHi << 1) | (mLo >>> 31)) >>> 0
  while (hi !== 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80
    lo = ((lo >>> 7) | (hi << 25)) >>> 0
    hi >>>= 7
  }
  buf[pos++] = lo
  return pos
}

/** Bytes a safe integer takes as a zig-zag varlong (1 to 10). */
export function sizeOfVarLong(value: number): number {
  if ((value | 0) === value) return sizeOfUint32Leb(((value << 1) ^ (value >> 31)) >>> 0)
  const magnitude = value < 0 ? -value - 1 : value
  const mLo = magnitude % TWO_POW_32
  const hi = ((((magnitude - mLo) / TWO_POW_32) << 1) | (mLo >>> 31)) >>> 0
  if (hi === 0) return 5 // lo alone needs all 32 bits here
  const bits = 64 - Math.clz32(hi)
  return Math.ceil(bits / 7)
}

/** Reads a zig-zag varlong at `pos`. Throws {@link CorruptRecordError} if truncated, too long or beyond 2^53. */
export function readVarLong(buf: Buffer, pos: number): VarIntRead {
  const cursor = { pos }
  const value = takeVarLong(buf, cursor)
  return { value, next: cursor.pos }
}

/** Reads a zig-zag varlong at `cursor.pos` and advances the cursor past it (no allocation). */
export function takeVarLong(buf: Uint8Array, cursor: ByteCursor): number {
  let pos = cursor.pos
  const end = buf.length
  // The first four bytes (28 bits) fit an int32 exactly: the common case of small deltas.
  let low = 0
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= end) throw truncated('varlong', pos)
    const b = buf[pos++]!
    low |= (b & 0x7f) << shift
    if (b < 0x80) {
      cursor.pos = pos
      return (low >>> 1) ^ -(low & 1)
    }
  }
  // Bytes 5..10 carry bits 28..63; accumulate them as a number scaled by 2^28.
  let high = 0
  let scale = 1
  for (let i = 0; i < 6; i++) {
    if (pos >= end) throw truncated('varlong', pos)
    const b = buf[pos++]!
    high += (b & 0x7f) * scale
    scale *= 128
    if (b < 0x80) {
      cursor.pos = pos
      // value = zigzag^-1(high * 2^28 + low): magnitude = that >> 1, sign = lowest bit.
      const magnitude = high * 0x800_0000 + (low >>> 1)
      const value = (low & 1) === 0 ? magnitude : -magnitude - 1
      if (!Number.isSafeInteger(value)) {
        throw new CorruptRecordError(`varlong at position ${cursor.pos} is outside the safe integer range`)
      }
      return value
    }
  }
  throw new CorruptRecordError(`varlong at position ${cursor.pos} is longer than 10 bytes`)
}

// ---------------------------------------------------------------------------------------------
// UnsignedVarInt: plain LEB128 uint32 (compact lengths, tagged fields)

/** Writes a uint32 (0 to 2^32-1) as an unsigned varint at `pos` and returns the position after it. */
export function writeUnsignedVarInt(buf: Buffer, value: number, pos: number): number {
  return writeUint32Leb(buf, value >>> 0, pos)
}

/** Bytes a uint32 takes as an unsigned varint (1 to 5). */
export function sizeOfUnsignedVarInt(value: number): number {
  return sizeOfUint32Leb(value >>> 0)
}

/** Reads an unsigned varint at `pos` as a uint32. Throws {@link CorruptRecordError} if truncated or too long. */
export function readUnsignedVarInt(buf: Buffer, pos: number): VarIntRead {
  const cursor = { pos }
  const value = takeUint32Leb(buf, cursor, 'unsigned varint')
  return { value, next: cursor.pos }
}

/** Reads an unsigned varint at `cursor.pos` as a uint32 and advances the cursor (no allocation). */
export function takeUnsignedVarInt(buf: Uint8Array, cursor: ByteCursor): number {
  return takeUint32Leb(buf, cursor, 'unsigned varint')
}
