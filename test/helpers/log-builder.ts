/**
 * Builders for on-disk partition logs in tests: temp directories that clean themselves up,
 * record batches with predictable contents (record i of a log holds value `v<i>`, so a read
 * can be checked against its offsets), a logger that records what it hears, and a fluent
 * `logBuilder().config({...}).segments(3).records(100).build()`.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { onTestFinished } from 'vitest'
import { encodeRecordBatchSync, decodeRecordBatchesSync, type RecordInput } from '../../src/records/record-batch.js'
import type { CompressionType } from '../../src/records/compression/index.js'
import { parseLogConfig, type LogConfig } from '../../src/storage/log-config.js'
import type { Logger } from '../../src/storage/log-loader.js'
import { PartitionLog, type PartitionLogOptions } from '../../src/storage/partition-log.js'

/** A fresh directory under the OS temp dir, removed when the current test finishes. */
export function tempDir(prefix = 'shardlog-storage-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A partition directory `<fresh temp dir>/<topic>-<partition>` (not created). */
export function partitionDir(topic = 'events', partition = 0): string {
  return join(tempDir(), `${topic}-${partition}`)
}

/** A LogConfig from Kafka-named entries over the defaults. */
export function testConfig(entries: Record<string, string> = {}): LogConfig {
  return parseLogConfig(entries)
}

/** A logger that keeps every message, for assertions. */
export interface RecordingLogger extends Logger {
  warnings: Array<{ msg: string; fields?: object }>
  infos: Array<{ msg: string; fields?: object }>
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const warnings: RecordingLogger['warnings'] = []
  const infos: RecordingLogger['infos'] = []
  return {
    warnings, infos,
    warn: (msg, fields) => { warnings.push({ msg, fields }) },
    info: (msg, fields) => { infos.push({ msg, fields }) },
  }
}

/** How {@link recordBatch} builds a batch. */
export interface TestBatchOptions {
  /** Index of the first record, used in the values (`v<index>`); default 0. */
  firstIndex?: number
  /** Timestamp of the first record; each next record is `timestampStep` later. Default 1_000_000. */
  timestamp?: number
  timestampStep?: number
  /** Bytes of padding appended to each value (to make batches larger). */
  padding?: number
  compression?: CompressionType
  producerId?: number
  producerEpoch?: number
  baseSequence?: number
  /** Offset written into the batch header (followers keep it). Default 0. */
  baseOffset?: number
}

/** One uncompressed (by default) batch of `count` records with values `v<firstIndex + i>`. */
export function recordBatch(count: number, opts: TestBatchOptions = {}): Buffer {
  const first = opts.firstIndex ?? 0
  const ts = opts.timestamp ?? 1_000_000
  const step = opts.timestampStep ?? 1
  const pad = opts.padding ? '.'.repeat(opts.padding) : ''
  const records: RecordInput[] = []
  for (let i = 0; i < count; i++) records.push({ key: `k${first + i}`, value: `v${first + i}${pad}`, timestamp: ts + i * step })
  return encodeRecordBatchSync(records, {
    compression: opts.compression ?? 'none',
    baseOffset: opts.baseOffset ?? 0,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: opts.baseSequence,
  })
}

/** The records of every batch in `data`, flattened: offset, timestamp and value as a string. */
export function recordsOf(data: Buffer): Array<{ offset: number; timestamp: number; value: string }> {
  return decodeRecordBatchesSync(data).flatMap((b) => b.records.map((r) => ({ offset: r.offset, timestamp: r.timestamp, value: r.value?.toString() ?? '' })))
}

/** Base and last offsets of every batch in `data`. */
export function batchRangesOf(data: Buffer): Array<[number, number]> {
  return decodeRecordBatchesSync(data).map((b) => [b.header.baseOffset, b.header.baseOffset + b.header.lastOffsetDelta])
}

/** A built log and how to reopen it. */
export interface BuiltLog {
  log: PartitionLog
  dir: string
  config: LogConfig
  logger: RecordingLogger
  /** Total records appended. */
  records: number
  /** Closes the log (cleanly unless `crash`) and opens it again with the same settings. */
  reopen(opts?: { crash?: boolean } & PartitionLogOptions): PartitionLog
}

/** Fluent builder of a partition log on disk (see module comment). */
export class LogBuilder {
  private entries: Record<string, string> = {}
  private segmentsWanted = 1
  private recordsWanted = 0
  private perBatch = 10
  private batchOpts: TestBatchOptions = {}
  private options: PartitionLogOptions = {}
  private dirPath: string | undefined

  /** Topic configs (Kafka names). */
  config(entries: Record<string, string>): this {
    this.entries = { ...this.entries, ...entries }
    return this
  }

  /** Roll so the records end up spread over `n` segments. */
  segments(n: number): this {
    this.segmentsWanted = n
    return this
  }

  /** Total records to append. */
  records(n: number): this {
    this.recordsWanted = n
    return this
  }

  /** Records per batch (default 10). */
  recordsPerBatch(n: number): this {
    this.perBatch = n
    return this
  }

  /** Options for every batch (timestamps, padding, compression). */
  batches(opts: TestBatchOptions): this {
    this.batchOpts = { ...this.batchOpts, ...opts }
    return this
  }

  /** Options for PartitionLog.open (clock, handles). */
  openOptions(opts: PartitionLogOptions): this {
    this.options = { ...this.options, ...opts }
    return this
  }

  /** Directory to use instead of a fresh temp one. */
  dir(path: string): this {
    this.dirPath = path
    return this
  }

  /** Creates the log and appends the records. */
  build(): BuiltLog {
    const dir = this.dirPath ?? partitionDir()
    const config = testConfig(this.entries)
    const logger = recordingLogger()
    const baseOptions: PartitionLogOptions = { logger, ...this.options }
    const log = PartitionLog.open(dir, config, baseOptions)
    const batches = Math.ceil(this.recordsWanted / this.perBatch)
    const rollEvery = Math.max(1, Math.ceil(batches / this.segmentsWanted))
    let index = 0
    for (let b = 0; b < batches; b++) {
      if (b > 0 && b % rollEvery === 0) log.roll()
      const count = Math.min(this.perBatch, this.recordsWanted - index)
      const step = this.batchOpts.timestampStep ?? 1
      log.append(recordBatch(count, { ...this.batchOpts, firstIndex: index, timestamp: (this.batchOpts.timestamp ?? 1_000_000) + index * step }), { assignOffsets: true })
      index += count
    }
    const built: BuiltLog = {
      log, dir, config, logger, records: index,
      reopen: (opts = {}) => {
        const { crash, ...rest } = opts
        if (crash) built.log.abandon()
        else built.log.close()
        built.log = PartitionLog.open(dir, config, { ...baseOptions, ...rest })
        return built.log
      },
    }
    onTestFinished(() => built.log.abandon())
    return built
  }
}

/** Starts a {@link LogBuilder}. */
export function logBuilder(): LogBuilder {
  return new LogBuilder()
}
