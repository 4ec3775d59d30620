/**
 * OffsetDelete (key 47, KIP-496), served v0, through the group coordinator: removes committed
 * offsets of a group; a group with members keeps those of topics it subscribes to
 * (GROUP_SUBSCRIBED_TO_TOPIC).
 */
import { ApiKey } from '../api-keys.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** OffsetDelete handler. */
export const offsetDeleteHandler = defineHandler(ApiKey.OffsetDelete, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'OffsetDelete')
  if (typeof coordinator === 'number') return { errorCode: coordinator, throttleTimeMs: 0, topics: [] }
  const r = await coordinator.deleteOffsets({ groupId: request.groupId, topics: request.topics })
  return { errorCode: r.errorCode, throttleTimeMs: 0, topics: r.topics }
})
