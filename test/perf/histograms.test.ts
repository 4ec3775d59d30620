import { describe, expect, it } from 'vitest'
import {
  createLatencyHistogram,
  intervalLatencyOf,
  LATENCY_HIGHEST_US,
  LatencySeries,
  latencyStatsOf,
} from '../../src/perf/histograms.js'

const info = { id: 'x', title: 'X', description: 'test', coordinatedOmissionCorrected: false }

describe('perf > histograms', () => {
  it('tracks 1 µs to 60 s with 3 significant digits', () => {
    const h = createLatencyHistogram()
    expect(h.numberOfSignificantValueDigits).toBe(3)
    expect(h.highestTrackableValue).toBeGreaterThanOrEqual(LATENCY_HIGHEST_US)
    h.recordValue(1)
    h.recordValue(LATENCY_HIGHEST_US)
    expect(h.minNonZeroValue).toBe(1)
    expect(h.maxValue).toBeGreaterThanOrEqual(LATENCY_HIGHEST_US)
  })

  it('reports statistics in milliseconds, with max never below p99.99', () => {
    const h = createLatencyHistogram()
    for (let i = 1; i <= 10_000; i++) h.recordValue(i) // 1 µs .. 10 ms
    const stats = latencyStatsOf(h)
    expect(stats.count).toBe(10_000)
    expect(stats.min).toBeCloseTo(0.001, 6)
    expect(stats.mean).toBeCloseTo(5.0005, 2)
    expect(stats.p50).toBeCloseTo(5, 1)
    expect(stats.p99).toBeCloseTo(9.9, 1)
    expect(stats.p999).toBeLessThanOrEqual(stats.p9999)
    expect(stats.p9999).toBeLessThanOrEqual(stats.max)
    expect(latencyStatsOf(createLatencyHistogram())).toMatchObject({ count: 0, p99: 0, max: 0 })
    expect(intervalLatencyOf(createLatencyHistogram())).toEqual({ count: 0, p50: 0, p99: 0, max: 0 })
  })

  it('records warmup only in the live interval and clamps values above 60 s', () => {
    const series = new LatencySeries(info)
    series.record(10, false)
    series.record(LATENCY_HIGHEST_US * 2, true, 3)
    series.record(-5, true) // a clock bug must not corrupt the histogram
    expect(series.clampedCount).toBe(3)
    expect(series.total.totalCount).toBe(4)
    expect(series.total.minNonZeroValue).toBeGreaterThanOrEqual(LATENCY_HIGHEST_US * 0.999)
    const live = series.closeInterval(0, 1_000)
    expect(live.count).toBe(5)
    expect(series.intervals).toHaveLength(1)
    expect(series.intervalHasValues).toBe(false)
  })
})
