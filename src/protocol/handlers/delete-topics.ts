/**
 * DeleteTopics (key 20), served v1-v6: deletes topics and their data, named by name (v1-v5)
 * or by name or id (v6). UNKNOWN_TOPIC_OR_PARTITION / UNKNOWN_TOPIC_ID for unknown topics;
 * internal topics (`__consumer_offsets`) cannot be deleted (INVALID_REQUEST).
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { DeletableTopicResult } from '../messages/delete-topics.js'
import { ZERO_UUID } from '../reader.js'
import { defineHandler, type RequestContext } from './context.js'
import { topicById } from './partition-leader.js'

/** DeleteTopics handler. */
export const deleteTopicsHandler = defineHandler(ApiKey.DeleteTopics, async (request, ctx) => {
  const wanted = ctx.apiVersion >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }))
  const responses: DeletableTopicResult[] = []
  for (const t of wanted) responses.push(await deleteTopic(ctx, t.name, t.topicId))
  return { throttleTimeMs: 0, responses }
})

async function deleteTopic(ctx: RequestContext, requestedName: string | null, requestedId: string): Promise<DeletableTopicResult> {
  const topics = ctx.broker.engine.controller.topics
  const info = requestedName !== null ? topics.get(requestedName) : topicById(ctx, requestedId)
  const result = (errorCode: number, errorMessage: string | null): DeletableTopicResult =>
    ({ name: info?.name ?? requestedName, topicId: info?.topicId ?? requestedId, errorCode, errorMessage })
  if (info === undefined) {
    return requestedName !== null
      ? result(WireError.UNKNOWN_TOPIC_OR_PARTITION, `Topic '${requestedName}' does not exist`)
      : result(WireError.UNKNOWN_TOPIC_ID, `Topic id ${requestedId} does not exist`)
  }
  if (info.internal) return result(WireError.INVALID_REQUEST, `Internal topic '${info.name}' cannot be deleted`)
  try {
    await ctx.broker.engine.controller.deleteTopic(info.name)
    return result(WireError.NONE, null)
  } catch (err) {
    const e = errorResult(err, ctx.broker.logger, `DeleteTopics ${info.name}`)
    return result(e.errorCode, e.errorMessage)
  }
}
