/**
 * Settings shared by the system benchmarks. `quick` shortens every run for a smoke test; the
 * defaults are what BENCHMARKS.md quotes.
 */
import type { ProduceSettings } from './results.js'
import { kRecordBytes } from './workload.js'

/** Options every benchmark receives. */
export interface SystemBenchOptions {
  /** Repetitions of each measurement; the median is quoted. */
  runs: number
  /** Short runs (smoke test); figures are not for quoting. */
  quick: boolean
}

/** Length of each full-speed produce run, ms. */
export function produceDurationMs(o: SystemBenchOptions): number {
  return o.quick ? 1000 : 3000
}

/**
 * The producer configuration of the throughput figures: 100-byte records, 8 partitions,
 * acks=1, no compression, 2 shards, and batching that lets the API go as fast as it can:
 * many messages per `send`, several sends in flight, batches well above Kafka's 16 KiB
 * default, `linger.ms` 5 (Kafka 4.0's default).
 */
export function baseProduceSettings(o: SystemBenchOptions): ProduceSettings {
  return {
    partitions: 8,
    shards: 2,
    acks: 1,
    compression: 'none',
    lingerMs: 5,
    batchSize: 256 * 1024,
    maxInFlightRequests: 5,
    messagesPerSend: 2000,
    sendsInFlight: 8,
    partitioning: 'sticky',
    recordBytes: kRecordBytes,
    durationMs: produceDurationMs(o),
  }
}

/** Records the throughput benchmark's consume reads once before its measured read, to warm up the JIT. */
export const kWarmupRecords = 2_000_000
