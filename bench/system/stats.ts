/**
 * Figures of repeated runs. A shared machine makes single runs unreliable, so every system
 * figure is a {@link Sample}: the median of the runs is quoted, min and max show the spread.
 */

/** One measurement repeated `runs.length` times. */
export interface Sample {
  median: number
  min: number
  max: number
  /** Every run's value, in the order they ran. */
  runs: number[]
}

/** The median of `values` (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** A {@link Sample} of `runs`. */
export function sampleOf(runs: readonly number[]): Sample {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs), runs: [...runs] }
}

/** `a / b` of two medians, NaN when `b` is not positive. */
export function ratioOf(a: Sample | number, b: Sample | number): number {
  const x = typeof a === 'number' ? a : a.median
  const y = typeof b === 'number' ? b : b.median
  return y > 0 ? x / y : Number.NaN
}
