/**
 * What the replication, groups and wire benchmarks (`*.bench.ts` in this folder) share: the
 * {@link BenchSection} each returns, the machine caption, percentile and table helpers, a
 * send driver that works for any producer client, and the standalone entry point that prints
 * a section and writes it into BENCHMARKS.md.
 *
 * Their tables live inside one block of BENCHMARKS.md, `<!-- bench:extra:start -->` ...
 * `<!-- bench:extra:end -->`, each between markers of its own (`<!-- bench:extra-<name>:start -->`),
 * so one benchmark's rerun replaces its table and leaves the rest of the file, the other two
 * tables and the hand-written analysis in the block alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { describeMachine, type MachineDescription } from './machine.js'
import { kBenchmarksFile, replaceSection, sectionMarkers } from './markdown.js'
import { median } from './stats.js'

/** What one benchmark returns: its title, its markdown (tables and settings) and its raw figures. */
export interface BenchSection {
  title: string
  markdown: string
  results: unknown
}

/** Options of a benchmark's `run`. */
export interface BenchRunOptions {
  /** Short runs (smoke test); figures are not for quoting. */
  quick?: boolean
}

/** Where and when a benchmark ran, stored with its results. */
export interface RunContext {
  machine: MachineDescription
  /** ISO date of the start of the run. */
  date: string
  quick: boolean
}

/** Describes this machine and the time now. */
export function runContext(quick: boolean): RunContext {
  return { machine: describeMachine(), date: new Date().toISOString(), quick }
}

/** One italic line under a table: machine, commit, load when the run started, date. */
export function contextCaption(c: RunContext): string {
  const quick = c.quick ? ' **Quick mode: not for quoting.**' : ''
  return `_${c.machine.summary}; commit ${c.machine.commit}; 1-min load average ${c.machine.loadAverage1m} at start ` +
    `(shared machine: other jobs ran meanwhile); ${c.date.slice(0, 16).replace('T', ' ')} UTC._${quick}`
}

/** Spread of repeated measurements. */
export interface Spread {
  count: number
  min: number
  p50: number
  p90: number
  max: number
}

/** Nearest-rank percentiles of `values` (NaN everywhere for none). */
export function spreadOf(values: readonly number[]): Spread {
  if (values.length === 0) return { count: 0, min: Number.NaN, p50: Number.NaN, p90: Number.NaN, max: Number.NaN }
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number): number => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!
  return { count: sorted.length, min: sorted[0]!, p50: rank(50), p90: rank(90), max: sorted[sorted.length - 1]! }
}

/** A markdown table; `right` marks the columns to right-align (numbers). */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>, right: ReadonlySet<number> = new Set()): string {
  const rule = header.map((_, i) => (right.has(i) ? '---:' : '---'))
  return [header, rule, ...rows].map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** `1.23 M` from a million up, `123 k` from ten thousand up, else `1,234`. */
export function formatRate(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  if (Math.abs(n) >= 1e4) return `${Math.round(n / 1e3)} k`
  return Math.round(n).toLocaleString('en-US')
}

/** Milliseconds with a precision that suits their size. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a'
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`
}

/** Median with the range of the runs when there are several: `1.23 M (1.10 M–1.31 M)`. */
export function medianWithRange(values: readonly number[], format: (n: number) => string): string {
  if (values.length === 0) return 'n/a'
  if (values.length === 1) return format(values[0]!)
  return `${format(median(values))} (${format(Math.min(...values))}–${format(Math.max(...values))})`
}

/** `0.96×` */
export function formatRatio(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(2)}×` : 'n/a'
}

/** Resolves when `predicate` holds, polling every `intervalMs`; returns the ms it took; rejects after `timeoutMs`. */
export async function pollUntil(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 5): Promise<number> {
  const started = performance.now()
  for (;;) {
    if (await predicate()) return performance.now() - started
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}

/** What a {@link driveSends} run achieved. */
export interface DriveOutcome {
  /** Records acknowledged. */
  records: number
  /** From the first send to the last acknowledgement, ms. */
  elapsedMs: number
  /** CPU time of this process (all its threads), ms. */
  cpuMs: number
}

/**
 * Calls `send` with the prepared message arrays in turn for `durationMs`, keeping `inFlight`
 * calls outstanding, then calls `afterLastSend` (if given) and waits for the rest; counts
 * acknowledged records. The same driver for every client, so their figures differ only by the client.
 */
export async function driveSends<M>(
  send: (messages: M[]) => Promise<unknown>, sends: ReadonlyArray<M[]>, durationMs: number, inFlight: number, afterLastSend?: () => void,
): Promise<DriveOutcome> {
  const pending = new Set<Promise<void>>()
  let acked = 0
  let next = 0
  let failure: unknown
  const cpu = process.cpuUsage()
  const started = performance.now()
  const deadline = started + durationMs
  while (performance.now() < deadline && failure === undefined) {
    const messages = sends[next++ % sends.length]!
    const sending: Promise<void> = send(messages).then(
      () => { acked += messages.length },
      (err: unknown) => { failure ??= err },
    ).finally(() => pending.delete(sending))
    pending.add(sending)
    if (pending.size >= inFlight) await Promise.race(pending)
  }
  afterLastSend?.()
  await Promise.all(pending)
  if (failure !== undefined) throw failure
  const elapsedMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { records: acked, elapsedMs, cpuMs: (used.user + used.system) / 1000 }
}

/** Names of the tables inside the `extra` block of BENCHMARKS.md, in their order there. */
export type ExtraSectionName = 'replication' | 'groups' | 'wire' | 'harness'
const kExtraSections: readonly ExtraSectionName[] = ['replication', 'groups', 'wire', 'harness']

/** The block a first write creates at the end of BENCHMARKS.md. */
function emptyExtraBlock(): string {
  return kExtraSections.map((name) => {
    const { start, end } = sectionMarkers(`extra-${name}`)
    return `${start}\n${end}`
  }).join('\n\n')
}

/**
 * Replaces table `name` inside the `extra` block of `file` (re-read right before writing),
 * creating the block at the end of the file, or the table's markers at the end of the block,
 * when missing. Nothing outside the block changes.
 */
export function writeExtraSection(name: ExtraSectionName, content: string, file = kBenchmarksFile): void {
  const document = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n'
  const outer = sectionMarkers('extra')
  const from = document.indexOf(outer.start)
  const to = document.indexOf(outer.end)
  if ((from >= 0) !== (to >= 0) || to < from) throw new Error(`${file}: the markers of the 'extra' block are unbalanced`)
  const block = from >= 0 ? document.slice(from + outer.start.length, to) : emptyExtraBlock()
  // replaceSection appends the table's markers at the end of the block when they are missing.
  writeFileSync(file, replaceSection(document, 'extra', replaceSection(block, `extra-${name}`, content)))
}

/** True when `moduleUrl` is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const script = process.argv[1]
  return script !== undefined && path.resolve(script) === fileURLToPath(moduleUrl)
}

/**
 * Entry point of `npx tsx bench/system/<name>.bench.ts [--quick] [--md | --no-md] [--json FILE]`:
 * runs the benchmark, prints its markdown and writes it into BENCHMARKS.md (by default for full
 * runs; quick runs only with `--md`) and the raw results to `--json FILE` when asked.
 */
export async function runStandalone(name: ExtraSectionName, run: (opts: BenchRunOptions) => Promise<BenchSection>, argv = process.argv.slice(2)): Promise<void> {
  const quick = argv.includes('--quick')
  const md = argv.includes('--md') || (!quick && !argv.includes('--no-md'))
  const jsonAt = argv.indexOf('--json')
  const started = performance.now()
  const section = await run({ quick })
  console.log(`\n### ${section.title}\n\n${section.markdown}\n`)
  console.error(`${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`)
  if (jsonAt >= 0 && argv[jsonAt + 1] !== undefined) writeFileSync(argv[jsonAt + 1]!, `${JSON.stringify(section.results, null, 2)}\n`)
  if (md) {
    writeExtraSection(name, `### ${section.title}\n\n${section.markdown}`)
    console.error(`BENCHMARKS.md: table '${name}' updated`)
  }
}

/** Runs `main` as a script: a failure is printed and sets a non-zero exit code; open handles do not keep it alive. */
export function exitWhenDone(main: Promise<void>): void {
  main.then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err)
      process.exit(1)
    },
  )
}
