/**
 * AlterConfigs (key 33), served v0-v2: replaces a topic's config overrides with the given set
 * (configs not named go back to their defaults, AlterConfigs' "replace" semantics), or only
 * validates them (`validate_only`). Unknown names and bad values get INVALID_CONFIG, unknown
 * topics UNKNOWN_TOPIC_OR_PARTITION. Broker configs are static here (server.properties), so
 * BROKER resources, like other types, get INVALID_REQUEST.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { AlterConfigsResourceResponse } from '../messages/alter-configs.js'
import { assertTopicResource } from './describe-configs.js'
import { defineHandler } from './context.js'

/** AlterConfigs handler. */
export const alterConfigsHandler = defineHandler(ApiKey.AlterConfigs, async (request, ctx) => {
  const responses: AlterConfigsResourceResponse[] = []
  for (const r of request.resources) {
    const result = (errorCode: number, errorMessage: string | null): AlterConfigsResourceResponse =>
      ({ errorCode, errorMessage, resourceType: r.resourceType, resourceName: r.resourceName })
    try {
      assertTopicResource(r.resourceType)
      const set: Record<string, string> = {}
      const remove: string[] = []
      for (const c of r.configs) {
        if (c.value === null) remove.push(c.name)
        else set[c.name] = c.value
      }
      await ctx.broker.engine.controller.alterConfigs(r.resourceName, { set, remove, replace: true }, request.validateOnly)
      responses.push(result(WireError.NONE, null))
    } catch (err) {
      const e = errorResult(err, ctx.broker.logger, `AlterConfigs ${r.resourceName}`)
      responses.push(result(e.errorCode, e.errorMessage))
    }
  }
  return { throttleTimeMs: 0, responses }
})
