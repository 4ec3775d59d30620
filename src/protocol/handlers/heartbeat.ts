/**
 * Heartbeat (key 12), served v0-v4, through the group coordinator: keeps a member's session
 * alive; REBALANCE_IN_PROGRESS tells it to rejoin.
 */
import { ApiKey } from '../api-keys.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** Heartbeat handler. */
export const heartbeatHandler = defineHandler(ApiKey.Heartbeat, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'Heartbeat')
  if (typeof coordinator === 'number') return { throttleTimeMs: 0, errorCode: coordinator }
  const r = coordinator.heartbeat({
    groupId: request.groupId,
    generationId: request.generationId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
  })
  return { throttleTimeMs: 0, errorCode: r.errorCode }
})
