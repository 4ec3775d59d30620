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
  partitions: FetchPartitionRequest[]
}

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
  const topicLen = Buffer.byteLength(req.topic)
  const head = Buffer.allocUnsafe(2 + topicLen + 4 + 1 + 1 + 4 + 4)
  let p = head.writeUInt16BE(topicLen, 0)
  p += head.write(req.topic, p)
  p = head.writeInt32BE(req.partition, p)
  p = head.writeInt8(req.acks, p)
  p = head.writeUInt8(req.crcVerified ? 1 : 0, p)
  p = head.writeInt32BE(req.timeoutMs, p)
  head.writeInt32BE(req.batches.length, p)
  return new GatherPayload([head, req.batches])
}

export function decodeProduceRequest(buf: Buffer): ProduceRequestPayload {
  const topicLen = buf.readUInt16BE(0)
  let p = 2
  const topic = buf.toString('utf8', p, p + topicLen)
  p += topicLen
  const partition = buf.readInt32BE(p)
  const acks = buf.readInt8(p + 4)
  const crcVerified = (buf.readUInt8(p + 5) & 1) === 1
  const timeoutMs = buf.readInt32BE(p + 6)
  const len = buf.readInt32BE(p + 10)
  p += 14
  return { topic, partition, acks, timeoutMs, crcVerified, batches: buf.subarray(p, p + len) }
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
  const topicLen = Buffer.byteLength(req.topic)
  const head = Buffer.allocUnsafe(2 + topicLen + 4 + 8 + 4)
  let p = head.writeUInt16BE(topicLen, 0)
  p += head.write(req.topic, p)
  p = head.writeInt32BE(req.partition, p)
  p = head.writeDoubleBE(req.leaderHighWatermark, p)
  head.writeInt32BE(req.batches.length, p)
  return new GatherPayload([head, req.batches])
}

export function decodeReplicaAppend(buf: Buffer): ReplicaAppendPayload {
  const topicLen = buf.readUInt16BE(0)
  let p = 2
  const topic = buf.toString('utf8', p, p + topicLen)
  p += topicLen
  const partition = buf.readInt32BE(p)
  const leaderHighWatermark = buf.readDoubleBE(p + 4)
  const len = buf.readInt32BE(p + 12)
  p += 16
  return { topic, partition, leaderHighWatermark, batches: buf.subarray(p, p + len) }
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
  for (const p of req.partitions) size += 2 + Buffer.byteLength(p.topic) + 16
  const buf = Buffer.allocUnsafe(size)
  let o = buf.writeInt32BE(req.maxWaitMs, 0)
  o = buf.writeInt32BE(req.minBytes, o)
  o = buf.writeInt32BE(req.maxBytes, o)
  o = buf.writeUInt32BE(req.waitToken, o)
  o = buf.writeUInt8(req.isolation, o)
  o = buf.writeUInt16BE(req.partitions.length, o)
  for (const p of req.partitions) {
    const len = buf.write(p.topic, o + 2)
    buf.writeUInt16BE(len, o)
    o += 2 + len
    o = buf.writeInt32BE(p.partition, o)
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
  const isolation = buf.readUInt8(16)
  const count = buf.readUInt16BE(17)
  let o = 19
  const partitions: FetchPartitionRequest[] = []
  for (let i = 0; i < count; i++) {
    const len = buf.readUInt16BE(o)
    const topic = buf.toString('utf8', o + 2, o + 2 + len)
    o += 2 + len
    partitions.push({ topic, partition: buf.readInt32BE(o), offset: buf.readDoubleBE(o + 4), maxBytes: buf.readInt32BE(o + 12) })
    o += 16
  }
  return { maxWaitMs, minBytes, maxBytes, waitToken, isolation, partitions }
}

/**
 * One partition after another: topic, partition, error, offsets, then the records. The records
 * are not copied here: the ring gathers them straight from the buffers the log read them into.
 */
export function encodeFetchResult(results: readonly FetchPartitionResult[]): GatherPayload {
  let headSize = 2
  for (const r of results) headSize += 2 + Buffer.byteLength(r.topic) + 4 + 2 + 24 + 4
  const heads = Buffer.allocUnsafe(headSize)
  const parts: Uint8Array[] = []
  let h = heads.writeUInt16BE(results.length, 0)
  let partStart = 0
  for (const r of results) {
    const len = heads.write(r.topic, h + 2)
    heads.writeUInt16BE(len, h)
    h += 2 + len
    h = heads.writeInt32BE(r.partition, h)
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
    const len = buf.readUInt16BE(o)
    const topic = buf.toString('utf8', o + 2, o + 2 + len)
    o += 2 + len
    const partition = buf.readInt32BE(o)
    const errorCode = buf.readInt16BE(o + 4)
    const highWatermark = buf.readDoubleBE(o + 6)
    const logStartOffset = buf.readDoubleBE(o + 14)
    const logEndOffset = buf.readDoubleBE(o + 22)
    const dataLen = buf.readUInt32BE(o + 30)
    o += 34
    out.push({ topic, partition, errorCode, highWatermark, logStartOffset, logEndOffset, records: buf.subarray(o, o + dataLen) })
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
