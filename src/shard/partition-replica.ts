/**
 * One partition replica as a shard worker holds it: the partition log plus the state Kafka
 * keeps beside it — leader epochs, idempotent producer state, the high watermark, the
 * replica's role (leader or follower) and the in-sync replica set the controller last
 * gave it — and the long-polling fetches and acks=all produces waiting on it.
 * Owned by exactly one shard thread.
 *
 * High watermark: with an ISR of one (the leader alone) every append is committed at
 * once; with followers in the ISR the main thread's replication manager computes the
 * minimum log end offset over the ISR and pushes it here (see ShardOp.UpdateHighWatermark).
 * It is checkpointed (Kafka's replication-offset-checkpoint, per partition here) so a
 * restarted leader does not expose records that were never committed.
 */
import path from 'node:path'
import type { PartitionLog } from '../storage/partition-log.js'
import { LeaderEpochFileCache } from '../storage/leader-epoch-file-cache.js'
import { ProducerStateManager } from '../storage/producer-state-manager.js'
import { validateCompactedBatch } from '../storage/log-cleaner.js'
import { readOffsetCheckpoint, writeOffsetCheckpoint } from '../storage/log-loader.js'
import { readBatchHeader, TRANSACTIONAL_FLAG_MASK, RECORD_BATCH_OVERHEAD, batchSizeAt, type BatchHeader } from '../records/batch-header.js'
import { CorruptRecordError, InvalidRecordError, UnknownTopicOrPartitionError, NotEnoughReplicasError, NotLeaderOrFollowerError, RequestTimedOutError, NotEnoughReplicasAfterAppendError } from '../errors.js'
import type { ProduceResultPayload } from './shard-codec.js'

/** Wakes a waiting fetch when records arrive or the high watermark moves. */
export type AppendListener = () => void

/** Kafka keeps one replication-offset-checkpoint per log dir; shards share a dir here, so one per partition. */
const HW_CHECKPOINT = 'replication-offset-checkpoint'

/** A partition replica on a shard thread. */
export class PartitionReplica {
  readonly epochs: LeaderEpochFileCache
  readonly producers: ProducerStateManager
  leaderEpoch: number
  isLeader: boolean
  /** Brokers in the in-sync replica set, as the controller last said. */
  isr: number[]
  private hw: number
  private checkpointedHw = -1
  /**
   * One-shot append listeners. An array, not a Set: a parked fetch adds and removes one per
   * round, and a long-lived Set's rehashed tables would go straight to the old generation
   * (see RequestTable in request-table.ts).
   */
  private listeners: AppendListener[] = []
  /** acks=all produces waiting for the high watermark to pass their last offset. */
  private readonly ackWaiters: Array<{ offset: number; resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = []

  constructor(readonly log: PartitionLog, leaderEpoch: number, isLeader: boolean, isr: number[]) {
    this.epochs = new LeaderEpochFileCache(path.join(log.dir, 'leader-epoch-checkpoint'))
    this.producers = new ProducerStateManager(log.dir)
    this.leaderEpoch = leaderEpoch
    this.isLeader = isLeader
    this.isr = isr
    this.hw = Math.min(this.readHwCheckpoint(), log.logEndOffset)
    if (isLeader && leaderEpoch >= 0) this.epochs.assign(leaderEpoch, log.logEndOffset)
    this.rebuildProducerState(Math.max(this.producers.loadLatestSnapshot(), log.logStartOffset))
    this.maybeAdvanceSoloHw()
  }

  private readHwCheckpoint(): number {
    // No checkpoint yet (a new partition): the high watermark starts at 0 and catches up.
    return readOffsetCheckpoint(path.join(this.log.dir, HW_CHECKPOINT)) ?? 0
  }

  /**
   * Writes the high watermark checkpoint if it moved (on flush and close). Not fsynced: an
   * older value only delays what consumers see after a crash, it never exposes more.
   */
  checkpointHighWatermark(): void {
    if (this.hw === this.checkpointedHw) return
    writeOffsetCheckpoint(path.join(this.log.dir, HW_CHECKPOINT), this.log.topic, this.log.partition, this.hw, false)
    this.checkpointedHw = this.hw
  }

  /** Replays batch headers from `from` to the log end into the producer state. */
  private rebuildProducerState(from: number): void {
    const headers: Array<{ header: BatchHeader }> = []
    this.forEachBatchHeader(from, (header) => headers.push({ header }))
    this.producers.rebuildFrom(headers)
  }

  private forEachBatchHeader(from: number, fn: (h: BatchHeader) => void): void {
    let offset = Math.max(from, this.log.logStartOffset)
    while (offset < this.log.logEndOffset) {
      const { data } = this.log.read(offset, 1 << 20)
      if (data.length === 0) break
      let pos = 0
      let last = offset - 1
      while (pos + RECORD_BATCH_OVERHEAD <= data.length) {
        const size = batchSizeAt(data, pos)
        if (pos + size > data.length) break
        const header = readBatchHeader(data, pos)
        last = header.baseOffset + header.lastOffsetDelta
        if (last >= offset) fn(header)
        pos += size
      }
      if (last < offset) break
      offset = last + 1
    }
  }

  /** The high watermark: consumers see records below it. */
  get highWatermark(): number {
    return this.hw
  }

  /** With the leader alone in the ISR, everything appended is committed. */
  private maybeAdvanceSoloHw(): void {
    if (this.isLeader && this.isr.length <= 1) this.setHighWatermark(this.log.logEndOffset)
  }

  /** Moves the high watermark forward (never back, never past the log end) and wakes waiters. */
  setHighWatermark(hw: number): void {
    const next = Math.min(hw, this.log.logEndOffset)
    if (next <= this.hw) return
    this.hw = next
    for (let i = this.ackWaiters.length - 1; i >= 0; i--) {
      const w = this.ackWaiters[i]!
      if (w.offset < this.hw) {
        clearTimeout(w.timer)
        this.ackWaiters.splice(i, 1)
        w.resolve()
      }
    }
    this.notify()
  }

  /**
   * Appends a produce request's batches as leader: checks `min.insync.replicas` for
   * acks=all, checks idempotent sequences (a retried batch returns its original offsets
   * instead of being appended twice), stamps the leader epoch, assigns offsets.
   */
  appendAsLeader(batches: Buffer, acks: number, now: number, crcVerified = false): ProduceResultPayload {
    if (!this.isLeader) throw new NotLeaderOrFollowerError(`This replica of ${this.log.topic}-${this.log.partition} is not the leader`)
    if (batches.length < RECORD_BATCH_OVERHEAD) throw new CorruptRecordError(`Produce request holds ${batches.length} bytes, less than one batch header`)
    if (acks === -1 && this.isr.length < this.log.config.minInsyncReplicas) {
      throw new NotEnoughReplicasError(`The size of the current ISR [${this.isr.join(',')}] of ${this.log.topic}-${this.log.partition} is insufficient to satisfy the min.isr requirement of ${this.log.config.minInsyncReplicas}`)
    }
    const header = readBatchHeader(batches, 0)
    if (this.log.config.cleanupPolicy.compact) validateCompactedBatch(batches)
    const idempotent = header.producerId >= 0
    // Sequences are checked per batch: an idempotent append must be one batch, as Kafka
    // requires of every Produce request since v3 (INVALID_RECORD otherwise).
    if (idempotent && batchSizeAt(batches, 0) !== batches.length) {
      throw new InvalidRecordError(`An idempotent produce to ${this.log.topic}-${this.log.partition} must hold exactly one record batch`)
    }
    const check = idempotent
      ? this.producers.check({
          producerId: header.producerId,
          producerEpoch: header.producerEpoch,
          baseSequence: header.baseSequence,
          lastOffsetDelta: header.lastOffsetDelta,
          isTransactional: (header.attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
        })
      : { kind: 'append' as const }
    if (check.kind === 'duplicate') {
      return { baseOffset: check.firstOffset, lastOffset: check.lastOffset, logAppendTime: -1, logStartOffset: this.log.logStartOffset, duplicate: true }
    }
    const result = this.log.append(batches, { assignOffsets: true, leaderEpoch: this.leaderEpoch, now, crcVerified })
    if (idempotent) {
      this.producers.update({
        producerId: header.producerId,
        producerEpoch: header.producerEpoch,
        baseSequence: header.baseSequence,
        lastOffsetDelta: header.lastOffsetDelta,
        firstOffset: result.firstOffset,
        lastOffset: result.lastOffset,
        timestamp: now,
      })
    }
    this.maybeAdvanceSoloHw()
    this.notify()
    return { baseOffset: result.firstOffset, lastOffset: result.lastOffset, logAppendTime: result.logAppendTime, logStartOffset: result.logStartOffset, duplicate: false }
  }

  /**
   * Waits until the high watermark passes `lastOffset` (acks=all). Fails with
   * NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below `min.insync.replicas`
   * meanwhile, or REQUEST_TIMED_OUT after `timeoutMs`, as Kafka's delayed produce does.
   */
  awaitCommitted(lastOffset: number, timeoutMs: number): Promise<void> {
    if (lastOffset < this.hw) return Promise.resolve()
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.ackWaiters.findIndex((w) => w.timer === timer)
        if (i >= 0) this.ackWaiters.splice(i, 1)
        reject(new RequestTimedOutError(`Offset ${lastOffset} of ${this.log.topic}-${this.log.partition} was not replicated to the ISR within ${timeoutMs} ms`))
      }, timeoutMs)
      this.ackWaiters.push({ offset: lastOffset, resolve, reject, timer })
    })
  }

  /**
   * Appends batches fetched from the leader as they are (same offsets, same bytes), keeps
   * the epoch cache and producer state in step, and takes the leader's high watermark.
   */
  appendAsFollower(batches: Buffer, leaderHighWatermark: number, now: number): void {
    if (this.isLeader) throw new NotLeaderOrFollowerError(`This replica of ${this.log.topic}-${this.log.partition} is the leader, not a follower`)
    if (batches.length > 0) {
      let pos = 0
      const headers: BatchHeader[] = []
      while (pos + RECORD_BATCH_OVERHEAD <= batches.length) {
        const size = batchSizeAt(batches, pos)
        if (pos + size > batches.length) break
        headers.push(readBatchHeader(batches, pos))
        pos += size
      }
      const whole = batches.subarray(0, pos)
      if (whole.length > 0) {
        this.log.append(whole, { assignOffsets: false, now })
        for (const h of headers) {
          const latest = this.epochs.latestEpoch()
          if (h.partitionLeaderEpoch >= 0 && (latest === undefined || h.partitionLeaderEpoch > latest)) this.epochs.assign(h.partitionLeaderEpoch, h.baseOffset)
          if (h.producerId >= 0) {
            this.producers.update({ producerId: h.producerId, producerEpoch: h.producerEpoch, baseSequence: h.baseSequence, lastOffsetDelta: h.lastOffsetDelta, firstOffset: h.baseOffset, lastOffset: h.baseOffset + h.lastOffsetDelta, timestamp: now })
          }
        }
      }
    }
    this.setHighWatermark(leaderHighWatermark)
    this.notify()
  }

  /** Cuts the log back to `offset` (a follower's divergent tail) and reloads producer state. */
  truncateTo(offset: number): void {
    if (offset >= this.log.logEndOffset) return
    this.log.truncateTo(offset)
    this.epochs.truncateFromEnd(offset)
    this.rebuildProducerState(this.producers.truncateAndReload(offset))
    if (this.hw > offset) this.hw = offset
  }

  /** Registers a listener called once on the next append or high-watermark move. */
  onNextAppend(listener: AppendListener): () => void {
    this.listeners.push(listener)
    return () => {
      const at = this.listeners.indexOf(listener)
      if (at >= 0) this.listeners.splice(at, 1)
    }
  }

  private notify(): void {
    if (this.listeners.length === 0) return
    const ls = this.listeners
    this.listeners = []
    for (const l of ls) l()
  }

  /**
   * Takes a new role from the controller: leader (at `leaderEpoch`, with `isr`) or
   * follower. A new leader starts its epoch at its log end, as Kafka's makeLeader does.
   */
  applyState(isLeader: boolean, leaderEpoch: number, isr: number[]): void {
    const epochChanged = leaderEpoch !== this.leaderEpoch
    this.isr = isr
    if (isLeader && (!this.isLeader || epochChanged)) {
      this.epochs.assign(leaderEpoch, this.log.logEndOffset)
    }
    if (this.isLeader && !isLeader) this.failAckWaiters(new NotLeaderOrFollowerError(`Leadership of ${this.log.topic}-${this.log.partition} moved`))
    this.isLeader = isLeader
    this.leaderEpoch = leaderEpoch
    if (isLeader && this.isr.length < this.log.config.minInsyncReplicas) {
      this.failAckWaiters(new NotEnoughReplicasAfterAppendError(`The ISR of ${this.log.topic}-${this.log.partition} shrank below min.insync.replicas`))
    }
    this.maybeAdvanceSoloHw()
    this.notify()
  }

  private failAckWaiters(err: Error): void {
    for (const w of this.ackWaiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(err)
    }
  }

  /**
   * The replica is being deleted (its files go with the log manager's remove): acks=all
   * produces fail, and long-polling fetches wake at once to find the partition gone instead
   * of waiting out maxWaitMs.
   */
  detach(): void {
    this.failAckWaiters(new UnknownTopicOrPartitionError(`${this.log.topic}-${this.log.partition} was deleted`))
    this.notify()
  }

  /**
   * The shard died (`InThreadShard.kill`): its acks=all waiters fail and their timers go, and
   * nothing is written, as when a worker thread is terminated. The log manager's `abandon`
   * closes the descriptors; the next incarnation recovers the log.
   */
  abandon(): void {
    this.failAckWaiters(new NotLeaderOrFollowerError(`${this.log.topic}-${this.log.partition}: its shard died`))
  }

  /** Closes the log, checkpointing producer state, epochs and the high watermark first. */
  close(): void {
    this.failAckWaiters(new NotLeaderOrFollowerError(`${this.log.topic}-${this.log.partition} is closing`))
    this.producers.takeSnapshot(this.log.logEndOffset)
    this.epochs.flush()
    this.checkpointHighWatermark()
    this.log.close()
  }
}
