/**
 * Fetch (key 1), served v4-v13: reads from the partitions this broker leads, with Kafka's long
 * polling (`max_wait_ms`/`min_bytes`, done by the engine across shards).
 *
 * Hot path: the record bytes the shard read from the log are written to the socket as they
 * are: the Writer appends them by reference and the connection sends the chunk list with one
 * writev.
 *
 * - Fetch sessions (KIP-227) are not kept: every response carries session id 0, which tells
 *   the client to keep sending full fetches; an incremental fetch of a session id we never
 *   gave out gets FETCH_SESSION_ID_NOT_FOUND.
 * - read_committed: without transactions the last stable offset is the high watermark and
 *   there are no aborted transactions.
 * - v13+ names topics by id (UNKNOWN_TOPIC_ID when unknown).
 * - A partition this broker does not lead answers NOT_LEADER_OR_FOLLOWER; a stale or future
 *   `current_leader_epoch` (v9+) FENCED_LEADER_EPOCH / UNKNOWN_LEADER_EPOCH. When any
 *   partition has such an error the fetch answers at once instead of waiting, as Kafka does.
 * - A replica fetch (`replica_id` >= 0) reads up to the log end instead of the high watermark.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { FetchableTopicResponse, PartitionData } from '../messages/fetch.js'
import { FetchIsolation, type FetchPartitionRequest } from '../../shard/shard-codec.js'
import { defineHandler } from './context.js'
import { partitionErrorCode, topicById } from './partition-leader.js'

/** Kafka's IsolationLevel.READ_COMMITTED. */
const READ_COMMITTED = 1
const EMPTY = Buffer.alloc(0)

/** Fetch handler. */
export const fetchHandler = defineHandler(ApiKey.Fetch, async (request, ctx) => {
  if (request.sessionId !== 0) {
    return { throttleTimeMs: 0, errorCode: WireError.FETCH_SESSION_ID_NOT_FOUND, sessionId: 0, responses: [] }
  }
  const byIds = ctx.apiVersion >= 13
  const abortedTransactions = request.isolationLevel === READ_COMMITTED ? [] : null
  const responses: FetchableTopicResponse[] = []
  /** The engine's request list, and where each of its results goes. */
  const reads: FetchPartitionRequest[] = []
  const targets: PartitionData[] = []
  let anyError = false
  for (const t of request.topics) {
    const name = byIds ? topicById(ctx, t.topicId)?.name : t.topic
    const partitions: PartitionData[] = []
    responses.push({ topic: name ?? t.topic, topicId: t.topicId, partitions })
    for (const p of t.partitions) {
      const errorCode = name === undefined
        ? WireError.UNKNOWN_TOPIC_ID
        : partitionErrorCode(ctx, name, p.partition, p.currentLeaderEpoch)
      const data: PartitionData = {
        partitionIndex: p.partition,
        errorCode,
        highWatermark: -1,
        lastStableOffset: -1,
        logStartOffset: -1,
        abortedTransactions,
        preferredReadReplica: -1,
        records: EMPTY,
      }
      partitions.push(data)
      if (errorCode !== WireError.NONE) {
        anyError = true
        continue
      }
      reads.push({ topic: name!, partition: p.partition, offset: p.fetchOffset, maxBytes: Math.max(0, p.partitionMaxBytes) })
      targets.push(data)
    }
  }
  if (reads.length > 0) {
    try {
      const results = await ctx.broker.engine.fetch({
        maxWaitMs: anyError ? 0 : Math.max(0, request.maxWaitMs),
        minBytes: request.minBytes,
        maxBytes: Math.max(0, request.maxBytes),
        isolation: request.replicaId >= 0 ? FetchIsolation.LogEnd : FetchIsolation.HighWatermark,
      }, reads)
      results.forEach((r, i) => {
        const data = targets[i]!
        data.errorCode = r.errorCode
        data.highWatermark = r.highWatermark
        data.lastStableOffset = r.highWatermark
        data.logStartOffset = r.logStartOffset
        data.records = r.records
      })
    } catch (err) {
      const { errorCode } = errorResult(err, ctx.broker.logger, 'Fetch')
      for (const data of targets) data.errorCode = errorCode
    }
  }
  return { throttleTimeMs: 0, errorCode: WireError.NONE, sessionId: 0, responses }
})
