/**
 * `groups`: how long a consumer group takes to form and to recover from a member leaving, and
 * how many offset commits per second the group coordinator takes, on one in-process broker.
 *
 * 1. Rebalance: 10 in-process consumers of one group subscribe to a 100-partition topic that
 *    holds records, one right after the other. Timed from the first `subscribe` until every
 *    consumer has received a record, and until the group is Stable with all 10 members and
 *    each has received a record of its final assignment. Then one consumer disconnects
 *    (LeaveGroup): timed until the group is Stable again with 9 members that each received a
 *    record of their new assignment. Each consumer pauses a partition after its first batch
 *    and resolves no offset, so nothing is committed and every new owner of a partition finds
 *    records in it. The protocol is Kafka's classic one, EAGER: members learn of a rebalance
 *    from a heartbeat response, so `heartbeatInterval` bounds these times; they are measured
 *    with kafkajs's default (3000 ms) and with 100 ms.
 * 2. Commits: `consumer.commitOffsets` with one partition per commit by a member of a Stable
 *    group, sequentially and from N concurrent loops of the same member, for a fixed time;
 *    each commit is an append to `__consumer_offsets` through the group coordinator.
 *
 * ```
 * npx tsx bench/system/groups.bench.ts            3 runs, ~1.5 min; rewrites its table in BENCHMARKS.md
 * npx tsx bench/system/groups.bench.ts --quick    1 short run, BENCHMARKS.md untouched
 * ```
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Admin } from '../../src/client/admin.js'
import { Cluster } from '../../src/client/cluster.js'
import type { Consumer } from '../../src/client/consumer.js'
import {
  contextCaption, exitWhenDone, formatMs, formatRate, isMainModule, markdownTable, medianWithRange, pollUntil, runContext,
  runStandalone, type BenchRunOptions, type BenchSection, type RunContext,
} from './bench-section.js'
import { recordValues } from './workload.js'

/** `group.initial.rebalance.delay.ms` 0 (shardlog's default; Kafka's is 3000, which would add 3 s to the first join). */
const kServerConfig = { 'group.initial.rebalance.delay.ms': '0' }

const kSettings = {
  shards: 2,
  partitions: 100,
  consumers: 10,
  /** Records per partition, written in batches of `recordsPerBatch` so that a fetch of one batch leaves more behind. */
  recordsPerPartition: 100,
  recordsPerBatch: 10,
  recordBytes: 100,
  /** `heartbeatInterval` of the consumers, ms: kafkajs's default, and a short one. */
  heartbeatIntervalsMs: [3000, 100],
  sessionTimeoutMs: 30_000,
  /** Concurrent committing loops of one member. */
  committers: [1, 8, 64],
}

/** One rebalance run, ms. */
export interface RebalanceSample {
  heartbeatIntervalMs: number
  /** From the first subscribe until every consumer received a record (of any generation). */
  allFirstRecordMs: number
  /** From the first subscribe until the group is Stable with every member and each received a record of its final assignment. */
  joinSettledMs: number
  /** Assignments the first member received until the group settled: the rebalances the join took. */
  joinGenerations: number
  /** From one member's `disconnect()` until the group is Stable without it and each remaining member received a record of its new assignment. */
  leaveSettledMs: number
}

/** What `run` returns as `results`. */
export interface GroupsResults {
  context: RunContext
  settings: typeof kSettings & { runs: number; commitDurationMs: number; serverConfig: typeof kServerConfig }
  rebalances: RebalanceSample[]
  /** Commits/s per number of concurrent committers, one per run. */
  commits: Array<{ committers: number; commitsPerSec: number[] }>
}

/** One consumer of the rebalance group and what it has seen. */
class TrackedConsumer {
  firstRecordAt = 0
  /** Set when the consumer receives a record after its latest assignment. */
  recordSinceAssignment = false
  assignedPartitions = 0
  /** Assignments received (one per generation this member took part in). */
  assignments = 0

  constructor(readonly consumer: Consumer, private readonly topic: string) {}

  async start(): Promise<void> {
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: true })
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: false,
      onPartitionsAssigned: (partitions) => {
        this.assignedPartitions = partitions.length
        this.assignments++
        this.recordSinceAssignment = false
        // A partition paused in an earlier generation is read again if it comes back.
        this.consumer.resume([{ topic: this.topic }])
      },
      eachBatch: async ({ batch, pause }) => {
        if (batch.messages.length === 0) return
        if (this.firstRecordAt === 0) this.firstRecordAt = performance.now()
        this.recordSinceAssignment = true
        // Seen enough of this partition: resolving nothing and pausing keeps its records for the next owner.
        pause()
      },
    })
  }
}

async function groupState(admin: Admin, groupId: string): Promise<{ state: string; members: number }> {
  const [g] = (await admin.describeGroups([groupId])).groups
  return { state: g?.groupState ?? '', members: g?.members.length ?? 0 }
}

/** Resolves once `groupId` is Stable with exactly `members` and each of them has a record of its latest assignment. */
function settled(admin: Admin, groupId: string, members: readonly TrackedConsumer[], what: string): Promise<number> {
  return pollUntil(async () => {
    if (!members.every((m) => m.recordSinceAssignment && m.assignedPartitions > 0)) return false
    const g = await groupState(admin, groupId)
    return g.state === 'Stable' && g.members === members.length
  }, what, 60_000, 2)
}

async function measureRebalance(cluster: Cluster, admin: Admin, topic: string, groupId: string, heartbeatIntervalMs: number): Promise<RebalanceSample> {
  const tracked = Array.from({ length: kSettings.consumers }, () => new TrackedConsumer(
    cluster.consumer({ groupId, heartbeatInterval: heartbeatIntervalMs, sessionTimeout: kSettings.sessionTimeoutMs }),
    topic,
  ))
  try {
    const started = performance.now()
    for (const t of tracked) await t.start()
    await pollUntil(() => tracked.every((t) => t.firstRecordAt > 0), 'every consumer to receive a record', 60_000, 2)
    const allFirstRecordMs = Math.max(...tracked.map((t) => t.firstRecordAt)) - started
    await settled(admin, groupId, tracked, `group ${groupId} to settle with ${tracked.length} members`)
    const joinSettledMs = performance.now() - started
    const joinGenerations = tracked[0]!.assignments

    const leaving = tracked.pop()!
    const leftAt = performance.now()
    await leaving.consumer.disconnect()
    await settled(admin, groupId, tracked, `group ${groupId} to settle without the member that left`)
    const leaveSettledMs = performance.now() - leftAt
    return { heartbeatIntervalMs, allFirstRecordMs, joinSettledMs, joinGenerations, leaveSettledMs }
  } finally {
    await Promise.all(tracked.map((t) => t.consumer.disconnect()))
  }
}

async function measureCommits(cluster: Cluster, admin: Admin, runs: number, durationMs: number): Promise<GroupsResults['commits']> {
  const topic = 'groups-commits'
  const groupId = 'groups-committer'
  await admin.createTopics({ topics: [{ topic, numPartitions: kSettings.partitions, replicationFactor: 1 }] })
  // An empty topic: the member's fetches long-poll quietly while it commits.
  const member = cluster.consumer({ groupId, heartbeatInterval: 1000, sessionTimeout: kSettings.sessionTimeoutMs })
  let assigned = 0
  await member.subscribe({ topics: [topic], fromBeginning: true })
  await member.run({ autoCommit: false, onPartitionsAssigned: (ps) => { assigned = ps.length }, eachBatch: async () => undefined })
  await pollUntil(async () => assigned === kSettings.partitions && (await groupState(admin, groupId)).state === 'Stable', 'the committing member to join', 30_000, 5)
  const out = kSettings.committers.map((committers) => ({ committers, commitsPerSec: [] as number[] }))
  let offset = 0
  try {
    for (let r = -1; r < runs; r++) {
      for (const entry of out) {
        let commits = 0
        const started = performance.now()
        const deadline = started + (r < 0 ? Math.min(500, durationMs) : durationMs)
        await Promise.all(Array.from({ length: entry.committers }, async (_, loop) => {
          for (let i = loop; performance.now() < deadline; i += entry.committers) {
            await member.commitOffsets([{ topic, partition: i % kSettings.partitions, offset: String(++offset) }])
            commits++
          }
        }))
        if (r < 0) continue // warmup
        entry.commitsPerSec.push(commits / ((performance.now() - started) / 1000))
        process.stderr.write(`  commits run ${r + 1}/${runs}, ${entry.committers} committer(s): ${formatRate(entry.commitsPerSec.at(-1)!)} commits/s\n`)
      }
    }
  } finally {
    await member.disconnect()
  }
  return out
}

/** Runs the benchmark; see the module comment. */
export async function run(opts: BenchRunOptions = {}): Promise<BenchSection> {
  const quick = opts.quick ?? false
  const context = runContext(quick)
  const runs = quick ? 1 : 3
  const commitDurationMs = quick ? 1000 : 3000
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-groups-'))
  const cluster = await Cluster.start({ dataDir: path.join(dir, 'data'), brokers: 1, shards: kSettings.shards, config: kServerConfig })
  try {
    const admin = cluster.admin()
    const topic = 'groups-rebalance'
    await admin.createTopics({ topics: [{ topic, numPartitions: kSettings.partitions, replicationFactor: 1 }] })
    const values = recordValues(kSettings.recordsPerBatch)
    const producer = cluster.producer({ acks: 1, lingerMs: 0 })
    for (let b = 0; b < kSettings.recordsPerPartition / kSettings.recordsPerBatch; b++) {
      await Promise.all(Array.from({ length: kSettings.partitions }, (_, partition) =>
        producer.send({ topic, messages: values.map((value) => ({ value, partition })) })))
    }
    await producer.disconnect()

    const rebalances: RebalanceSample[] = []
    for (let r = 0; r < runs; r++) {
      for (const heartbeatIntervalMs of kSettings.heartbeatIntervalsMs) {
        const sample = await measureRebalance(cluster, admin, topic, `groups-rebalance-${heartbeatIntervalMs}-${r}`, heartbeatIntervalMs)
        rebalances.push(sample)
        process.stderr.write(`  rebalance run ${r + 1}/${runs}, heartbeat ${heartbeatIntervalMs} ms: every consumer a record ${formatMs(sample.allFirstRecordMs)}, ` +
          `settled ${formatMs(sample.joinSettledMs)} (${sample.joinGenerations} assignments to the first member), after a leave ${formatMs(sample.leaveSettledMs)}\n`)
      }
    }
    const commits = await measureCommits(cluster, admin, runs, commitDurationMs)
    const results: GroupsResults = { context, settings: { ...kSettings, runs, commitDurationMs, serverConfig: kServerConfig }, rebalances, commits }
    return { title: 'Consumer groups: rebalance time and commit throughput', markdown: renderGroups(results), results }
  } finally {
    await cluster.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

function renderGroups(r: GroupsResults): string {
  const s = r.settings
  const rebalanceRows = s.heartbeatIntervalsMs.map((hb) => {
    const samples = r.rebalances.filter((x) => x.heartbeatIntervalMs === hb)
    return [
      `${hb} ms`,
      medianWithRange(samples.map((x) => x.allFirstRecordMs), formatMs),
      medianWithRange(samples.map((x) => x.joinSettledMs), formatMs),
      medianWithRange(samples.map((x) => x.joinGenerations), (n) => String(n)),
      medianWithRange(samples.map((x) => x.leaveSettledMs), formatMs),
    ]
  })
  const commitRows = r.commits.map((c) => [String(c.committers), medianWithRange(c.commitsPerSec, formatRate)])
  return [
    `Rebalance of ${s.consumers} in-process consumers on ${s.partitions} partitions, ${s.runs} run(s) per heartbeat interval (median, range in brackets):`,
    '',
    markdownTable(
      ['consumer heartbeatInterval', 'subscribe → every consumer has a record', 'subscribe → group Stable, every member reading', 'rebalances of the join', 'one member leaves → Stable again, every member reading'],
      rebalanceRows,
      new Set([1, 2, 3, 4]),
    ),
    '',
    `Offset commits through the group coordinator, one partition per \`commitOffsets\`, ${s.commitDurationMs / 1000} s per measurement, ${s.runs} run(s):`,
    '',
    markdownTable(['concurrent committers (one member)', 'commits/s'], commitRows, new Set([1])),
    '',
    `Settings: 1 broker, ${s.shards} shard workers; \`group.initial.rebalance.delay.ms\` ${s.serverConfig['group.initial.rebalance.delay.ms']} ` +
      `(Kafka's default of 3000 would hold the first join for 3 s); topic of ${s.partitions} partitions holding ` +
      `${s.recordsPerPartition} records of ${s.recordBytes} bytes each, in batches of ${s.recordsPerBatch}; consumers subscribe ` +
      `one after the other with \`sessionTimeout\` ${s.sessionTimeoutMs} ms and the default assignors (round robin); EAGER ` +
      'rebalancing (every member rejoins, learning of the rebalance from its next heartbeat). "Every member reading": the ' +
      'coordinator reports the group Stable with all members and each consumer received a record after its latest assignment. ' +
      'Commits: one member of a Stable group on an empty 100-partition topic calls `commitOffsets` with one partition and a ' +
      'new offset each time; each commit is appended to `__consumer_offsets` (acks=all, RF=1) before it is answered.',
    '',
    contextCaption(r.context),
  ].join('\n')
}

if (isMainModule(import.meta.url)) exitWhenDone(runStandalone('groups', run))
