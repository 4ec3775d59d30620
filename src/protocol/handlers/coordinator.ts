/**
 * Access to the group coordinator for the group API handlers. The coordinator starts on first
 * use (it creates and replays `__consumer_offsets`); while that fails, group requests get
 * COORDINATOR_NOT_AVAILABLE, which clients retry.
 */
import type { GroupCoordinator } from '../../group/group-coordinator.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { RequestContext } from './context.js'

/** The coordinator, or the error code to answer when it cannot be started. */
export async function coordinatorOf(ctx: RequestContext, api: string): Promise<GroupCoordinator | number> {
  try {
    return await ctx.broker.groups()
  } catch (err) {
    const { errorCode } = errorResult(err, ctx.broker.logger, `${api}: starting the group coordinator`)
    return errorCode === WireError.UNKNOWN_SERVER_ERROR ? WireError.COORDINATOR_NOT_AVAILABLE : errorCode
  }
}
