/**
 * `WireAdmin`: topic, config, offset and consumer-group administration over the Kafka protocol,
 * the operations Kafka's `Admin` client offers to `kafka-topics.sh`, `kafka-configs.sh` and
 * `kafka-consumer-groups.sh`. Every call is one or a few standard requests, routed as Kafka's
 * admin client routes them: topic changes to the controller, offsets to partition leaders,
 * group operations to the group's coordinator, ListGroups to every broker.
 *
 * Errors in a response become the typed error of their code ({@link throwIfError}), carrying
 * the broker's message. Retriable errors (NOT_COORDINATOR, NOT_LEADER_OR_FOLLOWER, ...) are
 * retried after refreshing what they make stale. Lives on the caller's thread.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { InvalidRequestError, LeaderNotAvailableError, UnknownTopicOrPartitionError, isShardlogError } from '../../errors.js'
import { ApiKey } from '../api-keys.js'
import type { KafkaConnection } from '../connection.js'
import type { DescribedGroup } from '../messages/describe-groups.js'
import { ZERO_UUID } from '../reader.js'
import { KafkaClient, isStaleMetadataError, throwIfError, type TopicMetadata } from './kafka-client.js'
import { partitionKey } from '../../topic-partition.js'

/** Kafka's ConfigResource.Type.TOPIC. */
export const CONFIG_RESOURCE_TOPIC = 2
/** Kafka's DescribeConfigs source DYNAMIC_TOPIC_CONFIG: a value set on the topic itself. */
export const CONFIG_SOURCE_DYNAMIC_TOPIC = 1
/** Kafka's ListOffsets timestamps with a special meaning. */
export const OffsetSpec = { LATEST: -1, EARLIEST: -2 } as const
/** IncrementalAlterConfigs operations (Kafka's AlterConfigOp.OpType). */
const ALTER_OP_SET = 0
const ALTER_OP_DELETE = 1
const TIMEOUT_MS = 30_000

/** A topic to create. `-1` (the default) for partitions/replication takes the broker's default (KIP-464). */
export interface NewTopic {
  name: string
  numPartitions?: number
  replicationFactor?: number
  /** Topic configs by Kafka name (`retention.ms`, `cleanup.policy`, ...). */
  configs?: Record<string, string>
}

/** A config entry from DescribeConfigs. */
export interface TopicConfigEntry {
  name: string
  value: string | null
  /** Kafka's config source: 1 = set on the topic, 5 = default, ... */
  source: number
  isDefault: boolean
  readOnly: boolean
  isSensitive: boolean
}

/** A partition and an offset. */
export interface PartitionOffset {
  topic: string
  partition: number
  offset: number
}

/** Log start offset and high watermark of a partition. */
export interface PartitionOffsetRange {
  topic: string
  partition: number
  logStartOffset: number
  highWatermark: number
}

/** A member of a consumer group, with its assignment decoded when it is a consumer group. */
export interface GroupMemberDescription {
  memberId: string
  groupInstanceId: string | null
  clientId: string
  /** As Kafka reports it, e.g. `/127.0.0.1`. */
  clientHost: string
  /** The member's ConsumerProtocolAssignment bytes (empty while the group rebalances). */
  assignment: Buffer
}

/** A consumer group as DescribeGroups reports it. */
export interface GroupDescription {
  groupId: string
  /** Empty, Stable, PreparingRebalance, CompletingRebalance or Dead (an unknown group). */
  state: string
  protocolType: string
  /** The assignor the group chose (`range`, ...). */
  protocol: string
  members: GroupMemberDescription[]
}

/** A group from ListGroups. */
export interface GroupListing {
  groupId: string
  protocolType: string
  /** Empty when the broker is older than ListGroups v4. */
  state: string
}

/** Topic, config, offset and group administration over the wire. */
export class WireAdmin {
  constructor(readonly client: KafkaClient) {}

  /** Connects to `bootstrap` (see {@link KafkaClient.connect}). */
  static async connect(bootstrap: string, clientId = 'shardlog-admin'): Promise<WireAdmin> {
    return new WireAdmin(await KafkaClient.connect({ bootstrap, clientId }))
  }

  /** Closes the connections. */
  close(): Promise<void> {
    return this.client.close()
  }

  /**
   * Creates topics (CreateTopics). Throws the first failure's typed error (TOPIC_ALREADY_EXISTS,
   * INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR, INVALID_CONFIG, ...). Waits until the new
   * topics have leaders, unless `validateOnly`.
   */
  async createTopics(topics: readonly NewTopic[], options: { validateOnly?: boolean } = {}): Promise<void> {
    if (topics.length === 0) return
    const connection = await this.client.controllerConnection()
    const response = await connection.request(ApiKey.CreateTopics, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.numPartitions ?? -1,
        replicationFactor: t.replicationFactor ?? -1,
        assignments: [],
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: TIMEOUT_MS,
      validateOnly: options.validateOnly ?? false,
    })
    for (const r of response.topics) throwIfError(r.errorCode, `creating topic '${r.name}'`, r.errorMessage)
    if (!options.validateOnly) await this.client.topicMetadata(topics.map((t) => t.name), { refresh: true, awaitCreation: true })
  }

  /** Deletes topics (DeleteTopics) and waits until the metadata no longer lists them. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    if (names.length === 0) return
    const connection = await this.client.controllerConnection()
    const version = connection.versionFor(ApiKey.DeleteTopics)
    const response = await connection.request(ApiKey.DeleteTopics, {
      // v6+ names topics in `topics` (name or id), older versions in `topicNames`.
      topics: version >= 6 ? names.map((name) => ({ name, topicId: ZERO_UUID })) : [],
      topicNames: version >= 6 ? [] : [...names],
      timeoutMs: TIMEOUT_MS,
    }, { version })
    for (const r of response.responses) throwIfError(r.errorCode, `deleting topic '${r.name ?? r.topicId}'`, r.errorMessage)
    // Deletion propagates to every broker's metadata asynchronously in Kafka.
    for (let i = 0; i < 50; i++) {
      const meta = await this.client.refreshMetadata(names)
      if (meta.topics.every((t) => t.errorCode === 3)) return
      await sleep(this.client.retryBackoffMs)
    }
    // The controller accepted the deletion; brokers that still list the topic catch up on their own.
  }

  /** Topic names, sorted; internal topics (`__consumer_offsets`) only when asked. */
  async listTopics(options: { includeInternal?: boolean } = {}): Promise<string[]> {
    const response = await this.client.refreshMetadata(null)
    return response.topics
      .filter((t) => t.errorCode === 0 && t.name !== null && (options.includeInternal === true || !t.isInternal))
      .map((t) => t.name as string)
      .sort()
  }

  /** Partitions, leaders, replicas and ISR of `names`; UNKNOWN_TOPIC_OR_PARTITION for a missing one. */
  async describeTopics(names: readonly string[]): Promise<TopicMetadata[]> {
    const metadata = await this.client.topicMetadata(names, { refresh: true, waitForLeaders: false })
    return names.map((n) => metadata.get(n) as TopicMetadata)
  }

  /** Raises the partition count of `topic` to `count` (CreatePartitions); INVALID_PARTITIONS for a decrease. */
  async createPartitions(topic: string, count: number): Promise<void> {
    const connection = await this.client.controllerConnection()
    const response = await connection.request(ApiKey.CreatePartitions, {
      topics: [{ name: topic, count, assignments: null }],
      timeoutMs: TIMEOUT_MS,
      validateOnly: false,
    })
    for (const r of response.results) throwIfError(r.errorCode, `adding partitions to '${r.name}'`, r.errorMessage)
    await this.waitFor(async () => ((await this.client.topicMetadata([topic], { refresh: true })).get(topic)?.partitions.length ?? 0) >= count)
  }

  /** The configs of a topic (DescribeConfigs), every entry with its source. */
  async describeTopicConfigs(topic: string): Promise<TopicConfigEntry[]> {
    const connection = await this.client.anyConnection()
    const response = await connection.request(ApiKey.DescribeConfigs, {
      resources: [{ resourceType: CONFIG_RESOURCE_TOPIC, resourceName: topic, configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    })
    const result = response.results[0]
    if (result === undefined) throw new UnknownTopicOrPartitionError(`DescribeConfigs returned nothing for topic '${topic}'`)
    throwIfError(result.errorCode, `describing the configs of topic '${topic}'`, result.errorMessage)
    return result.configs.map((c) => ({
      name: c.name,
      value: c.value,
      // DescribeConfigs v0 has isDefault instead of a source.
      source: c.configSource === -1 ? (c.isDefault ? 5 : CONFIG_SOURCE_DYNAMIC_TOPIC) : c.configSource,
      isDefault: c.isDefault || c.configSource === 5,
      readOnly: c.readOnly,
      isSensitive: c.isSensitive,
    }))
  }

  /**
   * Sets (`value` a string) or removes (`value` null) topic configs, as `kafka-configs.sh --alter`
   * does: IncrementalAlterConfigs where the broker has it, else AlterConfigs with the topic's
   * other dynamic configs carried over (AlterConfigs replaces the whole set).
   */
  async alterTopicConfigs(topic: string, changes: Record<string, string | null>): Promise<void> {
    const entries = Object.entries(changes)
    if (entries.length === 0) return
    const connection = await this.client.anyConnection()
    if (connection.brokerVersions.has(ApiKey.IncrementalAlterConfigs)) {
      const response = await connection.request(ApiKey.IncrementalAlterConfigs, {
        resources: [{
          resourceType: CONFIG_RESOURCE_TOPIC,
          resourceName: topic,
          configs: entries.map(([name, value]) => ({ name, configOperation: value === null ? ALTER_OP_DELETE : ALTER_OP_SET, value })),
        }],
        validateOnly: false,
      })
      for (const r of response.responses) throwIfError(r.errorCode, `altering the configs of topic '${topic}'`, r.errorMessage)
      return
    }
    const current = new Map<string, string | null>()
    for (const c of await this.describeTopicConfigs(topic)) if (c.source === CONFIG_SOURCE_DYNAMIC_TOPIC) current.set(c.name, c.value)
    for (const [name, value] of entries) {
      if (value === null) current.delete(name)
      else current.set(name, value)
    }
    const response = await connection.request(ApiKey.AlterConfigs, {
      resources: [{ resourceType: CONFIG_RESOURCE_TOPIC, resourceName: topic, configs: [...current].map(([name, value]) => ({ name, value })) }],
      validateOnly: false,
    })
    for (const r of response.responses) throwIfError(r.errorCode, `altering the configs of topic '${topic}'`, r.errorMessage)
  }

  /**
   * ListOffsets for partitions, each asked of its leader: `spec` is {@link OffsetSpec}.EARLIEST
   * (log start offset), LATEST (high watermark, read_uncommitted) or a timestamp in ms (the first
   * offset at or after it; -1 when there is none). Results are in the order asked.
   */
  async listOffsets(partitions: ReadonlyArray<{ topic: string; partition: number }>, spec: number): Promise<PartitionOffset[]> {
    if (partitions.length === 0) return []
    const topics = [...new Set(partitions.map((p) => p.topic))]
    // A missing topic or partition fails here at once; leader moves later on are retried below.
    const metadata = await this.client.topicMetadata(topics)
    for (const p of partitions) {
      const count = metadata.get(p.topic)?.partitions.length ?? 0
      if (!Number.isInteger(p.partition) || p.partition < 0 || p.partition >= count) {
        throw new UnknownTopicOrPartitionError(`Partition ${p.topic}-${p.partition} does not exist (the topic has ${count})`)
      }
    }
    return this.client.retry(async () => {
      const byLeader = new Map<number, Array<{ topic: string; partition: number }>>()
      for (const p of partitions) {
        const leader = this.client.leaderFor(p.topic, p.partition)
        if (leader < 0) throw new LeaderNotAvailableError(`Partition ${p.topic}-${p.partition} has no leader`)
        let list = byLeader.get(leader)
        if (list === undefined) byLeader.set(leader, (list = []))
        list.push(p)
      }
      const found = new Map<string, number>()
      await Promise.all([...byLeader].map(async ([leader, list]) => {
        const connection = await this.client.brokerConnection(leader)
        const response = await connection.request(ApiKey.ListOffsets, {
          replicaId: -1,
          isolationLevel: 0,
          topics: groupByTopic(list).map(([name, ps]) => ({
            name,
            partitions: ps.map((partition) => ({ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: spec, maxNumOffsets: 1 })),
          })),
          timeoutMs: TIMEOUT_MS,
        })
        for (const t of response.topics) {
          for (const p of t.partitions) {
            throwIfError(p.errorCode, `listing offsets of ${t.name}-${p.partitionIndex}`)
            // ListOffsets v0 answers in oldStyleOffsets.
            found.set(partitionKey(t.name, p.partitionIndex), p.oldStyleOffsets.length > 0 ? p.oldStyleOffsets[0] as number : p.offset)
          }
        }
      }))
      return partitions.map((p) => ({ topic: p.topic, partition: p.partition, offset: found.get(partitionKey(p.topic, p.partition)) ?? -1 }))
    }, { onRetry: async (err) => { if (isStaleMetadataError(err)) await this.client.refreshMetadata(topics) } })
  }

  /** Log start offsets and high watermarks of every partition of `topic`. */
  async topicOffsets(topic: string): Promise<PartitionOffsetRange[]> {
    const metadata = (await this.client.topicMetadata([topic], { refresh: true })).get(topic) as TopicMetadata
    const partitions = metadata.partitions.map((p) => ({ topic, partition: p.partition }))
    const [starts, ends] = await Promise.all([this.listOffsets(partitions, OffsetSpec.EARLIEST), this.listOffsets(partitions, OffsetSpec.LATEST)])
    return partitions.map((p, i) => ({ topic, partition: p.partition, logStartOffset: (starts[i] as PartitionOffset).offset, highWatermark: (ends[i] as PartitionOffset).offset }))
  }

  /** Every group of the cluster (ListGroups to each broker, as Kafka's admin does), sorted by id. */
  async listGroups(): Promise<GroupListing[]> {
    await this.client.refreshMetadata([])
    const nodes = [...this.client.brokers.keys()]
    const lists = await Promise.all(nodes.map(async (nodeId) => {
      const connection = await this.client.brokerConnection(nodeId)
      const response = await connection.request(ApiKey.ListGroups, { statesFilter: [], typesFilter: [] })
      throwIfError(response.errorCode, `listing the groups of broker ${nodeId}`)
      return response.groups
    }))
    const seen = new Map<string, GroupListing>()
    for (const g of lists.flat()) seen.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState })
    return [...seen.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0))
  }

  /** DescribeGroups for one group; an unknown group comes back in state `Dead` with no members. */
  async describeGroup(groupId: string): Promise<GroupDescription> {
    const group = await this.onCoordinator(groupId, async (connection) => {
      const response = await connection.request(ApiKey.DescribeGroups, { groups: [groupId], includeAuthorizedOperations: false })
      const g: DescribedGroup | undefined = response.groups[0]
      if (g === undefined) throw new InvalidRequestError(`DescribeGroups returned nothing for group '${groupId}'`)
      throwIfError(g.errorCode, `describing group '${groupId}'`)
      return g
    })
    return {
      groupId: group.groupId,
      state: group.groupState,
      protocolType: group.protocolType,
      protocol: group.protocolData,
      members: group.members.map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        assignment: m.memberAssignment,
      })),
    }
  }

  /**
   * The committed offsets of a group (OffsetFetch), all of them, or those of `partitions`.
   * Partitions without a commit are left out (the broker answers -1 for them).
   */
  async fetchCommittedOffsets(groupId: string, partitions?: ReadonlyArray<{ topic: string; partition: number }>): Promise<PartitionOffset[]> {
    const topics = partitions === undefined ? null : groupByTopic(partitions).map(([name, ps]) => ({ name, partitionIndexes: ps }))
    return this.onCoordinator(groupId, async (connection) => {
      const version = connection.versionFor(ApiKey.OffsetFetch)
      const batched = version >= 8
      const response = await connection.request(ApiKey.OffsetFetch, {
        // v8+ (KIP-709) batches groups; older versions use the top-level fields.
        groupId: batched ? '' : groupId,
        topics: batched ? [] : topics,
        groups: batched ? [{ groupId, memberId: null, memberEpoch: -1, topics }] : [],
        requireStable: false,
      }, { version })
      const out: PartitionOffset[] = []
      if (version >= 8) {
        const g = response.groups[0]
        if (g === undefined) throw new InvalidRequestError(`OffsetFetch returned nothing for group '${groupId}'`)
        throwIfError(g.errorCode, `fetching the offsets of group '${groupId}'`)
        for (const t of g.topics) for (const p of t.partitions) collectCommitted(out, t.name, p, groupId)
      } else {
        throwIfError(response.errorCode, `fetching the offsets of group '${groupId}'`)
        for (const t of response.topics) for (const p of t.partitions) collectCommitted(out, t.name, p, groupId)
      }
      return out.sort(comparePartitions)
    })
  }

  /**
   * Commits offsets for a group that has no active members (OffsetCommit with generation -1 and
   * no member id, as `kafka-consumer-groups.sh --reset-offsets --execute` does). A group with
   * members answers UNKNOWN_MEMBER_ID / REBALANCE_IN_PROGRESS.
   */
  async commitGroupOffsets(groupId: string, offsets: readonly PartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return
    const offsetOf = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
    await this.onCoordinator(groupId, async (connection) => {
      const response = await connection.request(ApiKey.OffsetCommit, {
        groupId,
        generationIdOrMemberEpoch: -1,
        memberId: '',
        groupInstanceId: null,
        retentionTimeMs: -1,
        topics: groupByTopic(offsets.map((o) => ({ topic: o.topic, partition: o.partition }))).map(([name, ps]) => ({
          name,
          partitions: ps.map((partition) => ({
            partitionIndex: partition,
            committedOffset: offsetOf.get(partitionKey(name, partition)) as number,
            committedLeaderEpoch: -1,
            commitTimestamp: -1,
            committedMetadata: '',
          })),
        })),
      })
      for (const t of response.topics) for (const p of t.partitions) throwIfError(p.errorCode, `committing the offset of ${t.name}-${p.partitionIndex} for group '${groupId}'`)
    })
  }

  /** Deletes groups (DeleteGroups): NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND for unknown ones. */
  async deleteGroup(groupId: string): Promise<void> {
    await this.onCoordinator(groupId, async (connection) => {
      const response = await connection.request(ApiKey.DeleteGroups, { groupsNames: [groupId] })
      for (const r of response.results) throwIfError(r.errorCode, `deleting group '${r.groupId}'`)
    })
  }

  /** Runs `call` on the group's coordinator, finding it again after NOT_COORDINATOR and retrying retriable errors. */
  private onCoordinator<T>(groupId: string, call: (connection: KafkaConnection) => Promise<T>): Promise<T> {
    return this.client.retry(async () => call(await this.client.coordinatorConnection(groupId)), {
      onRetry: (err) => {
        if (err.code === 'NOT_COORDINATOR' || err.code === 'COORDINATOR_NOT_AVAILABLE' || err.code === 'NETWORK_EXCEPTION') this.client.forgetCoordinator(groupId)
      },
    })
  }

  private async waitFor(condition: () => Promise<boolean>): Promise<void> {
    for (let i = 0; i < 50; i++) {
      try {
        if (await condition()) return
      } catch (err) {
        if (!isShardlogError(err) || !err.retriable) throw err
      }
      await sleep(this.client.retryBackoffMs)
    }
  }
}

function collectCommitted(out: PartitionOffset[], topic: string, p: { partitionIndex: number; committedOffset: number; errorCode: number }, groupId: string): void {
  throwIfError(p.errorCode, `fetching the offset of ${topic}-${p.partitionIndex} for group '${groupId}'`)
  if (p.committedOffset >= 0) out.push({ topic, partition: p.partitionIndex, offset: p.committedOffset })
}

/** Partitions grouped by topic, in first-seen topic order, partitions ascending. */
export function groupByTopic(partitions: ReadonlyArray<{ topic: string; partition: number }>): Array<[string, number[]]> {
  const byTopic = new Map<string, number[]>()
  for (const p of partitions) {
    let list = byTopic.get(p.topic)
    if (list === undefined) byTopic.set(p.topic, (list = []))
    if (!list.includes(p.partition)) list.push(p.partition)
  }
  return [...byTopic].map(([t, ps]) => [t, ps.sort((a, b) => a - b)])
}

/** Orders partitions by topic, then partition. */
export function comparePartitions(a: { topic: string; partition: number }, b: { topic: string; partition: number }): number {
  return a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition
}
