/**
 * Checks shared by the partition APIs (Produce, Fetch, ListOffsets, DeleteRecords,
 * OffsetForLeaderEpoch): does the topic exist, does this broker lead the partition, is the
 * client's leader epoch current. A client that gets NOT_LEADER_OR_FOLLOWER or an epoch error
 * refreshes its metadata and goes to the right broker, as with Kafka.
 */
import type { TopicInfo } from '../../cluster/topic-table.js'
import { errorResult, WireError } from '../error-mapping.js'
import { kafkaErrorCodeOf } from '../../errors.js'
import { validateTopicName } from '../../storage/file-names.js'
import type { RequestContext } from './context.js'

/**
 * 0 when this broker leads `topic`-`partition` and `currentLeaderEpoch` (-1 = not checked,
 * KIP-320) matches; otherwise the Kafka error code: UNKNOWN_TOPIC_OR_PARTITION,
 * LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH (client behind) or
 * UNKNOWN_LEADER_EPOCH (client ahead).
 */
export function partitionErrorCode(ctx: RequestContext, topic: string, partition: number, currentLeaderEpoch = -1): number {
  const engine = ctx.broker.engine
  const info = engine.controller.topics.get(topic)?.partitions[partition]
  if (info === undefined) return WireError.UNKNOWN_TOPIC_OR_PARTITION
  let leaderId: number
  try {
    leaderId = engine.leaderOf(topic, partition).id
  } catch (err) {
    return kafkaErrorCodeOf(err)
  }
  if (leaderId !== ctx.broker.brokerId) return WireError.NOT_LEADER_OR_FOLLOWER
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch !== info.leaderEpoch) {
    return currentLeaderEpoch < info.leaderEpoch ? WireError.FENCED_LEADER_EPOCH : WireError.UNKNOWN_LEADER_EPOCH
  }
  return WireError.NONE
}

/** The topic with Kafka topic id `topicId` (22 base64url characters), or undefined. */
export function topicById(ctx: RequestContext, topicId: string): TopicInfo | undefined {
  for (const t of ctx.broker.engine.controller.topics.all()) if (t.topicId === topicId) return t
  return undefined
}

/**
 * Makes sure `topic` exists, creating it with the server defaults when
 * `auto.create.topics.enable` is on (and `allowed`, Metadata's allowAutoTopicCreation).
 * Resolves 0, or the error code to answer: UNKNOWN_TOPIC_OR_PARTITION when it does not exist
 * and may not be created, INVALID_TOPIC_EXCEPTION for an illegal name, ...
 */
export async function ensureTopic(ctx: RequestContext, topic: string, allowed = true): Promise<number> {
  const engine = ctx.broker.engine
  if (engine.controller.topics.has(topic)) return WireError.NONE
  try {
    validateTopicName(topic)
  } catch (err) {
    return kafkaErrorCodeOf(err)
  }
  if (!allowed || !engine.config.autoCreateTopicsEnable) return WireError.UNKNOWN_TOPIC_OR_PARTITION
  try {
    await engine.autoCreate(topic)
    return WireError.NONE
  } catch (err) {
    return errorResult(err, ctx.broker.logger, `auto-creating topic ${topic}`).errorCode
  }
}
