/**
 * The leader epoch cache of one partition replica and its `leader-epoch-checkpoint` file
 * (Kafka's `LeaderEpochFileCache` + `LeaderEpochCheckpointFile`).
 *
 * Each entry says "leader epoch E wrote its first record at offset S". Followers use it to
 * answer OffsetForLeaderEpoch and to find where their log diverges from the leader's
 * (KIP-101, KIP-279); consumers use it to detect truncation (KIP-320).
 *
 * File format (Kafka's checkpoint text format, byte for byte, so Kafka tooling reads it):
 *
 * ```
 * 0              <- format version, always 0
 * 2              <- number of entries
 * 0 0            <- "<epoch> <startOffset>", ascending in both
 * 3 1200
 * ```
 *
 * Lines end with `\n`. The file is rewritten whole on every change: written to
 * `leader-epoch-checkpoint.tmp`, fsynced, renamed over the old file, and the directory is
 * fsynced, so a crash leaves either the old or the new file, never a mix.
 *
 * A file that cannot be parsed makes the constructor throw {@link KafkaStorageError}, as Kafka
 * does (its `CheckpointFileWithFailureHandler` turns the IOException into a
 * KafkaStorageException and takes the log dir offline). Silently starting empty would let a
 * follower skip its divergence check and keep records the leader never had. An operator (or the
 * log on recovery) may delete the file and rebuild it by calling {@link LeaderEpochFileCache.assign}
 * with the `partitionLeaderEpoch` and `baseOffset` of every batch in the log.
 *
 * Lifecycle and threading: owned by the partition log of one replica, on the shard thread that
 * owns that replica. Not thread-safe; all calls are synchronous.
 */
import { existsSync, readFileSync } from 'node:fs'

import { KafkaStorageError } from '../errors.js'
import { writeFileAtomicSync } from './atomic-file.js'

/** Kafka's `LeaderEpochCheckpointFile.LEADER_EPOCH_CHECKPOINT_FILENAME`. */
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint'
/** The only checkpoint format version Kafka has written. */
const CHECKPOINT_VERSION = 0
/** Kafka's `RecordBatch.NO_PARTITION_LEADER_EPOCH` / `UNDEFINED_EPOCH`. */
export const UNDEFINED_EPOCH = -1
/** Kafka's `UNDEFINED_EPOCH_OFFSET`. */
export const UNDEFINED_EPOCH_OFFSET = -1

/** One line of the checkpoint: epoch `epoch` started at `startOffset`. */
export interface EpochEntry {
  readonly epoch: number
  readonly startOffset: number
}

/** Answer to OffsetForLeaderEpoch: the epoch found and the offset where it ended. */
export interface EpochEndOffset {
  epoch: number
  endOffset: number
}

/** The leader epoch history of one partition replica, persisted in `leader-epoch-checkpoint`. */
export class LeaderEpochFileCache {
  readonly #file: string
  /** Ascending by epoch and by startOffset (both strictly). */
  #epochs: EpochEntry[] = []

  /**
   * Opens the cache stored in `file` (normally `<partitionDir>/leader-epoch-checkpoint`).
   * A missing or empty file is an empty cache; nothing is written until the first change.
   * @throws KafkaStorageError when the file exists but is not a valid version-0 checkpoint.
   */
  constructor(file: string) {
    this.#file = file
    if (!existsSync(file)) return
    // Entries go through assign() as Kafka's constructor does, so a non-monotonic file
    // (impossible unless edited by hand) is repaired the same way Kafka repairs it.
    for (const entry of parseCheckpoint(file, readFileSync(file, 'latin1'))) this.#assign(entry.epoch, entry.startOffset)
  }

  /** Path of the checkpoint file. */
  get file(): string {
    return this.#file
  }

  /**
   * Records that leader epoch `epoch` starts at `startOffset`, and persists the change.
   *
   * As Kafka 2.x+ (`LeaderEpochFileCache.assign`): the call is a no-op when `epoch` is the
   * latest epoch and `startOffset` is not below its start (the common case: every append of
   * the current leader calls this). Otherwise any entry with an epoch >= `epoch` or a start
   * offset >= `startOffset` is removed first, so the history stays strictly increasing in both;
   * this is how a follower's cache follows a log that was truncated and rewritten.
   * @throws RangeError when `epoch` or `startOffset` is negative or not a safe integer (a bug in
   *   the caller: batches without a leader epoch must not be assigned).
   */
  assign(epoch: number, startOffset: number): void {
    if (this.#assign(epoch, startOffset)) this.flush()
  }

  /** The latest (largest) epoch, or undefined when the cache is empty. */
  latestEpoch(): number | undefined {
    return this.#epochs.at(-1)?.epoch
  }

  /**
   * Kafka's OffsetForLeaderEpoch answer (`LeaderEpochFileCache.endOffsetFor`):
   * - the latest epoch: `{ epoch, endOffset: logEndOffset }` (it is still being written);
   * - an epoch older than the latest: the largest known epoch <= `epoch` and the start offset
   *   of the first epoch above it;
   * - an epoch older than every entry (history removed with old segments): `{ epoch, endOffset:
   *   start of the first entry }`, so the follower truncates to where the leader's data begins;
   * - `UNDEFINED_EPOCH` (-1), an epoch above the latest, or an empty cache:
   *   `{ epoch: -1, endOffset: -1 }`.
   */
  endOffsetFor(epoch: number, logEndOffset: number): EpochEndOffset {
    const latest = this.#epochs.at(-1)
    if (epoch === UNDEFINED_EPOCH || latest === undefined) return undefinedEndOffset()
    if (latest.epoch === epoch) return { epoch, endOffset: logEndOffset }
    const higher = this.#epochs.findIndex((e) => e.epoch > epoch)
    if (higher === -1) return undefinedEndOffset()
    const higherStart = this.#epochs[higher]!.startOffset
    if (higher === 0) return { epoch, endOffset: higherStart }
    return { epoch: this.#epochs[higher - 1]!.epoch, endOffset: higherStart }
  }

  /**
   * Removes every entry that starts at or after `endOffset` (the new log end offset after the
   * log was truncated to it), as Kafka's `truncateFromEnd`. Persists the change.
   */
  truncateFromEnd(endOffset: number): void {
    const latest = this.#epochs.at(-1)
    if (endOffset < 0 || latest === undefined || latest.startOffset < endOffset) return
    this.#epochs = this.#epochs.filter((e) => e.startOffset < endOffset)
    this.flush()
  }

  /**
   * Forgets history below the new log start offset, as Kafka's `truncateFromStart`: entries
   * starting at or below `startOffset` are removed, and the last of them is kept with its
   * start moved up to `startOffset` (that epoch still owns the first remaining record).
   * Persists the change.
   */
  truncateFromStart(startOffset: number): void {
    let removed = 0
    while (removed < this.#epochs.length && this.#epochs[removed]!.startOffset <= startOffset) removed++
    if (removed === 0) return
    const owner = this.#epochs[removed - 1]!
    if (removed === 1 && owner.startOffset === startOffset) return
    this.#epochs = [{ epoch: owner.epoch, startOffset }, ...this.#epochs.slice(removed)]
    this.flush()
  }

  /**
   * The epoch of the leader that wrote `offset` (Kafka's `epochForOffset`): the epoch of the
   * last entry starting at or before it, or undefined when `offset` is before every entry.
   */
  epochForOffset(offset: number): number | undefined {
    let found: number | undefined
    for (const e of this.#epochs) {
      if (e.startOffset > offset) break
      found = e.epoch
    }
    return found
  }

  /** A copy of the entries, ascending. */
  entries(): ReadonlyArray<EpochEntry> {
    return this.#epochs.map((e) => ({ epoch: e.epoch, startOffset: e.startOffset }))
  }

  /**
   * Writes the whole cache to the checkpoint file atomically and durably (tmp file, fsync,
   * rename, directory fsync). Mutating methods call it; call it directly to re-create a
   * deleted file.
   */
  flush(): void {
    const lines = [String(CHECKPOINT_VERSION), String(this.#epochs.length)]
    for (const e of this.#epochs) lines.push(`${e.epoch} ${e.startOffset}`)
    writeFileAtomicSync(this.#file, Buffer.from(lines.join('\n') + '\n', 'latin1'))
  }

  /** Applies Kafka's assign rules in memory; returns whether anything changed. */
  #assign(epoch: number, startOffset: number): boolean {
    if (!Number.isSafeInteger(epoch) || epoch < 0 || !Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new RangeError(`invalid leader epoch entry: epoch ${epoch} startOffset ${startOffset}`)
    }
    const latest = this.#epochs.at(-1)
    if (latest !== undefined && latest.epoch === epoch && startOffset >= latest.startOffset) return false
    let keep = this.#epochs.length
    while (keep > 0 && (this.#epochs[keep - 1]!.epoch >= epoch || this.#epochs[keep - 1]!.startOffset >= startOffset)) keep--
    this.#epochs.length = keep
    this.#epochs.push({ epoch, startOffset })
    return true
  }
}

function undefinedEndOffset(): EpochEndOffset {
  return { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET }
}

/** Parses Kafka's checkpoint text with the checks of Kafka's `CheckpointReadBuffer`. */
function parseCheckpoint(file: string, text: string): EpochEntry[] {
  if (text.length === 0) return [] // Kafka creates the file empty before its first write
  const fail = (why: string): never => {
    throw new KafkaStorageError(`malformed leader epoch checkpoint ${file}: ${why}`)
  }
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  const version = parseNonNegative(lines[0])
  if (version !== CHECKPOINT_VERSION) fail(`unrecognized version ${JSON.stringify(lines[0])}`)
  const count = parseNonNegative(lines[1])
  if (count === undefined) fail(`bad entry count ${JSON.stringify(lines[1])}`)
  if (lines.length - 2 !== count) fail(`expected ${count} entries, found ${lines.length - 2}`)
  const entries: EpochEntry[] = []
  for (let i = 2; i < lines.length; i++) {
    const parts = lines[i]!.trim().split(/\s+/)
    const epoch = parseNonNegative(parts[0])
    const startOffset = parseNonNegative(parts[1])
    if (parts.length !== 2 || epoch === undefined || startOffset === undefined) {
      fail(`line ${i + 1} is not "<epoch> <startOffset>": ${JSON.stringify(lines[i])}`)
    }
    entries.push({ epoch: epoch!, startOffset: startOffset! })
  }
  return entries
}

function parseNonNegative(s: string | undefined): number | undefined {
  if (s === undefined || !/^\d+$/.test(s.trim())) return undefined
  const n = Number(s.trim())
  return Number.isSafeInteger(n) ? n : undefined
}

