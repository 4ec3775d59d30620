/**
 * The worker side of a shard: owns a {@link LogManager} over its broker's data directory
 * and the partition replicas placed on this shard, and serves {@link ShardOp} requests
 * arriving on the ring. Runs on exactly one worker thread; nothing here is shared.
 */
import { LogManager } from '../storage/log-manager.js'
import { parseLogConfig, type LogConfig } from '../storage/log-config.js'
import { cleanSegments } from '../storage/log-cleaner.js'
import { UnknownTopicOrPartitionError, OffsetOutOfRangeError, kafkaErrorCodeOf, InvalidRequiredAcksError, NotLeaderOrFollowerError } from '../errors.js'
import { PartitionReplica } from './partition-replica.js'
import { ShardOp, type OpenPartitionMessage, type PartitionRef, type UpdateConfigMessage, type ListOffsetMessage,
  type ListOffsetResult, type DeleteRecordsMessage, type PartitionStateResult, type EpochEndOffsetMessage,
  type PartitionStateChange, type HighWatermarkUpdate, type TruncateMessage } from './shard-ops.js'
import {
  decodeProduceRequest, encodeProduceResult, decodeFetchRequest, decodeReplicaAppend, encodeFetchResult, encodeJson, decodeJson,
  FetchIsolation, type FetchPartitionResult, type FetchRequestPayload,
} from './shard-codec.js'
import type { RingPayload } from './ring.js'
import { RequestTable } from './request-table.js'
import { partitionKey } from '../topic-partition.js'

/** Start-up parameters of a shard worker (JSON, passed as workerData). */
export interface ShardRuntimeOptions {
  brokerId: number
  shardId: number
  /** The broker's data directory, `<dataDir>/broker-<id>`. */
  brokerDir: string
  /** Broker-level defaults for topic configs (Kafka's `log.*` server configs). */
  logDefaults: Record<string, string>
  maxOpenFiles: number
  /** How often retention, time-based flush and compaction run (Kafka: log.retention.check.interval.ms). */
  maintenanceIntervalMs: number
}

const EMPTY = Buffer.alloc(0)

/** A long-polling fetch: the token the main thread may wake it by (0: none), its ending, and its dropping. */
interface ParkedFetch {
  waitToken: number
  finish: () => void
  /** Ends the wait without an answer (the shard died): timer and listeners go, nothing is read. */
  drop: () => void
}

/** Serves one shard's partition replicas. */
export class ShardRuntime {
  private readonly logs: LogManager
  private readonly replicas = new Map<string, PartitionReplica>()
  private readonly defaults: LogConfig
  /**
   * Every long-polling fetch: found by its wait token when the main thread ends it early
   * (WakeFetch), and answered at once on Shutdown so that stopping never waits out a maxWaitMs.
   * A RequestTable rather than a Set or a Map by token: one add and one removal per parked
   * fetch would fill the old generation with their rehashed tables.
   */
  private readonly parkedFetches = new RequestTable<ParkedFetch>()
  private maintenanceTimer: NodeJS.Timeout | undefined

  constructor(private readonly opts: ShardRuntimeOptions) {
    this.defaults = parseLogConfig(opts.logDefaults)
    this.logs = new LogManager({ dataDir: opts.brokerDir, maxOpenFiles: opts.maxOpenFiles, defaults: this.defaults })
    this.logs.open()
    if (opts.maintenanceIntervalMs > 0) {
      this.maintenanceTimer = setInterval(() => this.maintenance(), opts.maintenanceIntervalMs)
      this.maintenanceTimer.unref()
    }
  }

  /** Dispatches one request; errors propagate to the caller as typed error frames. */
  handle(op: number, payload: Buffer): RingPayload | Promise<RingPayload> {
    switch (op) {
      case ShardOp.Produce: return this.produce(payload)
      case ShardOp.Fetch: return this.fetch(decodeFetchRequest(payload))
      case ShardOp.OpenPartition: return this.openPartition(decodeJson<OpenPartitionMessage>(payload))
      case ShardOp.DeletePartition: return this.deletePartition(decodeJson<PartitionRef>(payload))
      case ShardOp.UpdateConfig: return this.updateConfig(decodeJson<UpdateConfigMessage>(payload))
      case ShardOp.ListOffset: return encodeJson(this.listOffset(decodeJson<ListOffsetMessage>(payload)))
      case ShardOp.DeleteRecords: return encodeJson(this.deleteRecords(decodeJson<DeleteRecordsMessage>(payload)))
      case ShardOp.PartitionState: return encodeJson(decodeJson<PartitionRef[]>(payload).map((r) => this.partitionState(r)))
      case ShardOp.EpochEndOffset: return encodeJson(this.epochEndOffset(decodeJson<EpochEndOffsetMessage>(payload)))
      case ShardOp.UpdatePartitionState: return this.updatePartitionState(decodeJson<PartitionStateChange[]>(payload))
      case ShardOp.ReplicaAppend: return this.replicaAppend(payload)
      case ShardOp.UpdateHighWatermark: return this.updateHighWatermark(decodeJson<HighWatermarkUpdate[]>(payload))
      case ShardOp.Truncate: return this.truncate(decodeJson<TruncateMessage>(payload))
      case ShardOp.WakeFetch: this.wakeFetch(payload.readUInt32BE(0)); return EMPTY
      case ShardOp.Flush: for (const r of this.replicas.values()) { r.log.flush(); r.checkpointHighWatermark() } return EMPTY
      case ShardOp.Maintenance: this.maintenance(); return EMPTY
      case ShardOp.Shutdown: this.shutdown(); return EMPTY
      default: throw new UnknownTopicOrPartitionError(`shard ${this.opts.shardId}: unknown op ${op}`)
    }
  }

  /** The replica of a partition this shard hosts, or undefined. */
  private hosted(topic: string, partition: number): PartitionReplica | undefined {
    return this.replicas.get(partitionKey(topic, partition))
  }

  private replica(topic: string, partition: number): PartitionReplica {
    const r = this.hosted(topic, partition)
    if (!r) throw new UnknownTopicOrPartitionError(`This server does not host ${topic}-${partition}`)
    return r
  }

  private openPartition(m: OpenPartitionMessage): Uint8Array {
    const key = partitionKey(m.topic, m.partition)
    const existing = this.replicas.get(key)
    const config = parseLogConfig(m.configs, this.defaults)
    if (existing) {
      existing.log.updateConfig(config)
      existing.applyState(m.isLeader, m.leaderEpoch, m.isr)
      return EMPTY
    }
    const log = this.logs.getOrCreate(m.topic, m.partition, config)
    this.replicas.set(key, new PartitionReplica(log, m.leaderEpoch, m.isLeader, m.isr))
    return EMPTY
  }

  private deletePartition(m: PartitionRef): Uint8Array {
    const key = partitionKey(m.topic, m.partition)
    const r = this.replicas.get(key)
    this.replicas.delete(key)
    r?.detach()
    this.logs.remove(m.topic, m.partition)
    return EMPTY
  }

  private updateConfig(m: UpdateConfigMessage): Uint8Array {
    this.replica(m.topic, m.partition).log.updateConfig(parseLogConfig(m.configs, this.defaults))
    return EMPTY
  }

  private updatePartitionState(changes: PartitionStateChange[]): Uint8Array {
    for (const c of changes) this.replica(c.topic, c.partition).applyState(c.isLeader, c.leaderEpoch, c.isr)
    return EMPTY
  }

  private replicaAppend(payload: Buffer): Uint8Array {
    const req = decodeReplicaAppend(payload)
    const r = this.replica(req.topic, req.partition)
    r.appendAsFollower(req.batches, req.leaderHighWatermark, Date.now())
    const out = Buffer.allocUnsafe(8)
    out.writeDoubleBE(r.log.logEndOffset, 0)
    return out
  }

  private updateHighWatermark(updates: HighWatermarkUpdate[]): Uint8Array {
    for (const u of updates) this.hosted(u.topic, u.partition)?.setHighWatermark(u.highWatermark)
    return EMPTY
  }

  private truncate(m: TruncateMessage): Uint8Array {
    this.replica(m.topic, m.partition).truncateTo(m.offset)
    return EMPTY
  }

  private produce(payload: Buffer): Uint8Array | Promise<Uint8Array> {
    const req = decodeProduceRequest(payload)
    if (req.acks !== 0 && req.acks !== 1 && req.acks !== -1) throw new InvalidRequiredAcksError(`acks must be -1, 0 or 1, got ${req.acks}`)
    const replica = this.replica(req.topic, req.partition)
    const result = replica.appendAsLeader(req.batches, req.acks, Date.now(), req.crcVerified === true)
    if (req.acks !== -1 || result.duplicate) return encodeProduceResult(result)
    return replica.awaitCommitted(result.lastOffset, req.timeoutMs).then(() => encodeProduceResult(result))
  }

  /** Reads every requested partition once; returns the results (in request order) and the bytes found. */
  private readOnce(req: FetchRequestPayload): { results: FetchPartitionResult[]; bytes: number } {
    const results: FetchPartitionResult[] = []
    let bytes = 0
    let budget = req.maxBytes
    for (const p of req.partitions) {
      const r = this.hosted(p.topic, p.partition)
      if (!r) {
        results.push({ topic: p.topic, partition: p.partition, errorCode: 3, highWatermark: -1, logStartOffset: -1, logEndOffset: -1, records: EMPTY })
        continue
      }
      const hw = r.highWatermark
      const upper = req.isolation === FetchIsolation.LogEnd ? r.log.logEndOffset : hw
      let records: Buffer = EMPTY
      let errorCode = 0
      try {
        if (!r.isLeader) throw new NotLeaderOrFollowerError(`${p.topic}-${p.partition} is not led by this replica`)
        if (p.offset > r.log.logEndOffset || p.offset < r.log.logStartOffset) {
          throw new OffsetOutOfRangeError(`Offset ${p.offset} is out of range for ${p.topic}-${p.partition} [${r.log.logStartOffset}, ${r.log.logEndOffset}]`)
        }
        if (p.offset < upper && budget > 0) {
          // Kafka: the first partition with data returns at least one whole batch even past maxBytes.
          const max = Math.min(p.maxBytes, budget)
          records = r.log.read(p.offset, max, { maxOffset: upper, minOneMessage: bytes === 0 }).data
        }
      } catch (err) {
        errorCode = kafkaErrorCodeOf(err)
      }
      bytes += records.length
      budget -= records.length
      // Incremental (KIP-227): a caught-up partition with nothing new is left out of the answer.
      if (req.incremental === true && errorCode === 0 && records.length === 0 && hw === p.offset) continue
      results.push({ topic: p.topic, partition: p.partition, errorCode, highWatermark: hw, logStartOffset: r.log.logStartOffset, logEndOffset: r.log.logEndOffset, records })
    }
    return { results, bytes }
  }

  /**
   * Ends the long poll of the fetch parked under `waitToken` (another shard answered that
   * fetch first). A scan of the few parked fetches rather than a Map by token, which would
   * take a set and a delete per fetch (see RequestTable).
   */
  private wakeFetch(waitToken: number): void {
    if (waitToken !== 0) this.parkedFetches.find((p) => p.waitToken === waitToken)?.finish()
  }

  /**
   * Fetch with Kafka's long-poll semantics: answer at once when `minBytes` are there (or
   * an error), otherwise wait for appends to the requested partitions until `maxWaitMs`.
   */
  private fetch(req: FetchRequestPayload): RingPayload | Promise<RingPayload> {
    const first = this.readOnce(req)
    const hasError = first.results.some((r) => r.errorCode !== 0)
    if (first.bytes >= Math.max(1, req.minBytes) || hasError || req.maxWaitMs <= 0) return encodeFetchResult(first.results)
    return new Promise<RingPayload>((resolve) => {
      const cancels: Array<() => void> = []
      let done = false
      let parkedId = 0
      const drop = (): void => {
        if (done) return
        done = true
        clearTimeout(timer)
        for (const c of cancels) c()
        this.parkedFetches.take(parkedId)
      }
      const finish = (): void => {
        if (done) return
        drop()
        resolve(encodeFetchResult(this.readOnce(req).results))
      }
      // With minBytes > 1 the wait goes on until enough bytes are there. As Kafka's DelayedFetch,
      // the bytes appended since the wait began are counted rather than read: they bound what a
      // read could return, so the partitions are read again only once they could reach minBytes.
      const waited = req.minBytes > 1 ? this.logSizes(req) : undefined
      const onAppend = (): void => {
        if (done) return
        if (waited !== undefined && (first.bytes + this.bytesAppendedSince(waited) < req.minBytes || this.readOnce(req).bytes < req.minBytes)) {
          arm()
          return
        }
        finish()
      }
      const arm = (): void => {
        // Listeners are one-shot: those of the last round are gone or about to be.
        for (const c of cancels) c()
        cancels.length = 0
        for (const p of req.partitions) {
          const r = this.hosted(p.topic, p.partition)
          if (r) cancels.push(r.onNextAppend(onAppend))
        }
      }
      const timer = setTimeout(finish, req.maxWaitMs)
      parkedId = this.parkedFetches.add({ waitToken: req.waitToken, finish, drop })
      arm()
    })
  }

  /** The log size in bytes of each requested partition that this shard holds. */
  private logSizes(req: FetchRequestPayload): Map<PartitionReplica, number> {
    const sizes = new Map<PartitionReplica, number>()
    for (const p of req.partitions) {
      const r = this.hosted(p.topic, p.partition)
      if (r) sizes.set(r, r.log.size)
    }
    return sizes
  }

  /**
   * Bytes appended to these logs since `sizes` were taken. A log that shrank meanwhile
   * (retention, truncation) counts as 0, so a fetch may then wait out its maxWaitMs.
   */
  private bytesAppendedSince(sizes: ReadonlyMap<PartitionReplica, number>): number {
    let bytes = 0
    for (const [r, size] of sizes) bytes += Math.max(0, r.log.size - size)
    return bytes
  }

  private leaderReplica(topic: string, partition: number): PartitionReplica {
    const r = this.replica(topic, partition)
    if (!r.isLeader) throw new NotLeaderOrFollowerError(`${topic}-${partition} is not led by this replica`)
    return r
  }

  private listOffset(m: ListOffsetMessage): ListOffsetResult {
    const r = this.leaderReplica(m.topic, m.partition)
    if (m.timestamp === -2) return { offset: r.log.logStartOffset, timestamp: -1, leaderEpoch: r.leaderEpoch }
    if (m.timestamp === -1) return { offset: r.highWatermark, timestamp: -1, leaderEpoch: r.leaderEpoch }
    if (m.timestamp === -3) {
      // KIP-734 MAX_TIMESTAMP: the committed record with the largest timestamp.
      const max = r.log.offsetForTimestamp(-3)
      if (!max || max.offset >= r.highWatermark) return { offset: -1, timestamp: -1, leaderEpoch: r.leaderEpoch }
      return { offset: max.offset, timestamp: max.timestamp, leaderEpoch: r.epochs.epochForOffset(max.offset) ?? r.leaderEpoch }
    }
    const found = r.log.offsetForTimestamp(m.timestamp)
    if (!found || found.offset >= r.highWatermark) return { offset: -1, timestamp: -1, leaderEpoch: r.leaderEpoch }
    return { offset: found.offset, timestamp: found.timestamp, leaderEpoch: r.epochs.epochForOffset(found.offset) ?? r.leaderEpoch }
  }

  private deleteRecords(m: DeleteRecordsMessage): { lowWatermark: number } {
    const r = this.leaderReplica(m.topic, m.partition)
    const target = m.offset === -1 ? r.highWatermark : m.offset
    if (target < 0 || target > r.highWatermark) {
      throw new OffsetOutOfRangeError(`Cannot delete records of ${m.topic}-${m.partition} before ${target}: high watermark is ${r.highWatermark}`)
    }
    return { lowWatermark: r.log.deleteRecordsBefore(target) }
  }

  private partitionState(ref: PartitionRef): PartitionStateResult {
    const r = this.replica(ref.topic, ref.partition)
    return {
      topic: ref.topic,
      partition: ref.partition,
      logStartOffset: r.log.logStartOffset,
      logEndOffset: r.log.logEndOffset,
      highWatermark: r.highWatermark,
      sizeBytes: r.log.size,
      segments: r.log.segmentCount,
      leaderEpoch: r.leaderEpoch,
      latestEpoch: r.epochs.latestEpoch() ?? -1,
      isLeader: r.isLeader,
    }
  }

  private epochEndOffset(m: EpochEndOffsetMessage): { leaderEpoch: number; endOffset: number } {
    const r = this.replica(m.topic, m.partition)
    const { epoch, endOffset } = r.epochs.endOffsetFor(m.leaderEpoch, r.log.logEndOffset)
    return { leaderEpoch: epoch, endOffset }
  }

  /** Retention, time-based flush and compaction of every replica on this shard. */
  maintenance(now = Date.now()): void {
    this.logs.runRetention(now)
    this.logs.flushDirty(now)
    for (const r of this.replicas.values()) {
      const log = r.log
      if (!log.config.cleanupPolicy.compact) continue
      const segments = log.segmentsForCleaning()
      if (segments.length === 0) continue
      const cleaned = cleanSegments(segments.map((s) => ({
        baseOffset: s.baseOffset,
        lastModifiedMs: s.lastModifiedMs,
        batches: () => [...s.readBatches()].map((b) => b.data),
      })), { now, deleteRetentionMs: log.config.deleteRetentionMs, minCompactionLagMs: log.config.minCompactionLagMs, maxSegmentBytes: log.config.segmentBytes })
      // Each cleaned segment replaces the run of old segments it was merged from.
      for (const out of cleaned.segments) {
        const replaced = segments.filter((s) => out.replaces.includes(s.baseOffset))
        if (replaced.length === 0) continue
        log.replaceSegments([...replaced], log.createCleanedSegment(out.baseOffset, out.batches))
      }
    }
  }

  /**
   * Dies on the spot, as a terminated worker would: timers stop, parked fetches are dropped
   * unanswered, acks=all waiters fail, descriptors close, and nothing is flushed or marked
   * clean, so the next runtime over the directory recovers the logs. Used by `InThreadShard`
   * (`kill`); the runtime must not be called afterwards.
   */
  abandon(): void {
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer)
    for (const parked of this.parkedFetches.drain()) parked.drop()
    for (const r of this.replicas.values()) r.abandon()
    this.replicas.clear()
    this.logs.abandon()
  }

  /** Closes every replica cleanly. */
  shutdown(): void {
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer)
    for (const parked of this.parkedFetches.drain()) parked.finish()
    for (const r of this.replicas.values()) r.close()
    this.replicas.clear()
    this.logs.close()
  }
}
