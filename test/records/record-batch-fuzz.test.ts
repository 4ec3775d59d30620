/**
 * Property tests of the RecordBatch codec: random records round-trip through every codec, and
 * hostile bytes (mutated, truncated or random batches) never produce anything but the original
 * records or a CorruptRecordError.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { CorruptRecordError, isShardlogError } from '../../src/errors.js'
import { ATTRIBUTES, RECORD_BATCH_OVERHEAD, writeBatchCrc } from '../../src/records/batch-header.js'
import type { CompressionType } from '../../src/records/compression/index.js'
import {
  decodeRecordBatch, decodeRecordBatchSync, decodeRecordBatches, encodeRecordBatch, type DecodedBatch, type Record, type RecordInput,
} from '../../src/records/record-batch.js'

const CODECS: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** A deterministic buffer of `size` bytes from `seed`: cheap to make at ~100 KB, unlike a generated array. */
function patterned(size: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(size)
  let x = seed | 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    buf[i] = i % 7 === 0 ? x & 0xff : 0x61 + (i % 13) // partly compressible
  }
  return buf
}

const bytes = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)) },
  { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 1000, max: 100_000 }), fc.integer()).map(([n, s]) => patterned(n, s)) },
)
const nullableBytes = fc.option(bytes, { nil: null, freq: 4 })
const headerValue = fc.option(fc.oneof(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a))), { nil: null })
const recordArb: fc.Arbitrary<RecordInput> = fc.record({
  key: fc.option(fc.oneof(bytes, fc.string({ maxLength: 30 })), { nil: null }),
  value: fc.oneof(nullableBytes, fc.string({ maxLength: 50 })),
  headers: fc.option(fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: headerValue }), { maxLength: 4 }), { nil: undefined }),
  timestamp: fc.oneof(fc.integer({ min: 0, max: 2 ** 53 - 1 }), fc.integer({ min: 1_600_000_000_000, max: 1_800_000_000_000 })),
}, { requiredKeys: ['value'] })

function asBuffer(v: Buffer | string | null | undefined): Buffer | null {
  if (v === null || v === undefined) return null
  return typeof v === 'string' ? Buffer.from(v) : v
}

/** What decoding `inputs` must give back. */
function expectedRecords(inputs: RecordInput[], baseOffset: number, now: number): Record[] {
  return inputs.map((r, i) => ({
    offset: baseOffset + i,
    timestamp: r.timestamp ?? now,
    key: asBuffer(r.key),
    value: asBuffer(r.value),
    headers: Array.isArray(r.headers) ? r.headers.map((h) => ({ key: h.key, value: asBuffer(h.value) })) : [],
  }))
}

describe('records > RecordBatch > properties', () => {
  it('round-trips random records through every codec', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(recordArb, { maxLength: 40 }),
      fc.constantFrom(...CODECS),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.integer({ min: 0, max: 2 ** 42 }),
      async (inputs, compression, baseOffset, now) => {
        const buf = await encodeRecordBatch(inputs, { compression, baseOffset, now })
        const batch = await decodeRecordBatch(buf)
        expect(batch.compression).toBe(compression)
        expect(batch.header.recordsCount).toBe(inputs.length)
        expect(batch.records).toEqual(expectedRecords(inputs, baseOffset, now))
      },
    ), { numRuns: 100 })
  })
})

describe('records > RecordBatch > hostile input', () => {
  const originals = new Map<CompressionType, { buf: Buffer; decoded: DecodedBatch }>()

  beforeAll(async () => {
    const inputs: RecordInput[] = Array.from({ length: 12 }, (_, i) => ({
      key: i % 3 === 0 ? null : `k${i}`,
      value: i === 5 ? null : patterned(20 + i * 9, i),
      headers: i % 4 === 0 ? [{ key: 'h', value: `v${i}` }, { key: '', value: null }] : undefined,
      timestamp: 1_700_000_000_000 + i,
    }))
    for (const compression of CODECS) {
      const buf = await encodeRecordBatch(inputs, { compression, baseOffset: 10, producerId: 5, producerEpoch: 1, baseSequence: 0 })
      originals.set(compression, { buf, decoded: await decodeRecordBatch(buf) })
    }
  })

  /**
   * Runs the async decoder and, unless the codec bits say zstd (async only), the sync one; both
   * must agree, and anything thrown must be a CorruptRecordError.
   */
  async function decodeOrCorrupt(buf: Buffer): Promise<DecodedBatch | CorruptRecordError> {
    const outcome = await settle(() => decodeRecordBatch(buf))
    if (buf.length <= ATTRIBUTES + 1 || (buf.readInt16BE(ATTRIBUTES) & 0x07) !== 4) {
      const syncOutcome = await settle(async () => decodeRecordBatchSync(buf))
      expect(syncOutcome instanceof CorruptRecordError).toBe(outcome instanceof CorruptRecordError)
      if (!(outcome instanceof CorruptRecordError)) expect(syncOutcome).toEqual(outcome)
    }
    return outcome
  }

  async function settle(decode: () => Promise<DecodedBatch>): Promise<DecodedBatch | CorruptRecordError> {
    try {
      return await decode()
    } catch (err) {
      if (!(err instanceof CorruptRecordError)) throw new Error(`decoder threw ${isShardlogError(err) ? err.code : String(err)}`, { cause: err })
      expect(err.message.length).toBeGreaterThan(10)
      return err
    }
  }

  const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })

  it('returns the same records or throws CorruptRecordError for any mutated byte (CRC left as is)', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...CODECS), mutation, async (compression, edits) => {
      const { buf, decoded } = originals.get(compression)!
      const mutated = Buffer.from(buf)
      for (const [at, byte] of edits) mutated[at % mutated.length] = byte
      const result = await decodeOrCorrupt(mutated)
      const changed = [...mutated.keys()].filter((i) => mutated[i] !== buf[i])
      // baseOffset (0-7) and partitionLeaderEpoch (12-15) are outside the CRC by design.
      const outsideCrc = changed.every((i) => i < 8 || (i >= 12 && i < 16))
      if (changed.length === 0) expect(result).toEqual(decoded)
      else if (outsideCrc) {
        expect(result).not.toBeInstanceOf(CorruptRecordError)
        const got = result as DecodedBatch
        expect(got.records.map((r) => [r.key, r.value, r.timestamp, r.headers])).toEqual(decoded.records.map((r) => [r.key, r.value, r.timestamp, r.headers]))
      } else {
        expect(result).toBeInstanceOf(CorruptRecordError)
      }
    }), { numRuns: 400 })
  })

  it('never throws anything but CorruptRecordError when the CRC is recomputed over mutated bytes', async () => {
    await fc.assert(fc.asyncProperty(fc.constantFrom(...CODECS), mutation, async (compression, edits) => {
      const { buf } = originals.get(compression)!
      const mutated = Buffer.from(buf)
      const coveredLength = mutated.length - ATTRIBUTES
      for (const [at, byte] of edits) mutated[ATTRIBUTES + (at % coveredLength)] = byte
      writeBatchCrc(mutated, 0, mutated.length)
      const result = await decodeOrCorrupt(mutated)
      if (!(result instanceof CorruptRecordError)) expect(result.records.length).toBe(result.header.recordsCount)
    }), { numRuns: 600 })
  })

  it('throws CorruptRecordError for every truncation of a batch', async () => {
    for (const compression of CODECS) {
      const { buf } = originals.get(compression)!
      for (let length = 0; length < buf.length; length += 1 + (length >> 4)) {
        await expect(decodeRecordBatch(buf.subarray(0, length))).rejects.toBeInstanceOf(CorruptRecordError)
      }
    }
  })

  it('survives random bytes behind a valid header and CRC, including lying lengths inside the records', async () => {
    const { buf } = originals.get('none')!
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: -2, max: 100 }), async (body, codec, count) => {
      const batch = Buffer.alloc(RECORD_BATCH_OVERHEAD + body.length)
      buf.copy(batch, 0, 0, RECORD_BATCH_OVERHEAD)
      batch.set(body, RECORD_BATCH_OVERHEAD)
      batch.writeInt32BE(batch.length - 12, 8)
      batch.writeInt16BE(codec, ATTRIBUTES)
      batch.writeInt32BE(count, 57)
      writeBatchCrc(batch, 0, batch.length)
      await decodeOrCorrupt(batch)
    }), { numRuns: 500 })
  })

  it('decodes the whole batches of a buffer cut at any point and skips the partial one', async () => {
    const bufs = CODECS.map((c) => originals.get(c)!.buf)
    const all = Buffer.concat(bufs)
    await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: all.length }), async (cut) => {
      let whole = 0
      for (let end = 0, i = 0; i < bufs.length && (end += bufs[i]!.length) <= cut; i++) whole++
      const batches = await decodeRecordBatches(all.subarray(0, cut))
      expect(batches.map((b) => b.compression)).toEqual(CODECS.slice(0, whole))
    }), { numRuns: 200 })
  })
})
