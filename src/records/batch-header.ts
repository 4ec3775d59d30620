/**
 * The fixed 61-byte header of a Kafka RecordBatch v2 (magic 2):
 *
 * ```
 * off size field                 CRC covers?
 *   0   8  baseOffset            no   (assigned by the leader in place)
 *   8   4  batchLength           no   (bytes after this field: whole batch = batchLength + 12)
 *  12   4  partitionLeaderEpoch  no   (set by the leader in place)
 *  16   1  magic (= 2)           no
 *  17   4  crc (CRC-32C of bytes 21..end)
 *  21   2  attributes            yes  (bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control, 6 delete horizon)
 *  23   4  lastOffsetDelta       yes
 *  27   8  baseTimestamp         yes
 *  35   8  maxTimestamp          yes
 *  43   8  producerId            yes
 *  51   2  producerEpoch         yes
 *  53   4  baseSequence          yes
 *  57   4  recordsCount          yes
 *  61      records (compressed as one block when the codec is not none)
 * ```
 *
 * Offsets and timestamps are int64 on the wire and JS numbers here: both stay far below
 * 2^53 in practice, and numbers keep the hot path free of BigInt allocation.
 */
import { crc32c } from './crc32c.js'

export const BASE_OFFSET = 0
export const BATCH_LENGTH = 8
export const PARTITION_LEADER_EPOCH = 12
export const MAGIC = 16
export const CRC = 17
export const ATTRIBUTES = 21
export const LAST_OFFSET_DELTA = 23
export const BASE_TIMESTAMP = 27
export const MAX_TIMESTAMP = 35
export const PRODUCER_ID = 43
export const PRODUCER_EPOCH = 51
export const BASE_SEQUENCE = 53
export const RECORDS_COUNT = 57
/** Size of the batch header; records start here. */
export const RECORD_BATCH_OVERHEAD = 61
/** baseOffset + batchLength: the part of the header not counted by batchLength. */
export const LOG_OVERHEAD = 12
/** The only magic shardlog stores. */
export const CURRENT_MAGIC = 2

export const COMPRESSION_CODEC_MASK = 0x07
export const TIMESTAMP_TYPE_MASK = 0x08
export const TRANSACTIONAL_FLAG_MASK = 0x10
export const CONTROL_FLAG_MASK = 0x20
export const DELETE_HORIZON_FLAG_MASK = 0x40

/** The header fields of one batch, as read from its bytes. */
export interface BatchHeader {
  baseOffset: number
  batchLength: number
  partitionLeaderEpoch: number
  magic: number
  crc: number
  attributes: number
  lastOffsetDelta: number
  baseTimestamp: number
  maxTimestamp: number
  producerId: number
  producerEpoch: number
  baseSequence: number
  recordsCount: number
}

/** Reads a signed int64 at `pos` as a JS number. */
export function readInt64(buf: Buffer, pos: number): number {
  const hi = buf.readInt32BE(pos)
  const lo = buf.readUInt32BE(pos + 4)
  return hi * 0x1_0000_0000 + lo
}

/** Writes a JS integer as a signed int64 at `pos` (the value must be a safe integer). */
export function writeInt64(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / 0x1_0000_0000)
  const lo = value - hi * 0x1_0000_0000
  buf.writeInt32BE(hi, pos)
  buf.writeUInt32BE(lo, pos + 4)
}

/** Reads the 61-byte header of the batch at `pos`. The caller checks that the bytes are there. */
export function readBatchHeader(buf: Buffer, pos = 0): BatchHeader {
  return {
    baseOffset: readInt64(buf, pos + BASE_OFFSET),
    batchLength: buf.readInt32BE(pos + BATCH_LENGTH),
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH),
    magic: buf.readInt8(pos + MAGIC),
    crc: buf.readUInt32BE(pos + CRC),
    attributes: buf.readInt16BE(pos + ATTRIBUTES),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA),
    baseTimestamp: readInt64(buf, pos + BASE_TIMESTAMP),
    maxTimestamp: readInt64(buf, pos + MAX_TIMESTAMP),
    producerId: readInt64(buf, pos + PRODUCER_ID),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE),
    recordsCount: buf.readInt32BE(pos + RECORDS_COUNT),
  }
}

/** Total size in bytes of the batch at `pos` (batchLength + 12). */
export function batchSizeAt(buf: Buffer, pos = 0): number {
  return buf.readInt32BE(pos + BATCH_LENGTH) + LOG_OVERHEAD
}

/** True when the stored CRC of the batch at `pos` (of `size` bytes) matches its contents. */
export function isBatchCrcValid(buf: Buffer, pos: number, size: number): boolean {
  return crc32c(buf.subarray(pos + ATTRIBUTES, pos + size)) === buf.readUInt32BE(pos + CRC)
}

/** Computes and stores the CRC of the batch at `pos` (after a field it covers was changed). */
export function writeBatchCrc(buf: Buffer, pos: number, size: number): void {
  buf.writeUInt32BE(crc32c(buf.subarray(pos + ATTRIBUTES, pos + size)), pos + CRC)
}

/** Compression codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd) from the attributes. */
export function codecOf(attributes: number): number {
  return attributes & COMPRESSION_CODEC_MASK
}

/**
 * Kafka's `DefaultRecordBatch.incrementSequence`: the sequence number `increment` after
 * `sequence`, wrapping from Int32.MaxValue to 0 as idempotent producers' sequences do.
 */
export function incrementSequence(sequence: number, increment: number): number {
  if (sequence > 0x7fffffff - increment) return increment - (0x7fffffff - sequence) - 1
  return sequence + increment
}
