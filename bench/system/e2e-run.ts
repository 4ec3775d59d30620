/**
 * One run of the e2e workload through the load-test harness (`runLoadTest`, mode `e2e`), and
 * what the e2e benchmark keeps of it. Shared by e2e-latency.ts and e2e-process.ts (the same
 * run in a process started with other Node flags).
 */
import { runLoadTest, type LoadTestOptions } from '../../src/perf/run-load-test.js'
import type { LatencyStats } from '../../src/perf/histograms.js'
import type { PerfTarget } from '../../src/perf/target.js'
import type { E2eResult } from './results.js'

/** What one run measured. */
export interface RunFigures {
  stats: LatencyStats
  produce: LatencyStats | undefined
  recordsPerSec: number
  missing: number
}

/** Runs the e2e workload of `settings` against `target` on `topic`. */
export async function runE2eOnce(target: PerfTarget, settings: E2eResult['settings'], topic: string): Promise<RunFigures> {
  const options: LoadTestOptions = {
    target,
    mode: 'e2e',
    topic,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    recordSize: settings.recordBytes,
    throughput: settings.recordsPerSec,
    acks: settings.acks,
    compression: 'none',
    batchSize: settings.batchSize,
    lingerMs: settings.lingerMs,
    partitions: settings.partitions,
    idleTimeoutMs: 10_000,
  }
  const result = await runLoadTest(options)
  const e2e = result.summary.latency.find((l) => l.id === 'e2e-latency')
  if (!e2e) throw new Error('the e2e run reported no e2e-latency series')
  if (result.summary.errors.count > 0) throw new Error(`e2e run failed: ${result.summary.errors.messages.join('; ')}`)
  const produce = result.summary.latency.find((l) => l.id === 'produce-latency')?.stats
  return { stats: e2e.stats, produce, recordsPerSec: result.summary.throughput.recordsPerSec, missing: result.summary.records.missing ?? 0 }
}
