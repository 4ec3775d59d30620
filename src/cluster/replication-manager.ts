/**
 * The leader side of replication, kept on the main thread for every replicated
 * partition: each follower's log end offset and when it was last caught up, the high
 * watermark derived from them (the smallest log end offset in the ISR), and the ISR
 * changes that follow (Kafka's Partition.maybeShrinkIsr / maybeExpandIsr with
 * `replica.lag.time.max.ms`), proposed to the controller as AlterPartition does.
 */
import type { PartitionInfo } from './topic-table.js'
import { partitionKey } from '../topic-partition.js'

/** What the replication manager needs from the cluster. */
export interface ReplicationPorts {
  /** Current metadata of a partition. */
  partition(topic: string, partition: number): PartitionInfo | undefined
  /** Pushes a new high watermark to the leader replica. */
  pushHighWatermark(leader: number, topic: string, partition: number, highWatermark: number): Promise<void>
  /** Proposes a new ISR to the controller; false when the leader or epoch is stale. */
  alterIsr(topic: string, partition: number, leader: number, leaderEpoch: number, isr: number[]): Promise<boolean>
  now(): number
}

interface FollowerState {
  logEndOffset: number
  lastCaughtUpMs: number
}

interface PartitionReplication {
  leaderLogEndOffset: number
  highWatermark: number
  followers: Map<number, FollowerState>
  altering: boolean
}

/** Tracks followers and drives high watermarks and ISR changes. */
export class ReplicationManager {
  private readonly partitions = new Map<string, PartitionReplication>()

  constructor(private readonly ports: ReplicationPorts, private readonly replicaLagTimeMaxMs: number) {}

  private state(topic: string, partition: number): PartitionReplication {
    const k = partitionKey(topic, partition)
    let s = this.partitions.get(k)
    if (!s) this.partitions.set(k, (s = { leaderLogEndOffset: 0, highWatermark: -1, followers: new Map(), altering: false }))
    return s
  }

  /** Forgets a partition (deleted, or its leader changed: the new leader starts fresh). */
  reset(topic: string, partition: number): void {
    this.partitions.delete(partitionKey(topic, partition))
  }

  /**
   * A follower fetched (and appended) up to `followerLogEndOffset` while the leader's log
   * ended at `leaderLogEndOffset`. Updates the follower, then the high watermark and ISR.
   */
  async onFollowerProgress(topic: string, partition: number, follower: number, followerLogEndOffset: number, leaderLogEndOffset: number, leaderHighWatermark: number): Promise<void> {
    const p = this.ports.partition(topic, partition)
    if (!p || p.leader < 0 || follower === p.leader) return
    const s = this.state(topic, partition)
    s.leaderLogEndOffset = Math.max(s.leaderLogEndOffset, leaderLogEndOffset)
    s.highWatermark = Math.max(s.highWatermark, leaderHighWatermark)
    const now = this.ports.now()
    const f = s.followers.get(follower) ?? { logEndOffset: 0, lastCaughtUpMs: now }
    f.logEndOffset = followerLogEndOffset
    if (followerLogEndOffset >= leaderLogEndOffset) f.lastCaughtUpMs = now
    s.followers.set(follower, f)
    await this.maybeExpandIsr(p, s, follower)
    await this.updateHighWatermark(p, s)
  }

  private async updateHighWatermark(p: PartitionInfo, s: PartitionReplication): Promise<void> {
    let hw = s.leaderLogEndOffset
    for (const b of p.isr) {
      if (b === p.leader) continue
      const f = s.followers.get(b)
      hw = Math.min(hw, f ? f.logEndOffset : 0)
    }
    if (hw > s.highWatermark) {
      s.highWatermark = hw
      await this.ports.pushHighWatermark(p.leader, p.topic, p.partition, hw)
    }
  }

  private async maybeExpandIsr(p: PartitionInfo, s: PartitionReplication, follower: number): Promise<void> {
    if (p.isr.includes(follower) || s.altering) return
    const f = s.followers.get(follower)!
    // Kafka: a follower rejoins once it has caught up to the leader's high watermark.
    if (s.highWatermark < 0 || f.logEndOffset < s.highWatermark) return
    s.altering = true
    try {
      const isr = p.replicas.filter((b) => b === follower || p.isr.includes(b))
      await this.ports.alterIsr(p.topic, p.partition, p.leader, p.leaderEpoch, isr)
    } finally {
      s.altering = false
    }
  }

  /**
   * Removes from each ISR the followers that have not caught up for `replica.lag.time.max.ms`
   * (Kafka's isr-expiration task).
   */
  async shrinkLaggingIsrs(replicated: readonly PartitionInfo[]): Promise<void> {
    const now = this.ports.now()
    for (const p of replicated) {
      if (p.leader < 0 || p.isr.length <= 1) continue
      const s = this.state(p.topic, p.partition)
      if (s.altering) continue
      const lagging = p.isr.filter((b) => {
        if (b === p.leader) return false
        const f = s.followers.get(b)
        if (!f) {
          s.followers.set(b, { logEndOffset: 0, lastCaughtUpMs: now })
          return false
        }
        return now - f.lastCaughtUpMs > this.replicaLagTimeMaxMs
      })
      if (lagging.length === 0) continue
      s.altering = true
      try {
        await this.ports.alterIsr(p.topic, p.partition, p.leader, p.leaderEpoch, p.isr.filter((b) => !lagging.includes(b)))
        // A smaller ISR may let the high watermark move on.
        const fresh = this.ports.partition(p.topic, p.partition)
        if (fresh) await this.updateHighWatermark(fresh, s)
      } finally {
        s.altering = false
      }
    }
  }
}
