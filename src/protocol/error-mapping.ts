/**
 * The edge where thrown errors become Kafka error codes on the wire (Kafka's
 * `Errors.forException`): a typed shardlog error carries its own `errorCode`; anything else
 * is a bug or an unexpected failure, answered UNKNOWN_SERVER_ERROR (-1) and logged so that it
 * is not lost.
 */
import { isShardlogError, kafkaErrorCodeOf } from '../errors.js'
import type { ProtocolLogger } from './handlers/context.js'

/** Kafka error codes the wire handlers set directly (names as in Kafka's `Errors`). */
export const WireError = {
  NONE: 0,
  UNKNOWN_SERVER_ERROR: -1,
  OFFSET_OUT_OF_RANGE: 1,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  NOT_LEADER_OR_FOLLOWER: 6,
  COORDINATOR_NOT_AVAILABLE: 15,
  INVALID_TOPIC_EXCEPTION: 17,
  INVALID_REQUIRED_ACKS: 21,
  UNSUPPORTED_VERSION: 35,
  INVALID_REPLICA_ASSIGNMENT: 39,
  INVALID_CONFIG: 40,
  INVALID_REQUEST: 42,
  FETCH_SESSION_ID_NOT_FOUND: 70,
  FENCED_LEADER_EPOCH: 74,
  UNKNOWN_LEADER_EPOCH: 75,
  INVALID_RECORD: 87,
  UNKNOWN_TOPIC_ID: 100,
} as const

/** An error code with the message that goes with it (for the response fields that carry one). */
export interface ErrorResult {
  errorCode: number
  errorMessage: string
}

/**
 * The Kafka error code and message for a thrown value. Errors that are not shardlog errors
 * are logged through `logger` with `context` (they point at a bug, not at bad input).
 */
export function errorResult(err: unknown, logger: ProtocolLogger, context: string): ErrorResult {
  if (isShardlogError(err)) return { errorCode: err.errorCode, errorMessage: err.message }
  const message = err instanceof Error ? err.message : String(err)
  logger.error(`${context}: unexpected error: ${err instanceof Error && err.stack ? err.stack : message}`)
  return { errorCode: kafkaErrorCodeOf(err), errorMessage: message }
}
