/**
 * Kafka's protocol error table (the subset shardlog produces or understands), after
 * Apache Kafka's `org.apache.kafka.common.protocol.Errors`: numeric code, Kafka's
 * constant name, whether a client may retry, and the default message.
 */
export interface KafkaErrorInfo {
  readonly code: number
  readonly name: string
  readonly retriable: boolean
  readonly message: string
}

const table: readonly KafkaErrorInfo[] = [
  { code: -1, name: 'UNKNOWN_SERVER_ERROR', retriable: false, message: 'The server experienced an unexpected error when processing the request.' },
  { code: 0, name: 'NONE', retriable: false, message: 'No error.' },
  { code: 1, name: 'OFFSET_OUT_OF_RANGE', retriable: false, message: 'The requested offset is not within the range of offsets maintained by the server.' },
  { code: 2, name: 'CORRUPT_MESSAGE', retriable: true, message: 'This message has failed its CRC checksum, exceeds the valid size, has a null key for a compacted topic, or is otherwise corrupt.' },
  { code: 3, name: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true, message: 'This server does not host this topic-partition.' },
  { code: 4, name: 'INVALID_FETCH_SIZE', retriable: false, message: 'The requested fetch size is invalid.' },
  { code: 5, name: 'LEADER_NOT_AVAILABLE', retriable: true, message: 'There is no leader for this topic-partition as we are in the middle of a leadership election.' },
  { code: 6, name: 'NOT_LEADER_OR_FOLLOWER', retriable: true, message: 'For requests intended only for the leader, this error indicates that the broker is not the current leader.' },
  { code: 7, name: 'REQUEST_TIMED_OUT', retriable: true, message: 'The request timed out.' },
  { code: 8, name: 'BROKER_NOT_AVAILABLE', retriable: false, message: 'The broker is not available.' },
  { code: 9, name: 'REPLICA_NOT_AVAILABLE', retriable: true, message: 'The replica is not available for the requested topic-partition.' },
  { code: 10, name: 'MESSAGE_TOO_LARGE', retriable: false, message: 'The request included a message larger than the max message size the server will accept.' },
  { code: 12, name: 'OFFSET_METADATA_TOO_LARGE', retriable: false, message: 'The metadata field of the offset request was too large.' },
  { code: 13, name: 'NETWORK_EXCEPTION', retriable: true, message: 'The server disconnected before a response was received.' },
  { code: 14, name: 'COORDINATOR_LOAD_IN_PROGRESS', retriable: true, message: 'The coordinator is loading and hence can\'t process requests.' },
  { code: 15, name: 'COORDINATOR_NOT_AVAILABLE', retriable: true, message: 'The coordinator is not available.' },
  { code: 16, name: 'NOT_COORDINATOR', retriable: true, message: 'This is not the correct coordinator.' },
  { code: 17, name: 'INVALID_TOPIC_EXCEPTION', retriable: false, message: 'The request attempted to perform an operation on an invalid topic.' },
  { code: 18, name: 'RECORD_LIST_TOO_LARGE', retriable: false, message: 'The request included message batch larger than the configured segment size on the server.' },
  { code: 19, name: 'NOT_ENOUGH_REPLICAS', retriable: true, message: 'Messages are rejected since there are fewer in-sync replicas than required.' },
  { code: 20, name: 'NOT_ENOUGH_REPLICAS_AFTER_APPEND', retriable: true, message: 'Messages are written to the log, but to fewer in-sync replicas than required.' },
  { code: 21, name: 'INVALID_REQUIRED_ACKS', retriable: false, message: 'Produce request specified an invalid value for required acks.' },
  { code: 22, name: 'ILLEGAL_GENERATION', retriable: false, message: 'Specified group generation id is not valid.' },
  { code: 23, name: 'INCONSISTENT_GROUP_PROTOCOL', retriable: false, message: 'The group member\'s supported protocols are incompatible with those of existing members or first group member tried to join with empty protocol type or empty protocol list.' },
  { code: 24, name: 'INVALID_GROUP_ID', retriable: false, message: 'The configured groupId is invalid.' },
  { code: 25, name: 'UNKNOWN_MEMBER_ID', retriable: false, message: 'The coordinator is not aware of this member.' },
  { code: 26, name: 'INVALID_SESSION_TIMEOUT', retriable: false, message: 'The session timeout is not within the range allowed by the broker (as configured by group.min.session.timeout.ms and group.max.session.timeout.ms).' },
  { code: 27, name: 'REBALANCE_IN_PROGRESS', retriable: false, message: 'The group is rebalancing, so a rejoin is needed.' },
  { code: 28, name: 'INVALID_COMMIT_OFFSET_SIZE', retriable: false, message: 'The committing offset data size is not valid.' },
  { code: 29, name: 'TOPIC_AUTHORIZATION_FAILED', retriable: false, message: 'Topic authorization failed.' },
  { code: 30, name: 'GROUP_AUTHORIZATION_FAILED', retriable: false, message: 'Group authorization failed.' },
  { code: 33, name: 'UNSUPPORTED_SASL_MECHANISM', retriable: false, message: 'The broker does not support the requested SASL mechanism.' },
  { code: 35, name: 'UNSUPPORTED_VERSION', retriable: false, message: 'The version of API is not supported.' },
  { code: 36, name: 'TOPIC_ALREADY_EXISTS', retriable: false, message: 'Topic with this name already exists.' },
  { code: 37, name: 'INVALID_PARTITIONS', retriable: false, message: 'Number of partitions is below 1.' },
  { code: 38, name: 'INVALID_REPLICATION_FACTOR', retriable: false, message: 'Replication factor is below 1 or larger than the number of available brokers.' },
  { code: 39, name: 'INVALID_REPLICA_ASSIGNMENT', retriable: false, message: 'Replica assignment is invalid.' },
  { code: 40, name: 'INVALID_CONFIG', retriable: false, message: 'Configuration is invalid.' },
  { code: 41, name: 'NOT_CONTROLLER', retriable: true, message: 'This is not the correct controller for this cluster.' },
  { code: 42, name: 'INVALID_REQUEST', retriable: false, message: 'This most likely occurs because of a request being malformed by the client library or the message was sent to an incompatible broker.' },
  { code: 43, name: 'UNSUPPORTED_FOR_MESSAGE_FORMAT', retriable: false, message: 'The message format version on the broker does not support the request.' },
  { code: 44, name: 'POLICY_VIOLATION', retriable: false, message: 'Request parameters do not satisfy the configured policy.' },
  { code: 45, name: 'OUT_OF_ORDER_SEQUENCE_NUMBER', retriable: false, message: 'The broker received an out of order sequence number.' },
  { code: 46, name: 'DUPLICATE_SEQUENCE_NUMBER', retriable: false, message: 'The broker received a duplicate sequence number.' },
  { code: 47, name: 'INVALID_PRODUCER_EPOCH', retriable: false, message: 'Producer attempted to produce with an old epoch.' },
  { code: 48, name: 'INVALID_TXN_STATE', retriable: false, message: 'The producer attempted a transactional operation in an invalid state.' },
  { code: 49, name: 'INVALID_PRODUCER_ID_MAPPING', retriable: false, message: 'The producer attempted to use a producer id which is not currently assigned to its transactional id.' },
  { code: 56, name: 'KAFKA_STORAGE_ERROR', retriable: true, message: 'Disk error when trying to access log file on the disk.' },
  { code: 58, name: 'SASL_AUTHENTICATION_FAILED', retriable: false, message: 'SASL Authentication failed.' },
  { code: 59, name: 'UNKNOWN_PRODUCER_ID', retriable: false, message: 'This exception is raised by the broker if it could not locate the producer metadata associated with the producerId in question.' },
  { code: 60, name: 'REASSIGNMENT_IN_PROGRESS', retriable: false, message: 'A partition reassignment is in progress.' },
  { code: 68, name: 'NON_EMPTY_GROUP', retriable: false, message: 'The group is not empty.' },
  { code: 69, name: 'GROUP_ID_NOT_FOUND', retriable: false, message: 'The group id does not exist.' },
  { code: 72, name: 'LISTENER_NOT_FOUND', retriable: true, message: 'There is no listener on the leader broker that matches the listener on which metadata request was processed.' },
  { code: 73, name: 'TOPIC_DELETION_DISABLED', retriable: false, message: 'Topic deletion is disabled.' },
  { code: 74, name: 'FENCED_LEADER_EPOCH', retriable: true, message: 'The leader epoch in the request is older than the epoch on the broker.' },
  { code: 75, name: 'UNKNOWN_LEADER_EPOCH', retriable: true, message: 'The leader epoch in the request is newer than the epoch on the broker.' },
  { code: 76, name: 'UNSUPPORTED_COMPRESSION_TYPE', retriable: false, message: 'The requesting client does not support the compression type of given partition.' },
  { code: 78, name: 'OFFSET_NOT_AVAILABLE', retriable: true, message: 'The leader high watermark has not caught up from a recent leader election so the offsets cannot be guaranteed to be monotonically increasing.' },
  { code: 79, name: 'MEMBER_ID_REQUIRED', retriable: false, message: 'The group member needs to have a valid member id before actually entering a consumer group.' },
  { code: 80, name: 'PREFERRED_LEADER_NOT_AVAILABLE', retriable: true, message: 'The preferred leader was not available.' },
  { code: 81, name: 'GROUP_MAX_SIZE_REACHED', retriable: false, message: 'The consumer group has reached its max size.' },
  { code: 82, name: 'FENCED_INSTANCE_ID', retriable: false, message: 'The broker rejected this static consumer since another consumer with the same group.instance.id has registered with a different member.id.' },
  { code: 83, name: 'ELIGIBLE_LEADERS_NOT_AVAILABLE', retriable: true, message: 'Eligible topic partition leaders are not available.' },
  { code: 84, name: 'ELECTION_NOT_NEEDED', retriable: true, message: 'Leader election not needed for topic partition.' },
  { code: 86, name: 'GROUP_SUBSCRIBED_TO_TOPIC', retriable: false, message: 'The consumer group is actively subscribed to the topic.' },
  { code: 87, name: 'INVALID_RECORD', retriable: false, message: 'This record has failed the validation on broker and hence will be rejected.' },
  { code: 88, name: 'UNSTABLE_OFFSET_COMMIT', retriable: true, message: 'There are unstable offsets that need to be cleared.' },
  { code: 89, name: 'THROTTLING_QUOTA_EXCEEDED', retriable: true, message: 'The throttling quota has been exceeded.' },
  { code: 100, name: 'UNKNOWN_TOPIC_ID', retriable: true, message: 'This server does not host this topic ID.' },
  { code: 103, name: 'INCONSISTENT_TOPIC_ID', retriable: true, message: 'The log\'s topic ID did not match the topic ID in the request.' },
]

const byCode = new Map<number, KafkaErrorInfo>(table.map((e) => [e.code, e]))
const byName = new Map<string, KafkaErrorInfo>(table.map((e) => [e.name, e]))

/** Every Kafka error shardlog knows, by numeric code. */
export const KAFKA_ERRORS: readonly KafkaErrorInfo[] = table

/** Looks up a Kafka error by its numeric code; unknown codes read as UNKNOWN_SERVER_ERROR. */
export function kafkaErrorByCode(code: number): KafkaErrorInfo {
  return byCode.get(code) ?? { code, name: `UNKNOWN_ERROR_${code}`, retriable: false, message: `Unknown Kafka error code ${code}.` }
}

/** Looks up a Kafka error by its constant name, e.g. `NOT_LEADER_OR_FOLLOWER`. */
export function kafkaErrorByName(name: string): KafkaErrorInfo | undefined {
  return byName.get(name)
}
