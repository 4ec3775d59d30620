/**
 * IncrementalAlterConfigs (key 44, KIP-339), served v0-v1: changes only the named topic
 * configs: SET (0) a value, DELETE (1) an override (back to the default), APPEND (2) /
 * SUBTRACT (3) items of a list config (`cleanup.policy`), starting from its effective value.
 * A name given twice in one resource gets INVALID_REQUEST, APPEND/SUBTRACT on a non-list
 * config INVALID_CONFIG, as in Kafka. BROKER and other resource types get INVALID_REQUEST.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { AlterableConfig, AlterConfigsResourceResponse } from '../messages/incremental-alter-configs.js'
import { InvalidConfigError, InvalidRequestError } from '../../errors.js'
import { topicConfigDef } from '../../storage/log-config.js'
import { assertTopicResource, describeTopicConfigs } from './describe-configs.js'
import { defineHandler, type RequestContext } from './context.js'

/** Kafka's AlterConfigOp.OpType. */
const OpType = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const

/** IncrementalAlterConfigs handler. */
export const incrementalAlterConfigsHandler = defineHandler(ApiKey.IncrementalAlterConfigs, async (request, ctx) => {
  const responses: AlterConfigsResourceResponse[] = []
  for (const r of request.resources) {
    const result = (errorCode: number, errorMessage: string | null): AlterConfigsResourceResponse =>
      ({ errorCode, errorMessage, resourceType: r.resourceType, resourceName: r.resourceName })
    try {
      assertTopicResource(r.resourceType)
      const change = toChange(ctx, r.resourceName, r.configs)
      await ctx.broker.engine.controller.alterConfigs(r.resourceName, { ...change, replace: false }, request.validateOnly)
      responses.push(result(WireError.NONE, null))
    } catch (err) {
      const e = errorResult(err, ctx.broker.logger, `IncrementalAlterConfigs ${r.resourceName}`)
      responses.push(result(e.errorCode, e.errorMessage))
    }
  }
  return { throttleTimeMs: 0, responses }
})

function toChange(ctx: RequestContext, topic: string, configs: AlterableConfig[]): { set: Record<string, string>; remove: string[] } {
  const seen = new Set<string>()
  const set: Record<string, string> = {}
  const remove: string[] = []
  let current: Map<string, string> | undefined
  const effective = (name: string): string => {
    const overrides = Object.fromEntries(ctx.broker.engine.controller.requireTopic(topic).configs)
    current ??= new Map(describeTopicConfigs(ctx, overrides).map((e) => [e.name, e.value]))
    return current.get(name) ?? ''
  }
  for (const c of configs) {
    if (seen.has(c.name)) throw new InvalidRequestError(`Error due to duplicate config keys: ${c.name}`)
    seen.add(c.name)
    switch (c.configOperation) {
      case OpType.SET:
        if (c.value === null) throw new InvalidConfigError(`Null value not supported for: ${c.name}`)
        set[c.name] = c.value
        break
      case OpType.DELETE:
        remove.push(c.name)
        break
      case OpType.APPEND:
      case OpType.SUBTRACT: {
        if (topicConfigDef(c.name)?.type !== 'list') throw new InvalidConfigError(`Config value append is not allowed for config key: ${c.name}`)
        const items = effective(c.name).split(',').map((s) => s.trim()).filter((s) => s.length > 0)
        const given = (c.value ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)
        const next = c.configOperation === OpType.APPEND
          ? [...items, ...given.filter((g) => !items.includes(g))]
          : items.filter((i) => !given.includes(i))
        set[c.name] = next.join(',')
        break
      }
      default:
        throw new InvalidRequestError(`Unknown config operation ${c.configOperation} for ${c.name}`)
    }
  }
  return { set, remove }
}
