/**
 * JoinGroup (key 11), served v0-v9, through the group coordinator. The request is held until
 * the rebalance's join phase completes (a delayed operation in Kafka's terms), so it may take
 * up to the rebalance timeout; the connection answers later requests after it, in order.
 * Version rules: v0 has no rebalance timeout (the session timeout stands in); v4+ gets
 * MEMBER_ID_REQUIRED on a first join (KIP-394); v9+ may skip the assignment (KIP-814); before
 * v7 the protocol name is not nullable.
 */
import { ApiKey } from '../api-keys.js'
import type { JoinGroupResponse } from '../messages/join-group.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** JoinGroup handler. */
export const joinGroupHandler = defineHandler(ApiKey.JoinGroup, async (request, ctx): Promise<JoinGroupResponse> => {
  const coordinator = await coordinatorOf(ctx, 'JoinGroup')
  const v = ctx.apiVersion
  const r = typeof coordinator === 'number'
    ? { errorCode: coordinator, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId: request.memberId, members: [] }
    : await coordinator.joinGroup({
      groupId: request.groupId,
      memberId: request.memberId,
      groupInstanceId: request.groupInstanceId,
      protocolType: request.protocolType,
      protocols: request.protocols,
      sessionTimeoutMs: request.sessionTimeoutMs,
      rebalanceTimeoutMs: v === 0 ? request.sessionTimeoutMs : request.rebalanceTimeoutMs,
      clientId: ctx.clientId ?? '',
      clientHost: ctx.clientHost,
      requireKnownMemberId: v >= 4,
      supportSkippingAssignment: v >= 9,
      reason: request.reason,
    })
  return {
    throttleTimeMs: 0,
    errorCode: r.errorCode,
    generationId: r.generationId,
    protocolType: r.protocolType,
    protocolName: v < 7 ? (r.protocolName ?? '') : r.protocolName,
    leader: r.leader,
    skipAssignment: r.skipAssignment,
    memberId: r.memberId,
    members: r.members,
  }
})
