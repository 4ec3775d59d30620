/**
 * The controller (ZooKeeper's role in the reference notes): the single source of truth for
 * cluster metadata. It validates every change, writes it to the metadata log (fsync), then
 * applies it to the {@link TopicTable} and tells the brokers. Lives on the main thread.
 */
import { randomBytes } from 'node:crypto'
import path from 'node:path'
import { MetadataLog } from './metadata-log.js'
import type { MetadataRecord, PartitionRecord } from './metadata-records.js'
import { TopicTable, type TopicInfo, type PartitionInfo } from './topic-table.js'
import { onBrokerFenced, onBrokerUnfenced, preferredLeader, onControlledShutdown, type PartitionChange } from './leader-election.js'
import { assignReplicas, javaStringHash } from './placement.js'
import { validateTopicName } from '../storage/file-names.js'
import { parseLogConfig, TOPIC_CONFIGS } from '../storage/log-config.js'
import { InvalidPartitionsError, TopicAlreadyExistsError, UnknownTopicOrPartitionError, InvalidConfigError,
  InvalidReplicationFactorError, InvalidRequestError } from '../errors.js'

const PRODUCER_ID_BLOCK = 1000

/** What a broker must do when metadata changes (implemented by the cluster). */
export interface MetadataListener {
  partitionsCreated(partitions: readonly PartitionRecord[], configs: Record<string, string>): Promise<void>
  topicDeleted(topic: TopicInfo): Promise<void>
  configsChanged(topic: TopicInfo): Promise<void>
  /** Leader, ISR or epoch of partitions changed (election, fencing, ISR change). */
  partitionsChanged(partitions: readonly PartitionInfo[]): Promise<void>
}

/** A topic to create. */
export interface NewTopic {
  topic: string
  numPartitions: number
  replicationFactor: number
  configs: Record<string, string>
}

/** Keeps and changes cluster metadata. */
export class Controller {
  readonly topics = new TopicTable()
  private readonly log: MetadataLog
  /** Serialises changes: each waits for the previous to finish, as KRaft's single writer does. */
  private queue: Promise<unknown> = Promise.resolve()
  private nextProducerId = -1

  constructor(dataDir: string, private readonly liveBrokers: () => number[], private readonly listener: MetadataListener) {
    const { log, records } = MetadataLog.open(path.join(dataDir, 'metadata'))
    this.log = log
    for (const r of records) this.topics.apply(r)
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn)
    this.queue = next.catch(() => undefined)
    return next
  }

  private commit(records: MetadataRecord[]): void {
    this.log.append(records)
    for (const r of records) this.topics.apply(r)
  }

  /** Registers brokers (idempotent). */
  registerBrokers(ids: readonly number[]): void {
    const fresh = ids.filter((id) => !this.topics.brokers.has(id))
    if (fresh.length > 0) this.commit(fresh.map((brokerId) => ({ type: 'register-broker', brokerId })))
  }

  /** Validates a topic creation without applying it (Kafka's validateOnly). */
  validateNewTopic(t: NewTopic): void {
    validateTopicName(t.topic)
    if (this.topics.has(t.topic)) throw new TopicAlreadyExistsError(`Topic '${t.topic}' already exists.`)
    if (!Number.isInteger(t.numPartitions) || t.numPartitions < 1) throw new InvalidPartitionsError(`Number of partitions must be at least 1, got ${t.numPartitions}.`)
    if (t.numPartitions > 1_000_000) throw new InvalidPartitionsError(`Number of partitions ${t.numPartitions} is too large.`)
    if (!Number.isInteger(t.replicationFactor) || t.replicationFactor < 1) {
      throw new InvalidReplicationFactorError(`Replication factor must be at least 1, got ${t.replicationFactor}.`)
    }
    const brokers = this.liveBrokers()
    if (t.replicationFactor > brokers.length) {
      throw new InvalidReplicationFactorError(`Replication factor: ${t.replicationFactor} larger than available brokers: ${brokers.length}.`)
    }
    parseLogConfig(t.configs)
  }

  /** Creates a topic: metadata first (durable), then the replicas on the brokers. */
  createTopic(t: NewTopic): Promise<TopicInfo> {
    return this.serial(async () => {
      this.validateNewTopic(t)
      const brokers = [...this.liveBrokers()].sort((a, b) => a - b)
      const assignment = assignReplicas(brokers, t.numPartitions, t.replicationFactor, Math.abs(javaStringHash(t.topic)))
      const partitions: PartitionRecord[] = assignment.map((replicas, partition) => ({
        type: 'partition', topic: t.topic, partition, replicas, isr: [...replicas], leader: replicas[0]!, leaderEpoch: 0,
      }))
      const records: MetadataRecord[] = [
        { type: 'topic', name: t.topic, topicId: randomBytes(16).toString('base64url') },
        ...Object.entries(t.configs).map(([name, value]): MetadataRecord => ({ type: 'config', topic: t.topic, name, value })),
        ...partitions,
      ]
      this.commit(records)
      await this.listener.partitionsCreated(partitions, t.configs)
      return this.topics.get(t.topic)!
    })
  }

  /** Raises a topic's partition count; Kafka refuses a decrease or an equal count (INVALID_PARTITIONS). */
  createPartitions(topic: string, count: number, validateOnly = false): Promise<void> {
    return this.serial(async () => {
      const t = this.requireTopic(topic)
      const current = t.partitions.length
      if (!Number.isInteger(count) || count <= current) {
        throw new InvalidPartitionsError(`Topic currently has ${current} partitions, which is higher than or equal to the requested ${count}.`)
      }
      if (validateOnly) return
      const rf = t.partitions[0]?.replicas.length ?? 1
      const brokers = [...this.liveBrokers()].sort((a, b) => a - b)
      if (rf > brokers.length) throw new InvalidReplicationFactorError(`Replication factor: ${rf} larger than available brokers: ${brokers.length}.`)
      const assignment = assignReplicas(brokers, count - current, rf, Math.abs(javaStringHash(topic)), current)
      const partitions: PartitionRecord[] = assignment.map((replicas, i) => ({
        type: 'partition', topic, partition: current + i, replicas, isr: [...replicas], leader: replicas[0]!, leaderEpoch: 0,
      }))
      this.commit(partitions)
      await this.listener.partitionsCreated(partitions, this.topics.configsOf(topic))
    })
  }

  /** Deletes a topic and its data on every broker. */
  deleteTopic(topic: string): Promise<void> {
    return this.serial(async () => {
      const t = this.requireTopic(topic)
      this.commit([{ type: 'remove-topic', name: topic }])
      await this.listener.topicDeleted(t)
    })
  }

  /**
   * Changes topic configs. `set` values replace, `remove` names go back to defaults; with
   * `replace` (AlterConfigs' semantics) every override not in `set` is removed.
   */
  alterConfigs(topic: string, change: { set: Record<string, string>; remove: string[]; replace: boolean }, validateOnly = false): Promise<void> {
    return this.serial(async () => {
      const t = this.requireTopic(topic)
      const next = change.replace ? {} as Record<string, string> : this.topics.configsOf(topic)
      for (const name of change.remove) delete next[name]
      Object.assign(next, change.set)
      for (const name of change.remove) {
        if (!(name in next) && !isKnownConfig(name)) throw new InvalidConfigError(`Unknown topic config '${name}'`)
      }
      parseLogConfig(next)
      if (validateOnly) return
      const records: MetadataRecord[] = []
      for (const [name] of t.configs) if (!(name in next)) records.push({ type: 'config', topic, name, value: null })
      for (const [name, value] of Object.entries(next)) if (t.configs.get(name) !== value) records.push({ type: 'config', topic, name, value })
      if (records.length === 0) return
      this.commit(records)
      await this.listener.configsChanged(t)
    })
  }

  /** The topic, or UNKNOWN_TOPIC_OR_PARTITION. */
  requireTopic(topic: string): TopicInfo {
    if (typeof topic !== 'string' || topic.length === 0) throw new InvalidRequestError('Topic name is required')
    const t = this.topics.get(topic)
    if (!t) throw new UnknownTopicOrPartitionError(`Topic '${topic}' does not exist`)
    return t
  }

  /**
   * Hands out a producer id for an idempotent producer (InitProducerId). Ids come from
   * blocks of 1000 recorded in the metadata log, so an id is never reused after a restart.
   */
  allocateProducerId(): { producerId: number; producerEpoch: number } {
    if (this.nextProducerId < 0 || this.nextProducerId >= this.topics.nextProducerIdBlock) {
      const start = this.topics.nextProducerIdBlock
      this.commit([{ type: 'producer-ids', nextProducerId: start + PRODUCER_ID_BLOCK }])
      this.nextProducerId = start
    }
    return { producerId: this.nextProducerId++, producerEpoch: 0 }
  }

  /** Applies `decide` to every partition and commits the changes (one PartitionChangeRecord each). */
  private changePartitions(decide: (p: PartitionInfo, uncleanAllowed: boolean) => PartitionChange): Promise<PartitionInfo[]> {
    return this.serial(async () => {
      const records: MetadataRecord[] = []
      const changed: PartitionInfo[] = []
      for (const t of this.topics.all()) {
        const unclean = parseLogConfig(Object.fromEntries(t.configs)).uncleanLeaderElectionEnable
        for (const p of t.partitions) {
          const c = decide(p, unclean)
          if (!c.changed) continue
          records.push({ type: 'partition-change', topic: p.topic, partition: p.partition, leader: c.leader, isr: c.isr, leaderEpoch: c.leaderEpoch })
          changed.push(p)
        }
      }
      if (records.length === 0) return []
      this.commit(records)
      await this.listener.partitionsChanged(changed)
      return changed
    })
  }

  /** A broker stopped heartbeating (broker.session.timeout.ms): it leaves the ISRs; its partitions get new leaders. */
  fenceBroker(brokerId: number): Promise<PartitionInfo[]> {
    const live = new Set(this.liveBrokers())
    live.delete(brokerId)
    return this.changePartitions((p, unclean) => onBrokerFenced(p, brokerId, live, unclean))
  }

  /** A fenced broker is back: offline partitions it can lead come back online. */
  unfenceBroker(brokerId: number): Promise<PartitionInfo[]> {
    const live = new Set(this.liveBrokers())
    live.add(brokerId)
    return this.changePartitions((p, unclean) => onBrokerUnfenced(p, brokerId, live, unclean))
  }

  /** Moves leadership away from a broker before it shuts down (controlled shutdown). */
  controlledShutdown(brokerId: number): Promise<PartitionInfo[]> {
    const live = new Set(this.liveBrokers())
    return this.changePartitions((p) => onControlledShutdown(p, brokerId, live))
  }

  /** Preferred leader election for every partition (auto.leader.rebalance.enable). */
  electPreferredLeaders(): Promise<PartitionInfo[]> {
    const live = new Set(this.liveBrokers())
    return this.changePartitions((p) => preferredLeader(p, live))
  }

  /**
   * A leader asks to change a partition's ISR (Kafka's AlterPartition). Refused (false)
   * when the leader or epoch it speaks for is no longer current.
   */
  alterIsr(topic: string, partition: number, leader: number, leaderEpoch: number, isr: number[]): Promise<boolean> {
    return this.serial(async () => {
      const p = this.topics.get(topic)?.partitions[partition]
      if (!p || p.leader !== leader || p.leaderEpoch !== leaderEpoch) return false
      if (isr.length === p.isr.length && isr.every((b, i) => b === p.isr[i])) return true
      this.commit([{ type: 'partition-change', topic, partition, leader, isr: [...isr], leaderEpoch }])
      await this.listener.partitionsChanged([p])
      return true
    })
  }

  /** Resolves once every change made so far has been applied to the brokers. */
  settled(): Promise<void> {
    return this.serial(async () => undefined)
  }

  /** Closes the metadata log. */
  close(): void {
    this.log.close()
  }
}

function isKnownConfig(name: string): boolean {
  return TOPIC_CONFIGS.some((d) => d.name === name)
}
