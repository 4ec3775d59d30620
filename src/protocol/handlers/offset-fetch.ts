/**
 * OffsetFetch (key 9), served v1-v8, through the group coordinator: committed offsets (-1 and
 * empty metadata where nothing is committed), for the named partitions or, with a null topic
 * list (v2+), every partition the group committed. v8 (KIP-709) asks for several groups at
 * once. Before v2 there is no top-level error code: a group error goes to every partition.
 * v7+ may require stable offsets (UNSTABLE_OFFSET_COMMIT while a commit is in flight).
 */
import { ApiKey } from '../api-keys.js'
import type { GroupCoordinator } from '../../group/group-coordinator.js'
import type { OffsetFetchResponse as GroupOffsets } from '../../group/coordinator-requests.js'
import type { OffsetFetchResponse } from '../messages/offset-fetch.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

type TopicList = Array<{ name: string; partitionIndexes: number[] }> | null

/** OffsetFetch handler. */
export const offsetFetchHandler = defineHandler(ApiKey.OffsetFetch, async (request, ctx): Promise<OffsetFetchResponse> => {
  const coordinator = await coordinatorOf(ctx, 'OffsetFetch')
  const fetch = (groupId: string, topics: TopicList): GroupOffsets => typeof coordinator === 'number'
    ? { errorCode: coordinator, topics: [] }
    : fetchGroup(coordinator, groupId, topics, request.requireStable)
  if (ctx.apiVersion >= 8) {
    return {
      throttleTimeMs: 0,
      topics: [],
      errorCode: 0,
      groups: request.groups.map((g) => ({ groupId: g.groupId, ...fetch(g.groupId, g.topics) })),
    }
  }
  const r = fetch(request.groupId, request.topics)
  if (ctx.apiVersion < 2 && r.errorCode !== 0) {
    // v0-v1 have no top-level error: every requested partition carries it.
    const topics = (request.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: r.errorCode })),
    }))
    return { throttleTimeMs: 0, topics, errorCode: r.errorCode, groups: [] }
  }
  return { throttleTimeMs: 0, topics: r.topics, errorCode: r.errorCode, groups: [] }
})

function fetchGroup(coordinator: GroupCoordinator, groupId: string, topics: TopicList, requireStable: boolean): GroupOffsets {
  return coordinator.fetchOffsets({ groupId, topics, requireStable })
}
