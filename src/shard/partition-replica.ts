/**
 * One partition replica as a shard worker holds it: the partition log plus the state Kafka
 * keeps beside it (leader epochs, idempotent producer state, high watermark) and the
 * long-polling fetches waiting for new records. Owned by exactly one shard thread.
 */
import path from 'node:path'
import type { PartitionLog } from '../storage/partition-log.js'
import { LeaderEpochFileCache } from '../storage/leader-epoch-file-cache.js'
import { ProducerStateManager } from '../storage/producer-state-manager.js'
import { validateCompactedBatch } from '../storage/log-cleaner.js'
import { readBatchHeader, TRANSACTIONAL_FLAG_MASK, RECORD_BATCH_OVERHEAD, batchSizeAt } from '../records/batch-header.js'
import { CorruptRecordError } from '../errors.js'
import type { ProduceResultPayload } from './shard-codec.js'

/** Wakes a waiting fetch when records arrive. */
export type AppendListener = () => void

/** A partition replica on a shard thread. */
export class PartitionReplica {
  readonly epochs: LeaderEpochFileCache
  readonly producers: ProducerStateManager
  leaderEpoch: number
  private readonly listeners = new Set<AppendListener>()

  constructor(readonly log: PartitionLog, leaderEpoch: number) {
    this.epochs = new LeaderEpochFileCache(path.join(log.dir, 'leader-epoch-checkpoint'))
    this.producers = new ProducerStateManager(log.dir)
    this.leaderEpoch = leaderEpoch
    if (leaderEpoch >= 0) this.epochs.assign(leaderEpoch, log.logEndOffset)
    this.rebuildProducerState()
  }

  /** Replays batch headers from the latest producer snapshot to the log end. */
  private rebuildProducerState(): void {
    const from = Math.max(this.producers.loadLatestSnapshot(), this.log.logStartOffset)
    const headers: Array<{ header: ReturnType<typeof readBatchHeader> }> = []
    let offset = from
    while (offset < this.log.logEndOffset) {
      const { data } = this.log.read(offset, 1 << 20)
      if (data.length === 0) break
      let pos = 0
      let last = offset
      while (pos + RECORD_BATCH_OVERHEAD <= data.length) {
        const size = batchSizeAt(data, pos)
        if (pos + size > data.length) break
        const header = readBatchHeader(data, pos)
        if (header.baseOffset + header.lastOffsetDelta >= offset) headers.push({ header })
        last = header.baseOffset + header.lastOffsetDelta
        pos += size
      }
      if (last + 1 <= offset) break
      offset = last + 1
    }
    this.producers.rebuildFrom(headers)
  }

  /** High watermark: with a single replica, everything appended is committed. */
  get highWatermark(): number {
    return this.log.logEndOffset
  }

  /**
   * Appends a produce request's batches as leader: checks idempotent sequences
   * (a retried batch returns its original offsets instead of being appended twice),
   * stamps the leader epoch, assigns offsets.
   */
  appendAsLeader(batches: Buffer, now: number): ProduceResultPayload {
    if (batches.length < RECORD_BATCH_OVERHEAD) throw new CorruptRecordError(`Produce request holds ${batches.length} bytes, less than one batch header`)
    const header = readBatchHeader(batches, 0)
    if (this.log.config.cleanupPolicy.compact) {
      let pos = 0
      while (pos < batches.length) {
        const size = batchSizeAt(batches, pos)
        validateCompactedBatch(batches.subarray(pos, pos + size))
        pos += size
      }
    }
    const idempotent = header.producerId >= 0
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
    const result = this.log.append(batches, { assignOffsets: true, leaderEpoch: this.leaderEpoch, now })
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
    this.notifyAppend()
    return { baseOffset: result.firstOffset, lastOffset: result.lastOffset, logAppendTime: result.logAppendTime, logStartOffset: result.logStartOffset, duplicate: false }
  }

  /** Registers a listener called once on the next append. */
  onNextAppend(listener: AppendListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private notifyAppend(): void {
    if (this.listeners.size === 0) return
    const ls = [...this.listeners]
    this.listeners.clear()
    for (const l of ls) l()
  }

  /** Moves to a new leader epoch (this broker became, or stays, leader). */
  becomeLeader(leaderEpoch: number): void {
    this.leaderEpoch = leaderEpoch
    this.epochs.assign(leaderEpoch, this.log.logEndOffset)
  }

  /** Closes the log, snapshotting producer state and epochs first. */
  close(): void {
    this.producers.takeSnapshot(this.log.logEndOffset)
    this.epochs.flush()
    this.log.close()
  }
}
