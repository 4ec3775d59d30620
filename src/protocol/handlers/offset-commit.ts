/**
 * OffsetCommit (key 8), served v2-v8, through the group coordinator, which writes the offsets
 * to `__consumer_offsets` before answering. Members commit with their generation; generation
 * -1 with an empty member id commits for a group without members (admin tools, manual
 * assignment). v2-v4 may carry an explicit retention time. Errors are per partition.
 */
import { ApiKey } from '../api-keys.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** OffsetCommit handler. */
export const offsetCommitHandler = defineHandler(ApiKey.OffsetCommit, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'OffsetCommit')
  if (typeof coordinator === 'number') {
    return {
      throttleTimeMs: 0,
      topics: request.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: coordinator })) })),
    }
  }
  const r = await coordinator.commitOffsets({
    groupId: request.groupId,
    generationId: request.generationIdOrMemberEpoch,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    retentionTimeMs: ctx.apiVersion <= 4 ? request.retentionTimeMs : -1,
    topics: request.topics.map((t) => ({
      name: t.name,
      partitions: t.partitions.map((p) => ({
        partitionIndex: p.partitionIndex,
        committedOffset: p.committedOffset,
        committedLeaderEpoch: p.committedLeaderEpoch,
        committedMetadata: p.committedMetadata,
      })),
    })),
  })
  return { throttleTimeMs: 0, topics: r.topics }
})
