/**
 * What a load test reports: the `summary.json` document ({@link LoadTestSummary}) and its
 * console forms: one aligned line per reporting interval and the end-of-run summary in the
 * spirit of Kafka's ProducerPerformance (records, records/s, MB/s, avg and max latency, p50,
 * p95, p99, p99.9, p99.99).
 *
 * Units: latencies in milliseconds, rates per second, and MB = 2^20 bytes, as Kafka's perf
 * tools count them.
 */
import type { IntervalLatency, LatencySeriesInfo, LatencyStats } from './histograms.js'
import type { MachineInfo, VersionInfo } from './machine-info.js'

/** What a load test measures. */
export type LoadTestMode = 'produce' | 'consume' | 'e2e'

/** The exact configuration of a run, after defaults were applied. */
export interface LoadTestConfig {
  mode: LoadTestMode
  topic: string
  /** Records to send (produce, e2e) or receive (consume); null when the run is bounded by `durationMs`. */
  numRecords: number | null
  /** Run length in ms; null when bounded by `numRecords`. */
  durationMs: number | null
  /** Value bytes per record. */
  recordSize: number
  /** Target records/s over all producers; -1 for as fast as possible. */
  throughput: number
  acks: -1 | 0 | 1
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /** Kafka's `batch.size`, bytes. */
  batchSize: number
  /** Kafka's `linger.ms`. */
  lingerMs: number
  producers: number
  partitions: number
  groupId: string | null
  /** Leading records excluded from the figures (Kafka's `--warmup-records`). */
  warmupRecords: number
  /** Leading time excluded from the figures, ms. */
  warmupMs: number
  reportIntervalMs: number
  /** Sends in flight per producer (Kafka's `max.in.flight.requests.per.connection`). */
  maxInFlight: number
  /** Consuming stops after this long without a record (Kafka's ConsumerPerformance `--timeout`), ms. */
  idleTimeoutMs: number
  label: string
  /** {@link PerfTarget.description} of the target. */
  target: string
}

/** Record counts of a run. Fields of a side the mode does not have are absent. */
export interface RecordCounts {
  /** Records asked for; null for a duration-bounded run. */
  requested: number | null
  /** Records handed to `send` (produce, e2e). */
  sent?: number
  /** Records acknowledged (produce, e2e). */
  acked?: number
  /** Records whose send was rejected (produce, e2e). */
  failed?: number
  /** Distinct records received (consume, e2e). */
  received?: number
  /** Records received more than once (e2e). */
  duplicates?: number
  /** Acknowledged records never received before the run ended (e2e). */
  missing?: number
  /** Records counted as warmup and left out of throughput and latency. */
  warmup: number
  /** Records in the figures. */
  measured: number
}

/** Throughput over the measured part of the run. */
export interface ThroughputFigures {
  recordsPerSec: number
  /** MB/s with MB = 2^20 bytes (Kafka's tools). */
  mbPerSec: number
  /** Value bytes of the measured records. */
  bytes: number
  /** Length of the measured window, ms (warmup excluded). */
  measuredMs: number
  /** Whole run, warmup and draining included, ms. */
  elapsedMs: number
}

/** One latency series in the summary: what it is, its figures (ms) and its files. */
export interface LatencySummary extends LatencySeriesInfo {
  stats: LatencyStats
  /** Values above 60 s recorded as 60 s. */
  clampedCount: number
  /** File names (relative to the output directory) of the series' distribution and interval log. */
  files: { hgrm: string; hlog: string }
}

/** One reporting interval, as printed while the test runs. */
export interface IntervalReport {
  /** 0-based interval number. */
  index: number
  /** Interval start, ms since the run started. */
  startMs: number
  lengthMs: number
  /** Whether the interval held warmup records (its latencies are not in the totals). */
  warmup: boolean
  /** Records completed in the interval: acknowledged (produce) or received (consume, e2e). */
  records: number
  bytes: number
  recordsPerSec: number
  mbPerSec: number
  /** Latency of the interval per series id, warmup included. */
  latency: Record<string, IntervalLatency>
}

/** How latency relates to coordinated omission in this run. */
export interface CoordinatedOmissionNote {
  /** Whether latencies are measured from a fixed schedule's intended send times. */
  corrected: boolean
  /** The schedule's rate, records/s; null when there was no schedule. */
  scheduleRecordsPerSec: number | null
  /** One sentence for readers of the reports. */
  note: string
}

/** The `summary.json` document of a run. */
export interface LoadTestSummary {
  format: 'shardlog-perf-summary'
  formatVersion: 1
  label: string
  mode: LoadTestMode
  /** Start of the run, ISO 8601. */
  date: string
  target: string
  config: LoadTestConfig
  machine: MachineInfo
  versions: VersionInfo
  records: RecordCounts
  throughput: ThroughputFigures
  coordinatedOmission: CoordinatedOmissionNote
  /** Id of the series the headline figures come from. */
  primaryLatency: string
  latency: LatencySummary[]
  intervals: IntervalReport[]
  /** From the consumer's start to its first record, ms (consume, e2e); null when none arrived. */
  timeToFirstRecordMs?: number | null
  /** Why the run ended before its record count, if it did: `aborted`, `idle timeout`. */
  stoppedEarly: string | null
  errors: { count: number; messages: string[] }
}

/** Bytes per MB in every figure (Kafka's perf tools divide by 1024 * 1024). */
export const BYTES_PER_MB = 1024 * 1024

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })
const oneDecimal = new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })

/** `1234567` → `1,234,567`. */
export function formatCount(n: number): string {
  return integer.format(n)
}

/** Records/s with grouping: one decimal below 1,000, none above. */
export function formatRate(recordsPerSec: number): string {
  return recordsPerSec < 1000 ? oneDecimal.format(recordsPerSec) : integer.format(recordsPerSec)
}

/** MB/s with two decimals (three below 0.1 so small rates do not print as zero). */
export function formatMBps(mbPerSec: number): string {
  return mbPerSec < 0.1 ? mbPerSec.toFixed(3) : mbPerSec.toFixed(2)
}

/** A latency in ms with four significant figures at most and µs precision below 10 ms. */
export function formatMs(ms: number): string {
  if (ms < 10) return ms.toFixed(3)
  if (ms < 100) return ms.toFixed(2)
  if (ms < 10_000) return ms.toFixed(1)
  return integer.format(ms)
}

/** A duration for humans: `850 ms`, `12.35 s`, `3 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`
  const totalSeconds = Math.round(ms / 1000)
  const minutes = Math.floor(totalSeconds / 60)
  const seconds = totalSeconds % 60
  return minutes < 60
    ? `${minutes} min ${String(seconds).padStart(2, '0')} s`
    : `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`
}

const INTERVAL_COLUMNS: ReadonlyArray<{ title: string; width: number }> = [
  { title: 'elapsed', width: 9 },
  { title: 'throughput', width: 18 },
  { title: 'data rate', width: 13 },
  { title: 'p50', width: 13 },
  { title: 'p99', width: 13 },
  { title: 'max', width: 13 },
]

function row(cells: readonly string[]): string {
  return cells.map((cell, i) => cell.padStart(INTERVAL_COLUMNS[i]!.width)).join('')
}

/** The header printed above the interval lines; names the series the latency columns show. */
export function formatIntervalHeader(seriesTitle: string): string {
  return `${row(INTERVAL_COLUMNS.map((c) => c.title))}   (${seriesTitle.toLowerCase()})`
}

/** One interval line: elapsed time, records/s, MB/s and the interval's p50, p99 and max of `seriesId`. */
export function formatIntervalLine(interval: IntervalReport, seriesId: string): string {
  const latency = interval.latency[seriesId] ?? { count: 0, p50: 0, p99: 0, max: 0 }
  const ms = (v: number): string => (latency.count === 0 ? '-' : `${formatMs(v)} ms`)
  const elapsed = `${((interval.startMs + interval.lengthMs) / 1000).toFixed(1)} s`
  const line = row([
    elapsed,
    `${formatRate(interval.recordsPerSec)} rec/s`,
    `${formatMBps(interval.mbPerSec)} MB/s`,
    ms(latency.p50),
    ms(latency.p99),
    ms(latency.max),
  ])
  return interval.warmup ? `${line}   warmup` : line
}

const MODE_VERB: Record<LoadTestMode, string> = { produce: 'sent', consume: 'received', e2e: 'sent and received' }

/** The headline record count of a mode: acknowledged (produce) or received (consume, e2e). */
export function completedRecords(summary: LoadTestSummary): number {
  return summary.mode === 'produce' ? summary.records.acked ?? 0 : summary.records.received ?? 0
}

/** The primary series of a summary. */
export function primarySeries(summary: LoadTestSummary): LatencySummary | undefined {
  return summary.latency.find((s) => s.id === summary.primaryLatency) ?? summary.latency[0]
}

/**
 * The one-line summary in the layout of Kafka's ProducerPerformance ("N records sent, R
 * records/sec (M MB/sec), A ms avg latency, X ms max latency, ... 99.99th."), with fractional
 * milliseconds.
 */
export function formatKafkaStyleLine(summary: LoadTestSummary): string {
  const s = primarySeries(summary)?.stats
  const n = completedRecords(summary)
  const head = `${n} records ${MODE_VERB[summary.mode]}, ${summary.throughput.recordsPerSec.toFixed(1)} records/sec (${summary.throughput.mbPerSec.toFixed(2)} MB/sec)`
  if (s === undefined || s.count === 0) return `${head}.`
  const f = (v: number): string => v.toFixed(2)
  return `${head}, ${f(s.mean)} ms avg latency, ${f(s.max)} ms max latency, ${f(s.p50)} ms 50th, ${f(s.p95)} ms 95th, ${f(s.p99)} ms 99th, ${f(s.p999)} ms 99.9th, ${f(s.p9999)} ms 99.99th.`
}

function recordsLine(summary: LoadTestSummary): string {
  const r = summary.records
  const parts: string[] = []
  if (r.sent !== undefined) parts.push(`${formatCount(r.sent)} sent`)
  if (r.acked !== undefined) parts.push(`${formatCount(r.acked)} acknowledged`)
  if (r.failed !== undefined) parts.push(`${formatCount(r.failed)} failed`)
  if (r.received !== undefined) parts.push(`${formatCount(r.received)} received`)
  if (r.duplicates !== undefined) parts.push(`${formatCount(r.duplicates)} duplicates`)
  if (r.missing !== undefined) parts.push(`${formatCount(r.missing)} missing`)
  if (r.warmup > 0) parts.push(`${formatCount(r.warmup)} warmup (excluded)`)
  return parts.join(' · ')
}

/** Width the summary's free-text lines wrap at, in columns. */
const SUMMARY_WIDTH = 110

/** Splits `text` into lines of at most `width` columns at spaces (a longer word stands alone). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line === '' ? word : `${line} ${word}`
    }
  }
  if (line !== '') lines.push(line)
  return lines
}

/** The end-of-run summary: the Kafka-style line, then an aligned table of every latency series. */
export function formatSummaryText(summary: LoadTestSummary): string {
  const t = summary.throughput
  const label = (name: string): string => `  ${name.padEnd(22)}`
  const long = (name: string, text: string): string => label(name) + wrap(text, SUMMARY_WIDTH - 24).join(`\n${' '.repeat(24)}`)
  const lines = [
    `Summary: ${summary.label}`,
    label('records') + recordsLine(summary),
    label('throughput') + `${formatRate(t.recordsPerSec)} records/s · ${formatMBps(t.mbPerSec)} MB/s · measured over ${formatDuration(t.measuredMs)} (run ${formatDuration(t.elapsedMs)})`,
  ]
  if (summary.timeToFirstRecordMs !== undefined && summary.timeToFirstRecordMs !== null) {
    lines.push(label('first record after') + `${formatMs(summary.timeToFirstRecordMs)} ms`)
  }
  lines.push(long('coordinated omission', summary.coordinatedOmission.note))
  if (summary.stoppedEarly !== null) lines.push(long('stopped early', summary.stoppedEarly))
  if (summary.errors.count > 0) {
    lines.push(long('errors', `${formatCount(summary.errors.count)} failed sends; first: ${summary.errors.messages[0] ?? ''}`))
  }
  lines.push('')
  const headers = ['count', 'avg', 'p50', 'p95', 'p99', 'p99.9', 'p99.99', 'max']
  const nameWidth = Math.max(24, ...summary.latency.map((s) => s.title.length + 2))
  const cell = (v: string): string => v.padStart(10)
  lines.push(`  ${'latency (ms)'.padEnd(nameWidth)}${headers.map(cell).join('')}`)
  for (const series of summary.latency) {
    const s = series.stats
    const values = s.count === 0
      ? [formatCount(0), '-', '-', '-', '-', '-', '-', '-']
      : [formatCount(s.count), formatMs(s.mean), formatMs(s.p50), formatMs(s.p95), formatMs(s.p99), formatMs(s.p999), formatMs(s.p9999), formatMs(s.max)]
    lines.push(`  ${series.title.padEnd(nameWidth)}${values.map(cell).join('')}`)
  }
  lines.push('', formatKafkaStyleLine(summary))
  return `${lines.join('\n')}\n`
}
