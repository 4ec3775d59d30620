import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { Reader, ZERO_UUID } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex')

describe('protocol > Reader', () => {
  it('reads big-endian integers of every width, signed and unsigned', () => {
    const r = new Reader(bytes('ff 8000 ffff 80000000 ffffffff fffffffffffffffe 001fffffffffffff 3ff8000000000000 01'))
    expect(r.int8()).toBe(-1)
    expect(r.int16()).toBe(-32768)
    expect(r.uint16()).toBe(65535)
    expect(r.int32()).toBe(-2147483648)
    expect(r.uint32()).toBe(4294967295)
    expect(r.int64()).toBe(-2)
    expect(r.int64()).toBe(Number.MAX_SAFE_INTEGER)
    expect(r.float64()).toBe(1.5)
    expect(r.bool()).toBe(true)
    expect(r.remaining).toBe(0)
  })

  it('reads int64 beyond 2^53 as the nearest double (documented precision limit)', () => {
    expect(new Reader(bytes('7fffffffffffffff')).int64()).toBe(2 ** 63)
    expect(new Reader(bytes('8000000000000000')).int64()).toBe(-(2 ** 63))
  })

  it('reads uuids as Kafka base64url text', () => {
    expect(new Reader(Buffer.alloc(16)).uuid()).toBe(ZERO_UUID)
    expect(new Reader(bytes('000102030405060708090a0b0c0d0e0f')).uuid()).toBe('AAECAwQFBgcICQoLDA0ODw')
  })

  it('reads unsigned varints up to 32 bits and rejects longer ones', () => {
    expect(new Reader(bytes('00')).uvarint()).toBe(0)
    expect(new Reader(bytes('7f')).uvarint()).toBe(127)
    expect(new Reader(bytes('8001')).uvarint()).toBe(128)
    expect(new Reader(bytes('ffffffff0f')).uvarint()).toBe(0xffffffff)
    expect(() => new Reader(bytes('ffffffff1f')).uvarint()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('ffffffffff01')).uvarint()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('80')).uvarint()).toThrow(InvalidRequestError)
  })

  it('round-trips every primitive the writer writes', () => {
    fc.assert(fc.property(
      fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.maxSafeInteger(), fc.integer({ min: 0, max: 0xffffffff }),
      fc.string({ unit: 'grapheme', maxLength: 40 }), fc.option(fc.string({ maxLength: 40 }), { nil: null }),
      fc.uint8Array({ maxLength: 40 }),
      (i32, i64, u32, s, ns, b) => {
        const w = new Writer(4)
        w.int32(i32); w.int64(i64); w.uvarint(u32); w.string(s); w.compactString(s)
        w.nullableString(ns); w.compactNullableString(ns); w.bytes(Buffer.from(b)); w.compactNullableBytes(null)
        const r = new Reader(w.toBuffer())
        expect([r.int32(), r.int64(), r.uvarint(), r.string(), r.compactString(), r.nullableString(), r.compactNullableString()])
          .toEqual([i32, i64, u32, s, s, ns, ns])
        expect(r.bytes().equals(Buffer.from(b))).toBe(true)
        expect(r.compactNullableBytes()).toBeNull()
        expect(r.remaining).toBe(0)
      },
    ))
  })

  it('returns bytes as views of the input, not copies', () => {
    const input = bytes('00000003 aabbcc')
    const view = new Reader(input).bytes()
    expect(view.buffer).toBe(input.buffer)
    expect(view.byteOffset).toBe(input.byteOffset + 4)
  })

  it('throws InvalidRequestError, never RangeError, when the input runs out', () => {
    const reads: ((r: Reader) => unknown)[] = [
      (r) => r.int8(), (r) => r.int16(), (r) => r.int32(), (r) => r.int64(), (r) => r.float64(), (r) => r.uuid(),
      (r) => r.string(), (r) => r.compactString(), (r) => r.bytes(), (r) => r.compactBytes(), (r) => r.skip(1),
    ]
    for (const read of reads) expect(() => read(new Reader(Buffer.alloc(0)))).toThrow(InvalidRequestError)
    // A length that points past the end.
    expect(() => new Reader(bytes('0005 6162')).string()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('7fffffff 00')).bytes()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('ffffffff0f')).compactNullableBytes()).toThrow(InvalidRequestError)
  })

  it('rejects null and negative lengths where they are not allowed', () => {
    expect(() => new Reader(bytes('ffff')).string()).toThrow(InvalidRequestError)
    expect(new Reader(bytes('ffff')).nullableString()).toBeNull()
    expect(() => new Reader(bytes('fffe')).nullableString()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('00')).compactString()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('ffffffff')).bytes()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('fffffffe')).nullableBytes()).toThrow(InvalidRequestError)
    expect(() => new Reader(bytes('fffffffe')).arrayLength(1)).toThrow(InvalidRequestError)
    expect(new Reader(bytes('ffffffff')).arrayLength(1)).toBe(-1)
    expect(new Reader(bytes('00')).compactArrayLength(1)).toBe(-1)
  })

  it('rejects compact strings longer than 32767 bytes, as Kafka does', () => {
    const w = new Writer()
    w.uvarint(0x8000 + 1)
    w.raw(Buffer.alloc(0x8000, 0x61))
    expect(() => new Reader(w.toBuffer()).compactString()).toThrow(InvalidRequestError)
  })

  it('rejects a hostile array count before allocating anything', () => {
    // 2^31 - 1 elements of at least 4 bytes each cannot fit in 8 bytes.
    expect(() => new Reader(bytes('7fffffff 0000000000000000')).arrayLength(4)).toThrow(/exceeds the 8 bytes left/)
    expect(() => new Reader(bytes('ffffffff07 00')).compactArrayLength(1)).toThrow(InvalidRequestError)
    expect(new Reader(bytes('00000002 00000000 00000000')).arrayLength(4)).toBe(2)
  })

  it('limits a tagged field to its declared size and skips what is left of it', () => {
    const r = new Reader(bytes('aabbccdd 11'))
    const saved = r.beginTaggedField(4)
    expect(r.int16()).toBe(-21829)
    expect(() => r.int32()).toThrow(InvalidRequestError) // would cross the field's end
    r.endTaggedField(saved)
    expect(r.int8()).toBe(0x11)
    expect(() => new Reader(bytes('00')).beginTaggedField(2)).toThrow(InvalidRequestError)
  })

  it('skips whole tagged sections and checks for trailing bytes', () => {
    const r = new Reader(bytes('02 00 01 aa 05 00 ee'))
    r.skipTaggedFields()
    expect(() => r.expectEnd('test')).toThrow(InvalidRequestError)
    r.skip(1)
    r.expectEnd('test')
  })

  it('refuses bounds outside the buffer', () => {
    expect(() => new Reader(Buffer.alloc(4), 2, 8)).toThrow(InvalidRequestError)
    expect(new Reader(Buffer.alloc(8), 2, 6).remaining).toBe(4)
  })
})
