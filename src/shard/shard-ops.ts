/**
 * The operations a shard worker serves, and the typed messages they carry. Both sides
 * (the main-thread `Broker` and the worker's `ShardRuntime`) import this one file.
 *
 * Hot-path ops (Produce, Fetch) use the compact binary layouts in `shard-codec.ts`; rare
 * control ops carry small JSON documents, which is cheap enough off the hot path.
 * Op codes start at 100 so they never collide with the transport's own control frames.
 */
import type { LogConfigEntries } from './shard-codec.js'

/** Op codes of shard requests. */
export const ShardOp = {
  /** Open or create a partition replica (idempotent); JSON {@link OpenPartitionMessage}. */
  OpenPartition: 100,
  /** Close and delete a partition replica's files; JSON {@link PartitionRef}. */
  DeletePartition: 101,
  /** Replace a replica's topic config; JSON {@link UpdateConfigMessage}. */
  UpdateConfig: 102,
  /** Append batches as leader (binary, see shard-codec). */
  Produce: 103,
  /** Read from one or more partitions, long-polling (binary, see shard-codec). */
  Fetch: 104,
  /** Offset lookup: earliest, latest or by timestamp; JSON {@link ListOffsetMessage}. */
  ListOffset: 105,
  /** Advance the log start offset; JSON {@link DeleteRecordsMessage}. */
  DeleteRecords: 106,
  /** Log start, end and high watermark of partitions; JSON {@link PartitionRef}[]. */
  PartitionState: 107,
  /** Flush every log to disk; empty payload. */
  Flush: 108,
  /** Complete a long-polling fetch early (another shard has data); uint32 wait token. */
  WakeFetch: 109,
  /** Close every log cleanly (writes clean-shutdown state); empty payload. */
  Shutdown: 110,
  /** Run retention, flush-by-time and compaction now; empty payload. */
  Maintenance: 111,
  /** End offset of a leader epoch (OffsetForLeaderEpoch); JSON {@link EpochEndOffsetMessage}. */
  EpochEndOffset: 112,
  /** Role, leader epoch and ISR of replicas changed (controller decision); JSON {@link PartitionStateChange}[]. */
  UpdatePartitionState: 113,
  /** Append batches fetched from the leader as a follower (binary, see shard-codec). */
  ReplicaAppend: 114,
  /** New high watermarks computed from the ISR's log end offsets; JSON {@link HighWatermarkUpdate}[]. */
  UpdateHighWatermark: 115,
  /** Cut a follower's divergent tail; JSON {@link TruncateMessage}. */
  Truncate: 116,
} as const

/** A topic partition. */
export interface PartitionRef {
  topic: string
  partition: number
}

/** Role and replication state of a replica, as the controller decided it. */
export interface ReplicaRole {
  isLeader: boolean
  leaderEpoch: number
  isr: number[]
}

/** Payload of {@link ShardOp.OpenPartition}. */
export interface OpenPartitionMessage extends PartitionRef, ReplicaRole {
  configs: LogConfigEntries
}

/** One replica's new role in {@link ShardOp.UpdatePartitionState}. */
export interface PartitionStateChange extends PartitionRef, ReplicaRole {}

/** One partition's new high watermark in {@link ShardOp.UpdateHighWatermark}. */
export interface HighWatermarkUpdate extends PartitionRef {
  highWatermark: number
}

/** Payload of {@link ShardOp.Truncate}. */
export interface TruncateMessage extends PartitionRef {
  offset: number
}

/** Payload of {@link ShardOp.UpdateConfig}. */
export interface UpdateConfigMessage extends PartitionRef {
  configs: LogConfigEntries
}

/** Payload of {@link ShardOp.ListOffset}; timestamp -2 = earliest, -1 = latest, -3 = max timestamp, as in ListOffsets. */
export interface ListOffsetMessage extends PartitionRef {
  timestamp: number
}

/** Result of {@link ShardOp.ListOffset}; offset -1 when no record has a timestamp at or after the one asked. */
export interface ListOffsetResult {
  offset: number
  timestamp: number
  leaderEpoch: number
}

/** Payload of {@link ShardOp.DeleteRecords}; offset -1 means the high watermark. */
export interface DeleteRecordsMessage extends PartitionRef {
  offset: number
}

/** Result of {@link ShardOp.PartitionState}. */
export interface PartitionStateResult extends PartitionRef {
  logStartOffset: number
  logEndOffset: number
  highWatermark: number
  sizeBytes: number
  segments: number
  leaderEpoch: number
  /** Latest epoch in the replica's leader-epoch-checkpoint (-1 when empty). */
  latestEpoch: number
  isLeader: boolean
}

/** Payload of {@link ShardOp.EpochEndOffset}. */
export interface EpochEndOffsetMessage extends PartitionRef {
  leaderEpoch: number
}
