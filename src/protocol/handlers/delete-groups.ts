/**
 * DeleteGroups (key 42), served v0-v2, through the group coordinator: deletes empty groups and
 * their offsets. NON_EMPTY_GROUP for a group with members, GROUP_ID_NOT_FOUND for an unknown one.
 */
import { ApiKey } from '../api-keys.js'
import { coordinatorOf } from './coordinator.js'
import { defineHandler } from './context.js'

/** DeleteGroups handler. */
export const deleteGroupsHandler = defineHandler(ApiKey.DeleteGroups, async (request, ctx) => {
  const coordinator = await coordinatorOf(ctx, 'DeleteGroups')
  const results = typeof coordinator === 'number'
    ? request.groupsNames.map((groupId) => ({ groupId, errorCode: coordinator }))
    : await coordinator.deleteGroups(request.groupsNames)
  return { throttleTimeMs: 0, results }
})
