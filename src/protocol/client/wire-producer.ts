/**
 * `WireProducer`: a Kafka producer over the wire protocol, built like the Java client's
 * RecordAccumulator + Sender:
 *
 * ```
 *  send() ──► partitioner ──► per-partition queue: [open batch] [ready batches ...]
 *                                        │ drain(): per leader broker, the first batch of each
 *                                        ▼ partition it leads (one RecordBatch per partition)
 *                             Produce request ──► KafkaConnection (pipelined, ≤ maxInFlight)
 * ```
 *
 * - A partition's open batch closes when it reaches `batchSize` bytes, after `lingerMs`, on
 *   {@link WireProducer.flush}, or at once when a send asks for `closeBatch`. With `lingerMs` 0
 *   a batch leaves as soon as its broker has a free in-flight slot, so records sent while all
 *   slots are busy gather into bigger batches, as in Kafka.
 * - One Produce request per broker carries at most one batch per partition (Kafka requires it
 *   from Produce v3 on); up to `maxInFlightRequests` requests per broker are in flight at once.
 *   Requests to one broker are encoded and written in order, so a partition's batches reach
 *   the log in the order they closed (unless a retry reorders them, as in Kafka without
 *   idempotence).
 * - `acks` 0 sends Produce with `expectResponse: false` (the broker answers nothing); offsets
 *   are then unknown (-1).
 * - Retriable errors (NOT_LEADER_OR_FOLLOWER, LEADER_NOT_AVAILABLE, NOT_ENOUGH_REPLICAS,
 *   REQUEST_TIMED_OUT, NETWORK_EXCEPTION, ...) put the batch back at the front of its queue,
 *   refresh metadata when it may be stale and resend the same bytes after `retry.backoff.ms`,
 *   up to `retries` times.
 * - Idempotence (`enable.idempotence`): a producer id from InitProducerId and a sequence number
 *   per partition in every batch, so the broker drops a retried duplicate (DUPLICATE_SEQUENCE_NUMBER
 *   counts as success). To keep sequences in order across retries without Kafka's in-flight
 *   batch reordering, an idempotent producer keeps one batch in flight per partition.
 *
 * Lives on the caller's thread; not safe to share across threads.
 */
import {
  InvalidConfigError, InvalidRequestError, LeaderNotAvailableError, NetworkError, UnknownTopicOrPartitionError, isShardlogError, type ShardlogError,
} from '../../errors.js'
import { incrementSequence } from '../../records/batch-header.js'
import { defaultPartitioner, type Partitioner } from '../../client/partitioners.js'
import type { CompressionType } from '../../records/compression/index.js'
import { encodeRecordBatch, type RecordInput } from '../../records/record-batch.js'
import { ApiKey } from '../api-keys.js'
import type { PartitionProduceData, ProduceResponse } from '../messages/produce.js'
import { KafkaClient, isStaleMetadataError, throwIfError } from './kafka-client.js'
import { partitionKey } from '../../topic-partition.js'

/** Bytes counted per record on top of key, value and headers (Kafka's estimate of record overhead). */
const RECORD_OVERHEAD_BYTES = 24
/** Kafka's `max.request.size`: a request stops taking more partitions' batches beyond it. */
const MAX_REQUEST_BYTES = 1024 * 1024
/** DUPLICATE_SEQUENCE_NUMBER: the broker already has this idempotent batch. */
const DUPLICATE_SEQUENCE_NUMBER = 46

/** Producer settings, named after Kafka's producer configs. */
export interface WireProducerOptions {
  /** Kafka's `acks`: -1 (all in-sync replicas, default), 1 (leader) or 0 (none). */
  acks?: -1 | 0 | 1
  /** Kafka's `compression.type`. Default `none`. */
  compression?: CompressionType
  /** Kafka's `linger.ms`. Default 0. */
  lingerMs?: number
  /** Kafka's `batch.size` in bytes (estimated before compression). Default 16384. */
  batchSize?: number
  /** Kafka's `max.in.flight.requests.per.connection`. Default 5. */
  maxInFlightRequests?: number
  /** Kafka's `retries` for retriable errors. Default 5. */
  retries?: number
  /** Kafka's `request.timeout.ms`, also the Produce timeout. Default the client's. */
  requestTimeoutMs?: number
  /** Kafka's `delivery.timeout.ms`: a batch still without a leader this long after it was created fails. Default 120000. */
  deliveryTimeoutMs?: number
  /** Kafka's `buffer.memory`: bytes that may wait in the producer before send() waits for room. Default 32 MiB. */
  bufferMemory?: number
  /** Kafka's `enable.idempotence`. Requires acks -1. Default false. */
  idempotent?: boolean
  /** Chooses partitions for records without one. Default: murmur2 for keys, sticky for null keys. */
  partitioner?: Partitioner
  /** Lets Metadata create a missing topic (broker's `auto.create.topics.enable`). Default true, as Kafka's producer. */
  allowAutoTopicCreation?: boolean
  /** Kafka's `client.id` of the client {@link WireProducer.create} makes for a bootstrap string. Default `shardlog-producer`. */
  clientId?: string
}

/** One record to send. Strings are sent as UTF-8. */
export interface WireMessage {
  key?: Buffer | string | null
  value: Buffer | string | null
  headers?: RecordInput['headers']
  /** Create time in ms since the epoch; default now. */
  timestamp?: number
  /** Explicit partition; otherwise the partitioner chooses. */
  partition?: number
}

/** Options of one {@link WireProducer.send}. */
export interface SendOptions {
  /**
   * Closes the batches these records went into, so they leave in the next request rather than
   * wait for more records (for callers that form batches themselves, like the load generator).
   */
  closeBatch?: boolean
}

/** Where the records of one send landed in one partition. */
export interface WireRecordMetadata {
  topic: string
  partition: number
  /** Offset of the first of these records; -1 with acks 0. */
  baseOffset: number
  /** The broker's append time with `message.timestamp.type=LogAppendTime`, else -1. */
  logAppendTimeMs: number
}

interface Waiter {
  /** Index of the first record of this waiter in its batch. */
  index: number
  resolve: (meta: WireRecordMetadata) => void
  reject: (err: Error) => void
}

interface ProducerBatch {
  topic: string
  partition: number
  records: RecordInput[]
  bytes: number
  waiters: Waiter[]
  createdAt: number
  /** The RecordBatch bytes, encoded once when first sent and resent as they are on retries. */
  encoded: Buffer | undefined
  attempts: number
  /** Not sent again before this time (retry backoff). */
  retryAt: number
}

interface PartitionQueue {
  topic: string
  partition: number
  open: ProducerBatch | undefined
  lingerTimer: NodeJS.Timeout | undefined
  ready: ProducerBatch[]
  inFlight: number
  /** Next sequence number (idempotent producer). */
  sequence: number
}

/** A producer over the Kafka wire protocol. */
export class WireProducer {
  private readonly acks: -1 | 0 | 1
  private readonly compression: CompressionType
  private readonly lingerMs: number
  private readonly batchSize: number
  private readonly maxInFlight: number
  private readonly retries: number
  private readonly requestTimeoutMs: number
  private readonly deliveryTimeoutMs: number
  private readonly bufferMemory: number
  private readonly idempotent: boolean
  private readonly partitioner: Partitioner
  private readonly allowAutoTopicCreation: boolean
  private readonly queues = new Map<string, PartitionQueue>()
  private readonly inFlightByBroker = new Map<number, number>()
  private readonly writeChains = new Map<number, Promise<void>>()
  private readonly roomWaiters: Array<() => void> = []
  private readonly idleWaiters: Array<() => void> = []
  private buffered = 0
  private outstanding = 0
  private drainQueued = false
  private drainTimer: NodeJS.Timeout | undefined
  private drainTimerAt = Infinity
  private flushing = 0
  private closed = false
  private metadataRefresh: Promise<void> | undefined
  private producerId = -1
  private producerEpoch = -1

  private constructor(readonly client: KafkaClient, private readonly ownsClient: boolean, options: WireProducerOptions) {
    const acks = options.acks ?? -1
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new InvalidConfigError(`acks must be -1, 0 or 1, got ${String(acks)}`)
    this.acks = acks
    this.compression = options.compression ?? 'none'
    this.lingerMs = nonNegative('lingerMs', options.lingerMs ?? 0)
    this.batchSize = nonNegative('batchSize', options.batchSize ?? 16_384)
    this.maxInFlight = Math.max(1, Math.floor(options.maxInFlightRequests ?? 5))
    this.retries = nonNegative('retries', options.retries ?? 5)
    this.requestTimeoutMs = options.requestTimeoutMs ?? client.requestTimeoutMs
    this.deliveryTimeoutMs = nonNegative('deliveryTimeoutMs', options.deliveryTimeoutMs ?? 120_000)
    this.bufferMemory = Math.max(1, options.bufferMemory ?? 32 * 1024 * 1024)
    this.idempotent = options.idempotent ?? false
    if (this.idempotent && acks !== -1) throw new InvalidConfigError('an idempotent producer needs acks=-1 (all), as Kafka requires for enable.idempotence')
    this.partitioner = options.partitioner ?? defaultPartitioner()
    this.allowAutoTopicCreation = options.allowAutoTopicCreation ?? true
  }

  /**
   * Creates a producer on `client` (shared; not closed with the producer) or on a new client for
   * `bootstrap` (closed with it). An idempotent producer gets its producer id here.
   */
  static async create(target: KafkaClient | string, options: WireProducerOptions = {}): Promise<WireProducer> {
    const owns = typeof target === 'string'
    const client = owns ? await KafkaClient.connect({ bootstrap: target, clientId: options.clientId ?? 'shardlog-producer' }) : target
    let producer: WireProducer
    try {
      producer = new WireProducer(client, owns, options)
      if (producer.idempotent) await producer.initProducerId()
    } catch (err) {
      if (owns) await client.close()
      throw err
    }
    return producer
  }

  /**
   * Sends records to `topic`. Resolves once every record is acknowledged as `acks` asks (with
   * acks 0: once written to the socket), with one entry per partition the records went to, or
   * rejects with the typed error of the first failure.
   */
  async send(topic: string, messages: readonly WireMessage[], options: SendOptions = {}): Promise<WireRecordMetadata[]> {
    if (this.closed) throw new NetworkError('the producer is closed')
    if (!Array.isArray(messages)) throw new InvalidRequestError('messages must be an array')
    if (messages.length === 0) return []
    const partitionCount = await this.partitionCount(topic)
    const byPartition = new Map<number, { records: RecordInput[]; bytes: number }>()
    for (const m of messages) {
      if (m === null || typeof m !== 'object') throw new InvalidRequestError('each message must be an object with a value')
      const key = m.key === undefined || m.key === null ? null : typeof m.key === 'string' ? Buffer.from(m.key) : m.key
      let partition = m.partition
      if (partition === undefined) {
        partition = this.partitioner.partition({ topic, partitionCount, key })
      } else if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount) {
        throw new UnknownTopicOrPartitionError(`Partition ${String(partition)} of topic '${topic}' does not exist (it has ${partitionCount})`)
      }
      const value = m.value === undefined || m.value === null ? null : typeof m.value === 'string' ? Buffer.from(m.value) : m.value
      let entry = byPartition.get(partition)
      if (entry === undefined) byPartition.set(partition, (entry = { records: [], bytes: 0 }))
      entry.records.push({ key, value, headers: m.headers, timestamp: m.timestamp })
      entry.bytes += RECORD_OVERHEAD_BYTES + (key?.length ?? 0) + (value?.length ?? 0) + headerBytes(m.headers)
    }
    const parts: Array<Promise<WireRecordMetadata>> = []
    for (const [partition, { records, bytes }] of byPartition) {
      await this.reserve(bytes)
      parts.push(...this.append(topic, partition, records, partitionCount, options.closeBatch === true))
    }
    this.scheduleDrain()
    const results = await Promise.all(parts)
    return mergeByPartition(results)
  }

  /** Sends everything waiting now (ignoring `lingerMs`) and resolves when it is acknowledged. */
  async flush(): Promise<void> {
    this.flushing++
    try {
      this.scheduleDrain()
      while (this.outstanding > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    } finally {
      this.flushing--
    }
  }

  /** Flushes, then stops the producer (and closes its client when it made it). */
  async close(): Promise<void> {
    if (this.closed) return
    await this.flush()
    this.closed = true
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer)
    if (this.ownsClient) await this.client.close()
  }

  private async initProducerId(): Promise<void> {
    const response = await this.client.retry(async () => {
      const connection = await this.client.anyConnection()
      const r = await connection.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })
      throwIfError(r.errorCode, 'InitProducerId')
      return r
    })
    this.producerId = response.producerId
    this.producerEpoch = response.producerEpoch
  }

  private async partitionCount(topic: string): Promise<number> {
    const cached = this.client.cachedTopic(topic)
    if (cached !== undefined && cached.partitions.length > 0) return cached.partitions.length
    const meta = await this.client.topicMetadata([topic], { allowAutoTopicCreation: this.allowAutoTopicCreation, timeoutMs: this.requestTimeoutMs })
    return (meta.get(topic) as { partitions: unknown[] }).partitions.length
  }

  /** Waits until `bytes` fit in `buffer.memory`: back-pressure instead of unbounded buffering. */
  private async reserve(bytes: number): Promise<void> {
    while (this.buffered > 0 && this.buffered + bytes > this.bufferMemory) {
      this.scheduleDrain()
      await new Promise<void>((resolve) => this.roomWaiters.push(resolve))
    }
    this.buffered += bytes
  }

  private release(bytes: number): void {
    this.buffered -= bytes
    while (this.roomWaiters.length > 0 && this.buffered < this.bufferMemory) (this.roomWaiters.shift() as () => void)()
  }

  /** Adds records to the partition's open batch (closing it when full); one waiter per batch touched. */
  private append(topic: string, partition: number, records: RecordInput[], partitionCount: number, closeBatch: boolean): Array<Promise<WireRecordMetadata>> {
    const queue = this.queueOf(topic, partition)
    const waits: Array<Promise<WireRecordMetadata>> = []
    let first = 0
    while (first < records.length) {
      if (queue.open === undefined) {
        queue.open = newBatch(topic, partition)
        this.outstanding++
        if (this.lingerMs > 0) {
          // The timer itself closes the batch: Node's timers may fire a little before
          // Date.now() shows lingerMs elapsed, and a drain that then declined to close it
          // would leave the batch open until some later send came along.
          queue.lingerTimer = setTimeout(() => {
            queue.lingerTimer = undefined
            this.closeOpenBatch(queue)
            this.scheduleDrain()
          }, this.lingerMs)
        }
      }
      const batch = queue.open
      const index = batch.records.length
      let end = first
      // A record always fits in an empty batch, however large (Kafka sends it alone).
      while (end < records.length && (batch.records.length === 0 || batch.bytes < this.batchSize)) {
        const r = records[end] as RecordInput
        batch.records.push(r)
        batch.bytes += recordBytes(r)
        end++
      }
      waits.push(new Promise<WireRecordMetadata>((resolve, reject) => batch.waiters.push({ index, resolve, reject })))
      if (batch.bytes >= this.batchSize || (closeBatch && end === records.length)) this.closeOpenBatch(queue, partitionCount)
      first = end
    }
    return waits
  }

  private queueOf(topic: string, partition: number): PartitionQueue {
    const key = partitionKey(topic, partition)
    let queue = this.queues.get(key)
    if (queue === undefined) {
      queue = { topic, partition, open: undefined, lingerTimer: undefined, ready: [], inFlight: 0, sequence: 0 }
      this.queues.set(key, queue)
    }
    return queue
  }

  /** Moves the open batch to the ready queue and lets a sticky partitioner move on. */
  private closeOpenBatch(queue: PartitionQueue, partitionCount?: number): void {
    const batch = queue.open
    if (batch === undefined) return
    queue.open = undefined
    if (queue.lingerTimer !== undefined) clearTimeout(queue.lingerTimer)
    queue.lingerTimer = undefined
    queue.ready.push(batch)
    const count = partitionCount ?? this.client.cachedTopic(queue.topic)?.partitions.length ?? queue.partition + 1
    this.partitioner.onNewBatch?.(queue.topic, queue.partition, count)
  }

  private scheduleDrain(delayMs = 0): void {
    if (delayMs <= 0) {
      if (this.drainQueued) return
      this.drainQueued = true
      queueMicrotask(() => {
        this.drainQueued = false
        this.drain()
      })
      return
    }
    const at = Date.now() + delayMs
    if (this.drainTimer !== undefined && this.drainTimerAt <= at) return
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer)
    this.drainTimerAt = at
    this.drainTimer = setTimeout(() => {
      this.drainTimer = undefined
      this.drainTimerAt = Infinity
      this.drain()
    }, delayMs)
  }

  /** Forms Produce requests from sendable batches, per leader broker, within the in-flight limits. */
  private drain(): void {
    if (this.closed) return
    const now = Date.now()
    const requests = new Map<number, { batches: ProducerBatch[]; bytes: number }>()
    let retryIn = Infinity
    let leaderless = false
    for (const queue of this.queues.values()) {
      if (this.idempotent && queue.inFlight > 0) continue
      let batch = queue.ready[0]
      if (batch === undefined && queue.open !== undefined && this.lingerExpired(queue.open, now)) {
        this.closeOpenBatch(queue)
        batch = queue.ready[0]
      }
      if (batch === undefined) continue
      if (batch.retryAt > now) {
        retryIn = Math.min(retryIn, batch.retryAt - now)
        continue
      }
      const leader = this.client.leaderFor(queue.topic, queue.partition)
      if (leader < 0) {
        if (now - batch.createdAt >= this.deliveryTimeoutMs) {
          queue.ready.shift()
          queue.inFlight++
          this.fail(batch, new LeaderNotAvailableError(
            `${queue.topic}-${queue.partition} had no leader for delivery.timeout.ms (${this.deliveryTimeoutMs} ms)`,
          ))
          continue
        }
        leaderless = true
        continue
      }
      const open = this.inFlightByBroker.get(leader) ?? 0
      let request = requests.get(leader)
      if (request === undefined) {
        if (open >= this.maxInFlight) continue
        request = { batches: [], bytes: 0 }
        requests.set(leader, request)
      } else if (request.bytes + batch.bytes > MAX_REQUEST_BYTES) {
        continue
      }
      queue.ready.shift()
      queue.inFlight++
      request.batches.push(batch)
      request.bytes += batch.bytes
    }
    for (const [leader, request] of requests) {
      this.inFlightByBroker.set(leader, (this.inFlightByBroker.get(leader) ?? 0) + 1)
      this.sendRequest(leader, request.batches)
    }
    // Batches left behind wait for an in-flight slot (a response drains again), a backoff, or a leader.
    if (leaderless) this.refreshMetadata()
    if (retryIn !== Infinity) this.scheduleDrain(retryIn)
    else if (leaderless) this.scheduleDrain(this.client.retryBackoffMs)
  }

  private lingerExpired(batch: ProducerBatch, now: number): boolean {
    return this.lingerMs === 0 || this.flushing > 0 || now - batch.createdAt >= this.lingerMs
  }

  /** Encodes and writes one request in this broker's order, then handles its outcome. */
  private sendRequest(leader: number, batches: ProducerBatch[]): void {
    let response: Promise<ProduceResponse | undefined> | undefined
    const previous = this.writeChains.get(leader) ?? Promise.resolve()
    const written = previous.then(async () => {
      const connection = await this.client.brokerConnection(leader)
      const topicData = new Map<string, PartitionProduceData[]>()
      for (const batch of batches) {
        batch.encoded ??= await this.encode(batch)
        let list = topicData.get(batch.topic)
        if (list === undefined) topicData.set(batch.topic, (list = []))
        list.push({ index: batch.partition, records: batch.encoded })
      }
      const body = {
        transactionalId: null,
        acks: this.acks,
        timeoutMs: this.requestTimeoutMs,
        topicData: [...topicData].map(([name, partitionData]) => ({ name, partitionData })),
      }
      response = this.acks === 0
        ? connection.request(ApiKey.Produce, body, { expectResponse: false })
        : connection.request(ApiKey.Produce, body, { timeoutMs: this.requestTimeoutMs + 5_000 })
    })
    // The chain only orders writes; it must not stop at one failed request.
    this.writeChains.set(leader, written.catch(() => undefined))
    written
      .then(() => response as Promise<ProduceResponse | undefined>)
      .then(
        (r) => this.onResponse(batches, r),
        (err: unknown) => this.onRequestError(batches, err),
      )
      .finally(() => {
        this.inFlightByBroker.set(leader, (this.inFlightByBroker.get(leader) ?? 1) - 1)
        this.scheduleDrain()
      })
  }

  private async encode(batch: ProducerBatch): Promise<Buffer> {
    const queue = this.queueOf(batch.topic, batch.partition)
    let baseSequence = -1
    if (this.idempotent) {
      baseSequence = queue.sequence
      queue.sequence = incrementSequence(queue.sequence, batch.records.length)
    }
    return encodeRecordBatch(batch.records, {
      compression: this.compression,
      producerId: this.producerId,
      producerEpoch: this.producerEpoch,
      baseSequence,
    })
  }

  private onResponse(batches: ProducerBatch[], response: ProduceResponse | undefined): void {
    if (response === undefined) {
      for (const batch of batches) this.complete(batch, -1, -1)
      return
    }
    const results = new Map<string, { errorCode: number; baseOffset: number; logAppendTimeMs: number; errorMessage: string | null }>()
    for (const t of response.responses) {
      for (const p of t.partitionResponses) results.set(partitionKey(t.name, p.index), p)
    }
    for (const batch of batches) {
      const r = results.get(partitionKey(batch.topic, batch.partition))
      if (r === undefined) {
        this.fail(batch, new NetworkError(`the Produce response has no result for ${batch.topic}-${batch.partition}`))
      } else if (r.errorCode === 0 || (this.idempotent && r.errorCode === DUPLICATE_SEQUENCE_NUMBER)) {
        this.complete(batch, r.baseOffset, r.logAppendTimeMs)
      } else {
        try {
          throwIfError(r.errorCode, `producing to ${batch.topic}-${batch.partition}`, r.errorMessage)
        } catch (err) {
          this.retryOrFail(batch, err as ShardlogError)
        }
      }
    }
  }

  private onRequestError(batches: ProducerBatch[], err: unknown): void {
    const error = isShardlogError(err) ? err : new NetworkError(`Produce failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    for (const batch of batches) this.retryOrFail(batch, error)
  }

  private retryOrFail(batch: ProducerBatch, err: ShardlogError): void {
    const queue = this.queueOf(batch.topic, batch.partition)
    queue.inFlight--
    if (!err.retriable || batch.attempts >= this.retries || this.closed) {
      this.settle(batch, (w) => w.reject(err))
      return
    }
    batch.attempts++
    batch.retryAt = Date.now() + Math.min(this.client.retryBackoffMs * 2 ** (batch.attempts - 1), 1000)
    // Back at the front: it was closed before anything still waiting in this partition.
    queue.ready.unshift(batch)
    if (isStaleMetadataError(err)) this.refreshMetadata()
  }

  private complete(batch: ProducerBatch, baseOffset: number, logAppendTimeMs: number): void {
    this.queueOf(batch.topic, batch.partition).inFlight--
    this.settle(batch, (w) => w.resolve({
      topic: batch.topic,
      partition: batch.partition,
      baseOffset: baseOffset < 0 ? -1 : baseOffset + w.index,
      logAppendTimeMs,
    }))
  }

  private fail(batch: ProducerBatch, err: Error): void {
    this.queueOf(batch.topic, batch.partition).inFlight--
    this.settle(batch, (w) => w.reject(err))
  }

  private settle(batch: ProducerBatch, each: (w: Waiter) => void): void {
    for (const w of batch.waiters) each(w)
    this.release(batch.bytes)
    this.outstanding--
    if (this.outstanding === 0) for (const resolve of this.idleWaiters.splice(0)) resolve()
  }

  /** One metadata refresh at a time for every topic with queued batches. */
  private refreshMetadata(): void {
    if (this.metadataRefresh !== undefined) return
    const topics = [...new Set([...this.queues.values()].map((q) => q.topic))]
    this.metadataRefresh = this.client.refreshMetadata(topics)
      .then(() => undefined, () => undefined) // a failed refresh is retried by the next drain that needs it
      .finally(() => {
        this.metadataRefresh = undefined
        this.scheduleDrain()
      })
  }
}

function newBatch(topic: string, partition: number): ProducerBatch {
  return { topic, partition, records: [], bytes: 0, waiters: [], createdAt: Date.now(), encoded: undefined, attempts: 0, retryAt: 0 }
}

function recordBytes(r: RecordInput): number {
  const key = r.key === undefined || r.key === null ? 0 : r.key.length
  const value = r.value === null ? 0 : r.value.length
  return RECORD_OVERHEAD_BYTES + key + value + headerBytes(r.headers)
}

function headerBytes(headers: RecordInput['headers']): number {
  if (headers === undefined) return 0
  let n = 0
  const entries = Array.isArray(headers)
    ? (headers as ReadonlyArray<{ key: string; value: Buffer | string | null }>).map((h) => [h.key, h.value] as const)
    : Object.entries(headers as Record<string, Buffer | string | null | undefined>)
  for (const [k, v] of entries) n += k.length + (v === null || v === undefined ? 0 : v.length) + 4
  return n
}

/** Joins the metadata of one send's parts that landed in the same partition (the first part's offset). */
function mergeByPartition(results: readonly WireRecordMetadata[]): WireRecordMetadata[] {
  const seen = new Map<number, WireRecordMetadata>()
  for (const r of results) if (!seen.has(r.partition)) seen.set(r.partition, r)
  return [...seen.values()]
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) && value !== Infinity) throw new InvalidConfigError(`${name} must be a number >= 0, got ${String(value)}`)
  if (value < 0) throw new InvalidConfigError(`${name} must be >= 0, got ${value}`)
  return value
}
