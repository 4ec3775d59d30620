/**
 * `e2e`: end-to-end latency (producer.send -> consumer eachMessage) at a fixed 100,000
 * records/s through the load-test harness (`runLoadTest`, mode `e2e`), once through the
 * project's in-process target (`embeddedTarget`, whose consumer uses eachBatch), once
 * through {@link ClusterPerfTarget} (eachMessage, one record per call), and once more with one
 * shard whose threads busy-poll the rings instead of sleeping (`busyPollUs`), that one also
 * in a process started with the README's latency flags (e2e-process.ts), and with `shards: 0`
 * (every partition on the main thread, no shard workers), also in a process with a small young
 * generation: every record's latency
 * runs from its intended send time on the fixed schedule (coordinated omission corrected) to
 * its arrival, recorded in an HDR histogram (hdr-histogram-js, 1 µs resolution). Two floors
 * are measured in the same process right after each run: the same schedule against the
 * {@link LoopbackPerfTarget} (the harness and the event loop alone), and main -> worker -> main
 * round trips through Atomics (thread-hop.ts: what the OS takes to wake a thread, which every
 * produce and fetch pays at least once).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { LatencyStats } from '../../src/perf/histograms.js'
import { embeddedTarget } from '../../src/perf/targets/index.js'
import { startBenchCluster } from './cluster-fixture.js'
import { collectWorkerProfiles } from './cpu-profile.js'
import type { SystemBenchOptions } from './options.js'
import { ClusterPerfTarget, LoopbackPerfTarget } from './perf-targets.js'
import type { E2eResult, LatencyFigures, Percentiles } from './results.js'
import { sampleOf } from './stats.js'
import { runE2eOnce, type RunFigures } from './e2e-run.js'
import { e2eInProcessWithFlags } from './e2e-process.js'
import { measureThreadHops, type HopFigures } from './thread-hop.js'
import { kRecordBytes } from './workload.js'

const kRate = 100_000
const kShards = 2
const kPartitions = 8
/** The low-latency configuration: a core for the shard, one for the main thread, both polling. */
const kBusyPollShards = 1
const kBusyPollUs = 1000
/**
 * Node flags of the tuned busy-poll run (README, latency): no garbage-collector helper
 * threads that would wait for a core the polling threads hold, and a 2 MiB young generation,
 * so that each scavenge is short.
 */
const kLatencyNodeFlags: readonly string[] = ['--single-threaded-gc', '--max-semi-space-size=2', '--min-semi-space-size=2']
/**
 * Node flags of the tuned main-thread run (README, latency). With everything on one thread the
 * scavenges are the pauses every record sees: at 100,000 records/s about one every 12 ms,
 * 0.6–0.8 ms each (p99 2.3 ms) at the default size, though fewer than 1% of the young objects
 * survive. A 4 MiB young generation instead of 16 MiB scavenges more often and more briefly,
 * and `--no-parallel-scavenge` does each one on the main thread alone instead of handing
 * work to helper threads that must first be woken (which on a VM costs what the shard
 * threads' wake-ups cost, and which is what `shards: 0` avoids).
 */
const kMainThreadNodeFlags: readonly string[] = ['--max-semi-space-size=4', '--no-parallel-scavenge']
/** Thread round trips per second for the hop floor: often enough for a p99.9, rarely enough to leave the cores idle between hops. */
const kHopRate = 10_000

/** Percentiles over runs; the harness reports ms, the tables want µs. */
function percentilesOf(stats: LatencyStats[]): Percentiles {
  const us = (pick: (s: LatencyStats) => number): number[] => stats.map((s) => pick(s) * 1000)
  return { p50: sampleOf(us((s) => s.p50)), p99: sampleOf(us((s) => s.p99)), p999: sampleOf(us((s) => s.p999)), max: sampleOf(us((s) => s.max)) }
}

function hopPercentilesOf(hops: HopFigures[]): Percentiles {
  return { p50: sampleOf(hops.map((h) => h.p50)), p99: sampleOf(hops.map((h) => h.p99)), p999: sampleOf(hops.map((h) => h.p999)), max: sampleOf(hops.map((h) => h.max)) }
}

function figuresOf(runs: RunFigures[]): LatencyFigures {
  return {
    ...percentilesOf(runs.map((r) => r.stats)),
    count: sampleOf(runs.map((r) => r.stats.count)),
    recordsPerSec: sampleOf(runs.map((r) => r.recordsPerSec)),
    missing: sampleOf(runs.map((r) => r.missing)),
  }
}

/** Runs the benchmark; see the module comment. */
export async function runE2eLatency(o: SystemBenchOptions): Promise<E2eResult> {
  const settings: E2eResult['settings'] = {
    recordsPerSec: kRate,
    durationMs: o.quick ? 3000 : 8000,
    warmupMs: o.quick ? 1000 : 2000,
    partitions: kPartitions,
    shards: kShards,
    acks: 1,
    // No linger: a record goes out on the turn it is due (the harness batches whatever is due).
    lingerMs: 0,
    batchSize: 16_384,
    recordBytes: kRecordBytes,
    harness: 'runLoadTest (src/perf), mode e2e',
  }
  const eachMessageRuns: RunFigures[] = []
  const eachBatchRuns: RunFigures[] = []
  const busyPollRuns: RunFigures[] = []
  const tunedRuns: RunFigures[] = []
  const mainThreadRuns: RunFigures[] = []
  const mainThreadTunedRuns: RunFigures[] = []
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-e2e-'))
  const loopbackRuns: RunFigures[] = []
  const hops: HopFigures[] = []
  const pollingHops: HopFigures[] = []
  const loopback = new LoopbackPerfTarget()
  for (let run = 0; run < o.runs; run++) {
    // The project's own in-process target (what `shardlog perf` measures); its consumer uses eachBatch.
    const embedded = await embeddedTarget({ shards: kShards })
    try {
      eachBatchRuns.push(await runE2eOnce(embedded, settings, `e2e-batch-${run}`))
    } finally {
      await collectWorkerProfiles()
      await embedded.close()
    }
    // The same cluster setup read with eachMessage, one record per call.
    const bench = await startBenchCluster({ shards: kShards })
    try {
      eachMessageRuns.push(await runE2eOnce(new ClusterPerfTarget(bench.cluster, `embedded shardlog (${kShards} shards), eachMessage`), settings, `e2e-message-${run}`))
    } finally {
      await bench.close()
    }
    // The same again with the threads polling instead of sleeping (ClusterOptions.busyPollUs).
    const polling = await startBenchCluster({ shards: kBusyPollShards, busyPollUs: kBusyPollUs })
    try {
      busyPollRuns.push(await runE2eOnce(new ClusterPerfTarget(polling.cluster,
        `embedded shardlog (${kBusyPollShards} shard, busyPollUs ${kBusyPollUs}), eachMessage`), settings, `e2e-poll-${run}`))
    } finally {
      await polling.close()
    }
    // And once more in a process started with the latency flags of the README.
    tunedRuns.push(await e2eInProcessWithFlags({ settings, shards: kBusyPollShards, busyPollUs: kBusyPollUs, topic: `e2e-tuned-${run}` },
      kLatencyNodeFlags, path.join(scratch, `e2e-tuned-${run}.json`)))
    // Every partition on the main thread: no shard workers, no thread wake-ups (ClusterOptions.shards 0).
    const inline = await startBenchCluster({ shards: 0 })
    try {
      mainThreadRuns.push(await runE2eOnce(new ClusterPerfTarget(inline.cluster, 'embedded shardlog (shards: 0, partitions on the main thread), eachMessage'),
        settings, `e2e-main-${run}`))
    } finally {
      await inline.close()
    }
    mainThreadTunedRuns.push(await e2eInProcessWithFlags({ settings, shards: 0, busyPollUs: 0, topic: `e2e-main-tuned-${run}` },
      kMainThreadNodeFlags, path.join(scratch, `e2e-main-tuned-${run}.json`)))
    loopbackRuns.push(await runE2eOnce(loopback, settings, `loopback-${run}`))
    hops.push(await measureThreadHops(kHopRate, settings.durationMs - settings.warmupMs, Math.min(1000, settings.warmupMs)))
    pollingHops.push(await measureThreadHops(kHopRate, settings.durationMs - settings.warmupMs, Math.min(1000, settings.warmupMs), 'poll'))
    const us = (ms: number): string => `${(ms * 1000).toFixed(0)} µs`
    const m = eachMessageRuns.at(-1)!.stats
    const b = eachBatchRuns.at(-1)!.stats
    const l = loopbackRuns.at(-1)!.stats
    const p = busyPollRuns.at(-1)!.stats
    const t = tunedRuns.at(-1)!.stats
    const i = mainThreadRuns.at(-1)!.stats
    const it = mainThreadTunedRuns.at(-1)!.stats
    const h = hops.at(-1)!
    process.stderr.write(`  e2e run ${run + 1}/${o.runs}: eachMessage p50 ${us(m.p50)}, p99 ${us(m.p99)}, p99.9 ${us(m.p999)}, max ${us(m.max)}; ` +
      `eachBatch p50 ${us(b.p50)}, p99 ${us(b.p99)}; busy poll p50 ${us(p.p50)}, p99 ${us(p.p99)}, p99.9 ${us(p.p999)}; tuned p50 ${us(t.p50)}, p99 ${us(t.p99)}, p99.9 ${us(t.p999)}; ` +
      `main thread p50 ${us(i.p50)}, p99 ${us(i.p99)}, p99.9 ${us(i.p999)}; tuned ${us(it.p50)} / ${us(it.p99)} / ${us(it.p999)}; loopback p50 ${us(l.p50)}, p99 ${us(l.p99)}; thread hop p50 ${h.p50} µs, p99 ${h.p99} µs; polling ${pollingHops.at(-1)!.p50} / ${pollingHops.at(-1)!.p99} µs\n`)
  }
  await loopback.close()
  rmSync(scratch, { recursive: true, force: true })
  const produce = eachMessageRuns.flatMap((r) => (r.produce ? [r.produce] : []))
  return {
    settings,
    shardlog: figuresOf(eachMessageRuns),
    shardlogEachBatch: figuresOf(eachBatchRuns),
    shardlogProduce: percentilesOf(produce),
    shardlogBusyPoll: { ...figuresOf(busyPollRuns), shards: kBusyPollShards, busyPollUs: kBusyPollUs, threadHop: hopPercentilesOf(pollingHops) },
    shardlogBusyPollTuned: { ...figuresOf(tunedRuns), shards: kBusyPollShards, busyPollUs: kBusyPollUs, nodeFlags: [...kLatencyNodeFlags] },
    shardlogMainThread: figuresOf(mainThreadRuns),
    shardlogMainThreadTuned: { ...figuresOf(mainThreadTunedRuns), nodeFlags: [...kMainThreadNodeFlags] },
    loopback: figuresOf(loopbackRuns),
    threadHop: { ...hopPercentilesOf(hops), ratePerSec: kHopRate },
  }
}
