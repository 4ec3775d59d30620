/**
 * Loading a partition log from its directory (Kafka's `LogLoader`), and the small files that
 * loading reads besides the segments: the per-partition checkpoints and the clean-shutdown
 * marker.
 *
 * Load, in order:
 * 1. Leftovers of interrupted work: `.deleted` and `.cleaned` files and stray index files are
 *    removed; a `.swap` segment (a committed compaction) replaces the segments whose base
 *    offsets fall in its offset range and is renamed to its final name, its indexes rebuilt.
 * 2. The clean-shutdown marker `.kafka_cleanshutdown` of this partition directory is read and
 *    removed at once, so a crash after the next append cannot be mistaken for a clean stop.
 * 3. Segments are opened. After a clean shutdown nothing is scanned except the short tail of
 *    the active segment (from its last index entry) and any segment whose index is missing or
 *    corrupt (rebuilt). Otherwise every segment from the one holding the recovery point on is
 *    recovered: each batch's length, magic, CRC and offsets are checked, indexes rebuilt, a torn
 *    or corrupt tail cut, and the segments after a cut deleted, all reported to the logger;
 *    segments below the recovery point keep their data but have their indexes fully checked.
 * 4. The log start offset is the greater of its checkpoint and the first segment's base offset
 *    (a checkpoint beyond the recovered end empties the log and restarts it there, Kafka's
 *    `truncateFullyAndStartAt`).
 *
 * Checkpoint files use Kafka's `CheckpointFile` text format with one entry:
 * `0\n1\n<topic> <partition> <offset>\n`; written to `<name>.tmp` and renamed over the old one.
 *
 * Thread: called by PartitionLog.open on the shard thread that will own the log.
 */
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import type { FileHandleCache } from './file-handle-cache.js'
import {
  CLEANED_FILE_SUFFIX, CLEAN_SHUTDOWN_FILE, DELETED_FILE_SUFFIX, LOG_START_OFFSET_CHECKPOINT_FILE,
  RECOVERY_POINT_CHECKPOINT_FILE, SWAP_FILE_SUFFIX, parseSegmentFileName,
} from './file-names.js'
import type { LogConfig } from './log-config.js'
import { LogSegment, type LogSegmentOptions } from './log-segment.js'
import { writeFileAtomicSync } from './atomic-file.js'

/** Where the storage layer reports recovery and repairs. Inject one to route or silence it. */
export interface Logger {
  warn(msg: string, fields?: object): void
  info(msg: string, fields?: object): void
}

function writeLine(level: string, msg: string, fields?: object): void {
  process.stderr.write(`${new Date().toISOString()} ${level} [shardlog storage] ${msg}${fields ? ` ${JSON.stringify(fields)}` : ''}\n`)
}

/** The default logger: one line per message on stderr. */
export const stderrLogger: Logger = {
  warn: (msg, fields) => writeLine('WARN', msg, fields),
  info: (msg, fields) => writeLine('INFO', msg, fields),
}

/** A logger that drops everything (tests, tools). */
export const silentLogger: Logger = { warn: () => undefined, info: () => undefined }

/**
 * Reads the offset of a one-entry checkpoint file; undefined when the file is missing. A
 * malformed file is reported and treated as missing, which is always safe here: a missing
 * recovery point means "recover everything", a missing log start offset means "the first
 * segment's base offset".
 */
export function readOffsetCheckpoint(path: string, logger?: Logger): number | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  const lines = text.split('\n').filter((l) => l.length > 0)
  const entry = lines[2]?.split(' ')
  const offset = entry && entry.length === 3 ? Number(entry[2]) : NaN
  if (lines[0] !== '0' || lines[1] !== '1' || lines.length !== 3 || !Number.isSafeInteger(offset) || offset < 0) {
    logger?.warn('Ignoring a malformed checkpoint file', { path, content: text.slice(0, 120) })
    return undefined
  }
  return offset
}

/**
 * Writes a one-entry checkpoint atomically (tmp file, rename). `durable` fsyncs the tmp file
 * first: needed where an older value would be wrong (log start offset), not where it is only
 * conservative (recovery point: an older one means a longer recovery, never a wrong one).
 */
export function writeOffsetCheckpoint(path: string, topic: string, partition: number, offset: number, durable: boolean): void {
  writeFileAtomicSync(path, Buffer.from(`0\n1\n${topic} ${partition} ${offset}\n`), durable)
}

/** What {@link loadLog} needs besides the directory and config. */
export interface LoadLogOptions {
  topic: string
  partition: number
  handles: FileHandleCache
  logger: Logger
  /** Wall clock (ms). */
  now: number
  /** `false` forces recovery even when the marker is present; otherwise the marker decides. */
  cleanShutdown?: boolean
}

/** A loaded log: ordered segments (the last one active), offsets, how it was loaded. */
export interface LoadedLog {
  segments: LogSegment[]
  logStartOffset: number
  recoveryPoint: number
  /** True when the clean-shutdown marker let loading skip recovery. */
  hadCleanShutdown: boolean
  /** True when loading created a segment file (the directory must be synced before its data counts as durable). */
  createdSegment: boolean
  /** The values in the checkpoint files (-1 when absent), so unchanged ones are not rewritten. */
  checkpointed: { recoveryPoint: number; logStartOffset: number }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
}

/** Loads (and if needed recovers) the partition log in `dir`; see the module comment. */
export function loadLog(dir: string, config: LogConfig, opts: LoadLogOptions): LoadedLog {
  const { logger, handles } = opts
  const segmentOptions: LogSegmentOptions = {
    handles, indexIntervalBytes: config.indexIntervalBytes, maxIndexSize: config.segmentIndexBytes, now: opts.now, logger,
  }
  const names = readdirSync(dir)
  const logBases = new Set<number>()
  const swapBases: number[] = []
  for (const name of names) {
    const parsed = parseSegmentFileName(name)
    if (!parsed) {
      if (name.endsWith('.tmp')) unlinkQuietly(join(dir, name)) // an interrupted checkpoint write
      continue
    }
    if (parsed.suffix === DELETED_FILE_SUFFIX || parsed.suffix === CLEANED_FILE_SUFFIX) {
      unlinkQuietly(join(dir, name))
    } else if (parsed.suffix === SWAP_FILE_SUFFIX) {
      if (parsed.kind === 'log') swapBases.push(parsed.baseOffset)
      else unlinkQuietly(join(dir, name)) // rebuilt from the swapped-in log below
    } else if (parsed.kind === 'log') {
      logBases.add(parsed.baseOffset)
    }
  }
  for (const name of names) {
    const parsed = parseSegmentFileName(name)
    if (parsed && parsed.suffix === '' && parsed.kind !== 'log' && !logBases.has(parsed.baseOffset) && !swapBases.includes(parsed.baseOffset)) {
      unlinkQuietly(join(dir, name)) // an index without its log: Kafka deletes these too
    }
  }

  for (const base of swapBases.sort((a, b) => a - b)) {
    const swapped = LogSegment.open(dir, base, { ...segmentOptions, fileSuffix: SWAP_FILE_SUFFIX })
    swapped.recover(logger)
    const end = Math.max(swapped.nextOffset, base + 1)
    const replaced = [...logBases].filter((b) => b >= base && b < end)
    for (const b of replaced) {
      LogSegment.open(dir, b, segmentOptions).deleteFiles()
      logBases.delete(b)
    }
    swapped.changeFileSuffix('')
    swapped.close()
    logBases.add(base)
    logger.info('Completed an interrupted segment swap', { dir, swapBaseOffset: base, replacedBaseOffsets: replaced })
  }

  const markerPath = join(dir, CLEAN_SHUTDOWN_FILE)
  const markerFound = existsSync(markerPath)
  if (markerFound) unlinkQuietly(markerPath)
  const clean = markerFound && opts.cleanShutdown !== false

  const recoveryPointInFile = readOffsetCheckpoint(join(dir, RECOVERY_POINT_CHECKPOINT_FILE), logger)
  const checkpointedRecoveryPoint = recoveryPointInFile ?? 0
  const checkpointedLogStart = readOffsetCheckpoint(join(dir, LOG_START_OFFSET_CHECKPOINT_FILE), logger)

  let segments = [...logBases].sort((a, b) => a - b).map((base) => LogSegment.open(dir, base, segmentOptions))
  if (clean) {
    for (const segment of segments) {
      if (segment.indexProblem !== undefined) {
        logger.warn('Rebuilding a missing or corrupt index', { segment: segment.logPath, reason: segment.indexProblem })
        segment.recover(logger)
      }
    }
    const active = segments[segments.length - 1]
    if (active && !active.ensureTailState()) {
      logger.warn('The active segment has an invalid tail despite a clean shutdown; recovering it', { segment: active.logPath })
      active.recover(logger)
    }
  } else {
    segments = recoverSegments(segments, checkpointedRecoveryPoint, logger, dir)
  }

  let logStartOffset = Math.max(checkpointedLogStart ?? 0, segments[0]?.baseOffset ?? 0)
  let createdSegment = false
  if (segments.length === 0) {
    segments = [LogSegment.create(dir, logStartOffset, segmentOptions)]
    createdSegment = true
  }
  let active = segments[segments.length - 1]!
  if (logStartOffset > active.nextOffset) {
    logger.warn('The log start offset is beyond the end of the recovered log; restarting the log there', {
      dir, logStartOffset, logEndOffset: active.nextOffset,
    })
    for (const segment of segments) segment.deleteFiles()
    segments = [LogSegment.create(dir, logStartOffset, segmentOptions)]
    createdSegment = true
    active = segments[0]!
  }
  logStartOffset = Math.max(logStartOffset, segments[0]!.baseOffset)
  active.makeActive()
  const logEndOffset = active.nextOffset
  const recoveryPoint = clean ? logEndOffset : Math.min(checkpointedRecoveryPoint, logEndOffset)
  return {
    segments, logStartOffset, recoveryPoint, hadCleanShutdown: clean, createdSegment,
    checkpointed: { recoveryPoint: recoveryPointInFile ?? -1, logStartOffset: checkpointedLogStart ?? -1 },
  }
}

/**
 * Unclean open: recover every segment from the one holding the recovery point; below it,
 * check indexes fully and rebuild those that fail. Returns the segments that remain.
 */
function recoverSegments(segments: LogSegment[], recoveryPoint: number, logger: Logger, dir: string): LogSegment[] {
  let first = 0
  for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= recoveryPoint) first = i
  for (let i = 0; i < first; i++) {
    const segment = segments[i]!
    const problem = segment.indexProblem ?? fullIndexProblem(segment, segments[i + 1]!.baseOffset)
    if (problem !== undefined) {
      logger.warn('Rebuilding a missing or corrupt index', { segment: segment.logPath, reason: problem })
      const cut = segment.recover(logger)
      if (cut > 0) logger.warn('A segment below the recovery point was corrupt and was cut; later segments are kept', { segment: segment.logPath, truncatedBytes: cut })
    }
  }
  if (segments.slice(first).some((s) => s.size > 0)) {
    logger.info('Recovering unflushed segments after an unclean shutdown', {
      dir, recoveryPoint, segments: segments.length - first, fromBaseOffset: segments[first]!.baseOffset,
    })
  }
  for (let i = first; i < segments.length; i++) {
    const cut = segments[i]!.recover(logger)
    if (cut > 0 && i < segments.length - 1) {
      const dropped = segments.slice(i + 1)
      logger.warn('Deleting the segments after a corrupt one', { dir, baseOffsets: dropped.map((s) => s.baseOffset) })
      for (const segment of dropped) segment.deleteFiles()
      return segments.slice(0, i + 1)
    }
  }
  return segments
}

function fullIndexProblem(segment: LogSegment, nextSegmentBase: number): string | undefined {
  try {
    segment.offsetIndex.validateEntries(segment.size)
    segment.timeIndex.validateEntries(nextSegmentBase)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}
