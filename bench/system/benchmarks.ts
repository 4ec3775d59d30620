/** The system benchmarks by name, in the order `npm run bench:system` runs them. */
import { runCodecs } from './codecs.js'
import { runE2eLatency } from './e2e-latency.js'
import type { SystemBenchOptions } from './options.js'
import { runPartitions } from './partitions.js'
import type { BenchmarkName, BenchmarkResults } from './results.js'
import { runThroughput } from './throughput.js'

/** Runs one benchmark and returns its result. */
export type BenchmarkRunner<N extends BenchmarkName> = (o: SystemBenchOptions) => Promise<NonNullable<BenchmarkResults[N]>>

/** Every benchmark, in running order. */
export const kBenchmarks: { [N in BenchmarkName]: { runner: BenchmarkRunner<N>; title: string } } = {
  throughput: { runner: runThroughput, title: 'produce and consume throughput' },
  e2e: { runner: runE2eLatency, title: 'end-to-end latency at 100,000 records/s' },
  partitions: { runner: runPartitions, title: 'throughput from 1 to 1,000 partitions' },
  codecs: { runner: runCodecs, title: 'codecs and acks' },
}

/** Names of every benchmark, in running order. */
export const kBenchmarkNames = Object.keys(kBenchmarks) as BenchmarkName[]

/** Whether `name` is a benchmark's name. */
export function isBenchmarkName(name: string): name is BenchmarkName {
  return Object.hasOwn(kBenchmarks, name)
}
