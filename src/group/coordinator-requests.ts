/**
 * Requests and responses of the {@link GroupCoordinator}: the data of Kafka's JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch, OffsetDelete, DescribeGroups,
 * ListGroups and DeleteGroups messages, without their framing, so the wire handlers and the
 * in-process consumer call the coordinator with the same shapes.
 */
import type { TopicPartitions } from './consumer-protocol.js'
import type { GroupCoordinator } from './group-coordinator.js'
import type { GroupState } from './group-metadata.js'
import type { JoinGroupProtocol } from './member-metadata.js'


/** JoinGroup request data. */
export interface JoinGroupRequest {
  groupId: string
  /** "" for a member's first join. */
  memberId: string
  groupInstanceId: string | null
  protocolType: string
  protocols: JoinGroupProtocol[]
  sessionTimeoutMs: number
  rebalanceTimeoutMs: number
  clientId: string
  clientHost: string
  /** KIP-394 (JoinGroup v4+): a new dynamic member first gets MEMBER_ID_REQUIRED and its id. Default false. */
  requireKnownMemberId?: boolean
  /** KIP-814 (JoinGroup v9+): a rejoining static leader is told to skip the assignment. Default true. */
  supportSkippingAssignment?: boolean
  reason?: string | null
}

/** One member in the leader's JoinGroup response. */
export interface JoinGroupResponseMember {
  memberId: string
  groupInstanceId: string | null
  metadata: Buffer
}

/** JoinGroup response data. */
export interface JoinGroupResponse {
  errorCode: number
  generationId: number
  protocolType: string | null
  protocolName: string | null
  /** The leader's member id ("" on errors). */
  leader: string
  /** True when the (static) leader must not run the assignor. */
  skipAssignment: boolean
  memberId: string
  /** Every member with its metadata, for the leader only. */
  members: JoinGroupResponseMember[]
}

/** SyncGroup request data. */
export interface SyncGroupRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId: string | null
  /** SyncGroup v5+: checked against the group's when given. */
  protocolType?: string | null
  protocolName?: string | null
  /** The leader's assignment per member; empty from followers. */
  assignments: Array<{ memberId: string; assignment: Buffer }>
}

/** SyncGroup response data. */
export interface SyncGroupResponse {
  errorCode: number
  protocolType: string | null
  protocolName: string | null
  assignment: Buffer
}

/** Heartbeat request data. */
export interface HeartbeatRequest {
  groupId: string
  generationId: number
  memberId: string
  groupInstanceId?: string | null
}

/** Heartbeat response data. */
export interface HeartbeatResponse {
  errorCode: number
}

/** One member in a LeaveGroup request (v3+ batches them; v0-v2 send one). */
export interface LeaveGroupMember {
  /** "" to remove a static member by its instance id (admin removal). */
  memberId: string
  groupInstanceId: string | null
  reason?: string | null
}

/** LeaveGroup request data. */
export interface LeaveGroupRequest {
  groupId: string
  members: LeaveGroupMember[]
}

/** LeaveGroup response data. */
export interface LeaveGroupResponse {
  errorCode: number
  members: Array<{ memberId: string; groupInstanceId: string | null; errorCode: number }>
}

/** One partition of an OffsetCommit request. */
export interface OffsetCommitPartition {
  partitionIndex: number
  committedOffset: number
  /** -1 or absent when unknown. */
  committedLeaderEpoch?: number
  committedMetadata: string | null
}

/** OffsetCommit request data. */
export interface OffsetCommitRequest {
  groupId: string
  /** -1 for a commit outside group management (manual assignment, admin). */
  generationId: number
  /** "" for a commit outside group management. */
  memberId: string
  groupInstanceId?: string | null
  /** OffsetCommit v2-v4: explicit retention; -1 or absent uses `offsets.retention.ms`. */
  retentionTimeMs?: number
  topics: Array<{ name: string; partitions: OffsetCommitPartition[] }>
}

/** OffsetCommit response data: one error code per requested partition, in request order. */
export interface OffsetCommitResponse {
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }>
}

/** OffsetFetch request data (one group; v8+ wire batches are split by the handler). */
export interface OffsetFetchRequest {
  groupId: string
  /** null fetches every committed partition of the group. */
  topics: Array<{ name: string; partitionIndexes: number[] }> | null
  /** OffsetFetch v7+: answer UNSTABLE_OFFSET_COMMIT for a partition whose commit is in flight. */
  requireStable?: boolean
}

/** One partition of an OffsetFetch response. */
export interface OffsetFetchPartition {
  partitionIndex: number
  /** -1 when nothing is committed. */
  committedOffset: number
  committedLeaderEpoch: number
  /** "" when nothing is committed, as Kafka. */
  metadata: string | null
  errorCode: number
}

/** OffsetFetch response data. */
export interface OffsetFetchResponse {
  errorCode: number
  topics: Array<{ name: string; partitions: OffsetFetchPartition[] }>
}

/** A member in a DescribeGroups response. */
export interface DescribedGroupMember {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  clientHost: string
  /** Metadata for the group's protocol (Stable groups only, else empty). */
  memberMetadata: Buffer
  /** The member's assignment bytes (Stable groups only, else empty). */
  memberAssignment: Buffer
  /** `memberAssignment` decoded with the consumer protocol; null when not a consumer group or not Stable. */
  assignment: TopicPartitions[] | null
}

/** One group in a DescribeGroups response. */
export interface DescribedGroup {
  /** 0 for unknown groups too (state Dead), as Kafka answers DescribeGroups v0-v5. */
  errorCode: number
  groupId: string
  /** Kafka's state name ("Dead" for an unknown group, "" on error). */
  groupState: GroupState | ''
  protocolType: string
  /** The selected protocol (assignor) of a Stable group, else "". */
  protocolData: string
  members: DescribedGroupMember[]
  authorizedOperations: number
}

/** One group in a ListGroups response. */
export interface ListedGroup {
  groupId: string
  protocolType: string
  groupState: GroupState
}

/** One group's result in a DeleteGroups response. */
export interface DeleteGroupsResult {
  groupId: string
  errorCode: number
}

/** OffsetDelete request data. */
export interface OffsetDeleteRequest {
  groupId: string
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number }> }>
}

/** OffsetDelete response data (topics are empty when the group-level error is set). */
export interface OffsetDeleteResponse {
  errorCode: number
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; errorCode: number }> }>
}

/** Offsets to set with {@link GroupCoordinator.resetOffsets}. */
export interface ResetOffsetsRequest {
  groupId: string
  topics: Array<{ name: string; partitions: Array<{ partitionIndex: number; offset: number; leaderEpoch?: number; metadata?: string | null }> }>
}

