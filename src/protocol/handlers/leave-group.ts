/**
 * LeaveGroup (key 13), served v0-v5, through the group coordinator. v0-v2 carry one member id
 * and report its error at the top level; v3+ (KIP-345) batch members, each with its own error.
 */
import { ApiKey } from '../api-keys.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** LeaveGroup handler. */
export const leaveGroupHandler = defineHandler(ApiKey.LeaveGroup, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'LeaveGroup')
  if (typeof coordinator === 'number') return { throttleTimeMs: 0, errorCode: coordinator, members: [] }
  const batched = ctx.apiVersion >= 3
  const members = batched
    ? request.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, reason: m.reason }))
    : [{ memberId: request.memberId, groupInstanceId: null }]
  const r = coordinator.leaveGroup({ groupId: request.groupId, members })
  if (batched) return { throttleTimeMs: 0, errorCode: r.errorCode, members: r.members }
  return { throttleTimeMs: 0, errorCode: r.errorCode !== 0 ? r.errorCode : (r.members[0]?.errorCode ?? 0), members: [] }
})
