import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidConfigError } from '../../src/errors.js'
import { runLoadTest, resolveLoadTestConfig } from '../../src/perf/run-load-test.js'
import type { IntervalReport, LoadTestSummary } from '../../src/perf/summary.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardlog-perf-run-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

async function readSummary(dir: string): Promise<LoadTestSummary> {
  return JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as LoadTestSummary
}

function expectRunFiles(dir: string, seriesIds: string[]): void {
  expect(existsSync(path.join(dir, 'summary.json'))).toBe(true)
  expect(existsSync(path.join(dir, 'report.html'))).toBe(true)
  for (const id of seriesIds) {
    expect(existsSync(path.join(dir, `${id}.hgrm`))).toBe(true)
    expect(existsSync(path.join(dir, `${id}.hlog`))).toBe(true)
  }
}

describe('perf > runLoadTest > produce', () => {
  it('sends exactly numRecords on a fixed schedule, excludes warmup and writes every output file', async () => {
    const dir = await tempDir()
    const target = new InMemoryPerfTarget()
    const intervals: IntervalReport[] = []
    const result = await runLoadTest({
      target,
      mode: 'produce',
      topic: 'perf-produce',
      numRecords: 2_000,
      recordSize: 120,
      throughput: 2_000,
      producers: 2,
      partitions: 3,
      compression: 'lz4',
      acks: 1,
      warmupRecords: 200,
      reportIntervalMs: 250,
      outDir: dir,
      onInterval: (interval) => intervals.push(interval),
    })

    expect(target.countRecords('perf-produce')).toBe(2_000)
    expect(target.topics.get('perf-produce')).toHaveLength(3)
    expect(target.producerOptions).toEqual([
      { acks: 1, compression: 'lz4', batchSize: 16_384, lingerMs: 5 },
      { acks: 1, compression: 'lz4', batchSize: 16_384, lingerMs: 5 },
    ])
    expect(target.openProducers).toBe(0)

    const summary = await readSummary(dir)
    expect(summary).toEqual(JSON.parse(JSON.stringify(result.summary)))
    expect(summary.records).toEqual({ requested: 2_000, sent: 2_000, acked: 2_000, failed: 0, warmup: 200, measured: 1_800 })
    expect(summary.throughput.bytes).toBe(1_800 * 120)
    expect(summary.throughput.recordsPerSec).toBeGreaterThan(0)
    expect(summary.coordinatedOmission.corrected).toBe(true)
    expect(summary.coordinatedOmission.scheduleRecordsPerSec).toBe(2_000)
    expect(summary.primaryLatency).toBe('produce-latency')
    expect(summary.latency.map((l) => l.id)).toEqual(['produce-latency', 'service-time'])
    for (const series of summary.latency) {
      expect(series.stats.count).toBe(1_800)
      expect(series.stats.p50).toBeLessThanOrEqual(series.stats.p99)
      expect(series.stats.p99).toBeLessThanOrEqual(series.stats.max)
    }
    expect(result.histograms.map((h) => h.histogram.totalCount)).toEqual([1_800, 1_800])

    // The exact configuration, the machine and the versions travel with the figures.
    expect(summary.config).toMatchObject({
      mode: 'produce', topic: 'perf-produce', numRecords: 2_000, durationMs: null, recordSize: 120, throughput: 2_000,
      acks: 1, compression: 'lz4', batchSize: 16_384, lingerMs: 5, producers: 2, partitions: 3, warmupRecords: 200,
      reportIntervalMs: 250, maxInFlight: 5, target: 'in-memory test target',
    })
    expect(summary.versions.shardlog).toBe(JSON.parse(await readFile('package.json', 'utf8')).version)
    expect(summary.versions.node).toBe(process.version)
    expect(summary.machine.cpus.count).toBe(os.cpus().length)
    expect(summary.machine.memory.totalBytes).toBe(os.totalmem())
    expect(summary.machine.os.platform).toBe(os.platform())
    expect(Date.parse(summary.date)).not.toBeNaN()

    // Every acknowledged record is in exactly one interval.
    expect(intervals.length).toBeGreaterThanOrEqual(2)
    expect(intervals.reduce((sum, iv) => sum + iv.records, 0)).toBe(2_000)
    expect(summary.intervals).toEqual(JSON.parse(JSON.stringify(intervals)))
    expect(intervals[0]!.warmup).toBe(true)

    expectRunFiles(dir, ['produce-latency', 'service-time'])
    expect(result.files?.hgrm.map((f) => path.basename(f))).toEqual(['produce-latency.hgrm', 'service-time.hgrm'])
  })

  it('runs for --duration without a schedule and says that latency is not corrected', async () => {
    const target = new InMemoryPerfTarget()
    const result = await runLoadTest({ target, mode: 'produce', topic: 'perf-duration', durationMs: 300, batchSize: 1_000, recordSize: 100, reportIntervalMs: 100 })
    const { summary } = result
    expect(summary.config.numRecords).toBeNull()
    expect(summary.records.requested).toBeNull()
    expect(summary.records.acked).toBe(target.countRecords('perf-duration'))
    expect(summary.records.acked).toBeGreaterThan(0)
    // batch.size 1000 bytes / 100-byte records: batches of 10.
    expect(target.largestBatch).toBe(10)
    expect(summary.coordinatedOmission.corrected).toBe(false)
    expect(summary.latency.map((l) => l.id)).toEqual(['produce-latency'])
    expect(result.files).toBeNull()
  })

  it('counts failed sends and keeps their errors', async () => {
    const target = new InMemoryPerfTarget({ failSends: new Error('broker on fire') })
    const { summary } = await runLoadTest({ target, mode: 'produce', topic: 'perf-fail', numRecords: 50, batchSize: 1_000, recordSize: 100 })
    expect(summary.records).toMatchObject({ sent: 50, acked: 0, failed: 50 })
    expect(summary.errors).toEqual({ count: 50, messages: ['Error: broker on fire'] })
    expect(summary.latency[0]!.stats.count).toBe(0)
  })

  it('stops early when aborted and summarises what was done', async () => {
    const target = new InMemoryPerfTarget()
    const abort = new AbortController()
    setTimeout(() => abort.abort(), 150)
    const { summary } = await runLoadTest({ target, mode: 'produce', topic: 'perf-abort', numRecords: 1_000_000, throughput: 1_000, signal: abort.signal })
    expect(summary.stoppedEarly).toBe('aborted')
    expect(summary.records.acked).toBe(target.countRecords('perf-abort'))
    expect(summary.records.acked).toBeLessThan(1_000_000)
  })
})

describe('perf > runLoadTest > consume', () => {
  it('receives exactly numRecords from a filled topic and writes every output file', async () => {
    const dir = await tempDir()
    const target = new InMemoryPerfTarget()
    await target.createTopic('perf-consume', 4)
    target.fill('perf-consume', 5_000, 64)
    const result = await runLoadTest({ target, mode: 'consume', topic: 'perf-consume', numRecords: 4_500, groupId: 'g1', warmupRecords: 500, outDir: dir })
    const summary = await readSummary(dir)
    expect(summary.records).toEqual({ requested: 4_500, received: 4_500, warmup: 500, measured: 4_000 })
    expect(summary.throughput.bytes).toBe(4_000 * 64)
    expect(summary.timeToFirstRecordMs).toBeGreaterThanOrEqual(0)
    expect(summary.stoppedEarly).toBeNull()
    expect(summary.coordinatedOmission.corrected).toBe(false)
    expect(target.consumerOptions).toEqual([{ topic: 'perf-consume', groupId: 'g1', fromBeginning: true }])
    expect(target.openConsumers).toBe(0)
    expect(result.summary.intervals.reduce((sum, iv) => sum + iv.records, 0)).toBe(4_500)
    expectRunFiles(dir, ['fetch-wait'])
  })

  it('ends with an idle timeout when the topic holds fewer records than asked for', async () => {
    const target = new InMemoryPerfTarget()
    await target.createTopic('perf-short', 1)
    target.fill('perf-short', 100, 10)
    const { summary } = await runLoadTest({ target, mode: 'consume', topic: 'perf-short', numRecords: 1_000, idleTimeoutMs: 200 })
    expect(summary.records.received).toBe(100)
    expect(summary.stoppedEarly).toMatch(/^idle timeout: no record for \d+\.\d s$/)
  })
})

describe('perf > runLoadTest > e2e', () => {
  it('receives every record it sent once, measures end-to-end latency and writes every output file', async () => {
    const dir = await tempDir()
    const target = new InMemoryPerfTarget()
    // Records of an earlier run on the same topic must not be counted.
    await target.createTopic('perf-e2e', 2)
    target.fill('perf-e2e', 300, 32)
    const result = await runLoadTest({ target, mode: 'e2e', topic: 'perf-e2e', numRecords: 1_500, recordSize: 48, throughput: 1_500, warmupMs: 200, outDir: dir })
    const summary = await readSummary(dir)
    expect(target.countRecords('perf-e2e')).toBe(300 + 1_500)
    expect(summary.records).toMatchObject({ requested: 1_500, sent: 1_500, acked: 1_500, failed: 0, received: 1_500, duplicates: 0, missing: 0 })
    expect(summary.records.warmup + summary.records.measured).toBe(1_500)
    // 200 ms of a 1,500 records/s schedule is warmup: records 0..299.
    expect(summary.records.warmup).toBe(300)
    expect(summary.throughput.bytes).toBe(1_200 * 48)
    expect(summary.primaryLatency).toBe('e2e-latency')
    const e2e = summary.latency.find((l) => l.id === 'e2e-latency')!
    const produce = summary.latency.find((l) => l.id === 'produce-latency')!
    expect(e2e.stats.count).toBe(1_200)
    expect(produce.stats.count).toBe(1_200)
    expect(e2e.coordinatedOmissionCorrected).toBe(true)
    expect(result.histograms[0]!.histogram.totalCount).toBe(1_200)
    expectRunFiles(dir, ['e2e-latency', 'produce-latency'])
  })
})

describe('perf > runLoadTest > e2e > redelivery', () => {
  it('counts records delivered twice as duplicates, not as received', async () => {
    const target = new InMemoryPerfTarget({ redeliver: true })
    const { summary } = await runLoadTest({ target, mode: 'e2e', topic: 'perf-dup', numRecords: 200, recordSize: 16, batchSize: 160 })
    expect(summary.records).toMatchObject({ acked: 200, received: 200, duplicates: 200, missing: 0 })
    expect(summary.latency[0]!.stats.count).toBe(200)
  })
})

describe('perf > resolveLoadTestConfig', () => {
  const target = new InMemoryPerfTarget()
  const base = { target, mode: 'produce' as const, topic: 't', numRecords: 10 }

  it('applies Kafka-like defaults', () => {
    expect(resolveLoadTestConfig(base)).toMatchObject({
      recordSize: 100, throughput: -1, acks: -1, compression: 'none', batchSize: 16_384, lingerMs: 5,
      producers: 1, partitions: 1, maxInFlight: 5, reportIntervalMs: 1_000, idleTimeoutMs: 10_000,
      label: 'produce · none · acks=all · in-memory test target',
    })
  })

  it.each([
    [{ numRecords: undefined }, /exactly one of numRecords/],
    [{ durationMs: 1_000 }, /exactly one of numRecords/],
    [{ numRecords: 0 }, /numRecords must be an integer >= 1/],
    [{ numRecords: 1.5 }, /numRecords must be an integer/],
    [{ throughput: 0 }, /throughput must be -1/],
    [{ acks: 2 as never }, /acks must be -1, 0 or 1/],
    [{ compression: 'brotli' as never }, /compression must be one of/],
    [{ recordSize: 0 }, /recordSize must be an integer >= 1/],
    [{ mode: 'e2e' as const, recordSize: 8 }, /recordSize must be an integer >= 16/],
    [{ warmupRecords: 10 }, /warmupRecords \(10\) must be less than numRecords/],
    [{ producers: 0 }, /producers must be an integer >= 1/],
    [{ topic: '' }, /topic is required/],
    [{ mode: 'replay' as never }, /mode must be produce, consume or e2e/],
  ])('rejects %j', (patch, message) => {
    const attempt = (): unknown => resolveLoadTestConfig({ ...base, ...patch })
    expect(attempt).toThrow(InvalidConfigError)
    expect(attempt).toThrow(message)
  })

  it('rejects bad options before touching the target', async () => {
    const untouched = new InMemoryPerfTarget()
    await expect(runLoadTest({ ...base, target: untouched, numRecords: -1 })).rejects.toThrow(InvalidConfigError)
    expect(untouched.producerOptions).toHaveLength(0)
    expect(untouched.topics.size).toBe(0)
  })
})
