import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CorruptRecordError, InvalidRecordError } from '../../src/errors.js'
import { readBatchHeader } from '../../src/records/batch-header.js'
import {
  CodecPool, DEFAULT_OFFLOAD_THRESHOLDS, closeCodecPool, decodeBatchMaybeOffloaded, encodeBatchMaybeOffloaded, getCodecPool,
  shouldOffload, type OffloadThresholds,
} from '../../src/records/codec-pool.js'
import { compress, decompress, type CompressionType } from '../../src/records/compression/index.js'
import { DEFAULT_MAX_DECOMPRESSED_BYTES, gzipDecompress, gzipDecompressSync } from '../../src/records/compression/gzip.js'
import { lz4CompressSync, lz4Decompress, lz4DecompressSync, lz4FrameOutputBound } from '../../src/records/compression/lz4.js'
import {
  decodeRecordBatch, decodeRecordBatchSync, encodeRecordBatch, encodeRecordBatchSync, type DecodedBatch, type EncodeBatchOptions, type RecordInput,
} from '../../src/records/record-batch.js'
import { workerUrl } from '../../src/shard/worker-url.js'

const CODECS: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const NOW = 1_700_000_000_000

/** Compressible records with every field shape: null key, string and Buffer values, headers. */
function records(count: number): RecordInput[] {
  return Array.from({ length: count }, (_, i) => ({
    key: i % 5 === 0 ? null : `key-${i}`,
    value: i % 7 === 0 ? null : Buffer.from(`{"id":${i},"user":"u${(i * 7919) % 500}","status":"${i % 3 ? 'paid' : 'open'}"}`),
    headers: i % 4 === 0 ? [{ key: 'trace', value: `t-${i}` }, { key: 'empty', value: null }] : undefined,
    timestamp: NOW + i,
  }))
}

const BATCH_OPTIONS: EncodeBatchOptions = {
  baseOffset: 42, partitionLeaderEpoch: 3, producerId: 1001, producerEpoch: 2, baseSequence: 7, transactional: true, now: NOW,
}

/** The fields a reader sees, without the buffers the values are views into. */
function comparable(batch: DecodedBatch): unknown {
  return {
    ...batch,
    records: batch.records.map((r) => ({
      ...r, key: r.key?.toString('hex') ?? null, value: r.value?.toString('hex') ?? null,
      headers: r.headers.map((h) => ({ key: h.key, value: h.value?.toString('hex') ?? null })),
    })),
  }
}

let pool: CodecPool

beforeAll(() => {
  pool = new CodecPool({ maxThreads: 1 })
})

afterAll(async () => {
  await pool.close()
  await closeCodecPool()
})

describe('records > CodecPool > round trips', () => {
  for (const codec of CODECS) {
    it(`${codec}: encodes the bytes encodeRecordBatch writes and decodes them as decodeRecordBatch does`, async () => {
      const input = records(300)
      const opts = { ...BATCH_OPTIONS, compression: codec }
      const pooled = await pool.encodeRecordBatch(input, opts)
      expect(pooled.equals(await encodeRecordBatch(input, opts))).toBe(true)
      const decoded = await pool.decodeRecordBatch(pooled)
      expect(decoded.compression).toBe(codec)
      expect(decoded.header).toEqual(readBatchHeader(pooled))
      expect(comparable(decoded)).toEqual(comparable(await decodeRecordBatch(pooled)))
      expect(decoded.records.map((r) => r.value?.toString() ?? null)).toEqual(input.map((r) => r.value?.toString() ?? null))
    })

    it(`${codec}: compress and decompress round-trip, empty input included`, async () => {
      const data = Buffer.from('{"order":1,"status":"shipped"}'.repeat(3000))
      for (const input of [data, Buffer.alloc(0)]) {
        const packed = await pool.compress(codec, input)
        expect((await decompress(codec, packed)).equals(input)).toBe(true)
        expect((await pool.decompress(codec, await compress(codec, input))).equals(input)).toBe(true)
      }
    })
  }

  it('encodes and decodes an empty compressed batch as Kafka does (stream not opened on read)', async () => {
    const empty = await pool.encodeRecordBatch([], { compression: 'gzip', now: NOW })
    expect(empty.equals(encodeRecordBatchSync([], { compression: 'gzip', now: NOW }))).toBe(true)
    expect((await pool.decodeRecordBatch(empty)).records).toEqual([])
  })

  it('decodes the batch at a position inside a larger buffer and leaves the caller\'s buffer intact', async () => {
    const first = encodeRecordBatchSync(records(3), { now: NOW })
    const second = encodeRecordBatchSync(records(50), { compression: 'lz4', baseOffset: 3, now: NOW })
    const buf = Buffer.concat([first, second])
    const copy = Buffer.from(buf)
    const decoded = await pool.decodeRecordBatch(buf, first.length)
    expect(decoded.records.map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => 3 + i))
    expect(buf.equals(copy)).toBe(true)
    const data = Buffer.from('keep me '.repeat(1000))
    await pool.compress('gzip', data)
    expect(data.toString()).toBe('keep me '.repeat(1000))
  })
})

describe('records > CodecPool > bad input', () => {
  it('rejects a batch with a bad CRC on the calling thread, before any worker sees it', async () => {
    const batch = encodeRecordBatchSync(records(20), { compression: 'gzip', now: NOW })
    batch[batch.length - 1]! ^= 0xff
    const err = await pool.decodeRecordBatch(batch).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CorruptRecordError)
    expect((err as CorruptRecordError).message).toMatch(/crc/)
  })

  it.each(['gzip', 'snappy', 'lz4', 'zstd'] as const)('rejects %s garbage with the CorruptRecordError the worker raised', async (codec) => {
    const err = await pool.decompress(codec, Buffer.from('not compressed at all, just text')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CorruptRecordError)
    expect(err).toMatchObject({ code: 'CORRUPT_MESSAGE', errorCode: 2 })
    expect((err as Error).message).toMatch(new RegExp(`^${codec} decompression failed|snappy`))
  })

  it('rejects a truncated batch as the inline decoder does', async () => {
    const batch = encodeRecordBatchSync(records(5), { compression: 'snappy', now: NOW })
    await expect(pool.decodeRecordBatch(batch.subarray(0, 40))).rejects.toThrow(/truncated/)
    await expect(pool.decodeRecordBatch(batch.subarray(0, batch.length - 1))).rejects.toThrow(/truncated/)
  })

  it('rejects invalid records with InvalidRecordError before anything is sent', async () => {
    await expect(pool.encodeRecordBatch([{ value: 'x', timestamp: Number.NaN }], { compression: 'gzip' })).rejects.toBeInstanceOf(InvalidRecordError)
  })
})

describe('records > CodecPool > decompression cap', () => {
  const zeros = Buffer.alloc(100_000)

  it('gzip: refuses output beyond the cap, accepts output exactly at it', async () => {
    const packed = gzipSync(zeros)
    expect(() => gzipDecompressSync(packed, 50_000)).toThrow(CorruptRecordError)
    expect(() => gzipDecompressSync(packed, 50_000)).toThrow(/more than the 50000-byte limit/)
    await expect(gzipDecompress(packed, 99_999)).rejects.toBeInstanceOf(CorruptRecordError)
    expect(gzipDecompressSync(packed, 100_000).length).toBe(100_000)
    expect((await gzipDecompress(packed, 100_000)).length).toBe(100_000)
  })

  it('gzip: a bomb of concatenated members stops at the default cap', async () => {
    const member = gzipSync(Buffer.alloc(1 << 20))
    const bomb = Buffer.concat(Array.from({ length: DEFAULT_MAX_DECOMPRESSED_BYTES / (1 << 20) + 1 }, () => member))
    await expect(decompress('gzip', bomb)).rejects.toThrow(/gzip decompression failed: .*67108864-byte limit/)
  })

  it('lz4: refuses a declared content size above the cap before decoding', () => {
    // FLG 0x68: version 01, independent blocks, content size; BD 64 KiB; content size 2^40.
    const frame = Buffer.from('04224d18' + '68' + '40' + '0000000000010000' + '00' + '00000000', 'hex')
    expect(() => lz4DecompressSync(frame)).toThrow(/declares a content size of 1099511627776 bytes/)
  })

  it('lz4: refuses a frame of repeated blocks whose bound exceeds the cap, before decoding', async () => {
    const one = lz4CompressSync(Buffer.alloc(65_536)) // header (7), one block, end mark (4)
    const block = one.subarray(7, one.length - 4)
    const bomb = Buffer.concat([one.subarray(0, 7), ...Array.from({ length: 1100 }, () => block), Buffer.alloc(4)])
    expect(lz4FrameOutputBound(bomb).bound).toBe(1100 * 65_536)
    expect(() => lz4DecompressSync(bomb)).toThrow(/has blocks that can inflate to 72089600 bytes/)
    await expect(decompress('lz4', bomb)).rejects.toBeInstanceOf(CorruptRecordError)
  })

  it('lz4: checks the real output when the bound is within one block of the cap', async () => {
    const packed = lz4CompressSync(Buffer.alloc(120_000))
    expect(() => lz4DecompressSync(packed, 100_000)).toThrow(/inflated to 120000 bytes, more than the 100000-byte limit/)
    await expect(lz4Decompress(packed, 100_000)).rejects.toBeInstanceOf(CorruptRecordError)
    expect(lz4DecompressSync(packed, 120_000).length).toBe(120_000)
  })

  it('lz4: rejects a block length that runs past the end of the frame', () => {
    const packed = lz4CompressSync(zeros)
    expect(() => lz4FrameOutputBound(packed.subarray(0, 20))).toThrow(/runs past the end/)
  })

  it('applies the cap given to the pool, in the worker, for raw data and for batches', async () => {
    await expect(pool.decompress('gzip', gzipSync(zeros), { maxOutputBytes: 1000 })).rejects.toThrow(/1000-byte limit/)
    await expect(pool.decompress('lz4', lz4CompressSync(zeros), { maxOutputBytes: 1000 })).rejects.toBeInstanceOf(CorruptRecordError)
    const batch = encodeRecordBatchSync(records(200), { compression: 'gzip', now: NOW })
    await expect(pool.decodeRecordBatch(batch, 0, { maxOutputBytes: 1000 })).rejects.toBeInstanceOf(CorruptRecordError)
  })
})

describe('records > CodecPool > offload policy', () => {
  const ALWAYS = thresholds(0)
  const NEVER = thresholds(Infinity)

  function thresholds(bytes: number): OffloadThresholds {
    const both = { compress: bytes, decompress: bytes }
    return { none: both, gzip: both, snappy: both, lz4: both, zstd: both }
  }

  it('offloads by codec, direction and size', () => {
    expect(shouldOffload('none', 1 << 30)).toBe(false)
    expect(shouldOffload('zstd', 1 << 30, 'decompress')).toBe(false)
    const gzipAt = DEFAULT_OFFLOAD_THRESHOLDS.gzip.compress
    expect(shouldOffload('gzip', gzipAt)).toBe(true)
    expect(shouldOffload('gzip', gzipAt - 1)).toBe(false)
    expect(shouldOffload('lz4', 10, 'compress', ALWAYS)).toBe(true)
    expect(shouldOffload('lz4', 10, 'decompress', { ...ALWAYS, lz4: { compress: 0, decompress: 11 } })).toBe(false)
  })

  it('encodes and decodes the same batch either way; only the offloaded path starts a pool thread', async () => {
    await closeCodecPool()
    const input = records(200)
    const opts = { ...BATCH_OPTIONS, compression: 'gzip' as const }
    const expected = encodeRecordBatchSync(input, opts)
    expect((await encodeBatchMaybeOffloaded(input, opts, NEVER)).equals(expected)).toBe(true)
    expect((await decodeBatchMaybeOffloaded(expected, 0, NEVER)).records).toHaveLength(200)
    expect(getCodecPool().threadCount).toBe(0)
    expect((await encodeBatchMaybeOffloaded(input, opts, ALWAYS)).equals(expected)).toBe(true)
    expect(getCodecPool().threadCount).toBe(1)
    const decoded = await decodeBatchMaybeOffloaded(expected, 0, ALWAYS)
    expect(comparable(decoded)).toEqual(comparable(decodeRecordBatchSync(expected)))
  })

  it('with the default thresholds keeps small batches of every codec on the calling thread, and sends big gzip ones to the pool', async () => {
    await closeCodecPool()
    for (const codec of CODECS) {
      const opts = { ...BATCH_OPTIONS, compression: codec }
      const batch = await encodeBatchMaybeOffloaded(records(20), opts)
      expect(batch.equals(await encodeRecordBatch(records(20), opts))).toBe(true)
      expect((await decodeBatchMaybeOffloaded(batch)).records).toHaveLength(20)
    }
    expect(getCodecPool().threadCount).toBe(0)
    const big = records(2000) // a 106 KiB records block, 24 KiB gzipped: over both gzip thresholds
    const opts = { compression: 'gzip' as const, now: NOW }
    const batch = await encodeBatchMaybeOffloaded(big, opts)
    expect(getCodecPool().threadCount).toBe(1)
    expect(batch.equals(encodeRecordBatchSync(big, opts))).toBe(true)
    expect((await decodeBatchMaybeOffloaded(batch)).records).toHaveLength(2000)
  })
})

describe('records > CodecPool > lifecycle', () => {
  let dir: string

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'shardlog-codec-pool-'))
  })

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('keeps serving after a worker crashes mid-task (uncaught error or exit)', async () => {
    const entry = workerUrl('codec-task')
    // The real entry, plus two ways to die for marked inputs.
    const crashing = path.join(dir, 'crashing-codec-task.mjs')
    await writeFile(crashing, [
      `import handle from ${JSON.stringify(entry.url.href)}`,
      'export default function (task) {',
      "  const text = task.op === 'compress' ? Buffer.from(task.data).toString() : ''",
      "  if (text === 'throw') { setImmediate(() => { throw new Error('codec worker crashed on purpose') }); return new Promise(() => {}) }",
      "  if (text === 'exit') process.exit(3)",
      '  return handle(task)',
      '}',
    ].join('\n'))
    const crashPool = new CodecPool({ maxThreads: 1, worker: { url: pathToFileURL(crashing), execArgv: entry.execArgv } })
    try {
      const data = Buffer.from('still works '.repeat(100))
      for (const marker of ['throw', 'exit']) {
        const err = await crashPool.compress('gzip', Buffer.from(marker)).catch((e: unknown) => e)
        expect(err).toMatchObject({ code: 'UNKNOWN_SERVER_ERROR' })
        expect((err as Error).message).toMatch(/codec pool task compress failed/)
        expect((await decompress('gzip', await crashPool.compress('gzip', data))).equals(data)).toBe(true)
      }
    } finally {
      await crashPool.close()
    }
  })

  it('rejects calls after close, and close is idempotent', async () => {
    const closing = new CodecPool({ maxThreads: 1 })
    await closing.close()
    await closing.close()
    await expect(closing.compress('gzip', Buffer.from('late'))).rejects.toMatchObject({ code: 'UNKNOWN_SERVER_ERROR' })
  })

  it('lets the process exit after closeCodecPool, and with an idle pool left open', async () => {
    const poolModule = pathToFileURL(path.resolve('src/records/codec-pool.ts')).href
    const script = (close: boolean): string => [
      `import { closeCodecPool, getCodecPool } from ${JSON.stringify(poolModule)}`,
      "const packed = await getCodecPool().compress('gzip', Buffer.alloc(100000, 97))",
      "console.log('threads', getCodecPool().threadCount, packed.length > 0)",
      close ? 'await closeCodecPool()' : '',
      "console.log('done')",
    ].join('\n')
    const run = async (close: boolean): Promise<{ code: number | null; out: string }> => {
      const file = path.join(dir, `exit-${close ? 'closed' : 'idle'}.mjs`)
      await writeFile(file, script(close))
      const child = spawn(process.execPath, [...workerUrl('codec-task').execArgv, file], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
      // A hang guard, not a timing assertion: a process held open by the pool never exits.
      const guard = setTimeout(() => child.kill('SIGKILL'), 20_000)
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve))
      clearTimeout(guard)
      return { code, out }
    }
    const [closed, idle] = await Promise.all([run(true), run(false)])
    for (const result of [closed, idle]) {
      expect(result.code).toBe(0)
      expect(result.out).toBe('threads 1 true\ndone\n')
    }
  })
})

describe('records > CodecPool > transfer', () => {
  it('with transfer: true hands over a whole buffer without copying it, and copies a slice', async () => {
    const whole = Buffer.from('{"order":1,"status":"shipped"}'.repeat(1000)) // over 4 KiB: a buffer of its own
    const expected = await compress('lz4', whole)
    expect(whole.byteLength).toBe(whole.buffer.byteLength)
    const packed = await pool.compress('lz4', whole, { transfer: true })
    expect(whole.byteLength).toBe(0) // transferred: detached here
    expect(packed.equals(expected)).toBe(true)

    const slice = Buffer.from('small') // a slice of Node's shared pool: must never be transferred
    await pool.compress('lz4', slice, { transfer: true })
    expect(slice.toString()).toBe('small')
    expect(Buffer.from('the shared pool still works').toString()).toBe('the shared pool still works')
  })
})
