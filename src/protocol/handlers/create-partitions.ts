/**
 * CreatePartitions (key 37), served v0-v3: raises a topic's partition count. A count at or
 * below the current one is refused with INVALID_PARTITIONS, as Kafka does (partitions are
 * never removed); an unknown topic gets UNKNOWN_TOPIC_OR_PARTITION, a topic listed twice
 * INVALID_REQUEST. Manual assignments are not supported (INVALID_REPLICA_ASSIGNMENT).
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { CreatePartitionsTopicResult } from '../messages/create-partitions.js'
import { defineHandler } from './context.js'

/** CreatePartitions handler. */
export const createPartitionsHandler = defineHandler(ApiKey.CreatePartitions, async (request, ctx) => {
  const counts = new Map<string, number>()
  for (const t of request.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1)
  const results: CreatePartitionsTopicResult[] = []
  for (const t of request.topics) {
    const result = (errorCode: number, errorMessage: string | null): CreatePartitionsTopicResult => ({ name: t.name, errorCode, errorMessage })
    if (counts.get(t.name)! > 1) {
      results.push(result(WireError.INVALID_REQUEST, `Duplicate topic ${t.name} in the request`))
    } else if (t.assignments !== null && t.assignments.length > 0) {
      results.push(result(WireError.INVALID_REPLICA_ASSIGNMENT, 'shardlog places replicas itself: manual replica assignments are not supported'))
    } else {
      try {
        await ctx.broker.engine.controller.createPartitions(t.name, t.count, request.validateOnly)
        results.push(result(WireError.NONE, null))
      } catch (err) {
        const e = errorResult(err, ctx.broker.logger, `CreatePartitions ${t.name}`)
        results.push(result(e.errorCode, e.errorMessage))
      }
    }
  }
  return { throttleTimeMs: 0, results }
})
