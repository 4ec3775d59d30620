/**
 * The producing side of a load test: K producers sending records on a schedule, batching them
 * as Kafka's RecordAccumulator does, with a bounded number of sends in flight.
 *
 * Coordinated omission. With a target throughput the schedule is fixed before the run: record
 * `g` (0-based over all producers) is due at `start + g / throughput`. Its latency is measured
 * from that intended time, not from when `send` was finally called, so when the target stalls
 * and the generator cannot send (all `maxInFlight` slots busy), the records that should have
 * gone out during the stall are charged the time they waited. Without a target throughput
 * (`-1`) there is no schedule; a record is created when a send slot frees up and its latency
 * is measured from then, as Kafka's ProducerPerformance does.
 *
 * Batching. A batch holds at most `floor(batchSize / recordSize)` records (Kafka's
 * `batch.size`, in bytes) and is sent when it is full or `lingerMs` after its first record was
 * due (Kafka's `linger.ms`), whichever comes first. Each batch is one `PerfProducer.send` call.
 *
 * Each producer is an async loop on the main thread; producers share nothing but the sink.
 */
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises'
import { performance } from 'node:perf_hooks'
import type { PerfMessage, PerfProducer } from './target.js'

/** The harness's monotonic clock in ms (sub-µs resolution; `performance.now`, backed by hrtime). */
export const monotonicNowMs = (): number => performance.now()

/** Converts a {@link monotonicNowMs} reading to ms since the epoch. */
export const epochMsOf = (monotonicMs: number): number => performance.timeOrigin + monotonicMs

/** A batch handed to `PerfProducer.send`, as reported to the {@link ProduceSink}. */
export interface SentBatch {
  /** Index of the producer that sent it. */
  producer: number
  /** Intended send time of each record (monotonic ms), in record order. */
  intendedMs: number[]
  /** Leading records of the batch that are warmup (excluded from the figures). */
  warmupCount: number
  /** When `send` was called (monotonic ms). */
  sentAtMs: number
  /** Key and value bytes of the batch. */
  bytes: number
}

/** Receives the outcome of each batch. */
export interface ProduceSink {
  acked(batch: SentBatch, ackedAtMs: number): void
  failed(batch: SentBatch, error: unknown): void
}

/** Builds the value of record `index` (0-based over all producers) intended to be sent at `intendedMs`. */
export type ValueBuilder = (index: number, intendedMs: number) => Buffer

/** Settings of a {@link ProduceLoad}. */
export interface ProduceLoadOptions {
  topic: string
  /** One PerfProducer per simulated producer. */
  producers: readonly PerfProducer[]
  /** Value bytes per record. */
  recordSize: number
  /** Records to send over all producers; `undefined` to run for `durationMs`. */
  numRecords: number | undefined
  /** How long to send for, in ms; `undefined` to send `numRecords`. */
  durationMs: number | undefined
  /** Target records/s over all producers; -1 for as fast as possible. */
  throughput: number
  /** Kafka's `batch.size` in bytes. */
  batchSize: number
  /** Kafka's `linger.ms`. */
  lingerMs: number
  /** Sends in flight per producer (Kafka's `max.in.flight.requests.per.connection`). */
  maxInFlight: number
  /** The first records (by index) that are warmup. */
  warmupRecords: number
  /** Records intended before `startMs + warmupMs` are warmup. */
  warmupMs: number
  /** Schedule origin (monotonic ms). */
  startMs: number
  value: ValueBuilder
  sink: ProduceSink
  /** Stops creating records when aborted; sends in flight are still awaited. */
  signal?: AbortSignal
}

/**
 * Decides whether record `index` (0-based over all producers), intended `sinceStartMs` after the
 * start, is warmup. On a schedule the warmup time is converted to a record count so that the
 * producer and the e2e consumer, which sees only the stamped index, agree exactly.
 */
export function warmupRule(o: { warmupRecords: number; warmupMs: number; throughput: number }): (index: number, sinceStartMs: number) => boolean {
  if (o.throughput > 0) {
    // The tolerance keeps 200 ms at 1,500 records/s at 300 records despite binary fractions.
    const limit = Math.max(o.warmupRecords, Math.ceil((o.warmupMs * o.throughput) / 1000 - 1e-6))
    return (index) => index < limit
  }
  return (index, sinceStartMs) => index < o.warmupRecords || sinceStartMs < o.warmupMs
}

/** Records per batch for `batch.size` bytes: at least one, as Kafka sends an oversized record alone. */
export function recordsPerBatch(batchSize: number, recordSize: number): number {
  return Math.max(1, Math.floor(batchSize / Math.max(1, recordSize)))
}

/** Records producer `producer` of `producers` sends when `total` are split evenly (the first ones take the remainder). */
export function recordsForProducer(total: number, producers: number, producer: number): number {
  return Math.floor(total / producers) + (producer < total % producers ? 1 : 0)
}

/**
 * Sleeps until the monotonic clock reaches `dueMs`. Timers sleep to within about a
 * millisecond; the rest is spent yielding to the event loop so that sends are not late by a
 * whole timer tick (lateness would be charged to the target as latency).
 */
async function sleepUntil(dueMs: number, signal: AbortSignal | undefined): Promise<void> {
  for (;;) {
    if (signal?.aborted) return
    const remaining = dueMs - monotonicNowMs()
    if (remaining <= 0) return
    if (remaining > 1.5) await sleep(Math.floor(remaining - 1))
    else await immediate()
  }
}

/** Runs the producing side of a load test; see the module comment. */
export class ProduceLoad {
  private readonly options: ProduceLoadOptions
  /** A sink that throws has a bug; the first such error ends the run once sends settle. */
  private sinkError: unknown

  constructor(options: ProduceLoadOptions) {
    this.options = options
  }

  /** Sends every record (or sends until the duration is over) and waits for all acknowledgements. */
  async run(): Promise<void> {
    const { producers } = this.options
    await Promise.all(producers.map((producer, index) => this.runProducer(producer, index)))
  }

  private async runProducer(producer: PerfProducer, p: number): Promise<void> {
    const o = this.options
    const k = o.producers.length
    const limit = o.numRecords === undefined ? Number.POSITIVE_INFINITY : recordsForProducer(o.numRecords, k, p)
    const endMs = o.durationMs === undefined ? Number.POSITIVE_INFINITY : o.startMs + o.durationMs
    const perBatch = recordsPerBatch(o.batchSize, o.recordSize)
    const scheduled = o.throughput > 0
    const intervalMs = scheduled ? 1000 / o.throughput : 0
    // Record j of producer p is record g = j*k + p overall: producers interleave on one schedule.
    const intendedOf = (j: number): number => o.startMs + (j * k + p) * intervalMs
    // A count and one waiter instead of a Set of the sends' promises: a long-lived Set with an
    // add and a delete per send fills the old generation with rehashed tables (see RequestTable).
    let inFlight = 0
    let onSettled: (() => void) | undefined
    const settled = (): void => {
      inFlight--
      const wake = onSettled
      onSettled = undefined
      wake?.()
    }
    const oneSettled = (): Promise<void> => new Promise((resolve) => { onSettled = resolve })
    let j = 0

    while (j < limit && !o.signal?.aborted && this.sinkError === undefined) {
      if (inFlight >= o.maxInFlight) {
        await oneSettled()
        continue
      }
      const intended: number[] = []
      if (scheduled) {
        const firstMs = intendedOf(j)
        if (firstMs >= endMs) break
        const fillMs = intendedOf(Math.min(j + perBatch, limit) - 1)
        await sleepUntil(Math.min(firstMs + o.lingerMs, fillMs), o.signal)
        if (o.signal?.aborted) break
        const now = monotonicNowMs()
        // Everything already due goes out now: after a stall this drains the backlog in full batches.
        while (intended.length < perBatch && j + intended.length < limit) {
          const t = intendedOf(j + intended.length)
          if (t > now || t >= endMs) break
          intended.push(t)
        }
      } else {
        const now = monotonicNowMs()
        if (now >= endMs) break
        const n = Math.min(perBatch, limit - j)
        for (let i = 0; i < n; i++) intended.push(now)
      }
      const batch = this.buildBatch(p, j, intended)
      j += intended.length
      inFlight++
      void this.dispatch(producer, batch.sent, batch.messages).then(settled)
    }
    while (inFlight > 0) await oneSettled()
    if (this.sinkError !== undefined) throw this.sinkError
  }

  private buildBatch(p: number, firstJ: number, intendedMs: number[]): { sent: SentBatch; messages: PerfMessage[] } {
    const o = this.options
    const k = o.producers.length
    const isWarmup = warmupRule(o)
    const messages: PerfMessage[] = new Array(intendedMs.length)
    let warmupCount = 0
    let bytes = 0
    for (let i = 0; i < intendedMs.length; i++) {
      const index = (firstJ + i) * k + p
      const t = intendedMs[i]!
      // Warmup is a prefix of the run: the rule only ever turns from true to false.
      if (isWarmup(index, t - o.startMs)) warmupCount = i + 1
      const value = o.value(index, t)
      messages[i] = { key: null, value }
      bytes += value.length
    }
    return { sent: { producer: p, intendedMs, warmupCount, sentAtMs: 0, bytes }, messages }
  }

  private dispatch(producer: PerfProducer, batch: SentBatch, messages: PerfMessage[]): Promise<void> {
    const { sink, topic } = this.options
    batch.sentAtMs = monotonicNowMs()
    let sending: Promise<void>
    try {
      sending = producer.send(topic, messages)
    } catch (err) {
      // A target that throws synchronously is treated like one that rejects.
      sending = Promise.reject(err)
    }
    // Never rejects: outcomes go to the sink, so no send promise is ever left unhandled.
    return sending
      .then(
        () => sink.acked(batch, monotonicNowMs()),
        (err: unknown) => sink.failed(batch, err),
      )
      .catch((err: unknown) => {
        this.sinkError ??= err
      })
  }
}

/**
 * Payload of produce-mode records: `size` random upper-case letters, generated once and
 * shared by every record, as Kafka's ProducerPerformance does (compressible like text, unlike
 * random bytes).
 */
export function randomTextPayload(size: number): Buffer {
  const payload = Buffer.allocUnsafe(size)
  for (let i = 0; i < size; i++) payload[i] = 65 + Math.floor(Math.random() * 26)
  return payload
}

/**
 * End-to-end stamp at the start of every e2e record value (16 bytes, big-endian):
 *
 * ```
 * [0..4)   run id            uint32  random per run: records of other runs on the topic are ignored
 * [4..10)  record index      uint48  0-based over all producers: counts duplicates and losses
 * [10..16) intended send     uint48  µs since the run's monotonic origin (hrtime-based clock)
 * ```
 *
 * Producer and consumer run in the same process, so one monotonic clock serves both ends.
 */
export const E2E_STAMP_BYTES = 16

/** The decoded {@link E2E_STAMP_BYTES} stamp of an e2e record. */
export interface E2eStamp {
  runId: number
  index: number
  /** Intended send time, µs since the run's origin. */
  sentUs: number
}

/** Writes an e2e stamp into the first 16 bytes of `value`. */
export function writeE2eStamp(value: Buffer, stamp: E2eStamp): void {
  value.writeUInt32BE(stamp.runId >>> 0, 0)
  value.writeUIntBE(stamp.index, 4, 6)
  value.writeUIntBE(Math.max(0, Math.round(stamp.sentUs)), 10, 6)
}

/** Reads the e2e stamp of `value`, or `null` when it is too short to hold one. */
export function readE2eStamp(value: Buffer | null): E2eStamp | null {
  if (value === null || value.length < E2E_STAMP_BYTES) return null
  return { runId: value.readUInt32BE(0), index: value.readUIntBE(4, 6), sentUs: value.readUIntBE(10, 6) }
}
