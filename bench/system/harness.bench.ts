/**
 * `harness`: the standard load-test scenarios run through the load-test harness itself
 * (`runLoadTest`, the code behind `shardlog perf`), against an embedded cluster: produce with
 * each codec, acks=1 against acks=all, consume, and end-to-end latency at a fixed rate. Each
 * run writes its `--out` files; the table below is built from their `summary.json`, next to
 * the raw limit measured right after it in the same temporary directory (`fs.writeSync` of
 * the same bytes, in the harness's batch-sized chunks).
 *
 * ```
 * npx tsx bench/system/harness.bench.ts            ~1.5 min; rewrites its table in BENCHMARKS.md
 * npx tsx bench/system/harness.bench.ts --quick    short runs, BENCHMARKS.md untouched
 * ```
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runLoadTest, type LoadTestOptions } from '../../src/perf/run-load-test.js'
import { embeddedTarget } from '../../src/perf/targets/index.js'
import {
  contextCaption, exitWhenDone, isMainModule, markdownTable, runContext, runStandalone, type BenchRunOptions, type BenchSection,
} from './bench-section.js'
import { rawWrite } from './raw-limits.js'

type Scenario = Pick<LoadTestOptions, 'mode' | 'compression' | 'acks' | 'throughput' | 'partitions' | 'batchSize' | 'lingerMs'> & { name: string }

/** The fields of summary.json this table reads. */
interface SavedSummary {
  records: { measured: number; acked?: number; received?: number; failed?: number }
  throughput: { recordsPerSec: number; mbPerSec: number; bytes: number }
  primaryLatency: string
  latency: Array<{ id: string; coordinatedOmissionCorrected: boolean; stats: { p50: number; p99: number; p999: number; max: number } }>
}

const kScenarios: readonly Scenario[] = [
  { name: 'produce, none, acks=1', mode: 'produce', compression: 'none', acks: 1, throughput: -1 },
  { name: 'produce, none, acks=all', mode: 'produce', compression: 'none', acks: -1, throughput: -1 },
  { name: 'produce, gzip, acks=1', mode: 'produce', compression: 'gzip', acks: 1, throughput: -1 },
  { name: 'produce, snappy, acks=1', mode: 'produce', compression: 'snappy', acks: 1, throughput: -1 },
  { name: 'produce, lz4, acks=1', mode: 'produce', compression: 'lz4', acks: 1, throughput: -1 },
  { name: 'produce, zstd, acks=1', mode: 'produce', compression: 'zstd', acks: 1, throughput: -1 },
  { name: 'consume', mode: 'consume', compression: 'none', acks: 1, throughput: -1 },
  { name: 'e2e at 50,000 records/s', mode: 'e2e', compression: 'none', acks: 1, throughput: 50_000, lingerMs: 0 },
]

async function run(opts: BenchRunOptions): Promise<BenchSection> {
  const context = runContext(opts.quick ?? false)
  const numRecords = opts.quick ? 100_000 : 1_000_000
  const outRoot = mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-harness-'))
  const target = await embeddedTarget({ shards: 2 })
  const rows: string[][] = []
  const results: Array<{ scenario: string; summary: SavedSummary; rawMbPerSec: number | null }> = []
  try {
    let produced = ''
    for (const s of kScenarios) {
      const outDir = path.join(outRoot, s.name.replace(/[^a-z0-9]+/gi, '-'))
      // consume reads what the uncompressed acks=1 produce wrote; the others get topics of their own.
      const topic = s.mode === 'consume' ? produced : `harness-${s.name.replace(/[^a-z0-9]+/gi, '-')}`
      if (s.mode === 'produce' && !produced) produced = topic
      await runLoadTest({
        target, topic, outDir, partitions: 8, recordSize: 100, batchSize: 256 * 1024, lingerMs: s.lingerMs ?? 5,
        mode: s.mode, compression: s.compression, acks: s.acks, throughput: s.throughput,
        ...(s.mode === 'e2e' ? { durationMs: opts.quick ? 3_000 : 8_000, warmupMs: 1_000 } : { numRecords }),
      })
      const summary = JSON.parse(readFileSync(path.join(outDir, 'summary.json'), 'utf8')) as SavedSummary
      let rawMbPerSec: number | null = null
      if (s.mode === 'produce') {
        const raw = rawWrite(outRoot, summary.throughput.bytes, 256 * 1024)
        rawMbPerSec = raw.bytes / 1e6 / (raw.elapsedMs / 1000)
      }
      results.push({ scenario: s.name, summary, rawMbPerSec })
      const lat = summary.latency.find((l) => l.id === summary.primaryLatency) ?? summary.latency[0]!
      const mb = summary.throughput.mbPerSec * 1.048576 // summary MB = 2^20 bytes; the table uses 10^6
      rows.push([
        s.name,
        `${summary.records.measured.toLocaleString('en-US')}${summary.records.failed ? ` (${summary.records.failed} failed)` : ', none failed'}`,
        Math.round(summary.throughput.recordsPerSec).toLocaleString('en-US'),
        mb.toFixed(1),
        rawMbPerSec === null ? '' : `${(100 * mb / rawMbPerSec).toFixed(1)}% of ${Math.round(rawMbPerSec)} MB/s`,
        `${lat.id}${lat.coordinatedOmissionCorrected ? ' (CO-corrected)' : ''}`,
        lat.stats.p50.toFixed(2), lat.stats.p99.toFixed(2), lat.stats.p999.toFixed(2), lat.stats.max.toFixed(2),
      ])
    }
  } finally {
    await target.close()
    rmSync(outRoot, { recursive: true, force: true })
  }
  const table = markdownTable(
    ['scenario', 'records measured (after warmup)', 'records/s', 'MB/s of values', 'raw fs.writeSync, same bytes', 'latency', 'p50 ms', 'p99 ms', 'p99.9 ms', 'max ms'],
    rows, new Set([2, 3, 6, 7, 8, 9]),
  )
  const markdown = `${table}\n\nSettings: \`runLoadTest\` (what \`shardlog perf\` runs) against an embedded cluster with 2 shards; ` +
    `100-byte values, 8 partitions, batch.size 256 KiB, linger.ms 5 (0 for e2e), ${numRecords.toLocaleString('en-US')} records per produce run; ` +
    'the table is read back from each run\'s `summary.json`. Produce latency without a target rate is measured from when each record was ' +
    'created; the e2e run has a fixed schedule, so its latency is coordinated-omission corrected.\n\n' + contextCaption(context)
  return { title: 'Load-test harness: standard scenarios from summary.json', markdown, results }
}

if (isMainModule(import.meta.url)) exitWhenDone(runStandalone('harness', run))

export { run }
