/**
 * CreateTopics (key 19), served v2-v7. Each topic is created through the controller (or only
 * validated, `validate_only`); -1 partitions or replication factor take the server defaults
 * (`num.partitions`, `default.replication.factor`, KIP-464). Errors are per topic with a
 * message: TOPIC_ALREADY_EXISTS, INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
 * INVALID_REPLICATION_FACTOR, INVALID_CONFIG, and INVALID_REQUEST for a name listed twice.
 * Manual replica assignments are not supported (INVALID_REPLICA_ASSIGNMENT). From v5 the
 * result repeats the partition count, replication factor and every config with its source;
 * from v7 the topic id.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { CreatableTopic, CreatableTopicResult } from '../messages/create-topics.js'
import { ZERO_UUID } from '../reader.js'
import { describeTopicConfigs } from './describe-configs.js'
import { defineHandler, type RequestContext } from './context.js'

/** CreateTopics handler. */
export const createTopicsHandler = defineHandler(ApiKey.CreateTopics, async (request, ctx) => {
  const counts = new Map<string, number>()
  for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
  const results: CreatableTopicResult[] = []
  // One at a time: the controller serialises changes anyway, and errors stay per topic.
  for (const t of request.topics) {
    if (counts.get(t.name)! > 1) {
      results.push(failed(t.name, WireError.INVALID_REQUEST, `Create topic request contains topic ${t.name} more than once.`))
    } else {
      results.push(await createTopic(ctx, t, request.validateOnly))
    }
  }
  return { throttleTimeMs: 0, topics: results }
})

async function createTopic(ctx: RequestContext, t: CreatableTopic, validateOnly: boolean): Promise<CreatableTopicResult> {
  const engine = ctx.broker.engine
  if (t.assignments.length > 0) {
    return failed(t.name, WireError.INVALID_REPLICA_ASSIGNMENT, 'shardlog places replicas itself: manual replica assignments are not supported')
  }
  const configs: Record<string, string> = {}
  for (const c of t.configs) {
    if (c.value === null) return failed(t.name, WireError.INVALID_CONFIG, `Null value not supported for topic config '${c.name}'`)
    configs[c.name] = c.value
  }
  const spec = {
    topic: t.name,
    numPartitions: t.numPartitions === -1 ? engine.config.numPartitions : t.numPartitions,
    replicationFactor: t.replicationFactor === -1 ? engine.config.defaultReplicationFactor : t.replicationFactor,
    configs,
  }
  try {
    let topicId = ZERO_UUID
    if (validateOnly) engine.controller.validateNewTopic(spec)
    else topicId = (await engine.createTopic(spec)).topicId
    return {
      name: t.name,
      topicId,
      errorCode: WireError.NONE,
      errorMessage: null,
      numPartitions: spec.numPartitions,
      replicationFactor: spec.replicationFactor,
      configs: describeTopicConfigs(ctx, configs).map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        configSource: c.configSource,
        isSensitive: c.isSensitive,
      })),
    }
  } catch (err) {
    const e = errorResult(err, ctx.broker.logger, `CreateTopics ${t.name}`)
    return failed(t.name, e.errorCode, e.errorMessage)
  }
}

function failed(name: string, errorCode: number, errorMessage: string): CreatableTopicResult {
  return { name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: null }
}
