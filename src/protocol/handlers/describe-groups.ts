/**
 * DescribeGroups (key 15), served v0-v5, through the group coordinator: state, protocol and
 * members (with metadata and assignment bytes for Stable groups). An unknown group is
 * described as Dead with error 0, as Kafka answers these versions.
 */
import { ApiKey } from '../api-keys.js'
import { AUTHORIZED_OPERATIONS_OMITTED } from './metadata.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** DescribeGroups handler. */
export const describeGroupsHandler = defineHandler(ApiKey.DescribeGroups, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'DescribeGroups')
  if (typeof coordinator === 'number') {
    return {
      throttleTimeMs: 0,
      groups: request.groups.map((groupId) => ({
        errorCode: coordinator, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
      })),
    }
  }
  return {
    throttleTimeMs: 0,
    groups: coordinator.describeGroups(request.groups).map((g) => ({
      errorCode: g.errorCode,
      groupId: g.groupId,
      groupState: g.groupState,
      protocolType: g.protocolType,
      protocolData: g.protocolData,
      members: g.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: m.memberMetadata,
        memberAssignment: m.memberAssignment,
      })),
      authorizedOperations: g.authorizedOperations,
    })),
  }
})
