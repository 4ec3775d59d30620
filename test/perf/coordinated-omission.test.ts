import { describe, expect, it } from 'vitest'
import { runLoadTest } from '../../src/perf/run-load-test.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

const STALL_MS = 200

describe('perf > coordinated omission', () => {
  it('charges the records held back by a stall on a fixed schedule, which the uncorrected service time hides', async () => {
    // 1,000 records/s for 1.5 s; 500 ms in, the target holds every send for 200 ms. With one
    // send in flight the generator cannot send during the stall: about 200 records fall behind
    // their schedule (13% of the run), while only the one held send sees the stall itself.
    // One record per batch (batch.size = the record size): a send that happens to go out late,
    // on a busy machine, cannot carry a dozen records into the stall with it.
    const target = new InMemoryPerfTarget({ stall: { afterMs: 500, durationMs: STALL_MS } })
    const { summary } = await runLoadTest({
      target,
      mode: 'produce',
      topic: 'perf-stall',
      numRecords: 1_500,
      throughput: 1_000,
      recordSize: 100,
      batchSize: 100,
      lingerMs: 0,
      maxInFlight: 1,
    })
    expect(summary.records.acked).toBe(1_500)
    expect(target.largestBatch).toBe(1)
    expect(target.heldRecords).toBe(1)
    const corrected = summary.latency.find((l) => l.id === 'produce-latency')!
    const uncorrected = summary.latency.find((l) => l.id === 'service-time')!
    expect(corrected.coordinatedOmissionCorrected).toBe(true)
    expect(uncorrected.coordinatedOmissionCorrected).toBe(false)

    // The stall shows in the corrected tail: p99 falls among the records that waited longest.
    expect(corrected.stats.p99).toBeGreaterThanOrEqual(STALL_MS * 0.8)
    expect(corrected.stats.max).toBeGreaterThanOrEqual(STALL_MS * 0.95)
    // Measured from the send call, only the one held send saw the stall: the p99 stays low.
    expect(uncorrected.stats.p99).toBeLessThan(STALL_MS / 2)
    expect(uncorrected.stats.p99).toBeLessThan(corrected.stats.p99)
    expect(summary.coordinatedOmission.note).toMatch(/intended send time on the fixed 1,000 records\/s schedule/)
  })
})
