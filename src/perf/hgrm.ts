/**
 * HdrHistogram percentile distribution files (`.hgrm`).
 *
 * The format is exactly what HdrHistogram's `outputPercentileDistribution` prints (Java and
 * hdr-histogram-js alike), which is what HdrHistogram's plotter (`plotFiles.html`) reads:
 *
 * ```
 *        Value     Percentile TotalCount 1/(1-Percentile)
 *                                                            <- one empty line
 *        1.234 0.000000000000          1           1.00     <- %12.3f %2.12f %10d %14.2f
 *        ...                                                    (value in ms: µs / 1000)
 *       60.031 1.000000000000       9999                    <- last row: no 1/(1-p) column
 * #[Mean    =        2.345, StdDeviation   =        1.234]
 * #[Max     =       60.000, Total count    =         9999]
 * #[Buckets =           16, SubBuckets     =         2048]
 * ```
 *
 * Rows step through percentiles with exponentially finer resolution: `ticksPerHalfDistance`
 * rows per halving of the distance to 100% (HdrHistogram's default is 5).
 */
import type { Histogram } from 'hdr-histogram-js'
import { InvalidConfigError } from '../errors.js'
import { MICROS_PER_MILLI } from './histograms.js'

/** HdrHistogram's default number of rows per halving of the distance to 100%. */
export const DEFAULT_TICKS_PER_HALF_DISTANCE = 5

/**
 * Formats `histogram` (values in µs) as an `.hgrm` percentile distribution with values in
 * milliseconds (`unitScalingRatio` 1000, HdrHistogram's `outputValueUnitScalingRatio`).
 */
export function formatPercentileDistribution(
  histogram: Histogram,
  ticksPerHalfDistance = DEFAULT_TICKS_PER_HALF_DISTANCE,
  unitScalingRatio = MICROS_PER_MILLI,
): string {
  return histogram.outputPercentileDistribution(ticksPerHalfDistance, unitScalingRatio, false)
}

/** One row of a percentile distribution. */
export interface HgrmRow {
  /** Latency in the file's unit (ms for shardlog's files). */
  value: number
  /** Percentile as a fraction, 0..1. */
  percentile: number
  /** Values at or below `value`. */
  totalCount: number
  /** 1/(1-percentile): the x coordinate of HdrHistogram's plot; Infinity on the last row. */
  inverse: number
}

/** A parsed `.hgrm` file. */
export interface PercentileDistribution {
  rows: HgrmRow[]
  mean: number
  stdDeviation: number
  max: number
  totalCount: number
}

const HEADER = /^\s*Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)\s*$/
const ROW = /^\s*(-?[\d.]+)\s+([\d.]+)\s+(\d+)(?:\s+([\d.]+|Infinity))?\s*$/
const MEAN = /^#\[Mean\s*=\s*([\d.]+),\s*StdDeviation\s*=\s*([\d.]+)\]$/
const MAX = /^#\[Max\s*=\s*([\d.]+),\s*Total count\s*=\s*(\d+)\]$/

/**
 * Parses an `.hgrm` file as written by {@link formatPercentileDistribution} (or by HdrHistogram
 * in Java). Throws {@link InvalidConfigError} naming `source` and the line when it is malformed.
 */
export function parsePercentileDistribution(text: string, source = '.hgrm'): PercentileDistribution {
  const lines = text.split(/\r?\n/)
  const headerIndex = lines.findIndex((line) => HEADER.test(line))
  if (headerIndex < 0) throw new InvalidConfigError(`${source}: no "Value Percentile TotalCount 1/(1-Percentile)" header: not an HdrHistogram percentile distribution`)
  const result: PercentileDistribution = { rows: [], mean: Number.NaN, stdDeviation: Number.NaN, max: Number.NaN, totalCount: Number.NaN }
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const line = lines[i]!.trim()
    if (line === '') continue
    const mean = MEAN.exec(line)
    const max = MAX.exec(line)
    if (mean) {
      result.mean = Number(mean[1])
      result.stdDeviation = Number(mean[2])
    } else if (max) {
      result.max = Number(max[1])
      result.totalCount = Number(max[2])
    } else if (line.startsWith('#')) {
      continue
    } else {
      const row = ROW.exec(line)
      if (!row) throw new InvalidConfigError(`${source}: line ${i + 1} is not a percentile row: ${JSON.stringify(line.slice(0, 80))}`)
      const percentile = Number(row[2])
      result.rows.push({
        value: Number(row[1]),
        percentile,
        totalCount: Number(row[3]),
        inverse: row[4] === undefined || row[4] === 'Infinity' ? Number.POSITIVE_INFINITY : Number(row[4]),
      })
    }
  }
  if (Number.isNaN(result.mean) || Number.isNaN(result.totalCount)) {
    throw new InvalidConfigError(`${source}: missing the "#[Mean = ...]" or "#[Max = ...]" footer lines`)
  }
  return result
}
