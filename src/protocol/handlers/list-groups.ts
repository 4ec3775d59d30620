/**
 * ListGroups (key 16), served v0-v4, through the group coordinator: every group with its
 * protocol type and (v4+) state, optionally filtered by state (KIP-518).
 */
import { ApiKey } from '../api-keys.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** ListGroups handler. */
export const listGroupsHandler = defineHandler(ApiKey.ListGroups, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'ListGroups')
  if (typeof coordinator === 'number') return { throttleTimeMs: 0, errorCode: coordinator, groups: [] }
  const states = request.statesFilter.length > 0 ? request.statesFilter : undefined
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    groups: coordinator.listGroups(states).map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, groupState: g.groupState, groupType: 'classic' })),
  }
})
