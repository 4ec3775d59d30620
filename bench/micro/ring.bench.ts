/**
 * The shard transport: a round trip of a small frame main → worker → main, throughput of
 * 100 KB frames through a real worker thread, and the single-thread copy cost of the ring.
 *
 *   registered by the micro-benchmark runner:  export register(bench)
 *   standalone, with figures in µs and MB/s:   npx tsx bench/micro/ring.bench.ts
 *
 * The worker is the transport tests' echo worker (`test/shard/fixtures/echo-worker.ts`), so
 * only the transport is measured, not a shard runtime.
 */
import { pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'
import { kDefaultRingBytes, MessageBacklog, RingConsumer, RingProducer, createRingBuffer } from '../../src/shard/ring.js'
import { ShardHost } from '../../src/shard/shard-host.js'
import { RequestTable } from '../../src/shard/request-table.js'
import { EchoOp, type EchoWorkerData } from '../../test/shard/fixtures/echo-worker.js'
import { kModuleExtension } from '../system/repo-root.js'

// The echo worker next to this module's build, or the TypeScript one when run from sources.
const echoWorkerUrl = new URL(`../../test/shard/fixtures/echo-worker${kModuleExtension}`, import.meta.url)
const kSmallBytes = 64
const kLargeBytes = 100 * 1024
/** 100 KB requests kept in flight by one throughput iteration. */
const kLargeBatch = 64

/** Task names, also used by the standalone report. */
export const RingBenchTask = {
  RoundTrip: `round trip, ${kSmallBytes} B echo (endpoint default: waitAsync)`,
  RoundTripBlocking: `round trip, ${kSmallBytes} B echo (endpoint blocking in Atomics.wait, 10 ms slices)`,
  RoundTripBlocking1Ms: `round trip, ${kSmallBytes} B echo (endpoint blocking in Atomics.wait, 1 ms slices)`,
  Throughput: `throughput, ${kLargeBatch} x 100 KB requests in flight, 4-byte acks`,
  ThroughputEcho: `throughput, ${kLargeBatch} x 100 KB echoed both ways`,
  CopyOnly: 'ring copy cost, 100 KB write + drain, one thread',
  CallsInTable: 'calls in flight: 10,000 add + take, 8 in flight, RequestTable (old generation)',
  CallsInMap: 'calls in flight: 10,000 set + delete, 8 in flight, Map by id (old generation)',
} as const

/** Calls kept in flight by the calls-in-flight tasks, as a channel keeps a few. */
const kCallsInFlight = 8
const kCallsPerIteration = 10_000

async function startEcho(shardId: number, data: EchoWorkerData): Promise<ShardHost> {
  return ShardHost.start({ shardId, workerUrl: echoWorkerUrl, workerData: data, ringBytes: kDefaultRingBytes })
}

/** Adds the transport tasks to `bench`; the worker threads stop when the bench completes. */
export async function register(bench: Bench): Promise<void> {
  const hosts = await Promise.all([
    startEcho(0, {}),
    startEcho(1, { endpoint: { idleWaitMs: 10, hotIdleMs: 60_000 } }),
    startEcho(2, { endpoint: { idleWaitMs: 1, hotIdleMs: 60_000 } }),
  ])
  const [host, blockingHost, blocking1MsHost] = hosts as [ShardHost, ShardHost, ShardHost]
  const stopAll = (): void => { void Promise.all(hosts.map((h) => h.stop())) }
  bench.addEventListener('complete', stopAll)
  bench.addEventListener('abort', stopAll)
  bench.addEventListener('error', stopAll)

  const small = Buffer.alloc(kSmallBytes, 1)
  bench.add(RingBenchTask.RoundTrip, async () => { await host.request(EchoOp.Echo, small) })
  bench.add(RingBenchTask.RoundTripBlocking, async () => { await blockingHost.request(EchoOp.Echo, small) })
  bench.add(RingBenchTask.RoundTripBlocking1Ms, async () => { await blocking1MsHost.request(EchoOp.Echo, small) })

  const large = Buffer.alloc(kLargeBytes, 2)
  const batch = (op: number): Promise<Buffer[]> =>
    Promise.all(Array.from({ length: kLargeBatch }, () => host.request(op, large)))
  bench.add(RingBenchTask.Throughput, async () => { await batch(EchoOp.Ack) })
  bench.add(RingBenchTask.ThroughputEcho, async () => { await batch(EchoOp.Echo) })

  const sab = createRingBuffer(kDefaultRingBytes)
  const producer = new RingProducer(sab)
  const consumer = new RingConsumer(sab)
  const backlog = new MessageBacklog()
  bench.add(RingBenchTask.CopyOnly, () => {
    backlog.push({ requestId: 1, op: 1, flags: 0, payload: large, sent: 0 })
    while (!producer.writeMessage(backlog.peek())) consumer.drain(() => undefined)
    backlog.shift()
    consumer.drain(() => undefined)
  })

  // ShardChannel's bookkeeping of calls in flight, both ways. Both live as long as the bench
  // (old generation by the time it is measured), as a channel's do: the Map's rehashed tables
  // then go straight to the old generation, and the task's time includes the mark-compacts
  // they cause (src/shard/request-table.ts).
  const table = new RequestTable<{ n: number }>()
  const map = new Map<number, { n: number }>()
  let nextId = 0
  const tableIds: number[] = []
  const mapIds: number[] = []
  bench.add(RingBenchTask.CallsInTable, () => {
    for (let i = 0; i < kCallsPerIteration; i++) {
      tableIds.push(table.add({ n: i }))
      if (tableIds.length > kCallsInFlight) table.take(tableIds.shift()!)
    }
  })
  bench.add(RingBenchTask.CallsInMap, () => {
    for (let i = 0; i < kCallsPerIteration; i++) {
      nextId = (nextId + 1) >>> 0
      const id = nextId
      map.set(id, { n: i })
      mapIds.push(id)
      if (mapIds.length > kCallsInFlight) map.delete(mapIds.shift()!)
    }
  })
}

/** Runs the tasks and prints latency percentiles in µs and throughput in MB/s. */
async function main(): Promise<void> {
  const bench = new Bench({ name: 'shard ring', time: 3000, warmupTime: 500 })
  await register(bench)
  await bench.run()
  const mb = (bytes: number): number => bytes / (1024 * 1024)
  for (const task of bench.tasks) {
    const result = task.result
    if (result.state !== 'completed') {
      console.log(`${task.name}: ${result.state}`)
      continue
    }
    const { latency } = result
    const us = (ms: number | undefined): string => ((ms ?? Number.NaN) * 1000).toFixed(1)
    let line = `${task.name}\n    ${latency.samplesCount} samples, p50 ${us(latency.p50)} µs, p99 ${us(latency.p99)} µs, mean ${us(latency.mean)} µs`
    const bytesPerIteration = task.name === RingBenchTask.Throughput ? kLargeBatch * kLargeBytes
      : task.name === RingBenchTask.ThroughputEcho ? 2 * kLargeBatch * kLargeBytes
        : task.name === RingBenchTask.CopyOnly ? kLargeBytes : 0
    if (bytesPerIteration > 0) {
      const seconds = latency.mean / 1000
      const frames = (bytesPerIteration / kLargeBytes) / seconds
      line += `\n    ${mb(bytesPerIteration / seconds).toFixed(0)} MB/s, ${frames.toFixed(0)} frames of 100 KB/s`
    }
    console.log(line)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
