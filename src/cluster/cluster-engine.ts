/**
 * The engine behind every entry point (in-process API, wire protocol, CLI): the
 * controller, the brokers with their shards, replication between them, broker health,
 * and the routing of produce, fetch and offset calls to the shard that owns each
 * partition's leader replica. Lives on the main thread.
 */
import os from 'node:os'
import fs from 'node:fs'
import { Controller, type NewTopic } from './controller.js'
import { Broker } from './broker.js'
import type { TopicInfo, PartitionInfo } from './topic-table.js'
import type { PartitionRecord } from './metadata-records.js'
import { parseServerConfig, type ServerConfig } from './server-config.js'
import { fetchAcrossShards, type FetchParams } from './fetch-fanout.js'
import { ReplicationManager } from './replication-manager.js'
import { ReplicaFetcher } from './replica-fetcher.js'
import { groupByOwner, inRequestOrder } from './partition-routing.js'
import { lockDataDir, type DataDirLock } from './data-dir-lock.js'
import type { ShardLink } from '../shard/shard-link.js'
import type { FetchPartitionRequest, FetchPartitionResult, ProduceResultPayload } from '../shard/shard-codec.js'
import type { ListOffsetResult, PartitionStateResult, PartitionRef, PartitionStateChange } from '../shard/shard-ops.js'
import { BrokerNotAvailableError, LeaderNotAvailableError, UnknownTopicOrPartitionError, InvalidConfigError } from '../errors.js'

/** Options of {@link ClusterEngine.start}. */
export interface EngineOptions {
  dataDir: string
  brokers: number
  shards: number
  /** Server settings with Kafka's names (server.properties). */
  config: Record<string, string>
  maxOpenFiles: number
  ringBytes?: number
  busyPollUs?: number
}


/** The cluster engine: controller + brokers + replication + routing. */
export class ClusterEngine {
  readonly controller: Controller
  readonly brokers: Broker[] = []
  readonly config: ServerConfig
  private stopped = false
  private readonly creating = new Map<string, Promise<void>>()
  private readonly replication: ReplicationManager
  private readonly fetchers = new Map<string, ReplicaFetcher>()
  /** Brokers the controller fenced (missed heartbeats for broker.session.timeout.ms). */
  private readonly fenced = new Set<number>()
  private readonly lastHeartbeat = new Map<number, number>()
  private readonly timers: NodeJS.Timeout[] = []
  /** Serialises liveness decisions so fencing and unfencing never interleave. */
  private health: Promise<void> = Promise.resolve()

  private readonly lock: DataDirLock

  private constructor(readonly options: EngineOptions) {
    this.config = parseServerConfig(options.config)
    fs.mkdirSync(options.dataDir, { recursive: true })
    this.lock = lockDataDir(options.dataDir)
    try {
      this.controller = this.openController()
    } catch (err) {
      this.lock.release()
      throw err
    }
    this.replication = this.createReplicationManager()
  }

  private openController(): Controller {
    return new Controller(this.options.dataDir, () => this.liveBrokerIds(), {
      partitionsCreated: (partitions, configs) => this.openPartitions(partitions, configs),
      topicDeleted: (topic) => this.deleteTopicData(topic),
      configsChanged: (topic) => this.pushConfigs(topic),
      partitionsChanged: (partitions) => this.applyPartitionChanges(partitions),
    })
  }

  private createReplicationManager(): ReplicationManager {
    return new ReplicationManager({
      partition: (topic, partition) => this.controller.topics.get(topic)?.partitions[partition],
      pushHighWatermark: async (leader, topic, partition, highWatermark) => {
        const b = this.brokers[leader]
        if (b && !b.isStopped) await b.updateHighWatermarks([{ topic, partition, highWatermark }])
      },
      alterIsr: (topic, partition, leader, epoch, isr) => this.controller.alterIsr(topic, partition, leader, epoch, isr),
      now: () => Date.now(),
    }, this.config.replicaLagTimeMaxMs)
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
          busyPollUs: options.busyPollUs,
          onShardRestart: (broker, shardId) => engine.reopenReplicas(broker, shardId),
        }))
      }
      const known = [...engine.controller.topics.brokers]
      if (known.some((id) => id >= options.brokers)) {
        throw new InvalidConfigError(`The data directory holds brokers [${known.join(', ')}]; start with at least ${Math.max(...known) + 1} brokers`)
      }
      engine.controller.registerBrokers(engine.brokers.map((b) => b.id))
      const now = Date.now()
      for (const b of engine.brokers) engine.lastHeartbeat.set(b.id, now)
      for (const t of engine.controller.topics.all()) {
        await engine.openPartitions(t.partitions.map((p) => toRecord(p)), Object.fromEntries(t.configs))
      }
      // Partitions whose leader was lost before the restart come back online if their ISR allows.
      for (const b of engine.brokers) await engine.controller.unfenceBroker(b.id)
      engine.startTimers()
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

  private startTimers(): void {
    const c = this.config
    const every = (ms: number, fn: () => Promise<unknown> | void): void => {
      const t = setInterval(() => {
        if (this.stopped) return
        Promise.resolve(fn()).catch((err: unknown) => this.warn(`background task failed: ${err instanceof Error ? err.message : String(err)}`))
      }, ms)
      t.unref()
      this.timers.push(t)
    }
    const heartbeatMs = Math.max(5, Math.min(c.brokerHeartbeatIntervalMs, Math.floor(c.brokerSessionTimeoutMs / 3)))
    every(heartbeatMs, () => this.heartbeatRound())
    every(Math.max(10, Math.floor(c.replicaLagTimeMaxMs / 2)), () => this.replication.shrinkLaggingIsrs(this.replicatedPartitions()))
    if (c.autoLeaderRebalanceEnable) every(c.leaderImbalanceCheckIntervalMs, () => this.controller.electPreferredLeaders())
  }

  private warn(message: string): void {
    process.emitWarning(`shardlog: ${message}`)
  }

  /**
   * Brokers heartbeat to the controller; the controller fences a broker silent for
   * `broker.session.timeout.ms` and unfences it when it heartbeats again. A paused or
   * isolated broker does not heartbeat; a stopped one is gone.
   */
  private heartbeatRound(): Promise<void> {
    this.health = this.health.then(async () => {
      const now = Date.now()
      for (const b of this.brokers) {
        if (b.isStopped || b.isPaused || b.isolated) continue
        this.lastHeartbeat.set(b.id, now)
        if (this.fenced.has(b.id)) {
          this.fenced.delete(b.id)
          await this.controller.unfenceBroker(b.id)
        }
      }
      for (const b of this.brokers) {
        if (this.fenced.has(b.id)) continue
        if (now - (this.lastHeartbeat.get(b.id) ?? now) > this.config.brokerSessionTimeoutMs) {
          this.fenced.add(b.id)
          await this.controller.fenceBroker(b.id)
        }
      }
    })
    return this.health
  }

  /** Ids of brokers that are running and not fenced. */
  liveBrokerIds(): number[] {
    return this.brokers.filter((b) => !b.isStopped && !this.fenced.has(b.id)).map((b) => b.id)
  }

  private replicatedPartitions(): PartitionInfo[] {
    const out: PartitionInfo[] = []
    for (const t of this.controller.topics.all()) for (const p of t.partitions) if (p.replicas.length > 1) out.push(p)
    return out
  }

  private roleOf(p: PartitionInfo | PartitionRecord, brokerId: number): PartitionStateChange {
    return { topic: p.topic, partition: p.partition, isLeader: p.leader === brokerId, leaderEpoch: p.leaderEpoch, isr: [...p.isr] }
  }

  private async openPartitions(partitions: readonly PartitionRecord[], configs: Record<string, string>): Promise<void> {
    await Promise.all(partitions.flatMap((p) => p.replicas.map(async (id) => {
      const broker = this.brokers[id]
      if (!broker || broker.isStopped) return
      await broker.openPartition({ ...this.roleOf(p, id), configs })
    })))
    this.ensureFetchers()
  }

  /** After a shard worker restarted, or a broker restarted: reopen (and so recover) its replicas. */
  private async reopenReplicas(broker: Broker, shardId?: number): Promise<void> {
    const opens: Promise<void>[] = []
    for (const t of this.controller.topics.all()) {
      const configs = Object.fromEntries(t.configs)
      for (const p of t.partitions) {
        if (!p.replicas.includes(broker.id)) continue
        if (shardId !== undefined && broker.shardIndexOf(p.topic, p.partition) !== shardId) continue
        opens.push(broker.openPartition({ ...this.roleOf(p, broker.id), configs }))
      }
    }
    await Promise.all(opens)
  }

  /** Tells every replica of changed partitions its new role; fetchers follow the new leaders. */
  private async applyPartitionChanges(partitions: readonly PartitionInfo[]): Promise<void> {
    const byBroker = new Map<Broker, PartitionStateChange[]>()
    for (const p of partitions) {
      this.replication.reset(p.topic, p.partition)
      for (const id of p.replicas) {
        const b = this.brokers[id]
        if (!b || b.isStopped) continue
        let list = byBroker.get(b)
        if (!list) byBroker.set(b, (list = []))
        list.push(this.roleOf(p, id))
      }
    }
    await Promise.all([...byBroker].map(([b, list]) => b.updatePartitionStates(list).catch((err: unknown) => {
      this.warn(`broker ${b.id} did not take new partition states: ${err instanceof Error ? err.message : String(err)}`)
    })))
    this.ensureFetchers()
  }

  /** One fetcher per (follower, leader) pair that has partitions to replicate. */
  private ensureFetchers(): void {
    if (this.stopped) return
    const pairs = new Set<string>()
    for (const t of this.controller.topics.all()) {
      for (const p of t.partitions) {
        if (p.leader < 0) continue
        for (const f of p.replicas) if (f !== p.leader) pairs.add(`${f}:${p.leader}`)
      }
    }
    for (const pair of pairs) {
      const existing = this.fetchers.get(pair)
      if (existing) {
        existing.wake()
        continue
      }
      const [follower, leader] = pair.split(':').map(Number) as [number, number]
      this.fetchers.set(pair, new ReplicaFetcher(follower, leader, {
        broker: (id) => this.brokers[id],
        followedPartitions: (f, l) => {
          const out: PartitionInfo[] = []
          for (const t of this.controller.topics.all()) for (const p of t.partitions) if (p.leader === l && p.replicas.includes(f) && f !== l) out.push(p)
          return out
        },
        canReach: (f, l) => {
          const fb = this.brokers[f]
          const lb = this.brokers[l]
          return !!fb && !!lb && !fb.isStopped && !lb.isStopped && !fb.isPaused && !fb.isolated && !lb.isolated
        },
        warn: (m) => this.warn(m),
      }, this.replication))
    }
  }

  private async deleteTopicData(topic: TopicInfo): Promise<void> {
    await Promise.all(topic.partitions.flatMap((p) => p.replicas.map(async (id) => {
      this.replication.reset(p.topic, p.partition)
      const broker = this.brokers[id]
      if (broker && !broker.isStopped) await broker.deletePartition({ topic: p.topic, partition: p.partition })
    })))
  }

  private async pushConfigs(topic: TopicInfo): Promise<void> {
    const configs = Object.fromEntries(topic.configs)
    await Promise.all(topic.partitions.flatMap((p) => p.replicas.map(async (id) => {
      const broker = this.brokers[id]
      if (broker && !broker.isStopped) await broker.updateConfig({ topic: p.topic, partition: p.partition }, configs)
    })))
  }

  private ensureRunning(): void {
    if (this.stopped) throw new BrokerNotAvailableError('The cluster is stopped')
  }

  /** Creates a topic with replicas placed across the live brokers. */
  async createTopic(t: NewTopic): Promise<TopicInfo> {
    this.ensureRunning()
    return this.controller.createTopic(t)
  }

  /** Creates a topic with the server defaults (auto.create.topics.enable), once, even if asked concurrently. */
  async autoCreate(topic: string, numPartitions = this.config.numPartitions): Promise<void> {
    if (this.controller.topics.has(topic)) return
    let pending = this.creating.get(topic)
    if (!pending) {
      const replicationFactor = Math.min(this.config.defaultReplicationFactor, Math.max(1, this.liveBrokerIds().length))
      pending = this.controller.createTopic({ topic, numPartitions, replicationFactor, configs: {} }).then(
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

  /** The broker leading a partition (LEADER_NOT_AVAILABLE while it has none). */
  leaderOf(topic: string, partition: number): Broker {
    this.ensureRunning()
    const p = this.partitionInfo(topic, partition)
    const broker = this.brokers[p.leader]
    if (!broker || broker.isStopped) throw new LeaderNotAvailableError(`No leader for ${topic}-${partition}`)
    return broker
  }

  /** The shard holding the leader replica of a partition. */
  leaderShard(topic: string, partition: number): ShardLink {
    return this.leaderOf(topic, partition).shardOf(topic, partition)
  }

  /**
   * Appends one partition's batches at its leader; acks=-1 waits for the ISR up to
   * `timeoutMs`. `crcVerified` is for batches this process just encoded (see shard-codec).
   */
  produce(topic: string, partition: number, acks: number, batches: Buffer, timeoutMs = 30_000, crcVerified = false): Promise<ProduceResultPayload> {
    return this.leaderOf(topic, partition).produce(topic, partition, acks, batches, timeoutMs, crcVerified)
  }

  /** Fetches from leaders with long polling across shards and brokers. */
  async fetch(params: FetchParams, partitions: readonly FetchPartitionRequest[]): Promise<FetchPartitionResult[]> {
    this.ensureRunning()
    // A paused (hung) leader holds the fetch. Only looked for when a broker is paused at all: a
    // tailing consumer fetches once per append, and routing looks every leader up anyway.
    if (this.brokers.some((b) => b.isPaused)) {
      for (const p of partitions) await this.leaderOf(p.topic, p.partition).whenProcessing()
    }
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
    const byBroker = groupByOwner(refs, (topic, partition) => this.leaderOf(topic, partition))
    return inRequestOrder(refs, await Promise.all([...byBroker].map(([b, list]) => b.partitionStates(list))))
  }

  /** End offset of a leader epoch at the partition's leader (OffsetForLeaderEpoch). */
  epochEndOffset(topic: string, partition: number, leaderEpoch: number): Promise<{ leaderEpoch: number; endOffset: number }> {
    return this.leaderOf(topic, partition).epochEndOffset(topic, partition, leaderEpoch)
  }

  // ---- fault injection ------------------------------------------------------------------

  private broker(id: number): Broker {
    const b = this.brokers[id]
    if (!b) throw new InvalidConfigError(`No broker ${id}: the cluster has ${this.brokers.length}`)
    return b
  }

  /** Abrupt stop of a broker: its workers are terminated; the controller notices by the missed heartbeats. */
  async killBroker(id: number): Promise<void> {
    await this.broker(id).kill()
  }

  /** Controlled shutdown: leadership moves to other in-sync replicas first, then the broker stops cleanly. */
  async shutdownBroker(id: number): Promise<void> {
    const b = this.broker(id)
    if (b.isStopped) return
    await this.controller.controlledShutdown(id)
    await b.stop()
    this.health = this.health.then(async () => {
      if (!this.fenced.has(id)) {
        this.fenced.add(id)
        await this.controller.fenceBroker(id)
      }
    })
    await this.health
  }

  /** Starts a stopped broker again: logs are recovered, replicas catch up and rejoin the ISR. */
  async restartBroker(id: number): Promise<void> {
    const b = this.broker(id)
    if (!b.isStopped) return
    b.isolated = false
    await b.startShards()
    await this.reopenReplicas(b)
    this.ensureFetchers()
    await this.heartbeatRound()
  }

  /** Cuts a broker off from the other brokers and the controller. */
  isolate(id: number): void {
    this.broker(id).isolated = true
  }

  /** Ends every isolation. */
  async heal(): Promise<void> {
    for (const b of this.brokers) b.isolated = false
    this.ensureFetchers()
    await this.heartbeatRound()
  }

  /** Whether the controller currently fences a broker. */
  isFenced(id: number): boolean {
    return this.fenced.has(id)
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
    for (const t of this.timers) clearInterval(t)
    await Promise.all([...this.fetchers.values()].map((f) => f.stop()))
    await this.health.catch(() => undefined)
    await Promise.all(this.brokers.map((b) => b.stop()))
    this.controller.close()
    this.lock.release()
  }
}

function toRecord(p: PartitionInfo): PartitionRecord {
  return { type: 'partition', topic: p.topic, partition: p.partition, replicas: p.replicas, isr: p.isr, leader: p.leader, leaderEpoch: p.leaderEpoch }
}
