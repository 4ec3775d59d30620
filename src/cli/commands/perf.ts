/**
 * `shardlog perf`: load tests with HDR latency histograms, against the embedded cluster or any
 * Kafka bootstrap server.
 *
 * ```
 * shardlog perf produce --topic t --num-records 1000000 --record-size 100 --throughput -1 --acks -1 --out run1
 * shardlog perf consume --topic t --num-records 1000000 [--group g]
 * shardlog perf e2e     --topic t --duration 30s --throughput 10000 --warmup 5s --out run2
 * shardlog perf compare run1/ run2/ --out cmp
 * ```
 *
 * A thin layer over {@link runLoadTest}: it parses flags, prints one line per reporting
 * interval (and a progress bar on a TTY), prints the summary and names the files written.
 */
import { Command, InvalidArgumentError, Option } from 'commander'
import { compareRuns } from '../../perf/compare.js'
import { ProgressBar, type ProgressStream } from '../../perf/progress.js'
import { type LoadTestOptions, runLoadTest } from '../../perf/run-load-test.js'
import {
  formatCount,
  formatDuration,
  formatIntervalHeader,
  formatIntervalLine,
  formatSummaryText,
  type LoadTestMode,
} from '../../perf/summary.js'
import type { PerfTargetFactory } from '../../perf/target.js'

/** Where the command writes; the process's streams by default. */
export interface PerfCommandIo {
  stdout: ProgressStream
  stderr: ProgressStream
  /** Sets the process exit code (1 when records failed or went missing). */
  setExitCode(code: number): void
}

const processIo: PerfCommandIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  setExitCode: (code) => {
    process.exitCode = code
  },
}

/** Parses a whole number >= `min`. */
export function parseInteger(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}, got "${value}"`)
    return n
  }
}

/** Parses a duration: `500ms`, `10s`, `2m`, `1h`, or a plain number of seconds. Returns ms. */
export function parseDuration(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(value)
  if (!match) throw new InvalidArgumentError(`expected a duration such as 500ms, 10s, 2m or 1h, got "${value}"`)
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }
  return Number(match[1]) * unitMs[match[2] ?? 's']!
}

function parseThroughput(value: string): number {
  const n = Number(value)
  if (value.trim() === '' || !Number.isFinite(n) || (n <= 0 && n !== -1)) throw new InvalidArgumentError(`expected -1 (unlimited) or records/s > 0, got "${value}"`)
  return n
}

function parseAcks(value: string): -1 | 0 | 1 {
  if (value === '-1' || value === 'all') return -1
  if (value === '0') return 0
  if (value === '1') return 1
  throw new InvalidArgumentError(`expected -1 (all), 0 or 1, got "${value}"`)
}

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** Options common to the three modes, as commander hands them to the action. */
interface ModeFlags {
  topic: string
  numRecords?: number
  duration?: number
  recordSize: number
  throughput: number
  acks: -1 | 0 | 1
  compression: LoadTestOptions['compression']
  batchSize: number
  lingerMs: number
  producers: number
  partitions: number
  group?: string
  warmup?: number
  warmupRecords?: number
  reportingInterval: number
  maxInFlight: number
  timeout: number
  label?: string
  out?: string
  bootstrap?: string
  shards?: number
  busyPollUs?: number
}

function addCommonOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--topic <name>', 'topic to use')
    .addOption(new Option('--num-records <n>', 'records to send/receive').argParser(parseInteger(1)).conflicts('duration'))
    .addOption(new Option('--duration <time>', 'run for this long instead of --num-records (500ms, 10s, 2m)').argParser(parseDuration))
    .option('--warmup <time>', 'leading time excluded from the figures (e.g. 5s)', parseDuration)
    .option('--warmup-records <n>', 'leading records excluded from the figures', parseInteger(0))
    .option('--reporting-interval <time>', 'interval between progress lines', parseDuration, 1000)
    .option('--label <text>', 'name of the run in reports (default: mode, compression, acks, target)')
    .option('--out <dir>', 'write summary.json, .hgrm, .hlog and report.html to this directory')
    .option('--bootstrap <host:port>', 'test a Kafka-compatible server instead of an embedded cluster')
    .addOption(new Option('--shards <n>', 'shard workers of the embedded cluster (default: one per CPU; 0: partitions on the main thread)')
      .argParser(parseInteger(0)).conflicts('bootstrap'))
    .addOption(new Option('--busy-poll-us <us>', 'embedded cluster: threads poll the rings this long before they sleep (lower latency, burns cores)')
      .argParser(parseInteger(0)).conflicts('bootstrap'))
}

function addProducerOptions(cmd: Command): Command {
  return cmd
    .option('--record-size <bytes>', 'value size of each record', parseInteger(1), 100)
    .option('--throughput <rec/s>', 'target records/s over all producers, -1 for unlimited; a target enables coordinated-omission correction', parseThroughput, -1)
    .option('--acks <acks>', 'acks: -1 (all), 0 or 1', parseAcks, -1)
    .addOption(new Option('--compression <type>', 'compression.type').choices(COMPRESSIONS).default('none'))
    .option('--batch-size <bytes>', 'batch.size', parseInteger(0), 16_384)
    .option('--linger-ms <ms>', 'linger.ms', parseInteger(0), 5)
    .option('--producers <n>', 'producers sending in parallel', parseInteger(1), 1)
    .option('--partitions <n>', 'partitions when the topic is created', parseInteger(1), 1)
    .option('--max-in-flight <n>', 'sends in flight per producer (max.in.flight.requests.per.connection)', parseInteger(1), 5)
}

function addConsumerOptions(cmd: Command): Command {
  return cmd
    .option('--group <id>', 'consumer group id (default: a fresh group)')
    .option('--timeout <time>', 'stop after this long without a new record', parseDuration, 10_000)
}

function describeRun(mode: LoadTestMode, flags: ModeFlags, target: string): string {
  const forTime = flags.duration !== undefined ? ` for ${formatDuration(flags.duration)}` : ''
  const count = flags.numRecords !== undefined ? `${formatCount(flags.numRecords)} ` : ''
  if (mode === 'consume') return `perf consume: ${count}records from topic "${flags.topic}"${forTime} on ${target}`
  const rate = flags.throughput > 0 ? `${formatCount(flags.throughput)} records/s (coordinated-omission corrected)` : 'unlimited throughput'
  const acks = flags.acks === -1 ? 'all' : String(flags.acks)
  return [
    `perf ${mode}: ${count}records of ${formatCount(flags.recordSize)} bytes to topic "${flags.topic}"${forTime} on ${target}`,
    `  ${rate} · acks=${acks} · compression ${flags.compression} · batch.size ${formatCount(flags.batchSize)} bytes · linger.ms ${flags.lingerMs} · ${flags.producers} producer${flags.producers === 1 ? '' : 's'}`,
  ].join('\n')
}

async function runMode(mode: LoadTestMode, flags: ModeFlags, targetFactory: PerfTargetFactory, io: PerfCommandIo): Promise<void> {
  if ((flags.numRecords === undefined) === (flags.duration === undefined)) {
    throw new InvalidArgumentError('give --num-records or --duration')
  }
  const target = await targetFactory(flags.bootstrap !== undefined
    ? { bootstrap: flags.bootstrap }
    : { ...(flags.shards !== undefined ? { shards: flags.shards } : {}), ...(flags.busyPollUs !== undefined ? { busyPollUs: flags.busyPollUs } : {}) })
  const abort = new AbortController()
  const onSigint = (): void => {
    io.stderr.write('\nstopping: finishing sends in flight (Ctrl-C again to kill)\n')
    abort.abort()
  }
  process.once('SIGINT', onSigint)
  const bar = new ProgressBar(io.stdout)
  try {
    io.stdout.write(`${describeRun(mode, flags, target.description)}\n`)
    let primary: string | null = null
    const result = await runLoadTest({
      target,
      mode,
      topic: flags.topic,
      ...(flags.numRecords !== undefined ? { numRecords: flags.numRecords } : {}),
      ...(flags.duration !== undefined ? { durationMs: flags.duration } : {}),
      recordSize: flags.recordSize,
      throughput: flags.throughput,
      acks: flags.acks,
      compression: flags.compression,
      batchSize: flags.batchSize,
      lingerMs: flags.lingerMs,
      producers: flags.producers,
      partitions: flags.partitions,
      ...(flags.group !== undefined ? { groupId: flags.group } : {}),
      warmupRecords: flags.warmupRecords ?? 0,
      warmupMs: flags.warmup ?? 0,
      reportIntervalMs: flags.reportingInterval,
      maxInFlight: flags.maxInFlight,
      idleTimeoutMs: flags.timeout,
      ...(flags.label !== undefined ? { label: flags.label } : {}),
      ...(flags.out !== undefined ? { outDir: flags.out } : {}),
      signal: abort.signal,
      onInterval: (interval) => {
        // The first series of each mode is its headline one; the header names it.
        if (primary === null) {
          primary = Object.keys(interval.latency)[0] ?? ''
          bar.log('')
          bar.log(formatIntervalHeader(primary.replace(/-/g, ' ')))
        }
        bar.log(formatIntervalLine(interval, primary))
      },
      onProgress: (progress) => bar.update(progress),
    })
    bar.done()
    io.stdout.write(`\n${formatSummaryText(result.summary)}`)
    if (result.files !== null) {
      const f = result.files
      const names = [f.summary, ...f.hgrm, ...f.hlog, f.report].map((p) => p.slice(f.dir.length + 1))
      io.stdout.write(`\nWrote ${names.join(', ')}\n  to ${f.dir}\n  open ${f.report} in a browser for the charts\n`)
    }
    const r = result.summary.records
    if ((r.failed ?? 0) > 0 || (r.missing ?? 0) > 0 || (result.summary.stoppedEarly !== null && result.summary.stoppedEarly !== 'aborted')) io.setExitCode(1)
  } finally {
    bar.done()
    process.removeListener('SIGINT', onSigint)
    await target.close()
  }
}

/**
 * Builds the `perf` command with its `produce`, `consume`, `e2e` and `compare` subcommands.
 * `targetFactory` creates the system under test for each run (an embedded cluster in a temp
 * dir, or a connection to `--bootstrap`); `io` defaults to the process's streams.
 */
export function perfCommand(targetFactory: PerfTargetFactory, io: PerfCommandIo = processIo): Command {
  const perf = new Command('perf').description('load-test a cluster and report HDR latency histograms')

  const produce = new Command('produce').description('produce records and measure acknowledgement latency (like kafka-producer-perf-test)')
  addProducerOptions(addCommonOptions(produce)).action(async (flags: ModeFlags) => runMode('produce', flags, targetFactory, io))

  const consume = new Command('consume').description('consume records and measure throughput (like kafka-consumer-perf-test)')
  addConsumerOptions(addCommonOptions(consume)).action(async (flags: ModeFlags) => {
    // Producer settings do not apply; fill them so the summary's configuration is complete.
    const defaults = { recordSize: 100, throughput: -1, acks: -1 as const, compression: 'none' as const, batchSize: 16_384, lingerMs: 5, producers: 1, partitions: 1, maxInFlight: 5 }
    await runMode('consume', { ...defaults, ...flags }, targetFactory, io)
  })

  const e2e = new Command('e2e').description('produce and consume at once and measure end-to-end latency (record stamped at send, measured at the consumer)')
  addConsumerOptions(addProducerOptions(addCommonOptions(e2e))).action(async (flags: ModeFlags) => runMode('e2e', flags, targetFactory, io))

  const compare = new Command('compare')
    .description('overlay saved runs (directories written with --out) in one report')
    .argument('<dirs...>', 'run directories holding summary.json and .hgrm files')
    .requiredOption('--out <dir>', 'directory for the comparison report.html')
    .action(async (dirs: string[], flags: { out: string }) => {
      const result = await compareRuns(dirs, flags.out)
      const lines = result.runs.map((run, i) => `  ${String(i + 1).padStart(2)}. ${run.label ?? run.summary.label}   (${run.dir})`)
      io.stdout.write(`Compared ${result.runs.length} runs:\n${lines.join('\n')}\nWrote ${result.report}\n`)
    })

  return perf.addCommand(produce).addCommand(consume).addCommand(e2e).addCommand(compare)
}
