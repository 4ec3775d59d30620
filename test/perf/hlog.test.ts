import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { HistogramLogReader, type Histogram } from 'hdr-histogram-js'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createLatencyHistogram, LatencySeries } from '../../src/perf/histograms.js'
import { formatIntervalLog, HISTOGRAM_LOG_LEGEND } from '../../src/perf/hlog.js'
import { runLoadTest } from '../../src/perf/run-load-test.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

function readAll(log: string): Histogram[] {
  const reader = new HistogramLogReader(log)
  const out: Histogram[] = []
  for (let h = reader.nextIntervalHistogram(); h !== null; h = reader.nextIntervalHistogram()) out.push(h)
  return out
}

const info = { id: 'produce-latency', title: 'Produce latency', description: 'test', coordinatedOmissionCorrected: true }

describe('perf > hlog', () => {
  it('writes HdrHistogram log format 1.3 that HistogramLogReader decodes interval by interval', () => {
    const series = new LatencySeries(info)
    const start = 1_700_000_000_000
    series.record(1_000, true, 5)
    series.closeInterval(start, 1_000)
    series.record(250_000, true)
    series.record(2_000, true, 3)
    series.closeInterval(start + 1_000, 1_000)
    const log = formatIntervalLog({ startEpochMs: start, intervals: series.intervals, comment: 'Logged with shardlog perf test' })
    const lines = log.trimEnd().split('\n')
    expect(lines.slice(0, 5)).toEqual([
      '#[Logged with shardlog perf test]',
      '#[Histogram log format version 1.3]',
      `#[StartTime: 1700000000.000 (seconds since epoch), ${new Date(start).toISOString()}]`,
      '#[BaseTime: 1700000000.000 (seconds since epoch)]',
      HISTOGRAM_LOG_LEGEND,
    ])
    expect(lines[5]).toMatch(/^0\.000,1\.000,1\.000,HISTF[A-Za-z0-9+/=]+$/)
    expect(lines[6]).toMatch(/^1\.000,1\.000,250\.\d{3},HISTF[A-Za-z0-9+/=]+$/)

    const intervals = readAll(log)
    expect(intervals.map((h) => h.totalCount)).toEqual([5, 4])
    expect(intervals[0]!.startTimeStampMsec).toBe(start)
    expect(intervals[1]!.startTimeStampMsec).toBe(start + 1_000)
    expect(intervals[1]!.endTimeStampMsec).toBe(start + 2_000)
    expect(intervals[1]!.maxValue).toBeGreaterThanOrEqual(250_000)
  })

  it('keeps warmup out of the log while the live interval shows it', () => {
    const series = new LatencySeries(info)
    series.record(5_000, false, 10)
    const live = series.closeInterval(0, 1_000)
    expect(live.count).toBe(10)
    expect(series.intervals).toHaveLength(0)
    expect(series.total.totalCount).toBe(0)
  })

  it('decodes the .hlog a run writes; its intervals add up to the run total', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shardlog-perf-hlog-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const result = await runLoadTest({
      target: new InMemoryPerfTarget(), mode: 'produce', topic: 't', numRecords: 1_000, throughput: 2_000, warmupRecords: 100, reportIntervalMs: 100, outDir: dir,
    })
    for (const { info: seriesInfo, histogram } of result.histograms) {
      const intervals = readAll(await readFile(path.join(dir, `${seriesInfo.id}.hlog`), 'utf8'))
      expect(intervals.length).toBeGreaterThanOrEqual(2)
      const sum = createLatencyHistogram()
      for (const h of intervals) sum.add(h)
      expect(sum.totalCount).toBe(900)
      expect(sum.totalCount).toBe(histogram.totalCount)
      expect(sum.getValueAtPercentile(100)).toBe(histogram.getValueAtPercentile(100))
      expect(sum.getValueAtPercentile(99)).toBe(histogram.getValueAtPercentile(99))
      const runStart = Date.parse(result.summary.date)
      for (const h of intervals) expect(h.startTimeStampMsec).toBeGreaterThanOrEqual(runStart - 1)
    }
  })
})
