/**
 * Two {@link PerfTarget}s for the load-test harness (src/perf):
 * - {@link ClusterPerfTarget}: an in-process shardlog {@link Cluster}, driven through its
 *   public producer and consumer with `eachMessage` (src/perf's `embeddedTarget` reads with
 *   `eachBatch`; the e2e benchmark measures both);
 * - {@link LoopbackPerfTarget}: no engine at all. A send is acknowledged and delivered to the
 *   consumer on the next turn of the event loop. Its latency is the floor the harness and
 *   the event loop put under any in-process target: the raw limit of the e2e benchmark.
 */
import type { Cluster } from '../../src/client/cluster.js'
import type { Consumer } from '../../src/client/consumer.js'
import type { Producer } from '../../src/client/producer.js'
import type {
  PerfConsumedMessage, PerfConsumer, PerfConsumerOptions, PerfMessage, PerfProducer, PerfProducerOptions, PerfTarget,
} from '../../src/perf/target.js'

/** The harness's target over an in-process cluster. */
export class ClusterPerfTarget implements PerfTarget {
  readonly description: string
  readonly #cluster: Cluster
  readonly #consumerConfig: { maxWaitTimeInMs?: number }

  constructor(cluster: Cluster, description: string, consumerConfig: { maxWaitTimeInMs?: number } = {}) {
    this.#cluster = cluster
    this.description = description
    this.#consumerConfig = consumerConfig
  }

  async createTopic(topic: string, partitions: number): Promise<void> {
    await this.#cluster.admin().createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] })
  }

  async producer(opts: PerfProducerOptions): Promise<PerfProducer> {
    // The harness forms the batches: the producer must not split them again (batch.size without
    // bound) nor wait for more (linger.ms 0: one event-loop turn), as src/perf's embeddedTarget.
    const producer: Producer = this.#cluster.producer({ acks: opts.acks, compression: opts.compression, lingerMs: 0, batchSize: Number.MAX_SAFE_INTEGER })
    await producer.connect()
    return {
      async send(topic: string, messages: PerfMessage[]): Promise<void> {
        await producer.send({ topic, messages: messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp })) })
      },
      close: () => producer.disconnect(),
    }
  }

  async consumer(opts: PerfConsumerOptions): Promise<PerfConsumer> {
    const consumer: Consumer = this.#cluster.consumer({ groupId: opts.groupId ?? `bench-${Date.now()}`, ...this.#consumerConfig })
    await consumer.subscribe({ topics: [opts.topic], fromBeginning: opts.fromBeginning })
    return {
      async run(onBatch: (messages: PerfConsumedMessage[]) => void): Promise<void> {
        await consumer.run({
          eachMessage: async ({ partition, message }) => {
            onBatch([{ value: message.value, timestamp: Number(message.timestamp), partition, offset: Number(message.offset) }])
          },
        })
      },
      close: () => consumer.disconnect(),
    }
  }

  async close(): Promise<void> {}
}

/** A target without an engine: sends are acknowledged and delivered on the next event-loop turn. */
export class LoopbackPerfTarget implements PerfTarget {
  readonly description = 'loopback (no engine: next event-loop turn)'
  readonly #subscribers = new Map<string, Set<(messages: PerfConsumedMessage[]) => void>>()
  readonly #offsets = new Map<string, number>()

  async createTopic(topic: string): Promise<void> {
    if (!this.#subscribers.has(topic)) this.#subscribers.set(topic, new Set())
  }

  async producer(): Promise<PerfProducer> {
    return {
      send: (topic: string, messages: PerfMessage[]): Promise<void> => new Promise<void>((resolve) => {
        setImmediate(() => {
          let offset = this.#offsets.get(topic) ?? 0
          const now = Date.now()
          const delivered = messages.map((m) => ({ value: m.value, timestamp: m.timestamp ?? now, partition: 0, offset: offset++ }))
          this.#offsets.set(topic, offset)
          for (const deliver of this.#subscribers.get(topic) ?? []) deliver(delivered)
          resolve()
        })
      }),
      close: async () => {},
    }
  }

  async consumer(opts: PerfConsumerOptions): Promise<PerfConsumer> {
    let subscribed: ((messages: PerfConsumedMessage[]) => void) | undefined
    return {
      run: async (onBatch) => {
        subscribed = onBatch
        await this.createTopic(opts.topic)
        this.#subscribers.get(opts.topic)!.add(onBatch)
      },
      close: async () => {
        if (subscribed) this.#subscribers.get(opts.topic)?.delete(subscribed)
      },
    }
  }

  async close(): Promise<void> {
    this.#subscribers.clear()
  }
}
