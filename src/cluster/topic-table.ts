/**
 * The cluster's topic metadata as rebuilt from the metadata log: topics, their ids and
 * configs, and for each partition its replicas, leader, ISR and leader epoch.
 * Lives on the main thread; the controller is its only writer (`apply`).
 */
import type { MetadataRecord } from './metadata-records.js'

/** Metadata of one partition. */
export interface PartitionInfo {
  readonly topic: string
  readonly partition: number
  replicas: number[]
  isr: number[]
  /** Broker id of the leader, -1 when the partition is offline. */
  leader: number
  leaderEpoch: number
}

/** Metadata of one topic. */
export interface TopicInfo {
  readonly name: string
  readonly topicId: string
  /** Topic config overrides by Kafka name (`retention.ms`, ...); defaults are not stored. */
  readonly configs: Map<string, string>
  readonly partitions: PartitionInfo[]
  /** True for internal topics such as `__consumer_offsets`. */
  readonly internal: boolean
}

/** In-memory topic metadata; apply() is the replay function of the metadata log. */
export class TopicTable {
  private readonly topics = new Map<string, TopicInfo>()
  readonly brokers = new Set<number>()
  /** First producer id not yet handed out in any block. */
  nextProducerIdBlock = 0
  /**
   * Records applied so far: readers that derive something from the table (a consumer's
   * partitions to read) redo it only when this changed.
   */
  version = 0

  /** Applies one metadata record. Records arrive in log order. */
  apply(record: MetadataRecord): void {
    this.version++
    switch (record.type) {
      case 'topic':
        this.topics.set(record.name, {
          name: record.name,
          topicId: record.topicId,
          configs: new Map(),
          partitions: [],
          internal: record.name.startsWith('__'),
        })
        break
      case 'partition': {
        const t = this.topics.get(record.topic)
        if (!t) break
        t.partitions[record.partition] = {
          topic: record.topic,
          partition: record.partition,
          replicas: [...record.replicas],
          isr: [...record.isr],
          leader: record.leader,
          leaderEpoch: record.leaderEpoch,
        }
        break
      }
      case 'partition-change': {
        const p = this.topics.get(record.topic)?.partitions[record.partition]
        if (!p) break
        p.leader = record.leader
        p.isr = [...record.isr]
        p.leaderEpoch = record.leaderEpoch
        break
      }
      case 'config': {
        const t = this.topics.get(record.topic)
        if (!t) break
        if (record.value === null) t.configs.delete(record.name)
        else t.configs.set(record.name, record.value)
        break
      }
      case 'remove-topic':
        this.topics.delete(record.name)
        break
      case 'register-broker':
        this.brokers.add(record.brokerId)
        break
      case 'producer-ids':
        this.nextProducerIdBlock = Math.max(this.nextProducerIdBlock, record.nextProducerId)
        break
    }
  }

  /** The topic, or undefined. */
  get(name: string): TopicInfo | undefined {
    return this.topics.get(name)
  }

  /** Whether the topic exists. */
  has(name: string): boolean {
    return this.topics.has(name)
  }

  /** All topics, in creation order. */
  all(): IterableIterator<TopicInfo> {
    return this.topics.values()
  }

  /** Number of partitions of a topic, or undefined when it does not exist. */
  partitionCount(name: string): number | undefined {
    return this.topics.get(name)?.partitions.length
  }

  /** Topic configs as a plain object. */
  configsOf(name: string): Record<string, string> {
    return Object.fromEntries(this.topics.get(name)?.configs ?? [])
  }
}
