/**
 * Interoperability with kafkajs 2.2.4, an independent implementation of RecordBatch v2: its
 * own encoder (src/protocol/recordBatch/v0) and decoder must agree with ours in both
 * directions, for every codec. kafkajs ships gzip only; like its users we plug snappy, lz4
 * and zstd in through `CompressionCodecs`.
 */
import { createRequire } from 'node:module'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { compress, decompress, type CompressionType } from '../../src/records/compression/index.js'
import { decodeRecordBatch, encodeRecordBatch, type RecordInput } from '../../src/records/record-batch.js'

const require = createRequire(import.meta.url)

interface KafkajsEncoder { buffer: Buffer }
interface KafkajsRecordInput {
  offsetDelta: number
  timestampDelta: number
  key: Buffer | null
  value: Buffer | null
  headers?: { [key: string]: Buffer }
}
interface KafkajsBatchInput {
  compression: number
  firstOffset?: unknown
  firstTimestamp: number
  maxTimestamp: number
  partitionLeaderEpoch?: number
  lastOffsetDelta: number
  transactional?: boolean
  producerId?: unknown
  producerEpoch?: number
  firstSequence?: number
  records: KafkajsEncoder[]
}
interface KafkajsDecodedRecord {
  offset: string
  timestamp: string
  key: Buffer | null
  value: Buffer | null
  headers: { [key: string]: Buffer | null }
}
interface KafkajsDecodedBatch {
  firstOffset: string
  inTransaction: boolean
  isControlBatch: boolean
  producerId: string
  producerEpoch: number
  firstSequence: number
  records: KafkajsDecodedRecord[]
}
interface KafkajsCodec {
  compress(encoder: KafkajsEncoder): Promise<Buffer>
  decompress(buffer: Buffer): Promise<Buffer>
}

const kafkajs = require('kafkajs') as {
  CompressionTypes: { None: number; GZIP: number; Snappy: number; LZ4: number; ZSTD: number }
  CompressionCodecs: { [id: number]: () => KafkajsCodec }
}
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (input: KafkajsBatchInput) => Promise<KafkajsEncoder> }
const KafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (input: KafkajsRecordInput) => KafkajsEncoder
const decodeKafkajsBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<KafkajsDecodedBatch>
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown
const Long = require('kafkajs/src/utils/long') as { fromValue(v: number): unknown }
const snappyRaw = require('snappy') as { compress(data: Buffer): Promise<Buffer> }

const CODEC_IDS: { [type in CompressionType]: number } = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 }
const CODECS: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

beforeAll(() => {
  const { CompressionCodecs, CompressionTypes } = kafkajs
  // kafkajs-snappy style: raw snappy blocks out (as librdkafka writes), either framing in.
  CompressionCodecs[CompressionTypes.Snappy] = () => ({
    compress: (encoder) => snappyRaw.compress(encoder.buffer),
    decompress: (buffer) => decompress('snappy', buffer),
  })
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    compress: (encoder) => compress('lz4', encoder.buffer),
    decompress: (buffer) => decompress('lz4', buffer),
  })
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: (encoder) => compress('zstd', encoder.buffer),
    decompress: (buffer) => decompress('zstd', buffer),
  })
})

interface Sample {
  key: Buffer | null
  value: Buffer | null
  headers: { [key: string]: Buffer }
  timestamp: number
}

const BASE_TS = 1_700_000_000_000

function samples(n: number): Sample[] {
  return Array.from({ length: n }, (_, i): Sample => ({
    key: i % 4 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 9 === 8 ? null : Buffer.from(`{"n":${i},"pad":"${'x'.repeat(i % 50)}"}`),
    headers: i % 2 === 0 ? { 'trace-id': Buffer.from(`t-${i}`), empty: Buffer.alloc(0) } as { [key: string]: Buffer } : {},
    timestamp: BASE_TS + i * 3,
  }))
}

function kafkajsEncode(type: CompressionType, records: Sample[], extra: Partial<KafkajsBatchInput> = {}): Promise<KafkajsEncoder> {
  return RecordBatch({
    compression: CODEC_IDS[type],
    firstOffset: Long.fromValue(0),
    firstTimestamp: records[0]!.timestamp,
    maxTimestamp: Math.max(...records.map((r) => r.timestamp)),
    lastOffsetDelta: records.length - 1,
    records: records.map((r, i) => KafkajsRecord({
      offsetDelta: i, timestampDelta: r.timestamp - records[0]!.timestamp, key: r.key, value: r.value, headers: r.headers,
    })),
    ...extra,
  })
}

function ourInputs(records: Sample[]): RecordInput[] {
  return records.map((r) => ({ key: r.key, value: r.value, headers: r.headers, timestamp: r.timestamp }))
}

describe('records > RecordBatch > kafkajs interoperability', () => {
  it('produces the same bytes as kafkajs for an uncompressed batch with the same header fields', async () => {
    const records = samples(50)
    const theirs = await kafkajsEncode('none', records)
    // kafkajs's defaults: partitionLeaderEpoch 0, producerEpoch 0, firstSequence 0.
    const ours = await encodeRecordBatch(ourInputs(records), { partitionLeaderEpoch: 0, producerEpoch: 0, baseSequence: 0 })
    expect(ours.toString('hex')).toBe(theirs.buffer.toString('hex'))
  })

  for (const type of CODECS) {
    it(`decodes a ${type} batch written by kafkajs`, async () => {
      const records = samples(300)
      const theirs = await kafkajsEncode(type, records, { firstOffset: Long.fromValue(1000) })
      const batch = await decodeRecordBatch(theirs.buffer)
      expect(batch.compression).toBe(type)
      expect(batch.records.length).toBe(records.length)
      batch.records.forEach((record, i) => {
        expect(record.offset).toBe(1000 + i)
        expect(record.timestamp).toBe(records[i]!.timestamp)
        expect(record.key).toEqual(records[i]!.key)
        expect(record.value).toEqual(records[i]!.value)
        expect(record.headers).toEqual(Object.entries(records[i]!.headers).map(([key, value]) => ({ key, value })))
      })
    })

    it(`writes a ${type} batch that kafkajs decodes`, async () => {
      const records = samples(300)
      const ours = await encodeRecordBatch(ourInputs(records), { compression: type, baseOffset: 500 })
      const batch = await decodeKafkajsBatch(new KafkajsDecoder(ours))
      expect(batch.firstOffset).toBe('500')
      expect(batch.records.length).toBe(records.length)
      batch.records.forEach((record, i) => {
        expect(record.offset).toBe(String(500 + i))
        expect(record.timestamp).toBe(String(records[i]!.timestamp))
        expect(record.key).toEqual(records[i]!.key)
        expect(record.value).toEqual(records[i]!.value)
        expect(record.headers).toEqual(records[i]!.headers)
      })
    })
  }

  it('agrees with kafkajs on the producer and transactional fields', async () => {
    const records = samples(3)
    const ours = await encodeRecordBatch(ourInputs(records), { transactional: true, producerId: 4242, producerEpoch: 7, baseSequence: 99 })
    const decoded = await decodeKafkajsBatch(new KafkajsDecoder(ours))
    expect(decoded).toMatchObject({ inTransaction: true, isControlBatch: false, producerId: '4242', producerEpoch: 7, firstSequence: 99 })
    const control = await encodeRecordBatch([{ key: Buffer.from('00000001', 'hex'), value: Buffer.from('000000000000', 'hex') }], { isControl: true, transactional: true })
    expect((await decodeKafkajsBatch(new KafkajsDecoder(control))).isControlBatch).toBe(true)

    const theirs = await kafkajsEncode('gzip', records, { transactional: true, producerId: Long.fromValue(4242), producerEpoch: 7, firstSequence: 99 })
    const batch = await decodeRecordBatch(theirs.buffer)
    expect(batch.isTransactional).toBe(true)
    expect(batch.header).toMatchObject({ producerId: 4242, producerEpoch: 7, baseSequence: 99 })
  })

  it('round-trips random records through ours and kafkajs in both directions', async () => {
    // kafkajs folds headers into a plain object, so names like "toString" collide with its prototype there.
    const headerKey = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !(k in Object.prototype))
    const header = fc.record({ key: headerKey, value: fc.uint8Array({ maxLength: 40 }) })
    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 2000 }), { nil: null }),
      headers: fc.uniqueArray(header, { selector: (h) => h.key, maxLength: 3 }),
      timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    })
    await fc.assert(fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 30 }), fc.constantFrom(...CODECS), async (raw, type) => {
      const records: Sample[] = raw.map((r) => ({
        key: r.key && Buffer.from(r.key),
        value: r.value && Buffer.from(r.value),
        headers: Object.fromEntries(r.headers.map((h) => [h.key, Buffer.from(h.value)])),
        timestamp: r.timestamp,
      }))
      const fromUs = await decodeKafkajsBatch(new KafkajsDecoder(await encodeRecordBatch(ourInputs(records), { compression: type })))
      expect(fromUs.records.map((r) => [r.key, r.value, r.headers, Number(r.timestamp)])).toEqual(records.map((r) => [r.key, r.value, r.headers, r.timestamp]))
      const fromThem = await decodeRecordBatch((await kafkajsEncode(type, records)).buffer)
      expect(fromThem.records.map((r) => [r.key, r.value, r.timestamp])).toEqual(records.map((r) => [r.key, r.value, r.timestamp]))
    }), { numRuns: 60 })
  })
})
