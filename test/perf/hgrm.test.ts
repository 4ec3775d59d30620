import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidConfigError } from '../../src/errors.js'
import { formatPercentileDistribution, parsePercentileDistribution } from '../../src/perf/hgrm.js'
import { createLatencyHistogram } from '../../src/perf/histograms.js'
import { runLoadTest } from '../../src/perf/run-load-test.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

/**
 * An independent reader of HdrHistogram's percentile distribution text, written from the
 * format's definition (Java's AbstractHistogram.outputPercentileDistribution): a header, an
 * empty line, rows "%12.3f %2.12f %10d %14.2f" (the last row without the 1/(1-p) column), and
 * three "#[...]" footer lines.
 */
function readHgrm(text: string): { rows: Array<{ value: number; percentile: number; count: number; inverse?: number }>; footer: Record<string, number> } {
  const lines = text.split('\n')
  expect(lines[0]).toBe('       Value     Percentile TotalCount 1/(1-Percentile)')
  expect(lines[1]).toBe('')
  const rows: Array<{ value: number; percentile: number; count: number; inverse?: number }> = []
  const footer: Record<string, number> = {}
  for (const line of lines.slice(2)) {
    if (line === '') continue
    if (line.startsWith('#[')) {
      for (const [, key, value] of line.matchAll(/(\w[\w ]*?)\s*=\s*([\d.]+)/g)) footer[key!] = Number(value)
      continue
    }
    const full = /^( {0,11}\d+\.\d{3}) (\d\.\d{12}) ( {0,9}\d+) ( {0,13}\d+\.\d{2})$/.exec(line)
    const last = /^( {0,11}\d+\.\d{3}) (1\.000000000000) ( {0,9}\d+)$/.exec(line)
    const match = full ?? last
    expect(match, `row ${JSON.stringify(line)}`).not.toBeNull()
    expect(match![1]).toHaveLength(12)
    expect(match![3]).toHaveLength(10)
    rows.push({ value: Number(match![1]), percentile: Number(match![2]), count: Number(match![3]), ...(full ? { inverse: Number(full[4]) } : {}) })
  }
  return { rows, footer }
}

describe('perf > hgrm', () => {
  it('writes HdrHistogram percentile distribution text with values scaled from µs to ms', () => {
    const histogram = createLatencyHistogram()
    for (let i = 1; i <= 1_000; i++) histogram.recordValue(i * 100) // 0.1 ms .. 100 ms
    const text = formatPercentileDistribution(histogram)
    const { rows, footer } = readHgrm(text)
    expect(rows[0]!.value).toBeCloseTo(0.1, 3)
    expect(rows[0]!.percentile).toBe(0)
    const last = rows[rows.length - 1]!
    expect(last.percentile).toBe(1)
    expect(last.inverse).toBeUndefined()
    expect(last.count).toBe(1_000)
    expect(last.value).toBeCloseTo(100, 0)
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.value).toBeGreaterThanOrEqual(rows[i - 1]!.value)
      expect(rows[i]!.percentile).toBeGreaterThanOrEqual(rows[i - 1]!.percentile)
      expect(rows[i]!.count).toBeGreaterThanOrEqual(rows[i - 1]!.count)
    }
    for (const row of rows.slice(0, -1)) expect(row.inverse).toBeCloseTo(1 / (1 - row.percentile), 1)
    expect(footer['Mean']).toBeCloseTo(50.05, 1)
    expect(footer['StdDeviation']).toBeCloseTo(28.87, 0)
    expect(footer['Max']).toBeCloseTo(100, 0)
    expect(footer['Total count']).toBe(1_000)
    expect(footer['Buckets']).toBeGreaterThan(0)
    expect(footer['SubBuckets']).toBe(2_048)
  })

  it('parses its own output back', () => {
    const histogram = createLatencyHistogram()
    for (const us of [50, 120, 900, 4_000, 60_000]) histogram.recordValueWithCount(us, 10)
    const text = formatPercentileDistribution(histogram)
    const parsed = parsePercentileDistribution(text)
    const independent = readHgrm(text)
    expect(parsed.rows.map((r) => [r.value, r.percentile, r.totalCount])).toEqual(independent.rows.map((r) => [r.value, r.percentile, r.count]))
    expect(parsed.rows[parsed.rows.length - 1]!.inverse).toBe(Number.POSITIVE_INFINITY)
    expect(parsed.totalCount).toBe(50)
    expect(parsed.max).toBeCloseTo(60, 1)
  })

  it('parses the .hgrm files a run writes, which agree with its summary', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shardlog-perf-hgrm-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    const { summary } = await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'produce', topic: 't', numRecords: 400, throughput: 2_000, outDir: dir })
    for (const series of summary.latency) {
      const text = await readFile(path.join(dir, series.files.hgrm), 'utf8')
      const { rows, footer } = readHgrm(text)
      expect(rows[rows.length - 1]!.count).toBe(400)
      expect(footer['Total count']).toBe(400)
      expect(footer['Mean']).toBeCloseTo(series.stats.mean, 2)
      const p50 = rows.find((r) => r.percentile >= 0.5)!
      expect(p50.value).toBeCloseTo(series.stats.p50, 2)
    }
  })

  it('renders an empty histogram as a header and footer only', () => {
    const parsed = parsePercentileDistribution(formatPercentileDistribution(createLatencyHistogram()))
    expect(parsed.rows).toEqual([])
    expect(parsed.totalCount).toBe(0)
  })

  it.each([
    ['no header', 'hello\n1.0 0.5 1 2.0\n', /no "Value Percentile TotalCount 1\/\(1-Percentile\)" header/],
    ['a bad row', '       Value     Percentile TotalCount 1/(1-Percentile)\n\n   1.000 half 3\n', /line 3 is not a percentile row/],
    ['no footer', '       Value     Percentile TotalCount 1/(1-Percentile)\n\n       1.000 0.500000000000          1           2.00\n', /missing the "#\[Mean = \.\.\.\]"/],
  ])('rejects a file with %s', (_name, text, message) => {
    expect(() => parsePercentileDistribution(text, 'x.hgrm')).toThrow(InvalidConfigError)
    expect(() => parsePercentileDistribution(text, 'x.hgrm')).toThrow(message)
  })
})
