import { setImmediate as immediate } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import {
  E2E_STAMP_BYTES,
  monotonicNowMs,
  ProduceLoad,
  type ProduceLoadOptions,
  type ProduceSink,
  randomTextPayload,
  readE2eStamp,
  recordsForProducer,
  recordsPerBatch,
  type SentBatch,
  warmupRule,
  writeE2eStamp,
} from '../../src/perf/load-generator.js'
import type { PerfMessage, PerfProducer } from '../../src/perf/target.js'

/** A producer that records what it was sent and counts sends in flight. */
class RecordingProducer implements PerfProducer {
  readonly batches: PerfMessage[][] = []
  inFlight = 0
  maxInFlight = 0
  async send(_topic: string, messages: PerfMessage[]): Promise<void> {
    this.batches.push(messages)
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    await immediate()
    await immediate()
    this.inFlight--
  }
  async close(): Promise<void> {}
}

class CollectingSink implements ProduceSink {
  readonly acks: Array<{ batch: SentBatch; ackedAtMs: number }> = []
  readonly failures: unknown[] = []
  acked(batch: SentBatch, ackedAtMs: number): void {
    this.acks.push({ batch, ackedAtMs })
  }
  failed(_batch: SentBatch, error: unknown): void {
    this.failures.push(error)
  }
}

function options(patch: Partial<ProduceLoadOptions>): ProduceLoadOptions {
  return {
    topic: 't',
    producers: [new RecordingProducer()],
    recordSize: 16,
    numRecords: 100,
    durationMs: undefined,
    throughput: -1,
    batchSize: 160,
    lingerMs: 0,
    maxInFlight: 5,
    warmupRecords: 0,
    warmupMs: 0,
    startMs: monotonicNowMs(),
    value: () => Buffer.alloc(16),
    sink: new CollectingSink(),
    ...patch,
  }
}

describe('perf > load-generator', () => {
  it('splits records and batches like Kafka sizes them', () => {
    expect(recordsPerBatch(16_384, 100)).toBe(163)
    expect(recordsPerBatch(0, 100)).toBe(1) // batch.size=0 disables batching
    expect(recordsPerBatch(50, 100)).toBe(1) // an oversized record goes alone
    expect([0, 1, 2].map((p) => recordsForProducer(10, 3, p))).toEqual([4, 3, 3])
    expect([0, 1, 2].map((p) => recordsForProducer(2, 3, p))).toEqual([1, 1, 0])
  })

  it('round-trips the e2e stamp and refuses values too short for one', () => {
    const value = Buffer.alloc(E2E_STAMP_BYTES + 4)
    writeE2eStamp(value, { runId: 0xdeadbeef, index: 2 ** 40 + 7, sentUs: 123_456_789.4 })
    expect(readE2eStamp(value)).toEqual({ runId: 0xdeadbeef, index: 2 ** 40 + 7, sentUs: 123_456_789 })
    expect(readE2eStamp(Buffer.alloc(E2E_STAMP_BYTES - 1))).toBeNull()
    expect(readE2eStamp(null)).toBeNull()
  })

  it('makes compressible text payloads of the asked size', () => {
    const payload = randomTextPayload(1_000)
    expect(payload).toHaveLength(1_000)
    expect([...payload].every((b) => b >= 65 && b <= 90)).toBe(true)
  })

  it('converts warmup time to a record count on a schedule', () => {
    const scheduled = warmupRule({ warmupRecords: 0, warmupMs: 200, throughput: 1_500 })
    expect(scheduled(299, 0)).toBe(true)
    expect(scheduled(300, 0)).toBe(false)
    const unscheduled = warmupRule({ warmupRecords: 5, warmupMs: 100, throughput: -1 })
    expect(unscheduled(4, 500)).toBe(true)
    expect(unscheduled(50, 99)).toBe(true)
    expect(unscheduled(50, 100)).toBe(false)
  })

  it('sends every record once, on one fixed schedule interleaved over the producers', async () => {
    const producers = [new RecordingProducer(), new RecordingProducer()]
    const sink = new CollectingSink()
    const sentIndexes: number[] = []
    const startMs = monotonicNowMs()
    await new ProduceLoad(options({
      producers, sink, startMs, numRecords: 101, throughput: 2_000, lingerMs: 5, warmupRecords: 10,
      value: (index) => {
        sentIndexes.push(index)
        return Buffer.alloc(16)
      },
    })).run()
    expect([...sentIndexes].sort((a, b) => a - b)).toEqual(Array.from({ length: 101 }, (_, i) => i))
    expect(producers.map((p) => p.batches.flat().length)).toEqual([51, 50])
    for (const p of producers) expect(Math.max(...p.batches.map((b) => b.length))).toBeLessThanOrEqual(10)
    // Record g of producer p is intended at start + g / throughput, whenever it was really sent.
    for (const { batch } of sink.acks) {
      batch.intendedMs.forEach((t, i) => {
        const g = Math.round(((t - startMs) * 2_000) / 1_000)
        expect(t).toBeCloseTo(startMs + g / 2, 9)
        expect(g % 2).toBe(batch.producer)
        // The first 10 records overall are warmup, and warmup is a prefix of each batch.
        expect(i < batch.warmupCount).toBe(g < 10)
      })
      expect(batch.bytes).toBe(batch.intendedMs.length * 16)
    }
    expect(sink.acks.reduce((sum, a) => sum + a.batch.intendedMs.length, 0)).toBe(101)
  })

  it('keeps at most maxInFlight sends outstanding per producer', async () => {
    const producer = new RecordingProducer()
    await new ProduceLoad(options({ producers: [producer], numRecords: 200, batchSize: 16, maxInFlight: 3 })).run()
    expect(producer.batches).toHaveLength(200)
    expect(producer.maxInFlight).toBe(3)
  })

  it('without a schedule, stamps each batch with its creation time and stops at the duration', async () => {
    const sink = new CollectingSink()
    await new ProduceLoad(options({ sink, numRecords: undefined, durationMs: 50 })).run()
    expect(sink.acks.length).toBeGreaterThan(0)
    for (const { batch } of sink.acks) {
      expect(batch.intendedMs).toHaveLength(10)
      expect(new Set(batch.intendedMs).size).toBe(1)
      expect(batch.intendedMs[0]).toBeLessThanOrEqual(batch.sentAtMs)
    }
  })

  it('reports rejected sends to the sink and carries on', async () => {
    const sink = new CollectingSink()
    const failing: PerfProducer = { send: () => Promise.reject(new Error('nope')), close: async () => {} }
    await new ProduceLoad(options({ sink, producers: [failing], numRecords: 30 })).run()
    expect(sink.failures).toHaveLength(3)
  })

  it('ends the run with the error of a sink that throws', async () => {
    const sink: ProduceSink = { acked: () => { throw new Error('sink bug') }, failed: () => {} }
    await expect(new ProduceLoad(options({ sink, numRecords: 1_000 })).run()).rejects.toThrow('sink bug')
  })
})
