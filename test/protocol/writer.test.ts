import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { Reader, ZERO_UUID } from '../../src/protocol/reader.js'
import { Writer, ZERO_COPY_MIN_BYTES } from '../../src/protocol/writer.js'

describe('protocol > Writer', () => {
  it('writes big-endian integers, wrapping like two\'s complement instead of throwing', () => {
    const w = new Writer(1)
    w.int8(-1); w.int16(-2); w.uint16(0xfffe); w.int32(-3); w.uint32(0xfffffffd); w.int64(-4); w.float64(1.5); w.bool(true)
    w.int8(256 + 7)
    expect(w.toBuffer().toString('hex')).toBe('fffffefffefffffffdfffffffdfffffffffffffffc3ff800000000000001' + '07')
  })

  it('writes int64 safe integers exactly and clamps values beyond Kafka\'s Long range', () => {
    const w = new Writer()
    w.int64(Number.MAX_SAFE_INTEGER); w.int64(-Number.MAX_SAFE_INTEGER); w.int64(2 ** 63); w.int64(-(2 ** 64))
    const r = new Reader(w.toBuffer())
    expect(r.int64()).toBe(Number.MAX_SAFE_INTEGER)
    expect(r.int64()).toBe(-Number.MAX_SAFE_INTEGER)
    expect(w.toBuffer().subarray(16).toString('hex')).toBe('7fffffffffffffff8000000000000000')
  })

  it('writes minimal unsigned varints', () => {
    const w = new Writer()
    for (const v of [0, 1, 127, 128, 16383, 16384, 0xffffffff]) w.uvarint(v)
    expect(w.toBuffer().toString('hex')).toBe('00017f8001ff7f808001ffffffff0f')
  })

  it('writes uuids from base64url text and rejects anything else', () => {
    const w = new Writer()
    w.uuid(ZERO_UUID)
    w.uuid('AAECAwQFBgcICQoLDA0ODw')
    expect(w.toBuffer().toString('hex')).toBe('00'.repeat(16) + '000102030405060708090a0b0c0d0e0f')
    expect(() => new Writer().uuid('not-a-uuid')).toThrow(InvalidRequestError)
    expect(() => new Writer().uuid('AAECAwQFBgcICQoLDA0OD+')).toThrow(InvalidRequestError)
  })

  it('writes multi-byte UTF-8 strings with their byte length', () => {
    const w = new Writer(2)
    w.string('päy')
    w.compactString('€')
    expect(w.toBuffer().toString('hex')).toBe('0004' + Buffer.from('päy').toString('hex') + '04' + Buffer.from('€').toString('hex'))
  })

  it('rejects strings longer than Kafka\'s int16 limit', () => {
    expect(() => new Writer().string('x'.repeat(0x8000))).toThrow(InvalidRequestError)
    expect(() => new Writer().compactString('x'.repeat(0x8000))).toThrow(InvalidRequestError)
  })

  it('appends large buffers by reference and copies small ones', () => {
    const large = Buffer.alloc(ZERO_COPY_MIN_BYTES, 1)
    const small = Buffer.alloc(10, 2)
    const w = new Writer(16)
    w.int32(7)
    w.bytes(large)
    w.raw(small)
    w.int8(3)
    const chunks = w.chunks()
    expect(chunks).toHaveLength(3)
    expect(chunks[1]).toBe(large)
    expect(chunks.includes(small)).toBe(false)
    expect(w.length).toBe(4 + 4 + large.length + 10 + 1)
    expect(w.toBuffer().equals(Buffer.concat([Buffer.from('0000000700000800', 'hex'), large, small, Buffer.from([3])]))).toBe(true)
  })

  it('never copies what it already wrote when it grows', () => {
    const w = new Writer(4)
    for (let i = 0; i < 1000; i++) w.int32(i)
    const chunks = w.chunks()
    expect(chunks.length).toBeGreaterThan(1)
    const r = new Reader(Buffer.concat(chunks))
    for (let i = 0; i < 1000; i++) expect(r.int32()).toBe(i)
  })

  it('patches a reserved int32, whichever chunk it ended up in', () => {
    const w = new Writer(8)
    w.int16(1)
    const at = w.reserveInt32()
    w.raw(Buffer.alloc(ZERO_COPY_MIN_BYTES))
    const late = w.reserveInt32()
    w.patchInt32(at, 0x01020304)
    w.patchInt32(late, -1)
    const out = w.toBuffer()
    expect(out.readInt32BE(2)).toBe(0x01020304)
    expect(out.readInt32BE(6 + ZERO_COPY_MIN_BYTES)).toBe(-1)
    expect(() => w.patchInt32(out.length - 2, 0)).toThrow(InvalidRequestError)
  })

  it('appends another writer', () => {
    const inner = new Writer()
    inner.compactString('abc')
    const w = new Writer()
    w.int8(1)
    w.append(inner)
    expect(w.toBuffer().toString('hex')).toBe('0104616263')
  })
})
