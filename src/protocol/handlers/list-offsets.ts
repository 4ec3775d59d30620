/**
 * ListOffsets (key 2), served v1-v7: per partition, the earliest offset (timestamp -2, the log
 * start), the latest (-1: the high watermark, which is also the last stable offset without
 * transactions), or the first offset whose timestamp is at or after the one given (offset and
 * timestamp -1 when there is none), or from v7 the record with the largest timestamp
 * (MAX_TIMESTAMP, -3, KIP-734; earlier versions get UNSUPPORTED_VERSION for it, as Kafka
 * answers). Only the leader answers (NOT_LEADER_OR_FOLLOWER).
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { ListOffsetsPartitionResponse } from '../messages/list-offsets.js'
import { defineHandler } from './context.js'
import { partitionErrorCode } from './partition-leader.js'

/** ListOffsetsRequest.MAX_TIMESTAMP. */
const MAX_TIMESTAMP = -3

/** ListOffsets handler. */
export const listOffsetsHandler = defineHandler(ApiKey.ListOffsets, async (request, ctx) => ({
  throttleTimeMs: 0,
  topics: await Promise.all(request.topics.map(async (t) => ({
    name: t.name,
    partitions: await Promise.all(t.partitions.map(async (p): Promise<ListOffsetsPartitionResponse> => {
      const answer = (errorCode: number, offset = -1, timestamp = -1, leaderEpoch = -1): ListOffsetsPartitionResponse =>
        // The leader epoch is on the wire from v4 only.
        ({ partitionIndex: p.partitionIndex, errorCode, oldStyleOffsets: [], timestamp, offset, leaderEpoch: ctx.apiVersion >= 4 ? leaderEpoch : -1 })
      const errorCode = partitionErrorCode(ctx, t.name, p.partitionIndex, p.currentLeaderEpoch)
      if (errorCode !== WireError.NONE) return answer(errorCode)
      if ((p.timestamp === MAX_TIMESTAMP && ctx.apiVersion < 7) || p.timestamp < MAX_TIMESTAMP) return answer(WireError.UNSUPPORTED_VERSION)
      try {
        const r = await ctx.broker.engine.listOffset(t.name, p.partitionIndex, p.timestamp)
        return answer(WireError.NONE, r.offset, r.timestamp, r.leaderEpoch)
      } catch (err) {
        return answer(errorResult(err, ctx.broker.logger, `ListOffsets ${t.name}-${p.partitionIndex}`).errorCode)
      }
    })),
  }))),
}))
