/**
 * Markdown tables of the system benchmarks, regenerated from `results.json` into their own
 * marked sections of BENCHMARKS.md (`<!-- bench:system-<name>:start -->` ... `:end -->`), so
 * rerunning one benchmark replaces its table and leaves the others and the prose alone.
 */
import { kWarmupRecords } from './options.js'
import type { MachineDescription } from './machine.js'
import type { BenchmarkName, CodecsResult, E2eResult, LatencyFigures, PartitionsResult, Percentiles, SystemResults, ThroughputResult } from './results.js'
import { ratioOf, type Sample } from './stats.js'

/** Targets the figures are held to. */
export const kTargets = {
  produceRecordsPerSec: 3_000_000,
  consumeRecordsPerSec: 5_000_000,
  e2eP50Us: 100,
  e2eP99Us: 1000,
  e2eP999Us: 5000,
  /** Every partition count within 25% of the best. */
  partitionsWithinOfBest: 0.75,
} as const

/** `1.23 M` from a million up, else `123,456`. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  if (Math.abs(n) >= 1e6) return `${(n / 1e6).toFixed(2)} M`
  return Math.round(n).toLocaleString('en-US')
}

/** Median and, when runs differ, the range: `1.23 M (1.10–1.31 M)`. */
function withRange(s: Sample, format: (n: number) => string): string {
  if (s.runs.length < 2) return format(s.median)
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`
}

function mb(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1)
}

function us(n: number): string {
  if (!Number.isFinite(n)) return 'n/a'
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} ms` : `${n.toFixed(0)} µs`
}

function percent(r: number): string {
  if (!Number.isFinite(r)) return 'n/a'
  return r >= 10 ? `${r.toFixed(0)}×` : `${(100 * r).toFixed(r < 0.1 ? 1 : 0)}%`
}

function times(r: number): string {
  return Number.isFinite(r) ? `${r.toFixed(r < 10 ? 2 : 0)}×` : 'n/a'
}

function verdict(met: boolean, detail: string): string {
  return met ? `**met** (${detail})` : `**missed** (${detail})`
}

function caption(results: SystemResults, name: BenchmarkName): string {
  const m: MachineDescription = results.machine
  const env = results.environment?.[name]
  const noise = env === undefined ? `load average ${m.loadAverage1m} when the run started`
    : `while it ran (${env.seconds.toFixed(0)} s) the benchmark used ${env.ownCores.toFixed(2)} cores and other processes ${env.otherCores.toFixed(2)} of the ${m.cores}`
  return `Measured ${results.date.slice(0, 10)} on ${m.summary}; commit ${m.commit}; ${noise}. ` +
    `${results.runs > 1 ? `Median of ${results.runs} runs (min–max in brackets)` : 'One run'}${results.quick ? ', quick mode (short runs, not for quoting)' : ''}.`
}

function describeCores(results: SystemResults): string {
  return `${results.machine.cores} cores in the machine`
}

function throughputTable(r: ThroughputResult, results: SystemResults): string {
  const s = r.settings
  const produce = r.produce.recordsPerSec
  const rawWriteRecords = (r.rawWrite.mbPerSec.median * 1e6) / r.produce.diskBytesPerRecord
  const consume = r.consume.recordsPerSec
  const tuned = r.consumeTuned.recordsPerSec
  const rows = [
    '| figure | shardlog | raw limit, same run | shardlog / raw | target | status |',
    '|---|---:|---:|---:|---:|---|',
    `| produce, records/s | ${withRange(produce, formatCount)} | ${formatCount(rawWriteRecords)} ¹ | ${percent(ratioOf(r.produce.diskMbPerSec, r.rawWrite.mbPerSec))} | ≥ 3 M | ` +
      `${verdict(produce.median >= kTargets.produceRecordsPerSec, `${times(produce.median / kTargets.produceRecordsPerSec)} target`)} |`,
    `| produce, MB/s of segment bytes | ${withRange(r.produce.diskMbPerSec, mb)} | ${withRange(r.rawWrite.mbPerSec, mb)} (fs.writeSync) | ${percent(ratioOf(r.produce.diskMbPerSec, r.rawWrite.mbPerSec))} | | |`,
    `| produce, MB/s of values | ${withRange(r.produce.mbPerSec, mb)} | | | | |`,
    `| consume (eachBatch, page cache), records/s | ${withRange(consume, formatCount)} | ${formatCount(r.rawRead.recordsPerSec.median)} ² | ${percent(ratioOf(consume, r.rawRead.recordsPerSec))} | ≥ 5 M | ` +
      `${verdict(consume.median >= kTargets.consumeRecordsPerSec, `${times(consume.median / kTargets.consumeRecordsPerSec)} target`)} |`,
    `| consume, node ${r.consumeTuned.nodeFlags.join(' ')} ³, records/s | ${withRange(tuned, formatCount)} | | ${percent(ratioOf(tuned, r.rawRead.recordsPerSec))} | ≥ 5 M | ` +
      `${verdict(tuned.median >= kTargets.consumeRecordsPerSec, `${times(tuned.median / kTargets.consumeRecordsPerSec)} target`)} |`,
    `| consume, MB/s of values | ${withRange(r.consume.mbPerSec, mb)} | ${withRange(r.rawRead.mbPerSec, mb)} (fs.readSync) | | | |`,
    `| process CPU while producing / consuming (default / ³), cores | ${withRange(r.produce.cpuCores, (n) => n.toFixed(2))} / ${withRange(r.consume.cpuCores, (n) => n.toFixed(2))} / ${withRange(r.consumeTuned.cpuCores, (n) => n.toFixed(2))} | ${describeCores(results)} | | | |`,
    `| decode only (RecordBatch v2, one thread), records/s | ${withRange(r.decodeOnly.recordsPerSec, formatCount)} | | consume / decode: ${percent(ratioOf(consume, r.decodeOnly.recordsPerSec))} | | |`,
  ]
  return [
    caption(results, 'throughput'),
    '',
    `Settings: ${s.recordBytes}-byte values, null keys (${s.partitioning} partitioner), ${s.partitions} partitions, ${s.shards} shards, acks=${s.acks}, ` +
      `compression ${s.compression}, linger.ms ${s.lingerMs}, batch.size ${s.batchSize / 1024} KiB, max in flight ${s.maxInFlightRequests}, ` +
      `${s.messagesPerSend.toLocaleString('en-US')} messages per send(), ${s.sendsInFlight} sends awaited at once, ${s.durationMs / 1000} s per run. ` +
      `On disk: ${r.produce.diskBytesPerRecord.toFixed(1)} bytes per record, batches of ${(r.produce.batchBytes / 1024).toFixed(1)} KiB on average. ` +
      `Consumer: maxBytes ${r.consume.maxBytes / 2 ** 20} MiB, maxBytesPerPartition ${r.consume.maxBytesPerPartition / 2 ** 20} MiB (kafkajs defaults), ` +
      `${formatCount(r.consume.records)} records, after a warm-up read of the first ${formatCount(kWarmupRecords)} in another group, timed from the first batch (the group join before it took ${withRange(r.consume.timeToFirstBatchMs, (n) => `${n.toFixed(0)} ms`)}).`,
    '',
    ...rows,
    '',
    `¹ fs.writeSync of the same number of bytes in chunks of the average batch size, to a file in the same directory, right after each produce run; as records/s at ${r.produce.diskBytesPerRecord.toFixed(1)} bytes per record. ` +
      `The ratio compares segment bytes per second. ` +
      `² fs.readSync of the same segment files in 1 MiB chunks (page cache), as records/s. ` +
      `³ The same consume in a Node process started with \`${r.consumeTuned.nodeFlags.join(' ')}\` (a 64 MiB young generation instead of 16 MiB): ` +
      `the per-record message objects then die young instead of being copied by the scavenger. Each consume runs in its own process over the stopped cluster's data directory.`,
  ].join('\n')
}

function e2eTable(r: E2eResult, results: SystemResults): string {
  const s = r.settings
  const targets: ReadonlyArray<[keyof Percentiles, number]> = [['p50', kTargets.e2eP50Us], ['p99', kTargets.e2eP99Us], ['p999', kTargets.e2eP999Us]]
  const status = (f: Percentiles): string => targets
    .map(([key, target]) => `${key === 'p999' ? 'p99.9' : key} ${f[key].median < target ? 'met' : 'missed'} (${times(f[key].median / target)})`).join(', ')
  // A row per configuration; floors and the produce side get no status (they have no target).
  const row = (label: string, f: Percentiles, withStatus: boolean): string =>
    `| ${label} | ${withRange(f.p50, us)} | ${withRange(f.p99, us)} | ${withRange(f.p999, us)} | ${withRange(f.max, us)} | ${withStatus ? status(f) : ''} |`
  const poll = r.shardlogBusyPoll
  const tuned = r.shardlogBusyPollTuned
  const main = r.shardlogMainThread
  const mainTuned = r.shardlogMainThreadTuned
  const rates: Array<[string, LatencyFigures | undefined]> = [
    ['eachMessage', r.shardlog], ['eachBatch', r.shardlogEachBatch], ['busy poll', poll], ['busy poll with the latency flags', tuned],
    ['shards: 0', main], ['shards: 0 with a small young generation', mainTuned],
  ]
  return [
    caption(results, 'e2e'),
    '',
    `Settings: ${formatCount(s.recordsPerSec)} records/s on a fixed schedule for ${s.durationMs / 1000} s (the first ${s.warmupMs / 1000} s are warmup), ` +
      `${s.recordBytes}-byte values, ${s.partitions} partitions, ${s.shards} shards unless the row says otherwise, acks=${s.acks}, linger.ms ${s.lingerMs}, batch.size ${s.batchSize / 1024} KiB; ` +
      `${s.harness}. Latency runs from each record's intended send time (coordinated omission corrected) to its arrival in the consumer's callback, in an HDR histogram. ` +
      `${withRange(r.shardlog.count, formatCount)} records measured per eachMessage run. Rates reached (records/s) and records missing: ` +
      rates.flatMap(([name, f]) => (f ? [`${name} ${withRange(f.recordsPerSec, formatCount)}, missing ${withRange(f.missing, formatCount)}`] : [])).join('; ') + '.',
    '',
    '| configuration | p50 | p99 | p99.9 | max | against the targets |',
    '|---|---:|---:|---:|---:|---|',
    row(`e2e, produce → eachMessage, ${s.shards} shards (the defaults)`, r.shardlog, true),
    row(`e2e, produce → eachBatch, ${s.shards} shards ³`, r.shardlogEachBatch, true),
    row(`produce → ack, ${s.shards} shards`, r.shardlogProduce, false),
    ...(poll ? [row(`e2e, eachMessage, ${poll.shards} shard, busyPollUs ${poll.busyPollUs} ⁴`, poll, true)] : []),
    ...(tuned ? [row(`the same, node ${tuned.nodeFlags.join(' ')} ⁵`, tuned, true)] : []),
    ...(main ? [row('e2e, eachMessage, `shards: 0` (partitions on the main thread) ⁶', main, true)] : []),
    ...(mainTuned ? [row(`the same, node ${mainTuned.nodeFlags.join(' ')} ⁷`, mainTuned, true)] : []),
    row('loopback floor ¹', r.loopback, false),
    row('thread round trip ²', r.threadHop, false),
    `| target | < ${us(kTargets.e2eP50Us)} | < ${us(kTargets.e2eP99Us)} | < ${us(kTargets.e2eP999Us)} | | |`,
    '',
    '¹ The same harness and schedule against a target with no engine: each send is acknowledged and delivered on the next event-loop turn; ' +
      'what the harness and the event loop cost by themselves. ' +
      `² main → worker → main through Atomics.notify / Atomics.wait on a SharedArrayBuffer, ${formatCount(r.threadHop.ratePerSec)} per second: ` +
      'what the OS takes to wake a thread, paid at least once by every produce and every fetch through a shard worker. Both measured in the same process right after each e2e run. ' +
      '³ Through `embeddedTarget` of src/perf/targets (what `shardlog perf` measures), whose consumer uses eachBatch; the eachMessage rows use the same ' +
      'cluster setup through bench/system/perf-targets.ts. ' +
      (poll ? `⁴ ${poll.shards} shard and \`busyPollUs: ${poll.busyPollUs}\`: the main thread and the shard poll their rings once per event-loop turn instead of sleeping ` +
        'while traffic flows, so no request waits for a thread to wake; each keeps a core busy (2 threads on the 2 cores here).' +
        (poll.threadHop ? ` Its floor, the bare round trip of ² with the worker spinning and the main thread polling: p50 ${us(poll.threadHop.p50.median)}, ` +
          `p99 ${us(poll.threadHop.p99.median)}, p99.9 ${us(poll.threadHop.p999.median)}, max ${us(poll.threadHop.max.median)} (medians of the runs). ` : ' ') : '') +
      (tuned ? `⁵ The busy-poll run of ⁴ in a Node process started with those flags: the garbage collector ` +
        'works without helper threads, which would wait for a core the polling threads hold, and its young generation is small, so each scavenge is short. ' : '') +
      (main ? '⁶ `Cluster.start({ shards: 0 })`: the broker serves its partitions on the main thread (InThreadShard), so no produce or fetch waits for another ' +
        'thread to be woken; storage and records share one core with the harness. ' : '') +
      (mainTuned ? `⁷ The run of ⁶ in a Node process started with \`${mainTuned.nodeFlags.join(' ')}\` (the README's flags for \`shards: 0\`): a 4 MiB young generation ` +
        'instead of 16 MiB, scavenged more often and more briefly, each scavenge on the main thread alone rather than with helper threads that must first be woken; ' +
        'with everything on one thread those pauses are what every record waits through.' : ''),
  ].join('\n')
}

function partitionsTable(r: PartitionsResult, results: SystemResults): string {
  const best = Math.max(...r.rows.map((row) => row.recordsPerSec.median))
  const s = r.settings
  return [
    caption(results, 'partitions'),
    '',
    `Settings: as the throughput benchmark (${s.recordBytes}-byte values, null keys with the ${s.partitioning} partitioner, ${s.shards} shards, acks=${s.acks}, ` +
      `batch.size ${s.batchSize / 1024} KiB, linger.ms ${s.lingerMs}, ${s.durationMs / 1000} s per run), one topic per partition count; the counts take turns within each run.`,
    '',
    '| partitions | records/s | MB/s of values | ratio to best | target | status |',
    '|---:|---:|---:|---:|---:|---|',
    ...r.rows.map((row) => {
      const ratio = row.recordsPerSec.median / best
      return `| ${row.partitions.toLocaleString('en-US')} | ${withRange(row.recordsPerSec, formatCount)} | ${mb(row.mbPerSec.median)} | ${percent(ratio)} | ≥ 75% of best | ` +
        `${verdict(ratio >= kTargets.partitionsWithinOfBest, percent(ratio))} |`
    }),
  ].join('\n')
}

function codecsTable(r: CodecsResult, results: SystemResults): string {
  const base = r.rows.find((row) => row.codec === 'none' && row.acks === 1)
  const s = r.settings
  return [
    caption(results, 'codecs'),
    '',
    `Settings: as the throughput benchmark (${s.recordBytes}-byte JSON-like values, ${s.partitions} partitions, ${s.shards} shards, batch.size ${s.batchSize / 1024} KiB, ` +
      `linger.ms ${s.lingerMs}, ${s.durationMs / 1000} s per run); configurations take turns within each run.`,
    '',
    '| codec | acks | produce records/s | MB/s of values | vs none, acks=1 | encode alone ¹, records/s | produce / encode alone | bytes on disk per record |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...r.rows.map((row) => `| ${row.codec} | ${row.acks === -1 ? 'all (-1)' : row.acks} | ${withRange(row.recordsPerSec, formatCount)} | ${mb(row.mbPerSec.median)} | ` +
      `${base ? percent(ratioOf(row.recordsPerSec, base.recordsPerSec)) : ''} | ${withRange(row.encodeOnlyRecordsPerSec, formatCount)} | ` +
      `${percent(ratioOf(row.recordsPerSec, row.encodeOnlyRecordsPerSec))} | ${row.diskBytesPerRecord.toFixed(1)} |`),
    '',
    '¹ encodeRecordBatch of producer-sized batches with that codec, 4 at a time on this thread (async codecs on libuv\'s pool), no engine: the CPU ' +
      'limit of the producer\'s own work, measured right after each produce run.',
  ].join('\n')
}

/** The Markdown of one benchmark's section, or undefined when it has no result. */
export function renderSection(name: BenchmarkName, results: SystemResults): string | undefined {
  switch (name) {
    case 'throughput': return results.results.throughput && throughputTable(results.results.throughput, results)
    case 'e2e': return results.results.e2e && e2eTable(results.results.e2e, results)
    case 'partitions': return results.results.partitions && partitionsTable(results.results.partitions, results)
    case 'codecs': return results.results.codecs && codecsTable(results.results.codecs, results)
  }
}

/**
 * One table of every target and its status, or undefined unless every benchmark has a
 * result in `results` (a partial rerun leaves the previous summary alone).
 */
export function renderSummary(results: SystemResults): string | undefined {
  const { throughput: t, e2e, partitions, codecs } = results.results
  if (!t || !e2e || !partitions || !codecs) return undefined
  const best = Math.max(...partitions.rows.map((r) => r.recordsPerSec.median))
  const worst = partitions.rows.reduce((a, b) => (a.recordsPerSec.median <= b.recordsPerSec.median ? a : b))
  const none = codecs.rows.find((r) => r.codec === 'none' && r.acks === 1)
  const all = codecs.rows.find((r) => r.codec === 'none' && r.acks === -1)
  const line = (what: string, figure: string, target: string, met: boolean, note: string): string =>
    `| ${what} | ${figure} | ${target} | ${met ? '**met**' : '**missed**'} | ${note} |`
  return [
    `${results.date.slice(0, 10)}, ${results.machine.summary}, commit ${results.machine.commit}; medians of ${results.runs} runs.`,
    '',
    '| benchmark | figure | target | status | against its raw limit |',
    '|---|---:|---:|---|---|',
    line('produce, 8 partitions, acks=1', `${formatCount(t.produce.recordsPerSec.median)} records/s`, '≥ 3 M records/s', t.produce.recordsPerSec.median >= kTargets.produceRecordsPerSec,
      `${percent(ratioOf(t.produce.diskMbPerSec, t.rawWrite.mbPerSec))} of fs.writeSync of the same bytes`),
    line('consume from the page cache, eachBatch', `${formatCount(t.consume.recordsPerSec.median)} records/s`, '≥ 5 M records/s', t.consume.recordsPerSec.median >= kTargets.consumeRecordsPerSec,
      `${percent(ratioOf(t.consume.recordsPerSec, t.rawRead.recordsPerSec))} of fs.readSync, ${percent(ratioOf(t.consume.recordsPerSec, t.decodeOnly.recordsPerSec))} of decoding alone`),
    line(`consume, node ${t.consumeTuned.nodeFlags.join(' ')}`, `${formatCount(t.consumeTuned.recordsPerSec.median)} records/s`, '≥ 5 M records/s', t.consumeTuned.recordsPerSec.median >= kTargets.consumeRecordsPerSec,
      `${percent(ratioOf(t.consumeTuned.recordsPerSec, t.rawRead.recordsPerSec))} of fs.readSync, ${percent(ratioOf(t.consumeTuned.recordsPerSec, t.decodeOnly.recordsPerSec))} of decoding alone`),
    line('e2e p50 at 100,000 records/s', us(e2e.shardlog.p50.median), '< 100 µs', e2e.shardlog.p50.median < kTargets.e2eP50Us, `loopback floor ${us(e2e.loopback.p50.median)}, thread round trip ${us(e2e.threadHop.p50.median)}`),
    line('e2e p99', us(e2e.shardlog.p99.median), '< 1 ms', e2e.shardlog.p99.median < kTargets.e2eP99Us, `loopback floor ${us(e2e.loopback.p99.median)}, thread round trip ${us(e2e.threadHop.p99.median)}`),
    line('e2e p99.9', us(e2e.shardlog.p999.median), '< 5 ms', e2e.shardlog.p999.median < kTargets.e2eP999Us, `loopback floor ${us(e2e.loopback.p999.median)}, thread round trip ${us(e2e.threadHop.p999.median)}`),
    ...(e2e.shardlogBusyPoll ? busyPollLines(e2e.shardlogBusyPoll, line) : []),
    ...(e2e.shardlogBusyPollTuned ? tunedLines(e2e.shardlogBusyPollTuned, line) : []),
    ...(e2e.shardlogMainThread ? mainThreadLines('shards: 0', e2e.shardlogMainThread, line) : []),
    ...(e2e.shardlogMainThreadTuned ? mainThreadLines(`shards: 0, node ${e2e.shardlogMainThreadTuned.nodeFlags.join(' ')}`, e2e.shardlogMainThreadTuned, line) : []),
    line('1 to 1,000 partitions', `worst ${percent(worst.recordsPerSec.median / best)} of best (${worst.partitions.toLocaleString('en-US')} partitions)`, 'within 25% of best',
      worst.recordsPerSec.median / best >= kTargets.partitionsWithinOfBest, `best ${formatCount(best)} records/s`),
    line('acks=-1 against acks=1', all && none ? percent(ratioOf(all.recordsPerSec, none.recordsPerSec)) : 'n/a', '(no target)', true, 'one replica per partition: the ISR is the leader'),
  ].join('\n').replace('| (no target) | **met** |', '| (no target) | — |')
}

/** Summary lines of the e2e run with busy polling, one per percentile target. */
function busyPollLines(poll: NonNullable<E2eResult['shardlogBusyPoll']>,
  line: (what: string, figure: string, target: string, met: boolean, note: string) => string): string[] {
  const setup = `${poll.shards} shard, busyPollUs ${poll.busyPollUs}`
  return [
    line(`e2e p50, ${setup}`, us(poll.p50.median), '< 100 µs', poll.p50.median < kTargets.e2eP50Us, 'main thread and shard poll instead of sleeping: a core each'),
    line(`e2e p99, ${setup}`, us(poll.p99.median), '< 1 ms', poll.p99.median < kTargets.e2eP99Us, ''),
    line(`e2e p99.9, ${setup}`, us(poll.p999.median), '< 5 ms', poll.p999.median < kTargets.e2eP999Us, ''),
  ]
}

/** Summary lines of the busy-poll run under the latency flags, for the tail targets. */
function tunedLines(tuned: NonNullable<E2eResult['shardlogBusyPollTuned']>,
  line: (what: string, figure: string, target: string, met: boolean, note: string) => string): string[] {
  const setup = `${tuned.shards} shard, busyPollUs ${tuned.busyPollUs}, node ${tuned.nodeFlags.join(' ')}`
  return [
    line(`e2e p99, ${setup}`, us(tuned.p99.median), '< 1 ms', tuned.p99.median < kTargets.e2eP99Us, ''),
    line(`e2e p99.9, ${setup}`, us(tuned.p999.median), '< 5 ms', tuned.p999.median < kTargets.e2eP999Us, ''),
  ]
}

/** Summary lines of an e2e run with every partition on the main thread, one per percentile target. */
function mainThreadLines(setup: string, f: Percentiles,
  line: (what: string, figure: string, target: string, met: boolean, note: string) => string): string[] {
  return [
    line(`e2e p50, ${setup}`, us(f.p50.median), '< 100 µs', f.p50.median < kTargets.e2eP50Us, 'no shard workers: no thread wake-ups, one core'),
    line(`e2e p99, ${setup}`, us(f.p99.median), '< 1 ms', f.p99.median < kTargets.e2eP99Us, ''),
    line(`e2e p99.9, ${setup}`, us(f.p999.median), '< 5 ms', f.p999.median < kTargets.e2eP999Us, ''),
  ]
}

/** The marker name of a benchmark's section in BENCHMARKS.md. */
export function sectionName(name: BenchmarkName): string {
  return `system-${name}`
}
