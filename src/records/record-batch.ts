/**
 * Encoder and decoder of Kafka's RecordBatch v2 (magic 2), byte for byte as Kafka's
 * `DefaultRecordBatch` / `DefaultRecord` define it. The 61-byte header layout is documented in
 * batch-header.ts; after it come `recordsCount` records, compressed as one block when the codec
 * in the attributes is not none:
 *
 * ```
 * record   length          varint   bytes after this field
 *          attributes      int8     unused, 0
 *          timestampDelta  varlong  from baseTimestamp
 *          offsetDelta     varint   from baseOffset
 *          keyLength       varint   -1 = null key
 *          key             bytes
 *          valueLength     varint   -1 = null value
 *          value           bytes
 *          headersCount    varint
 *          headers         headerKeyLength varint, headerKey UTF-8,
 *                          headerValueLength varint (-1 = null), headerValue bytes
 * ```
 *
 * Encoding makes two passes over the records: the first computes every length (kept in
 * module-level scratch arrays, so nothing is allocated per record), the second writes into the
 * one Buffer allocated for the whole batch. The CRC-32C over attributes..end goes in last.
 *
 * Decoding checks everything it reads before trusting it: the batch length against the buffer,
 * the magic, the CRC (before any decompression), the codec id, every varint and length
 * against the end of its record, and that records end exactly where the batch ends. Any
 * failure is a {@link CorruptRecordError}, the same conditions under which Kafka's
 * `DefaultRecordBatch` throws `CorruptRecordException`/`InvalidRecordException`.
 * Decoded keys, values and header values are views into the input (or the decompressed)
 * buffer, not copies: they keep that buffer alive.
 *
 * Thread: any. Not re-entrant across threads by construction (each worker has its own module
 * instance); within a thread the scratch arrays are used only by synchronous code.
 */
import {
  ATTRIBUTES, BASE_OFFSET, BASE_SEQUENCE, BASE_TIMESTAMP, BATCH_LENGTH, COMPRESSION_CODEC_MASK,
  CONTROL_FLAG_MASK, CRC, CURRENT_MAGIC, DELETE_HORIZON_FLAG_MASK, LAST_OFFSET_DELTA, LOG_OVERHEAD,
  MAGIC, MAX_TIMESTAMP, PARTITION_LEADER_EPOCH, PRODUCER_EPOCH, PRODUCER_ID, RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT, TIMESTAMP_TYPE_MASK, TRANSACTIONAL_FLAG_MASK, readBatchHeader, readInt64, writeInt64,
  type BatchHeader,
} from './batch-header.js'
import {
  CompressionCodecId, compress, compressSync, compressionTypeFromId, decompress, decompressSync,
  type CompressionType,
} from './compression/index.js'
import { crc32c } from './crc32c.js'
import { sizeOfVarInt, sizeOfVarLong, takeVarInt, takeVarLong, writeVarInt, writeVarLong, type ByteCursor } from './varint.js'
import { CorruptRecordError, InvalidRecordError, RecordTooLargeError, UnsupportedCompressionTypeError } from '../errors.js'

// ---------------------------------------------------------------------------------------------
// Types

/** A record header as decoded: UTF-8 key, bytes value (null allowed). */
export interface RecordHeader {
  key: string
  value: Buffer | null
}

/** A record header as a producer may give it: the value may also be a string (written as UTF-8). */
export interface RecordHeaderInput {
  key: string
  value: Buffer | string | null
}

/** What a producer gives for one record. Strings are written as UTF-8. */
export interface RecordInput {
  key?: Buffer | string | null
  value: Buffer | string | null
  /** An array keeps order and allows repeated keys; an object is one header per own key (undefined values are skipped). */
  headers?: ReadonlyArray<RecordHeaderInput> | { [key: string]: Buffer | string | null | undefined }
  /** Milliseconds since the epoch; default `opts.now ?? Date.now()`. */
  timestamp?: number
  /** Absolute offset; only for re-encoding (compaction keeps offsets). Default baseOffset + index. */
  offset?: number
}

/** One decoded record. `key`, `value` and header values are views into the batch's bytes. */
export interface Record {
  offset: number
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/** Kafka's `message.timestamp.type`: set by the producer, or by the broker on append. */
export type TimestampType = 'CreateTime' | 'LogAppendTime'

/** Batch-level fields of {@link encodeRecordBatch}; every one has Kafka's default for a plain producer. */
export interface EncodeBatchOptions {
  /** Codec of the records block; default `none`. */
  compression?: CompressionType
  /** Offset of the first record; default 0 (the leader assigns the real one in place). */
  baseOffset?: number
  /** Default -1 (RecordBatch.NO_PARTITION_LEADER_EPOCH); the leader sets it in place. */
  partitionLeaderEpoch?: number
  /** Idempotent/transactional producer id; default -1 (none). */
  producerId?: number
  /** Default -1. */
  producerEpoch?: number
  /** Sequence number of the first record; default -1. */
  baseSequence?: number
  /** Sets the transactional attribute bit (4). */
  transactional?: boolean
  /** Sets the control attribute bit (5): a batch of transaction markers. */
  isControl?: boolean
  /** Attribute bit 3; default `CreateTime`. With `LogAppendTime` readers take maxTimestamp as every record's timestamp. */
  timestampType?: TimestampType
  /** Timestamp (ms) for records without one; default `Date.now()` once per batch. */
  now?: number
  /** Override of lastOffsetDelta (compaction keeps the original one); default the last record's offset delta. */
  lastOffsetDelta?: number
  /** Override for re-encoding; default the first record's timestamp (-1 for an empty batch). */
  baseTimestamp?: number
  /** Override for re-encoding or LogAppendTime; default the largest record timestamp (-1 for an empty batch). */
  maxTimestamp?: number
  /**
   * KIP-534: sets attribute bit 6 and stores this in baseTimestamp (record timestamps stay
   * correct: their deltas are taken from it). Used by the log cleaner for tombstone expiry.
   */
  deleteHorizonMs?: number
}

/**
 * Builds what a decoder hands out for one record, straight from its fields, so a reader that
 * wants its own shape (the consumer's kafkajs-style message) allocates one object per record
 * instead of a {@link Record} and then its own. `headers` is {@link NO_RECORD_HEADERS} (shared,
 * frozen) for a record without headers; `attributes` is the record's own attribute byte (unused
 * by Kafka so far, 0). Must not throw.
 */
export type RecordBuilder<R> = (offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: RecordHeader[], attributes: number) => R

/** The `headers` a {@link RecordBuilder} gets for a record without headers: shared, frozen. */
export const NO_RECORD_HEADERS: RecordHeader[] = Object.freeze([]) as unknown as RecordHeader[]

/** A decoded batch: its header, its flags and its records (as `R`, {@link Record} by default). */
export interface DecodedBatch<R = Record> {
  header: BatchHeader
  compression: CompressionType
  records: R[]
  isControl: boolean
  isTransactional: boolean
  timestampType: TimestampType
  /** KIP-534 delete horizon (the baseTimestamp) when attribute bit 6 is set. */
  deleteHorizonMs: number | undefined
}

/** Kafka's RecordBatch.NO_TIMESTAMP. */
const NO_TIMESTAMP = -1
const INT32_MAX = 0x7fff_ffff
/** batchLength of an empty batch: the header minus baseOffset and batchLength. */
const MIN_BATCH_LENGTH = RECORD_BATCH_OVERHEAD - LOG_OVERHEAD
/** Smallest record: length, attributes, timestampDelta, offsetDelta, keyLength, valueLength, headersCount. */
const MIN_RECORD_SIZE = 7
/** Smallest record body (after the length varint). */
const MIN_RECORD_BODY = MIN_RECORD_SIZE - 1

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Per-record lengths from the sizing pass, three int32s per record: key length, value length
 * (-1 for null) and body length. Header lengths go to `headerLengths`, two per header.
 * Grown by doubling; used only between the start and the end of one synchronous encode.
 */
let recordLengths = new Int32Array(3 * 1024)
let headerLengths = new Int32Array(2 * 256)

/** What the sizing pass found, needed by the writing pass and the header. */
interface BatchPlan {
  recordsSize: number
  baseOffset: number
  baseTimestamp: number
  maxTimestamp: number
  lastOffsetDelta: number
  now: number
  attributes: number
}

/**
 * Encodes `records` as one RecordBatch v2 with the codec in `opts.compression` (default none).
 * Throws {@link InvalidRecordError} for a timestamp that is not a safe integer or offsets that
 * do not increase, {@link RecordTooLargeError} beyond a 2 GiB batch.
 */
export function encodeRecordBatch(records: ReadonlyArray<RecordInput>, opts: EncodeBatchOptions = {}): Promise<Buffer> {
  return encodeRecordBatchUsing(compress, records, opts)
}

/**
 * Compresses the records block of a batch being encoded: `compress` of compression/index.ts,
 * or a stand-in that runs it elsewhere (the codec pool). `block` belongs to the encoder and is
 * not touched after the call, so the compressor may keep it or transfer it to another thread.
 */
export type BlockCompressor = (type: CompressionType, block: Buffer) => Promise<Buffer>

/** {@link encodeRecordBatch} with the records block compressed by `compressBlock` (not called for codec none). */
export async function encodeRecordBatchUsing(
  compressBlock: BlockCompressor, records: ReadonlyArray<RecordInput>, opts: EncodeBatchOptions = {},
): Promise<Buffer> {
  const type = opts.compression ?? 'none'
  const plan = planBatch(records, opts, type)
  if (type === 'none') return encodeUncompressed(records, plan, opts)
  // Sizing and writing are synchronous; the scratch arrays are free again before the await.
  const body = Buffer.allocUnsafe(plan.recordsSize)
  writeRecords(body, 0, records, plan)
  return frameCompressed(await compressBlock(type, body), records.length, plan, opts)
}

/**
 * Synchronous {@link encodeRecordBatch}, for code already off the main thread. Throws
 * {@link UnsupportedCompressionTypeError} for zstd (async only).
 */
export function encodeRecordBatchSync(records: ReadonlyArray<RecordInput>, opts: EncodeBatchOptions = {}): Buffer {
  const type = opts.compression ?? 'none'
  if (type === 'zstd') {
    throw new UnsupportedCompressionTypeError('zstd has no synchronous form (its native binding is async only): use encodeRecordBatch()')
  }
  const plan = planBatch(records, opts, type)
  if (type === 'none') return encodeUncompressed(records, plan, opts)
  const body = Buffer.allocUnsafe(plan.recordsSize)
  writeRecords(body, 0, records, plan)
  return frameCompressed(compressSync(type, body), records.length, plan, opts)
}

function encodeUncompressed(records: ReadonlyArray<RecordInput>, plan: BatchPlan, opts: EncodeBatchOptions): Buffer {
  const size = RECORD_BATCH_OVERHEAD + plan.recordsSize
  const buf = Buffer.allocUnsafe(size)
  writeRecords(buf, RECORD_BATCH_OVERHEAD, records, plan)
  writeHeaderAndCrc(buf, size, records.length, plan, opts)
  return buf
}

function frameCompressed(block: Buffer, count: number, plan: BatchPlan, opts: EncodeBatchOptions): Buffer {
  const size = RECORD_BATCH_OVERHEAD + block.length
  if (size - LOG_OVERHEAD > INT32_MAX) throw new RecordTooLargeError(`compressed batch of ${size} bytes exceeds the int32 batchLength`)
  const buf = Buffer.allocUnsafe(size)
  buf.set(block, RECORD_BATCH_OVERHEAD)
  writeHeaderAndCrc(buf, size, count, plan, opts)
  return buf
}

function writeHeaderAndCrc(buf: Buffer, size: number, count: number, plan: BatchPlan, opts: EncodeBatchOptions): void {
  writeInt64(buf, plan.baseOffset, BASE_OFFSET)
  buf.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH)
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? -1, PARTITION_LEADER_EPOCH)
  buf[MAGIC] = CURRENT_MAGIC
  buf.writeInt16BE(plan.attributes, ATTRIBUTES)
  buf.writeInt32BE(plan.lastOffsetDelta, LAST_OFFSET_DELTA)
  writeInt64(buf, plan.baseTimestamp, BASE_TIMESTAMP)
  writeInt64(buf, plan.maxTimestamp, MAX_TIMESTAMP)
  writeInt64(buf, opts.producerId ?? -1, PRODUCER_ID)
  buf.writeInt16BE(opts.producerEpoch ?? -1, PRODUCER_EPOCH)
  buf.writeInt32BE(opts.baseSequence ?? -1, BASE_SEQUENCE)
  buf.writeInt32BE(count, RECORDS_COUNT)
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES, size)), CRC)
}

/** Sizing pass: validates timestamps and offsets, records every length, totals the records block. */
function planBatch(records: ReadonlyArray<RecordInput>, opts: EncodeBatchOptions, type: CompressionType): BatchPlan {
  const n = records.length
  if (recordLengths.length < 3 * n) recordLengths = new Int32Array(Math.max(3 * n, 2 * recordLengths.length))
  const lengths = recordLengths
  const now = opts.now ?? Date.now()
  const baseOffset = opts.baseOffset ?? 0
  const deleteHorizonMs = opts.deleteHorizonMs
  const baseTimestamp = deleteHorizonMs ?? opts.baseTimestamp ?? (n > 0 ? (records[0]!.timestamp ?? now) : NO_TIMESTAMP)
  if (!Number.isSafeInteger(baseTimestamp)) throw new InvalidRecordError(`baseTimestamp ${baseTimestamp} is not a safe integer`)
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) throw new InvalidRecordError(`baseOffset ${baseOffset} is not a non-negative safe integer`)

  let maxTimestamp = NO_TIMESTAMP
  let previousOffsetDelta = -1
  let recordsSize = 0
  let headerSlot = 0
  for (let i = 0; i < n; i++) {
    const record = records[i]!
    const timestampDelta = (record.timestamp ?? now) - baseTimestamp
    if (!Number.isSafeInteger(timestampDelta)) {
      throw new InvalidRecordError(`record ${i}: timestamp ${record.timestamp} is not a safe integer near baseTimestamp ${baseTimestamp}`)
    }
    if (timestampDelta + baseTimestamp > maxTimestamp) maxTimestamp = timestampDelta + baseTimestamp
    const offsetDelta = record.offset === undefined ? i : record.offset - baseOffset
    // Also rejects NaN and non-integers; Kafka's MemoryRecordsBuilder demands increasing offsets.
    if (!(offsetDelta > previousOffsetDelta && offsetDelta <= INT32_MAX && Number.isInteger(offsetDelta))) {
      throw new InvalidRecordError(`record ${i}: offset delta ${offsetDelta} does not follow ${previousOffsetDelta} (offsets must increase within a batch)`)
    }
    previousOffsetDelta = offsetDelta

    const key = record.key
    const keyLength = key === null || key === undefined ? -1 : typeof key === 'string' ? Buffer.byteLength(key) : key.length
    const value = record.value
    const valueLength = value === null || value === undefined ? -1 : typeof value === 'string' ? Buffer.byteLength(value) : value.length

    let headersSize = 1
    const headers = record.headers
    if (headers !== undefined) {
      headerSlot = sizeHeaders(headers, headerSlot)
      headersSize = lastHeadersSize
    }

    const bodySize = 1 + sizeOfVarLong(timestampDelta) + sizeOfVarInt(offsetDelta) +
      (keyLength < 0 ? 1 : sizeOfVarInt(keyLength) + keyLength) +
      (valueLength < 0 ? 1 : sizeOfVarInt(valueLength) + valueLength) +
      headersSize
    lengths[3 * i] = keyLength
    lengths[3 * i + 1] = valueLength
    lengths[3 * i + 2] = bodySize
    recordsSize += sizeOfVarInt(bodySize) + bodySize
    if (recordsSize > INT32_MAX - MIN_BATCH_LENGTH) {
      throw new RecordTooLargeError(`batch exceeds the int32 batchLength after ${i + 1} records (${recordsSize} bytes)`)
    }
  }

  const lastOffsetDelta = opts.lastOffsetDelta ?? (n > 0 ? previousOffsetDelta : 0)
  if (lastOffsetDelta < previousOffsetDelta || !Number.isInteger(lastOffsetDelta) || lastOffsetDelta > INT32_MAX) {
    throw new InvalidRecordError(`lastOffsetDelta ${lastOffsetDelta} is below the last record's offset delta ${previousOffsetDelta}`)
  }
  let attributes = CompressionCodecId[type]
  if (opts.timestampType === 'LogAppendTime') attributes |= TIMESTAMP_TYPE_MASK
  if (opts.transactional === true) attributes |= TRANSACTIONAL_FLAG_MASK
  if (opts.isControl === true) attributes |= CONTROL_FLAG_MASK
  if (deleteHorizonMs !== undefined) attributes |= DELETE_HORIZON_FLAG_MASK
  return {
    recordsSize,
    baseOffset,
    baseTimestamp,
    maxTimestamp: opts.maxTimestamp ?? maxTimestamp,
    lastOffsetDelta,
    now,
    attributes,
  }
}

/** Encoded size of the header section that the last {@link sizeHeaders} call measured. */
let lastHeadersSize = 1

/**
 * Stores (key length, value length) of each header in `headerLengths` from `slot` on, sets
 * {@link lastHeadersSize}, and returns the slot after the last pair.
 */
function sizeHeaders(headers: NonNullable<RecordInput['headers']>, slot: number): number {
  let count = 0
  let size = 0
  if (Array.isArray(headers)) {
    const list = headers as ReadonlyArray<RecordHeaderInput>
    for (let h = 0; h < list.length; h++) {
      const header = list[h]!
      ensureHeaderSlots(slot + 2)
      size += sizeHeader(header.key, header.value, slot)
      slot += 2
      count++
    }
  } else {
    const map = headers as { [key: string]: Buffer | string | null | undefined }
    for (const key in map) {
      if (!Object.prototype.hasOwnProperty.call(map, key)) continue
      const value = map[key]
      if (value === undefined) continue
      ensureHeaderSlots(slot + 2)
      size += sizeHeader(key, value, slot)
      slot += 2
      count++
    }
  }
  lastHeadersSize = sizeOfVarInt(count) + size
  return slot
}

function ensureHeaderSlots(slots: number): void {
  if (slots > headerLengths.length) {
    const grown = new Int32Array(Math.max(slots, 2 * headerLengths.length))
    grown.set(headerLengths)
    headerLengths = grown
  }
}

function sizeHeader(key: string, value: Buffer | string | null, slot: number): number {
  const keyLength = Buffer.byteLength(key)
  const valueLength = value === null ? -1 : typeof value === 'string' ? Buffer.byteLength(value) : value.length
  headerLengths[slot] = keyLength
  headerLengths[slot + 1] = valueLength
  return sizeOfVarInt(keyLength) + keyLength + (valueLength < 0 ? 1 : sizeOfVarInt(valueLength) + valueLength)
}

/** Writing pass: the records block at `pos`, from the lengths the sizing pass stored. */
function writeRecords(buf: Buffer, pos: number, records: ReadonlyArray<RecordInput>, plan: BatchPlan): number {
  const lengths = recordLengths
  const { baseOffset, baseTimestamp, now } = plan
  let headerSlot = 0
  for (let i = 0, n = records.length; i < n; i++) {
    const record = records[i]!
    const bodySize = lengths[3 * i + 2]!
    pos = writeVarInt(buf, bodySize, pos)
    buf[pos++] = 0 // record attributes: unused by Kafka
    pos = writeVarLong(buf, (record.timestamp ?? now) - baseTimestamp, pos)
    pos = writeVarInt(buf, record.offset === undefined ? i : record.offset - baseOffset, pos)
    pos = writeField(buf, record.key, lengths[3 * i]!, pos)
    pos = writeField(buf, record.value, lengths[3 * i + 1]!, pos)
    const headers = record.headers
    if (headers === undefined) {
      buf[pos++] = 0 // headersCount 0
    } else {
        pos = writeHeaders(buf, headers, headerSlot, pos)
      headerSlot = writtenHeaderSlot
    }
  }
  return pos
}

/** Writes a length-prefixed bytes/string field (`length` -1 = null) and returns the position after it. */
function writeField(buf: Buffer, data: Buffer | string | null | undefined, length: number, pos: number): number {
  if (length < 0) {
    buf[pos++] = 1 // zig-zag -1
    return pos
  }
  pos = writeVarInt(buf, length, pos)
  if (length === 0) return pos
  if (typeof data === 'string') {
    buf.write(data, pos, length, 'utf8')
  } else if (length <= 16) {
    // A short copy by hand beats the call into TypedArray.prototype.set.
    const bytes = data!
    for (let j = 0; j < length; j++) buf[pos + j] = bytes[j]!
  } else {
    buf.set(data!, pos)
  }
  return pos + length
}

/** The header slot after the last {@link writeHeaders} call. */
let writtenHeaderSlot = 0

/**
 * Writes headersCount and the headers in the order the sizing pass saw them, from the lengths
 * it stored at `slot`; sets {@link writtenHeaderSlot} and returns the position after them.
 */
function writeHeaders(buf: Buffer, headers: NonNullable<RecordInput['headers']>, slot: number, pos: number): number {
  const lengths = headerLengths
  if (Array.isArray(headers)) {
    const list = headers as ReadonlyArray<RecordHeaderInput>
    pos = writeVarInt(buf, list.length, pos)
    for (let h = 0; h < list.length; h++) {
      const header = list[h]!
      pos = writeField(buf, header.key, lengths[slot]!, pos)
      pos = writeField(buf, header.value, lengths[slot + 1]!, pos)
      slot += 2
    }
  } else {
    const map = headers as { [key: string]: Buffer | string | null | undefined }
    let count = 0
    for (const key in map) if (Object.prototype.hasOwnProperty.call(map, key) && map[key] !== undefined) count++
    pos = writeVarInt(buf, count, pos)
    for (const key in map) {
      if (!Object.prototype.hasOwnProperty.call(map, key)) continue
      const value = map[key]
      if (value === undefined) continue
      pos = writeField(buf, key, lengths[slot]!, pos)
      pos = writeField(buf, value, lengths[slot + 1]!, pos)
      slot += 2
    }
  }
  writtenHeaderSlot = slot
  return pos
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Decodes the batch at `pos`: checks length, magic and CRC, decompresses, parses every record.
 * Throws {@link CorruptRecordError} on any malformed input.
 */
export function decodeRecordBatch(buf: Buffer, pos = 0): Promise<DecodedBatch> {
  return decodeRecordBatchUsing(decompress, buf, pos)
}

/**
 * Decompresses the records block of a batch being decoded: `decompress` of
 * compression/index.ts, or a stand-in that runs it elsewhere (the codec pool). `block` is a
 * view into the caller's buffer: read it, never keep, change or transfer it. Failures must be
 * {@link CorruptRecordError}s, as `decompress` throws them.
 */
export type BlockDecompressor = (type: CompressionType, block: Buffer) => Promise<Buffer>

/**
 * {@link decodeRecordBatch} with the records block decompressed by `decompressBlock`, which is
 * called only after the batch passed its length, magic and CRC checks, and not for an empty
 * or uncompressed batch.
 */
export function decodeRecordBatchUsing(decompressBlock: BlockDecompressor, buf: Buffer, pos?: number): Promise<DecodedBatch>
/** As above, with every record built by `build` (see {@link RecordBuilder}). */
export function decodeRecordBatchUsing<R>(decompressBlock: BlockDecompressor, buf: Buffer, pos: number, build: RecordBuilder<R>): Promise<DecodedBatch<R>>
export async function decodeRecordBatchUsing<R>(
  decompressBlock: BlockDecompressor, buf: Buffer, pos = 0, build: RecordBuilder<R> = buildRecord as unknown as RecordBuilder<R>,
): Promise<DecodedBatch<R>> {
  const checked = checkBatch(buf, pos)
  const { header, compression } = checked
  if (compression === 'none') return assemble(checked, buf, pos + RECORD_BATCH_OVERHEAD, checked.end, build)
  // Kafka's DefaultRecordBatch does not open the compressed stream of an empty batch.
  if (header.recordsCount === 0) return assemble(checked, buf, 0, 0, build)
  const data = await decompressBlock(compression, buf.subarray(pos + RECORD_BATCH_OVERHEAD, checked.end))
  return assemble(checked, data, 0, data.length, build)
}

/**
 * Synchronous {@link decodeRecordBatch}. Throws {@link UnsupportedCompressionTypeError} for a
 * zstd batch (async only) and {@link CorruptRecordError} on any malformed input.
 */
export function decodeRecordBatchSync(buf: Buffer, pos?: number): DecodedBatch
/** As above, with every record built by `build` (see {@link RecordBuilder}). */
export function decodeRecordBatchSync<R>(buf: Buffer, pos: number, build: RecordBuilder<R>): DecodedBatch<R>
export function decodeRecordBatchSync<R>(
  buf: Buffer, pos = 0, build: RecordBuilder<R> = buildRecord as unknown as RecordBuilder<R>,
): DecodedBatch<R> {
  const checked = checkBatch(buf, pos)
  const { header, compression } = checked
  if (compression === 'none') return assemble(checked, buf, pos + RECORD_BATCH_OVERHEAD, checked.end, build)
  if (header.recordsCount === 0) return assemble(checked, buf, 0, 0, build)
  const data = decompressSync(compression, buf.subarray(pos + RECORD_BATCH_OVERHEAD, checked.end))
  return assemble(checked, data, 0, data.length, build)
}

/**
 * Whether the batch at `pos` (a whole batch, as {@link iterateBatches} yields) declares a
 * compression codec. Reads the attributes only; nothing is checked.
 */
export function isCompressedBatch(buf: Buffer, pos: number): boolean {
  return (buf.readInt16BE(pos + ATTRIBUTES) & COMPRESSION_CODEC_MASK) !== 0
}

/**
 * The whole batches in `buf`, in order, as positions and sizes (batchLength + 12). A partial
 * batch at the end (as a Kafka fetch response may carry when it hits `max.bytes`) ends the
 * iteration silently. A batchLength below 49 or a whole batch whose magic is not 2 throws
 * {@link CorruptRecordError}, as Kafka's `ByteBufferLogInputStream` does. CRCs are not checked here.
 */
export function* iterateBatches(buf: Buffer): Generator<{ pos: number; size: number }> {
  let pos = 0
  while (buf.length - pos >= LOG_OVERHEAD) {
    const batchLength = buf.readInt32BE(pos + BATCH_LENGTH)
    if (batchLength < MIN_BATCH_LENGTH) {
      throw new CorruptRecordError(`batch at position ${pos} has batchLength ${batchLength}, below the minimum ${MIN_BATCH_LENGTH}`)
    }
    const size = batchLength + LOG_OVERHEAD
    if (size > buf.length - pos) return
    const magic = buf.readInt8(pos + MAGIC)
    if (magic !== CURRENT_MAGIC) {
      throw new CorruptRecordError(`batch at position ${pos} has magic ${magic}; only magic ${CURRENT_MAGIC} (RecordBatch v2) is supported`)
    }
    yield { pos, size }
    pos += size
  }
}

/**
 * The offset after the last whole batch in `buf` (its baseOffset + lastOffsetDelta + 1), or
 * `from` when that is larger or `buf` holds no whole batch: where the next fetch starts once
 * these batches are consumed. Reads only the batch headers.
 */
export function nextOffsetAfter(buf: Buffer, from: number): number {
  let next = from
  for (const { pos } of iterateBatches(buf)) {
    const end = readInt64(buf, pos + BASE_OFFSET) + buf.readInt32BE(pos + LAST_OFFSET_DELTA) + 1
    if (end > next) next = end
  }
  return next
}

/** Decodes every whole batch in `buf` (see {@link iterateBatches}); decompression runs in parallel. */
export function decodeRecordBatches(buf: Buffer): Promise<DecodedBatch[]>
/** As above, with every record built by `build` (see {@link RecordBuilder}). */
export function decodeRecordBatches<R>(buf: Buffer, build: RecordBuilder<R>): Promise<Array<DecodedBatch<R>>>
export function decodeRecordBatches<R>(buf: Buffer, build?: RecordBuilder<R>): Promise<Array<DecodedBatch<R> | DecodedBatch>> {
  const pending: Array<Promise<DecodedBatch<R> | DecodedBatch>> = []
  for (const { pos } of iterateBatches(buf)) pending.push(build ? decodeRecordBatchUsing(decompress, buf, pos, build) : decodeRecordBatch(buf, pos))
  return Promise.all(pending)
}

/** Synchronous {@link decodeRecordBatches}. */
export function decodeRecordBatchesSync(buf: Buffer): DecodedBatch[] {
  const batches: DecodedBatch[] = []
  for (const { pos } of iterateBatches(buf)) batches.push(decodeRecordBatchSync(buf, pos))
  return batches
}

interface CheckedBatch {
  header: BatchHeader
  compression: CompressionType
  /** Position just after the batch. */
  end: number
}

/** Validates the framing, magic, CRC, codec and count of the batch at `pos`. */
function checkBatch(buf: Buffer, pos: number, verifyCrc = true): CheckedBatch {
  if (!Number.isInteger(pos) || pos < 0 || buf.length - pos < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(`batch at position ${pos} is truncated: ${Math.max(0, buf.length - pos)} bytes left, the header alone is ${RECORD_BATCH_OVERHEAD}`)
  }
  const batchLength = buf.readInt32BE(pos + BATCH_LENGTH)
  if (batchLength < MIN_BATCH_LENGTH) {
    throw new CorruptRecordError(`batch at position ${pos} has batchLength ${batchLength}, below the minimum ${MIN_BATCH_LENGTH}`)
  }
  const end = pos + batchLength + LOG_OVERHEAD
  if (end > buf.length) {
    throw new CorruptRecordError(`batch at position ${pos} is truncated: batchLength ${batchLength} needs ${end - buf.length} more bytes`)
  }
  const magic = buf.readInt8(pos + MAGIC)
  if (magic !== CURRENT_MAGIC) {
    throw new CorruptRecordError(`batch at position ${pos} has magic ${magic}; only magic ${CURRENT_MAGIC} (RecordBatch v2) is supported`)
  }
  if (verifyCrc) {
    const stored = buf.readUInt32BE(pos + CRC)
    const computed = crc32c(buf.subarray(pos + ATTRIBUTES, end))
    if (stored !== computed) {
      throw new CorruptRecordError(`batch at position ${pos} is corrupt (stored crc = ${stored}, computed crc = ${computed})`)
    }
  }
  const header = readBatchHeader(buf, pos)
  const compression = compressionTypeFromId(header.attributes & COMPRESSION_CODEC_MASK)
  if (header.recordsCount < 0) {
    throw new CorruptRecordError(`batch at position ${pos} has a negative recordsCount ${header.recordsCount}`)
  }
  return { header, compression, end }
}

function assemble<R>(checked: CheckedBatch, data: Buffer, start: number, end: number, build: RecordBuilder<R>): DecodedBatch<R> {
  return batchOf(checked, decodeRecords(data, start, end, checked.header, build))
}

/** A {@link DecodedBatch} of `records` with the flags of the checked batch. */
function batchOf<R>(checked: CheckedBatch, records: R[]): DecodedBatch<R> {
  const { header, compression } = checked
  const attributes = header.attributes
  return {
    header,
    compression,
    records,
    isControl: (attributes & CONTROL_FLAG_MASK) !== 0,
    isTransactional: (attributes & TRANSACTIONAL_FLAG_MASK) !== 0,
    timestampType: isLogAppendTime(header) ? 'LogAppendTime' : 'CreateTime',
    deleteHorizonMs: (attributes & DELETE_HORIZON_FLAG_MASK) !== 0 ? header.baseTimestamp : undefined,
  }
}

/** The default {@link RecordBuilder}; a record without headers gets its own (mutable) empty array. */
function buildRecord(offset: number, timestamp: number, key: Buffer | null, value: Buffer | null, headers: RecordHeader[]): Record {
  return { offset, timestamp, key, value, headers: headers === NO_RECORD_HEADERS ? [] : headers }
}

/** Whether the batch's records carry the broker's append time (maxTimestamp) instead of their own. */
function isLogAppendTime(header: BatchHeader): boolean {
  return (header.attributes & TIMESTAMP_TYPE_MASK) !== 0
}

/** Parses `header.recordsCount` records that must fill `data[start..end)` exactly. */
function decodeRecords<R>(data: Buffer, start: number, end: number, header: BatchHeader, build: RecordBuilder<R>): R[] {
  const progress = recordsProgress(data, start, end, header)
  return decodeNextRecords(progress, progress.count, build)
}

/** Where a decode of one batch's records block stands, between {@link decodeNextRecords} calls. */
interface RecordsProgress {
  readonly data: Buffer
  readonly end: number
  readonly header: BatchHeader
  readonly logAppendTime: boolean
  readonly count: number
  /** Records decoded so far. */
  index: number
  /** Offset delta of the last record decoded (-1 before the first). */
  lastOffsetDelta: number
  /** Position of the next record. */
  pos: number
}

function recordsProgress(data: Buffer, start: number, end: number, header: BatchHeader): RecordsProgress {
  const count = header.recordsCount
  // Every record takes at least 7 bytes: refuse counts the bytes cannot hold before allocating.
  if (count > (end - start) / MIN_RECORD_SIZE) {
    throw new CorruptRecordError(`batch declares ${count} records but its ${end - start} record bytes can hold at most ${Math.floor((end - start) / MIN_RECORD_SIZE)}`)
  }
  return { data, end, header, logAppendTime: isLogAppendTime(header), count, index: 0, lastOffsetDelta: -1, pos: start }
}

/**
 * Decodes the next `max` records (fewer when fewer are left) and advances `progress`; after the
 * last record, checks that the records block ends exactly there.
 */
function decodeNextRecords<R>(progress: RecordsProgress, max: number, build: RecordBuilder<R>): R[] {
  const { data, end, header, logAppendTime, count } = progress
  const { baseOffset, baseTimestamp, maxTimestamp } = header
  // A cursor of this call's own, which the compiler can keep in a register (escape analysis)
  // while the varint readers are inlined; one stored in `progress` costs a memory access a field.
  const cursor: ByteCursor = { pos: progress.pos }
  const first = progress.index
  const stop = Math.min(count, first + max)
  const records = new Array<R>(stop - first)
  let offsetDelta = progress.lastOffsetDelta
  for (let i = first; i < stop; i++) {
    if (cursor.pos >= end) throw new CorruptRecordError(`batch declares ${count} records but its bytes end after ${i}`)
    const bodySize = takeVarInt(data, cursor)
    const recordStart = cursor.pos
    const recordEnd = recordStart + bodySize
    if (bodySize < MIN_RECORD_BODY || recordEnd > end) {
      throw new CorruptRecordError(`record ${i} has length ${bodySize}, outside the ${end - recordStart} bytes left in the batch`)
    }
    const attributes = data[cursor.pos++]!
    const timestampDelta = takeVarLong(data, cursor)
    offsetDelta = takeVarInt(data, cursor)
    const key = takeBytes(data, cursor, recordEnd, i, 'key')
    const value = takeBytes(data, cursor, recordEnd, i, 'value')
    const headers = takeHeaders(data, cursor, recordEnd, i)
    if (cursor.pos !== recordEnd) {
      throw new CorruptRecordError(`record ${i}: expected to read ${bodySize} bytes in the record payload, but read ${cursor.pos - recordStart}`)
    }
    records[i - first] = build(baseOffset + offsetDelta, logAppendTime ? maxTimestamp : baseTimestamp + timestampDelta, key, value, headers, attributes)
  }
  progress.index = stop
  progress.lastOffsetDelta = offsetDelta
  progress.pos = cursor.pos
  if (stop === count && cursor.pos !== end) {
    throw new CorruptRecordError(`${end - cursor.pos} bytes remain after the last of ${count} records (incorrect declared batch size)`)
  }
  return records
}

/**
 * Decodes an uncompressed batch whose CRC the reader of its bytes has just checked (a shard's
 * log read does: `PartitionLog.verifyCrcOnRead`, on by default) a slice of records at a time,
 * so that a reader who hands records out in runs keeps only one run's records alive, however
 * large the batch: the in-process consumer's delivery runs. Framing, magic, codec and count are
 * checked when it is made, each record as it is decoded, and that the records fill the batch
 * exactly after the last one; failures are {@link CorruptRecordError}s, a compressed batch is
 * UNSUPPORTED_COMPRESSION_TYPE.
 */
export class CrcCheckedBatchReader<R> {
  readonly #progress: RecordsProgress
  readonly #checked: CheckedBatch
  readonly #build: RecordBuilder<R>

  constructor(buf: Buffer, pos: number, build: RecordBuilder<R>) {
    const checked = checkBatch(buf, pos, false)
    if (checked.compression !== 'none') {
      throw new UnsupportedCompressionTypeError(`CrcCheckedBatchReader takes uncompressed batches, got ${checked.compression}`)
    }
    this.#checked = checked
    this.#build = build
    this.#progress = recordsProgress(buf, pos + RECORD_BATCH_OVERHEAD, checked.end, checked.header)
  }

  /** The batch's header. */
  get header(): BatchHeader {
    return this.#checked.header
  }

  /** Records not decoded yet. */
  get remaining(): number {
    return this.#progress.count - this.#progress.index
  }

  /**
   * The offset after the records decoded so far: the batch's baseOffset + lastOffsetDelta + 1
   * once all are (a compacted batch may end past its last record), otherwise the last
   * decoded record's offset + 1 (the baseOffset before the first).
   */
  get nextOffset(): number {
    const { header, index, count, lastOffsetDelta } = this.#progress
    return index === count ? header.baseOffset + header.lastOffsetDelta + 1 : header.baseOffset + lastOffsetDelta + 1
  }

  /**
   * The next `max` records (fewer when fewer are left; none when all were read, or for a `max`
   * below 1) with the batch's flags.
   */
  read(max: number): DecodedBatch<R> {
    const records = decodeNextRecords(this.#progress, max >= 1 ? Math.floor(max) : 0, this.#build)
    return batchOf(this.#checked, records)
  }
}

/** A varint length (-1 = null) and that many bytes, which must end by `recordEnd`. */
function takeBytes(data: Buffer, cursor: ByteCursor, recordEnd: number, index: number, what: string): Buffer | null {
  const length = takeVarInt(data, cursor)
  if (length === -1) return null
  const from = cursor.pos
  if (length < -1 || length > recordEnd - from) {
    throw new CorruptRecordError(`record ${index}: ${what} length ${length} is invalid for the ${recordEnd - from} bytes left in the record`)
  }
  cursor.pos = from + length
  return data.subarray(from, from + length)
}

function takeHeaders(data: Buffer, cursor: ByteCursor, recordEnd: number, index: number): RecordHeader[] {
  const count = takeVarInt(data, cursor)
  if (count === 0) return NO_RECORD_HEADERS
  // A header takes at least 2 bytes (two one-byte lengths).
  if (count < 0 || count > (recordEnd - cursor.pos) / 2) {
    throw new CorruptRecordError(`record ${index}: invalid number of record headers ${count}`)
  }
  const headers = new Array<RecordHeader>(count)
  for (let h = 0; h < count; h++) {
    const keyLength = takeVarInt(data, cursor)
    const from = cursor.pos
    if (keyLength < 0 || keyLength > recordEnd - from) {
      throw new CorruptRecordError(`record ${index}: header ${h} key length ${keyLength} is invalid for the ${recordEnd - from} bytes left in the record`)
    }
    const key = data.toString('utf8', from, from + keyLength)
    cursor.pos = from + keyLength
    headers[h] = { key, value: takeBytes(data, cursor, recordEnd, index, `header ${h} value`) }
  }
  return headers
}

// ---------------------------------------------------------------------------------------------
// Control records (transaction markers)

/** Control record types (the int16 after the version in a control record's key). */
export const ControlRecordType = { ABORT: 0, COMMIT: 1 } as const

/**
 * The single record of an end-transaction marker batch (encode it with `isControl: true`,
 * `transactional: true` and the producer's id and epoch): key = version 0 (int16) + type
 * (int16), value = version 0 (int16) + coordinatorEpoch (int32), as Kafka's
 * `EndTransactionMarker` writes it.
 */
export function endTxnMarkerRecord(type: 'ABORT' | 'COMMIT', coordinatorEpoch: number, timestamp?: number): RecordInput {
  const key = Buffer.allocUnsafe(4)
  key.writeInt16BE(0, 0)
  key.writeInt16BE(ControlRecordType[type], 2)
  const value = Buffer.allocUnsafe(6)
  value.writeInt16BE(0, 0)
  value.writeInt32BE(coordinatorEpoch, 2)
  return timestamp === undefined ? { key, value } : { key, value, timestamp }
}

/** The control type (0 abort, 1 commit, others reserved) in a control record's key; throws {@link CorruptRecordError} on a short key. */
export function controlRecordTypeOf(key: Buffer | null): number {
  if (key === null || key.length < 4) throw new CorruptRecordError(`control record key of ${key?.length ?? 'null'} bytes; it needs 4 (version, type)`)
  return key.readInt16BE(2)
}
