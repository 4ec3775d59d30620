/**
 * The partition logs one shard thread owns in a broker's data directory (Kafka's
 * `LogManager`): creates, opens (recovering when needed), removes, flushes and applies
 * retention to them, and bounds their open files with one {@link FileHandleCache}.
 *
 * Sharing a broker directory: a broker's directory `<root>/broker-<id>` is shared by its shard
 * threads, each with its own LogManager over a disjoint set of partitions. Nothing a manager
 * decides is therefore kept at the directory level:
 * - recovery is decided per partition, by the `.kafka_cleanshutdown` marker *inside* each
 *   `<topic>-<partition>` directory, written by PartitionLog.close after everything is synced
 *   and removed when the log is opened;
 * - recovery points and log start offsets are per-partition checkpoint files;
 * - the broker-level `.kafka_cleanshutdown` (Kafka's) is informational only: `open()` reports
 *   and removes it, `close()` writes it; with several managers it means "the last manager to
 *   close did so cleanly" and never causes a partition to skip recovery;
 * - removal renames only the partition's own directory; the leftovers of interrupted removals
 *   (`*-delete` directories) belong to no partition and any manager may finish deleting them.
 * Two managers must never own the same partition at the same time (the shard table ensures it).
 *
 * Thread: lives on one shard thread; not thread-safe.
 */
import { randomUUID } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { DEFAULT_MAX_OPEN_FILES, FileHandleCache } from './file-handle-cache.js'
import { CLEAN_SHUTDOWN_FILE, deleteDirName, isDeleteDirName, parsePartitionDirName, partitionDirName } from './file-names.js'
import { parseLogConfig, type LogConfig } from './log-config.js'
import { stderrLogger, type Logger } from './log-loader.js'
import { PartitionLog } from './partition-log.js'

/** Options of a {@link LogManager}. */
export interface LogManagerOptions {
  /** The broker's directory, e.g. `<root>/broker-0`; created when missing. */
  dataDir: string
  /** Bound on open file descriptors of all logs of this manager (default 1000). */
  maxOpenFiles?: number
  /** Default: one line per message on stderr. */
  logger?: Logger
  /** Broker-level defaults (Kafka's `log.*` configs) under each topic's own configs. */
  defaults?: Partial<LogConfig>
  /** Wall clock in ms; default Date.now. */
  now?: () => number
  /** Passed to every PartitionLog (default true). */
  verifyCrcOnRead?: boolean
}

/** A partition directory found on disk. */
export interface PartitionOnDisk {
  topic: string
  partition: number
}

/** All partition logs of one shard thread; see the module comment. */
export class LogManager {
  readonly dataDir: string
  /** The descriptor cache shared by every log of this manager. */
  readonly handles: FileHandleCache
  /** Broker-level defaults merged over Kafka's. */
  readonly defaults: LogConfig
  private readonly logger: Logger
  private readonly clock: () => number
  private readonly verifyCrcOnRead: boolean
  private readonly open_ = new Map<string, PartitionLog>()
  private dataDirReady = false

  constructor(opts: LogManagerOptions) {
    this.dataDir = opts.dataDir
    this.handles = new FileHandleCache({ maxOpenFiles: opts.maxOpenFiles ?? DEFAULT_MAX_OPEN_FILES })
    this.logger = opts.logger ?? stderrLogger
    this.clock = opts.now ?? Date.now
    this.verifyCrcOnRead = opts.verifyCrcOnRead ?? true
    this.defaults = parseLogConfig({}, opts.defaults)
  }

  /**
   * Prepares the data directory: creates it, finishes interrupted partition removals, reads
   * and removes the broker-level clean-shutdown marker (informational; see the module comment).
   */
  open(): { cleanShutdown: boolean } {
    mkdirSync(this.dataDir, { recursive: true })
    this.dataDirReady = true
    for (const name of readdirSync(this.dataDir)) {
      if (!isDeleteDirName(name)) continue
      try {
        rmSync(join(this.dataDir, name), { recursive: true, force: true })
      } catch (err) {
        // Another manager over the same directory may be deleting it at the same moment.
        this.logger.warn('Could not finish deleting a removed partition directory', { dir: name, error: (err as Error).message })
      }
    }
    const marker = join(this.dataDir, CLEAN_SHUTDOWN_FILE)
    const cleanShutdown = existsSync(marker)
    if (cleanShutdown) {
      try {
        unlinkSync(marker)
      } catch (err) {
        // Another manager removed it first: it was there, which is all this answer reports.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      }
    }
    return { cleanShutdown }
  }

  /**
   * The log of a partition: already open, or opened from its directory (recovering it when
   * its clean-shutdown marker is missing), or created empty.
   * @throws InvalidTopicError for a name that breaks Kafka's topic rules, InvalidPartitionsError
   *   for a negative partition, KafkaStorageError when the files cannot be read.
   */
  getOrCreate(topic: string, partition: number, config: LogConfig): PartitionLog {
    const name = partitionDirName(topic, partition)
    const existing = this.open_.get(name)
    if (existing) return existing
    if (!this.dataDirReady) {
      mkdirSync(this.dataDir, { recursive: true })
      this.dataDirReady = true
    }
    const log = PartitionLog.open(join(this.dataDir, name), config, {
      handles: this.handles, logger: this.logger, now: this.clock, verifyCrcOnRead: this.verifyCrcOnRead,
    })
    this.open_.set(name, log)
    return log
  }

  /** The open log of a partition, if this manager has it open. */
  get(topic: string, partition: number): PartitionLog | undefined {
    return this.open_.get(`${topic}-${partition}`)
  }

  /**
   * Deletes a partition's log (DeleteTopics, reassignment): closes it without flushing, renames
   * its directory to `<topic>-<partition>.<uuid>-delete` (so a crash mid-delete leaves nothing
   * that loads as a partition) and removes it. Works whether or not the log is open here.
   */
  remove(topic: string, partition: number): void {
    const name = partitionDirName(topic, partition)
    const log = this.open_.get(name)
    this.open_.delete(name)
    log?.abandon()
    const dir = join(this.dataDir, name)
    if (!existsSync(dir)) return
    this.handles.closeUnder(dir)
    const doomed = join(this.dataDir, deleteDirName(topic, partition, randomUUID()))
    renameSync(dir, doomed)
    rmSync(doomed, { recursive: true, force: true })
  }

  /** The open logs. */
  logs(): IterableIterator<PartitionLog> {
    return this.open_.values()
  }

  /** Number of open logs. */
  get size(): number {
    return this.open_.size
  }

  /**
   * Partition directories present in the data directory (whether or not open here), for a
   * shard to reopen the partitions it owns after a restart.
   */
  partitionsOnDisk(): PartitionOnDisk[] {
    if (!existsSync(this.dataDir)) return []
    const found: PartitionOnDisk[] = []
    for (const entry of readdirSync(this.dataDir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue
      const parsed = parsePartitionDirName(entry.name)
      if (parsed) found.push(parsed)
    }
    return found
  }

  /**
   * Applies retention to every open log (Kafka's `log.retention.check.interval.ms` task).
   * A failing log is reported and skipped so the others still run.
   */
  runRetention(now = this.clock()): void {
    for (const log of this.open_.values()) {
      try {
        log.applyRetention(now)
      } catch (err) {
        this.logger.warn('Retention failed for a partition', { partition: `${log.topic}-${log.partition}`, error: (err as Error).message })
      }
    }
  }

  /**
   * fsyncs every open log whose unflushed data is older than its `flush.ms` (Kafka's
   * `log.flush.scheduler.interval.ms` task); each flush persists that log's recovery point.
   */
  flushDirty(now = this.clock()): void {
    for (const log of this.open_.values()) {
      if (log.unflushedMessages <= 0 || now - log.lastFlushMs < log.config.flushMs) continue
      try {
        log.flush()
      } catch (err) {
        this.logger.warn('Flush failed for a partition', { partition: `${log.topic}-${log.partition}`, error: (err as Error).message })
      }
    }
  }

  /**
   * Lets go of every log without closing it: descriptors closed, nothing flushed or
   * checkpointed and no clean-shutdown marker, so the next manager over this directory
   * recovers the logs as after a crash. What `kill` of a shard does on the broker's own thread
   * (`InThreadShard`), where a terminated worker would simply have vanished.
   */
  abandon(): void {
    // Each log is marked closed too: a stray call fails with KafkaStorageError instead of reopening files.
    for (const log of this.open_.values()) log.abandon()
    this.open_.clear()
    try {
      this.handles.closeAll()
    } catch (err) {
      // A descriptor that fails to close is gone all the same; a crash reports nothing either.
      this.logger.warn('Closing descriptors of an abandoned log manager failed', { error: (err as Error).message })
    }
  }

  /**
   * Closes every log cleanly (flush, checkpoints, per-partition marker), closes all
   * descriptors and writes the broker-level marker. Every log is closed even if one fails;
   * the first failure is rethrown at the end (and the broker-level marker is not written).
   */
  close(): void {
    let failure: unknown
    for (const log of this.open_.values()) {
      try {
        log.close()
      } catch (err) {
        failure ??= err
        this.logger.warn('Closing a partition log failed', { partition: `${log.topic}-${log.partition}`, error: (err as Error).message })
      }
    }
    this.open_.clear()
    this.handles.closeAll()
    if (failure !== undefined) throw failure
    if (existsSync(this.dataDir)) writeFileSync(join(this.dataDir, CLEAN_SHUTDOWN_FILE), '')
  }
}
