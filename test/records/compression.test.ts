import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { CorruptRecordError, UnsupportedCompressionTypeError } from '../../src/errors.js'
import {
  CompressionCodecId, compress, compressSync, compressionTypeFromId, decompress, decompressSync, hasSyncCodec,
  isCompressionType, type CompressionType,
} from '../../src/records/compression/index.js'
import { XERIAL_CHUNK_SIZE, XERIAL_HEADER_SIZE, isXerialFramed } from '../../src/records/compression/snappy.js'
import { LZ4_FRAME_MAGIC } from '../../src/records/compression/lz4.js'

const ALL: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const SYNC: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4']

/** Compressible text with some randomness, like real record payloads. */
function payload(size: number): Buffer {
  const words = ['order', 'id', 'user', 'amount', 'status', 'shipped', 'pending', '{', '}', ':', ',']
  let text = ''
  while (text.length < size) text += words[Math.floor(Math.random() * words.length)] + String(Math.floor(Math.random() * 1000))
  return Buffer.from(text.slice(0, size))
}

/**
 * A snappy-java ("xerial") stream published in the test suite of the Perl Kafka client
 * (Kafka::Protocol): header, one 44-byte chunk, which inflates to a 68-byte magic-0 message set
 * holding the values "Hello 1!" and "Hello 2!".
 */
const XERIAL_FIXTURE = Buffer.from(
  '82534e4150505900' + '00000001' + '00000001' + '0000002c' +
  '440000190158161eb980d10000ffffffff0000000848656c6c6f20312119211400163594d3123e2200043221',
  'hex',
)

describe('records > compression > codec ids', () => {
  it('maps names to the ids of the batch attributes and back', () => {
    expect(CompressionCodecId).toEqual({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 })
    for (const type of ALL) expect(compressionTypeFromId(CompressionCodecId[type])).toBe(type)
  })

  it.each([5, 6, 7, -1, 1.5])('throws CorruptRecordError for codec id %d', (id) => {
    expect(() => compressionTypeFromId(id)).toThrow(CorruptRecordError)
  })

  it('recognises the compression.type names', () => {
    expect(ALL.every(isCompressionType)).toBe(true)
    expect(isCompressionType('producer')).toBe(false)
    expect(isCompressionType('LZ4')).toBe(false)
  })
})

describe('records > compression > round trips', () => {
  const inputs = { empty: Buffer.alloc(0), small: payload(100), '100 KiB': payload(100 * 1024), random: randomBytes(70_000) }

  for (const type of ALL) {
    for (const [name, data] of Object.entries(inputs)) {
      it(`${type} round-trips ${name} input asynchronously`, async () => {
        const packed = await compress(type, data)
        expect((await decompress(type, packed)).equals(data)).toBe(true)
      })
    }
  }

  for (const type of SYNC) {
    it(`${type} sync and async forms read each other's output`, async () => {
      const data = inputs['100 KiB']
      expect(decompressSync(type, await compress(type, data)).equals(data)).toBe(true)
      expect((await decompress(type, compressSync(type, data))).equals(data)).toBe(true)
      if (type !== 'none') expect(compressSync(type, data).length).toBeLessThan(data.length * 0.8)
    })
  }

  it('none returns the same buffer without copying', async () => {
    const data = payload(10)
    expect(await compress('none', data)).toBe(data)
    expect(decompressSync('none', data)).toBe(data)
  })
})

describe('records > compression > snappy framing', () => {
  it('decodes a xerial stream written by another Kafka client', async () => {
    expect(isXerialFramed(XERIAL_FIXTURE)).toBe(true)
    const data = decompressSync('snappy', XERIAL_FIXTURE)
    expect(data.length).toBe(68)
    expect(data.toString('latin1')).toContain('Hello 1!')
    expect(data.toString('latin1')).toContain('Hello 2!')
    expect((await decompress('snappy', XERIAL_FIXTURE)).equals(data)).toBe(true)
  })

  it('decodes a raw snappy block (librdkafka style) to the same bytes', async () => {
    const raw = XERIAL_FIXTURE.subarray(XERIAL_HEADER_SIZE + 4)
    expect(isXerialFramed(raw)).toBe(false)
    expect(decompressSync('snappy', raw).equals(decompressSync('snappy', XERIAL_FIXTURE))).toBe(true)
    expect((await decompress('snappy', raw)).length).toBe(68)
  })

  it('encodes the xerial framing with snappy-java header and 32 KiB chunks', async () => {
    const data = payload(3 * XERIAL_CHUNK_SIZE + 100)
    for (const packed of [compressSync('snappy', data), await compress('snappy', data)]) {
      expect(packed.subarray(0, XERIAL_HEADER_SIZE).toString('hex')).toBe('82534e41505059000000000100000001')
      let pos = XERIAL_HEADER_SIZE
      let chunks = 0
      while (pos < packed.length) {
        pos += 4 + packed.readInt32BE(pos)
        chunks++
      }
      expect(pos).toBe(packed.length)
      expect(chunks).toBe(4)
    }
  })

  it('encodes empty input as the bare xerial header', () => {
    expect(compressSync('snappy', Buffer.alloc(0)).toString('hex')).toBe('82534e41505059000000000100000001')
    expect(decompressSync('snappy', compressSync('snappy', Buffer.alloc(0))).length).toBe(0)
  })

  it('rejects a xerial chunk whose length runs past the end', () => {
    const broken = Buffer.from(XERIAL_FIXTURE)
    broken.writeInt32BE(1000, XERIAL_HEADER_SIZE)
    expect(() => decompressSync('snappy', broken)).toThrow(/runs past the end/)
    expect(() => decompressSync('snappy', XERIAL_FIXTURE.subarray(0, XERIAL_HEADER_SIZE + 2))).toThrow(CorruptRecordError)
  })

  it('rejects a raw block that declares more bytes than snappy can expand to, before allocating', async () => {
    const bomb = Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x01, 0x02])
    expect(() => decompressSync('snappy', bomb)).toThrow(/more than snappy can expand to/)
    await expect(decompress('snappy', bomb)).rejects.toBeInstanceOf(CorruptRecordError)
  })
})

describe('records > compression > lz4 frame', () => {
  it('writes the standard LZ4 frame (magic 0x184D2204, independent blocks, no checksums)', async () => {
    for (const packed of [compressSync('lz4', payload(1000)), await compress('lz4', payload(1000)), compressSync('lz4', Buffer.alloc(0))]) {
      expect(packed.readUInt32LE(0)).toBe(LZ4_FRAME_MAGIC)
      const flg = packed[4]!
      expect(flg >> 6).toBe(1) // version 01
      expect(flg & 0x20).toBe(0x20) // block independence, which Kafka's Java reader requires
      expect(flg & 0x10).toBe(0) // no block checksums, as Kafka writes
    }
  })

  it('reads a frame with content checksum and content size (as LZ4F can write)', () => {
    // 'hello' as written by the reference `lz4 --content-size` CLI: magic, FLG 0x6C (v1,
    // independent blocks, content size, content checksum), BD 0x40, content size 5 (int64 LE),
    // header checksum 0x2C, one stored block (size 5 with the high "uncompressed" bit), the
    // end mark, and the xxHash32 content checksum.
    const frame = Buffer.from('04224d18' + '6c' + '40' + '0500000000000000' + '2c' + '05000080' + '68656c6c6f' + '00000000' + 'f97700fb', 'hex')
    const ours = decompressSync('lz4', frame)
    expect(ours.toString()).toBe('hello')
  })
})

describe('records > compression > zstd', () => {
  it('has no sync form and says to use the async one', () => {
    expect(hasSyncCodec('zstd')).toBe(false)
    expect(SYNC.every(hasSyncCodec)).toBe(true)
    expect(() => compressSync('zstd', payload(10))).toThrow(UnsupportedCompressionTypeError)
    expect(() => decompressSync('zstd', payload(10))).toThrow(/call decompress\(\) instead/)
  })

  it('writes a standard zstd frame (magic 0xFD2FB528)', async () => {
    expect((await compress('zstd', payload(500))).readUInt32LE(0)).toBe(0xfd2fb528)
  })
})

describe('records > compression > corrupt input', () => {
  const garbage = Buffer.from('this is not compressed data at all, just text')
  for (const type of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`${type} rejects garbage with CorruptRecordError (async${hasSyncCodec(type) ? ' and sync' : ''})`, async () => {
      await expect(decompress(type, garbage)).rejects.toBeInstanceOf(CorruptRecordError)
      await expect(decompress(type, garbage)).rejects.toThrow(new RegExp(`^${type} decompression failed|snappy|xerial`))
      if (hasSyncCodec(type)) expect(() => decompressSync(type, garbage)).toThrow(CorruptRecordError)
    })

    it(`${type} rejects a truncated stream with CorruptRecordError`, async () => {
      const packed = await compress(type, payload(5000))
      await expect(decompress(type, packed.subarray(0, packed.length >> 1))).rejects.toBeInstanceOf(CorruptRecordError)
    })
  }

  it('zstd refuses a frame header that asks for an enormous window', async () => {
    const hostile = Buffer.from('28b52ffde4ffffffffffffff0f0000', 'hex')
    await expect(decompress('zstd', hostile)).rejects.toBeInstanceOf(CorruptRecordError)
  })
})
