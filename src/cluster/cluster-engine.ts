/**
 * The engine behind every entry point (in-process API, wire protocol, CLI): the
 * controller, the brokers with their shards, and the routing of produce, fetch and
 * offset calls to the shard that owns each partition's leader replica.
 * Lives on the main thread.
 */
import os from 'node:os'
import fs from 'node:fs'
import { Controller, type NewTopic } from './controller.js'
import { Broker } from './broker.js'
import type { TopicInfo, PartitionInfo } from './topic-table.js'
import type { PartitionRecord } from './metadata-records.js'
import { parseServerConfig, type ServerConfig } from './server-config.js'
import { fetchAcrossShards, type FetchParams } from './fetch-fanout.js'
import type { ShardHost } from '../shard/shard-host.js'
import type { FetchPartitionRequest, FetchPartitionResult, ProduceResultPayload } from '../shard/shard-codec.js'
import type { ListOffsetResult, PartitionStateResult, PartitionRef } from '../shard/shard-ops.js'
import { BrokerNotAvailableError, LeaderNotAvailableError, UnknownTopicOrPartitionError, InvalidReplicationFactorError } from '../errors.js'

/** Options of {@link ClusterEngine.start}. */
export interface EngineOptions {
  dataDir: string
  brokers: number
  shards: number
  /** Server settings with Kafka's names (server.properties). */
  config: Record<string, string>
  maxOpenFiles: number
  ringBytes?: number
}

/** The cluster engine: controller + brokers + routing. */
export class ClusterEngine {
  readonly controller: Controller
  readonly brokers: Broker[] = []
  readonly config: ServerConfig
  private stopped = false
  private readonly creating = new Map<string, Promise<void>>()

  private constructor(readonly options: EngineOptions) {
    this.config = parseServerConfig(options.config)
    fs.mkdirSync(options.dataDir, { recursive: true })
    this.controller = new Controller(options.dataDir, () => this.brokers.filter((b) => !b.isStopped).map((b) => b.id), {
      partitionsCreated: (partitions, configs) => this.openPartitions(partitions, configs),
      topicDeleted: (topic) => this.deleteTopicData(topic),
      configsChanged: (topic) => this.pushConfigs(topic),
    })
  }

  /** Starts brokers and shards, and reopens every partition recorded in the metadata log. */
  static async start(options: EngineOptions): Promise<ClusterEngine> {
    const engine = new ClusterEngine(options)
    const config = engine.config
    try {
      for (let id = 0; id < options.brokers; id++) {
        engine.brokers.push(await Broker.start({
          brokerId: id,
          dataDir: options.dataDir,
          shards: options.shards,
          logDefaults: config.logDefaults,
          maxOpenFiles: options.maxOpenFiles,
          maintenanceIntervalMs: config.logRetentionCheckIntervalMs,
          ringBytes: options.ringBytes,
          onShardRestart: (broker, shardId) => engine.reopenShard(broker, shardId),
        }))
      }
      engine.controller.registerBrokers(engine.brokers.map((b) => b.id))
      const all: PartitionRecord[] = []
      for (const t of engine.controller.topics.all()) {
        await engine.openPartitions(t.partitions.map((p) => toRecord(p)), Object.fromEntries(t.configs))
        all.push(...t.partitions.map((p) => toRecord(p)))
      }
    } catch (err) {
      await engine.stop().catch(() => undefined)
      throw err
    }
    return engine
  }

  /** Default shard count per broker: one per available core. */
  static defaultShards(): number {
    return Math.max(1, os.availableParallelism())
  }

  private async openPartitions(partitions: readonly PartitionRecord[], configs: Record<string, string>): Promise<void> {
    await Promise.all(partitions.map(async (p) => {
      const broker = this.brokers[p.leader]
      if (!broker || broker.isStopped) return
      await broker.openPartition({ topic: p.topic, partition: p.partition, configs, leaderEpoch: p.leaderEpoch })
    }))
  }

  /** After a shard worker restarted: reopen (and so recover) every replica placed on it. */
  private async reopenShard(broker: Broker, shardId: number): Promise<void> {
    const opens: Promise<void>[] = []
    for (const t of this.controller.topics.all()) {
      const configs = Object.fromEntries(t.configs)
      for (const p of t.partitions) {
        if (p.leader !== broker.id || broker.shards.indexOf(broker.shardOf(p.topic, p.partition)) !== shardId) continue
        opens.push(broker.openPartition({ topic: p.topic, partition: p.partition, configs, leaderEpoch: p.leaderEpoch }))
      }
    }
    await Promise.all(opens)
  }

  private async deleteTopicData(topic: TopicInfo): Promise<void> {
    await Promise.all(topic.partitions.map(async (p) => {
      const broker = this.brokers[p.leader]
      if (broker && !broker.isStopped) await broker.deletePartition({ topic: p.topic, partition: p.partition })
    }))
  }

  private async pushConfigs(topic: TopicInfo): Promise<void> {
    const configs = Object.fromEntries(topic.configs)
    await Promise.all(topic.partitions.map(async (p) => {
      const broker = this.brokers[p.leader]
      if (broker && !broker.isStopped) await broker.updateConfig({ topic: p.topic, partition: p.partition }, configs)
    }))
  }

  private ensureRunning(): void {
    if (this.stopped) throw new BrokerNotAvailableError('The cluster is stopped')
  }

  /**
   * Creates a topic. Until replication lands, every partition has exactly one replica:
   * a replication factor above 1 is refused rather than silently not replicated.
   */
  async createTopic(t: NewTopic): Promise<TopicInfo> {
    this.ensureRunning()
    if (t.replicationFactor > 1) {
      this.controller.validateNewTopic(t)
      throw new InvalidReplicationFactorError(`Replication factor ${t.replicationFactor} is not supported yet: shardlog keeps one replica per partition`)
    }
    return this.controller.createTopic(t)
  }

  /** Creates a topic with the server defaults (auto.create.topics.enable), once, even if asked concurrently. */
  async autoCreate(topic: string, numPartitions = this.config.numPartitions): Promise<void> {
    if (this.controller.topics.has(topic)) return
    let pending = this.creating.get(topic)
    if (!pending) {
      pending = this.controller.createTopic({ topic, numPartitions, replicationFactor: 1, configs: {} }).then(
        () => undefined,
        (err: unknown) => { if (!this.controller.topics.has(topic)) throw err },
      ).finally(() => this.creating.delete(topic))
      this.creating.set(topic, pending)
    }
    await pending
  }

  /** The partition's metadata, or UNKNOWN_TOPIC_OR_PARTITION. */
  partitionInfo(topic: string, partition: number): PartitionInfo {
    const p = this.controller.topics.get(topic)?.partitions[partition]
    if (!p) throw new UnknownTopicOrPartitionError(`Unknown partition ${topic}-${partition}`)
    return p
  }

  /** The broker leading a partition. */
  leaderOf(topic: string, partition: number): Broker {
    this.ensureRunning()
    const p = this.partitionInfo(topic, partition)
    const broker = this.brokers[p.leader]
    if (!broker || broker.isStopped) throw new LeaderNotAvailableError(`No leader for ${topic}-${partition}`)
    return broker
  }

  /** The shard holding the leader replica of a partition. */
  leaderShard(topic: string, partition: number): ShardHost {
    return this.leaderOf(topic, partition).shardOf(topic, partition)
  }

  /** Appends one partition's batches at its leader. */
  produce(topic: string, partition: number, acks: number, batches: Buffer): Promise<ProduceResultPayload> {
    return this.leaderOf(topic, partition).produce(topic, partition, acks, batches)
  }

  /** Fetches from leaders with long polling across shards and brokers. */
  fetch(params: FetchParams, partitions: readonly FetchPartitionRequest[]): Promise<FetchPartitionResult[]> {
    this.ensureRunning()
    return fetchAcrossShards(params, partitions, (topic, partition) => this.leaderShard(topic, partition))
  }

  /** ListOffsets for one partition (-2 earliest, -1 latest, else by timestamp). */
  listOffset(topic: string, partition: number, timestamp: number): Promise<ListOffsetResult> {
    return this.leaderOf(topic, partition).listOffset(topic, partition, timestamp)
  }

  /** DeleteRecords for one partition; returns the new low watermark. */
  deleteRecords(topic: string, partition: number, offset: number): Promise<number> {
    return this.leaderOf(topic, partition).deleteRecords(topic, partition, offset)
  }

  /** Offsets and sizes of partitions at their leaders. */
  async partitionStates(refs: readonly PartitionRef[]): Promise<PartitionStateResult[]> {
    this.ensureRunning()
    const byBroker = new Map<Broker, PartitionRef[]>()
    for (const r of refs) {
      const b = this.leaderOf(r.topic, r.partition)
      let list = byBroker.get(b)
      if (!list) byBroker.set(b, (list = []))
      list.push(r)
    }
    const lists = await Promise.all([...byBroker].map(([b, list]) => b.partitionStates(list)))
    const index = new Map<string, PartitionStateResult>()
    for (const list of lists) for (const s of list) index.set(`${s.topic}\u0000${s.partition}`, s)
    return refs.map((r) => index.get(`${r.topic}\u0000${r.partition}`)!)
  }

  /** End offset of a leader epoch at the partition's leader (OffsetForLeaderEpoch). */
  epochEndOffset(topic: string, partition: number, leaderEpoch: number): Promise<{ leaderEpoch: number; endOffset: number }> {
    return this.leaderOf(topic, partition).epochEndOffset(topic, partition, leaderEpoch)
  }

  /** fsyncs every log. */
  async flush(): Promise<void> {
    await Promise.all(this.brokers.filter((b) => !b.isStopped).map((b) => b.flush()))
  }

  /** Runs retention, flush and compaction on every shard now. */
  async maintenance(): Promise<void> {
    await Promise.all(this.brokers.filter((b) => !b.isStopped).map((b) => b.maintenance()))
  }

  /** Whether stop() was called. */
  get isStopped(): boolean {
    return this.stopped
  }

  /** Closes every log cleanly and stops the workers. */
  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    await Promise.all(this.brokers.map((b) => b.stop()))
    this.controller.close()
  }
}

function toRecord(p: PartitionInfo): PartitionRecord {
  return { type: 'partition', topic: p.topic, partition: p.partition, replicas: p.replicas, isr: p.isr, leader: p.leader, leaderEpoch: p.leaderEpoch }
}
