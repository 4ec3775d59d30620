/**
 * The one error hierarchy of shardlog. Every error carries Kafka's error code
 * (`errorCode`), Kafka's constant name (`code`, e.g. `OFFSET_OUT_OF_RANGE`) and
 * whether a client may retry. Identify errors by `code`, not `instanceof`: errors that
 * cross a worker boundary are rebuilt from `{ code, message }` by {@link errorFromWire}.
 */
import { kafkaErrorByCode, kafkaErrorByName } from './kafka-error-codes.js'

/** Options accepted by every shardlog error. */
export interface ShardlogErrorOptions {
  cause?: unknown
}

/** Base class: a Kafka error code with a human message. */
export class ShardlogError extends Error {
  /** Kafka's constant name for the error, e.g. `NOT_LEADER_OR_FOLLOWER`. */
  readonly code: string
  /** Kafka's numeric error code sent on the wire. */
  readonly errorCode: number
  /** Whether the same request may succeed if retried (Kafka's RetriableException). */
  readonly retriable: boolean

  constructor(errorCode: number, message?: string, options?: ShardlogErrorOptions) {
    const info = kafkaErrorByCode(errorCode)
    super(message ?? info.message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = info.name
    this.errorCode = errorCode
    this.retriable = info.retriable
  }
}

/* eslint-disable max-classes-per-file -- one class per Kafka code, as Kafka's Errors does */

/** OFFSET_OUT_OF_RANGE (1): the offset is below the log start or above the log end. */
export class OffsetOutOfRangeError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(1, message, options) }
}
/** CORRUPT_MESSAGE (2): a batch failed its CRC, length or format checks. */
export class CorruptRecordError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(2, message, options) }
}
/** UNKNOWN_TOPIC_OR_PARTITION (3). */
export class UnknownTopicOrPartitionError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(3, message, options) }
}
/** LEADER_NOT_AVAILABLE (5): no leader right now (election in progress or all replicas down). */
export class LeaderNotAvailableError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(5, message, options) }
}
/** NOT_LEADER_OR_FOLLOWER (6): the request went to a broker that no longer leads the partition. */
export class NotLeaderOrFollowerError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(6, message, options) }
}
/** REQUEST_TIMED_OUT (7). */
export class RequestTimedOutError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(7, message, options) }
}
/** BROKER_NOT_AVAILABLE (8): the broker (or the whole cluster) is stopped. */
export class BrokerNotAvailableError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(8, message, options) }
}
/** MESSAGE_TOO_LARGE (10): a batch exceeds `max.message.bytes`. */
export class RecordTooLargeError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(10, message, options) }
}
/** COORDINATOR_NOT_AVAILABLE (15). */
export class CoordinatorNotAvailableError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(15, message, options) }
}
/** NOT_COORDINATOR (16). */
export class NotCoordinatorError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(16, message, options) }
}
/** INVALID_TOPIC_EXCEPTION (17): the name breaks Kafka's rules (`[a-zA-Z0-9._-]`, 1..249, not `.`/`..`). */
export class InvalidTopicError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(17, message, options) }
}
/** RECORD_LIST_TOO_LARGE (18): a batch larger than `segment.bytes`. */
export class RecordListTooLargeError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(18, message, options) }
}
/** NOT_ENOUGH_REPLICAS (19): fewer in-sync replicas than `min.insync.replicas`. */
export class NotEnoughReplicasError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(19, message, options) }
}
/** NOT_ENOUGH_REPLICAS_AFTER_APPEND (20). */
export class NotEnoughReplicasAfterAppendError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(20, message, options) }
}
/** INVALID_REQUIRED_ACKS (21): acks other than -1, 0 or 1. */
export class InvalidRequiredAcksError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(21, message, options) }
}
/** ILLEGAL_GENERATION (22). */
export class IllegalGenerationError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(22, message, options) }
}
/** INCONSISTENT_GROUP_PROTOCOL (23). */
export class InconsistentGroupProtocolError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(23, message, options) }
}
/** INVALID_GROUP_ID (24). */
export class InvalidGroupIdError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(24, message, options) }
}
/** UNKNOWN_MEMBER_ID (25). */
export class UnknownMemberIdError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(25, message, options) }
}
/** INVALID_SESSION_TIMEOUT (26). */
export class InvalidSessionTimeoutError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(26, message, options) }
}
/** REBALANCE_IN_PROGRESS (27). */
export class RebalanceInProgressError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(27, message, options) }
}
/** UNSUPPORTED_VERSION (35). */
export class UnsupportedVersionError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(35, message, options) }
}
/** TOPIC_ALREADY_EXISTS (36). */
export class TopicAlreadyExistsError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(36, message, options) }
}
/** INVALID_PARTITIONS (37): partition count below 1, or not an increase. */
export class InvalidPartitionsError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(37, message, options) }
}
/** INVALID_REPLICATION_FACTOR (38): below 1 or above the number of live brokers. */
export class InvalidReplicationFactorError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(38, message, options) }
}
/** INVALID_CONFIG (40): an unknown config name or a value of the wrong type or range. */
export class InvalidConfigError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(40, message, options) }
}
/** INVALID_REQUEST (42): a malformed request. */
export class InvalidRequestError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(42, message, options) }
}
/** OUT_OF_ORDER_SEQUENCE_NUMBER (45): an idempotent producer skipped a sequence number. */
export class OutOfOrderSequenceError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(45, message, options) }
}
/** DUPLICATE_SEQUENCE_NUMBER (46). */
export class DuplicateSequenceError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(46, message, options) }
}
/** INVALID_PRODUCER_EPOCH (47): a fenced (older) producer epoch. */
export class InvalidProducerEpochError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(47, message, options) }
}
/** KAFKA_STORAGE_ERROR (56): the disk, or the shard thread that owns the replica, failed; retriable. */
export class KafkaStorageError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(56, message, options) }
}
/** UNKNOWN_PRODUCER_ID (59). */
export class UnknownProducerIdError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(59, message, options) }
}
/** NON_EMPTY_GROUP (68): the group still has members. */
export class NonEmptyGroupError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(68, message, options) }
}
/** GROUP_ID_NOT_FOUND (69). */
export class GroupIdNotFoundError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(69, message, options) }
}
/** FENCED_LEADER_EPOCH (74). */
export class FencedLeaderEpochError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(74, message, options) }
}
/** UNKNOWN_LEADER_EPOCH (75). */
export class UnknownLeaderEpochError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(75, message, options) }
}
/** MEMBER_ID_REQUIRED (79): KIP-394, the first JoinGroup returns a member id to rejoin with. */
export class MemberIdRequiredError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(79, message, options) }
}
/** FENCED_INSTANCE_ID (82): another member holds this `group.instance.id`. */
export class FencedInstanceIdError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(82, message, options) }
}
/** UNKNOWN_SERVER_ERROR (-1): a bug or an unexpected failure; the message says what. */
export class UnknownServerError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(-1, message, options) }
}

type ErrorCtor = new (message?: string, options?: ShardlogErrorOptions) => ShardlogError

const classes: readonly ErrorCtor[] = [
  OffsetOutOfRangeError, CorruptRecordError, UnknownTopicOrPartitionError, LeaderNotAvailableError,
  NotLeaderOrFollowerError, RequestTimedOutError, BrokerNotAvailableError, RecordTooLargeError,
  CoordinatorNotAvailableError, NotCoordinatorError, InvalidTopicError, RecordListTooLargeError,
  NotEnoughReplicasError, NotEnoughReplicasAfterAppendError, InvalidRequiredAcksError,
  IllegalGenerationError, InconsistentGroupProtocolError, InvalidGroupIdError, UnknownMemberIdError,
  InvalidSessionTimeoutError, RebalanceInProgressError, UnsupportedVersionError, TopicAlreadyExistsError,
  InvalidPartitionsError, InvalidReplicationFactorError, InvalidConfigError, InvalidRequestError,
  OutOfOrderSequenceError, DuplicateSequenceError, InvalidProducerEpochError, KafkaStorageError,
  UnknownProducerIdError, NonEmptyGroupError, GroupIdNotFoundError, FencedLeaderEpochError,
  UnknownLeaderEpochError, MemberIdRequiredError, FencedInstanceIdError, UnknownServerError,
]
const classByErrorCode = new Map<number, ErrorCtor>(classes.map((C) => [new C().errorCode, C]))

/**
 * Builds the typed error for a Kafka error code, e.g. one read from a response or one that
 * crossed a thread boundary. Codes without a class of their own become a plain
 * {@link ShardlogError} that still carries the code, name and retriable flag.
 */
export function errorFromCode(errorCode: number, message?: string): ShardlogError {
  const C = classByErrorCode.get(errorCode)
  return C ? new C(message) : new ShardlogError(errorCode, message)
}

/** The form in which an error crosses a thread or process boundary. */
export interface WireError {
  errorCode: number
  message: string
}

/** Flattens any thrown value to `{ errorCode, message }`; non-shardlog errors become UNKNOWN_SERVER_ERROR. */
export function errorToWire(err: unknown): WireError {
  if (isShardlogError(err)) return { errorCode: err.errorCode, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  return { errorCode: -1, message }
}

/** Rebuilds a typed error from its wire form. */
export function errorFromWire(wire: WireError): ShardlogError {
  return errorFromCode(wire.errorCode, wire.message)
}

/**
 * True for shardlog errors, including ones rebuilt on another thread. Checks the shape, not
 * the prototype, for the reason given at the top of this file.
 */
export function isShardlogError(err: unknown): err is ShardlogError {
  return typeof err === 'object' && err !== null && typeof (err as ShardlogError).errorCode === 'number' &&
    typeof (err as ShardlogError).code === 'string' && kafkaErrorByName((err as ShardlogError).code) !== undefined
}

/** Kafka's error code for any thrown value (UNKNOWN_SERVER_ERROR for foreign errors). */
export function kafkaErrorCodeOf(err: unknown): number {
  return isShardlogError(err) ? err.errorCode : -1
}

/** UNSUPPORTED_COMPRESSION_TYPE (76): a codec this process cannot run (no native binding, or zstd asked for synchronously). */
export class UnsupportedCompressionTypeError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(76, message, options) }
}
/** INVALID_RECORD (87): a record the encoder or broker rejects (bad timestamp, offsets out of order). */
export class InvalidRecordError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(87, message, options) }
}
classByErrorCode.set(76, UnsupportedCompressionTypeError)
classByErrorCode.set(87, InvalidRecordError)
/** NETWORK_EXCEPTION (13): the connection closed or broke before a response arrived; retriable. */
export class NetworkError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(13, message, options) }
}
classByErrorCode.set(13, NetworkError)
/** OFFSET_METADATA_TOO_LARGE (12): an offset commit's metadata is longer than `offset.metadata.max.bytes`. */
export class OffsetMetadataTooLargeError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(12, message, options) }
}
/** COORDINATOR_LOAD_IN_PROGRESS (14): the group coordinator is still replaying `__consumer_offsets`; retriable. */
export class CoordinatorLoadInProgressError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(14, message, options) }
}
/** GROUP_MAX_SIZE_REACHED (81): the group already has `group.max.size` members. */
export class GroupMaxSizeReachedError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(81, message, options) }
}
/** GROUP_SUBSCRIBED_TO_TOPIC (86): OffsetDelete on a topic an active member subscribes to. */
export class GroupSubscribedToTopicError extends ShardlogError {
  constructor(message?: string, options?: ShardlogErrorOptions) { super(86, message, options) }
}
classByErrorCode.set(12, OffsetMetadataTooLargeError)
classByErrorCode.set(14, CoordinatorLoadInProgressError)
classByErrorCode.set(81, GroupMaxSizeReachedError)
classByErrorCode.set(86, GroupSubscribedToTopicError)
