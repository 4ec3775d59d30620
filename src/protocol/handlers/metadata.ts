/**
 * Metadata (key 3), served v0-v12: live brokers with their listener addresses, the cluster
 * id, the controller, and for each topic its id (v10+), partitions, leaders, leader epochs,
 * replicas and ISR. A missing topic named in the request is created with the server defaults
 * when `auto.create.topics.enable` is on and the client allows it (allowAutoTopicCreation,
 * always true before v4), as Kafka does. Topics can be named by id from v10 (UNKNOWN_TOPIC_ID
 * when unknown). A partition whose leader broker is down has leader -1 and
 * LEADER_NOT_AVAILABLE.
 */
import { ApiKey } from '../api-keys.js'
import { WireError } from '../error-mapping.js'
import type { MetadataRequestTopic, MetadataResponseTopic } from '../messages/metadata.js'
import { ZERO_UUID } from '../reader.js'
import type { TopicInfo } from '../../cluster/topic-table.js'
import { defineHandler, type RequestContext } from './context.js'
import { ensureTopic, topicById } from './partition-leader.js'

/** Kafka's "authorized operations not requested/available" value (Integer.MIN_VALUE). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2_147_483_648

/** Metadata handler. */
export const metadataHandler = defineHandler(ApiKey.Metadata, async (request, ctx) => {
  const engine = ctx.broker.engine
  const liveIds = new Set(engine.brokers.filter((b) => !b.isStopped).map((b) => b.id))
  const endpoints = ctx.broker.endpoints().filter((e) => liveIds.has(e.brokerId))
  const reachable = new Set(endpoints.map((e) => e.brokerId))
  // v0: an empty list means every topic; v1+: null means every topic, empty means none.
  const everyTopic = request.topics === null || (ctx.apiVersion === 0 && request.topics.length === 0)
  const topics = everyTopic
    ? [...engine.controller.topics.all()].map((t) => describeTopic(t, reachable))
    : await Promise.all(request.topics!.map((t) => requestedTopic(ctx, t, request.allowAutoTopicCreation, reachable)))
  return {
    throttleTimeMs: 0,
    brokers: endpoints.map((e) => ({ nodeId: e.brokerId, host: e.host, port: e.port, rack: null })),
    clusterId: ctx.broker.clusterId,
    controllerId: endpoints.length === 0 ? -1 : Math.min(...endpoints.map((e) => e.brokerId)),
    topics,
    clusterAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  }
})

async function requestedTopic(ctx: RequestContext, t: MetadataRequestTopic, allowAutoCreate: boolean, reachable: ReadonlySet<number>): Promise<MetadataResponseTopic> {
  if (t.name === null) {
    const byId = topicById(ctx, t.topicId)
    return byId === undefined ? errorTopic(WireError.UNKNOWN_TOPIC_ID, ctx.apiVersion >= 12 ? null : '', t.topicId) : describeTopic(byId, reachable)
  }
  const errorCode = await ensureTopic(ctx, t.name, allowAutoCreate)
  const info = ctx.broker.engine.controller.topics.get(t.name)
  if (errorCode !== WireError.NONE || info === undefined) return errorTopic(errorCode || WireError.UNKNOWN_TOPIC_OR_PARTITION, t.name, ZERO_UUID)
  return describeTopic(info, reachable)
}

function errorTopic(errorCode: number, name: string | null, topicId: string): MetadataResponseTopic {
  return { errorCode, name, topicId, isInternal: false, partitions: [], topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED }
}

function describeTopic(t: TopicInfo, reachable: ReadonlySet<number>): MetadataResponseTopic {
  return {
    errorCode: WireError.NONE,
    name: t.name,
    topicId: t.topicId,
    isInternal: t.internal,
    partitions: t.partitions.map((p) => {
      const online = reachable.has(p.leader)
      return {
        errorCode: online ? WireError.NONE : WireError.LEADER_NOT_AVAILABLE,
        partitionIndex: p.partition,
        leaderId: online ? p.leader : -1,
        leaderEpoch: p.leaderEpoch,
        replicaNodes: [...p.replicas],
        isrNodes: p.isr.filter((b) => reachable.has(b)),
        offlineReplicas: p.replicas.filter((b) => !reachable.has(b)),
      }
    }),
    topicAuthorizedOperations: AUTHORIZED_OPERATIONS_OMITTED,
  }
}
