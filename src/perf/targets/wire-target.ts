/**
 * The load-test target for any Kafka bootstrap server (shardlog's listeners or an Apache Kafka
 * cluster): {@link wireTarget} drives the wire client of `src/protocol/client`.
 *
 * Each `send` of the harness is one closed batch per partition (`closeBatch`), sent as soon as
 * its broker connection has room: the producer neither lingers nor splits what the harness
 * formed. Every producer and consumer gets its own connections, as separate Kafka clients
 * would. Runs on the main thread.
 */
import { isShardlogError } from '../../errors.js'
import { WireAdmin } from '../../protocol/client/wire-admin.js'
import { WireConsumer } from '../../protocol/client/wire-consumer.js'
import { WireProducer } from '../../protocol/client/wire-producer.js'
import type {
  PerfConsumedMessage, PerfConsumer, PerfConsumerOptions, PerfMessage, PerfProducer, PerfProducerOptions, PerfTarget,
} from '../target.js'

/**
 * Produce requests a producer may have in flight per broker. The harness already bounds its
 * sends in flight (`max.in.flight.requests.per.connection`), so this only has to be larger.
 */
const PIPELINE_DEPTH = 64

/** Connects to `bootstrap` (`host:port[,host:port]`); rejects with NETWORK_EXCEPTION when nothing answers. */
export async function wireTarget(bootstrap: string): Promise<PerfTarget> {
  const admin = await WireAdmin.connect(bootstrap, 'shardlog-perf')
  return new WireTarget(bootstrap, admin)
}

/** Called when a client closes, so the target does not close it again. */
type Release = (client: { close(): Promise<void> }) => void

class WireTarget implements PerfTarget {
  readonly description: string
  private readonly open = new Set<{ close(): Promise<void> }>()
  private closed = false

  constructor(private readonly bootstrap: string, private readonly admin: WireAdmin) {
    this.description = `kafka ${bootstrap}`
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    try {
      await this.admin.createTopics([{ name: topic, numPartitions: partitions }])
    } catch (err) {
      if (!isShardlogError(err) || err.code !== 'TOPIC_ALREADY_EXISTS') throw err
      // An existing topic is used as it is; wait for its leaders like a new one.
      await this.admin.client.topicMetadata([topic], { refresh: true, awaitCreation: true })
    }
  }

  async producer(opts: PerfProducerOptions): Promise<PerfProducer> {
    const producer = await WireProducer.create(this.bootstrap, {
      acks: opts.acks,
      compression: opts.compression,
      lingerMs: 0,
      batchSize: Infinity,
      maxInFlightRequests: PIPELINE_DEPTH,
      clientId: 'shardlog-perf-producer',
    })
    const perfProducer = new WireProducerAdapter(producer, (c) => this.open.delete(c))
    this.open.add(perfProducer)
    return perfProducer
  }

  async consumer(opts: PerfConsumerOptions): Promise<PerfConsumer> {
    const consumer = await WireConsumer.create(this.bootstrap, {
      groupId: opts.groupId,
      autoOffsetReset: opts.fromBeginning ? 'earliest' : 'latest',
      clientId: 'shardlog-perf-consumer',
    })
    consumer.subscribe([opts.topic])
    const perfConsumer = new WireConsumerAdapter(consumer, (c) => this.open.delete(c))
    this.open.add(perfConsumer)
    return perfConsumer
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    try {
      await Promise.all([...this.open].map((c) => c.close()))
    } finally {
      await this.admin.close()
    }
  }
}

class WireProducerAdapter implements PerfProducer {
  constructor(private readonly producer: WireProducer, private readonly release: Release) {}

  async send(topic: string, messages: PerfMessage[]): Promise<void> {
    await this.producer.send(topic, messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp })), { closeBatch: true })
  }

  close(): Promise<void> {
    this.release(this)
    return this.producer.close()
  }
}

class WireConsumerAdapter implements PerfConsumer {
  constructor(private readonly consumer: WireConsumer, private readonly release: Release) {}

  async run(onBatch: (messages: PerfConsumedMessage[]) => void): Promise<void> {
    await this.consumer.run({
      eachBatch: (batch) => {
        onBatch(batch.records.map((r) => ({ value: r.value, timestamp: r.timestamp, partition: r.partition, offset: r.offset })))
      },
    })
  }

  close(): Promise<void> {
    this.release(this)
    return this.consumer.close()
  }
}
