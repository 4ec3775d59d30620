/**
 * Codec work on the calling thread against the codec pool (src/records/codec-pool.ts), for
 * RecordBatch encode and decode with each codec at 16 KiB, 64 KiB, 256 KiB and 1 MiB batches
 * of ~100-byte JSON-like records (uncompressed sizes; `wire KiB` is the compressed batch).
 * Variants: `inline` = the async API (native work on libuv's pool), `pool` = CodecPool,
 * `sync` = the sync API (all work on the calling thread).
 *
 * Figures per variant:
 * - tinybench µs: mean latency, one call at a time (tinybench, each task on its own).
 * - p50 µs: median latency with the variants of one codec and size taking turns, so load
 *   from other processes falls on all of them alike.
 * - busy µs: main-thread CPU time per call (Linux schedstat of the main thread over blocks of
 *   back-to-back calls, median of 3 turns; other processes do not inflate it): what the call
 *   costs every other connection served by the main thread.
 * - fs.stat µs: latency of one `fs.stat` issued while 4 calls run at once (median of several
 *   bursts). Async codecs run on libuv's thread pool, which `fs` shares; the codec pool does
 *   not. x4 MB/s: throughput of those 4 concurrent calls. Sync variants are left out of both
 *   (they block the thread that would issue the stat).
 *
 * `v8.serialize(records)` is the main-thread cost of handing the records themselves to a
 * worker (what the pool avoids by writing the records block on the calling thread).
 *
 * `register(bench)` adds the tinybench tasks; `codecPoolBenchCases` holds their names and
 * uncompressed bytes per call. Standalone (all figures, ~2 minutes):
 * `npx tsx bench/micro/codec-pool.bench.ts`.
 */
import { promises as fs, readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { serialize } from 'node:v8'
import { Bench } from 'tinybench'
import { hasSyncCodec, type CompressionType } from '../../src/records/compression/index.js'
import { closeCodecPool, getCodecPool } from '../../src/records/codec-pool.js'
import {
  decodeRecordBatch, decodeRecordBatchSync, encodeRecordBatch, encodeRecordBatchSync, type RecordInput,
} from '../../src/records/record-batch.js'

const CODECS: CompressionType[] = ['gzip', 'snappy', 'lz4', 'zstd']
const SIZES: [label: string, bytes: number][] = [
  ['16 KiB', 16 * 1024], ['64 KiB', 64 * 1024], ['256 KiB', 256 * 1024], ['1 MiB', 1024 * 1024],
]
const VALUE_BYTES = 100
/** Encoded size of one record: the value plus ~10 bytes of lengths, deltas and attributes. */
const RECORD_BYTES = VALUE_BYTES + 10

/** One measured call. */
export interface CodecPoolBenchCase {
  name: string
  /** Cases of one group take turns in the paired measurements. */
  group: string
  /** `sync` variants block their thread by design and are left out of the burst figures. */
  variant: 'inline' | 'pool' | 'sync' | 'reference'
  /** Uncompressed batch bytes. */
  bytes: number
  /** Size of the batch as stored (compressed), for decode cases. */
  wireBytes?: number
  fn: () => unknown
}

/** The cases {@link register} added, for the standalone extra measurements. */
export const codecPoolBenchCases: CodecPoolBenchCase[] = []

function value(i: number): Buffer {
  const text = `{"id":${100000 + i},"user":"u${(i * 7919) % 5000}","amount":${(i * 104729) % 100000},"status":"${i % 3 ? 'paid' : 'open'}","t":"x"}`
  return Buffer.from(text.padEnd(VALUE_BYTES, ' ').slice(0, VALUE_BYTES))
}

function recordsOf(bytes: number): RecordInput[] {
  const now = 1_700_000_000_000
  return Array.from({ length: Math.max(1, Math.round(bytes / RECORD_BYTES)) }, (_, i) => ({ key: null, value: value(i), timestamp: now + i }))
}

let sink = 0

/**
 * Adds the encode/decode tasks, inline and pooled, for every codec and size. The pooled tasks
 * use the shared pool, which is closed when the bench completes (and reopened by a later call).
 */
export async function register(bench: Bench): Promise<void> {
  bench.addEventListener('complete', () => { void closeCodecPool() })
  const add = (c: CodecPoolBenchCase): void => {
    codecPoolBenchCases.push(c)
    bench.add(c.name, c.fn)
  }
  for (const [size, bytes] of SIZES) {
    const records = recordsOf(bytes)
    add({ name: `v8.serialize(records) ${size}`, group: `serialize ${size}`, variant: 'reference', bytes, fn: () => { sink += serialize(records).length } })
    for (const codec of CODECS) {
      const opts = { compression: codec }
      const encoded = await encodeRecordBatch(records, opts)
      const enc = { group: `encode ${codec} ${size}`, bytes }
      const dec = { group: `decode ${codec} ${size}`, bytes, wireBytes: encoded.length }
      add({ ...enc, variant: 'inline', name: `${enc.group} inline`, fn: async () => { sink += (await encodeRecordBatch(records, opts)).length } })
      add({ ...enc, variant: 'pool', name: `${enc.group} pool`, fn: async () => { sink += (await getCodecPool().encodeRecordBatch(records, opts)).length } })
      if (hasSyncCodec(codec)) add({ ...enc, variant: 'sync', name: `${enc.group} sync`, fn: () => { sink += encodeRecordBatchSync(records, opts).length } })
      add({ ...dec, variant: 'inline', name: `${dec.group} inline`, fn: async () => { sink += (await decodeRecordBatch(encoded)).records.length } })
      add({ ...dec, variant: 'pool', name: `${dec.group} pool`, fn: async () => { sink += (await getCodecPool().decodeRecordBatch(encoded)).records.length } })
      if (hasSyncCodec(codec)) add({ ...dec, variant: 'sync', name: `${dec.group} sync`, fn: () => { sink += decodeRecordBatchSync(encoded).records.length } })
    }
  }
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[sorted.length >> 1]!
}

/**
 * CPU time of the main thread so far, in µs. Linux's per-thread schedstat (ns, and unaffected
 * by other processes competing for the cores); elsewhere the event loop's active time, which
 * also counts time the thread waited for a core.
 */
const mainThreadCpuMicros: () => number = (() => {
  const path = `/proc/self/task/${process.pid}/schedstat`
  try {
    readFileSync(path)
    return () => Number(readFileSync(path, 'latin1').split(' ')[0]) / 1000
  } catch {
    return () => performance.eventLoopUtilization().active * 1000
  }
})()

/** Wall time of one call of `fn`, in µs. */
async function wallOnce(fn: () => unknown): Promise<number> {
  await nextTurn()
  const t0 = performance.now()
  await fn()
  return (performance.now() - t0) * 1000
}

/**
 * Main-thread CPU time per call, in µs, over back-to-back calls for at least `blockMs`: the
 * kernel updates a running thread's schedstat only every few milliseconds, so single calls
 * cannot be timed with it.
 */
async function cpuPerCall(fn: () => unknown, callMicros: number, blockMs = 150): Promise<number> {
  const calls = Math.max(3, Math.ceil((blockMs * 1000) / Math.max(callMicros, 1)))
  await nextTurn()
  const start = mainThreadCpuMicros()
  for (let i = 0; i < calls; i++) await fn()
  await nextTurn()
  return (mainThreadCpuMicros() - start) / calls
}

/** One `fs.stat` issued while `concurrent` calls of `fn` run: its latency and the whole burst's, in µs. */
async function burstOnce(fn: (() => unknown) | undefined, path: string, concurrent = 4): Promise<{ stat: number; total: number }> {
  await nextTurn()
  const t0 = performance.now()
  const calls = fn === undefined ? [] : Array.from({ length: concurrent }, () => fn())
  const t1 = performance.now()
  await fs.stat(path)
  const stat = (performance.now() - t1) * 1000
  await Promise.all(calls)
  return { stat, total: (performance.now() - t0) * 1000 }
}

interface Samples { wall: number[]; cpu: number[]; stat: number[]; total: number[] }

async function main(): Promise<void> {
  const bench = new Bench({ name: 'codec-pool', time: 250, iterations: 5, warmupTime: 50, warmupIterations: 2 })
  await register(bench)
  await bench.run()
  const tinybenchMicros = (c: CodecPoolBenchCase): number => {
    const result = bench.getTask(c.name)?.result
    return result !== undefined && 'period' in result ? result.period * 1000 : NaN
  }

  const statPath = fileURLToPath(import.meta.url)
  const idleStat: number[] = []
  for (let i = 0; i < 21; i++) idleStat.push((await burstOnce(undefined, statPath)).stat)

  const samples = new Map<CodecPoolBenchCase, Samples>()
  const groups = new Map<string, CodecPoolBenchCase[]>()
  for (const c of codecPoolBenchCases) {
    groups.set(c.group, [...(groups.get(c.group) ?? []), c])
    samples.set(c, { wall: [], cpu: [], stat: [], total: [] })
  }
  for (const group of groups.values()) {
    for (const c of group) await c.fn() // warm: the pool's thread may have idled out
    const rounds = Math.max(7, Math.min(25, Math.round(200_000 / Math.max(...group.map(tinybenchMicros)))))
    for (let round = 0; round < rounds; round++) {
      for (const c of group) samples.get(c)!.wall.push(await wallOnce(c.fn))
    }
    for (let round = 0; round < 3; round++) {
      for (const c of group) samples.get(c)!.cpu.push(await cpuPerCall(c.fn, median(samples.get(c)!.wall)))
    }
    for (let round = 0; round < 9; round++) {
      for (const c of group) {
        if (c.variant === 'sync' || c.variant === 'reference') continue
        const b = await burstOnce(c.fn, statPath)
        samples.get(c)!.stat.push(b.stat)
        samples.get(c)!.total.push(b.total)
      }
    }
  }

  const rows = codecPoolBenchCases.map((c) => {
    const s = samples.get(c)!
    const bursts = s.stat.length > 0
    return {
      task: c.name,
      'tinybench µs': tinybenchMicros(c).toFixed(0),
      'p50 µs': median(s.wall).toFixed(0),
      'busy µs': median(s.cpu).toFixed(0),
      'wire KiB': c.wireBytes === undefined ? '' : (c.wireBytes / 1024).toFixed(1),
      'fs.stat µs': bursts ? median(s.stat).toFixed(0) : '',
      'x4 MB/s': bursts ? ((4 * c.bytes) / median(s.total)).toFixed(0) : '',
    }
  })
  console.log(`fs.stat alone: ${median(idleStat).toFixed(0)} µs; codec pool threads: ${getCodecPool().threadCount}`)
  console.table(rows)
  await closeCodecPool()
  if (sink === 0.5) console.log(sink) // keeps results observable so they are not optimised away
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
