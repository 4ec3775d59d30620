/**
 * DeleteRecords (key 21), served v0-v2: moves each partition's log start offset up to the
 * given offset (-1: the high watermark) and answers the new low watermark. An offset above
 * the high watermark gets OFFSET_OUT_OF_RANGE; only the leader answers.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { DeleteRecordsPartitionResult } from '../messages/delete-records.js'
import { defineHandler } from './context.js'
import { partitionErrorCode } from './partition-leader.js'

/** DeleteRecords handler. */
export const deleteRecordsHandler = defineHandler(ApiKey.DeleteRecords, async (request, ctx) => ({
  throttleTimeMs: 0,
  topics: await Promise.all(request.topics.map(async (t) => ({
    name: t.name,
    partitions: await Promise.all(t.partitions.map(async (p): Promise<DeleteRecordsPartitionResult> => {
      const errorCode = partitionErrorCode(ctx, t.name, p.partitionIndex)
      if (errorCode !== WireError.NONE) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode }
      if (p.offset < -1) return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: WireError.OFFSET_OUT_OF_RANGE }
      try {
        const lowWatermark = await ctx.broker.engine.deleteRecords(t.name, p.partitionIndex, p.offset)
        return { partitionIndex: p.partitionIndex, lowWatermark, errorCode: WireError.NONE }
      } catch (err) {
        return { partitionIndex: p.partitionIndex, lowWatermark: -1, errorCode: errorResult(err, ctx.broker.logger, `DeleteRecords ${t.name}-${p.partitionIndex}`).errorCode }
      }
    })),
  }))),
}))
