/**
 * OffsetForLeaderEpoch (key 23, KIP-101/KIP-320), served v2-v4: for each partition, the end
 * offset of the requested leader epoch (the start of the next epoch, or the log end for the
 * current one) and the largest epoch at or below it, from the leader's epoch cache. Clients
 * use it to detect log truncation after a leader change. Only the leader answers; a stale
 * or future `current_leader_epoch` gets FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { EpochEndOffset } from '../messages/offset-for-leader-epoch.js'
import { defineHandler } from './context.js'
import { partitionErrorCode } from './partition-leader.js'

/** OffsetForLeaderEpoch handler. */
export const offsetForLeaderEpochHandler = defineHandler(ApiKey.OffsetForLeaderEpoch, async (request, ctx) => ({
  throttleTimeMs: 0,
  topics: await Promise.all(request.topics.map(async (t) => ({
    topic: t.topic,
    partitions: await Promise.all(t.partitions.map(async (p): Promise<EpochEndOffset> => {
      const failed = (errorCode: number): EpochEndOffset => ({ errorCode, partition: p.partition, leaderEpoch: -1, endOffset: -1 })
      const errorCode = partitionErrorCode(ctx, t.topic, p.partition, p.currentLeaderEpoch)
      if (errorCode !== WireError.NONE) return failed(errorCode)
      try {
        const r = await ctx.broker.engine.epochEndOffset(t.topic, p.partition, p.leaderEpoch)
        return { errorCode: WireError.NONE, partition: p.partition, leaderEpoch: r.leaderEpoch, endOffset: r.endOffset }
      } catch (err) {
        return failed(errorResult(err, ctx.broker.logger, `OffsetForLeaderEpoch ${t.topic}-${p.partition}`).errorCode)
      }
    })),
  }))),
}))
