/**
 * FindCoordinator (key 10), served v0-v4 (v4 batches keys, KIP-699). The cluster runs one
 * group coordinator, reachable through every broker; the answer names the broker leading the
 * group's `__consumer_offsets` partition (Kafka's choice), or the lowest live broker when that
 * one has no listener. Asking starts the coordinator (and creates `__consumer_offsets`) on
 * first use. Transaction coordinators (key type 1) are not served yet: INVALID_REQUEST.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { Coordinator } from '../messages/find-coordinator.js'
import { OFFSETS_TOPIC } from '../../cluster/group-service.js'
import { defineHandler, type RequestContext } from './context.js'

/** Kafka's CoordinatorType.GROUP. */
const GROUP_KEY_TYPE = 0

/** FindCoordinator handler. */
export const findCoordinatorHandler = defineHandler(ApiKey.FindCoordinator, async (request, ctx) => {
  const keys = ctx.apiVersion >= 4 ? request.coordinatorKeys : [request.key]
  const coordinators = await Promise.all(keys.map((key) => findCoordinator(ctx, key, request.keyType)))
  if (ctx.apiVersion >= 4) {
    // v4 answers per key only; the top-level fields are not on the wire and keep their defaults.
    return { throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 0, host: '', port: 0, coordinators }
  }
  const c = coordinators[0]!
  return { throttleTimeMs: 0, errorCode: c.errorCode, errorMessage: c.errorMessage, nodeId: c.nodeId, host: c.host, port: c.port, coordinators: [] }
})

async function findCoordinator(ctx: RequestContext, key: string, keyType: number): Promise<Coordinator> {
  const failed = (errorCode: number, errorMessage: string): Coordinator => ({ key, nodeId: -1, host: '', port: -1, errorCode, errorMessage })
  if (keyType !== GROUP_KEY_TYPE) return failed(WireError.INVALID_REQUEST, `Coordinator key type ${keyType} is not served: shardlog has no transaction coordinator yet`)
  try {
    const coordinator = await ctx.broker.groups()
    const engine = ctx.broker.engine
    const leader = engine.controller.topics.get(OFFSETS_TOPIC)?.partitions[coordinator.partitionFor(key)]?.leader
    const live = new Set(engine.brokers.filter((b) => !b.isStopped).map((b) => b.id))
    const endpoints = ctx.broker.endpoints().filter((e) => live.has(e.brokerId))
    const endpoint = endpoints.find((e) => e.brokerId === leader) ?? [...endpoints].sort((a, b) => a.brokerId - b.brokerId)[0]
    if (endpoint === undefined) return failed(WireError.COORDINATOR_NOT_AVAILABLE, 'No broker is reachable')
    return { key, nodeId: endpoint.brokerId, host: endpoint.host, port: endpoint.port, errorCode: WireError.NONE, errorMessage: null }
  } catch (err) {
    const e = errorResult(err, ctx.broker.logger, `FindCoordinator ${key}`)
    return failed(e.errorCode, e.errorMessage)
  }
}
