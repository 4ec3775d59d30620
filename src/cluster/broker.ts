/**
 * A broker inside the cluster: an id, a data directory `<dataDir>/broker-<id>` and its own
 * shard workers, each owning the partition replicas the {@link shardForPartition} mapping
 * places on it (or, with `shards: 0`, one shard on the broker's own thread). The broker routes
 * calls to the owning shard, over that shard's rings for a worker, and
 * carries the fault-injection states tests use: killed, paused (hung), isolated.
 * Lives on the main thread.
 */
import path from 'node:path'
import { ShardHost } from '../shard/shard-host.js'
import { InThreadShard } from '../shard/in-thread-shard.js'
import type { ShardLink } from '../shard/shard-link.js'
import type { RingPayload } from '../shard/ring.js'
import { workerUrl } from '../shard/worker-url.js'
import {
  ShardOp, type OpenPartitionMessage, type ListOffsetResult, type PartitionStateResult, type PartitionRef,
  type PartitionStateChange, type HighWatermarkUpdate,
} from '../shard/shard-ops.js'
import {
  encodeProduceRequest, decodeProduceResult, encodeReplicaAppend, encodeJson, decodeJson, type ProduceResultPayload,
} from '../shard/shard-codec.js'
import type { ShardRuntimeOptions } from '../shard/shard-runtime.js'
import { shardForPartition } from './placement.js'
import { groupByOwner, inRequestOrder } from './partition-routing.js'
import { BrokerNotAvailableError } from '../errors.js'

/** Options of one broker. */
export interface BrokerOptions {
  brokerId: number
  dataDir: string
  /** Shard worker threads; 0: one shard on the broker's own thread (`InThreadShard`). */
  shards: number
  logDefaults: Record<string, string>
  maxOpenFiles: number
  maintenanceIntervalMs: number
  ringBytes?: number
  /** Busy polling of the shard rings, µs (`ShardHostOptions.busyPollUs`). */
  busyPollUs?: number
  /** Called after a shard worker died and came back, to reopen its partitions. */
  onShardRestart: (broker: Broker, shardId: number) => Promise<void>
}

/** Lifecycle of a broker: running, or stopped (controlled or by kill()). */
export type BrokerState = 'running' | 'stopped'

const EMPTY = Buffer.alloc(0)

/** Shards a broker has for its `shards` option: 0 still means one, on the broker's thread. */
function shardCount(shards: number): number {
  return Math.max(1, shards)
}

/** One broker and its shard workers. */
export class Broker {
  readonly id: number
  readonly dir: string
  shards: ShardLink[] = []
  private state: BrokerState = 'stopped'
  private pausedGate: { promise: Promise<void>; open: () => void } | undefined
  /** Cut off from the other brokers and the controller (cluster.isolate). */
  isolated = false

  constructor(private readonly opts: BrokerOptions) {
    this.id = opts.brokerId
    this.dir = path.join(opts.dataDir, `broker-${opts.brokerId}`)
  }

  /** Starts the broker's shard workers. */
  static async start(opts: BrokerOptions): Promise<Broker> {
    const broker = new Broker(opts)
    await broker.startShards()
    return broker
  }

  /** Starts (or restarts) the shard workers; logs are recovered as each shard opens them. */
  async startShards(): Promise<void> {
    const opts = this.opts
    const count = shardCount(opts.shards)
    const runtimeOptions = (shardId: number): ShardRuntimeOptions => ({
      brokerId: opts.brokerId,
      shardId,
      brokerDir: this.dir,
      logDefaults: opts.logDefaults,
      maxOpenFiles: Math.max(16, Math.floor(opts.maxOpenFiles / count)),
      maintenanceIntervalMs: opts.maintenanceIntervalMs,
    })
    const onRestart = async (id: number): Promise<void> => { if (this.state === 'running') await opts.onShardRestart(this, id) }
    if (opts.shards === 0) {
      this.shards = [new InThreadShard(0, { runtime: runtimeOptions(0), onRestart })]
      this.state = 'running'
      return
    }
    const { url, execArgv } = workerUrl('shard-worker')
    this.shards = await Promise.all(Array.from({ length: count }, (_, shardId) => {
      const options = runtimeOptions(shardId)
      return ShardHost.start({
        shardId,
        workerUrl: url,
        execArgv,
        workerData: { options },
        ringBytes: opts.ringBytes,
        busyPollUs: opts.busyPollUs,
        restart: true,
        onRestart,
      })
    }))
    this.state = 'running'
  }

  /** Whether the broker is stopped (controlled shutdown, kill, or cluster stop). */
  get isStopped(): boolean {
    return this.state === 'stopped'
  }

  /** Whether the broker is paused (hung: no heartbeats, no processing). */
  get isPaused(): boolean {
    return this.pausedGate !== undefined
  }

  /** Resolves when the broker processes requests (at once unless paused). */
  async whenProcessing(): Promise<void> {
    if (this.pausedGate) await this.pausedGate.promise
  }

  /** The shard that owns a partition replica on this broker. */
  shardOf(topic: string, partition: number): ShardLink {
    if (this.state !== 'running') throw new BrokerNotAvailableError(`Broker ${this.id} is not running`)
    return this.shards[shardForPartition(topic, partition, this.shards.length)]!
  }

  /** The index of the shard owning a partition (stable across restarts). */
  shardIndexOf(topic: string, partition: number): number {
    return shardForPartition(topic, partition, shardCount(this.opts.shards))
  }

  private async call(topic: string, partition: number, op: number, payload: RingPayload): Promise<Buffer> {
    await this.whenProcessing()
    return this.shardOf(topic, partition).request(op, payload)
  }

  /** Sends one request per shard with the items that shard owns. */
  private async perShard<T extends PartitionRef>(items: readonly T[], op: number): Promise<Buffer[]> {
    await this.whenProcessing()
    const byShard = groupByOwner(items, (topic, partition) => this.shardOf(topic, partition))
    return Promise.all([...byShard].map(([host, list]) => host.request(op, encodeJson(list))))
  }

  /** Opens (or creates) a partition replica on its shard, with its role. */
  async openPartition(m: OpenPartitionMessage): Promise<void> {
    await this.call(m.topic, m.partition, ShardOp.OpenPartition, encodeJson(m))
  }

  /** Deletes a partition replica's files. */
  async deletePartition(ref: PartitionRef): Promise<void> {
    await this.call(ref.topic, ref.partition, ShardOp.DeletePartition, encodeJson(ref))
  }

  /** Replaces a replica's topic configs. */
  async updateConfig(ref: PartitionRef, configs: Record<string, string>): Promise<void> {
    await this.call(ref.topic, ref.partition, ShardOp.UpdateConfig, encodeJson({ ...ref, configs }))
  }

  /** Tells replicas their new role, epoch and ISR. */
  async updatePartitionStates(changes: readonly PartitionStateChange[]): Promise<void> {
    if (changes.length > 0) await this.perShard(changes, ShardOp.UpdatePartitionState)
  }

  /** Pushes new high watermarks to leader replicas. */
  async updateHighWatermarks(updates: readonly HighWatermarkUpdate[]): Promise<void> {
    if (updates.length > 0) await this.perShard(updates, ShardOp.UpdateHighWatermark)
  }

  /** Appends batches to a partition as its leader; acks=-1 waits for the ISR up to `timeoutMs`. */
  async produce(topic: string, partition: number, acks: number, batches: Buffer, timeoutMs = 30_000, crcVerified = false): Promise<ProduceResultPayload> {
    const res = await this.call(topic, partition, ShardOp.Produce, encodeProduceRequest({ topic, partition, acks, timeoutMs, crcVerified, batches }))
    return decodeProduceResult(res)
  }

  /** Appends batches fetched from the leader to this broker's follower replica; returns its log end offset. */
  async replicaAppend(topic: string, partition: number, leaderHighWatermark: number, batches: Buffer = EMPTY): Promise<number> {
    const res = await this.call(topic, partition, ShardOp.ReplicaAppend, encodeReplicaAppend({ topic, partition, leaderHighWatermark, batches }))
    return res.readDoubleBE(0)
  }

  /** Truncates a follower replica's log to `offset`. */
  async truncate(topic: string, partition: number, offset: number): Promise<void> {
    await this.call(topic, partition, ShardOp.Truncate, encodeJson({ topic, partition, offset }))
  }

  /** ListOffsets for one partition: -2 earliest, -1 latest, otherwise by timestamp. */
  async listOffset(topic: string, partition: number, timestamp: number): Promise<ListOffsetResult> {
    return decodeJson<ListOffsetResult>(await this.call(topic, partition, ShardOp.ListOffset, encodeJson({ topic, partition, timestamp })))
  }

  /** Advances the log start offset (DeleteRecords); -1 means up to the high watermark. */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    const res = await this.call(topic, partition, ShardOp.DeleteRecords, encodeJson({ topic, partition, offset }))
    return decodeJson<{ lowWatermark: number }>(res).lowWatermark
  }

  /** Offsets, sizes and roles of replicas, one request per shard. */
  async partitionStates(refs: readonly PartitionRef[]): Promise<PartitionStateResult[]> {
    if (refs.length === 0) return []
    const lists = (await this.perShard(refs, ShardOp.PartitionState)).map((b) => decodeJson<PartitionStateResult[]>(b))
    return inRequestOrder(refs, lists)
  }

  /** End offset of a leader epoch (OffsetForLeaderEpoch). */
  async epochEndOffset(topic: string, partition: number, leaderEpoch: number): Promise<{ leaderEpoch: number; endOffset: number }> {
    return decodeJson(await this.call(topic, partition, ShardOp.EpochEndOffset, encodeJson({ topic, partition, leaderEpoch })))
  }

  /** fsyncs every log of every shard. */
  async flush(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.request(ShardOp.Flush, EMPTY)))
  }

  /** Runs retention, flush and compaction on every shard now. */
  async maintenance(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.request(ShardOp.Maintenance, EMPTY)))
  }

  /** Hangs the broker: no heartbeats and no processing until resume(). */
  pause(): void {
    if (this.pausedGate) return
    let open!: () => void
    const promise = new Promise<void>((resolve) => { open = resolve })
    this.pausedGate = { promise, open }
  }

  /** Ends a pause(); held calls go through. */
  resume(): void {
    const gate = this.pausedGate
    this.pausedGate = undefined
    gate?.open()
  }

  /** Abrupt stop: shard workers are terminated without closing their logs (recovery runs on restart). */
  async kill(): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    this.resume()
    await Promise.all(this.shards.map(async (s) => {
      await s.kill()
      await s.stop()
    }))
  }

  /** Clean stop: every log closed cleanly, then the workers exit. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return
    this.state = 'stopped'
    this.resume()
    await Promise.all(this.shards.map(async (s) => {
      await s.request(ShardOp.Shutdown, EMPTY).catch(() => undefined)
      await s.stop()
    }))
  }
}
