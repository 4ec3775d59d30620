/**
 * Latency histograms of a load test: HdrHistogram (hdr-histogram-js) at microsecond
 * resolution, 3 significant digits, tracking 1 µs to 60 s.
 *
 * A {@link LatencySeries} is one measured quantity (say, produce acknowledgement latency). It
 * keeps three histograms: the run total, which holds only measured (post-warmup) values; the
 * current interval's measured values, encoded into the interval log each interval; and the
 * current interval's values including warmup, which only feed the live per-interval line.
 * Interval histograms are encoded (compressed base64, a few hundred bytes) as soon as the
 * interval closes so that memory does not grow with the length of the run.
 *
 * Lives on the main thread; not shared between threads.
 */
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js'

/** Lowest latency the histograms discern: 1 µs. */
export const LATENCY_LOWEST_US = 1
/** Highest latency the histograms track: 60 s. Larger values are recorded as 60 s and counted as clamped. */
export const LATENCY_HIGHEST_US = 60_000_000
/** Decimal digits of value precision kept by the histograms. */
export const LATENCY_SIGNIFICANT_DIGITS = 3
/** Divide a recorded value (µs) by this to get milliseconds, the unit of every report. */
export const MICROS_PER_MILLI = 1000

/** Creates an empty latency histogram in microseconds with the project-wide range and precision. */
export function createLatencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: LATENCY_LOWEST_US,
    highestTrackableValue: LATENCY_HIGHEST_US,
    numberOfSignificantValueDigits: LATENCY_SIGNIFICANT_DIGITS,
    // A fixed range keeps the encoded histograms of every interval and run comparable.
    autoResize: false,
    bitBucketSize: 32,
  })
}

/** Summary statistics of a latency histogram, every figure in milliseconds. */
export interface LatencyStats {
  /** Number of recorded values. */
  count: number
  min: number
  mean: number
  stdDeviation: number
  max: number
  p50: number
  p90: number
  p95: number
  p99: number
  p999: number
  p9999: number
}

/** Per-interval latency figures in milliseconds, as printed on each reporting line. */
export interface IntervalLatency {
  count: number
  p50: number
  p99: number
  max: number
}

/** The percentile levels every summary reports, with the key they are stored under. */
export const SUMMARY_PERCENTILES: ReadonlyArray<{ key: 'p50' | 'p90' | 'p95' | 'p99' | 'p999' | 'p9999'; percentile: number; label: string }> = [
  { key: 'p50', percentile: 50, label: 'p50' },
  { key: 'p90', percentile: 90, label: 'p90' },
  { key: 'p95', percentile: 95, label: 'p95' },
  { key: 'p99', percentile: 99, label: 'p99' },
  { key: 'p999', percentile: 99.9, label: 'p99.9' },
  { key: 'p9999', percentile: 99.99, label: 'p99.99' },
]

const toMs = (us: number): number => us / MICROS_PER_MILLI

/** Computes {@link LatencyStats} of a microsecond histogram; all zero when it is empty. */
export function latencyStatsOf(histogram: Histogram): LatencyStats {
  const count = histogram.totalCount
  if (count === 0) {
    return { count: 0, min: 0, mean: 0, stdDeviation: 0, max: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, p9999: 0 }
  }
  const stats: LatencyStats = {
    count,
    min: toMs(histogram.minNonZeroValue === Number.MAX_SAFE_INTEGER ? 0 : histogram.minNonZeroValue),
    mean: toMs(histogram.mean),
    stdDeviation: toMs(histogram.stdDeviation),
    // The highest equivalent value of the max, like every percentile, so max >= p99.99 always.
    max: toMs(histogram.getValueAtPercentile(100)),
    p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, p9999: 0,
  }
  for (const { key, percentile } of SUMMARY_PERCENTILES) stats[key] = toMs(histogram.getValueAtPercentile(percentile))
  return stats
}

/** Computes the per-interval figures of a microsecond histogram. */
export function intervalLatencyOf(histogram: Histogram): IntervalLatency {
  if (histogram.totalCount === 0) return { count: 0, p50: 0, p99: 0, max: 0 }
  return {
    count: histogram.totalCount,
    p50: toMs(histogram.getValueAtPercentile(50)),
    p99: toMs(histogram.getValueAtPercentile(99)),
    max: toMs(histogram.getValueAtPercentile(100)),
  }
}

/** One closed interval of a series, ready for the interval log (`.hlog`). */
export interface EncodedInterval {
  /** Interval start, ms since the epoch. */
  startEpochMs: number
  /** Interval length in ms. */
  lengthMs: number
  /** Largest value in the interval, µs. */
  maxUs: number
  /** The interval's histogram in HdrHistogram's compressed base64 encoding. */
  compressed: string
}

/** Describes what a {@link LatencySeries} measures; copied into summaries and reports. */
export interface LatencySeriesInfo {
  /** Stable id, used as the base name of the series' files (`<id>.hgrm`, `<id>.hlog`). */
  id: string
  /** Short title for tables and legends, e.g. `Produce latency`. */
  title: string
  /** One sentence on what is measured from where to where. */
  description: string
  /** Whether values are measured from each record's intended send time (coordinated omission corrected). */
  coordinatedOmissionCorrected: boolean
}

/** A measured latency quantity: run total, interval histograms and the encoded interval log. */
export class LatencySeries {
  readonly info: LatencySeriesInfo
  /** Post-warmup values of the whole run. */
  readonly total: Histogram = createLatencyHistogram()
  /** Closed intervals that held post-warmup values, oldest first. */
  readonly intervals: EncodedInterval[] = []
  private readonly intervalMeasured: Histogram = createLatencyHistogram()
  private readonly intervalAll: Histogram = createLatencyHistogram()
  private clamped = 0

  constructor(info: LatencySeriesInfo) {
    this.info = info
  }

  /** Whether the current interval holds any value, warmup included. */
  get intervalHasValues(): boolean {
    return this.intervalAll.totalCount > 0
  }

  /** Values above {@link LATENCY_HIGHEST_US} that were recorded as 60 s. */
  get clampedCount(): number {
    return this.clamped
  }

  /**
   * Records `count` occurrences of one latency. `measured` is false for warmup values: they
   * show on the live interval line but stay out of the run total and the interval log.
   */
  record(latencyUs: number, measured: boolean, count = 1): void {
    let value = Math.round(latencyUs)
    // A negative latency can only come from a bug in the caller; never let it corrupt the histogram.
    if (!(value >= 0)) value = 0
    if (value > LATENCY_HIGHEST_US) {
      value = LATENCY_HIGHEST_US
      this.clamped += count
    }
    this.intervalAll.recordValueWithCount(value, count)
    if (measured) {
      this.intervalMeasured.recordValueWithCount(value, count)
      this.total.recordValueWithCount(value, count)
    }
  }

  /**
   * Closes the current interval: returns its live figures (warmup included), appends its
   * measured values to {@link intervals} when there were any, and starts a new interval.
   */
  closeInterval(startEpochMs: number, lengthMs: number): IntervalLatency {
    const live = intervalLatencyOf(this.intervalAll)
    if (this.intervalMeasured.totalCount > 0) {
      this.intervals.push({
        startEpochMs,
        lengthMs,
        maxUs: this.intervalMeasured.maxValue,
        compressed: encodeIntoCompressedBase64(this.intervalMeasured),
      })
    }
    this.intervalAll.reset()
    this.intervalMeasured.reset()
    return live
  }
}
