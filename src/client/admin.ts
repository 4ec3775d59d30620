/**
 * The in-process admin client, shaped after kafkajs's admin: topics, partitions, configs,
 * offsets, records and (through the group coordinator) consumer groups and their LAG.
 * Lives on the caller's (main) thread.
 */
import type { ClusterEngine } from '../cluster/cluster-engine.js'
import type { GroupCoordinator } from '../group/group-coordinator.js'
import type { DescribedGroup, ListedGroup } from '../group/coordinator-requests.js'
import { throwIfError } from '../group/group-coordinator.js'
import { describeGroupLag, type GroupLag } from '../group/lag.js'
import { describeLogConfig, parseLogConfig } from '../storage/log-config.js'
import {
  InvalidRequestError, UnknownTopicOrPartitionError, InvalidConfigError, isShardlogError, ShardlogError,
} from '../errors.js'

/** kafkajs's ConfigResourceTypes. */
export const ConfigResourceTypes = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const

/** A topic to create, as kafkajs's ITopicConfig. */
export interface ITopicConfig {
  topic: string
  numPartitions?: number
  replicationFactor?: number
  configEntries?: Array<{ name: string; value: string }>
}

/** Partition metadata as kafkajs's fetchTopicMetadata returns it. */
export interface PartitionMetadata {
  partitionErrorCode: number
  partitionId: number
  leader: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  leaderEpoch: number
}

/** A config entry as describeConfigs returns it. */
export interface ConfigEntry {
  configName: string
  configValue: string
  isDefault: boolean
  configSource: number
  isSensitive: boolean
  readOnly: boolean
  documentation: string
}

/** Kafka's DescribeConfigs config sources. */
const ConfigSource = { DYNAMIC_TOPIC_CONFIG: 1, DEFAULT_CONFIG: 5 } as const

/** The in-process admin client. */
export class Admin {
  constructor(protected readonly engine: ClusterEngine, private readonly groups: () => Promise<GroupCoordinator>) {}

  /** Present for kafkajs compatibility. */
  async connect(): Promise<void> {}
  /** Present for kafkajs compatibility. */
  async disconnect(): Promise<void> {}

  /**
   * Creates topics. Like kafkajs, resolves false when a topic already existed and true
   * otherwise; any other failure rejects with its typed error.
   */
  async createTopics(args: { topics: ITopicConfig[]; validateOnly?: boolean; waitForLeaders?: boolean }): Promise<boolean> {
    if (!args || !Array.isArray(args.topics) || args.topics.length === 0) throw new InvalidRequestError('createTopics needs a non-empty `topics` array')
    const names = new Set<string>()
    for (const t of args.topics) {
      if (names.has(t.topic)) throw new InvalidRequestError(`Topic '${t.topic}' is listed twice`)
      names.add(t.topic)
    }
    let created = true
    for (const t of args.topics) {
      const configs: Record<string, string> = {}
      for (const e of t.configEntries ?? []) {
        if (typeof e?.name !== 'string') throw new InvalidConfigError('Each config entry needs a name')
        configs[e.name] = String(e.value)
      }
      const spec = {
        topic: t.topic,
        numPartitions: t.numPartitions === undefined || t.numPartitions === -1 ? this.engine.config.numPartitions : t.numPartitions,
        replicationFactor: t.replicationFactor === undefined || t.replicationFactor === -1 ? this.engine.config.defaultReplicationFactor : t.replicationFactor,
        configs,
      }
      try {
        if (args.validateOnly) this.engine.controller.validateNewTopic(spec)
        else await this.engine.createTopic(spec)
      } catch (err) {
        if (isShardlogError(err) && err.code === 'TOPIC_ALREADY_EXISTS') {
          created = false
          continue
        }
        throw err
      }
    }
    return created
  }

  /** Raises partition counts; a decrease or an equal count is refused (INVALID_PARTITIONS). */
  async createPartitions(args: { topicPartitions: Array<{ topic: string; count: number }>; validateOnly?: boolean }): Promise<boolean> {
    for (const tp of args.topicPartitions) await this.engine.controller.createPartitions(tp.topic, tp.count, args.validateOnly)
    return true
  }

  /** Deletes topics and their data. */
  async deleteTopics(args: { topics: string[] }): Promise<void> {
    for (const t of args.topics) {
      if (t.startsWith('__')) throw new InvalidRequestError(`Internal topic '${t}' cannot be deleted`)
      await this.engine.controller.deleteTopic(t)
    }
  }

  /** Names of all topics (internal ones included, as kafkajs lists them). */
  async listTopics(): Promise<string[]> {
    return [...this.engine.controller.topics.all()].map((t) => t.name)
  }

  /** Partition, leader, replicas and ISR of topics (all topics when none are named). */
  async fetchTopicMetadata(args: { topics?: string[] } = {}): Promise<{ topics: Array<{ name: string; topicId: string; partitions: PartitionMetadata[] }> }> {
    const names = args.topics ?? [...this.engine.controller.topics.all()].map((t) => t.name)
    return {
      topics: names.map((name) => {
        const t = this.engine.controller.requireTopic(name)
        const live = new Set(this.engine.liveBrokerIds())
        return {
          name,
          topicId: t.topicId,
          // Leader and ISR exactly as the controller holds them, as Kafka's metadata reports them.
          partitions: t.partitions.map((p) => ({
            partitionErrorCode: p.leader >= 0 ? 0 : 5,
            partitionId: p.partition,
            leader: p.leader,
            replicas: [...p.replicas],
            isr: [...p.isr],
            offlineReplicas: p.replicas.filter((b) => !live.has(b)),
            leaderEpoch: p.leaderEpoch,
          })),
        }
      }),
    }
  }

  /** Per partition: high watermark (`offset`, `high`) and log start offset (`low`), as strings like kafkajs. */
  async fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; offset: string; high: string; low: string }>> {
    const t = this.engine.controller.requireTopic(topic)
    const states = await this.engine.partitionStates(t.partitions.map((p) => ({ topic, partition: p.partition })))
    return states.map((s) => ({ partition: s.partition, offset: String(s.highWatermark), high: String(s.highWatermark), low: String(s.logStartOffset) }))
  }

  /** Per partition, the first offset whose timestamp is at or after `timestamp` (the high watermark when none). */
  async fetchTopicOffsetsByTimestamp(topic: string, timestamp?: number): Promise<Array<{ partition: number; offset: string }>> {
    const t = this.engine.controller.requireTopic(topic)
    return Promise.all(t.partitions.map(async (p) => {
      const r = await this.engine.listOffset(topic, p.partition, timestamp ?? -1)
      const offset = r.offset >= 0 ? r.offset : (await this.engine.listOffset(topic, p.partition, -1)).offset
      return { partition: p.partition, offset: String(offset) }
    }))
  }

  /** Deletes records before the given offsets (offset -1: up to the high watermark). */
  async deleteTopicRecords(args: { topic: string; partitions: Array<{ partition: number; offset: string | number }> }): Promise<void> {
    const t = this.engine.controller.requireTopic(args.topic)
    for (const p of args.partitions) {
      if (!t.partitions[p.partition]) throw new UnknownTopicOrPartitionError(`Unknown partition ${args.topic}-${p.partition}`)
      await this.engine.deleteRecords(args.topic, p.partition, Number(p.offset))
    }
  }

  /** Topic configs with their values, defaults and docs (broker configs are not served). */
  async describeConfigs(args: { resources: Array<{ type: number; name: string; configNames?: string[] }>; includeSynonyms?: boolean }): Promise<{
    resources: Array<{ resourceType: number; resourceName: string; errorCode: number; errorMessage: string | null; configEntries: ConfigEntry[] }>
  }> {
    return {
      resources: args.resources.map((r) => {
        try {
          if (r.type !== ConfigResourceTypes.TOPIC) throw new InvalidRequestError(`Only TOPIC config resources are supported, got type ${r.type}`)
          this.engine.controller.requireTopic(r.name)
          const entries = describeLogConfig(this.engine.controller.topics.configsOf(r.name), parseLogConfig(this.engine.config.logDefaults))
            .filter((e) => !r.configNames || r.configNames.length === 0 || r.configNames.includes(e.name))
            .map((e) => ({
              configName: e.name, configValue: e.value, isDefault: e.isDefault,
              configSource: e.isDefault ? ConfigSource.DEFAULT_CONFIG : ConfigSource.DYNAMIC_TOPIC_CONFIG,
              isSensitive: false, readOnly: false, documentation: e.doc,
            }))
          return { resourceType: r.type, resourceName: r.name, errorCode: 0, errorMessage: null, configEntries: entries }
        } catch (err) {
          const e = isShardlogError(err) ? err : new ShardlogError(-1, String(err))
          return { resourceType: r.type, resourceName: r.name, errorCode: e.errorCode, errorMessage: e.message, configEntries: [] }
        }
      }),
    }
  }

  /**
   * Sets topic configs. With AlterConfigs' semantics (the default, as in kafkajs) the
   * given entries replace every override; `incremental: true` changes only those named.
   */
  async alterConfigs(args: { validateOnly?: boolean; incremental?: boolean; resources: Array<{ type: number; name: string; configEntries: Array<{ name: string; value: string | null }> }> }): Promise<void> {
    for (const r of args.resources) {
      if (r.type !== ConfigResourceTypes.TOPIC) throw new InvalidRequestError(`Only TOPIC config resources are supported, got type ${r.type}`)
      const set: Record<string, string> = {}
      const remove: string[] = []
      for (const e of r.configEntries) {
        if (e.value === null) remove.push(e.name)
        else set[e.name] = String(e.value)
      }
      await this.engine.controller.alterConfigs(r.name, { set, remove, replace: !args.incremental }, args.validateOnly)
    }
  }

  /** Consumer groups with their state and protocol type. */
  async listGroups(): Promise<{ groups: ListedGroup[] }> {
    return { groups: (await this.groups()).listGroups() }
  }

  /** State, protocol and members (with their decoded assignments) of groups. */
  async describeGroups(groupIds: string[]): Promise<{ groups: DescribedGroup[] }> {
    const groups = (await this.groups()).describeGroups(groupIds)
    for (const g of groups) throwIfError(g.errorCode, `describe group ${g.groupId}`)
    return { groups }
  }

  /** Deletes empty groups and their committed offsets (NON_EMPTY_GROUP while members remain). */
  async deleteGroups(groupIds: string[]): Promise<Array<{ groupId: string; errorCode: number }>> {
    const results = await (await this.groups()).deleteGroups(groupIds)
    for (const r of results) throwIfError(r.errorCode, `delete group ${r.groupId}`)
    return results
  }

  /**
   * Committed offsets of a group per topic, as kafkajs's fetchOffsets: `offset` is '-1'
   * where nothing is committed. Without `topics`, every topic the group committed to.
   */
  async fetchOffsets(args: { groupId: string; topics?: string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string; metadata: string | null }> }>> {
    const coordinator = await this.groups()
    const topics = args.topics?.map((name) => {
      const count = this.engine.controller.requireTopic(name).partitions.length
      return { name, partitionIndexes: Array.from({ length: count }, (_, i) => i) }
    }) ?? null
    const res = coordinator.fetchOffsets({ groupId: args.groupId, topics })
    throwIfError(res.errorCode, `fetch offsets of group ${args.groupId}`)
    return res.topics.map((t) => ({
      topic: t.name,
      partitions: t.partitions.map((p) => ({ partition: p.partitionIndex, offset: String(p.committedOffset), metadata: p.metadata })),
    }))
  }

  /** Sets a group's committed offsets (the group must have no active members). */
  async setOffsets(args: { groupId: string; topic: string; partitions: Array<{ partition: number; offset: string | number }> }): Promise<void> {
    const t = this.engine.controller.requireTopic(args.topic)
    for (const p of args.partitions) {
      if (!t.partitions[p.partition]) throw new UnknownTopicOrPartitionError(`Unknown partition ${args.topic}-${p.partition}`)
      const offset = Number(p.offset)
      if (!Number.isInteger(offset) || offset < 0) throw new InvalidRequestError(`Invalid offset ${String(p.offset)}`)
    }
    const res = await (await this.groups()).resetOffsets({
      groupId: args.groupId,
      topics: [{ name: args.topic, partitions: args.partitions.map((p) => ({ partitionIndex: p.partition, offset: Number(p.offset) })) }],
    })
    for (const rt of res.topics) for (const rp of rt.partitions) throwIfError(rp.errorCode, `set offset of ${rt.name}-${rp.partitionIndex}`)
  }

  /** Resets a group's offsets on a topic to the earliest (or latest) offsets. */
  async resetOffsets(args: { groupId: string; topic: string; earliest?: boolean }): Promise<void> {
    const offsets = await this.fetchTopicOffsets(args.topic)
    await this.setOffsets({
      groupId: args.groupId,
      topic: args.topic,
      partitions: offsets.map((o) => ({ partition: o.partition, offset: args.earliest ? o.low : o.high })),
    })
  }

  /**
   * LAG of a group: per partition, high watermark minus committed offset (null where
   * nothing is committed), the consuming member, and the total.
   */
  async lag(groupId: string): Promise<GroupLag> {
    const coordinator = await this.groups()
    return describeGroupLag(coordinator, groupId, async (topic, partition) => {
      const [state] = await this.engine.partitionStates([{ topic, partition }])
      return state!.highWatermark
    })
  }
}
