/**
 * `shardlog dump-log <segment-file> [--print-data]`: prints what is on disk, as Kafka's
 * `kafka-dump-log.sh` (`DumpLogSegments`) does, so a partition directory can be inspected
 * with the same mental model.
 *
 * - `.log`: one line per batch (offsets, count, position, timestamps, size, codec, CRC and
 *   whether it matches, producer fields); with `--print-data` one `| offset: ...` line per
 *   record with its key, value and headers (UTF-8 when printable, else `0x` + hex). A torn
 *   tail or a corrupt header is reported as Kafka reports it ("Found N invalid bytes ...") and
 *   ends the dump; a batch that fails its CRC is printed with `isvalid: false`.
 * - `.index`: `offset: N position: P` per entry, then any entry that does not name the last
 *   offset of the batch at its position in the sibling `.log` (Kafka's "Mismatches in").
 * - `.timeindex`: `timestamp: T offset: N` per entry.
 * - `.snapshot`: the producer state snapshot (see storage/producer-state-manager.ts).
 *
 * Segment files may carry the cleaner's temp suffixes (`.cleaned`, `.swap`, `.deleted`).
 * The file is read sequentially, one batch in memory at a time.
 */
import { once } from 'node:events'
import { open, type FileHandle } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Command } from 'commander'
import { CorruptRecordError, InvalidRequestError } from '../../errors.js'
import {
  BATCH_LENGTH, CONTROL_FLAG_MASK, CURRENT_MAGIC, DELETE_HORIZON_FLAG_MASK, LAST_OFFSET_DELTA, LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD, TIMESTAMP_TYPE_MASK, TRANSACTIONAL_FLAG_MASK, codecOf, incrementSequence, isBatchCrcValid, readBatchHeader, readInt64,
  type BatchHeader,
} from '../../records/batch-header.js'
import { decodeRecordBatch, type Record } from '../../records/record-batch.js'
import { parseSegmentFileName } from '../../storage/file-names.js'
import { readProducerSnapshot } from '../../storage/producer-state-manager.js'

/** Options of {@link dumpLogSegment}. */
export interface DumpLogOptions {
  /** Also print every record of every batch (Kafka's `--print-data-log`). */
  printData: boolean
}

const CODEC_NAMES = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
const OFFSET_INDEX_ENTRY = 8
const TIME_INDEX_ENTRY = 12
const utf8 = new TextDecoder('utf-8', { fatal: true })
/** C0/C1 controls (newlines included): a value holding them is printed as hex, one line per record. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/

/**
 * The lines of the dump of `file`, in order (see module comment), produced lazily so that a
 * large segment is never held in memory.
 * @throws InvalidRequestError for a file that is not a `.log`, `.index`, `.timeindex` or `.snapshot`.
 * @throws the fs error when the file cannot be read.
 */
export async function* dumpLogSegment(file: string, opts: DumpLogOptions): AsyncGenerator<string> {
  const kind = fileKind(file)
  yield `Dumping ${file}`
  switch (kind) {
    case 'log': yield* dumpLog(file, opts); break
    case 'index': yield* dumpOffsetIndex(file); break
    case 'timeindex': yield* dumpTimeIndex(file); break
    case 'snapshot': yield* dumpSnapshot(file); break
  }
}

/**
 * The `dump-log` subcommand: writes the lines of {@link dumpLogSegment} to `out` (stdout by
 * default). Errors go to stderr and set exit code 1.
 */
export function dumpLogCommand(out: NodeJS.WritableStream = process.stdout): Command {
  return new Command('dump-log')
    .description('print the batches and records of a segment (.log), or the entries of an index (.index, .timeindex) or producer snapshot (.snapshot), like kafka-dump-log.sh')
    .argument('<segment-file>', 'path of a .log, .index, .timeindex or .snapshot file in a partition directory')
    .option('--print-data', 'also print every record: offset, timestamp, key, value and headers', false)
    .action(async (file: string, options: { printData: boolean }) => {
      // A reader that went away (`dump-log x | head`) ends the dump quietly, as EPIPE does for Kafka's tool.
      let closed = false
      const onError = (): void => { closed = true }
      out.on('error', onError)
      try {
        for await (const line of dumpLogSegment(file, { printData: options.printData })) {
          if (closed) break
          if (!out.write(`${line}\n`)) await once(out, 'drain')
        }
      } catch (err) {
        if (!closed) {
          process.stderr.write(`dump-log: ${err instanceof Error ? err.message : String(err)}\n`)
          process.exitCode = 1
        }
      } finally {
        out.off('error', onError)
      }
    })
}

type FileKind = 'log' | 'index' | 'timeindex' | 'snapshot'

function fileKind(file: string): FileKind {
  const name = basename(file).replace(/\.(cleaned|swap|deleted)$/, '')
  if (name.endsWith('.log')) return 'log'
  if (name.endsWith('.timeindex')) return 'timeindex'
  if (name.endsWith('.index')) return 'index'
  if (name.endsWith('.snapshot')) return 'snapshot'
  throw new InvalidRequestError(`cannot dump ${file}: expected a .log, .index, .timeindex or .snapshot file`)
}

/** Base offset from a Kafka segment file name, or undefined for another name. */
function baseOffsetOf(file: string): number | undefined {
  return parseSegmentFileName(basename(file))?.baseOffset
}

async function* dumpLog(file: string, opts: DumpLogOptions): AsyncGenerator<string> {
  const fh = await open(file, 'r')
  try {
    const size = (await fh.stat()).size
    const named = baseOffsetOf(file)
    let first = true
    let pos = 0
    const prefix = Buffer.alloc(LOG_OVERHEAD)
    while (pos < size) {
      const left = size - pos
      if (left < LOG_OVERHEAD) {
        yield `Found ${left} invalid bytes at the end of ${basename(file)} (less than a batch header)`
        return
      }
      await readExactly(fh, prefix, LOG_OVERHEAD, pos)
      const batchSize = prefix.readInt32BE(BATCH_LENGTH) + LOG_OVERHEAD
      if (batchSize < RECORD_BATCH_OVERHEAD) {
        yield `Found ${left} invalid bytes at position ${pos} of ${basename(file)}: batchLength ${batchSize - LOG_OVERHEAD} is below the minimum ${RECORD_BATCH_OVERHEAD - LOG_OVERHEAD}`
        return
      }
      if (batchSize > left) {
        yield `Found ${left} invalid bytes at the end of ${basename(file)} (a batch of ${batchSize} bytes at position ${pos} is cut off)`
        return
      }
      const batch = Buffer.allocUnsafe(batchSize)
      await readExactly(fh, batch, batchSize, pos)
      if (first) {
        yield `Starting offset: ${named ?? readInt64(batch, 0)}`
        first = false
      }
      const header = readBatchHeader(batch, 0)
      if (header.magic !== CURRENT_MAGIC) {
        yield `Found ${left} invalid bytes at position ${pos} of ${basename(file)}: magic ${header.magic}, only magic ${CURRENT_MAGIC} is supported`
        return
      }
      yield batchLine(header, pos, batchSize, isBatchCrcValid(batch, 0, batchSize))
      if (opts.printData) yield* recordLines(batch, header)
      pos += batchSize
    }
    if (first) yield `Starting offset: ${named ?? 0}`
  } finally {
    await fh.close()
  }
}

/** Kafka's batch line (`DumpLogSegments.dumpLog`), field for field. */
function batchLine(h: BatchHeader, position: number, size: number, valid: boolean): string {
  const lastSequence = h.baseSequence < 0 ? -1 : incrementSequence(h.baseSequence, h.lastOffsetDelta)
  const deleteHorizon = (h.attributes & DELETE_HORIZON_FLAG_MASK) !== 0 ? String(h.baseTimestamp) : 'none'
  return `baseOffset: ${h.baseOffset} lastOffset: ${h.baseOffset + h.lastOffsetDelta} count: ${h.recordsCount}` +
    ` baseSequence: ${h.baseSequence} lastSequence: ${lastSequence} producerId: ${h.producerId} producerEpoch: ${h.producerEpoch}` +
    ` partitionLeaderEpoch: ${h.partitionLeaderEpoch} isTransactional: ${(h.attributes & TRANSACTIONAL_FLAG_MASK) !== 0}` +
    ` isControl: ${(h.attributes & CONTROL_FLAG_MASK) !== 0} deleteHorizonMs: ${deleteHorizon} position: ${position}` +
    ` ${timestampTypeOf(h)}: ${h.maxTimestamp} size: ${size} magic: ${h.magic}` +
    ` compresscodec: ${CODEC_NAMES[codecOf(h.attributes)] ?? `unknown(${codecOf(h.attributes)})`} crc: ${h.crc} isvalid: ${valid}`
}

/** One `| offset: ...` line per record; a batch that cannot be decoded gets one line saying why. */
async function* recordLines(batch: Buffer, h: BatchHeader): AsyncGenerator<string> {
  let records: Record[]
  try {
    records = (await decodeRecordBatch(batch)).records
  } catch (err) {
    yield `| cannot decode the records of this batch: ${err instanceof Error ? err.message : String(err)}`
    return
  }
  const control = (h.attributes & CONTROL_FLAG_MASK) !== 0
  for (const r of records) {
    const sequence = h.baseSequence < 0 ? -1 : incrementSequence(h.baseSequence, r.offset - h.baseOffset)
    let line = `| offset: ${r.offset} ${timestampTypeOf(h)}: ${r.timestamp} keySize: ${r.key?.length ?? -1} valueSize: ${r.value?.length ?? -1}` +
      ` sequence: ${sequence} headerKeys: [${r.headers.map((x) => x.key).join(',')}]`
    if (control) {
      line += ` ${controlRecordText(r)}`
    } else {
      line += ` key: ${printable(r.key)} payload: ${printable(r.value)}`
      if (r.headers.length > 0) line += ` headers: [${r.headers.map((x) => `${x.key}=${printable(x.value)}`).join(', ')}]`
    }
    yield line
  }
}

/** Kafka prints transaction markers as `endTxnMarker: COMMIT coordinatorEpoch: N`. */
function controlRecordText(r: Record): string {
  if (r.key === null || r.key.length < 4) return `controlKey: ${printable(r.key)}`
  const type = r.key.readInt16BE(2)
  const name = type === 0 ? 'ABORT' : type === 1 ? 'COMMIT' : `unknown(${type})`
  const epoch = r.value !== null && r.value.length >= 6 ? r.value.readInt32BE(2) : -1
  return `endTxnMarker: ${name} coordinatorEpoch: ${epoch}`
}

async function* dumpOffsetIndex(file: string): AsyncGenerator<string> {
  const base = requireBaseOffset(file)
  const data = await readWhole(file)
  const entries = Math.floor(data.length / OFFSET_INDEX_ENTRY)
  const mismatches: string[] = []
  const logFile = join(dirname(file), basename(file).replace(/\.index((?:\.cleaned|\.swap|\.deleted)?)$/, '.log$1'))
  const log = await open(logFile, 'r').catch(() => undefined)
  try {
    const head = Buffer.alloc(RECORD_BATCH_OVERHEAD)
    for (let i = 0; i < entries; i++) {
      const relative = data.readInt32BE(i * OFFSET_INDEX_ENTRY)
      const position = data.readInt32BE(i * OFFSET_INDEX_ENTRY + 4)
      // A preallocated Kafka index is zero-filled past its last entry.
      if (i > 0 && relative === 0) break
      yield `offset: ${base + relative} position: ${position}`
      if (log !== undefined) {
        const { bytesRead } = await log.read(head, 0, RECORD_BATCH_OVERHEAD, position)
        const logOffset = bytesRead === RECORD_BATCH_OVERHEAD ? readInt64(head, 0) + head.readInt32BE(LAST_OFFSET_DELTA) : undefined
        if (logOffset !== base + relative) mismatches.push(`  Index offset: ${base + relative}, log offset: ${logOffset ?? `none (no batch at position ${position})`}`)
      }
    }
  } finally {
    await log?.close()
  }
  if (data.length % OFFSET_INDEX_ENTRY !== 0) yield `Found ${data.length % OFFSET_INDEX_ENTRY} invalid bytes at the end of ${basename(file)}`
  if (mismatches.length > 0) {
    yield `Mismatches in :${file}`
    yield* mismatches
  }
}

async function* dumpTimeIndex(file: string): AsyncGenerator<string> {
  const base = requireBaseOffset(file)
  const data = await readWhole(file)
  const entries = Math.floor(data.length / TIME_INDEX_ENTRY)
  for (let i = 0; i < entries; i++) {
    const timestamp = readInt64(data, i * TIME_INDEX_ENTRY)
    const relative = data.readInt32BE(i * TIME_INDEX_ENTRY + 8)
    if (i > 0 && relative === 0 && timestamp === 0) break
    yield `timestamp: ${timestamp} offset: ${base + relative}`
  }
  if (data.length % TIME_INDEX_ENTRY !== 0) yield `Found ${data.length % TIME_INDEX_ENTRY} invalid bytes at the end of ${basename(file)}`
}

async function* dumpSnapshot(file: string): AsyncGenerator<string> {
  let producers
  try {
    producers = readProducerSnapshot(file)
  } catch (err) {
    if (!(err instanceof CorruptRecordError)) throw err
    yield err.message
    return
  }
  for (const p of producers) {
    yield `producerId: ${p.producerId} producerEpoch: ${p.producerEpoch} lastTimestamp: ${p.lastTimestamp}`
    for (const b of p.batches) {
      yield `| firstSequence: ${b.firstSeq} lastSequence: ${b.lastSeq} firstOffset: ${b.firstOffset} lastOffset: ${b.lastOffset} timestamp: ${b.timestamp}`
    }
  }
}

function requireBaseOffset(file: string): number {
  const base = baseOffsetOf(file)
  if (base === undefined) throw new InvalidRequestError(`cannot dump ${file}: an index file name must be the 20-digit base offset of its segment`)
  return base
}

async function readWhole(file: string): Promise<Buffer> {
  const fh = await open(file, 'r')
  try {
    return await fh.readFile()
  } finally {
    await fh.close()
  }
}

async function readExactly(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done)
    if (bytesRead === 0) throw new CorruptRecordError(`file shrank while reading at position ${position + done}`)
    done += bytesRead
  }
}

function timestampTypeOf(h: BatchHeader): string {
  return (h.attributes & TIMESTAMP_TYPE_MASK) !== 0 ? 'LogAppendTime' : 'CreateTime'
}


/** UTF-8 text when the bytes are valid UTF-8 without control characters, else `0x` + hex; `null` for null. */
function printable(bytes: Buffer | null): string {
  if (bytes === null) return 'null'
  try {
    const text = utf8.decode(bytes)
    if (!CONTROL_CHARS.test(text)) return text
  } catch {
    // Not UTF-8: fall through to hex.
  }
  return `0x${bytes.toString('hex')}`
}
