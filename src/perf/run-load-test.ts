/**
 * `runLoadTest`: one load test against a {@link PerfTarget}, start to summary. The CLI
 * (`shardlog perf ...`) is a thin layer over it.
 *
 * Modes:
 * - `produce`: K producers send records (see {@link ProduceLoad}); latency is the time to
 *   acknowledgement, corrected for coordinated omission when a throughput is set.
 * - `consume`: one consumer reads `numRecords` records (or for `durationMs`) from the topic, as
 *   Kafka's ConsumerPerformance does; its latency series is the wait between fetched batches.
 * - `e2e`: a consumer is started, then producers send stamped records (see
 *   {@link E2E_STAMP_BYTES}); latency is from each record's intended send time to its arrival.
 *
 * Every `reportIntervalMs` the run closes an interval (records/s, MB/s, p50/p99/max) and calls
 * `onInterval`; `onProgress` is called more often for progress bars. With `outDir` the run's
 * files are written there (see {@link writeLoadTestOutputs}).
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import type { Histogram } from 'hdr-histogram-js'
import { InvalidConfigError } from '../errors.js'
import { formatPercentileDistribution, parsePercentileDistribution } from './hgrm.js'
import { type EncodedInterval, LatencySeries, type LatencySeriesInfo, latencyStatsOf } from './histograms.js'
import { formatIntervalLog } from './hlog.js'
import {
  E2E_STAMP_BYTES,
  epochMsOf,
  monotonicNowMs,
  ProduceLoad,
  type ProduceSink,
  randomTextPayload,
  readE2eStamp,
  type SentBatch,
  warmupRule,
  writeE2eStamp,
} from './load-generator.js'
import { collectMachineInfo, collectVersions } from './machine-info.js'
import { renderReportHtml } from './report-html.js'
import {
  BYTES_PER_MB,
  type IntervalReport,
  type LatencySummary,
  type LoadTestConfig,
  type LoadTestMode,
  type LoadTestSummary,
  formatCount,
  type RecordCounts,
} from './summary.js'
import type { PerfConsumedMessage, PerfProducer, PerfTarget } from './target.js'

/** Options of {@link runLoadTest}. Defaults follow Kafka's producer and perf tools. */
export interface LoadTestOptions {
  target: PerfTarget
  mode: LoadTestMode
  topic: string
  /** Records to send (produce, e2e) or receive (consume). Give this or `durationMs`. */
  numRecords?: number
  /** Run length in ms. Give this or `numRecords`. */
  durationMs?: number
  /** Value bytes per record; default 100 (at least 16 in e2e mode, for the stamp). */
  recordSize?: number
  /** Target records/s over all producers; -1 (default) sends as fast as possible. */
  throughput?: number
  /** Kafka's `acks`; default -1 (all in-sync replicas, Kafka 3.0's default). */
  acks?: -1 | 0 | 1
  /** Kafka's `compression.type`; default `none`. */
  compression?: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /** Kafka's `batch.size` in bytes; default 16384. */
  batchSize?: number
  /** Kafka's `linger.ms`; default 5 (Kafka 4.0's default, KIP-1030). */
  lingerMs?: number
  /** Producers sending in parallel, each with its own PerfProducer; default 1. */
  producers?: number
  /** Partitions of the topic when the run creates it (produce, e2e); default 1 (Kafka's `num.partitions`). */
  partitions?: number
  /** Consumer group (consume, e2e); default a fresh `shardlog-perf-<uuid>` group. */
  groupId?: string
  /** Leading records excluded from the figures (Kafka's `--warmup-records`); default 0. */
  warmupRecords?: number
  /** Leading time excluded from the figures, ms; default 0. */
  warmupMs?: number
  /** Reporting interval, ms; default 1000. */
  reportIntervalMs?: number
  /** Sends in flight per producer (Kafka's `max.in.flight.requests.per.connection`); default 5. */
  maxInFlight?: number
  /** Consuming ends after this long without a new record, ms; default 10000 (ConsumerPerformance's `--timeout`). */
  idleTimeoutMs?: number
  /** Name of the run in reports; default `<mode> · <compression> · acks=<acks> · <target>`. */
  label?: string
  /** When set, the run's files are written to this directory (created if missing). */
  outDir?: string
  /** Called with each closed reporting interval. */
  onInterval?: (interval: IntervalReport) => void
  /** Called about five times a second while the run is in progress. */
  onProgress?: (progress: LoadTestProgress) => void
  /** Ends the run early (the results so far are summarised); sends in flight are awaited. */
  signal?: AbortSignal
}

/** Progress of a running test. */
export interface LoadTestProgress {
  /** Records completed: acknowledged (produce) or received (consume, e2e). */
  completed: number
  /** Records asked for; null for a duration-bounded run. */
  total: number | null
  elapsedMs: number
  /** Fraction done, 0..1, by records or by time. */
  fraction: number
  /** Estimated time left, ms; null until it can be estimated. */
  etaMs: number | null
}

/** One latency series of a finished run, with its histograms. */
export interface LoadTestHistogram {
  info: LatencySeriesInfo
  /** Post-warmup values of the run, µs. */
  histogram: Histogram
  /** Encoded per-interval histograms (post-warmup), for the interval log. */
  intervals: EncodedInterval[]
}

/** Paths of the files a run wrote. */
export interface LoadTestFiles {
  dir: string
  summary: string
  report: string
  hgrm: string[]
  hlog: string[]
}

/** What {@link runLoadTest} returns. */
export interface LoadTestResult {
  summary: LoadTestSummary
  histograms: LoadTestHistogram[]
  /** Files written when `outDir` was given, else null. */
  files: LoadTestFiles | null
}

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
const MAX_RECORD_SIZE = 64 * 1024 * 1024
const PROGRESS_INTERVAL_MS = 200

function positiveInteger(name: string, value: number, min = 1): number {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidConfigError(`${name} must be an integer >= ${min}, got ${String(value)}`)
  return value
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InvalidConfigError(`${name} must be a number >= 0, got ${String(value)}`)
  return value
}

/** The default label of a run: mode, compression, acks, throughput and target. */
export function defaultLabel(config: Omit<LoadTestConfig, 'label'>): string {
  if (config.mode === 'consume') return `consume · ${config.target}`
  const rate = config.throughput > 0 ? ` · ${config.throughput.toLocaleString('en-US')} rec/s` : ''
  const acks = config.acks === -1 ? 'all' : String(config.acks)
  return `${config.mode} · ${config.compression} · acks=${acks}${rate} · ${config.target}`
}

/** Validates `options` and applies defaults; throws {@link InvalidConfigError} naming the bad option. */
export function resolveLoadTestConfig(options: Omit<LoadTestOptions, 'onInterval' | 'onProgress' | 'signal' | 'outDir'>): LoadTestConfig {
  const { mode } = options
  if (mode !== 'produce' && mode !== 'consume' && mode !== 'e2e') throw new InvalidConfigError(`mode must be produce, consume or e2e, got ${String(mode)}`)
  if (typeof options.topic !== 'string' || options.topic.length === 0) throw new InvalidConfigError('topic is required')
  const hasRecords = options.numRecords !== undefined
  const hasDuration = options.durationMs !== undefined
  if (hasRecords === hasDuration) throw new InvalidConfigError('give exactly one of numRecords (--num-records) and durationMs (--duration)')
  const numRecords = hasRecords ? positiveInteger('numRecords', options.numRecords!) : null
  const durationMs = hasDuration ? nonNegative('durationMs', options.durationMs!) : null
  if (durationMs === 0) throw new InvalidConfigError('durationMs must be > 0')
  const recordSize = positiveInteger('recordSize', options.recordSize ?? 100, mode === 'e2e' ? E2E_STAMP_BYTES : 1)
  if (recordSize > MAX_RECORD_SIZE) throw new InvalidConfigError(`recordSize must be at most ${MAX_RECORD_SIZE} bytes, got ${recordSize}`)
  const throughput = options.throughput ?? -1
  if (!Number.isFinite(throughput) || (throughput <= 0 && throughput !== -1)) {
    throw new InvalidConfigError(`throughput must be -1 (unlimited) or a positive number of records/s, got ${String(throughput)}`)
  }
  const acks = options.acks ?? -1
  if (acks !== -1 && acks !== 0 && acks !== 1) throw new InvalidConfigError(`acks must be -1, 0 or 1, got ${String(acks)}`)
  const compression = options.compression ?? 'none'
  if (!COMPRESSIONS.includes(compression)) throw new InvalidConfigError(`compression must be one of ${COMPRESSIONS.join(', ')}, got ${String(compression)}`)
  const warmupRecords = positiveInteger('warmupRecords', options.warmupRecords ?? 0, 0)
  if (numRecords !== null && warmupRecords >= numRecords) throw new InvalidConfigError(`warmupRecords (${warmupRecords}) must be less than numRecords (${numRecords})`)
  const warmupMs = nonNegative('warmupMs', options.warmupMs ?? 0)
  if (durationMs !== null && warmupMs >= durationMs) throw new InvalidConfigError(`warmupMs (${warmupMs}) must be less than durationMs (${durationMs})`)
  const reportIntervalMs = nonNegative('reportIntervalMs', options.reportIntervalMs ?? 1000)
  if (reportIntervalMs < 50) throw new InvalidConfigError(`reportIntervalMs must be at least 50, got ${reportIntervalMs}`)
  const idleTimeoutMs = nonNegative('idleTimeoutMs', options.idleTimeoutMs ?? 10_000)
  if (idleTimeoutMs === 0) throw new InvalidConfigError('idleTimeoutMs must be > 0')
  const base: Omit<LoadTestConfig, 'label'> = {
    mode,
    topic: options.topic,
    numRecords,
    durationMs,
    recordSize,
    throughput,
    acks,
    compression,
    batchSize: positiveInteger('batchSize', options.batchSize ?? 16_384, 0),
    lingerMs: nonNegative('lingerMs', options.lingerMs ?? 5),
    producers: positiveInteger('producers', options.producers ?? 1),
    partitions: positiveInteger('partitions', options.partitions ?? 1),
    groupId: options.groupId ?? null,
    warmupRecords,
    warmupMs,
    reportIntervalMs,
    maxInFlight: positiveInteger('maxInFlight', options.maxInFlight ?? 5),
    idleTimeoutMs,
    target: options.target.description,
  }
  return { ...base, label: options.label ?? defaultLabel(base) }
}

const SERIES = {
  producedCorrected: {
    id: 'produce-latency',
    title: 'Produce latency',
    description: "From each record's intended send time on the fixed schedule to its acknowledgement (coordinated omission corrected).",
    coordinatedOmissionCorrected: true,
  },
  producedUnscheduled: {
    id: 'produce-latency',
    title: 'Produce latency',
    description: 'From the creation of each record (when a send slot was free) to its acknowledgement; no schedule, so nothing to correct.',
    coordinatedOmissionCorrected: false,
  },
  serviceTime: {
    id: 'service-time',
    title: 'Service time (uncorrected)',
    description: 'From the send call to the acknowledgement: what a tool that ignores coordinated omission would report.',
    coordinatedOmissionCorrected: false,
  },
  fetchWait: {
    id: 'fetch-wait',
    title: 'Fetch wait',
    description: 'Time between consecutive batches delivered to the consumer, recorded once per batch.',
    coordinatedOmissionCorrected: false,
  },
  e2eCorrected: {
    id: 'e2e-latency',
    title: 'End-to-end latency',
    description: "From each record's intended send time on the fixed schedule (stamped in the record) to its arrival at the consumer.",
    coordinatedOmissionCorrected: true,
  },
  e2eUnscheduled: {
    id: 'e2e-latency',
    title: 'End-to-end latency',
    description: 'From the creation time stamped in each record to its arrival at the consumer.',
    coordinatedOmissionCorrected: false,
  },
} satisfies Record<string, LatencySeriesInfo>

function coordinatedOmissionNote(config: LoadTestConfig): LoadTestSummary['coordinatedOmission'] {
  if (config.mode === 'consume') {
    return { corrected: false, scheduleRecordsPerSec: null, note: 'not applicable: consuming has no send schedule.' }
  }
  if (config.throughput > 0) {
    return {
      corrected: true,
      scheduleRecordsPerSec: config.throughput,
      note: `corrected: latency is measured from each record's intended send time on the fixed ${config.throughput.toLocaleString('en-US')} records/s schedule, so records held back while the target stalled are charged the wait.`,
    }
  }
  return {
    corrected: false,
    scheduleRecordsPerSec: null,
    note: 'not corrected: without --throughput there is no schedule; latency is measured from when each record was created. Set --throughput for coordinated-omission-corrected latency.',
  }
}

/** Distinct error messages kept for the summary; the count covers all. */
const MAX_ERROR_MESSAGES = 5

/** Mutable state of a run in progress; lives for one {@link runLoadTest} call. */
class RunState {
  /** Run start (monotonic ms): the schedule origin; set again by {@link begin}. */
  startMs = monotonicNowMs()
  startEpochMs = epochMsOf(this.startMs)
  endMs = this.startMs
  readonly series: LatencySeries[] = []
  readonly intervals: IntervalReport[] = []
  readonly counts: RecordCounts
  errorCount = 0
  readonly errorMessages: string[] = []
  completed = 0
  measuredBytes = 0
  /** Start of the measured window (monotonic ms): the first measured record's intended send (or the fetch before it). */
  measureStartMs = Number.POSITIVE_INFINITY
  /** End of the measured window (monotonic ms): the last measured record's completion. */
  measureEndMs = Number.NEGATIVE_INFINITY
  stoppedEarly: string | null = null
  timeToFirstRecordMs: number | null = null
  private intervalStartMs = this.startMs
  private intervalRecords = 0
  private intervalBytes = 0
  private intervalWarmup = false
  private intervalTimer: NodeJS.Timeout | undefined
  private progressTimer: NodeJS.Timeout | undefined
  private onProgress: ((progress: LoadTestProgress) => void) | undefined

  constructor(readonly config: LoadTestConfig, private readonly onInterval: ((interval: IntervalReport) => void) | undefined) {
    this.counts = { requested: config.numRecords, warmup: 0, measured: 0 }
  }

  /** Starts the clock and the reporting timers, once the target is set up. */
  begin(onProgress: ((progress: LoadTestProgress) => void) | undefined): void {
    this.startMs = monotonicNowMs()
    this.startEpochMs = epochMsOf(this.startMs)
    this.intervalStartMs = this.startMs
    this.onProgress = onProgress
    this.intervalTimer = setInterval(() => this.closeInterval(monotonicNowMs(), false), this.config.reportIntervalMs)
    if (onProgress !== undefined) this.progressTimer = setInterval(() => onProgress(this.progress(monotonicNowMs())), PROGRESS_INTERVAL_MS)
  }

  /** Stops the clock and the timers and reports the last, partial interval. */
  end(): void {
    clearInterval(this.intervalTimer)
    clearInterval(this.progressTimer)
    this.endMs = monotonicNowMs()
    this.closeInterval(this.endMs, true)
    this.onProgress?.(this.progress(this.endMs))
  }

  addSeries(info: LatencySeriesInfo): LatencySeries {
    const series = new LatencySeries(info)
    this.series.push(series)
    return series
  }

  /** Counts records completed (acknowledged or received) for throughput and progress. */
  complete(records: number, bytes: number, warmupRecords: number, firstMeasuredMs: number, completedAtMs: number): void {
    this.completed += records
    this.intervalRecords += records
    this.intervalBytes += bytes
    this.counts.warmup += warmupRecords
    const measured = records - warmupRecords
    this.counts.measured += measured
    if (warmupRecords > 0) this.intervalWarmup = true
    if (measured > 0) {
      this.measuredBytes += (bytes / records) * measured
      if (firstMeasuredMs < this.measureStartMs) this.measureStartMs = firstMeasuredMs
      if (completedAtMs > this.measureEndMs) this.measureEndMs = completedAtMs
    }
  }

  recordError(err: unknown, records: number): void {
    this.errorCount += records
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
    if (this.errorMessages.length < MAX_ERROR_MESSAGES && !this.errorMessages.includes(message)) this.errorMessages.push(message)
  }

  /** Closes the current reporting interval at `nowMs` and reports it; a last interval with nothing in it is dropped. */
  closeInterval(nowMs: number, last: boolean): void {
    const lengthMs = nowMs - this.intervalStartMs
    if (lengthMs <= 0) return
    if (last && this.intervalRecords === 0 && !this.series.some((s) => s.intervalHasValues)) return
    const latency: IntervalReport['latency'] = {}
    for (const series of this.series) latency[series.info.id] = series.closeInterval(epochMsOf(this.intervalStartMs), lengthMs)
    const interval: IntervalReport = {
      index: this.intervals.length,
      startMs: this.intervalStartMs - this.startMs,
      lengthMs,
      warmup: this.intervalWarmup,
      records: this.intervalRecords,
      bytes: this.intervalBytes,
      recordsPerSec: (this.intervalRecords * 1000) / lengthMs,
      mbPerSec: (this.intervalBytes * 1000) / lengthMs / BYTES_PER_MB,
      latency,
    }
    this.intervals.push(interval)
    this.intervalStartMs = nowMs
    this.intervalRecords = 0
    this.intervalBytes = 0
    this.intervalWarmup = false
    this.onInterval?.(interval)
  }

  progress(nowMs: number): LoadTestProgress {
    const elapsedMs = nowMs - this.startMs
    const { numRecords, durationMs } = this.config
    let fraction: number
    if (numRecords !== null) fraction = Math.min(1, this.completed / numRecords)
    else fraction = Math.min(1, elapsedMs / durationMs!)
    const etaMs = fraction > 0 && fraction < 1 ? (elapsedMs * (1 - fraction)) / fraction : fraction >= 1 ? 0 : null
    return { completed: this.completed, total: numRecords, elapsedMs, fraction, etaMs }
  }
}

/** A promise with its resolve function, for "the consumer has seen enough" signals. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => { resolve = r })
  return { promise, resolve }
}

/** A growable bitmap of record indexes seen by the e2e consumer. */
class SeenIndexes {
  private bits = new Uint8Array(1024)

  /** Marks `index`; returns false when it was already marked. */
  mark(index: number): boolean {
    // Indexes go up to 2^48: no 32-bit shifts here.
    const byte = Math.floor(index / 8)
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(byte + 1, this.bits.length * 2))
      grown.set(this.bits)
      this.bits = grown
    }
    const mask = 1 << (index % 8)
    if ((this.bits[byte]! & mask) !== 0) return false
    this.bits[byte]! |= mask
    return true
  }
}

async function openProducers(target: PerfTarget, config: LoadTestConfig): Promise<PerfProducer[]> {
  const opts = { acks: config.acks, compression: config.compression, batchSize: config.batchSize, lingerMs: config.lingerMs }
  const producers: PerfProducer[] = []
  try {
    for (let i = 0; i < config.producers; i++) producers.push(await target.producer(opts))
  } catch (err) {
    await closeAll(producers)
    throw err
  }
  return producers
}

async function closeAll(closables: ReadonlyArray<{ close(): Promise<void> }>): Promise<void> {
  // Closing is best effort: the first failure is reported after every close was tried.
  const results = await Promise.allSettled(closables.map((c) => c.close()))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

/** Records the latencies and counts of produce acknowledgements. */
class ProduceRecorder implements ProduceSink {
  ackedRecords = 0
  failedRecords = 0

  constructor(
    private readonly run: RunState,
    private readonly latency: LatencySeries,
    private readonly serviceTime: LatencySeries | null,
    /** In produce mode acknowledgements are the completed records; in e2e mode receipts are. */
    private readonly countsAsCompleted: boolean,
  ) {}

  acked(batch: SentBatch, ackedAtMs: number): void {
    const n = batch.intendedMs.length
    const intended = batch.intendedMs
    // Records created together share a latency: record each run of equal values in one call.
    let i = 0
    while (i < n) {
      const measured = i >= batch.warmupCount
      let end = i + 1
      while (end < n && intended[end] === intended[i] && (end >= batch.warmupCount) === measured) end++
      this.latency.record((ackedAtMs - intended[i]!) * 1000, measured, end - i)
      i = end
    }
    if (this.serviceTime !== null) {
      const serviceUs = (ackedAtMs - batch.sentAtMs) * 1000
      if (batch.warmupCount > 0) this.serviceTime.record(serviceUs, false, batch.warmupCount)
      if (n > batch.warmupCount) this.serviceTime.record(serviceUs, true, n - batch.warmupCount)
    }
    this.ackedRecords += n
    if (this.countsAsCompleted) {
      this.run.complete(n, batch.bytes, batch.warmupCount, intended[batch.warmupCount] ?? ackedAtMs, ackedAtMs)
    }
  }

  failed(batch: SentBatch, error: unknown): void {
    this.failedRecords += batch.intendedMs.length
    this.run.recordError(error, batch.intendedMs.length)
  }
}

/** How often the consumer side checks for its end (duration, idle timeout, abort), ms. */
const WATCHDOG_INTERVAL_MS = 50

/**
 * The end of a consuming run. `check()` runs every {@link WATCHDOG_INTERVAL_MS} and whenever
 * the consumer callback calls it: `done()` ends the wait normally, a non-null `stopReason()`
 * ends it early and is recorded as the run's `stoppedEarly`.
 */
class ConsumerWatchdog {
  private readonly finished = deferred()
  private timer: NodeJS.Timeout | undefined
  private settled = false

  constructor(
    private readonly run: RunState,
    private readonly done: () => boolean,
    private readonly stopReason: () => string | null,
  ) {}

  /** Resolves when the consuming side is finished. */
  wait(): Promise<void> {
    this.timer = setInterval(() => this.check(), WATCHDOG_INTERVAL_MS)
    this.check()
    return this.finished.promise
  }

  check(): void {
    if (this.settled) return
    if (!this.done()) {
      const reason = this.stopReason()
      if (reason === null) return
      this.run.stoppedEarly = reason
    }
    this.settled = true
    clearInterval(this.timer)
    this.finished.resolve()
  }
}

async function runProduce(target: PerfTarget, config: LoadTestConfig, hooks: RunHooks): Promise<RunState> {
  await target.createTopic(config.topic, config.partitions)
  const producers = await openProducers(target, config)
  try {
    const run = new RunState(config, hooks.onInterval)
    const scheduled = config.throughput > 0
    const latency = run.addSeries(scheduled ? SERIES.producedCorrected : SERIES.producedUnscheduled)
    const serviceTime = scheduled ? run.addSeries(SERIES.serviceTime) : null
    const recorder = new ProduceRecorder(run, latency, serviceTime, true)
    const payload = randomTextPayload(config.recordSize)
    run.begin(hooks.onProgress)
    try {
      await new ProduceLoad({ ...produceLoadSettings(config, producers, run, hooks.signal), value: () => payload, sink: recorder }).run()
    } finally {
      run.end()
    }
    Object.assign(run.counts, { sent: recorder.ackedRecords + recorder.failedRecords, acked: recorder.ackedRecords, failed: recorder.failedRecords })
    if (hooks.signal?.aborted) run.stoppedEarly = 'aborted'
    return run
  } finally {
    await closeAll(producers)
  }
}

function produceLoadSettings(config: LoadTestConfig, producers: PerfProducer[], run: RunState, signal: AbortSignal | undefined) {
  return {
    topic: config.topic,
    producers,
    recordSize: config.recordSize,
    numRecords: config.numRecords ?? undefined,
    durationMs: config.durationMs ?? undefined,
    throughput: config.throughput,
    batchSize: config.batchSize,
    lingerMs: config.lingerMs,
    maxInFlight: config.maxInFlight,
    warmupRecords: config.warmupRecords,
    warmupMs: config.warmupMs,
    startMs: run.startMs,
    signal,
  }
}

async function runConsume(target: PerfTarget, config: LoadTestConfig, hooks: RunHooks): Promise<RunState> {
  const consumer = await target.consumer({ topic: config.topic, groupId: config.groupId ?? `shardlog-perf-${randomUUID()}`, fromBeginning: true })
  try {
    const run = new RunState(config, hooks.onInterval)
    const fetchWait = run.addSeries(SERIES.fetchWait)
    const wanted = config.numRecords
    const endMs = (): number => run.startMs + (config.durationMs ?? Number.POSITIVE_INFINITY)
    let received = 0
    let firstRecordMs: number | null = null
    let lastBatchMs: number | null = null
    let finished = false
    const watchdog = new ConsumerWatchdog(
      run,
      () => (wanted !== null && received >= wanted) || monotonicNowMs() >= endMs(),
      () => {
        if (hooks.signal?.aborted) return 'aborted'
        const idleMs = monotonicNowMs() - (lastBatchMs ?? run.startMs)
        return idleMs >= config.idleTimeoutMs ? `idle timeout: no record for ${(idleMs / 1000).toFixed(1)} s` : null
      },
    )
    const onBatch = (messages: PerfConsumedMessage[]): void => {
      const now = monotonicNowMs()
      if (finished || now >= endMs()) return
      const take = wanted === null ? messages.length : Math.min(messages.length, wanted - received)
      if (take <= 0) return
      firstRecordMs ??= now
      run.timeToFirstRecordMs ??= now - run.startMs
      let bytes = 0
      for (let i = 0; i < take; i++) bytes += messages[i]!.value?.length ?? 0
      const warmup = now < firstRecordMs + config.warmupMs ? take : Math.max(0, Math.min(take, config.warmupRecords - received))
      // The first batch's wait is the time to first record (join, rebalance), reported on its own.
      if (lastBatchMs !== null) fetchWait.record((now - lastBatchMs) * 1000, take > warmup)
      run.complete(take, bytes, warmup, lastBatchMs ?? now, now)
      lastBatchMs = now
      received += take
      watchdog.check()
    }
    run.begin(hooks.onProgress)
    try {
      await consumer.run(onBatch)
      await watchdog.wait()
    } finally {
      finished = true
      run.end()
    }
    run.counts.received = received
    return run
  } finally {
    await consumer.close()
  }
}

async function runEndToEnd(target: PerfTarget, config: LoadTestConfig, hooks: RunHooks): Promise<RunState> {
  await target.createTopic(config.topic, config.partitions)
  const runId = randomBytes(4).readUInt32BE(0)
  const consumer = await target.consumer({ topic: config.topic, groupId: config.groupId ?? `shardlog-perf-e2e-${randomUUID()}`, fromBeginning: true })
  const closables: Array<{ close(): Promise<void> }> = [consumer]
  try {
    const producers = await openProducers(target, config)
    closables.push(...producers)
    const run = new RunState(config, hooks.onInterval)
    const scheduled = config.throughput > 0
    const e2e = run.addSeries(scheduled ? SERIES.e2eCorrected : SERIES.e2eUnscheduled)
    const produceLatency = run.addSeries(scheduled ? SERIES.producedCorrected : SERIES.producedUnscheduled)
    const recorder = new ProduceRecorder(run, produceLatency, null, false)
    const seen = new SeenIndexes()
    const isWarmup = warmupRule(config)
    let received = 0
    let duplicates = 0
    let lastReceiveMs = Number.NEGATIVE_INFINITY
    let highestIndexSent = -1
    let producingEndedMs: number | null = null
    let finished = false
    const watchdog = new ConsumerWatchdog(
      run,
      () => received >= recorder.ackedRecords,
      () => {
        if (hooks.signal?.aborted) return 'aborted'
        const idleMs = monotonicNowMs() - Math.max(lastReceiveMs, producingEndedMs!)
        if (idleMs < config.idleTimeoutMs) return null
        return `idle timeout: ${formatCount(recorder.ackedRecords - received)} acknowledged records not received within ${(idleMs / 1000).toFixed(1)} s`
      },
    )
    const onBatch = (messages: PerfConsumedMessage[]): void => {
      if (finished) return
      const now = monotonicNowMs()
      const nowUs = (now - run.startMs) * 1000
      let count = 0
      let bytes = 0
      let warmup = 0
      let firstMeasuredMs = Number.POSITIVE_INFINITY
      for (const message of messages) {
        const stamp = readE2eStamp(message.value)
        // Records of other runs (or other writers) on the same topic are not ours to count.
        // An index never sent can only be another writer's bytes that happen to match the run id.
        if (stamp === null || stamp.runId !== runId || stamp.index > highestIndexSent) continue
        if (!seen.mark(stamp.index)) {
          duplicates++
          continue
        }
        const measured = !isWarmup(stamp.index, stamp.sentUs / 1000)
        e2e.record(nowUs - stamp.sentUs, measured)
        count++
        bytes += message.value!.length
        if (measured) firstMeasuredMs = Math.min(firstMeasuredMs, run.startMs + stamp.sentUs / 1000)
        else warmup++
      }
      if (count === 0) return
      run.timeToFirstRecordMs ??= now - run.startMs
      run.complete(count, bytes, warmup, firstMeasuredMs, now)
      received += count
      lastReceiveMs = now
      if (producingEndedMs !== null) watchdog.check()
    }
    await consumer.run(onBatch)
    run.begin(hooks.onProgress)
    try {
      const payload = randomTextPayload(config.recordSize)
      await new ProduceLoad({
        ...produceLoadSettings(config, producers, run, hooks.signal),
        sink: recorder,
        value: (index, intendedMs) => {
          if (index > highestIndexSent) highestIndexSent = index
          const value = Buffer.allocUnsafe(config.recordSize)
          payload.copy(value)
          writeE2eStamp(value, { runId, index, sentUs: (intendedMs - run.startMs) * 1000 })
          return value
        },
      }).run()
      producingEndedMs = monotonicNowMs()
      await watchdog.wait()
    } finally {
      finished = true
      run.end()
    }
    Object.assign(run.counts, {
      sent: recorder.ackedRecords + recorder.failedRecords,
      acked: recorder.ackedRecords,
      failed: recorder.failedRecords,
      received,
      duplicates,
      missing: Math.max(0, recorder.ackedRecords - received),
    })
    if (hooks.signal?.aborted) run.stoppedEarly ??= 'aborted'
    return run
  } finally {
    await closeAll(closables)
  }
}

/** Callbacks and cancellation shared by the mode runners. */
interface RunHooks {
  onInterval: ((interval: IntervalReport) => void) | undefined
  onProgress: ((progress: LoadTestProgress) => void) | undefined
  signal: AbortSignal | undefined
}

function buildSummary(run: RunState): LoadTestSummary {
  const { config } = run
  const measuredMs = Number.isFinite(run.measureStartMs) && run.measureEndMs > run.measureStartMs ? run.measureEndMs - run.measureStartMs : 0
  const seconds = measuredMs / 1000
  const latency: LatencySummary[] = run.series.map((series) => ({
    ...series.info,
    stats: latencyStatsOf(series.total),
    clampedCount: series.clampedCount,
    files: { hgrm: `${series.info.id}.hgrm`, hlog: `${series.info.id}.hlog` },
  }))
  return {
    format: 'shardlog-perf-summary',
    formatVersion: 1,
    label: config.label,
    mode: config.mode,
    date: new Date(run.startEpochMs).toISOString(),
    target: config.target,
    config,
    machine: collectMachineInfo(),
    versions: collectVersions(),
    records: run.counts,
    throughput: {
      recordsPerSec: seconds > 0 ? run.counts.measured / seconds : 0,
      mbPerSec: seconds > 0 ? run.measuredBytes / seconds / BYTES_PER_MB : 0,
      bytes: Math.round(run.measuredBytes),
      measuredMs,
      elapsedMs: run.endMs - run.startMs,
    },
    coordinatedOmission: coordinatedOmissionNote(config),
    primaryLatency: run.series[0]!.info.id,
    latency,
    intervals: run.intervals,
    ...(config.mode === 'produce' ? {} : { timeToFirstRecordMs: run.timeToFirstRecordMs }),
    stoppedEarly: run.stoppedEarly,
    errors: { count: run.errorCount, messages: run.errorMessages },
  }
}

/**
 * Runs one load test against `options.target` and returns its summary and histograms; with
 * `outDir`, also writes `summary.json`, `<series>.hgrm`, `<series>.hlog` and `report.html`.
 * Throws {@link InvalidConfigError} for bad options before touching the target.
 */
export async function runLoadTest(options: LoadTestOptions): Promise<LoadTestResult> {
  const config = resolveLoadTestConfig(options)
  const hooks: RunHooks = { onInterval: options.onInterval, onProgress: options.onProgress, signal: options.signal }
  let run: RunState
  switch (config.mode) {
    case 'produce':
      run = await runProduce(options.target, config, hooks)
      break
    case 'consume':
      run = await runConsume(options.target, config, hooks)
      break
    case 'e2e':
      run = await runEndToEnd(options.target, config, hooks)
      break
  }
  const result: LoadTestResult = {
    summary: buildSummary(run),
    histograms: run.series.map((series) => ({ info: series.info, histogram: series.total, intervals: series.intervals })),
    files: null,
  }
  if (options.outDir !== undefined) result.files = await writeLoadTestOutputs(result, options.outDir)
  return result
}

/**
 * Writes a run's files to `outDir` (created if missing): `summary.json`, one `.hgrm` and one
 * `.hlog` per latency series, and `report.html`.
 */
export async function writeLoadTestOutputs(result: Pick<LoadTestResult, 'summary' | 'histograms'>, outDir: string): Promise<LoadTestFiles> {
  const dir = path.resolve(outDir)
  await mkdir(dir, { recursive: true })
  const { summary } = result
  const files: LoadTestFiles = { dir, summary: path.join(dir, 'summary.json'), report: path.join(dir, 'report.html'), hgrm: [], hlog: [] }
  const distributions: Record<string, ReturnType<typeof parsePercentileDistribution>> = {}
  for (const { info, histogram, intervals } of result.histograms) {
    const hgrm = formatPercentileDistribution(histogram)
    distributions[info.id] = parsePercentileDistribution(hgrm, `${info.id}.hgrm`)
    const hgrmPath = path.join(dir, `${info.id}.hgrm`)
    const hlogPath = path.join(dir, `${info.id}.hlog`)
    const comment = `Logged with shardlog perf ${summary.versions.shardlog}: ${info.title.toLowerCase()}, values in µs; ${summary.label}`
    await writeFile(hgrmPath, hgrm)
    await writeFile(hlogPath, formatIntervalLog({ startEpochMs: Date.parse(summary.date), intervals, comment }))
    files.hgrm.push(hgrmPath)
    files.hlog.push(hlogPath)
  }
  await writeFile(files.summary, `${JSON.stringify(summary, null, 2)}\n`)
  await writeFile(files.report, renderReportHtml({ title: `shardlog perf · ${summary.label}`, runs: [{ summary, distributions }] }))
  return files
}
