/**
 * The JSON the system benchmarks write (`results.json`) and BENCHMARKS.md is regenerated
 * from. Rates are per second; MB = 10^6 bytes; latencies in µs.
 */
import type { MachineDescription, RunEnvironment } from './machine.js'
import type { Sample } from './stats.js'

/** Producer settings a throughput run used (Kafka's names where they exist). */
export interface ProduceSettings {
  partitions: number
  shards: number
  acks: -1 | 0 | 1
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  lingerMs: number
  batchSize: number
  maxInFlightRequests: number
  messagesPerSend: number
  sendsInFlight: number
  partitioning: 'sticky' | 'spread'
  recordBytes: number
  durationMs: number
}

/** `throughput`: produce at full speed next to raw writes, then consume next to raw reads. */
export interface ThroughputResult {
  settings: ProduceSettings
  produce: {
    recordsPerSec: Sample
    /** Value bytes per second. */
    mbPerSec: Sample
    /** Segment bytes written per second (records with their framing). */
    diskMbPerSec: Sample
    /** CPU time of the whole process (every thread) per second of the run, in cores. */
    cpuCores: Sample
    /** Segment bytes per record (value + record and batch framing). */
    diskBytesPerRecord: number
    /** Average RecordBatch size on disk: the chunk size of the raw writes. */
    batchBytes: number
  }
  rawWrite: { mbPerSec: Sample }
  consume: {
    recordsPerSec: Sample
    mbPerSec: Sample
    timeToFirstBatchMs: Sample
    /** CPU time of the whole process (every thread) per second of the run, in cores. */
    cpuCores: Sample
    records: number
    maxBytes: number
    maxBytesPerPartition: number
  }
  /** The same consume in a process started with `nodeFlags` (a larger young generation). */
  consumeTuned: { nodeFlags: readonly string[]; recordsPerSec: Sample; cpuCores: Sample }
  rawRead: { mbPerSec: Sample; recordsPerSec: Sample }
  decodeOnly: { recordsPerSec: Sample }
}

/** Latency percentiles over the runs, µs. */
export interface Percentiles {
  p50: Sample
  p99: Sample
  p999: Sample
  max: Sample
}

/** Latency percentiles of the e2e runs, µs, with what was measured. */
export interface LatencyFigures extends Percentiles {
  /** Records measured (warmup excluded), per run. */
  count: Sample
  /** Achieved rate, records/s. */
  recordsPerSec: Sample
  /** Acknowledged records never received, per run. */
  missing: Sample
}

/** `e2e`: produce -> eachMessage latency at a fixed rate, next to the loopback floor. */
export interface E2eResult {
  settings: { recordsPerSec: number; durationMs: number; warmupMs: number; partitions: number; shards: number; acks: -1 | 0 | 1; lingerMs: number; batchSize: number; recordBytes: number; harness: string }
  /** Through {@link ClusterPerfTarget}: the consumer's eachMessage. */
  shardlog: LatencyFigures
  /** Through src/perf's embeddedTarget: the consumer's eachBatch. */
  shardlogEachBatch: LatencyFigures
  /** The eachMessage runs' produce latency: intended send time to acknowledgement (acks=1). */
  shardlogProduce: Percentiles
  /** eachMessage again, with one shard and the threads busy polling (`busyPollUs`); absent in results from before it. */
  shardlogBusyPoll?: LatencyFigures & {
    shards: number
    busyPollUs: number
    /** The bare round trip with the worker spinning and the main thread polling (thread-hop.ts, mode `poll`). */
    threadHop?: Percentiles
  }
  /** The busy-poll run again in a process started with `nodeFlags` (the README's latency flags); absent in results from before it. */
  shardlogBusyPollTuned?: LatencyFigures & { shards: number; busyPollUs: number; nodeFlags: string[] }
  /** eachMessage with `shards: 0`: every partition on the main thread, no shard workers; absent in results from before it. */
  shardlogMainThread?: LatencyFigures
  /** The `shards: 0` run again in a process started with `nodeFlags` (a small young generation); absent in results from before it. */
  shardlogMainThreadTuned?: LatencyFigures & { nodeFlags: string[] }
  loopback: LatencyFigures
  /** Main -> worker -> main round trips through Atomics.notify/wait at 10,000/s (see thread-hop.ts). */
  threadHop: Percentiles & { ratePerSec: number }
}

/** `partitions`: produce throughput as the partition count grows. */
export interface PartitionsResult {
  settings: Omit<ProduceSettings, 'partitions'>
  rows: Array<{ partitions: number; recordsPerSec: Sample; mbPerSec: Sample }>
}

/** `codecs`: produce throughput per codec and per acks, next to encoding alone. */
export interface CodecsResult {
  settings: Omit<ProduceSettings, 'compression' | 'acks'>
  rows: Array<{
    codec: ProduceSettings['compression']
    acks: -1 | 0 | 1
    recordsPerSec: Sample
    mbPerSec: Sample
    diskBytesPerRecord: number
    /** RecordBatch encoding (with compression) of producer-sized batches alone, 4 at a time. */
    encodeOnlyRecordsPerSec: Sample
  }>
}

/** Every benchmark's result, by name. */
export interface BenchmarkResults {
  throughput?: ThroughputResult
  e2e?: E2eResult
  partitions?: PartitionsResult
  codecs?: CodecsResult
}

/** The name of a system benchmark. */
export type BenchmarkName = keyof BenchmarkResults

/** `results.json`. */
export interface SystemResults {
  format: 'shardlog-bench-system'
  formatVersion: 1
  /** ISO 8601 start of the run. */
  date: string
  machine: MachineDescription
  runs: number
  quick: boolean
  results: BenchmarkResults
  /** Benchmarks that failed, with their error. */
  failures: Partial<Record<BenchmarkName, string>>
  /** Seconds each benchmark took. */
  durationsSec: Partial<Record<BenchmarkName, number>>
  /** CPU used by each benchmark's process and by every other process meanwhile. */
  environment: Partial<Record<BenchmarkName, RunEnvironment>>
}
