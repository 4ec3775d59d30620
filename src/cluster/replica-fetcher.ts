/**
 * A follower broker's fetcher for the partitions it follows from one leader broker
 * (Kafka's ReplicaFetcherThread, one per follower/leader pair). It long-polls the leader's
 * shards from the follower's log end offset, appends what comes back to the follower's
 * replicas as it is (same offsets, same bytes), and reports progress to the
 * {@link ReplicationManager}. Before following a partition at a new leader epoch it asks the
 * leader where its own latest epoch ended (OffsetForLeaderEpoch) and truncates a divergent
 * tail, so no two replicas ever hold different records at the same offset.
 * Runs on the main thread as an async loop.
 */
import type { Broker } from './broker.js'
import type { ReplicationManager } from './replication-manager.js'
import type { PartitionInfo } from './topic-table.js'
import { fetchAcrossShards } from './fetch-fanout.js'
import { FetchIsolation } from '../shard/shard-codec.js'
import { isShardlogError } from '../errors.js'
import { partitionKey } from '../topic-partition.js'

/** What a fetcher asks of the cluster. */
export interface FetcherPorts {
  broker(id: number): Broker | undefined
  /** Partitions that `follower` replicates from `leader`, per current metadata. */
  followedPartitions(follower: number, leader: number): PartitionInfo[]
  /** Whether the two brokers can talk (neither stopped, paused or isolated). */
  canReach(follower: number, leader: number): boolean
  warn(message: string): void
}

interface Followed {
  epoch: number
  logEndOffset: number
  /** High watermark last given to the follower replica. */
  highWatermark: number
}

const EXPECTED_WHILE_METADATA_MOVES = new Set([
  'BROKER_NOT_AVAILABLE', 'KAFKA_STORAGE_ERROR', 'NOT_LEADER_OR_FOLLOWER', 'LEADER_NOT_AVAILABLE', 'UNKNOWN_TOPIC_OR_PARTITION',
])

/** Replicates one leader's partitions to one follower. */
export class ReplicaFetcher {
  private running = true
  private readonly followed = new Map<string, Followed>()
  private readonly done: Promise<void>
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined

  constructor(
    readonly followerId: number,
    readonly leaderId: number,
    private readonly ports: FetcherPorts,
    private readonly replication: ReplicationManager,
    private readonly maxWaitMs = 100,
  ) {
    this.done = this.loop()
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { this.sleeper = undefined; resolve() }, ms)
      this.sleeper = { timer, resolve }
    })
  }

  /** Ends a back-off sleep early (metadata changed). */
  wake(): void {
    const s = this.sleeper
    if (!s) return
    this.sleeper = undefined
    clearTimeout(s.timer)
    s.resolve()
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const parts = this.ports.followedPartitions(this.followerId, this.leaderId)
        const follower = this.ports.broker(this.followerId)
        const leader = this.ports.broker(this.leaderId)
        if (parts.length === 0 || !follower || !leader || !this.ports.canReach(this.followerId, this.leaderId)) {
          await this.sleep(50)
          continue
        }
        const wanted = new Set(parts.map((p) => partitionKey(p.topic, p.partition)))
        for (const k of [...this.followed.keys()]) if (!wanted.has(k)) this.followed.delete(k)
        for (const p of parts) {
          const f = this.followed.get(partitionKey(p.topic, p.partition))
          if (!f || f.epoch !== p.leaderEpoch) await this.startFollowing(p, follower, leader)
        }
        if (!this.running) break
        const results = await fetchAcrossShards(
          { maxWaitMs: this.maxWaitMs, minBytes: 1, maxBytes: 16 * 1024 * 1024, isolation: FetchIsolation.LogEnd },
          parts.map((p) => ({ topic: p.topic, partition: p.partition, offset: this.followed.get(partitionKey(p.topic, p.partition))!.logEndOffset, maxBytes: 4 * 1024 * 1024 })),
          (topic, partition) => leader.shardOf(topic, partition),
        )
        if (!this.running || !this.ports.canReach(this.followerId, this.leaderId)) continue
        for (const r of results) {
          const k = partitionKey(r.topic, r.partition)
          const f = this.followed.get(k)
          if (!f) continue
          if (r.errorCode === 1) {
            // Our end is past the leader's end (an unclean election or a lost tail): truncate to it.
            if (f.logEndOffset > r.logEndOffset && r.logEndOffset >= 0) {
              await follower.truncate(r.topic, r.partition, r.logEndOffset)
              f.logEndOffset = r.logEndOffset
            } else {
              this.ports.warn(`replica fetcher ${this.followerId}<-${this.leaderId}: ${r.topic}-${r.partition} at ${f.logEndOffset} is below the leader's log start ${r.logStartOffset}`)
            }
            continue
          }
          if (r.errorCode !== 0) continue
          if (r.records.length === 0 && r.highWatermark === f.highWatermark) {
            await this.replication.onFollowerProgress(r.topic, r.partition, this.followerId, f.logEndOffset, r.logEndOffset, r.highWatermark)
            continue
          }
          f.logEndOffset = await follower.replicaAppend(r.topic, r.partition, r.highWatermark, r.records)
          f.highWatermark = r.highWatermark
          await this.replication.onFollowerProgress(r.topic, r.partition, this.followerId, f.logEndOffset, r.logEndOffset, r.highWatermark)
        }
      } catch (err) {
        if (!this.running) break
        // Brokers stop, restart and change roles under a fetcher: back off and re-read metadata.
        // Stopped or restarting brokers, moved leaders and deleted topics are expected while
        // metadata catches up; anything else is worth a warning.
        if (!isShardlogError(err) || !EXPECTED_WHILE_METADATA_MOVES.has(err.code)) {
          this.ports.warn(`replica fetcher ${this.followerId}<-${this.leaderId}: ${err instanceof Error ? err.message : String(err)}`)
        }
        this.followed.clear()
        await this.sleep(100)
      }
    }
  }

  /**
   * Starts following a partition at the leader's current epoch: where our latest epoch
   * diverges from the leader's history, the tail after that point is cut.
   */
  private async startFollowing(p: PartitionInfo, follower: Broker, leader: Broker): Promise<void> {
    const [state] = await follower.partitionStates([{ topic: p.topic, partition: p.partition }])
    let logEndOffset = state!.logEndOffset
    if (state!.latestEpoch >= 0) {
      const { endOffset } = await leader.epochEndOffset(p.topic, p.partition, state!.latestEpoch)
      if (endOffset >= 0 && endOffset < logEndOffset) {
        await follower.truncate(p.topic, p.partition, endOffset)
        logEndOffset = endOffset
      }
    }
    this.followed.set(partitionKey(p.topic, p.partition), { epoch: p.leaderEpoch, logEndOffset, highWatermark: -1 })
  }

  /** Stops the loop and waits for it. */
  async stop(): Promise<void> {
    this.running = false
    this.wake()
    await this.done
  }
}
