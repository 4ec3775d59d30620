/**
 * Idempotent-producer state of one partition replica (Kafka's `ProducerStateManager`,
 * KIP-98): for each producer id, its current epoch and the metadata of its last
 * {@link BATCHES_TO_RETAIN} batches, so that a retried batch is acknowledged with its original
 * offsets instead of being written twice, a gap in sequence numbers is refused, and a fenced
 * (older) producer epoch is refused.
 *
 * Rules applied by {@link ProducerStateManager.check} (the order is Kafka's):
 * 1. producerId -1 (not idempotent): always append.
 * 2. Same epoch and the same sequence range as one of the retained batches: duplicate; the
 *    caller answers with that batch's offsets and writes nothing (Kafka's `findDuplicateBatch`).
 * 3. Epoch older than the known one: INVALID_PRODUCER_EPOCH (KIP-588).
 * 4. Newer epoch: must start at sequence 0, else OUT_OF_ORDER_SEQUENCE_NUMBER.
 * 5. Same epoch: the first sequence must follow the last one (Int32.MaxValue wraps to 0),
 *    else OUT_OF_ORDER_SEQUENCE_NUMBER.
 * 6. Unknown producer id with a first sequence other than 0: UNKNOWN_PRODUCER_ID, Kafka
 *    2.0-2.4's rule. It tells the client that the broker lost its state (expired after
 *    `producer.id.expiration.ms`, or removed with old segments) rather than that the client
 *    skipped a number; the Java producer reacts by resetting its sequence numbers.
 *
 * Transactions are not implemented: `isTransactional` is accepted and ignored, and control
 * batches only move the producer epoch on replay, as Kafka's `appendEndTxnMarker` does.
 *
 * Snapshots: `<20-digit offset>.snapshot` in the partition directory holds the state of every
 * producer after all batches below that offset (the offset is where replay resumes). Written
 * atomically (tmp, fsync, rename, directory fsync); the newest {@link SNAPSHOTS_TO_KEEP} are kept.
 * Binary layout, big-endian:
 *
 * ```
 * off  size  field
 *   0     2  version (int16) = 1
 *   2     4  crc (uint32): CRC-32C of every byte after this field
 *   6     4  producerCount (int32)
 *  10        producerCount times:
 *               8  producerId (int64)
 *               2  producerEpoch (int16)
 *               8  lastTimestamp (int64)  ms, drives `producer.id.expiration.ms`
 *               1  batchCount (uint8, 0..5), oldest first, each:
 *                    4  firstSeq (int32)    4  lastSeq (int32)
 *                    8  firstOffset (int64) 8  lastOffset (int64)  8  timestamp (int64)
 * ```
 *
 * Unlike Kafka's snapshot (which keeps only each producer's last batch) all retained batches
 * are saved, so duplicate detection is as good after a restart as before it. A snapshot whose
 * version, length or CRC is wrong is deleted on load (as Kafka deletes a
 * CorruptSnapshotException file) and the next older one is tried.
 *
 * Lifecycle and threading: owned by the partition log of one replica, on the shard thread that
 * owns it. Not thread-safe; all calls are synchronous. Memory: at most 5 small records per live
 * producer id; idle producers are dropped by {@link ProducerStateManager.removeExpired}.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { CorruptRecordError, InvalidProducerEpochError, OutOfOrderSequenceError, UnknownProducerIdError } from '../errors.js'
import { CONTROL_FLAG_MASK, incrementSequence, readInt64, writeInt64, type BatchHeader } from '../records/batch-header.js'
import { crc32c } from '../records/crc32c.js'
import { writeFileAtomicSync } from './atomic-file.js'

/** Kafka's `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`: retries are detected among the last 5 batches. */
export const BATCHES_TO_RETAIN = 5
/** How many snapshot files survive {@link ProducerStateManager.takeSnapshot}. */
export const SNAPSHOTS_TO_KEEP = 2
/** Kafka's default `producer.id.expiration.ms` (1 day). */
export const DEFAULT_PRODUCER_ID_EXPIRATION_MS = 86_400_000
/** File name suffix of producer state snapshots (Kafka's `LogFileUtils.PRODUCER_SNAPSHOT_FILE_SUFFIX`). */
export const PRODUCER_SNAPSHOT_SUFFIX = '.snapshot'
/** Kafka's `RecordBatch.NO_PRODUCER_ID`. */
export const NO_PRODUCER_ID = -1

const SNAPSHOT_VERSION = 1
const SNAPSHOT_HEADER_BYTES = 10
const PRODUCER_FIXED_BYTES = 19
const BATCH_BYTES = 32
const INT32_MAX = 0x7fff_ffff
const SNAPSHOT_NAME = /^(\d{20})\.snapshot$/

/** Verdict of {@link ProducerStateManager.check}. */
export type SequenceCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; firstOffset: number; lastOffset: number }

/** The producer fields of a batch header that sequence checks need. */
export interface ProducerBatchInfo {
  producerId: number
  producerEpoch: number
  baseSequence: number
  /** Records in the batch minus one; the last sequence is baseSequence + lastOffsetDelta (wrapping). */
  lastOffsetDelta: number
  /** Accepted for Kafka's API shape; transactions are not implemented. */
  isTransactional?: boolean
}

/** A batch that was appended: its producer fields plus where it landed. */
export interface ProducerBatchAppend extends ProducerBatchInfo {
  firstOffset: number
  lastOffset: number
  /** The batch's maxTimestamp (what Kafka uses) or the append time, in ms. */
  timestamp: number
}

/** What is remembered of one batch of a producer. */
export interface BatchMetadata {
  readonly firstSeq: number
  readonly lastSeq: number
  readonly firstOffset: number
  readonly lastOffset: number
  readonly timestamp: number
}

/** The state of one producer id. */
export interface ProducerStateEntry {
  readonly producerId: number
  readonly producerEpoch: number
  readonly lastTimestamp: number
  /** Oldest first, at most {@link BATCHES_TO_RETAIN}. */
  readonly batches: readonly BatchMetadata[]
}

/** Options of {@link ProducerStateManager}. */
export interface ProducerStateManagerOptions {
  /** Kafka's `producer.id.expiration.ms`: idle time after which a producer's state is dropped. Default 86400000. */
  producerIdExpirationMs?: number
}

interface MutableEntry {
  producerId: number
  producerEpoch: number
  lastTimestamp: number
  batches: BatchMetadata[]
}

/** Idempotent-producer state of one partition replica, with its snapshot files. */
export class ProducerStateManager {
  readonly #dir: string
  readonly #expirationMs: number
  readonly #producers = new Map<number, MutableEntry>()
  #mapEndOffset = 0

  /**
   * Creates an empty state for the partition directory `dir` (which must exist). Call
   * {@link loadLatestSnapshot} and then {@link rebuildFrom} to restore it.
   */
  constructor(dir: string, opts: ProducerStateManagerOptions = {}) {
    this.#dir = dir
    this.#expirationMs = opts.producerIdExpirationMs ?? DEFAULT_PRODUCER_ID_EXPIRATION_MS
  }

  /**
   * The offset up to which (exclusive) batches are reflected in the state: the offset of the
   * loaded snapshot, then one past the last batch passed to {@link update} or {@link rebuildFrom}.
   */
  get mapEndOffset(): number {
    return this.#mapEndOffset
  }

  /**
   * Decides whether a batch from a client may be appended. Does not change the state: call
   * {@link update} once the append succeeded.
   * @throws InvalidProducerEpochError for an epoch older than the producer's current one.
   * @throws OutOfOrderSequenceError for a sequence gap, or a new epoch not starting at 0.
   * @throws UnknownProducerIdError for an unknown producer whose first sequence is not 0.
   */
  check(h: ProducerBatchInfo): SequenceCheck {
    if (h.producerId === NO_PRODUCER_ID) return { kind: 'append' }
    const entry = this.#producers.get(h.producerId)
    if (entry === undefined) {
      if (h.baseSequence !== 0) {
        throw new UnknownProducerIdError(
          `no state for producerId ${h.producerId} (expired or removed with old segments); first sequence ${h.baseSequence} is not 0`,
        )
      }
      return { kind: 'append' }
    }
    const lastSeq = incrementSequence(h.baseSequence, h.lastOffsetDelta)
    if (h.producerEpoch === entry.producerEpoch) {
      const dup = entry.batches.find((b) => b.firstSeq === h.baseSequence && b.lastSeq === lastSeq)
      if (dup !== undefined) return { kind: 'duplicate', firstOffset: dup.firstOffset, lastOffset: dup.lastOffset }
    }
    if (h.producerEpoch < entry.producerEpoch) {
      throw new InvalidProducerEpochError(
        `producerId ${h.producerId}: epoch ${h.producerEpoch} is older than the current epoch ${entry.producerEpoch}`,
      )
    }
    if (h.producerEpoch > entry.producerEpoch) {
      if (h.baseSequence !== 0) {
        throw new OutOfOrderSequenceError(
          `producerId ${h.producerId}: new epoch ${h.producerEpoch} must start at sequence 0, got ${h.baseSequence}`,
        )
      }
      return { kind: 'append' }
    }
    const last = entry.batches.at(-1)
    const expected = last === undefined ? 0 : nextSequence(last.lastSeq)
    if (h.baseSequence !== expected) {
      throw new OutOfOrderSequenceError(
        `producerId ${h.producerId} epoch ${h.producerEpoch}: expected sequence ${expected}, got ${h.baseSequence}`,
      )
    }
    return { kind: 'append' }
  }

  /**
   * Records a batch that is now in the log: after a client append that {@link check} allowed,
   * on a follower append, and on replay. Never throws on sequence or epoch problems: the log is
   * the source of truth (Kafka skips those checks for replication and recovery). A changed
   * epoch, even an older one, replaces the entry's epoch and forgets its batches, as Kafka's
   * `ProducerStateEntry.addBatch`. Batches with producerId -1 only advance {@link mapEndOffset}.
   */
  update(h: ProducerBatchAppend): void {
    if (h.lastOffset + 1 > this.#mapEndOffset) this.#mapEndOffset = h.lastOffset + 1
    if (h.producerId === NO_PRODUCER_ID) return
    const entry = this.#entryForEpoch(h.producerId, h.producerEpoch)
    entry.batches.push({
      firstSeq: h.baseSequence,
      lastSeq: incrementSequence(h.baseSequence, h.lastOffsetDelta),
      firstOffset: h.firstOffset,
      lastOffset: h.lastOffset,
      timestamp: h.timestamp,
    })
    if (entry.batches.length > BATCHES_TO_RETAIN) entry.batches.shift()
    entry.lastTimestamp = h.timestamp
  }

  /**
   * Replays the headers of batches read from the log, in offset order, typically the batches
   * from the offset returned by {@link loadLatestSnapshot} to the log end. Batches that end
   * below {@link mapEndOffset} are already in the state and are skipped, so passing whole
   * segments is safe. Control batches (transaction markers) only move the producer's epoch.
   */
  rebuildFrom(batches: Iterable<{ header: BatchHeader }>): void {
    for (const { header } of batches) {
      const lastOffset = header.baseOffset + header.lastOffsetDelta
      if (lastOffset < this.#mapEndOffset) continue
      if ((header.attributes & CONTROL_FLAG_MASK) !== 0) {
        this.#mapEndOffset = lastOffset + 1
        if (header.producerId !== NO_PRODUCER_ID) {
          const entry = this.#entryForEpoch(header.producerId, header.producerEpoch)
          entry.lastTimestamp = header.maxTimestamp
        }
        continue
      }
      this.update({
        producerId: header.producerId,
        producerEpoch: header.producerEpoch,
        baseSequence: header.baseSequence,
        lastOffsetDelta: header.lastOffsetDelta,
        firstOffset: header.baseOffset,
        lastOffset,
        timestamp: header.maxTimestamp,
      })
    }
  }

  /** The state of one producer, or undefined when unknown. */
  producer(producerId: number): ProducerStateEntry | undefined {
    const e = this.#producers.get(producerId)
    return e === undefined ? undefined : copyEntry(e)
  }

  /** Every known producer, by id. */
  producers(): ReadonlyMap<number, ProducerStateEntry> {
    return new Map([...this.#producers].map(([id, e]) => [id, copyEntry(e)]))
  }

  /**
   * Writes the current state to `<offset>.snapshot`, where `offset` is the offset up to which
   * (exclusive) the state is complete: normally the log end offset, or the base offset of a
   * newly rolled segment. Keeps only the newest {@link SNAPSHOTS_TO_KEEP} snapshots.
   */
  takeSnapshot(offset: number): void {
    const file = join(this.#dir, snapshotFileName(offset))
    writeFileAtomicSync(file, encodeSnapshot(this.#producers.values()))
    const offsets = this.#snapshotOffsets()
    for (const old of offsets.slice(0, Math.max(0, offsets.length - SNAPSHOTS_TO_KEEP))) this.#deleteSnapshot(old)
  }

  /**
   * Replaces the in-memory state with the newest readable snapshot. Corrupt snapshots are
   * deleted and the next older one is tried.
   * @returns The offset the snapshot covers (replay the log from there), or 0 when there is
   *   none and the whole log must be replayed.
   */
  loadLatestSnapshot(): number {
    this.#producers.clear()
    this.#mapEndOffset = 0
    for (const offset of this.#snapshotOffsets().reverse()) {
      const file = join(this.#dir, snapshotFileName(offset))
      const entries = decodeSnapshot(readFileSync(file))
      if (entries === undefined) {
        // Kafka deletes a snapshot that fails its CRC (CorruptSnapshotException) and falls back;
        // keeping it would make it the "latest" again on every restart.
        this.#deleteSnapshot(offset)
        continue
      }
      for (const e of entries) this.#producers.set(e.producerId, e)
      this.#mapEndOffset = offset
      return offset
    }
    return 0
  }

  /**
   * After the log was truncated to `offset` (its new end): deletes snapshots above it, clears
   * the state and loads the newest remaining snapshot.
   * @returns The offset to replay the log from (see {@link loadLatestSnapshot}).
   */
  truncateAndReload(offset: number): number {
    for (const s of this.#snapshotOffsets()) if (s > offset) this.#deleteSnapshot(s)
    return this.loadLatestSnapshot()
  }

  /** Offsets of the snapshot files present, ascending. */
  snapshotOffsets(): number[] {
    return this.#snapshotOffsets()
  }

  /**
   * Drops producers idle for at least `producer.id.expiration.ms`: their last batch timestamp is
   * `producerIdExpirationMs` or more before `now` (ms), as Kafka's `isProducerExpired`.
   */
  removeExpired(now: number): void {
    for (const [id, e] of this.#producers) {
      if (now - e.lastTimestamp >= this.#expirationMs) this.#producers.delete(id)
    }
  }

  /** The entry of `producerId` at `epoch`, created or reset (batches forgotten) when the epoch differs. */
  #entryForEpoch(producerId: number, epoch: number): MutableEntry {
    let entry = this.#producers.get(producerId)
    if (entry === undefined) {
      entry = { producerId, producerEpoch: epoch, lastTimestamp: 0, batches: [] }
      this.#producers.set(producerId, entry)
    } else if (entry.producerEpoch !== epoch) {
      entry.producerEpoch = epoch
      entry.batches = []
    }
    return entry
  }

  #snapshotOffsets(): number[] {
    const offsets: number[] = []
    for (const name of readdirSync(this.#dir)) {
      const m = SNAPSHOT_NAME.exec(name)
      if (m !== null) offsets.push(Number(m[1]))
    }
    return offsets.sort((a, b) => a - b)
  }

  #deleteSnapshot(offset: number): void {
    rmSync(join(this.#dir, snapshotFileName(offset)), { force: true })
  }
}

/** `<20-digit zero-padded offset>.snapshot`, Kafka's producer snapshot file name. */
export function snapshotFileName(offset: number): string {
  return `${String(offset).padStart(20, '0')}${PRODUCER_SNAPSHOT_SUFFIX}`
}

/**
 * Reads one snapshot file (for tools such as `shardlog dump-log`).
 * @throws CorruptRecordError when its version, length or CRC is wrong.
 */
export function readProducerSnapshot(file: string): ProducerStateEntry[] {
  const entries = decodeSnapshot(readFileSync(file))
  if (entries === undefined) throw new CorruptRecordError(`producer snapshot ${file} is corrupt (bad version, length or CRC)`)
  return entries.map(copyEntry)
}

/** The sequence after `seq`, wrapping from Int32.MaxValue to 0 as Kafka's `inSequence`. */
function nextSequence(seq: number): number {
  return seq === INT32_MAX ? 0 : seq + 1
}


function copyEntry(e: MutableEntry): ProducerStateEntry {
  return { producerId: e.producerId, producerEpoch: e.producerEpoch, lastTimestamp: e.lastTimestamp, batches: [...e.batches] }
}

function encodeSnapshot(entries: Iterable<MutableEntry>): Buffer {
  const list = [...entries]
  const size = list.reduce((n, e) => n + PRODUCER_FIXED_BYTES + e.batches.length * BATCH_BYTES, SNAPSHOT_HEADER_BYTES)
  const buf = Buffer.alloc(size)
  buf.writeInt16BE(SNAPSHOT_VERSION, 0)
  buf.writeInt32BE(list.length, 6)
  let pos = SNAPSHOT_HEADER_BYTES
  for (const e of list) {
    writeInt64(buf, e.producerId, pos)
    buf.writeInt16BE(e.producerEpoch, pos + 8)
    writeInt64(buf, e.lastTimestamp, pos + 10)
    buf.writeUInt8(e.batches.length, pos + 18)
    pos += PRODUCER_FIXED_BYTES
    for (const b of e.batches) {
      buf.writeInt32BE(b.firstSeq, pos)
      buf.writeInt32BE(b.lastSeq, pos + 4)
      writeInt64(buf, b.firstOffset, pos + 8)
      writeInt64(buf, b.lastOffset, pos + 16)
      writeInt64(buf, b.timestamp, pos + 24)
      pos += BATCH_BYTES
    }
  }
  buf.writeUInt32BE(crc32c(buf.subarray(6)), 2)
  return buf
}

/** The entries of a snapshot, or undefined when its version, length or CRC is wrong. */
function decodeSnapshot(buf: Buffer): MutableEntry[] | undefined {
  if (buf.length < SNAPSHOT_HEADER_BYTES || buf.readInt16BE(0) !== SNAPSHOT_VERSION) return undefined
  if (crc32c(buf.subarray(6)) !== buf.readUInt32BE(2)) return undefined
  const count = buf.readInt32BE(6)
  const entries: MutableEntry[] = []
  let pos = SNAPSHOT_HEADER_BYTES
  for (let i = 0; i < count; i++) {
    if (pos + PRODUCER_FIXED_BYTES > buf.length) return undefined
    const batchCount = buf.readUInt8(pos + 18)
    const entry: MutableEntry = {
      producerId: readInt64(buf, pos),
      producerEpoch: buf.readInt16BE(pos + 8),
      lastTimestamp: readInt64(buf, pos + 10),
      batches: [],
    }
    pos += PRODUCER_FIXED_BYTES
    if (batchCount > BATCHES_TO_RETAIN || pos + batchCount * BATCH_BYTES > buf.length) return undefined
    for (let j = 0; j < batchCount; j++) {
      entry.batches.push({
        firstSeq: buf.readInt32BE(pos),
        lastSeq: buf.readInt32BE(pos + 4),
        firstOffset: readInt64(buf, pos + 8),
        lastOffset: readInt64(buf, pos + 16),
        timestamp: readInt64(buf, pos + 24),
      })
      pos += BATCH_BYTES
    }
    entries.push(entry)
  }
  return pos === buf.length ? entries : undefined
}

