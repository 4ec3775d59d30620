/**
 * SyncGroup (key 14), served v0-v5, through the group coordinator: the leader hands in every
 * member's assignment, each member gets its own; followers wait for the leader. v5+ checks the
 * protocol type and name (INCONSISTENT_GROUP_PROTOCOL).
 */
import { ApiKey } from '../api-keys.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

const EMPTY = Buffer.alloc(0)

/** SyncGroup handler. */
export const syncGroupHandler = defineHandler(ApiKey.SyncGroup, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'SyncGroup')
  const r = typeof coordinator === 'number'
    ? { errorCode: coordinator, protocolType: null, protocolName: null, assignment: EMPTY }
    : await coordinator.syncGroup({
      groupId: request.groupId,
      generationId: request.generationId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      protocolType: ctx.apiVersion >= 5 ? request.protocolType : null,
      protocolName: ctx.apiVersion >= 5 ? request.protocolName : null,
      assignments: request.assignments,
    })
  return { throttleTimeMs: 0, errorCode: r.errorCode, protocolType: r.protocolType, protocolName: r.protocolName, assignment: r.assignment }
})
