/**
 * `wire`: produce and consume throughput over loopback TCP, with shardlog's own pipelined
 * client (WireProducer / WireConsumer of `src/protocol/client`) and with kafkajs, next to the
 * in-process API in the same run. Target: the project's client produces at least 1 million
 * 100-byte records/s over loopback on the 2-core machine.
 *
 * One broker with 2 shard workers serves the Kafka protocol on 127.0.0.1 (`listeners: true`).
 * The wire clients run in a process of their own (this file, started with `--client`), as
 * an application would; the in-process producer and consumer run in the cluster's process,
 * which is their nature. Each configuration produces into a fresh 8-partition topic for a
 * fixed time, clients taking turns within each run so that machine noise falls on all alike;
 * then every client consumes the same topic (the last run's wire-produced records) from the
 * beginning in a fresh group.
 *
 * ```
 * npx tsx bench/system/wire.bench.ts            3 runs, ~2 min; rewrites its table in BENCHMARKS.md
 * npx tsx bench/system/wire.bench.ts --quick    1 short run, BENCHMARKS.md untouched
 * ```
 */
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import kafkajs from 'kafkajs'
import { Cluster } from '../../src/client/cluster.js'
import type { Message } from '../../src/client/types.js'
import { WireConsumer } from '../../src/protocol/client/wire-consumer.js'
import { WireProducer, type WireMessage } from '../../src/protocol/client/wire-producer.js'
import {
  contextCaption, driveSends, exitWhenDone, formatRate, formatRatio, isMainModule, markdownTable, medianWithRange,
  runContext, runStandalone, type BenchRunOptions, type BenchSection, type RunContext,
} from './bench-section.js'
import { median } from './stats.js'
import { consumeAll, recordValues } from './workload.js'

const { Kafka, logLevel, Partitioners } = kafkajs

/** The clients compared. */
export type WireClientName = 'in-process' | 'shardlog-wire' | 'kafkajs'
const kClients: readonly WireClientName[] = ['in-process', 'shardlog-wire', 'kafkajs']

/** The target of the issue: records/s the project's client produces over loopback. */
export const kWireProduceTarget = 1_000_000

/** How every client is driven; the same for all, so their figures differ only by the client. */
const kSettings = {
  partitions: 8,
  shards: 2,
  recordBytes: 100,
  acks: 1 as const,
  /** Messages per `send` call. */
  messagesPerSend: 2000,
  /** `send` calls outstanding at once. */
  sendsInFlight: 16,
  /** Kafka's `batch.size` for the shardlog producers (kafkajs has none: one batch per partition per send). */
  batchSize: 512 * 1024,
  lingerMs: 5,
  /** Kafka's `max.in.flight.requests.per.connection` for the shardlog producers. */
  maxInFlightRequests: 8,
  /** kafkajs's consumer defaults (maxBytes 10 MB, maxBytesPerPartition 1 MB), given to every consumer. */
  maxBytes: 10 * 1024 * 1024,
  maxBytesPerPartition: 1024 * 1024,
}

/** One client's figures in one run. */
interface ClientFigures {
  recordsPerSec: number
  /** Cores the cluster's process used (main thread and shard workers). */
  serverCores: number
  /** Cores the client's process used; for `in-process` it is the cluster's process. */
  clientCores: number
  /** Consume only: from `run` to the first batch (group join, first fetch), ms. */
  timeToFirstMs?: number
}

/** What `run` returns as `results`. */
export interface WireResults {
  context: RunContext
  settings: typeof kSettings & { durationMs: number; runs: number; consumedRecords: number }
  /** Per client, one entry per run. */
  produce: Record<WireClientName, ClientFigures[]>
  consume: Record<WireClientName, ClientFigures[]>
  targetMet: boolean
}

// ---- client process -------------------------------------------------------------------------

/** What the cluster's process asks a client process to do. */
interface ClientTask {
  client: Exclude<WireClientName, 'in-process'>
  op: 'produce' | 'consume'
  bootstrap: string
  topic: string
  durationMs: number
  /** Consume: records to read before stopping. */
  expected: number
  groupId: string
}

/** What a client process reports back. */
interface ClientOutcome {
  records: number
  elapsedMs: number
  cpuMs: number
  timeToFirstMs?: number
}

type ClientMessage = { ready: true } | { outcome: ClientOutcome } | { error: string }

/** Value arrays for 16 sends, built once: no client keeps or mutates them. */
function sendArrays<M>(toMessage: (value: Buffer) => M): M[][] {
  const values = recordValues()
  return Array.from({ length: 16 }, (_, s) => Array.from({ length: kSettings.messagesPerSend }, (_, i) => toMessage(values[(s * kSettings.messagesPerSend + i) % values.length]!)))
}

/** Waits for the cluster's process to say go (after it took its CPU snapshot). */
function handshake(): Promise<void> {
  return new Promise((resolve) => {
    process.once('message', () => resolve())
    process.send!({ ready: true } satisfies ClientMessage)
  })
}

async function produceWithShardlogWire(task: ClientTask): Promise<ClientOutcome> {
  const producer = await WireProducer.create(task.bootstrap, {
    acks: kSettings.acks, lingerMs: kSettings.lingerMs, batchSize: kSettings.batchSize, maxInFlightRequests: kSettings.maxInFlightRequests,
    bufferMemory: 256 * 1024 * 1024, allowAutoTopicCreation: false,
  })
  try {
    const sends = sendArrays((value): WireMessage => ({ value }))
    // WireProducer's linger timer only schedules a drain, which closes the open batch if Date.now()
    // says lingerMs has passed since the batch was created. Node's timers count from the event
    // loop's cached time, which lags Date.now() after a busy tick, so the timer can fire "early":
    // the batch then stays open until another send, response or flush comes, and a send that is
    // the last for a while never resolves. Hence closeBatch on the priming send (metadata and
    // connection before the clock starts) and flush() after the last send, which is what the
    // 5 ms linger would do.
    await producer.send(task.topic, sends[0]!.slice(0, 1), { closeBatch: true })
    await handshake()
    const flush = (): void => { producer.flush().catch(() => undefined) } // a failed batch fails its send, which driveSends reports
    return await driveSends((messages) => producer.send(task.topic, messages), sends, task.durationMs, kSettings.sendsInFlight, flush)
  } finally {
    await producer.close()
  }
}

function kafkajsClient(bootstrap: string): InstanceType<typeof Kafka> {
  return new Kafka({ clientId: 'bench', brokers: [bootstrap], logLevel: logLevel.NOTHING })
}

async function produceWithKafkajs(task: ClientTask): Promise<ClientOutcome> {
  const producer = kafkajsClient(task.bootstrap).producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false })
  await producer.connect()
  try {
    const sends = sendArrays((value) => ({ value }))
    await producer.send({ topic: task.topic, acks: kSettings.acks, messages: sends[0]!.slice(0, 1) })
    await handshake()
    return await driveSends((messages) => producer.send({ topic: task.topic, acks: kSettings.acks, messages }), sends, task.durationMs, kSettings.sendsInFlight)
  } finally {
    await producer.disconnect()
  }
}

/** Counts records until `expected`; the clock runs from the first batch to the last record, as consumeAll does. */
class ConsumeCounter {
  records = 0
  /** Value bytes seen. */
  bytes = 0
  private runAt = 0
  private first = 0
  private last = 0
  private cpuAtFirst = process.cpuUsage()
  private cpuUsed = { user: 0, system: 0 }
  private resolveDone!: () => void
  readonly done = new Promise<void>((resolve) => { this.resolveDone = resolve })

  constructor(private readonly expected: number) {}

  started(): void {
    this.runAt = performance.now()
  }

  batch(values: ReadonlyArray<Buffer | null>): void {
    if (this.first === 0) {
      this.first = performance.now()
      this.cpuAtFirst = process.cpuUsage()
    }
    // Touch each value as an application would, so a lazy decoder cannot skip the work.
    for (const v of values) this.bytes += v?.length ?? 0
    this.records += values.length
    if (this.records >= this.expected && this.last === 0) {
      this.last = performance.now()
      this.cpuUsed = process.cpuUsage(this.cpuAtFirst)
      this.resolveDone()
    }
  }

  outcome(): ClientOutcome {
    return { records: this.records, elapsedMs: this.last - this.first, cpuMs: (this.cpuUsed.user + this.cpuUsed.system) / 1000, timeToFirstMs: this.first - this.runAt }
  }
}

async function consumeWithShardlogWire(task: ClientTask): Promise<ClientOutcome> {
  const consumer = await WireConsumer.create(task.bootstrap, {
    groupId: task.groupId, autoOffsetReset: 'earliest', autoCommit: false,
    maxBytes: kSettings.maxBytes, maxPartitionBytes: kSettings.maxBytesPerPartition,
  })
  try {
    consumer.subscribe([task.topic])
    await handshake()
    const counter = new ConsumeCounter(task.expected)
    counter.started()
    await consumer.run({ eachBatch: (batch) => counter.batch(batch.records.map((r) => r.value)) })
    await Promise.race([counter.done, consumer.done()])
    return counter.outcome()
  } finally {
    await consumer.close({ commit: false })
  }
}

async function consumeWithKafkajs(task: ClientTask): Promise<ClientOutcome> {
  const consumer = kafkajsClient(task.bootstrap).consumer({ groupId: task.groupId, maxBytes: kSettings.maxBytes, maxBytesPerPartition: kSettings.maxBytesPerPartition })
  await consumer.connect()
  try {
    await consumer.subscribe({ topics: [task.topic], fromBeginning: true })
    await handshake()
    const counter = new ConsumeCounter(task.expected)
    counter.started()
    await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => counter.batch(batch.messages.map((m) => m.value)) })
    await counter.done
    return counter.outcome()
  } finally {
    await consumer.disconnect()
  }
}

/** Sends `message` to the cluster's process; resolves once it left (so exiting cannot drop it). */
function report(message: ClientMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()))
}

/** The client process: runs one task and reports its outcome over IPC. */
async function clientMain(taskJson: string): Promise<void> {
  const task = JSON.parse(taskJson) as ClientTask
  try {
    const work = task.op === 'produce'
      ? (task.client === 'kafkajs' ? produceWithKafkajs : produceWithShardlogWire)
      : (task.client === 'kafkajs' ? consumeWithKafkajs : consumeWithShardlogWire)
    await report({ outcome: await work(task) })
  } catch (err) {
    await report({ error: err instanceof Error ? err.stack ?? err.message : String(err) })
  }
}

// ---- cluster process ------------------------------------------------------------------------

const thisFile = fileURLToPath(import.meta.url)

/** A client process that has not reported this long after it was started is killed, and the benchmark fails. */
const kClientTimeoutMs = 180_000

/** Runs `task` in a client process; the cluster's CPU is counted between the client's ready and its outcome. */
function inClientProcess(task: ClientTask): Promise<{ outcome: ClientOutcome; serverCpuMs: number; serverMs: number }> {
  return new Promise((resolve, reject) => {
    // process.execArgv carries tsx's loader, so the child can load this .ts file too.
    const child = fork(thisFile, ['--client', JSON.stringify(task)], { execArgv: process.execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let cpu = process.cpuUsage()
    let started = 0
    let settled = false
    // A stuck client (a send that never resolves) must fail the benchmark, not hang it.
    const watchdog = setTimeout(() => {
      settle(() => reject(new Error(`${task.client} ${task.op}: no outcome after ${kClientTimeoutMs / 1000} s; the client process was killed`)))
      child.kill('SIGKILL')
    }, kClientTimeoutMs)
    const settle = (f: () => void): void => {
      clearTimeout(watchdog)
      if (!settled) {
        settled = true
        f()
      }
    }
    child.on('message', (m: ClientMessage) => {
      if ('ready' in m) {
        cpu = process.cpuUsage()
        started = performance.now()
        child.send('go')
      } else if ('outcome' in m) {
        const used = process.cpuUsage(cpu)
        const serverMs = performance.now() - started
        settle(() => resolve({ outcome: m.outcome, serverCpuMs: (used.user + used.system) / 1000, serverMs }))
      } else {
        settle(() => reject(new Error(`${task.client} ${task.op} failed: ${m.error}`)))
      }
    })
    child.on('exit', (code) => settle(() => reject(new Error(`${task.client} ${task.op}: the client process ended (exit code ${code}) without an outcome`))))
  })
}

async function produceInProcess(cluster: Cluster, topic: string, durationMs: number): Promise<ClientFigures> {
  const producer = cluster.producer({
    acks: kSettings.acks, lingerMs: kSettings.lingerMs, batchSize: kSettings.batchSize, maxInFlightRequests: kSettings.maxInFlightRequests,
    bufferMemory: 256 * 1024 * 1024, allowAutoTopicCreation: false,
  })
  try {
    const sends = sendArrays((value): Message => ({ value }))
    const outcome = await driveSends((messages) => producer.send({ topic, messages }), sends, durationMs, kSettings.sendsInFlight)
    const cores = outcome.cpuMs / outcome.elapsedMs
    return { recordsPerSec: outcome.records / (outcome.elapsedMs / 1000), serverCores: cores, clientCores: cores }
  } finally {
    await producer.disconnect()
  }
}

async function overWire(task: ClientTask): Promise<ClientFigures> {
  const { outcome, serverCpuMs, serverMs } = await inClientProcess(task)
  return {
    recordsPerSec: outcome.records / (outcome.elapsedMs / 1000),
    serverCores: serverCpuMs / serverMs,
    clientCores: outcome.cpuMs / outcome.elapsedMs,
    ...(outcome.timeToFirstMs === undefined ? {} : { timeToFirstMs: outcome.timeToFirstMs }),
  }
}

/** Runs the benchmark; see the module comment. */
export async function run(opts: BenchRunOptions = {}): Promise<BenchSection> {
  const quick = opts.quick ?? false
  const context = runContext(quick)
  const runs = quick ? 1 : 3
  const durationMs = quick ? 1000 : 3000
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shardlog-bench-wire-'))
  const cluster = await Cluster.start({ dataDir: path.join(dir, 'data'), brokers: 1, shards: kSettings.shards, listeners: true })
  try {
    const admin = cluster.admin()
    const bootstrap = cluster.bootstrap!
    const createTopic = (topic: string): Promise<boolean> => admin.createTopics({ topics: [{ topic, numPartitions: kSettings.partitions, replicationFactor: 1 }] })
    const task = (client: ClientTask['client'], op: ClientTask['op'], topic: string, extra: Partial<ClientTask> = {}): ClientTask =>
      ({ client, op, bootstrap, topic, durationMs, expected: 0, groupId: '', ...extra })

    // Warmup (JIT, workers, first segments, tsx's cache for the client process); not measured.
    await createTopic('warmup')
    await produceInProcess(cluster, 'warmup', Math.min(1000, durationMs))
    await overWire({ ...task('shardlog-wire', 'produce', 'warmup'), durationMs: Math.min(1000, durationMs) })
    await admin.deleteTopics({ topics: ['warmup'] })

    const produce: WireResults['produce'] = { 'in-process': [], 'shardlog-wire': [], kafkajs: [] }
    let keep: string | undefined
    for (let r = 0; r < runs; r++) {
      for (const client of kClients) {
        const topic = `wire-${client}-${r}`
        await createTopic(topic)
        const figures = client === 'in-process' ? await produceInProcess(cluster, topic, durationMs) : await overWire(task(client, 'produce', topic))
        produce[client].push(figures)
        process.stderr.write(`  produce run ${r + 1}/${runs} ${client}: ${formatRate(figures.recordsPerSec)} records/s\n`)
        // The last wire-produced topic is what every consumer reads; the others free their disk and page cache.
        if (client === 'shardlog-wire') {
          if (keep !== undefined) await admin.deleteTopics({ topics: [keep] })
          keep = topic
        } else {
          await admin.deleteTopics({ topics: [topic] })
        }
      }
    }

    const source = keep!
    const offsets = await admin.fetchTopicOffsets(source)
    const consumedRecords = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)
    const consume: WireResults['consume'] = { 'in-process': [], 'shardlog-wire': [], kafkajs: [] }
    for (let r = 0; r < runs; r++) {
      for (const client of kClients) {
        const groupId = `wire-consume-${client}-${r}`
        let figures: ClientFigures
        if (client === 'in-process') {
          const o = await consumeAll(cluster, source, consumedRecords, groupId, { maxBytes: kSettings.maxBytes, maxBytesPerPartition: kSettings.maxBytesPerPartition })
          const cores = o.cpuMs / o.elapsedMs
          figures = { recordsPerSec: o.records / (o.elapsedMs / 1000), serverCores: cores, clientCores: cores, timeToFirstMs: o.timeToFirstBatchMs }
        } else {
          figures = await overWire(task(client, 'consume', source, { expected: consumedRecords, groupId }))
        }
        consume[client].push(figures)
        process.stderr.write(`  consume run ${r + 1}/${runs} ${client}: ${formatRate(figures.recordsPerSec)} records/s\n`)
      }
    }

    const wireProduce = median(produce['shardlog-wire'].map((f) => f.recordsPerSec))
    const results: WireResults = {
      context,
      settings: { ...kSettings, durationMs, runs, consumedRecords },
      produce,
      consume,
      targetMet: wireProduce >= kWireProduceTarget,
    }
    return { title: 'Wire protocol over loopback: shardlog client and kafkajs', markdown: renderWire(results), results }
  } finally {
    await cluster.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

function clientTable(figures: Record<WireClientName, ClientFigures[]>, withFirst: boolean): string {
  const base = median(figures['in-process'].map((f) => f.recordsPerSec))
  const header = ['client', 'records/s', 'MB/s', 'of in-process', 'cluster process cores', 'client process cores', ...(withFirst ? ['run to first batch'] : [])]
  const rows = kClients.map((client) => {
    const fs = figures[client]
    const rate = fs.map((f) => f.recordsPerSec)
    const mb = median(rate) * kSettings.recordBytes / 1e6
    const clientCores = client === 'in-process' ? '(same process)' : median(fs.map((f) => f.clientCores)).toFixed(2)
    return [
      client === 'shardlog-wire' ? 'shardlog wire client' : client === 'kafkajs' ? 'kafkajs 2.2.4' : 'in-process API',
      medianWithRange(rate, formatRate),
      mb.toFixed(0),
      formatRatio(median(rate) / base),
      median(fs.map((f) => f.serverCores)).toFixed(2),
      clientCores,
      ...(withFirst ? [`${Math.round(median(fs.map((f) => f.timeToFirstMs ?? Number.NaN)))} ms`] : []),
    ]
  })
  return markdownTable(header, rows, new Set([1, 2, 3, 4, 5, 6]))
}

function renderWire(r: WireResults): string {
  const s = r.settings
  const wire = median(r.produce['shardlog-wire'].map((f) => f.recordsPerSec))
  return [
    `Produce, ${s.durationMs / 1000} s per run, ${s.runs} run(s) interleaved (median, range in brackets):`,
    '',
    clientTable(r.produce, false),
    '',
    `Consume of the same ${s.consumedRecords.toLocaleString('en-US')} records from the page cache, fresh group each time, first batch to last record:`,
    '',
    clientTable(r.consume, true),
    '',
    `**Target** (shardlog's own client ≥ ${formatRate(kWireProduceTarget)} records/s produce over loopback): ` +
      `${r.targetMet ? '**met**' : '**missed**'} (median ${formatRate(wire)} records/s).`,
    '',
    `Settings: 1 broker, ${s.shards} shard workers, listener on 127.0.0.1; topic of ${s.partitions} partitions; ` +
      `${s.recordBytes}-byte values, null keys; acks=${s.acks}, no compression; every client gets ${s.messagesPerSend} messages per ` +
      `\`send\` with ${s.sendsInFlight} sends outstanding; shardlog producers (in-process and wire): \`batchSize\` ${s.batchSize / 1024} KiB, ` +
      `\`lingerMs\` ${s.lingerMs}, \`maxInFlightRequests\` ${s.maxInFlightRequests}, sticky partitioning; kafkajs: DefaultPartitioner ` +
      `(round-robin per message for null keys), one batch per partition per send. Consumers: \`eachBatch\`, maxBytes 10 MiB, ` +
      `1 MiB per partition. Wire clients run in a separate Node process; "cores" are CPU-seconds per second of each process ` +
      '(the cluster process includes its shard worker threads).',
    '',
    contextCaption(r.context),
  ].join('\n')
}

if (isMainModule(import.meta.url)) {
  const at = process.argv.indexOf('--client')
  if (at >= 0) exitWhenDone(clientMain(process.argv[at + 1]!))
  else exitWhenDone(runStandalone('wire', run))
}
