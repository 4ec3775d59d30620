/**
 * The load-test target for an embedded shardlog cluster: {@link embeddedTarget} starts a
 * {@link Cluster} in a fresh temp data directory and removes the directory on close, so a run
 * measures the engine alone (no sockets) and leaves nothing behind.
 *
 * The harness forms the batches (see `../target.ts`), so the in-process producer runs with
 * `lingerMs` 0 and a `batchSize` that never splits a harness batch: each `send` is one
 * RecordBatch to one partition. Records are read with the in-process consumer's `eachBatch`.
 * Everything runs on the main thread; the cluster's shard workers run on their own.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Cluster } from '../../client/cluster.js'
import type { Consumer } from '../../client/consumer.js'
import type { Producer } from '../../client/producer.js'
import type {
  PerfConsumedMessage, PerfConsumer, PerfConsumerOptions, PerfMessage, PerfProducer, PerfProducerOptions, PerfTarget,
} from '../target.js'

/** Options of {@link embeddedTarget}. */
export interface EmbeddedTargetOptions {
  /** Shard worker threads per broker; default the cluster's default (one per CPU). */
  shards?: number
  /** Brokers in the cluster; default 1. */
  brokers?: number
  /** Server settings with Kafka's names (`num.partitions`, `log.flush.interval.messages`, ...). */
  config?: Record<string, string>
  /** Busy polling of the shard rings, µs (`ClusterOptions.busyPollUs`); default 0. */
  busyPollUs?: number
}

/** A load-test target over an embedded cluster; `dataDir` is its temporary data directory. */
export interface EmbeddedPerfTarget extends PerfTarget {
  readonly dataDir: string
}

/** Starts an embedded cluster in a temp directory; closing the target stops it and deletes the directory. */
export async function embeddedTarget(options: EmbeddedTargetOptions = {}): Promise<EmbeddedPerfTarget> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shardlog-perf-'))
  let cluster: Cluster
  try {
    cluster = await Cluster.start({
      dataDir, shards: options.shards, brokers: options.brokers, config: options.config, busyPollUs: options.busyPollUs,
    })
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true })
    throw err
  }
  return new EmbeddedTarget(cluster, dataDir, options)
}

class EmbeddedTarget implements EmbeddedPerfTarget {
  readonly description: string
  private readonly open = new Set<{ close(): Promise<void> }>()
  private closed = false

  constructor(private readonly cluster: Cluster, readonly dataDir: string, options: EmbeddedTargetOptions) {
    const shards = options.shards ?? cluster.engine.brokers[0]?.shards.length ?? 1
    const brokers = options.brokers ?? 1
    const busyPoll = options.busyPollUs ? `, busy poll ${options.busyPollUs} µs` : ''
    const placement = options.shards === 0 ? 'partitions on the main thread' : `${shards} shard${shards === 1 ? '' : 's'}${brokers > 1 ? ' each' : ''}`
    this.description = `embedded shardlog (${brokers > 1 ? `${brokers} brokers, ` : ''}${placement}${busyPoll})`
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    // createTopics resolves false (and changes nothing) when the topic already exists.
    await this.cluster.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] })
  }

  async producer(opts: PerfProducerOptions): Promise<PerfProducer> {
    const producer = this.cluster.producer({
      acks: opts.acks,
      compression: opts.compression,
      lingerMs: 0,
      // The harness already forms batches of up to batch.size; the same bound here keeps the
      // producer from merging several in-flight sends into one batch past max.message.bytes.
      batchSize: opts.batchSize,
    })
    await producer.connect()
    return this.track(new EmbeddedProducer(producer, (c) => this.open.delete(c)))
  }

  async consumer(opts: PerfConsumerOptions): Promise<PerfConsumer> {
    const consumer = this.cluster.consumer({ groupId: opts.groupId, autoOffsetReset: opts.fromBeginning ? 'earliest' : 'latest' })
    await consumer.subscribe({ topic: opts.topic, fromBeginning: opts.fromBeginning })
    return this.track(new EmbeddedConsumer(consumer, (c) => this.open.delete(c)))
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await Promise.all([...this.open].map((c) => c.close()))
      await this.cluster.stop()
    } finally {
      await rm(this.dataDir, { recursive: true, force: true })
    }
  }

  private track<T extends { close(): Promise<void> }>(client: T): T {
    this.open.add(client)
    return client
  }
}

/** Called when a client closes, so the target does not close it again. */
type Release = (client: { close(): Promise<void> }) => void

class EmbeddedProducer implements PerfProducer {
  constructor(private readonly producer: Producer, private readonly release: Release) {}

  async send(topic: string, messages: PerfMessage[]): Promise<void> {
    await this.producer.send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp })) })
  }

  close(): Promise<void> {
    this.release(this)
    return this.producer.disconnect()
  }
}

class EmbeddedConsumer implements PerfConsumer {
  constructor(private readonly consumer: Consumer, private readonly release: Release) {}

  async run(onBatch: (messages: PerfConsumedMessage[]) => void): Promise<void> {
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        onBatch(batch.messages.map((m) => ({ value: m.value, timestamp: Number(m.timestamp), partition: batch.partition, offset: Number(m.offset) })))
      },
    })
  }

  close(): Promise<void> {
    this.release(this)
    return this.consumer.disconnect()
  }
}
