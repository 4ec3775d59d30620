/**
 * `KafkaClient`: the cluster layer of shardlog's wire client (kafkajs's `cluster/`): it turns a
 * bootstrap list into a metadata cache (brokers, topics, partition leaders) and one
 * {@link KafkaConnection} per broker, and finds group coordinators. Producers, consumers and the
 * admin client sit on top of it; they speak only standard Kafka protocol, so the same code works
 * against shardlog's listeners and against Apache Kafka.
 *
 * Connections:
 * - one per broker node id, opened on first use and reopened after it breaks;
 * - one per group coordinator, apart from the node's data connection, as the Java client does
 *   (node id `Integer.MAX_VALUE - id`): a JoinGroup parked for a rebalance must not hold back
 *   the Produce/Fetch responses queued behind it on the same connection (responses come in
 *   request order);
 * - the bootstrap connection, used for requests any broker can answer until nodes are known.
 *
 * Metadata is refreshed on demand: when a topic is missing from the cache, when the cache is
 * older than `metadataMaxAgeMs` (Kafka's `metadata.max.age.ms`), and when a caller reports
 * NOT_LEADER_OR_FOLLOWER / UNKNOWN_TOPIC_OR_PARTITION / LEADER_NOT_AVAILABLE by calling
 * {@link KafkaClient.refreshMetadata}. Lives on the thread that created it; not shared.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  InvalidConfigError, LeaderNotAvailableError, NetworkError, UnknownTopicOrPartitionError, errorFromCode, isShardlogError,
  type ShardlogError,
} from '../../errors.js'
import { ApiKey } from '../api-keys.js'
import { DEFAULT_REQUEST_TIMEOUT_MS, KafkaConnection } from '../connection.js'
import type { MetadataResponse } from '../messages/metadata.js'
import { ZERO_UUID } from '../reader.js'

/** Kafka's default `retry.backoff.ms`. */
export const DEFAULT_RETRY_BACKOFF_MS = 100
/** Kafka's `retry.backoff.max.ms`. */
const MAX_RETRY_BACKOFF_MS = 1000
/** Kafka's default `metadata.max.age.ms`. */
export const DEFAULT_METADATA_MAX_AGE_MS = 300_000
/** How long {@link KafkaClient.topicMetadata} waits for leaders of new topics (Kafka's `max.block.ms` is 60 s; a CLI should answer sooner). */
const DEFAULT_LEADER_WAIT_MS = 10_000
/** FindCoordinator key type of consumer groups. */
const COORDINATOR_KEY_TYPE_GROUP = 0

/** A `host:port` pair. */
export interface BrokerAddress {
  host: string
  port: number
}

/** A broker as Metadata describes it. */
export interface BrokerNode extends BrokerAddress {
  nodeId: number
  rack: string | null
}

/** One partition of a topic, from Metadata. */
export interface PartitionMetadata {
  partition: number
  /** Leader node id; -1 while there is none. */
  leader: number
  leaderEpoch: number
  replicas: number[]
  isr: number[]
  offlineReplicas: number[]
  /** Kafka error code of the partition (LEADER_NOT_AVAILABLE while it has no leader). */
  errorCode: number
}

/** A topic from Metadata. */
export interface TopicMetadata {
  name: string
  /** Kafka's topic id (base64url UUID); {@link ZERO_UUID} from brokers older than Metadata v10. */
  topicId: string
  isInternal: boolean
  /** Partitions ordered by index. */
  partitions: PartitionMetadata[]
}

/** Options of {@link KafkaClient.connect}. */
export interface KafkaClientOptions {
  /** Bootstrap servers: `host:port`, a comma-separated list of them, or an array. */
  bootstrap: string | readonly string[]
  /** Kafka's `client.id`, sent in every request header. Default `'shardlog'`. */
  clientId?: string
  /** Kafka's `request.timeout.ms`; also the connect timeout. Default 30000. */
  requestTimeoutMs?: number
  /** Kafka's `metadata.max.age.ms`. Default 300000. */
  metadataMaxAgeMs?: number
  /** Kafka's `retry.backoff.ms`: first wait before a retry, doubled up to 1 s. Default 100. */
  retryBackoffMs?: number
}

/** Options of {@link KafkaClient.retry}. */
export interface RetryOptions {
  /** Retries after the first attempt. Default 5. */
  retries?: number
  /** Called with each retriable error before waiting and trying again (refresh metadata here). */
  onRetry?: (err: ShardlogError, attempt: number) => void | Promise<void>
}

/** Options of {@link KafkaClient.topicMetadata}. */
export interface TopicMetadataOptions {
  /** Asks the broker to create missing topics (it does so only with `auto.create.topics.enable`). Default false. */
  allowAutoTopicCreation?: boolean
  /** Fetches fresh metadata even when the cache has the topics. Default false. */
  refresh?: boolean
  /** Waits until every partition has a leader (new topics, elections). Default true. */
  waitForLeaders?: boolean
  /**
   * Waits for topics that are not known yet instead of failing at once: right after
   * CreateTopics, a Kafka broker other than the controller may not have the topic yet. Default false.
   */
  awaitCreation?: boolean
  /** Bound of that wait in ms. Default 10000. */
  timeoutMs?: number
}

/**
 * Parses bootstrap servers: `host:port`, `[v6addr]:port`, comma-separated lists or arrays.
 * Throws INVALID_CONFIG for an entry without a valid port.
 */
export function parseBootstrap(bootstrap: string | readonly string[]): BrokerAddress[] {
  const entries = (typeof bootstrap === 'string' ? bootstrap.split(',') : bootstrap.flatMap((b) => b.split(',')))
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
  if (entries.length === 0) throw new InvalidConfigError('bootstrap servers: expected host:port')
  return entries.map((entry) => {
    const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(entry)
    const port = match === null ? NaN : Number(match[3])
    if (match === null || port < 1 || port > 65535) {
      throw new InvalidConfigError(`bootstrap server '${entry}': expected host:port with a port from 1 to 65535`)
    }
    return { host: (match[1] ?? match[2]) as string, port }
  })
}

/**
 * Throws the typed error for a Kafka error code found in a response (nothing for 0). The
 * broker's own message, when it sent one, is kept after `context`.
 */
export function throwIfError(errorCode: number, context: string, errorMessage?: string | null): void {
  if (errorCode === 0) return
  const base = errorFromCode(errorCode)
  throw errorFromCode(errorCode, errorMessage ? `${context}: ${errorMessage}` : `${context}: ${base.message}`)
}

/** True for errors after which cached metadata may be wrong (a leader moved, a topic changed). */
export function isStaleMetadataError(err: unknown): boolean {
  if (!isShardlogError(err)) return false
  switch (err.code) {
    case 'NOT_LEADER_OR_FOLLOWER':
    case 'UNKNOWN_TOPIC_OR_PARTITION':
    case 'LEADER_NOT_AVAILABLE':
    case 'FENCED_LEADER_EPOCH':
    case 'UNKNOWN_LEADER_EPOCH':
    case 'UNKNOWN_TOPIC_ID':
    case 'INCONSISTENT_TOPIC_ID':
    case 'NETWORK_EXCEPTION':
    case 'REPLICA_NOT_AVAILABLE':
      return true
    default:
      return false
  }
}

/** A metadata cache and connection pool for one Kafka (or shardlog) cluster. */
export class KafkaClient {
  readonly clientId: string
  readonly requestTimeoutMs: number
  readonly retryBackoffMs: number
  private readonly bootstrapServers: BrokerAddress[]
  private readonly metadataMaxAgeMs: number
  private bootstrapConnection: KafkaConnection | undefined
  private readonly nodeConnections = new Map<number, Promise<KafkaConnection>>()
  private readonly coordinatorConnections = new Map<string, Promise<KafkaConnection>>()
  private readonly coordinators = new Map<string, BrokerNode>()
  private brokerNodes = new Map<number, BrokerNode>()
  private readonly topics = new Map<string, TopicMetadata>()
  private metadataAt = 0
  private clusterIdValue: string | null = null
  private controllerIdValue = -1
  private closing = false

  private constructor(options: KafkaClientOptions) {
    this.bootstrapServers = parseBootstrap(options.bootstrap)
    this.clientId = options.clientId ?? 'shardlog'
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? DEFAULT_METADATA_MAX_AGE_MS
    this.retryBackoffMs = options.retryBackoffMs ?? DEFAULT_RETRY_BACKOFF_MS
  }

  /**
   * Connects to the first reachable bootstrap server and loads the broker list. Rejects with
   * NETWORK_EXCEPTION naming every server tried when none answers.
   */
  static async connect(options: KafkaClientOptions): Promise<KafkaClient> {
    const client = new KafkaClient(options)
    try {
      await client.refreshMetadata([])
    } catch (err) {
      await client.close()
      throw err
    }
    return client
  }

  /** Brokers from the last Metadata response, by node id. */
  get brokers(): ReadonlyMap<number, BrokerNode> {
    return this.brokerNodes
  }

  /** The cluster id, or null from brokers older than Metadata v2. */
  get clusterId(): string | null {
    return this.clusterIdValue
  }

  /** The controller's node id (-1 when unknown). */
  get controllerId(): number {
    return this.controllerIdValue
  }

  /** The cached metadata of `topic`, or undefined. */
  cachedTopic(topic: string): TopicMetadata | undefined {
    return this.topics.get(topic)
  }

  /** The leader of a partition according to the cache; -1 when unknown. */
  leaderFor(topic: string, partition: number): number {
    return this.topics.get(topic)?.partitions[partition]?.leader ?? -1
  }

  /**
   * Fetches metadata for `topics` (null: every topic) and merges it into the cache; a topic the
   * broker does not know is dropped from it. Returns the raw response.
   */
  async refreshMetadata(topics: readonly string[] | null, options: { allowAutoTopicCreation?: boolean } = {}): Promise<MetadataResponse> {
    const connection = await this.anyConnection()
    const version = connection.versionFor(ApiKey.Metadata)
    if (version === 0 && topics !== null && topics.length === 0) {
      throw new InvalidConfigError('the broker only speaks Metadata v0, which cannot ask for no topics')
    }
    // Before v4 a broker with auto.create.topics.enable creates every topic named in Metadata
    // (there is no allowAutoTopicCreation field); without consent to that, ask for all topics
    // and pick the named ones, so that looking a topic up never creates it.
    const askAll = topics === null || (version < 4 && options.allowAutoTopicCreation !== true && topics.length > 0)
    // Metadata v0 has no null array: an empty list means "all topics" there.
    const requested = askAll ? (version === 0 ? [] : null) : (topics as readonly string[]).map((name) => ({ topicId: ZERO_UUID, name }))
    const response = await connection.request(ApiKey.Metadata, {
      topics: requested,
      // Before v4 the field does not exist and must keep its default.
      allowAutoTopicCreation: version < 4 ? true : options.allowAutoTopicCreation ?? false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }, { version })
    this.applyMetadata(response, askAll)
    if (topics === null || !askAll) return response
    const byName = new Map(response.topics.map((t) => [t.name, t]))
    return {
      ...response,
      topics: topics.map((name) => byName.get(name) ?? {
        errorCode: 3, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648,
      }),
    }
  }

  /**
   * Metadata of `topics`, from the cache when fresh. Throws UNKNOWN_TOPIC_OR_PARTITION for a
   * topic the cluster does not have (after asking for auto-creation when allowed), and
   * LEADER_NOT_AVAILABLE when leaders do not appear within the wait.
   */
  async topicMetadata(topics: readonly string[], options: TopicMetadataOptions = {}): Promise<Map<string, TopicMetadata>> {
    const waitForLeaders = options.waitForLeaders ?? true
    const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_LEADER_WAIT_MS)
    let refresh = options.refresh === true || Date.now() - this.metadataAt > this.metadataMaxAgeMs
    let backoff = this.retryBackoffMs
    for (;;) {
      // What is still missing; waited out (retriable) until the deadline, then thrown.
      let waitingFor: ShardlogError | undefined
      if (refresh || topics.some((t) => !this.topics.has(t))) {
        const response = await this.refreshMetadata(topics, { allowAutoTopicCreation: options.allowAutoTopicCreation })
        for (const t of response.topics) {
          if (t.errorCode === 0) continue
          const name = t.name ?? '?'
          if (t.errorCode === 3 && !options.allowAutoTopicCreation && !options.awaitCreation) {
            throw new UnknownTopicOrPartitionError(`Topic '${name}' does not exist`)
          }
          // Retriable topic errors (being created, leader election) are waited out; others fail now.
          if (!errorFromCode(t.errorCode).retriable) throwIfError(t.errorCode, `metadata of topic '${name}'`)
          waitingFor = errorFromCode(t.errorCode, `metadata of topic '${name}' not available: ${errorFromCode(t.errorCode).message}`)
        }
      }
      if (waitingFor === undefined) {
        const missing = topics.find((t) => !this.topics.has(t))
        if (missing !== undefined) waitingFor = new UnknownTopicOrPartitionError(`Topic '${missing}' is not in the metadata`)
      }
      if (waitingFor === undefined && waitForLeaders) {
        for (const t of topics) {
          const leaderless = this.topics.get(t)?.partitions.find((p) => p.leader < 0)
          if (leaderless !== undefined) {
            waitingFor = new LeaderNotAvailableError(`Partition ${t}-${leaderless.partition} has no leader`)
            break
          }
        }
      }
      if (waitingFor === undefined) return new Map(topics.map((t) => [t, this.topics.get(t) as TopicMetadata]))
      if (Date.now() + backoff > deadline) throw waitingFor
      await sleep(backoff)
      backoff = Math.min(backoff * 2, MAX_RETRY_BACKOFF_MS)
      refresh = true
    }
  }

  /** The connection to broker `nodeId`, opened on first use (and again after it broke). */
  brokerConnection(nodeId: number): Promise<KafkaConnection> {
    const existing = this.nodeConnections.get(nodeId)
    if (existing !== undefined) return existing.then((c) => (c.closed ? this.reopenNode(nodeId, existing) : c))
    const node = this.brokerNodes.get(nodeId)
    if (node === undefined) return Promise.reject(new LeaderNotAvailableError(`broker ${nodeId} is not in the cluster metadata`))
    return this.openNode(nodeId, node)
  }

  /** A connection to any broker: the least busy open one, else a new one. */
  async anyConnection(): Promise<KafkaConnection> {
    this.assertOpen()
    let best: KafkaConnection | undefined
    for (const pending of this.nodeConnections.values()) {
      const c = await pending.catch(() => undefined)
      if (c !== undefined && !c.closed && (best === undefined || c.inFlight < best.inFlight)) best = c
    }
    if (best !== undefined) return best
    if (this.bootstrapConnection !== undefined && !this.bootstrapConnection.closed) return this.bootstrapConnection
    const errors: string[] = []
    for (const node of this.brokerNodes.values()) {
      try {
        return await this.brokerConnection(node.nodeId)
      } catch (err) {
        errors.push(`${node.host}:${node.port}: ${(err as Error).message}`)
      }
    }
    for (const address of this.bootstrapServers) {
      try {
        this.bootstrapConnection = await this.open(address)
        return this.bootstrapConnection
      } catch (err) {
        errors.push(`${address.host}:${address.port}: ${(err as Error).message}`)
      }
    }
    throw new NetworkError(`cannot reach any broker (${errors.join('; ')})`)
  }

  /** The connection to the controller (CreateTopics, DeleteTopics, CreatePartitions), or any broker when it is unknown. */
  controllerConnection(): Promise<KafkaConnection> {
    return this.brokerNodes.has(this.controllerIdValue) ? this.brokerConnection(this.controllerIdValue) : this.anyConnection()
  }

  /**
   * The coordinator of consumer group `groupId` (FindCoordinator, cached) and a connection to it
   * that is separate from the node's data connection. Call {@link forgetCoordinator} after
   * NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE.
   */
  async coordinatorConnection(groupId: string): Promise<KafkaConnection> {
    let node = this.coordinators.get(groupId)
    if (node === undefined) {
      node = await this.findCoordinator(groupId)
      this.coordinators.set(groupId, node)
    }
    const key = `${node.host}:${node.port}`
    const existing = this.coordinatorConnections.get(key)
    if (existing !== undefined) {
      const c = await existing.catch(() => undefined)
      if (c !== undefined && !c.closed) return c
      this.coordinatorConnections.delete(key)
    }
    const opening = this.open(node)
    this.coordinatorConnections.set(key, opening)
    opening.catch(() => this.coordinatorConnections.delete(key))
    return opening
  }

  /** Drops the cached coordinator of `groupId`, so the next call asks FindCoordinator again. */
  forgetCoordinator(groupId: string): void {
    this.coordinators.delete(groupId)
  }

  /**
   * Runs `attempt` and retries it after retriable errors (Kafka's RetriableException), with
   * exponential backoff from `retry.backoff.ms` up to 1 s. Other errors, and the last retriable
   * one, are thrown.
   */
  async retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
    const retries = options.retries ?? 5
    let backoff = this.retryBackoffMs
    for (let n = 0; ; n++) {
      try {
        return await attempt(n)
      } catch (err) {
        if (!isShardlogError(err) || !err.retriable || n >= retries || this.closing) throw err
        await options.onRetry?.(err, n + 1)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, MAX_RETRY_BACKOFF_MS)
      }
    }
  }

  /** Closes every connection; requests in flight reject with NETWORK_EXCEPTION. */
  async close(): Promise<void> {
    this.closing = true
    const all = [...this.nodeConnections.values(), ...this.coordinatorConnections.values()]
    this.nodeConnections.clear()
    this.coordinatorConnections.clear()
    const closing = all.map((p) => p.then((c) => c.close(), () => undefined))
    if (this.bootstrapConnection !== undefined) closing.push(this.bootstrapConnection.close())
    this.bootstrapConnection = undefined
    await Promise.all(closing)
  }

  private async findCoordinator(groupId: string): Promise<BrokerNode> {
    const connection = await this.anyConnection()
    const version = connection.versionFor(ApiKey.FindCoordinator)
    // v4+ (KIP-699) asks for a list of keys, older versions for one; the unused form stays empty.
    const response = await connection.request(ApiKey.FindCoordinator, {
      key: version >= 4 ? '' : groupId,
      keyType: COORDINATOR_KEY_TYPE_GROUP,
      coordinatorKeys: version >= 4 ? [groupId] : [],
    }, { version })
    // v4+ (KIP-699) answers per key; older versions in the top-level fields.
    const found = version >= 4 ? response.coordinators[0] : response
    if (found === undefined) throw new NetworkError(`FindCoordinator for group '${groupId}' returned no coordinator`)
    throwIfError(found.errorCode, `finding the coordinator of group '${groupId}'`, found.errorMessage)
    return { nodeId: found.nodeId, host: found.host, port: found.port, rack: null }
  }

  private applyMetadata(response: MetadataResponse, allTopics: boolean): void {
    const brokers = new Map<number, BrokerNode>()
    for (const b of response.brokers) brokers.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })
    // A broker whose address changed gets a fresh connection.
    for (const [id, pending] of this.nodeConnections) {
      const now = brokers.get(id)
      const before = this.brokerNodes.get(id)
      if (now === undefined || before === undefined || now.host !== before.host || now.port !== before.port) {
        this.nodeConnections.delete(id)
        void pending.then((c) => c.close(), () => undefined)
      }
    }
    this.brokerNodes = brokers
    this.clusterIdValue = response.clusterId
    this.controllerIdValue = response.controllerId
    if (allTopics) this.topics.clear()
    for (const t of response.topics) {
      if (t.name === null) continue
      if (t.errorCode === 3) {
        this.topics.delete(t.name)
        continue
      }
      if (t.errorCode !== 0 && t.partitions.length === 0) continue
      const partitions = t.partitions
        .map((p): PartitionMetadata => ({
          partition: p.partitionIndex,
          leader: p.errorCode === 5 ? -1 : p.leaderId,
          leaderEpoch: p.leaderEpoch,
          replicas: p.replicaNodes,
          isr: p.isrNodes,
          offlineReplicas: p.offlineReplicas,
          errorCode: p.errorCode,
        }))
        .sort((a, b) => a.partition - b.partition)
      this.topics.set(t.name, { name: t.name, topicId: t.topicId, isInternal: t.isInternal, partitions })
    }
    this.metadataAt = Date.now()
  }

  private openNode(nodeId: number, node: BrokerAddress): Promise<KafkaConnection> {
    const opening = this.open(node)
    this.nodeConnections.set(nodeId, opening)
    opening.catch(() => {
      if (this.nodeConnections.get(nodeId) === opening) this.nodeConnections.delete(nodeId)
    })
    return opening
  }

  private reopenNode(nodeId: number, broken: Promise<KafkaConnection>): Promise<KafkaConnection> {
    if (this.nodeConnections.get(nodeId) === broken) this.nodeConnections.delete(nodeId)
    return this.brokerConnection(nodeId)
  }

  private open(address: BrokerAddress): Promise<KafkaConnection> {
    this.assertOpen()
    return KafkaConnection.connect({
      host: address.host,
      port: address.port,
      clientId: this.clientId,
      timeoutMs: this.requestTimeoutMs,
    })
  }

  private assertOpen(): void {
    if (this.closing) throw new NetworkError('the client is closed')
  }
}
