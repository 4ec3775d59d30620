import { describe, expect, it } from 'vitest'
import { runLoadTest } from '../../src/perf/run-load-test.js'
import {
  formatCount,
  formatDuration,
  formatIntervalHeader,
  formatIntervalLine,
  formatKafkaStyleLine,
  formatMBps,
  formatMs,
  formatRate,
  formatSummaryText,
  type IntervalReport,
} from '../../src/perf/summary.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

const interval = (patch: Partial<IntervalReport>): IntervalReport => ({
  index: 0, startMs: 0, lengthMs: 1_000, warmup: false, records: 10_000, bytes: 1_000_000,
  recordsPerSec: 10_000, mbPerSec: 0.954, latency: { l: { count: 10_000, p50: 0.412, p99: 1.2034, max: 12.5 } }, ...patch,
})

describe('perf > summary > formatting', () => {
  it('formats numbers with units-friendly precision', () => {
    expect(formatCount(1_234_567)).toBe('1,234,567')
    expect(formatRate(999.94)).toBe('999.9')
    expect(formatRate(123_456.7)).toBe('123,457')
    expect(formatMBps(12.345)).toBe('12.35')
    expect(formatMBps(0.0123)).toBe('0.012')
    expect(formatMs(0.0123)).toBe('0.012')
    expect(formatMs(12.345)).toBe('12.35')
    expect(formatMs(123.45)).toBe('123.5')
    expect(formatMs(12_345.6)).toBe('12,346')
    expect(formatDuration(850)).toBe('850 ms')
    expect(formatDuration(12_345)).toBe('12.35 s')
    expect(formatDuration(185_000)).toBe('3 min 05 s')
    expect(formatDuration(2 * 3_600_000 + 60_000)).toBe('2 h 01 min')
  })

  it('prints interval lines in aligned columns with a unit in every cell', () => {
    const header = formatIntervalHeader('Produce latency')
    const a = formatIntervalLine(interval({}), 'l')
    const b = formatIntervalLine(interval({ startMs: 9_000, recordsPerSec: 1_234_567, mbPerSec: 117.7, latency: { l: { count: 1, p50: 1_234.5, p99: 12_345, max: 23_456 } } }), 'l')
    const c = formatIntervalLine(interval({ warmup: true, latency: {} }), 'l')
    expect(header).toMatch(/elapsed\s+throughput\s+data rate\s+p50\s+p99\s+max\s+\(produce latency\)/)
    expect(a).toBe('    1.0 s      10,000 rec/s    0.95 MB/s     0.412 ms     1.203 ms     12.50 ms')
    expect(b).toBe('   10.0 s   1,234,567 rec/s  117.70 MB/s    1234.5 ms    12,345 ms    23,456 ms')
    expect(c).toMatch(/ - {12}- {12}-   warmup$/)
    // Columns end at the same offsets on every line.
    for (const title of ['throughput', 'data rate', 'p50', 'p99', 'max']) {
      const end = header.indexOf(title) + title.length
      expect(a[end - 1]).not.toBe(' ')
      expect(a[end] ?? ' ').toBe(' ')
      expect(b[end - 1]).not.toBe(' ')
      expect(b[end] ?? ' ').toBe(' ')
    }
  })

  it('summarises a run like Kafka ProducerPerformance, plus a table of every series', async () => {
    const { summary } = await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'produce', topic: 't', numRecords: 300, throughput: 3_000 })
    const text = formatSummaryText(summary)
    expect(text).toContain('Summary: produce · none · acks=all · 3,000 rec/s · in-memory test target')
    expect(text).toMatch(/ {2}records {15}300 sent · 300 acknowledged · 0 failed/)
    expect(text).toMatch(/ {2}throughput {12}[\d,.]+ records\/s · [\d.]+ MB\/s · measured over /)
    expect(text).toMatch(/coordinated omission {2}corrected: latency is measured from each record's intended send time/)
    expect(text).toMatch(/latency \(ms\) +count +avg +p50 +p95 +p99 +p99\.9 +p99\.99 +max/)
    expect(text).toMatch(/Produce latency +300 +[\d.]+ +[\d.]+/)
    expect(text).toMatch(/Service time \(uncorrected\) +300 /)
    const kafka = formatKafkaStyleLine(summary)
    expect(kafka).toMatch(/^300 records sent, [\d.]+ records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, [\d.]+ ms max latency, [\d.]+ ms 50th, [\d.]+ ms 95th, [\d.]+ ms 99th, [\d.]+ ms 99\.9th, [\d.]+ ms 99\.99th\.$/)
    expect(text.trimEnd().endsWith(kafka)).toBe(true)
  })
})
