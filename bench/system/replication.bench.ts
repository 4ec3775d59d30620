/**
 * `replication`: what replication costs and how fast a partition fails over, on one
 * in-process cluster of 3 brokers (one shard worker each).
 *
 * 1. Throughput: 100-byte records produced at full speed by one in-process producer into a
 *    6-partition topic with RF=1 (acks=1), RF=3 acks=1 and RF=3 acks=all, the three taking
 *    turns within each run, each into a fresh topic; records/s and the ratio to RF=1. Kafka's
 *    2014 figures for the same question (Jay Kreps, "Benchmarking Apache Kafka: 2 Million
 *    Writes Per Second (On Three Cheap Machines)"): one producer thread, 100-byte records,
 *    821,557 records/s without replication, 786,980 (96%) with 3× asynchronous replication
 *    (acks=1), 421,823 (51%) with 3× synchronous replication (acks=all). Those brokers had a
 *    machine each; here all three share this machine's cores, so every replica's copy is paid
 *    for by the same CPUs as the leader's.
 * 2. Failover, repeated: kill the leader of a partition (`broker(id).kill()`, abrupt), time
 *    until the metadata names a new leader and until a produce with acks=all succeeds again,
 *    restart the killed broker and wait for the ISR to be full before the next kill. The
 *    controller fences a broker silent for `broker.session.timeout.ms`, so that setting sets
 *    the failover time, as in Kafka.
 *
 * ```
 * npx tsx bench/system/replication.bench.ts            3 runs and 20 kills, ~2 min; rewrites its table in BENCHMARKS.md
 * npx tsx bench/system/replication.bench.ts --quick    1 short run and 5 kills, BENCHMARKS.md untouched
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Admin } from '../../src/client/admin.js'
import { Cluster } from '../../src/client/cluster.js'
import type { Message } from '../../src/client/types.js'
import { isShardlogError } from '../../src/errors.js'
import {
  contextCaption, driveSends, exitWhenDone, formatMs, formatRate, formatRatio, isMainModule, markdownTable, medianWithRange,
  pollUntil, runContext, runStandalone, spreadOf, type BenchRunOptions, type BenchSection, type RunContext, type Spread,
} from './bench-section.js'
import { median } from './stats.js'
import { recordValues } from './workload.js'

/** The replication setups compared. */
export type ReplicationSetup = 'RF=1 acks=1' | 'RF=3 acks=1' | 'RF=3 acks=all'

const kSetups: ReadonlyArray<{ name: ReplicationSetup; replicationFactor: number; acks: -1 | 1; kafka2014: number }> = [
  { name: 'RF=1 acks=1', replicationFactor: 1, acks: 1, kafka2014: 821_557 },
  { name: 'RF=3 acks=1', replicationFactor: 3, acks: 1, kafka2014: 786_980 },
  { name: 'RF=3 acks=all', replicationFactor: 3, acks: -1, kafka2014: 421_823 },
]

/**
 * Server settings of the whole benchmark. The session timeout and heartbeat are the ones
 * failover is measured with (Kafka's defaults are 9000 and 2000 ms); automatic preferred-leader
 * election is off so that no leadership move overlaps a measured failover.
 */
const kServerConfig = {
  'broker.session.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '100',
  'auto.leader.rebalance.enable': 'false',
}

const kSettings = {
  brokers: 3,
  shardsPerBroker: 1,
  partitions: 6,
  recordBytes: 100,
  messagesPerSend: 2000,
  sendsInFlight: 16,
  batchSize: 512 * 1024,
  lingerMs: 5,
  maxInFlightRequests: 8,
  /** Failover topic: partitions, and `min.insync.replicas` (acks=all needs 2 of the 3 replicas). */
  failoverPartitions: 3,
  minInsyncReplicas: 2,
  /** Records written to the failed-over partition before each kill, so the restarted broker has a tail to catch up. */
  recordsBeforeKill: 1000,
  /** How often the probes look again, ms: the resolution of the failover times. */
  probeIntervalMs: 5,
}

/** One failover, ms from the kill. */
export interface FailoverSample {
  killedBroker: number
  /** Until the metadata of the partition names another live leader. */
  newLeaderMs: number
  /** Until a produce with acks=all to the partition succeeded. */
  produceMs: number
  /** From `restart()` of the killed broker until every partition's ISR is full again. */
  rejoinMs: number
}

/** What `run` returns as `results`. */
export interface ReplicationResults {
  context: RunContext
  settings: typeof kSettings & { durationMs: number; runs: number; kills: number; serverConfig: typeof kServerConfig }
  /** records/s per setup, one per run. */
  throughput: Record<ReplicationSetup, number[]>
  /** CPU-seconds per second of the whole process (all brokers' workers) per setup, one per run. */
  cores: Record<ReplicationSetup, number[]>
  failovers: FailoverSample[]
  newLeader: Spread
  produce: Spread
  rejoin: Spread
}

async function measureThroughput(cluster: Cluster, admin: Admin, runs: number, durationMs: number): Promise<Pick<ReplicationResults, 'throughput' | 'cores'>> {
  const values = recordValues()
  const sends = Array.from({ length: 16 }, (_, s) => Array.from({ length: kSettings.messagesPerSend }, (_, i): Message => ({ value: values[(s * kSettings.messagesPerSend + i) % values.length]! })))
  const throughput = Object.fromEntries(kSetups.map((s) => [s.name, [] as number[]])) as Record<ReplicationSetup, number[]>
  const cores = Object.fromEntries(kSetups.map((s) => [s.name, [] as number[]])) as Record<ReplicationSetup, number[]>
  // Warmup (JIT, first segments, replica fetchers) on every setup; not measured.
  for (let r = -1; r < runs; r++) {
    for (const setup of kSetups) {
      const topic = `replication-${setup.replicationFactor}-${setup.acks === -1 ? 'all' : 'one'}-${r < 0 ? 'warmup' : r}`
      await admin.createTopics({ topics: [{ topic, numPartitions: kSettings.partitions, replicationFactor: setup.replicationFactor }] })
      const producer = cluster.producer({
        acks: setup.acks, lingerMs: kSettings.lingerMs, batchSize: kSettings.batchSize, maxInFlightRequests: kSettings.maxInFlightRequests,
        bufferMemory: 256 * 1024 * 1024, allowAutoTopicCreation: false,
      })
      const outcome = await driveSends((messages) => producer.send({ topic, messages }), sends, r < 0 ? Math.min(1000, durationMs) : durationMs, kSettings.sendsInFlight)
      await producer.disconnect()
      await admin.deleteTopics({ topics: [topic] })
      if (r < 0) continue
      throughput[setup.name].push(outcome.records / (outcome.elapsedMs / 1000))
      cores[setup.name].push(outcome.cpuMs / outcome.elapsedMs)
      process.stderr.write(`  run ${r + 1}/${runs} ${setup.name}: ${formatRate(throughput[setup.name].at(-1)!)} records/s\n`)
    }
  }
  return { throughput, cores }
}

async function partitionsOf(admin: Admin, topic: string): Promise<Array<{ leader: number; isr: number[] }>> {
  return (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions
}

/** Sends one record with acks=all to `partition` until one is acknowledged; retriable failures are tried again every probe interval. */
async function probeProduce(cluster: Cluster, topic: string, partition: number): Promise<void> {
  const producer = cluster.producer({ acks: -1, retry: { retries: 0 }, timeout: 5000, lingerMs: 0 })
  try {
    for (;;) {
      try {
        await producer.send({ topic, messages: [{ value: 'probe', partition }] })
        return
      } catch (err) {
        if (!isShardlogError(err) || !err.retriable) throw err
        await new Promise((resolve) => setTimeout(resolve, kSettings.probeIntervalMs))
      }
    }
  } finally {
    await producer.disconnect()
  }
}

async function measureFailovers(cluster: Cluster, admin: Admin, kills: number): Promise<FailoverSample[]> {
  const topic = 'failover'
  await admin.createTopics({
    topics: [{
      topic, numPartitions: kSettings.failoverPartitions, replicationFactor: 3,
      configEntries: [{ name: 'min.insync.replicas', value: String(kSettings.minInsyncReplicas) }],
    }],
  })
  const isrFull = async (): Promise<boolean> => (await partitionsOf(admin, topic)).every((p) => p.leader >= 0 && p.isr.length === 3)
  const loader = cluster.producer({ acks: -1, lingerMs: 0 })
  const values = recordValues(kSettings.recordsBeforeKill)
  const samples: FailoverSample[] = []
  try {
    for (let k = 0; k < kills; k++) {
      await pollUntil(isrFull, 'every ISR to be full', 30_000, 20)
      await loader.send({ topic, messages: values.map((value) => ({ value, partition: 0 })) })
      const old = (await partitionsOf(admin, topic))[0]!.leader
      const killedAt = performance.now()
      await cluster.broker(old).kill()
      const since = (): number => performance.now() - killedAt
      const [newLeaderMs, produceMs] = await Promise.all([
        pollUntil(async () => {
          const leader = (await partitionsOf(admin, topic))[0]!.leader
          return leader >= 0 && leader !== old
        }, 'a new leader', 30_000, kSettings.probeIntervalMs).then(since),
        probeProduce(cluster, topic, 0).then(since),
      ])
      const restartedAt = performance.now()
      await cluster.broker(old).restart()
      await pollUntil(isrFull, 'the restarted broker to rejoin every ISR', 60_000, kSettings.probeIntervalMs)
      const rejoinMs = performance.now() - restartedAt
      samples.push({ killedBroker: old, newLeaderMs, produceMs, rejoinMs })
      process.stderr.write(`  kill ${k + 1}/${kills} (broker ${old}): new leader ${formatMs(newLeaderMs)}, acks=all produce ${formatMs(produceMs)}, rejoin ${formatMs(rejoinMs)}\n`)
    }
  } finally {
    await loader.disconnect()
  }
  return samples
}

/** Runs the benchmark; see the module comment. */
export async function run(opts: BenchRunOptions = {}): Promise<BenchSection> {
  const quick = opts.quick ?? false
  const context = runContext(quick)
  const runs = quick ? 1 : 3
  const durationMs = quick ? 1000 : 3000
  const kills = quick ? 5 : 20
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-replication-'))
  const cluster = await Cluster.start({ dataDir: path.join(dir, 'data'), brokers: kSettings.brokers, shards: kSettings.shardsPerBroker, config: kServerConfig })
  try {
    const admin = cluster.admin()
    const { throughput, cores } = await measureThroughput(cluster, admin, runs, durationMs)
    const failovers = await measureFailovers(cluster, admin, kills)
    const results: ReplicationResults = {
      context,
      settings: { ...kSettings, durationMs, runs, kills, serverConfig: kServerConfig },
      throughput,
      cores,
      failovers,
      newLeader: spreadOf(failovers.map((f) => f.newLeaderMs)),
      produce: spreadOf(failovers.map((f) => f.produceMs)),
      rejoin: spreadOf(failovers.map((f) => f.rejoinMs)),
    }
    return { title: 'Replication: throughput by RF and acks, and failover', markdown: renderReplication(results), results }
  } finally {
    await cluster.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

function renderReplication(r: ReplicationResults): string {
  const s = r.settings
  const base = median(r.throughput['RF=1 acks=1'])
  const throughputRows = kSetups.map((setup) => {
    const rates = r.throughput[setup.name]
    return [
      setup.name,
      medianWithRange(rates, formatRate),
      (median(rates) * s.recordBytes / 1e6).toFixed(0),
      formatRatio(median(rates) / base),
      median(r.cores[setup.name]).toFixed(2),
      `${formatRate(setup.kafka2014)} (${Math.round((setup.kafka2014 / kSetups[0]!.kafka2014) * 100)}%)`,
    ]
  })
  const spreadRow = (what: string, sp: Spread): string[] => [what, formatMs(sp.min), formatMs(sp.p50), formatMs(sp.p90), formatMs(sp.max)]
  return [
    `Produce throughput, ${s.durationMs / 1000} s per setup, ${s.runs} run(s) with the setups interleaved (median, range in brackets):`,
    '',
    markdownTable(
      ['setup', 'records/s', 'MB/s', 'of RF=1', 'cores used', 'Kafka 2014 (of no replication)'],
      throughputRows,
      new Set([1, 2, 3, 4, 5]),
    ),
    '',
    `Failover over ${r.failovers.length} leader kills (ms from \`kill()\`):`,
    '',
    markdownTable(['measure', 'min', 'p50', 'p90', 'max'], [
      spreadRow('new leader in metadata', r.newLeader),
      spreadRow('first acks=all produce acknowledged', r.produce),
      spreadRow('restart() to every ISR full again', r.rejoin),
    ], new Set([1, 2, 3, 4])),
    '',
    `Settings: ${s.brokers} brokers in one process, ${s.shardsPerBroker} shard worker each; ` +
      `\`broker.session.timeout.ms\` ${s.serverConfig['broker.session.timeout.ms']}, \`broker.heartbeat.interval.ms\` ` +
      `${s.serverConfig['broker.heartbeat.interval.ms']} (Kafka's defaults: 9000 and 2000), \`auto.leader.rebalance.enable\` false. ` +
      `Throughput: ${s.partitions} partitions (leaders spread over the brokers), ${s.recordBytes}-byte values, null keys, ` +
      `no compression, one in-process producer: ${s.messagesPerSend} messages per \`send\`, ${s.sendsInFlight} sends outstanding, ` +
      `\`batchSize\` ${s.batchSize / 1024} KiB, \`lingerMs\` ${s.lingerMs}; "cores used" is CPU-seconds per second of the ` +
      `whole process (producer, three brokers' workers, replica fetchers). Failover: a ${s.failoverPartitions}-partition RF=3 ` +
      `topic with \`min.insync.replicas\` ${s.minInsyncReplicas}; before each kill ${s.recordsBeforeKill.toLocaleString('en-US')} ` +
      `records go to partition 0 and every ISR is full; then partition 0's leader is killed; metadata and an acks=all ` +
      `produce (no producer retries, tried again every ${s.probeIntervalMs} ms) are probed every ${s.probeIntervalMs} ms. ` +
      'Failover time is the session timeout plus up to one heartbeat check, plus the election.',
    '',
    contextCaption(r.context),
  ].join('\n')
}

if (isMainModule(import.meta.url)) exitWhenDone(runStandalone('replication', run))
