/**
 * A broker inside the cluster: an id, a data directory `<dataDir>/broker-<id>` and its own
 * shard workers, each owning the partition replicas the {@link shardForPartition} mapping
 * places on it. The broker routes produce and fetch calls to the owning shard over that
 * shard's rings. Lives on the main thread.
 */
import path from 'node:path'
import { ShardHost } from '../shard/shard-host.js'
import { workerUrl } from '../shard/worker-url.js'
import { ShardOp, type OpenPartitionMessage, type ListOffsetResult, type PartitionStateResult, type PartitionRef } from '../shard/shard-ops.js'
import {
  encodeProduceRequest, decodeProduceResult, encodeJson, decodeJson, type ProduceResultPayload,
} from '../shard/shard-codec.js'
import type { ShardRuntimeOptions } from '../shard/shard-runtime.js'
import { shardForPartition } from './placement.js'
import { BrokerNotAvailableError } from '../errors.js'

/** Options of one broker. */
export interface BrokerOptions {
  brokerId: number
  dataDir: string
  shards: number
  logDefaults: Record<string, string>
  maxOpenFiles: number
  maintenanceIntervalMs: number
  ringBytes?: number
  /** Called after a shard worker died and came back, to reopen its partitions. */
  onShardRestart: (broker: Broker, shardId: number) => Promise<void>
}

/** One broker and its shard workers. */
export class Broker {
  readonly dir: string
  private stopped = false

  private constructor(readonly id: number, readonly shards: ShardHost[], dir: string) {
    this.dir = dir
  }

  /** Starts the broker's shard workers. */
  static async start(opts: BrokerOptions): Promise<Broker> {
    const dir = path.join(opts.dataDir, `broker-${opts.brokerId}`)
    const { url, execArgv } = workerUrl('shard-worker')
    let broker: Broker | undefined
    const hosts = await Promise.all(Array.from({ length: opts.shards }, (_, shardId) => {
      const options: ShardRuntimeOptions = {
        brokerId: opts.brokerId,
        shardId,
        brokerDir: dir,
        logDefaults: opts.logDefaults,
        maxOpenFiles: Math.max(16, Math.floor(opts.maxOpenFiles / opts.shards)),
        maintenanceIntervalMs: opts.maintenanceIntervalMs,
      }
      return ShardHost.start({
        shardId,
        workerUrl: url,
        execArgv,
        workerData: { options },
        ringBytes: opts.ringBytes,
        restart: true,
        onRestart: async (id: number) => { if (broker && !broker.stopped) await opts.onShardRestart(broker, id) },
      })
    }))
    broker = new Broker(opts.brokerId, hosts, dir)
    return broker
  }

  /** The shard that owns a partition replica on this broker. */
  shardOf(topic: string, partition: number): ShardHost {
    if (this.stopped) throw new BrokerNotAvailableError(`Broker ${this.id} is stopped`)
    return this.shards[shardForPartition(topic, partition, this.shards.length)]!
  }

  /** Opens (or creates) a partition replica on its shard. */
  async openPartition(m: OpenPartitionMessage): Promise<void> {
    await this.shardOf(m.topic, m.partition).request(ShardOp.OpenPartition, encodeJson(m))
  }

  /** Deletes a partition replica's files. */
  async deletePartition(ref: PartitionRef): Promise<void> {
    await this.shardOf(ref.topic, ref.partition).request(ShardOp.DeletePartition, encodeJson(ref))
  }

  /** Replaces a replica's topic configs. */
  async updateConfig(ref: PartitionRef, configs: Record<string, string>): Promise<void> {
    await this.shardOf(ref.topic, ref.partition).request(ShardOp.UpdateConfig, encodeJson({ ...ref, configs }))
  }

  /** Appends batches to a partition as its leader. */
  async produce(topic: string, partition: number, acks: number, batches: Buffer): Promise<ProduceResultPayload> {
    const res = await this.shardOf(topic, partition).request(ShardOp.Produce, encodeProduceRequest({ topic, partition, acks, batches }))
    return decodeProduceResult(res)
  }

  /** ListOffsets for one partition: -2 earliest, -1 latest, otherwise by timestamp. */
  async listOffset(topic: string, partition: number, timestamp: number): Promise<ListOffsetResult> {
    const res = await this.shardOf(topic, partition).request(ShardOp.ListOffset, encodeJson({ topic, partition, timestamp }))
    return decodeJson<ListOffsetResult>(res)
  }

  /** Advances the log start offset (DeleteRecords); -1 means up to the high watermark. */
  async deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    const res = await this.shardOf(topic, partition).request(ShardOp.DeleteRecords, encodeJson({ topic, partition, offset }))
    return decodeJson<{ lowWatermark: number }>(res).lowWatermark
  }

  /** Offsets and sizes of partitions, grouped into one request per shard. */
  async partitionStates(refs: readonly PartitionRef[]): Promise<PartitionStateResult[]> {
    const byShard = new Map<ShardHost, PartitionRef[]>()
    for (const r of refs) {
      const host = this.shardOf(r.topic, r.partition)
      let list = byShard.get(host)
      if (!list) byShard.set(host, (list = []))
      list.push(r)
    }
    const lists = await Promise.all([...byShard].map(async ([host, list]) =>
      decodeJson<PartitionStateResult[]>(await host.request(ShardOp.PartitionState, encodeJson(list)))))
    const index = new Map<string, PartitionStateResult>()
    for (const list of lists) for (const s of list) index.set(`${s.topic}\u0000${s.partition}`, s)
    return refs.map((r) => index.get(`${r.topic}\u0000${r.partition}`)!)
  }

  /** End offset of a leader epoch (OffsetForLeaderEpoch). */
  async epochEndOffset(topic: string, partition: number, leaderEpoch: number): Promise<{ leaderEpoch: number; endOffset: number }> {
    const res = await this.shardOf(topic, partition).request(ShardOp.EpochEndOffset, encodeJson({ topic, partition, leaderEpoch }))
    return decodeJson(res)
  }

  /** fsyncs every log of every shard. */
  async flush(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.request(ShardOp.Flush, Buffer.alloc(0))))
  }

  /** Runs retention, flush and compaction on every shard now. */
  async maintenance(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.request(ShardOp.Maintenance, Buffer.alloc(0))))
  }

  /** Controlled shutdown: every log closed cleanly, then the workers exit. */
  async stop(): Promise<void> {
    if (this.stopped) return
    await Promise.all(this.shards.map(async (s) => {
      await s.request(ShardOp.Shutdown, Buffer.alloc(0)).catch(() => undefined)
      await s.stop()
    }))
    this.stopped = true
  }

  /** Whether stop() has run. */
  get isStopped(): boolean {
    return this.stopped
  }
}
