/**
 * `npm run bench`: runs every micro-benchmark module `bench/micro/*.bench.ts` (each exports
 * `register(bench: Bench)`) and prints one table: task, ops/s, the throughput the task stands
 * for (records/s, MB/s or GB/s) where its module says how much work one call does, median
 * latency, samples and the relative margin of error of the mean. Rates are 1 / median latency.
 *
 * ```
 * npm run bench                                  every module, 300 ms per task
 * npm run bench -- crc32c                        tasks whose "module/task" contains "crc32c"
 * npm run bench -- "encode zstd" --time 1000     longer sampling
 * npm run bench -- --json out.json --md          also write JSON and refresh BENCHMARKS.md
 * BENCH_FILTER=ring BENCH_TIME_MS=500 npm run bench
 * ```
 *
 * Each module gets its own tinybench `Bench` (its `complete` listeners stop the threads it
 * started, and a module that fails to load or run is reported without hiding the others).
 *
 * Work per call. A module tells how much one call of a task processes by exporting a `Map`
 * from task name to bytes (`number`) or to `{ bytes?, records?, items? }`, or an array of
 * `{ name, bytes }` cases; every such export is read (see {@link unitsOfModule}). Tasks whose
 * module exports none get theirs from {@link kSideUnits} below. Bytes are the uncompressed
 * bytes the call handles; MB and GB are decimal (10^6, 10^9).
 */
import { readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'
import { replaceMarkedSection } from '../system/markdown.js'
import { kModuleExtension } from '../system/repo-root.js'
import { describeMachine } from '../system/machine.js'

/** How much work one call of a task does. */
export interface TaskUnits {
  /** Uncompressed bytes handled per call. */
  bytes?: number
  /** Records (or other items: varints, frames) handled per call. */
  records?: number
}

/** One measured task, as printed and written to JSON. */
export interface MicroResult {
  module: string
  task: string
  opsPerSec: number
  recordsPerSec: number | null
  bytesPerSec: number | null
  medianUs: number
  meanUs: number
  samples: number
  rmePercent: number
}

/**
 * Units for tasks whose module does not export them: per module, a pattern of the task name
 * and the work it stands for (the numbers are read from the name, so renaming a size in the
 * module keeps the figures right).
 */
const kSideUnits: Record<string, Array<[pattern: RegExp, units: (m: RegExpMatchArray) => TaskUnits]>> = {
  ring: [
    // "throughput, 64 x 100 KB requests in flight, 4-byte acks": the requests one way.
    [/^throughput, (\d+) x (\d+) KB requests in flight/, (m) => ({ bytes: Number(m[1]) * Number(m[2]) * 1024, records: Number(m[1]) })],
    // "throughput, 64 x 100 KB echoed both ways": the requests and their echoes.
    [/^throughput, (\d+) x (\d+) KB echoed both ways/, (m) => ({ bytes: 2 * Number(m[1]) * Number(m[2]) * 1024, records: 2 * Number(m[1]) })],
    [/^ring copy cost, (\d+) KB/, (m) => ({ bytes: Number(m[1]) * 1024, records: 1 })],
    [/^round trip/, () => ({ records: 1 })],
  ],
}

function sideUnits(module: string, task: string): TaskUnits | undefined {
  for (const [pattern, units] of kSideUnits[module] ?? []) {
    const m = task.match(pattern)
    if (m) return units(m)
  }
  return undefined
}

interface Options {
  filter: string
  timeMs: number
  warmupMs: number
  iterations: number
  jsonPath: string | undefined
  updateMarkdown: boolean
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = {
    filter: process.env.BENCH_FILTER ?? '',
    timeMs: Number(process.env.BENCH_TIME_MS ?? 300),
    warmupMs: Number.NaN,
    iterations: 10,
    jsonPath: undefined,
    updateMarkdown: false,
  }
  const number = (flag: string, value: string | undefined): number => {
    const n = Number(value)
    if (value === undefined || !Number.isFinite(n) || n < 0) throw new Error(`${flag} needs a non-negative number, got ${String(value)}`)
    return n
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    switch (arg) {
      case '--time': options.timeMs = number(arg, argv[++i]); break
      case '--warmup': options.warmupMs = number(arg, argv[++i]); break
      case '--iterations': options.iterations = number(arg, argv[++i]); break
      case '--json': options.jsonPath = argv[++i]; break
      case '--md': options.updateMarkdown = true; break
      case '--help':
        console.log('usage: npm run bench -- [filter] [--time ms] [--warmup ms] [--iterations n] [--json file] [--md]')
        process.exit(0)
        break
      default:
        if (arg.startsWith('--')) throw new Error(`unknown option ${arg}`)
        options.filter = arg
    }
  }
  if (Number.isNaN(options.warmupMs)) options.warmupMs = Math.min(100, options.timeMs / 4)
  return options
}

/** Reads the work-per-call exports of a benchmark module (see the module comment). */
export function unitsOfModule(exports: Record<string, unknown>): Map<string, TaskUnits> {
  const units = new Map<string, TaskUnits>()
  const fromValue = (value: unknown): TaskUnits | undefined => {
    if (typeof value === 'number' && value > 0) return { bytes: value }
    if (typeof value !== 'object' || value === null) return undefined
    const v = value as { bytes?: unknown; records?: unknown; items?: unknown }
    const bytes = typeof v.bytes === 'number' ? v.bytes : undefined
    const records = typeof v.records === 'number' ? v.records : typeof v.items === 'number' ? v.items : undefined
    return bytes === undefined && records === undefined ? undefined : { bytes, records }
  }
  for (const value of Object.values(exports)) {
    if (value instanceof Map) {
      for (const [name, v] of value) {
        const u = typeof name === 'string' ? fromValue(v) : undefined
        if (u) units.set(name as string, u)
      }
    } else if (Array.isArray(value)) {
      for (const item of value as unknown[]) {
        const name = (item as { name?: unknown } | null)?.name
        const u = typeof name === 'string' ? fromValue(item) : undefined
        if (u) units.set(name as string, u)
      }
    }
  }
  return units
}

function moduleFiles(): string[] {
  const dir = path.dirname(fileURLToPath(import.meta.url))
  return readdirSync(dir).filter((f) => f.endsWith(`.bench${kModuleExtension}`)).sort().map((f) => path.join(dir, f))
}

/** Runs one module's tasks that match the filter; returns their results (empty when none match). */
async function runModule(file: string, options: Options): Promise<MicroResult[]> {
  const name = path.basename(file, `.bench${kModuleExtension}`)
  const filter = options.filter.toLowerCase()
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>
  if (typeof mod.register !== 'function') throw new Error(`${name}.bench.ts exports no register(bench)`)
  const bench = new Bench({
    name,
    time: options.timeMs,
    warmupTime: options.warmupMs,
    iterations: options.iterations,
    warmupIterations: Math.min(options.iterations, 4),
  })
  await (mod.register as (b: Bench) => unknown)(bench)
  // Tasks are filtered after register so that a module's setup (threads, files) is always
  // paired with its 'complete' teardown, which run() fires even with no task left.
  if (filter !== '' && !name.toLowerCase().includes(filter)) {
    for (const task of [...bench.tasks]) if (!`${name}/${task.name}`.toLowerCase().includes(filter)) bench.remove(task.name)
  }
  const selected = bench.tasks.length
  if (selected > 0) process.stderr.write(`${name}: ${selected} task${selected === 1 ? '' : 's'}...\n`)
  await bench.run()
  const units = unitsOfModule(mod)
  const results: MicroResult[] = []
  for (const task of bench.tasks) {
    const r = task.result
    if (r.state === 'errored') throw new Error(`${name}/${task.name}: ${r.error.message}`, { cause: r.error })
    if (r.state !== 'completed' && r.state !== 'aborted-with-statistics') continue
    // Rates come from the median call, not the mean: on a shared machine a few calls that
    // were descheduled would otherwise drag every figure down.
    const opsPerSec = 1000 / r.latency.p50
    const u = units.get(task.name) ?? sideUnits(name, task.name) ?? {}
    results.push({
      module: name,
      task: task.name,
      opsPerSec,
      recordsPerSec: u.records === undefined ? null : u.records * opsPerSec,
      bytesPerSec: u.bytes === undefined ? null : u.bytes * opsPerSec,
      medianUs: r.latency.p50 * 1000,
      meanUs: r.period * 1000,
      samples: r.latency.samplesCount,
      rmePercent: r.latency.rme,
    })
  }
  return results
}

/** `1,234,567` for counts, `12.3 M` above ten million. */
export function formatRate(perSec: number): string {
  if (perSec >= 1e7) return `${(perSec / 1e6).toFixed(1)} M`
  return Math.round(perSec).toLocaleString('en-US')
}

/** Bytes per second as MB/s, or GB/s from 1 GB/s up. */
export function formatBytesPerSec(perSec: number): string {
  return perSec >= 1e9 ? `${(perSec / 1e9).toFixed(2)} GB/s` : `${(perSec / 1e6).toFixed(perSec >= 1e8 ? 0 : 1)} MB/s`
}

/** A duration given in µs, in the unit that keeps 3 significant digits readable. */
export function formatMicros(us: number): string {
  if (us < 1) return `${(us * 1000).toFixed(0)} ns`
  if (us < 1000) return `${us.toFixed(us < 10 ? 2 : 1)} µs`
  return `${(us / 1000).toFixed(2)} ms`
}

/** The rows of the printed and the Markdown table. */
function tableRows(results: readonly MicroResult[]): string[][] {
  return results.map((r) => [
    `${r.module}/${r.task}`,
    formatRate(r.opsPerSec),
    r.recordsPerSec === null ? '' : formatRate(r.recordsPerSec),
    r.bytesPerSec === null ? '' : formatBytesPerSec(r.bytesPerSec),
    formatMicros(r.medianUs),
    String(r.samples),
    `±${r.rmePercent.toFixed(1)}%`,
  ])
}

const kHeader = ['task', 'ops/s', 'records/s', 'throughput', 'median', 'samples', 'rme']

function printTable(results: readonly MicroResult[]): void {
  const rows = [kHeader, ...tableRows(results)]
  const widths = kHeader.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)))
  const line = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  console.log(line(rows[0]!))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const row of rows.slice(1)) console.log(line(row))
}

function markdownTable(results: readonly MicroResult[], options: Options): string {
  const m = describeMachine()
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${m.summary}; ${options.timeMs} ms per task` +
      `${options.filter === '' ? '' : `, filter \`${options.filter}\``}. Regenerate with \`npm run bench -- --md\`.`,
    '',
    `| ${kHeader.join(' | ')} |`,
    `|${kHeader.map((_, c) => (c === 0 ? '---' : '---:')).join('|')}|`,
    ...tableRows(results).map((row) => `| ${row.join(' | ')} |`),
  ]
  return lines.join('\n')
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2))
  const results: MicroResult[] = []
  const failures: string[] = []
  const started = performance.now()
  for (const file of moduleFiles()) {
    try {
      results.push(...await runModule(file, options))
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err)
      failures.push(`${path.basename(file)}: ${message}`)
      process.stderr.write(`${path.basename(file)} failed: ${message}\n`)
    }
  }
  console.log(`\nshardlog micro-benchmarks · ${describeMachine().summary} · ${((performance.now() - started) / 1000).toFixed(0)} s\n`)
  printTable(results)
  const jsonPath = options.jsonPath ?? path.join(os.tmpdir(), `shardlog-bench-micro-${Date.now()}.json`)
  writeFileSync(jsonPath, `${JSON.stringify({ date: new Date().toISOString(), machine: describeMachine(), options, results, failures }, null, 2)}\n`)
  console.log(`\nresults: ${jsonPath}`)
  if (options.updateMarkdown) {
    const file = replaceMarkedSection('micro', markdownTable(results, options))
    console.log(`updated ${file}`)
  }
  if (failures.length > 0) {
    console.error(`\n${failures.length} module(s) failed:\n  ${failures.join('\n  ')}`)
    process.exitCode = 1
  }
}

main().then(
  // Worker pools that benchmark modules started may keep the event loop alive: the run is over.
  () => process.exit(),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
