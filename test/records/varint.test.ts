import { createRequire } from 'node:module'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CorruptRecordError } from '../../src/errors.js'
import {
  readUnsignedVarInt, readVarInt, readVarLong, sizeOfUnsignedVarInt, sizeOfVarInt, sizeOfVarLong,
  takeVarInt, takeVarLong, writeUnsignedVarInt, writeVarInt, writeVarLong,
} from '../../src/records/varint.js'

// kafkajs's Encoder is an independent implementation of Kafka's varints.
const require = createRequire(import.meta.url)
const KafkajsEncoder = require('kafkajs/src/protocol/encoder') as new () => {
  writeVarInt(v: number): unknown
  writeVarLong(v: number): unknown
  writeUVarInt(v: number): unknown
  buffer: Buffer
}

function encodeVarInt(value: number): Buffer {
  const buf = Buffer.alloc(sizeOfVarInt(value))
  expect(writeVarInt(buf, value, 0)).toBe(buf.length)
  return buf
}

function encodeVarLong(value: number): Buffer {
  const buf = Buffer.alloc(sizeOfVarLong(value))
  expect(writeVarLong(buf, value, 0)).toBe(buf.length)
  return buf
}

const INT32_MIN = -0x8000_0000
const INT32_MAX = 0x7fff_ffff

describe('records > varint > VarInt (zig-zag int32)', () => {
  it.each([
    [0, '00'],
    [-1, '01'],
    [1, '02'],
    [-64, '7f'],
    [63, '7e'],
    [64, '8001'],
    [300, 'd804'],
    [INT32_MAX, 'feffffff0f'],
    [INT32_MIN, 'ffffffff0f'],
  ])('encodes %d as %s and reads it back', (value, hex) => {
    expect(encodeVarInt(value).toString('hex')).toBe(hex)
    expect(readVarInt(Buffer.from(hex, 'hex'), 0)).toEqual({ value, next: hex.length / 2 })
  })

  it('matches the kafkajs encoder and round-trips for any int32', () => {
    fc.assert(fc.property(fc.integer({ min: INT32_MIN, max: INT32_MAX }), (value) => {
      const ours = encodeVarInt(value)
      const theirs = new KafkajsEncoder()
      theirs.writeVarInt(value)
      expect(ours.equals(theirs.buffer)).toBe(true)
      expect(readVarInt(ours, 0)).toEqual({ value, next: ours.length })
    }))
  })

  it('reads at an offset and advances a cursor without allocating a result', () => {
    const buf = Buffer.concat([Buffer.from([0xaa]), encodeVarInt(-300), encodeVarInt(7)])
    const cursor = { pos: 1 }
    expect(takeVarInt(buf, cursor)).toBe(-300)
    expect(takeVarInt(buf, cursor)).toBe(7)
    expect(cursor.pos).toBe(buf.length)
  })

  it('throws CorruptRecordError on a truncated varint', () => {
    expect(() => readVarInt(Buffer.from([0x80, 0x80]), 0)).toThrow(CorruptRecordError)
    expect(() => readVarInt(Buffer.alloc(0), 0)).toThrow(/truncated/)
  })

  it('throws CorruptRecordError on a varint longer than 5 bytes', () => {
    expect(() => readVarInt(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), 0)).toThrow(/longer than 5 bytes/)
  })
})

describe('records > varint > VarLong (zig-zag int64 as a number)', () => {
  const edges = [
    0, -1, 1, INT32_MAX, INT32_MIN, INT32_MAX + 1, INT32_MIN - 1, 2 ** 32, -(2 ** 32),
    1_700_000_000_000, -1_700_000_000_000, 2 ** 52, -(2 ** 52), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
  ]

  it.each(edges)('round-trips %d and matches the kafkajs encoder byte for byte', (value) => {
    const ours = encodeVarLong(value)
    const theirs = new KafkajsEncoder()
    theirs.writeVarLong(value)
    expect(ours.toString('hex')).toBe(theirs.buffer.toString('hex'))
    expect(readVarLong(ours, 0)).toEqual({ value, next: ours.length })
  })

  it('encodes the extremes with the byte counts Kafka expects', () => {
    expect(sizeOfVarLong(0)).toBe(1)
    expect(sizeOfVarLong(INT32_MAX)).toBe(5)
    expect(sizeOfVarLong(Number.MAX_SAFE_INTEGER)).toBe(8) // zig-zag needs 54 bits
    expect(encodeVarLong(Number.MIN_SAFE_INTEGER).toString('hex')).toBe('fdffffffffffff1f')
  })

  it('round-trips any safe integer', () => {
    fc.assert(fc.property(fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.maxSafeNat()), (value) => {
      const buf = encodeVarLong(value)
      const cursor = { pos: 0 }
      expect(takeVarLong(buf, cursor)).toBe(value)
      expect(cursor.pos).toBe(buf.length)
    }))
  })

  it('throws CorruptRecordError beyond the safe integer range, when truncated, or longer than 10 bytes', () => {
    // zig-zag 2^54 (= 2^53 as a value): the largest 8-byte varlong, not a safe integer.
    expect(() => readVarLong(Buffer.from('80808080808080807f', 'hex'), 0)).toThrow(/safe integer/)
    expect(() => readVarLong(Buffer.from('ffffffffffffffffff01', 'hex'), 0)).toThrow(CorruptRecordError)
    expect(() => readVarLong(Buffer.from('8080808080', 'hex'), 0)).toThrow(/truncated/)
    expect(() => readVarLong(Buffer.from('8080808080808080808001', 'hex'), 0)).toThrow(/longer than 10 bytes/)
  })
})

describe('records > varint > UnsignedVarInt', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8001'],
    [0xffff_ffff, 'ffffffff0f'],
  ])('encodes %d as %s', (value, hex) => {
    const buf = Buffer.alloc(sizeOfUnsignedVarInt(value))
    expect(writeUnsignedVarInt(buf, value, 0)).toBe(buf.length)
    expect(buf.toString('hex')).toBe(hex)
    expect(readUnsignedVarInt(buf, 0)).toEqual({ value, next: buf.length })
  })

  it('matches the kafkajs encoder for any uint32', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (value) => {
      const buf = Buffer.alloc(sizeOfUnsignedVarInt(value))
      writeUnsignedVarInt(buf, value, 0)
      const theirs = new KafkajsEncoder()
      theirs.writeUVarInt(value)
      expect(buf.equals(theirs.buffer)).toBe(true)
      expect(readUnsignedVarInt(buf, 0).value).toBe(value)
    }))
  })

  it('throws CorruptRecordError when truncated', () => {
    expect(() => readUnsignedVarInt(Buffer.from([0xff]), 0)).toThrow(CorruptRecordError)
  })
})
