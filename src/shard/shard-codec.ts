/**
 * Binary payloads of the hot-path shard ops. Layouts (big-endian):
 *
 * Produce request:  u16 topicLen | topic | i32 partition | i8 acks | u8 flags | i32 timeoutMs | i32 batchesLen | batches
 * Replica append:   u16 topicLen | topic | i32 partition | f64 leaderHighWatermark | i32 batchesLen | batches
 * Replica append result: f64 logEndOffset
 * Produce result:   f64 baseOffset | f64 lastOffset | f64 logAppendTime | f64 logStartOffset | u8 duplicate
 *
 * Fetch request:    i32 maxWaitMs | i32 minBytes | i32 maxBytes | u32 waitToken | u8 isolation | u16 count,
 *                   then per partition: u16 topicLen | topic | i32 partition | f64 offset | i32 partitionMaxBytes
 * Fetch result:     u16 count, then per partition: u16 topicLen | topic | i32 partition | i16 errorCode
 *                   | f64 highWatermark | f64 logStartOffset | f64 logEndOffset | u32 dataLen | data
 *
 * Offsets are f64 (exact JS safe integers); record bytes are the log's own RecordBatch v2
 * bytes, copied once into the ring and never re-encoded.
 */
import { GatherPayload } from './ring.js'

/**
 * Every per-partition layout above starts with the same head, `u16 topicLen | topic | i32
 * partition`: its size, writer and reader.
 */
function partitionHeadBytes(topic: string): number {
  return 2 + Buffer.byteLength(topic) + 4
}

/** Writes the partition head at `at`; returns the position after it. */
function writePartitionHead(buf: Buffer, at: number, topic: string, partition: number): number {
  const len = buf.write(topic, at + 2)
  buf.writeUInt16BE(len, at)
  return buf.writeInt32BE(partition, at + 2 + len)
}

/** What {@link readPartitionHead} read last (one object, reused: these run per partition on the hot path). */
const head = { topic: '', partition: 0 }

/** Reads the partition head at `at` into {@link head}; returns the position after it. */
function readPartitionHead(buf: Buffer, at: number): number {
  const len = buf.readUInt16BE(at)
  head.topic = buf.toString('utf8', at + 2, at + 2 + len)
  head.partition = buf.readInt32BE(at + 2 + len)
  return at + 6 + len
}

/** Topic config overrides by Kafka name. */
export type LogConfigEntries = Record<string, string>

/** A decoded produce request. */
export interface ProduceRequestPayload {
  topic: string
  partition: number
  acks: number
  /** How long acks=all may wait for the ISR (Kafka's produce timeout). */
  timeoutMs: number
  /**
   * The batches were encoded in this process by shardlog's own encoder, which computed their
   * CRCs a moment ago: the shard may skip re-checking them. Never set for bytes from a socket.
   */
  crcVerified?: boolean
  batches: Buffer
}

/** A produce result. */
export interface ProduceResultPayload {
  baseOffset: number
  lastOffset: number
  logAppendTime: number
  logStartOffset: number
  /** True when an idempotent producer's retry was recognised and nothing was appended. */
  duplicate: boolean
}

/** One partition of a fetch request. */
export interface FetchPartitionRequest {
  topic: string
  partition: number
  offset: number
  maxBytes: number
}

/** Which end bound a fetch reads up to: the high watermark (consumers) or the log end (replicas). */
export const FetchIsolation = { HighWatermark: 0, LogEnd: 1 } as const

/** A decoded fetch request. */
export interface FetchRequestPayload {
  maxWaitMs: number
  minBytes: number
  maxBytes: number
  /** Lets the main thread end this long poll early with ShardOp.WakeFetch; 0 = none. */
  waitToken: number
  isolation: number
  /**
   * Answer only the partitions with something to say: records, an error, or a high watermark
   * other than the fetch offset, as Kafka's incremental fetch responses do (KIP-227). A
   * partition left out is caught up: no records, and its high watermark is the offset asked.
   * For the in-process consumer, which asks for every assigned partition on every fetch.
   */
  incremental?: boolean
  partitions: FetchPartitionRequest[]
}

/** Bit of the isolation byte that marks an incremental fetch. */
const kIncrementalFetchBit = 0x80

/** One partition of a fetch result. */
export interface FetchPartitionResult {
  topic: string
  partition: number
  errorCode: number
  highWatermark: number
  logStartOffset: number
  logEndOffset: number
  /** Whole record batches (a view into the response frame). */
  records: Buffer
}

/**
 * The request header in a small buffer and the batches as they are: the ring copies both in
 * place, so the record bytes are copied once on their way to the shard.
 */
export function encodeProduceRequest(req: ProduceRequestPayload): GatherPayload {
  const buf = Buffer.allocUnsafe(partitionHeadBytes(req.topic) + 1 + 1 + 4 + 4)
  let p = writePartitionHead(buf, 0, req.topic, req.partition)
  p = buf.writeInt8(req.acks, p)
  p = buf.writeUInt8(req.crcVerified ? 1 : 0, p)
  p = buf.writeInt32BE(req.timeoutMs, p)
  buf.writeInt32BE(req.batches.length, p)
  return new GatherPayload([buf, req.batches])
}

export function decodeProduceRequest(buf: Buffer): ProduceRequestPayload {
  const p = readPartitionHead(buf, 0)
  const acks = buf.readInt8(p)
  const crcVerified = (buf.readUInt8(p + 1) & 1) === 1
  const timeoutMs = buf.readInt32BE(p + 2)
  const len = buf.readInt32BE(p + 6)
  return { topic: head.topic, partition: head.partition, acks, timeoutMs, crcVerified, batches: buf.subarray(p + 10, p + 10 + len) }
}

/** A follower's append of batches fetched from its leader. */
export interface ReplicaAppendPayload {
  topic: string
  partition: number
  leaderHighWatermark: number
  batches: Buffer
}

/** Header and batches kept apart, as {@link encodeProduceRequest} does. */
export function encodeReplicaAppend(req: ReplicaAppendPayload): GatherPayload {
  const buf = Buffer.allocUnsafe(partitionHeadBytes(req.topic) + 8 + 4)
  let p = writePartitionHead(buf, 0, req.topic, req.partition)
  p = buf.writeDoubleBE(req.leaderHighWatermark, p)
  buf.writeInt32BE(req.batches.length, p)
  return new GatherPayload([buf, req.batches])
}

export function decodeReplicaAppend(buf: Buffer): ReplicaAppendPayload {
  const p = readPartitionHead(buf, 0)
  const leaderHighWatermark = buf.readDoubleBE(p)
  const len = buf.readInt32BE(p + 8)
  return { topic: head.topic, partition: head.partition, leaderHighWatermark, batches: buf.subarray(p + 12, p + 12 + len) }
}

export function encodeProduceResult(r: ProduceResultPayload): Buffer {
  const buf = Buffer.allocUnsafe(33)
  buf.writeDoubleBE(r.baseOffset, 0)
  buf.writeDoubleBE(r.lastOffset, 8)
  buf.writeDoubleBE(r.logAppendTime, 16)
  buf.writeDoubleBE(r.logStartOffset, 24)
  buf.writeUInt8(r.duplicate ? 1 : 0, 32)
  return buf
}

export function decodeProduceResult(buf: Buffer): ProduceResultPayload {
  return {
    baseOffset: buf.readDoubleBE(0),
    lastOffset: buf.readDoubleBE(8),
    logAppendTime: buf.readDoubleBE(16),
    logStartOffset: buf.readDoubleBE(24),
    duplicate: buf.readUInt8(32) === 1,
  }
}

export function encodeFetchRequest(req: FetchRequestPayload): Buffer {
  let size = 17 + 2
  for (const p of req.partitions) size += partitionHeadBytes(p.topic) + 12
  const buf = Buffer.allocUnsafe(size)
  let o = buf.writeInt32BE(req.maxWaitMs, 0)
  o = buf.writeInt32BE(req.minBytes, o)
  o = buf.writeInt32BE(req.maxBytes, o)
  o = buf.writeUInt32BE(req.waitToken, o)
  o = buf.writeUInt8(req.isolation | (req.incremental === true ? kIncrementalFetchBit : 0), o)
  o = buf.writeUInt16BE(req.partitions.length, o)
  for (const p of req.partitions) {
    o = writePartitionHead(buf, o, p.topic, p.partition)
    o = buf.writeDoubleBE(p.offset, o)
    o = buf.writeInt32BE(p.maxBytes, o)
  }
  return buf
}

export function decodeFetchRequest(buf: Buffer): FetchRequestPayload {
  const maxWaitMs = buf.readInt32BE(0)
  const minBytes = buf.readInt32BE(4)
  const maxBytes = buf.readInt32BE(8)
  const waitToken = buf.readUInt32BE(12)
  const isolationByte = buf.readUInt8(16)
  const isolation = isolationByte & ~kIncrementalFetchBit
  const incremental = (isolationByte & kIncrementalFetchBit) !== 0
  const count = buf.readUInt16BE(17)
  let o = 19
  const partitions: FetchPartitionRequest[] = []
  for (let i = 0; i < count; i++) {
    o = readPartitionHead(buf, o)
    partitions.push({ topic: head.topic, partition: head.partition, offset: buf.readDoubleBE(o), maxBytes: buf.readInt32BE(o + 8) })
    o += 12
  }
  return { maxWaitMs, minBytes, maxBytes, waitToken, isolation, incremental, partitions }
}

/**
 * One partition after another: topic, partition, error, offsets, then the records. The records
 * are not copied here: the ring gathers them straight from the buffers the log read them into.
 */
export function encodeFetchResult(results: readonly FetchPartitionResult[]): GatherPayload {
  let headSize = 2
  for (const r of results) headSize += partitionHeadBytes(r.topic) + 2 + 24 + 4
  const heads = Buffer.allocUnsafe(headSize)
  const parts: Uint8Array[] = []
  let h = heads.writeUInt16BE(results.length, 0)
  let partStart = 0
  for (const r of results) {
    h = writePartitionHead(heads, h, r.topic, r.partition)
    h = heads.writeInt16BE(r.errorCode, h)
    h = heads.writeDoubleBE(r.highWatermark, h)
    h = heads.writeDoubleBE(r.logStartOffset, h)
    h = heads.writeDoubleBE(r.logEndOffset, h)
    h = heads.writeUInt32BE(r.records.length, h)
    if (r.records.length === 0) continue
    parts.push(heads.subarray(partStart, h), r.records)
    partStart = h
  }
  if (h > partStart) parts.push(heads.subarray(partStart, h))
  return new GatherPayload(parts)
}

export function decodeFetchResult(buf: Buffer): FetchPartitionResult[] {
  const count = buf.readUInt16BE(0)
  let o = 2
  const out: FetchPartitionResult[] = []
  for (let i = 0; i < count; i++) {
    o = readPartitionHead(buf, o)
    const errorCode = buf.readInt16BE(o)
    const highWatermark = buf.readDoubleBE(o + 2)
    const logStartOffset = buf.readDoubleBE(o + 10)
    const logEndOffset = buf.readDoubleBE(o + 18)
    const dataLen = buf.readUInt32BE(o + 26)
    o += 30
    out.push({ topic: head.topic, partition: head.partition, errorCode, highWatermark, logStartOffset, logEndOffset, records: buf.subarray(o, o + dataLen) })
    o += dataLen
  }
  return out
}

/** Encodes a control message as JSON. */
export function encodeJson(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8')
}

/** Decodes a control message encoded by {@link encodeJson}. */
export function decodeJson<T>(buf: Buffer): T {
  return JSON.parse(buf.toString('utf8')) as T
}
