/**
 * The in-process producer, shaped after kafkajs: `send` and `sendBatch` with kafkajs's
 * option names, plus the Java client's batching knobs (`lingerMs`, `batchSize`,
 * `maxInFlightRequests`, `bufferMemory`). Records are accumulated per partition into one
 * RecordBatch v2 (encoded once, compressed once) and handed to the partition's shard.
 * Lives on the caller's (main) thread.
 */
import type { RecordInput } from '../records/record-batch.js'
import { incrementSequence } from '../records/batch-header.js'
import { encodeBatchMaybeOffloaded } from '../records/codec-pool.js'
import type { CompressionType } from '../records/compression/index.js'
import { defaultPartitioner, type Partitioner, type PartitionerFactory } from './partitioners.js'
import type { ClusterEngine } from '../cluster/cluster-engine.js'
import type { Message, ProducerRecord, RecordMetadata } from './types.js'
import {
  BrokerNotAvailableError, InvalidRequestError, InvalidRequiredAcksError, UnknownTopicOrPartitionError, isShardlogError,
} from '../errors.js'
import { partitionKey } from '../topic-partition.js'

/** Producer options (kafkajs names where kafkajs has the concept). */
export interface ProducerConfig {
  /** -1 (all in-sync replicas), 1 (leader) or 0 (no acknowledgement). Default -1. */
  acks?: -1 | 0 | 1
  /** Codec of every batch. Default 'none'. */
  compression?: CompressionType
  /** How long a batch may wait for more records before it is sent (Java's linger.ms). Default 0. */
  lingerMs?: number
  /** Bytes of records after which a partition's batch is sent at once (Java's batch.size). Default 16384. */
  batchSize?: number
  /** Batches in flight per partition (Java's max.in.flight.requests.per.connection). Default 5. */
  maxInFlightRequests?: number
  /** Bytes that may wait in the producer before send() waits for room (Java's buffer.memory). Default 32 MiB. */
  bufferMemory?: number
  /** kafkajs's createPartitioner. Default: murmur2 for keys, sticky for null keys. */
  createPartitioner?: PartitionerFactory
  /** Idempotent producer: a producer id and sequence numbers make retries exactly-once per partition. */
  idempotent?: boolean
  /** kafkajs's allowAutoTopicCreation (default true): a send to a missing topic creates it. */
  allowAutoTopicCreation?: boolean
  /** Retries of retriable errors (leader moved, not enough replicas, ...), with kafkajs's option names. */
  retry?: { retries?: number; initialRetryTime?: number; maxRetryTime?: number }
  /** How long acks=-1 waits for the in-sync replicas, in ms (Kafka's request timeout). Default 30000. */
  timeout?: number
}

/** One send's records for one partition, with their estimated sizes. */
interface PartitionRecords {
  records: RecordInput[]
  sizes: number[]
  bytes: number
}

/** Records waiting for one partition, and who waits for them. */
interface OpenBatch {
  records: RecordInput[]
  bytes: number
  acks: number
  compression: CompressionType
  /** The linger.ms timer. */
  timer: NodeJS.Timeout | undefined
  /** With linger.ms 0: a microtask will seal this batch. */
  sealQueued?: boolean
  waiters: Array<{ index: number; resolve: (r: { baseOffset: number; logAppendTime: number; logStartOffset: number }) => void; reject: (e: unknown) => void }>
}

interface PartitionQueue {
  topic: string
  partition: number
  open: OpenBatch | undefined
  inFlight: number
  ready: OpenBatch[]
  /** Next sequence number for an idempotent producer. */
  sequence: number
}

const RECORD_OVERHEAD = 24

/** An in-process producer. */
export class Producer {
  private readonly acks: number
  private readonly compression: CompressionType
  private readonly lingerMs: number
  private readonly batchSize: number
  private readonly maxInFlight: number
  private readonly bufferMemory: number
  private readonly partitioner: Partitioner
  private readonly allowAutoTopicCreation: boolean
  private readonly queues = new Map<string, PartitionQueue>()
  private buffered = 0
  private readonly roomWaiters: Array<() => void> = []
  private connected = false
  private producerId = -1
  private producerEpoch = -1

  constructor(private readonly engine: ClusterEngine, private readonly config: ProducerConfig = {}) {
    const acks = config.acks ?? -1
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new InvalidRequiredAcksError(`acks must be -1, 0 or 1, got ${String(acks)}`)
    this.acks = acks
    this.compression = config.compression ?? 'none'
    this.lingerMs = config.lingerMs ?? 0
    this.batchSize = config.batchSize ?? 16384
    this.maxInFlight = Math.max(1, config.maxInFlightRequests ?? 5)
    this.bufferMemory = config.bufferMemory ?? 32 * 1024 * 1024
    this.partitioner = (config.createPartitioner ?? defaultPartitioner)()
    this.allowAutoTopicCreation = config.allowAutoTopicCreation ?? true
  }

  /** Prepares the producer (allocates a producer id when idempotent). */
  async connect(): Promise<void> {
    if (this.connected) return
    if (this.config.idempotent) {
      const { producerId, producerEpoch } = this.engine.controller.allocateProducerId()
      this.producerId = producerId
      this.producerEpoch = producerEpoch
    }
    this.connected = true
  }

  /** Sends records to one topic; resolves once every record is acknowledged per `acks`. */
  async send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.sendBatch({ topicMessages: [{ topic: record.topic, messages: record.messages }], acks: record.acks, compression: record.compression })
  }

  /** Sends records to several topics at once. */
  async sendBatch(args: { topicMessages: Array<{ topic: string; messages: Message[] }>; acks?: -1 | 0 | 1; compression?: CompressionType }): Promise<RecordMetadata[]> {
    // Always awaited, connected or not: sends issued together then reach their batches in the order they were made.
    await this.connect()
    if (this.engine.isStopped) throw new BrokerNotAvailableError('Cannot send: the cluster is stopped')
    const acks = args.acks ?? this.acks
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new InvalidRequiredAcksError(`acks must be -1, 0 or 1, got ${String(acks)}`)
    const compression = args.compression ?? this.compression
    const waits: Array<Promise<RecordMetadata>> = []
    for (const { topic, messages } of args.topicMessages) {
      if (!Array.isArray(messages)) throw new InvalidRequestError(`messages for topic '${topic}' must be an array`)
      if (!this.engine.controller.topics.has(topic)) {
        if (!this.allowAutoTopicCreation || !this.engine.config.autoCreateTopicsEnable) {
          throw new UnknownTopicOrPartitionError(`Topic '${topic}' does not exist`)
        }
        await this.engine.autoCreate(topic)
      }
      const partitionCount = this.engine.controller.topics.partitionCount(topic)!
      const byPartition = new Map<number, PartitionRecords>()
      // Only a partitioner that wants to hear of new batches (onNewBatch) needs the batch sizes followed.
      const openBatches = this.partitioner.onNewBatch === undefined ? undefined : new OpenBatchSizes((p) => {
        const open = this.queues.get(partitionKey(topic, p))?.open
        return open !== undefined && open.acks === acks && open.compression === compression ? open.bytes : 0
      }, this.batchSize)
      for (const m of messages) {
        if (m === null || typeof m !== 'object') throw new InvalidRequestError('Each message must be an object with a value')
        const { key, value } = m
        if (value !== null && value !== undefined && typeof value !== 'string' && !Buffer.isBuffer(value)) {
          throw new InvalidRequestError(`A message value must be a Buffer, a string or null, got ${typeof value}`)
        }
        // A message is already a RecordInput unless its timestamp is a string (kafkajs allows
        // that): no per-record copy on the hot path.
        let input: RecordInput = m as RecordInput
        if (m.timestamp !== undefined) {
          const timestamp = typeof m.timestamp === 'number' ? m.timestamp : Number(m.timestamp)
          if (!Number.isFinite(timestamp)) throw new InvalidRequestError(`Invalid timestamp ${String(m.timestamp)}`)
          if (typeof m.timestamp !== 'number') input = { ...m, timestamp }
        }
        let size = RECORD_OVERHEAD + (key ? key.length : 0) + (value ? value.length : 0)
        if (m.headers) for (const k in m.headers) size += k.length + (m.headers[k]?.length ?? 0) + 4
        let partition = m.partition
        if (partition === undefined || partition === null) {
          const keyBytes = key === undefined || key === null ? null : typeof key === 'string' ? Buffer.from(key) : key
          partition = this.partitioner.partition({ topic, partitionCount, key: keyBytes })
          // As the Java client does for KIP-480: a record that would open a new batch first tells
          // the partitioner (onNewBatch) and is partitioned again, so a sticky partitioner moves
          // on with it instead of leaving a partial batch behind to wait out linger.ms.
          if (openBatches?.isFull(partition)) {
            this.partitioner.onNewBatch!(topic, partition, partitionCount)
            partition = this.partitioner.partition({ topic, partitionCount, key: keyBytes })
          }
        } else if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
          throw new UnknownTopicOrPartitionError(`Partition ${String(partition)} of topic '${topic}' does not exist (it has ${partitionCount})`)
        }
        openBatches?.add(partition, size)
        let group = byPartition.get(partition)
        if (!group) byPartition.set(partition, (group = { records: [], sizes: [], bytes: 0 }))
        group.records.push(input)
        group.sizes.push(size)
        group.bytes += size
      }
      for (const [partition, group] of byPartition) {
        await this.reserve(group.bytes)
        waits.push(this.enqueue(topic, partition, group, acks, compression))
      }
    }
    return Promise.all(waits)
  }

  /** Waits until `bytes` fit in bufferMemory: back-pressure instead of unbounded buffering. */
  private async reserve(bytes: number): Promise<void> {
    while (this.buffered > 0 && this.buffered + bytes > this.bufferMemory) {
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
    }
    this.buffered += bytes
  }

  private release(bytes: number): void {
    this.buffered -= bytes
    while (this.roomWaiters.length > 0 && this.buffered < this.bufferMemory) this.roomWaiters.shift()!()
  }

  /**
   * Adds one send's records for a partition to its open batch, sealing a batch whenever it
   * reaches `batchSize` (so no batch outgrows it by more than one record) and opening the
   * next. Resolves when every batch holding these records is acknowledged, with the offset
   * of the first of them.
   */
  private enqueue(topic: string, partition: number, group: PartitionRecords, acks: number, compression: CompressionType): Promise<RecordMetadata> {
    const { records, sizes } = group
    const key = partitionKey(topic, partition)
    let q = this.queues.get(key)
    if (!q) this.queues.set(key, (q = { topic, partition, open: undefined, inFlight: 0, ready: [], sequence: 0 }))
    const queue = q
    if (queue.open && (queue.open.acks !== acks || queue.open.compression !== compression)) this.seal(queue)
    const parts: Array<Promise<{ baseOffset: number; logAppendTime: number; logStartOffset: number }>> = []
    let i = 0
    while (i < records.length) {
      let batch = queue.open
      if (!batch) {
        batch = { records: [], bytes: 0, acks, compression, timer: undefined, waiters: [] }
        queue.open = batch
      }
      const index = batch.records.length
      while (i < records.length && (batch.records.length === 0 || !batchIsFull(batch.bytes, this.batchSize))) {
        batch.records.push(records[i]!)
        batch.bytes += sizes[i]!
        i++
      }
      const target = batch
      parts.push(new Promise((resolve, reject) => {
        target.waiters.push({
          index,
          resolve: (r) => resolve({ baseOffset: r.baseOffset < 0 ? -1 : r.baseOffset + index, logAppendTime: r.logAppendTime, logStartOffset: r.logStartOffset }),
          reject,
        })
      }))
      if (batchIsFull(batch.bytes, this.batchSize)) {
        this.seal(queue)
      } else if (!batch.timer) {
        if (this.lingerMs > 0) batch.timer = setTimeout(() => this.seal(queue), this.lingerMs)
        else if (!batch.sealQueued) {
          // lingerMs 0 gathers the sends of the current synchronous run into one batch and no more:
          // a microtask seals it as soon as that run ends (the batch may have been sealed since).
          batch.sealQueued = true
          const open = batch
          queueMicrotask(() => { if (queue.open === open) this.seal(queue) })
        }
      }
    }
    return Promise.all(parts).then(([first]) => ({
      topicName: topic, partition, errorCode: 0,
      baseOffset: String(first!.baseOffset), logAppendTime: String(first!.logAppendTime), logStartOffset: String(first!.logStartOffset),
    }))
  }

  /** Closes the partition's open batch and sends it when an in-flight slot is free. */
  private seal(q: PartitionQueue): void {
    const batch = q.open
    if (!batch) return
    q.open = undefined
    if (batch.timer) clearTimeout(batch.timer)
    const count = this.engine.controller.topics.partitionCount(q.topic) ?? 1
    this.partitioner.onNewBatch?.(q.topic, q.partition, count)
    q.ready.push(batch)
    this.pump(q)
  }

  private pump(q: PartitionQueue): void {
    while (q.inFlight < this.maxInFlight && q.ready.length > 0) {
      const batch = q.ready.shift()!
      q.inFlight++
      const sequence = q.sequence
      if (this.producerId >= 0) q.sequence = incrementSequence(q.sequence, batch.records.length)
      this.sendBatchOf(q, batch, sequence).finally(() => {
        q.inFlight--
        this.pump(q)
      })
    }
  }

  private async sendBatchOf(q: PartitionQueue, batch: OpenBatch, sequence: number): Promise<void> {
    const bytes = batch.bytes
    try {
      // Large gzip/snappy/lz4 batches are compressed on the codec pool, off this thread.
      const encoded = await encodeBatchMaybeOffloaded(batch.records, {
        compression: batch.compression,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        baseSequence: this.producerId >= 0 ? sequence : -1,
      })
      const result = await this.produceWithRetry(q, batch.acks, encoded)
      const meta = batch.acks === 0
        ? { baseOffset: -1, logAppendTime: -1, logStartOffset: -1 }
        : { baseOffset: result.baseOffset, logAppendTime: result.logAppendTime, logStartOffset: result.logStartOffset }
      for (const w of batch.waiters) w.resolve(meta)
    } catch (err) {
      const e = isShardlogError(err) || err instanceof Error ? err : new InvalidRequestError(String(err))
      for (const w of batch.waiters) w.reject(e)
    } finally {
      this.release(bytes)
    }
  }

  /**
   * Hands a batch to the partition's leader, retrying retriable errors (a leader that moved
   * or has no followers in sync yet) with exponential back-off, as kafkajs's retrier does.
   * An idempotent producer's retry carries the same sequence, so the leader deduplicates it.
   */
  private async produceWithRetry(q: PartitionQueue, acks: number, encoded: Buffer) {
    const retries = this.config.retry?.retries ?? 5
    let delay = this.config.retry?.initialRetryTime ?? 100
    const maxDelay = this.config.retry?.maxRetryTime ?? 30_000
    for (let attempt = 0; ; attempt++) {
      try {
        // The batch was encoded (and its CRC computed) just above: the shard need not check it again.
        return await this.engine.produce(q.topic, q.partition, acks, encoded, this.config.timeout ?? 30_000, true)
      } catch (err) {
        if (attempt >= retries || !isShardlogError(err) || !err.retriable || this.engine.isStopped) throw err
        await new Promise((r) => setTimeout(r, delay * (0.8 + Math.random() * 0.4)))
        delay = Math.min(maxDelay, delay * 2)
      }
    }
  }

  /** Sends every waiting batch now and waits for them. */
  async flush(): Promise<void> {
    for (const q of this.queues.values()) this.seal(q)
    while ([...this.queues.values()].some((q) => q.inFlight > 0 || q.ready.length > 0)) {
      await new Promise((r) => setImmediate(r))
    }
  }

  /** Flushes and closes the producer. */
  async disconnect(): Promise<void> {
    await this.flush()
    this.connected = false
  }
}

/**
 * The producer's batching rule, for {@link Producer} and {@link OpenBatchSizes} alike: a batch
 * takes records until it holds `batchSize` bytes (so it outgrows it by one record at most),
 * and the next record opens a new one.
 */
function batchIsFull(bytes: number, batchSize: number): boolean {
  return bytes >= batchSize
}

/**
 * The size each partition's open batch will have once one send's records so far are in it,
 * following {@link Producer}'s batching rule: a batch takes records until it holds
 * `batchSize` bytes, and the next record opens a new one. Records mostly come in runs for one
 * partition (sticky partitioning, explicit partitions), so the current run's partition and
 * size are kept aside from the map: this runs once per record.
 */
class OpenBatchSizes {
  private readonly sizes = new Map<number, number>()
  private current = -1
  private currentBytes = 0

  constructor(private readonly openBytes: (partition: number) => number, private readonly batchSize: number) {}

  /** Whether the next record for `partition` opens a new batch there. */
  isFull(partition: number): boolean {
    return batchIsFull(this.bytes(partition), this.batchSize)
  }

  add(partition: number, size: number): void {
    const before = this.bytes(partition)
    this.currentBytes = before === 0 || batchIsFull(before, this.batchSize) ? size : before + size
  }

  /** Bytes of `partition`'s open batch; makes it the current partition. */
  private bytes(partition: number): number {
    if (partition !== this.current) {
      if (this.current >= 0) this.sizes.set(this.current, this.currentBytes)
      this.current = partition
      this.currentBytes = this.sizes.get(partition) ?? this.openBytes(partition)
    }
    return this.currentBytes
  }
}
