/**
 * The port between the load-test harness and whatever it measures.
 *
 * The harness knows nothing of shardlog's engine or of the Kafka wire protocol: it drives a
 * {@link PerfTarget}. Adapters implement this port for the embedded cluster and for a Kafka
 * bootstrap server (`--bootstrap host:port`); tests implement it in memory.
 *
 * Contract the harness relies on:
 * - The harness forms batches itself (up to `batchSize` bytes, waiting at most `lingerMs`, as
 *   Kafka's RecordAccumulator does) and hands each batch to {@link PerfProducer.send} in one call.
 *   An adapter should send each call as one produce request and not linger again; `batchSize`
 *   and `lingerMs` are passed so that clients that need those settings are configured alike.
 * - `send` may be called again before earlier calls settle (up to the harness's in-flight limit,
 *   Kafka's `max.in.flight.requests.per.connection`). It resolves when the records are
 *   acknowledged as `acks` asks (`acks=0`: when written to the connection) and rejects (preferably with a
 *   ShardlogError carrying Kafka's error code) when they are not.
 * - Messages passed to `send` must not be mutated by the target: the harness may reuse value
 *   buffers across records.
 */

/** One record handed to a {@link PerfProducer}. */
export interface PerfMessage {
  /** Record key; `null` lets the target choose the partition (Kafka's sticky/round-robin). */
  key: Buffer | null
  /** Record value. */
  value: Buffer
  /** Record timestamp in ms since the epoch; the target stamps it when absent (`CreateTime`). */
  timestamp?: number
}

/** Producer settings, named after Kafka's producer configs. */
export interface PerfProducerOptions {
  /** Kafka's `acks`: -1 (all in-sync replicas), 0 (none) or 1 (leader only). */
  acks: -1 | 0 | 1
  /** Kafka's `compression.type`. */
  compression: 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'
  /** Kafka's `batch.size`, in bytes. */
  batchSize: number
  /** Kafka's `linger.ms`. */
  lingerMs: number
}

/** Consumer settings. */
export interface PerfConsumerOptions {
  topic: string
  /** Consumer group id; when absent the adapter may use a fresh group or assign all partitions. */
  groupId?: string
  /** Start at the earliest offset (Kafka's `auto.offset.reset=earliest`) when the group has no committed offset. */
  fromBeginning: boolean
}

/** A record as delivered to the harness by a {@link PerfConsumer}. */
export interface PerfConsumedMessage {
  value: Buffer | null
  /** Record timestamp in ms since the epoch. */
  timestamp: number
  partition: number
  offset: number
}

/** A system under test: an embedded shardlog cluster, a Kafka cluster, or a test double. */
export interface PerfTarget {
  /** Human description shown in reports, e.g. `embedded shardlog (3 shards)` or `kafka 127.0.0.1:9092`. */
  readonly description: string
  /** Creates the topic with `partitions` partitions; does nothing when it already exists. */
  createTopic(topic: string, partitions: number): Promise<void>
  /** Opens a producer configured with `opts`. */
  producer(opts: PerfProducerOptions): Promise<PerfProducer>
  /** Opens a consumer of `opts.topic`. */
  consumer(opts: PerfConsumerOptions): Promise<PerfConsumer>
  /** Releases everything the target opened. */
  close(): Promise<void>
}

/** Sends batches formed by the harness. */
export interface PerfProducer {
  /** Sends `messages` to `topic` as one request; resolves once acknowledged per `acks`. */
  send(topic: string, messages: PerfMessage[]): Promise<void>
  close(): Promise<void>
}

/** Delivers fetched records to the harness. */
export interface PerfConsumer {
  /**
   * Starts consuming. Resolves once the consumer is subscribed and fetching; `onBatch` is then
   * called with each fetched batch, in offset order per partition, until {@link close}.
   */
  run(onBatch: (messages: PerfConsumedMessage[]) => void): Promise<void>
  close(): Promise<void>
}

/** What the CLI asks of a target: a Kafka server to connect to, or how to set up the embedded cluster. */
export interface PerfTargetChoice {
  /** `host:port` of a Kafka-compatible server; without it, an embedded cluster. */
  bootstrap?: string
  /** Shard workers of the embedded cluster (its default: one per CPU). */
  shards?: number
  /** `busyPollUs` of the embedded cluster (its default: 0, threads sleep when idle). */
  busyPollUs?: number
}

/** Creates the target for a CLI run: an embedded cluster, or a connection to `bootstrap` (`host:port`). */
export type PerfTargetFactory = (opts: PerfTargetChoice) => Promise<PerfTarget>
