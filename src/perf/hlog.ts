/**
 * HdrHistogram interval logs (`.hlog`), the format of Java's `HistogramLogWriter` (log format
 * version 1.3), readable by `HistogramLogReader` (Java and hdr-histogram-js) and by
 * HdrHistogram's `HistogramLogProcessor`:
 *
 * ```
 * #[Logged with shardlog perf 0.1.0 (produce latency, values in µs)]
 * #[Histogram log format version 1.3]
 * #[StartTime: 1700000000.123 (seconds since epoch), 2023-11-14T22:13:20.123Z]
 * #[BaseTime: 1700000000.123 (seconds since epoch)]
 * "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
 * 0.000,1.000,4.567,HISTFAAAA...          <- %.3f s since BaseTime, %.3f s, %.3f ms, base64
 * ```
 *
 * Histograms hold microseconds; `Interval_Max` is in milliseconds (max / 1000), as Java's
 * writer scales it by `maxValueUnitRatio`. Adding the intervals of a log gives the run's total
 * (post-warmup) histogram.
 */
import type { EncodedInterval } from './histograms.js'
import { MICROS_PER_MILLI } from './histograms.js'

/** The log format version written, as Java's `HistogramLogWriter.HISTOGRAM_LOG_FORMAT_VERSION`. */
export const HISTOGRAM_LOG_FORMAT_VERSION = '1.3'

/** The legend line of an interval log. */
export const HISTOGRAM_LOG_LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'

/** What {@link formatIntervalLog} writes. */
export interface IntervalLogInput {
  /** Start of the run, ms since the epoch; written as StartTime and BaseTime. */
  startEpochMs: number
  /** The intervals, oldest first. */
  intervals: readonly EncodedInterval[]
  /** Free text for the first comment line, e.g. `Logged with shardlog perf 0.1.0`. */
  comment: string
}

const secs = (ms: number): string => (ms / 1000).toFixed(3)

/** Formats an interval log; interval timestamps are seconds relative to the BaseTime. */
export function formatIntervalLog(input: IntervalLogInput): string {
  const { startEpochMs } = input
  const lines = [
    `#[${input.comment.replace(/[\r\n\]]/g, ' ')}]`,
    `#[Histogram log format version ${HISTOGRAM_LOG_FORMAT_VERSION}]`,
    `#[StartTime: ${secs(startEpochMs)} (seconds since epoch), ${new Date(startEpochMs).toISOString()}]`,
    `#[BaseTime: ${secs(startEpochMs)} (seconds since epoch)]`,
    HISTOGRAM_LOG_LEGEND,
  ]
  for (const interval of input.intervals) {
    const start = secs(Math.max(0, interval.startEpochMs - startEpochMs))
    const max = (interval.maxUs / MICROS_PER_MILLI).toFixed(3)
    lines.push(`${start},${secs(interval.lengthMs)},${max},${interval.compressed}`)
  }
  return `${lines.join('\n')}\n`
}
