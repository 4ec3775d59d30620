/**
 * `npm run bench:system`: the whole-system benchmarks. Each runs in a child process of its
 * own (child.ts); their results go to `results.json` in an output directory, are printed, and
 * replace their sections of BENCHMARKS.md.
 *
 * ```
 * npm run bench:system                          every benchmark, 3 runs each (median quoted)
 * npm run bench:system -- throughput e2e        only those
 * npm run bench:system -- --runs 5 --out DIR    more runs; results.json in DIR (default: a temp dir)
 * npm run bench:system -- --quick --no-md       smoke test: short runs, BENCHMARKS.md untouched
 * npm run bench:system -- --profile [DIR]       also CPU-profile every thread (files in DIR, default a temp dir)
 * npm run bench:system -- --from results.json   only regenerate BENCHMARKS.md from saved results
 * npm run bench:system -- --settle 0            start each benchmark at once (default: wait up to
 *                                               60 s for other processes to leave the cores idle)
 * ```
 *
 * Benchmarks: throughput (produce and consume next to raw fs writes and reads), e2e (latency
 * at 100,000 records/s through the perf harness next to a loopback floor), partitions (1 to
 * 1,000), codecs (none/gzip/snappy/lz4/zstd, acks=1 and acks=-1). See each module.
 *
 * Extra benchmarks: every `bench/system/<name>.bench.ts` (replication, groups, wire, ...) is a
 * standalone script that writes its own section of BENCHMARKS.md (see bench-section.ts). They
 * run when named (`npm run bench:system -- replication`) or with `--extras`, each in its own
 * process, with `--quick`/`--no-md` passed on and its raw figures saved as `<name>.json`.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { isBenchmarkName, kBenchmarkNames, kBenchmarks } from './benchmarks.js'
import { describeMachine, machineCpuTimes, type RunEnvironment } from './machine.js'
import { replaceMarkedSection } from './markdown.js'
import { kModuleExtension } from './repo-root.js'
import type { SystemBenchOptions } from './options.js'
import { renderSection, renderSummary, sectionName } from './report.js'
import type { BenchmarkName, BenchmarkResults, SystemResults } from './results.js'

interface Args {
  names: BenchmarkName[]
  /** Extra benchmarks (`<name>.bench.ts`) to run after the core ones. */
  extras: string[]
  options: SystemBenchOptions
  outDir: string | undefined
  profileDir: string | undefined | null
  updateMarkdown: boolean
  from: string | undefined
  /** Longest wait for the machine to quiet down before each benchmark, s (0: do not wait). */
  settleSec: number
}

function parseArgs(argv: readonly string[]): Args {
  const extras = extraBenchmarkNames()
  let allExtras = false
  const args: Args = { names: [], extras: [], options: { runs: 3, quick: false }, outDir: undefined, profileDir: null, updateMarkdown: true, from: undefined, settleSec: 60 }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    switch (arg) {
      case '--runs': {
        const n = Number(argv[++i])
        if (!Number.isInteger(n) || n < 1) throw new Error(`--runs needs a positive integer, got ${String(argv[i])}`)
        args.options.runs = n
        break
      }
      case '--quick': args.options.quick = true; break
      case '--out': args.outDir = argv[++i]; break
      case '--no-md': args.updateMarkdown = false; break
      case '--settle': {
        const n = Number(argv[++i])
        if (!Number.isFinite(n) || n < 0) throw new Error(`--settle needs a number of seconds, got ${String(argv[i])}`)
        args.settleSec = n
        break
      }
      case '--from': args.from = argv[++i]; break
      case '--profile':
        args.profileDir = argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') && !isBenchmarkName(argv[i + 1]!) && !extras.includes(argv[i + 1]!)
          ? argv[++i] : undefined
        break
      case '--extras': allExtras = true; break
      case '--help':
        console.log(`usage: npm run bench:system -- [${[...kBenchmarkNames, ...extras].join('|')}]... [--extras] [--runs n] [--quick] [--out dir] [--profile [dir]] [--settle s] [--no-md] [--from results.json]`)
        process.exit(0)
        break
      default:
        if (extras.includes(arg)) args.extras.push(arg)
        else if (isBenchmarkName(arg)) args.names.push(arg)
        else throw new Error(`unknown benchmark or option '${arg}'; benchmarks: ${[...kBenchmarkNames, ...extras].join(', ')}`)
    }
  }
  if (allExtras) args.extras = extras
  // No names: the core benchmarks (and with --extras every extra one too).
  if (args.names.length === 0 && (args.extras.length === 0 || allExtras)) args.names = [...kBenchmarkNames]
  return args
}

/** What child.ts writes. */
interface ChildOutcome {
  result?: unknown
  environment?: RunEnvironment
  error?: string
}

const here = path.dirname(fileURLToPath(import.meta.url))
const childFile = path.join(here, `child${kModuleExtension}`)

/** Names of the extra benchmarks: `<name>.bench.ts` files beside this one. */
function extraBenchmarkNames(): string[] {
  const suffix = `.bench${kModuleExtension}`
  return readdirSync(here).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length)).sort()
}

/** Runs an extra benchmark's standalone entry point; resolves with an error message, or undefined when it succeeded. */
function runExtra(name: string, args: Args, outDir: string): Promise<string | undefined> {
  const argv = [
    ...process.execArgv, path.join(here, `${name}.bench${kModuleExtension}`),
    ...(args.options.quick ? ['--quick'] : []), args.updateMarkdown ? '--md' : '--no-md', '--json', path.join(outDir, `${name}.json`),
  ]
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('exit', (code, signal) => resolve(code === 0 ? undefined : `${name}.bench.ts ended with ${signal ?? `exit code ${code}`}`))
  })
}

/** Runs one benchmark in a child process (with this process's Node flags, i.e. tsx's loader). */
function runChild(name: BenchmarkName, options: SystemBenchOptions, outDir: string, profileDir: string | undefined): Promise<ChildOutcome> {
  const resultFile = path.join(outDir, `${name}.result.json`)
  const argv = [...process.execArgv, childFile, name, JSON.stringify(options), resultFile, ...(profileDir === undefined ? [] : [profileDir])]
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('exit', (code, signal) => {
      try {
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as ChildOutcome)
      } catch {
        resolve({ error: `the benchmark process ended (${signal ?? `exit code ${code}`}) without a result` })
      }
    })
  })
}

/** Cores other processes keep busy, over `ms` (nothing of ours runs meanwhile). */
async function busyCores(ms: number): Promise<number> {
  const before = machineCpuTimes()
  await sleep(ms)
  return (machineCpuTimes().busyMs - before.busyMs) / ms
}

/**
 * On a shared machine, waits (up to `maxSec`) until other processes use less than a quarter
 * of a core, so that benchmarks do not start in the middle of someone else's burst. The
 * figures record how busy the machine was anyway (see RunEnvironment).
 */
async function settle(maxSec: number): Promise<void> {
  if (maxSec <= 0) return
  const deadline = performance.now() + maxSec * 1000
  let busy = await busyCores(1000)
  if (busy < 0.25) return
  process.stderr.write(`  waiting for the machine to quiet down (other processes use ${busy.toFixed(2)} cores)...`)
  while (busy >= 0.25 && performance.now() < deadline) busy = await busyCores(2000)
  process.stderr.write(` ${busy < 0.25 ? 'quiet' : `still ${busy.toFixed(2)} cores; going ahead`}\n`)
}

function updateMarkdown(results: SystemResults, names: readonly BenchmarkName[]): void {
  for (const name of names) {
    const section = renderSection(name, results)
    if (section !== undefined) replaceMarkedSection(sectionName(name), section)
  }
  const summary = renderSummary(results)
  if (summary !== undefined) replaceMarkedSection('system-summary', summary)
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2))
  if (args.from !== undefined) {
    const saved = JSON.parse(readFileSync(args.from, 'utf8')) as SystemResults
    const names = kBenchmarkNames.filter((n) => saved.results[n] !== undefined)
    for (const name of names) console.log(`\n## ${kBenchmarks[name].title}\n\n${renderSection(name, saved)}`)
    if (args.updateMarkdown) updateMarkdown(saved, names)
    return
  }
  const outDir = args.outDir ?? mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-system-'))
  mkdirSync(outDir, { recursive: true })
  let profileDir: string | undefined
  if (args.profileDir !== null) {
    profileDir = args.profileDir ?? mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-profiles-'))
    mkdirSync(profileDir, { recursive: true })
  }
  const results: SystemResults = {
    format: 'shardlog-bench-system',
    formatVersion: 1,
    date: new Date().toISOString(),
    machine: describeMachine(),
    runs: args.options.runs,
    quick: args.options.quick,
    results: {},
    failures: {},
    durationsSec: {},
    environment: {},
  }
  for (const name of args.names) {
    console.error(`${name}: ${kBenchmarks[name].title}`)
    await settle(args.settleSec)
    const started = performance.now()
    const outcome = await runChild(name, args.options, outDir, profileDir)
    results.durationsSec[name] = Math.round((performance.now() - started) / 1000)
    if (outcome.error !== undefined) {
      results.failures[name] = outcome.error
      console.error(`${name} failed: ${outcome.error}`)
      continue
    }
    ;(results.results as Record<BenchmarkName, unknown>)[name] = outcome.result as BenchmarkResults[typeof name]
    if (outcome.environment) results.environment[name] = outcome.environment
    console.log(`\n## ${kBenchmarks[name].title}\n\n${renderSection(name, results)}\n`)
  }
  const extraFailures: string[] = []
  for (const name of args.extras) {
    console.error(`${name}: extra benchmark (${name}.bench.ts)`)
    await settle(args.settleSec)
    const failure = await runExtra(name, args, outDir)
    if (failure !== undefined) {
      extraFailures.push(failure)
      console.error(failure)
    }
  }
  const resultsFile = path.join(outDir, 'results.json')
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`results: ${resultsFile}`)
  if (profileDir !== undefined) console.log(`profiles: ${profileDir} (summaries in *.profile.txt)`)
  if (args.updateMarkdown) {
    updateMarkdown(results, args.names.filter((n) => results.results[n] !== undefined))
    console.log('BENCHMARKS.md updated')
  }
  if (Object.keys(results.failures).length > 0 || extraFailures.length > 0) process.exitCode = 1
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
