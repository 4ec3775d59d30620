/**
 * Produce (key 0), served v3-v9: appends each partition's record batch at its leader.
 *
 * Hot path: `records` is a view of the request frame and goes to the engine as it is (no
 * copy, no re-encoding here); the engine copies it once into the shard's ring. Every
 * partition of an existing topic is handed to the engine synchronously, in request order, so
 * pipelined Produce requests on one connection reach each partition in the order they were
 * sent, which idempotent producers with several requests in flight rely on.
 *
 * Kafka's edge checks: acks must be -1, 0 or 1 (INVALID_REQUIRED_ACKS); this broker must lead
 * the partition (NOT_LEADER_OR_FOLLOWER); v3+ carries exactly one magic-2 batch per partition
 * (INVALID_RECORD, CORRUPT_MESSAGE for a truncated one). A missing topic is created first
 * when `auto.create.topics.enable` is on. Typed engine errors (OUT_OF_ORDER_SEQUENCE_NUMBER,
 * CORRUPT_MESSAGE, RECORD_TOO_LARGE, ...) become the partition's error code. An idempotent
 * retry the shard recognises gets the offsets of the original append.
 *
 * acks=0 gets no response; if a partition failed, the connection is closed instead, the only
 * signal Kafka gives such a producer.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { PartitionProduceData, PartitionProduceResponse } from '../messages/produce.js'
import { BATCH_LENGTH, CURRENT_MAGIC, LOG_OVERHEAD, MAGIC, RECORD_BATCH_OVERHEAD } from '../../records/batch-header.js'
import { defineHandler, NO_RESPONSE, type RequestContext } from './context.js'
import { ensureTopic, partitionErrorCode } from './partition-leader.js'

/** CORRUPT_MESSAGE: the bytes cannot be a record batch. */
const CORRUPT_MESSAGE = 2

/** Produce handler. */
export const produceHandler = defineHandler(ApiKey.Produce, async (request, ctx) => {
  const acks = request.acks
  const topics = request.topicData.map((t): PendingTopic | Promise<PendingTopic> => {
    if (ctx.broker.engine.controller.topics.has(t.name)) return topicResponse(ctx, t.name, t.partitionData, acks)
    return ensureTopic(ctx, t.name).then((errorCode) => errorCode === WireError.NONE
      ? topicResponse(ctx, t.name, t.partitionData, acks)
      : { name: t.name, partitionResponses: t.partitionData.map((p) => failed(p.index, errorCode, null)) })
  })
  const responses = await Promise.all(topics.map(async (t) => {
    const resolved = await t
    return { name: resolved.name, partitionResponses: await Promise.all(resolved.partitionResponses) }
  }))
  if (acks === 0) {
    const failure = responses.flatMap((t) => t.partitionResponses.filter((p) => p.errorCode !== WireError.NONE).map((p) => `${t.name}-${p.index}: error ${p.errorCode}`))
    if (failure.length > 0) ctx.closeConnection(`acks=0 Produce failed (${failure.slice(0, 3).join(', ')})`)
    return NO_RESPONSE
  }
  return { responses, throttleTimeMs: 0 }
})

interface PendingTopic {
  name: string
  partitionResponses: Array<PartitionProduceResponse | Promise<PartitionProduceResponse>>
}

/** Starts every partition's append now (synchronously) and returns their pending results. */
function topicResponse(ctx: RequestContext, topic: string, partitions: PartitionProduceData[], acks: number): PendingTopic {
  return { name: topic, partitionResponses: partitions.map((p) => producePartition(ctx, topic, p, acks)) }
}

function producePartition(ctx: RequestContext, topic: string, p: PartitionProduceData, acks: number): PartitionProduceResponse | Promise<PartitionProduceResponse> {
  if (acks !== 0 && acks !== 1 && acks !== -1) return failed(p.index, WireError.INVALID_REQUIRED_ACKS, `acks must be -1, 0 or 1, got ${acks}`)
  const leaderError = partitionErrorCode(ctx, topic, p.index)
  if (leaderError !== WireError.NONE) return failed(p.index, leaderError, null)
  const records = p.records
  const invalid = recordsError(records)
  if (invalid !== undefined) return failed(p.index, invalid.errorCode, invalid.errorMessage)
  return ctx.broker.engine.produce(topic, p.index, acks, records!).then(
    (r): PartitionProduceResponse => ({
      index: p.index,
      errorCode: WireError.NONE,
      baseOffset: r.baseOffset,
      logAppendTimeMs: r.logAppendTime,
      logStartOffset: r.logStartOffset,
      recordErrors: [],
      errorMessage: null,
    }),
    (err: unknown) => {
      const e = errorResult(err, ctx.broker.logger, `Produce to ${topic}-${p.index}`)
      return failed(p.index, e.errorCode, e.errorMessage)
    },
  )
}

/**
 * Kafka's `ProduceRequest.validateRecords` for v3+: exactly one batch, magic 2. Only the
 * header is looked at here; CRC and record checks happen in the shard.
 */
function recordsError(records: Buffer | null): { errorCode: number; errorMessage: string } | undefined {
  if (records === null || records.length === 0) return { errorCode: WireError.INVALID_RECORD, errorMessage: 'Produce requests with version 3+ must have exactly one record batch per partition, got none' }
  if (records.length < RECORD_BATCH_OVERHEAD) return { errorCode: CORRUPT_MESSAGE, errorMessage: `${records.length} bytes are too few for a record batch` }
  if (records[MAGIC] !== CURRENT_MAGIC) {
    return { errorCode: WireError.INVALID_RECORD, errorMessage: `Produce requests with version 3+ are only allowed to contain record batches with magic version 2, got ${records[MAGIC]}` }
  }
  const size = records.readInt32BE(BATCH_LENGTH) + LOG_OVERHEAD
  if (size > records.length || size < RECORD_BATCH_OVERHEAD) return { errorCode: CORRUPT_MESSAGE, errorMessage: `record batch of ${size} bytes does not match the ${records.length} bytes sent` }
  if (size < records.length) return { errorCode: WireError.INVALID_RECORD, errorMessage: 'Produce requests with version 3+ must have exactly one record batch per partition' }
  return undefined
}

function failed(index: number, errorCode: number, errorMessage: string | null): PartitionProduceResponse {
  return { index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage }
}
