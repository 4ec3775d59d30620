import { describe, expect, it } from 'vitest'
import { CorruptRecordError, InvalidRecordError, UnsupportedCompressionTypeError } from '../../src/errors.js'
import {
  ATTRIBUTES, BATCH_LENGTH, CRC, MAGIC, RECORD_BATCH_OVERHEAD, RECORDS_COUNT, batchSizeAt, isBatchCrcValid,
  readBatchHeader, writeBatchCrc,
} from '../../src/records/batch-header.js'
import type { CompressionType } from '../../src/records/compression/index.js'
import {
  ControlRecordType, controlRecordTypeOf, decodeRecordBatch, decodeRecordBatches, decodeRecordBatchesSync,
  CrcCheckedBatchReader, decodeRecordBatchSync, decodeRecordBatchUsing, encodeRecordBatch, isCompressedBatch, encodeRecordBatchSync, endTxnMarkerRecord, iterateBatches,
  nextOffsetAfter, NO_RECORD_HEADERS, type RecordBuilder, type RecordInput,
} from '../../src/records/record-batch.js'
import { decompress } from '../../src/records/compression/index.js'

/**
 * A RecordBatch v2 written by hand from Kafka's "Message Format" documentation, field by field.
 * Two records: key "key0", value "value0", header h=1 at 1700000000000; null key, value "v1",
 * no headers, 10 ms later.
 */
const GOLDEN_HEX = [
  '0000000000000005', // baseOffset 5
  '0000004f', //         batchLength 79 (= 91 bytes in total - 12)
  '00000003', //         partitionLeaderEpoch 3
  '02', //               magic 2
  '536aa9c5', //         crc: CRC-32C of everything from attributes to the end
  '0000', //             attributes: codec none, CreateTime, not transactional, not control
  '00000001', //         lastOffsetDelta 1
  '0000018bcfe56800', // baseTimestamp 1700000000000
  '0000018bcfe5680a', // maxTimestamp 1700000000010
  '00000000000003e9', // producerId 1001
  '0002', //             producerEpoch 2
  '00000007', //         baseSequence 7
  '00000002', //         recordsCount 2
  // record 0
  '28', //               length 20 (zig-zag 40)
  '00', //               attributes
  '00', //               timestampDelta 0
  '00', //               offsetDelta 0
  '08', '6b657930', //   keyLength 4, "key0"
  '0c', '76616c756530', // valueLength 6, "value0"
  '02', //               headersCount 1
  '02', '68', //         headerKeyLength 1, "h"
  '02', '31', //         headerValueLength 1, "1"
  // record 1
  '10', //               length 8
  '00', //               attributes
  '14', //               timestampDelta 10
  '02', //               offsetDelta 1
  '01', //               keyLength -1 (null)
  '04', '7631', //       valueLength 2, "v1"
  '00', //               headersCount 0
].join('')
const GOLDEN = Buffer.from(GOLDEN_HEX, 'hex')

const GOLDEN_RECORDS: RecordInput[] = [
  { key: 'key0', value: 'value0', headers: [{ key: 'h', value: Buffer.from('1') }], timestamp: 1_700_000_000_000 },
  { key: null, value: Buffer.from('v1'), timestamp: 1_700_000_000_010 },
]
const GOLDEN_OPTIONS = { baseOffset: 5, partitionLeaderEpoch: 3, producerId: 1001, producerEpoch: 2, baseSequence: 7 }

const CODECS: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

function sample(n: number): RecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 3 === 0 ? null : `key-${i}`,
    value: i % 5 === 4 ? null : Buffer.from(`value-${i}-`.repeat(i % 7)),
    headers: i % 2 === 0 ? { trace: `t${i}`, empty: Buffer.alloc(0), nil: null } : undefined,
    timestamp: 1_700_000_000_000 + ((i * 37) % 11) - 5,
  }))
}

describe('records > RecordBatch > golden bytes', () => {
  it('encodes the hand-written batch byte for byte', () => {
    expect(encodeRecordBatchSync(GOLDEN_RECORDS, GOLDEN_OPTIONS).toString('hex')).toBe(GOLDEN_HEX)
  })

  it('encodes the same bytes asynchronously', async () => {
    expect((await encodeRecordBatch(GOLDEN_RECORDS, GOLDEN_OPTIONS)).equals(GOLDEN)).toBe(true)
  })

  it('decodes the hand-written batch', () => {
    const batch = decodeRecordBatchSync(GOLDEN)
    expect(batch.header).toEqual({
      baseOffset: 5, batchLength: 79, partitionLeaderEpoch: 3, magic: 2, crc: 0x536aa9c5, attributes: 0,
      lastOffsetDelta: 1, baseTimestamp: 1_700_000_000_000, maxTimestamp: 1_700_000_000_010, producerId: 1001,
      producerEpoch: 2, baseSequence: 7, recordsCount: 2,
    })
    expect(batch.compression).toBe('none')
    expect(batch.isControl).toBe(false)
    expect(batch.isTransactional).toBe(false)
    expect(batch.timestampType).toBe('CreateTime')
    expect(batch.records).toEqual([
      { offset: 5, timestamp: 1_700_000_000_000, key: Buffer.from('key0'), value: Buffer.from('value0'), headers: [{ key: 'h', value: Buffer.from('1') }] },
      { offset: 6, timestamp: 1_700_000_000_010, key: null, value: Buffer.from('v1'), headers: [] },
    ])
  })

  it('agrees with the shared batch-header helpers', () => {
    expect(batchSizeAt(GOLDEN)).toBe(GOLDEN.length)
    expect(isBatchCrcValid(GOLDEN, 0, GOLDEN.length)).toBe(true)
    expect(readBatchHeader(GOLDEN).crc).toBe(0x536aa9c5)
  })
})

describe('records > RecordBatch > encode', () => {
  it('uses Kafka defaults for a plain producer: offsets from 0, epoch/producer/sequence -1, now as timestamp', () => {
    const buf = encodeRecordBatchSync([{ value: 'a' }, { value: 'b', timestamp: 5 }], { now: 1000 })
    const { header, records } = decodeRecordBatchSync(buf)
    expect(header).toMatchObject({ baseOffset: 0, partitionLeaderEpoch: -1, producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 1 })
    // baseTimestamp is the first record's timestamp, so deltas may be negative, as in Kafka.
    expect(header.baseTimestamp).toBe(1000)
    expect(header.maxTimestamp).toBe(1000)
    expect(records.map((r) => [r.offset, r.timestamp, r.key])).toEqual([[0, 1000, null], [1, 5, null]])
  })

  it('keeps header order and repeated keys from an array, and skips undefined values of an object', () => {
    const buf = encodeRecordBatchSync([
      { value: 'x', headers: [{ key: 'a', value: '1' }, { key: 'a', value: null }, { key: 'ü', value: Buffer.from([0]) }] },
      { value: 'y', headers: { one: '1', skipped: undefined, nil: null } },
      { value: 'z', headers: {} },
    ])
    const { records } = decodeRecordBatchSync(buf)
    expect(records[0]!.headers).toEqual([{ key: 'a', value: Buffer.from('1') }, { key: 'a', value: null }, { key: 'ü', value: Buffer.from([0]) }])
    expect(records[1]!.headers).toEqual([{ key: 'one', value: Buffer.from('1') }, { key: 'nil', value: null }])
    expect(records[2]!.headers).toEqual([])
  })

  it('writes multi-byte UTF-8 strings by byte length', () => {
    const { records } = decodeRecordBatchSync(encodeRecordBatchSync([{ key: 'ключ', value: '€😀' }]))
    expect(records[0]!.key!.toString()).toBe('ключ')
    expect(records[0]!.value!.toString()).toBe('€😀')
    expect(records[0]!.value!.length).toBe(7)
  })

  it('sets the attribute bits for codec, timestamp type, transactional and control', async () => {
    for (const type of CODECS) {
      const buf = await encodeRecordBatch([{ value: 'v' }], { compression: type, transactional: true, isControl: true, timestampType: 'LogAppendTime' })
      const attributes = buf.readInt16BE(ATTRIBUTES)
      expect(attributes & 0x07).toBe({ none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }[type])
      expect(attributes & 0x38).toBe(0x08 | 0x10 | 0x20)
      const batch = await decodeRecordBatch(buf)
      expect(batch.compression).toBe(type)
      expect([batch.isTransactional, batch.isControl, batch.timestampType]).toEqual([true, true, 'LogAppendTime'])
    }
  })

  it('gives every record the maxTimestamp under LogAppendTime, as Kafka readers do', () => {
    const buf = encodeRecordBatchSync([{ value: 'a', timestamp: 1 }, { value: 'b', timestamp: 2 }], { timestampType: 'LogAppendTime', maxTimestamp: 99 })
    expect(decodeRecordBatchSync(buf).records.map((r) => r.timestamp)).toEqual([99, 99])
  })

  it('keeps absolute offsets, lastOffsetDelta and timestamps when re-encoding a compacted batch', () => {
    const buf = encodeRecordBatchSync(
      [{ value: 'a', offset: 102, timestamp: 7 }, { value: 'b', offset: 105, timestamp: 9 }],
      { baseOffset: 100, lastOffsetDelta: 9, baseTimestamp: 5, maxTimestamp: 20 },
    )
    const { header, records } = decodeRecordBatchSync(buf)
    expect(header).toMatchObject({ baseOffset: 100, lastOffsetDelta: 9, baseTimestamp: 5, maxTimestamp: 20 })
    expect(records.map((r) => [r.offset, r.timestamp])).toEqual([[102, 7], [105, 9]])
  })

  it('writes an empty batch (all records compacted away) with NO_TIMESTAMP and the kept lastOffsetDelta', () => {
    const buf = encodeRecordBatchSync([], { baseOffset: 40, lastOffsetDelta: 4 })
    expect(buf.length).toBe(RECORD_BATCH_OVERHEAD)
    const { header, records } = decodeRecordBatchSync(buf)
    expect(header).toMatchObject({ baseOffset: 40, lastOffsetDelta: 4, baseTimestamp: -1, maxTimestamp: -1, recordsCount: 0 })
    expect(records).toEqual([])
  })

  it('stores the KIP-534 delete horizon in baseTimestamp with attribute bit 6, keeping record timestamps', () => {
    const buf = encodeRecordBatchSync([{ value: null, key: 'k', timestamp: 500 }], { deleteHorizonMs: 86_400_500 })
    const batch = decodeRecordBatchSync(buf)
    expect(batch.header.attributes & 0x40).toBe(0x40)
    expect(batch.deleteHorizonMs).toBe(86_400_500)
    expect(batch.records[0]!.timestamp).toBe(500)
  })

  it('encodes 8-byte timestamps and offsets up to 2^53', () => {
    const ts = 2 ** 52 + 3
    const buf = encodeRecordBatchSync([{ value: 'a', timestamp: 0 }, { value: 'b', timestamp: ts }], { baseOffset: 2 ** 50 })
    const { records } = decodeRecordBatchSync(buf)
    expect(records.map((r) => [r.offset, r.timestamp])).toEqual([[2 ** 50, 0], [2 ** 50 + 1, ts]])
  })

  it('rejects timestamps that are not safe integers and offsets that do not increase', () => {
    expect(() => encodeRecordBatchSync([{ value: 'a', timestamp: 1.5 }])).toThrow(InvalidRecordError)
    expect(() => encodeRecordBatchSync([{ value: 'a', timestamp: Number.NaN }])).toThrow(InvalidRecordError)
    expect(() => encodeRecordBatchSync([{ value: 'a', offset: 3 }, { value: 'b', offset: 3 }])).toThrow(/offsets must increase/)
    expect(() => encodeRecordBatchSync([{ value: 'a', offset: 1 }], { baseOffset: 2 })).toThrow(InvalidRecordError)
    expect(() => encodeRecordBatchSync([{ value: 'a' }, { value: 'b' }], { lastOffsetDelta: 0 })).toThrow(InvalidRecordError)
  })

  it('refuses zstd in the sync encoder and decoder with a typed error', async () => {
    expect(() => encodeRecordBatchSync([{ value: 'a' }], { compression: 'zstd' })).toThrow(UnsupportedCompressionTypeError)
    const buf = await encodeRecordBatch([{ value: 'a' }], { compression: 'zstd' })
    expect(() => decodeRecordBatchSync(buf)).toThrow(UnsupportedCompressionTypeError)
  })

  it('puts the uncompressed 61-byte header in front of one compressed block', async () => {
    const records = sample(200)
    for (const type of CODECS) {
      const buf = await encodeRecordBatch(records, { compression: type, baseOffset: 7 })
      expect(buf.readInt32BE(RECORDS_COUNT)).toBe(200)
      expect(batchSizeAt(buf)).toBe(buf.length)
      expect(isBatchCrcValid(buf, 0, buf.length)).toBe(true)
      const decoded = await decodeRecordBatch(buf)
      expect(decoded.records.length).toBe(200)
      expect(decoded.records[199]!.offset).toBe(206)
    }
  })
})

describe('records > RecordBatch > decode', () => {
  it('round-trips records through every codec, sync and async', async () => {
    const records = sample(120)
    const expected = decodeRecordBatchSync(encodeRecordBatchSync(records, { now: 1 })).records
    for (const type of CODECS) {
      const buf = await encodeRecordBatch(records, { compression: type, now: 1 })
      expect((await decodeRecordBatch(buf)).records).toEqual(expected)
      if (type !== 'zstd') {
        expect(decodeRecordBatchSync(encodeRecordBatchSync(records, { compression: type, now: 1 })).records).toEqual(expected)
      }
    }
  })

  it('decodes a batch at a position inside a larger buffer', () => {
    const buf = Buffer.concat([Buffer.alloc(13, 0xee), GOLDEN, Buffer.alloc(5, 0xee)])
    expect(decodeRecordBatchSync(buf, 13).records[1]!.value!.toString()).toBe('v1')
  })

  it('rejects a batch whose CRC does not match, naming both values', async () => {
    const bad = Buffer.from(GOLDEN)
    bad[RECORD_BATCH_OVERHEAD + 5] ^= 0x01 // one bit of a key byte
    expect(() => decodeRecordBatchSync(bad)).toThrow(/stored crc = 1399499205, computed crc = \d+/)
    await expect(decodeRecordBatch(bad)).rejects.toBeInstanceOf(CorruptRecordError)
  })

  it('does not cover baseOffset or partitionLeaderEpoch by the CRC, so a leader can rewrite them in place', () => {
    const buf = Buffer.from(GOLDEN)
    buf.writeInt32BE(0, 0)
    buf.writeInt32BE(1000, 4)
    buf.writeInt32BE(9, 12)
    const batch = decodeRecordBatchSync(buf)
    expect(batch.records[0]!.offset).toBe(1000)
    expect(batch.header.partitionLeaderEpoch).toBe(9)
  })

  it('rejects a wrong magic, a short batchLength and a batch that runs past the buffer', () => {
    const magic = Buffer.from(GOLDEN)
    magic[MAGIC] = 1
    expect(() => decodeRecordBatchSync(magic)).toThrow(/magic 1/)
    const short = Buffer.from(GOLDEN)
    short.writeInt32BE(48, BATCH_LENGTH)
    expect(() => decodeRecordBatchSync(short)).toThrow(/below the minimum 49/)
    expect(() => decodeRecordBatchSync(GOLDEN.subarray(0, GOLDEN.length - 1))).toThrow(/truncated/)
    expect(() => decodeRecordBatchSync(GOLDEN.subarray(0, 30))).toThrow(/truncated/)
    expect(() => decodeRecordBatchSync(GOLDEN, GOLDEN.length)).toThrow(CorruptRecordError)
  })

  it('rejects an unknown codec id, a negative count and a count the bytes cannot hold (with a valid CRC)', () => {
    const withCrc = (mutate: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(GOLDEN)
      mutate(b)
      writeBatchCrc(b, 0, b.length)
      return b
    }
    expect(() => decodeRecordBatchSync(withCrc((b) => b.writeInt16BE(5, ATTRIBUTES)))).toThrow(/unknown compression codec id 5/)
    expect(() => decodeRecordBatchSync(withCrc((b) => b.writeInt32BE(-1, RECORDS_COUNT)))).toThrow(/negative recordsCount/)
    expect(() => decodeRecordBatchSync(withCrc((b) => b.writeInt32BE(0x7fffffff, RECORDS_COUNT)))).toThrow(/can hold at most/)
    expect(() => decodeRecordBatchSync(withCrc((b) => b.writeInt32BE(3, RECORDS_COUNT)))).toThrow(/declares 3 records but its bytes end after 2/)
    expect(() => decodeRecordBatchSync(withCrc((b) => b.writeInt32BE(1, RECORDS_COUNT)))).toThrow(/bytes remain after the last of 1 records/)
  })

  it('rejects record fields that run past their record (valid CRC, lying lengths)', () => {
    const withCrc = (offset: number, byte: number): Buffer => {
      const b = Buffer.from(GOLDEN)
      b[RECORD_BATCH_OVERHEAD + offset] = byte
      writeBatchCrc(b, 0, b.length)
      return b
    }
    expect(() => decodeRecordBatchSync(withCrc(0, 0x7e))).toThrow(/record 0 has length 63/) // record length
    expect(() => decodeRecordBatchSync(withCrc(4, 0x7e))).toThrow(/key length 63 is invalid/)
    expect(() => decodeRecordBatchSync(withCrc(4, 0x03))).toThrow(/key length -2 is invalid/)
    expect(() => decodeRecordBatchSync(withCrc(16, 0x03))).toThrow(/invalid number of record headers -2/)
    expect(() => decodeRecordBatchSync(withCrc(17, 0x01))).toThrow(/header 0 key length -1/)
    expect(() => decodeRecordBatchSync(withCrc(0, 0x2a))).toThrow(/expected to read 21 bytes in the record payload, but read 20/)
  })

  it('rejects a compressed block that does not decompress, after the CRC passes', async () => {
    const buf = await encodeRecordBatch(sample(10), { compression: 'gzip' })
    buf.fill(0x41, RECORD_BATCH_OVERHEAD + 10)
    writeBatchCrc(buf, 0, buf.length)
    await expect(decodeRecordBatch(buf)).rejects.toThrow(/gzip decompression failed/)
    expect(() => decodeRecordBatchSync(buf)).toThrow(CorruptRecordError)
  })

  it('skips decompression of a compressed batch with no records, as Kafka does', () => {
    const buf = Buffer.alloc(RECORD_BATCH_OVERHEAD + 3)
    GOLDEN.copy(buf, 0, 0, RECORD_BATCH_OVERHEAD)
    buf.writeInt32BE(buf.length - 12, BATCH_LENGTH)
    buf.writeInt16BE(1, ATTRIBUTES)
    buf.writeInt32BE(0, RECORDS_COUNT)
    writeBatchCrc(buf, 0, buf.length)
    expect(decodeRecordBatchSync(buf)).toMatchObject({ compression: 'gzip', records: [] })
  })
})

describe('records > RecordBatch > batches in a buffer', () => {
  it('iterates whole batches and skips a partial trailing batch silently', async () => {
    const a = encodeRecordBatchSync([{ value: 'a' }], { baseOffset: 0 })
    const b = await encodeRecordBatch([{ value: 'b' }, { value: 'c' }], { baseOffset: 1, compression: 'lz4' })
    const all = Buffer.concat([a, b, b.subarray(0, 20)])
    expect([...iterateBatches(all)]).toEqual([{ pos: 0, size: a.length }, { pos: a.length, size: b.length }])
    const decoded = await decodeRecordBatches(all)
    expect(decoded.flatMap((x) => x.records.map((r) => `${r.offset}:${r.value}`))).toEqual(['0:a', '1:b', '2:c'])
    expect(decodeRecordBatchesSync(Buffer.concat([a, a.subarray(0, 5)])).length).toBe(1)
    expect([...iterateBatches(Buffer.alloc(0))]).toEqual([])
  })

  it('throws on a batchLength below 49 or a whole batch with the wrong magic', () => {
    const bad = Buffer.from(GOLDEN)
    bad.writeInt32BE(10, BATCH_LENGTH)
    expect(() => [...iterateBatches(bad)]).toThrow(CorruptRecordError)
    const magic = Buffer.from(GOLDEN)
    magic[MAGIC] = 0
    expect(() => [...iterateBatches(Buffer.concat([GOLDEN, magic]))]).toThrow(/magic 0/)
  })

  it('does not check CRCs while iterating (decode does)', async () => {
    const bad = Buffer.from(GOLDEN)
    bad[CRC] ^= 0xff
    expect([...iterateBatches(bad)].length).toBe(1)
    await expect(decodeRecordBatches(bad)).rejects.toBeInstanceOf(CorruptRecordError)
  })
})

describe('records > RecordBatch > control records', () => {
  it('encodes an end-transaction marker batch that decodes as control and transactional', () => {
    const buf = encodeRecordBatchSync([endTxnMarkerRecord('COMMIT', 4, 123)], {
      isControl: true, transactional: true, producerId: 77, producerEpoch: 3, baseOffset: 10,
    })
    const batch = decodeRecordBatchSync(buf)
    expect(batch.isControl && batch.isTransactional).toBe(true)
    const marker = batch.records[0]!
    expect(marker.key!.toString('hex')).toBe('00000001')
    expect(marker.value!.toString('hex')).toBe('000000000004')
    expect(controlRecordTypeOf(marker.key)).toBe(ControlRecordType.COMMIT)
    expect(controlRecordTypeOf(endTxnMarkerRecord('ABORT', 0).key as Buffer)).toBe(ControlRecordType.ABORT)
    expect(() => controlRecordTypeOf(Buffer.from([0]))).toThrow(CorruptRecordError)
  })
})

describe('records > record builders and batch ends', () => {
  it('a RecordBuilder gets every field of every record and its result is what the batch holds', async () => {
    const buf = encodeRecordBatchSync([
      { key: 'k', value: 'v0', timestamp: 1_000 },
      { value: null, timestamp: 1_007, headers: [{ key: 'h', value: 'x' }, { key: 'h', value: null }] },
    ], { baseOffset: 40, compression: 'none' })
    const seen: Array<Parameters<RecordBuilder<unknown>>> = []
    const build: RecordBuilder<string> = (...args) => { seen.push(args); return `record@${args[0]}` }
    const batch = await decodeRecordBatchUsing(decompress, buf, 0, build)
    expect(batch.records).toEqual(['record@40', 'record@41'])
    expect(seen[0]).toEqual([40, 1_000, Buffer.from('k'), Buffer.from('v0'), NO_RECORD_HEADERS, 0])
    expect(seen[1]).toEqual([41, 1_007, null, null, [{ key: 'h', value: Buffer.from('x') }, { key: 'h', value: null }], 0])
    // The default builder never hands out the shared empty headers array.
    const records = decodeRecordBatchSync(buf).records
    expect(records[0]!.headers).toEqual([])
    expect(records[0]!.headers).not.toBe(NO_RECORD_HEADERS)
    expect(Object.isFrozen(NO_RECORD_HEADERS)).toBe(true)
  })

  it('the sync decoder builds with a RecordBuilder too; isCompressedBatch reads the codec bits', async () => {
    const plain = encodeRecordBatchSync([{ value: 'a' }, { value: 'b' }], { baseOffset: 7, compression: 'none' })
    const build: RecordBuilder<string> = (offset, _ts, _key, value) => `${offset}:${value!.toString()}`
    expect(decodeRecordBatchSync(plain, 0, build).records).toEqual(['7:a', '8:b'])
    expect(isCompressedBatch(plain, 0)).toBe(false)
    const both = Buffer.concat([plain, await encodeRecordBatch([{ value: 'c' }], { baseOffset: 9, compression: 'gzip' })])
    expect([...iterateBatches(both)].map(({ pos }) => isCompressedBatch(both, pos))).toEqual([false, true])
  })

  it('CrcCheckedBatchReader skips only the CRC (its reader checked it) and takes uncompressed batches only', async () => {
    const batch = encodeRecordBatchSync([{ value: 'a' }, { value: 'b' }], { baseOffset: 3, compression: 'none' })
    const build: RecordBuilder<string> = (offset, _ts, _key, value) => `${offset}:${value!.toString()}`
    batch.writeUInt32BE((batch.readUInt32BE(17) ^ 1) >>> 0, 17) // a wrong CRC
    expect(() => decodeRecordBatchSync(batch, 0, build)).toThrow(/corrupt/)
    expect(new CrcCheckedBatchReader(batch, 0, build).read(10).records).toEqual(['3:a', '4:b'])
    expect(() => new CrcCheckedBatchReader(batch.subarray(0, 40), 0, build)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
    const gzip = await encodeRecordBatch([{ value: 'c' }], { compression: 'gzip' })
    expect(() => new CrcCheckedBatchReader(gzip, 0, build)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_COMPRESSION_TYPE' }))
  })

  it('CrcCheckedBatchReader hands out a batch in slices with the offset after each', () => {
    const records = Array.from({ length: 7 }, (_, i) => ({ value: `v${i}`, offset: 100 + 2 * i, headers: i === 3 ? { h: 'x' } : undefined }))
    // Offsets 100, 102, ..., 112 (a compacted batch), lastOffsetDelta 14: the batch ends at 115.
    const batch = encodeRecordBatchSync(records, { baseOffset: 100, lastOffsetDelta: 14 })
    const whole = decodeRecordBatchSync(batch)
    const reader = new CrcCheckedBatchReader(batch, 0, (offset, timestamp, key, value, headers) => ({ offset, timestamp, key, value, headers }))
    expect(reader.header.baseOffset).toBe(100)
    expect(reader.nextOffset).toBe(100)
    const slices: number[][] = []
    const nextOffsets: number[] = []
    while (reader.remaining > 0) {
      const slice = reader.read(3)
      expect(slice.isControl).toBe(false)
      expect(slice.timestampType).toBe('CreateTime')
      slices.push(slice.records.map((r) => r.offset))
      nextOffsets.push(reader.nextOffset)
    }
    expect(slices).toEqual([[100, 102, 104], [106, 108, 110], [112]])
    expect(nextOffsets).toEqual([105, 111, whole.header.baseOffset + whole.header.lastOffsetDelta + 1])
    expect(reader.read(3).records).toEqual([])
    const fresh = new CrcCheckedBatchReader(batch, 0, (offset) => offset)
    expect(fresh.read(0).records).toEqual([])
    expect(fresh.read(-1).records).toEqual([])
    expect(fresh.read(Number.NaN).records).toEqual([])
    expect(fresh.read(1.5).records).toEqual([100])
    expect(fresh.remaining).toBe(6)
  })

  it('CrcCheckedBatchReader finds a corrupt record in the slice that holds it and extra bytes after the last', () => {
    const batch = encodeRecordBatchSync(Array.from({ length: 4 }, (_, i) => ({ value: `value-${i}` })), { compression: 'none' })
    const build: RecordBuilder<string> = (offset) => String(offset)
    // Records start at byte 61 and are the same size here; a record's length varint is its first byte.
    const corrupt = Buffer.from(batch)
    const at = 61 + 2 * (batch.length - 61) / 4
    corrupt[at] = 0x7e // zig-zag 63: longer than what is left
    const reader = new CrcCheckedBatchReader(corrupt, 0, build)
    expect(reader.read(2).records).toEqual(['0', '1'])
    expect(() => reader.read(2)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
    // One record fewer declared than the bytes hold: the leftover bytes are found after the last.
    const short = Buffer.from(batch)
    short.writeInt32BE(3, 57)
    const shortReader = new CrcCheckedBatchReader(short, 0, build)
    expect(shortReader.read(2).records).toEqual(['0', '1'])
    expect(() => shortReader.read(2)).toThrow(/bytes remain after the last of 3 records/)
  })

  it('nextOffsetAfter is the offset after the last whole batch, ignoring a partial tail', () => {
    const first = encodeRecordBatchSync([{ value: 'a' }, { value: 'b' }], { baseOffset: 10 })
    const second = encodeRecordBatchSync([{ value: 'c' }, { value: 'd' }, { value: 'e' }], { baseOffset: 12 })
    expect(nextOffsetAfter(Buffer.alloc(0), 7)).toBe(7)
    expect(nextOffsetAfter(first, 10)).toBe(12)
    expect(nextOffsetAfter(Buffer.concat([first, second]), 10)).toBe(15)
    expect(nextOffsetAfter(Buffer.concat([first, second.subarray(0, 30)]), 10)).toBe(12)
    // A compacted batch keeps its lastOffsetDelta even when its last records are gone.
    const compacted = encodeRecordBatchSync([{ value: 'x', offset: 20 }], { baseOffset: 20, lastOffsetDelta: 4 })
    expect(nextOffsetAfter(compacted, 20)).toBe(25)
    expect(nextOffsetAfter(first, 30)).toBe(30)
  })
})
