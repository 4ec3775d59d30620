/**
 * The work the system benchmarks do: 100-byte records, a producer driven as fast as the API
 * lets it for a fixed time, a consumer draining a topic, and a look at what landed on disk.
 */
import { closeSync, openSync, readdirSync, readSync, statSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { Cluster } from '../../src/client/cluster.js'
import type { Producer, ProducerConfig } from '../../src/client/producer.js'
import type { Message } from '../../src/client/types.js'
import type { ProduceSettings } from './results.js'

/** Value bytes of every record, as in the brief of each benchmark. */
export const kRecordBytes = 100

/**
 * `count` distinct 100-byte JSON-like values. Distinct and text-like so compressed runs see
 * what an event stream gives a codec, not a run of identical bytes.
 */
export function recordValues(count = 1024): Buffer[] {
  return Array.from({ length: count }, (_, i) => {
    const text = `{"id":${100000 + i},"user":"u${(i * 7919) % 5000}","amount":${(i * 104729) % 100000},"status":"${i % 3 ? 'paid' : 'open'}","t":"${(i * 31) % 997}"}`
    return Buffer.from(text.padEnd(kRecordBytes, ' ').slice(0, kRecordBytes))
  })
}

/** The producer settings of the throughput figures (see `baseProduceSettings`) as a producer config. */
export function benchProducerConfig(settings: Pick<ProduceSettings, 'acks' | 'compression' | 'lingerMs' | 'batchSize' | 'maxInFlightRequests'>): ProducerConfig {
  return {
    acks: settings.acks, compression: settings.compression, lingerMs: settings.lingerMs, batchSize: settings.batchSize,
    maxInFlightRequests: settings.maxInFlightRequests,
    // Room for every send in flight: the benchmarks measure throughput, not back-pressure.
    bufferMemory: 256 * 1024 * 1024,
  }
}

/** How a {@link produceFor} run calls the producer. */
export interface ProduceDrive {
  topic: string
  durationMs: number
  /** Messages per `producer.send` call. */
  messagesPerSend: number
  /** `send` calls awaited at once. */
  sendsInFlight: number
  /**
   * `sticky`: null keys, the default partitioner fills one partition's batch, then moves on
   * (Kafka's sticky partitioner, KIP-480). `spread`: every send spreads its messages over
   * `partitions` partitions round-robin, as keyed traffic would.
   */
  partitioning: 'sticky' | 'spread'
  /** Partitions of the topic (used by `spread`). */
  partitions: number
  values: readonly Buffer[]
}

/** What a {@link produceFor} run achieved. */
export interface ProduceOutcome {
  /** Records acknowledged. */
  records: number
  /** From the first send to the last acknowledgement, ms. */
  elapsedMs: number
  /** CPU time of the process (all threads) over the run, ms. */
  cpuMs: number
}

/**
 * Sends for `durationMs` (then waits for what is in flight) and counts acknowledged records.
 * Message arrays are built once and reused: the producer does not keep or mutate them.
 */
export async function produceFor(producer: Producer, drive: ProduceDrive): Promise<ProduceOutcome> {
  const sends: Message[][] = []
  for (let s = 0; s < 16; s++) {
    sends.push(Array.from({ length: drive.messagesPerSend }, (_, i) => {
      const value = drive.values[(s * drive.messagesPerSend + i) % drive.values.length]!
      return drive.partitioning === 'spread' ? { value, partition: (s + i) % drive.partitions } : { value }
    }))
  }
  const inFlight = new Set<Promise<void>>()
  let acked = 0
  let next = 0
  const cpu = process.cpuUsage()
  const started = performance.now()
  const deadline = started + drive.durationMs
  while (performance.now() < deadline) {
    const messages = sends[next++ % sends.length]!
    const sending: Promise<void> = producer.send({ topic: drive.topic, messages }).then(() => {
      acked += messages.length
      inFlight.delete(sending)
    })
    inFlight.add(sending)
    if (inFlight.size >= drive.sendsInFlight) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  const elapsedMs = performance.now() - started
  const used = process.cpuUsage(cpu)
  return { records: acked, elapsedMs, cpuMs: (used.user + used.system) / 1000 }
}

/** What a consumer run achieved. */
export interface ConsumeOutcome {
  records: number
  /** Value bytes delivered. */
  bytes: number
  /** From the first delivered batch to the last record, ms. */
  elapsedMs: number
  /** From `run()` to the first delivered batch (group join, first fetch), ms. */
  timeToFirstBatchMs: number
  /** CPU time of the process (all threads) from the first batch to the last record, ms. */
  cpuMs: number
}

/** Reads `expected` records of `topic` from the beginning in a fresh group with `eachBatch`. */
export async function consumeAll(cluster: Cluster, topic: string, expected: number, groupId: string, config: { maxBytes?: number; maxBytesPerPartition?: number } = {}): Promise<ConsumeOutcome> {
  const consumer = cluster.consumer({ groupId, ...config })
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  let records = 0
  let bytes = 0
  let first = 0
  let last = 0
  let cpuAtFirst = process.cpuUsage()
  let cpuUsed = { user: 0, system: 0 }
  const runAt = performance.now()
  await new Promise<void>((resolve, reject) => {
    consumer.run({
      eachBatch: async ({ batch }) => {
        if (first === 0) {
          first = performance.now()
          cpuAtFirst = process.cpuUsage()
        }
        records += batch.messages.length
        // Touch each value as an application would, so a lazy decoder cannot skip the work.
        for (const m of batch.messages) bytes += m.value?.length ?? 0
        if (records >= expected && last === 0) {
          last = performance.now()
          cpuUsed = process.cpuUsage(cpuAtFirst)
          resolve()
        }
      },
    }).catch(reject)
  })
  await consumer.disconnect()
  return { records, bytes, elapsedMs: last - first, timeToFirstBatchMs: first - runAt, cpuMs: (cpuUsed.user + cpuUsed.system) / 1000 }
}

/** Bytes and RecordBatches of a topic's segment files. */
export interface LogFootprint {
  bytes: number
  batches: number
  files: string[]
}

/**
 * Walks the `.log` segments of `topic` under a broker's data directory by their batch
 * headers (baseOffset int64, batchLength int32), counting batches and bytes.
 */
export function logFootprint(dataDir: string, topic: string, brokerId = 0): LogFootprint {
  const brokerDir = path.join(dataDir, `broker-${brokerId}`)
  const prefix = `${topic}-`
  const files: string[] = []
  for (const entry of readdirSync(brokerDir)) {
    if (!entry.startsWith(prefix) || !/^\d+$/.test(entry.slice(prefix.length))) continue
    for (const f of readdirSync(path.join(brokerDir, entry))) if (f.endsWith('.log')) files.push(path.join(brokerDir, entry, f))
  }
  let bytes = 0
  let batches = 0
  const head = Buffer.alloc(12)
  for (const file of files) {
    const size = statSync(file).size
    const fd = openSync(file, 'r')
    try {
      let pos = 0
      while (pos + 12 <= size && readSync(fd, head, 0, 12, pos) === 12) {
        const length = head.readInt32BE(8)
        if (length <= 0 || pos + 12 + length > size) break // preallocated or torn tail
        pos += 12 + length
        batches++
      }
      bytes += pos
    } finally {
      closeSync(fd)
    }
  }
  return { bytes, batches, files }
}
