/**
 * `WireConsumer`: a Kafka consumer over the wire protocol: a fetch loop with optional
 * consumer-group membership (Kafka's classic protocol).
 *
 * Fetching, as the Java client's Fetcher: every broker that leads assigned partitions gets its
 * own Fetch request (sessionless: session id 0, epoch -1), at most one in flight per broker;
 * whichever answers first is delivered first, so a quiet broker long-polling `fetch.max.wait.ms`
 * never delays a busy one. Records are delivered per partition in offset order through
 * `eachBatch`; records before the fetch offset (a compressed batch starts earlier) and control
 * batches (transaction markers) are skipped. A fetch answered for a position that moved since
 * (seek, rebalance) is dropped. OFFSET_OUT_OF_RANGE resets the position by `auto.offset.reset`;
 * NOT_LEADER_OR_FOLLOWER and friends refresh the metadata and fetch again.
 *
 * Groups ({@link GroupMember}): FindCoordinator, JoinGroup (with the KIP-394 member id round
 * trip), the leader's assignment with the assignors of `src/group/assignors`, SyncGroup,
 * Heartbeat every `heartbeat.interval.ms` on the coordinator connection, OffsetCommit
 * (automatic every `auto.commit.interval.ms`, on rebalance and on close) and LeaveGroup. The
 * rebalance protocol is EAGER: every partition is given up before rejoining, so any assignor,
 * `cooperative-sticky` included, is safe to use.
 *
 * Without a group, {@link WireConsumer.subscribe} reads every partition of its topics from
 * `auto.offset.reset`, and nothing is committed. Lives on the caller's thread.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import {
  InvalidConfigError, InvalidRequestError, OffsetOutOfRangeError, RecordTooLargeError, errorFromCode, isShardlogError,
  type ShardlogError,
} from '../../errors.js'
import { assignorByName, performAssignment, subscriptionProtocol, type PartitionAssignor } from '../../group/assignors/index.js'
import { CONSUMER_PROTOCOL_TYPE, decodeAssignment, decodeSubscription, type TopicPartitions } from '../../group/consumer-protocol.js'
import { decodeRecordBatches, type RecordHeader } from '../../records/record-batch.js'
import { ApiKey } from '../api-keys.js'
import type { FetchResponse } from '../messages/fetch.js'
import { ZERO_UUID } from '../reader.js'
import { KafkaClient, isStaleMetadataError, throwIfError } from './kafka-client.js'
import { OffsetSpec, WireAdmin, groupByTopic, type PartitionOffset } from './wire-admin.js'
import { partitionKey } from '../../topic-partition.js'

/** What to do without a committed offset, or when the offset is out of range (Kafka's `auto.offset.reset`). */
export type AutoOffsetReset = 'earliest' | 'latest' | 'none'

/** Consumer settings, named after Kafka's consumer configs. */
export interface WireConsumerOptions {
  /** Kafka's `group.id`; without it the consumer reads on its own and commits nothing. */
  groupId?: string
  /** Kafka's `auto.offset.reset`. Default `latest`. */
  autoOffsetReset?: AutoOffsetReset
  /** Kafka's `enable.auto.commit`. Default true (with a group). */
  autoCommit?: boolean
  /** Kafka's `auto.commit.interval.ms`. Default 5000. */
  autoCommitIntervalMs?: number
  /** Kafka's `session.timeout.ms`. Default 45000. */
  sessionTimeoutMs?: number
  /** How long the coordinator waits for members to rejoin (Kafka's `max.poll.interval.ms`). Default 300000. */
  rebalanceTimeoutMs?: number
  /** Kafka's `heartbeat.interval.ms`. Default 3000. */
  heartbeatIntervalMs?: number
  /** Kafka's `partition.assignment.strategy`, by protocol name. Default `['range', 'cooperative-sticky']` (Kafka's). */
  partitionAssigners?: string[]
  /** Kafka's `fetch.min.bytes`. Default 1. */
  minBytes?: number
  /** Kafka's `fetch.max.bytes`. Default 52428800. */
  maxBytes?: number
  /** Kafka's `max.partition.fetch.bytes`. Default 1048576. */
  maxPartitionBytes?: number
  /** Kafka's `fetch.max.wait.ms`. Default 500. */
  maxWaitMs?: number
  /**
   * How often a group member re-reads the metadata of its topics to notice added partitions
   * (it then rejoins so they get assigned), in ms: Kafka's `metadata.max.age.ms`. Default 30000.
   */
  metadataMaxAgeMs?: number
  /** Kafka's `client.id` of the client {@link WireConsumer.create} makes for a bootstrap string. Default `shardlog-consumer`. */
  clientId?: string
}

/**
 * A consumed record. `key`, `value` and header values are views into the fetched bytes; a
 * record without headers shares one frozen empty `headers` array.
 */
export interface ConsumedRecord {
  topic: string
  partition: number
  offset: number
  /** Ms since the epoch. */
  timestamp: number
  key: Buffer | null
  value: Buffer | null
  headers: RecordHeader[]
}

/** The records of one partition from one fetch. */
export interface ConsumedBatch {
  topic: string
  partition: number
  highWatermark: number
  records: ConsumedRecord[]
}

/** What {@link WireConsumer.run} calls. */
export interface ConsumerHandlers {
  /** Called with each non-empty batch, one at a time; the next waits for the returned promise. */
  eachBatch(batch: ConsumedBatch): void | Promise<void>
}

/** A partition and, optionally, where to start reading it. */
export interface PartitionAssignment {
  topic: string
  partition: number
  /** First offset to read; default the committed offset, else `auto.offset.reset`. */
  offset?: number
}

interface PartitionState {
  topic: string
  partition: number
  /** Next offset to fetch; -1 until resolved. */
  position: number
  /** Offset after the last record handed to eachBatch: what a commit stores. */
  consumed: number
  /** Last committed offset (-1: none) so unchanged positions are not committed again. */
  committed: number
  highWatermark: number
  /** True while a fetch for this partition is in flight. */
  fetching: boolean
  /** Set by markConsumed during eachBatch: the handler chose the consumed position itself. */
  marked: boolean
}

interface FetchOutcome {
  leader: number
  requested: Array<{ state: PartitionState; offset: number }>
  response?: FetchResponse
  error?: unknown
  /** Maps topic ids back to names (Fetch v13+ names topics by id). */
  topicNames: Map<string, string>
}

/** The fetch in flight to each leader (undefined: none right now). */
type FetchesInFlight = Map<number, Promise<FetchOutcome> | undefined>

/** A consumer over the Kafka wire protocol. */
export class WireConsumer {
  private readonly admin: WireAdmin
  private readonly member: GroupMember | undefined
  private readonly autoOffsetReset: AutoOffsetReset
  private readonly autoCommit: boolean
  private readonly autoCommitIntervalMs: number
  private readonly metadataMaxAgeMs: number
  /** Partition counts of the subscribed topics as of the last assignment, and when they were checked. */
  private assignedCounts = ''
  private countsCheckedAt = 0
  private readonly minBytes: number
  private readonly maxBytes: number
  private readonly maxPartitionBytes: number
  private readonly maxWaitMs: number
  private topics: string[] = []
  private manual: PartitionAssignment[] | undefined
  private partitions = new Map<string, PartitionState>()
  private running = false
  private loop: Promise<void> | undefined
  private stopRequested: (() => void) | undefined
  private readonly stopSignal: Promise<void>
  private lastCommitAt = Date.now()
  private metadataRefresh: Promise<void> | undefined
  private failure: unknown

  private constructor(readonly client: KafkaClient, private readonly ownsClient: boolean, options: WireConsumerOptions) {
    this.admin = new WireAdmin(client)
    this.autoOffsetReset = options.autoOffsetReset ?? 'latest'
    if (!['earliest', 'latest', 'none'].includes(this.autoOffsetReset)) {
      throw new InvalidConfigError(`autoOffsetReset must be earliest, latest or none, got ${String(options.autoOffsetReset)}`)
    }
    this.autoCommit = options.autoCommit ?? true
    this.autoCommitIntervalMs = options.autoCommitIntervalMs ?? 5_000
    this.metadataMaxAgeMs = options.metadataMaxAgeMs ?? 30_000
    this.minBytes = options.minBytes ?? 1
    this.maxBytes = options.maxBytes ?? 52_428_800
    this.maxPartitionBytes = options.maxPartitionBytes ?? 1_048_576
    this.maxWaitMs = options.maxWaitMs ?? 500
    if (options.groupId !== undefined) {
      if (typeof options.groupId !== 'string' || options.groupId.length === 0) throw new InvalidConfigError('groupId must be a non-empty string')
      this.member = new GroupMember(client, options.groupId, options, () => this.topics)
    }
    this.stopSignal = new Promise((resolve) => { this.stopRequested = resolve })
  }

  /** Creates a consumer on `client` (shared; not closed with the consumer) or on a new client for `bootstrap`. */
  static async create(target: KafkaClient | string, options: WireConsumerOptions = {}): Promise<WireConsumer> {
    const owns = typeof target === 'string'
    const client = owns ? await KafkaClient.connect({ bootstrap: target, clientId: options.clientId ?? 'shardlog-consumer' }) : target
    try {
      return new WireConsumer(client, owns, options)
    } catch (err) {
      if (owns) await client.close()
      throw err
    }
  }

  /** Subscribes to topics: group-managed partitions with a group id, every partition without one. */
  subscribe(topics: readonly string[]): void {
    if (this.running) throw new InvalidRequestError('cannot subscribe while the consumer is running')
    if (topics.length === 0) throw new InvalidRequestError('subscribe needs at least one topic')
    this.topics = [...new Set(topics)]
    this.manual = undefined
  }

  /** Reads exactly these partitions, without group management (Kafka's `assign()`). */
  assign(partitions: readonly PartitionAssignment[]): void {
    if (this.running) throw new InvalidRequestError('cannot assign while the consumer is running')
    this.manual = partitions.map((p) => ({ ...p }))
    this.topics = [...new Set(partitions.map((p) => p.topic))]
  }

  /** The partitions read now. */
  assignment(): Array<{ topic: string; partition: number }> {
    return [...this.partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition }))
  }

  /**
   * Joins the group (when there is one), resolves the starting positions and starts fetching;
   * resolves once the first fetches are sent. Records then reach `handlers.eachBatch` until
   * {@link close}. A failure of the loop later on ends it: see {@link done}.
   */
  async run(handlers: ConsumerHandlers): Promise<void> {
    if (this.running) throw new InvalidRequestError('the consumer is already running')
    if (this.topics.length === 0) throw new InvalidRequestError('subscribe to a topic or assign partitions before run')
    this.running = true
    try {
      await this.client.topicMetadata(this.topics)
      await this.syncAssignment()
      // Positions are fixed before run() returns: `latest` means the end of the log now, not
      // whenever the first fetch happens to go out.
      await this.resolvePositions()
    } catch (err) {
      this.running = false
      throw err
    }
    this.loop = this.fetchLoop(handlers).catch((err: unknown) => {
      this.failure = err
      this.running = false
    })
  }

  /** Resolves when the fetch loop has ended; rejects with the error that ended it, if one did. */
  async done(): Promise<void> {
    await this.loop
    if (this.failure !== undefined) throw this.failure
  }

  /** Commits the positions of the records handed to eachBatch so far (needs a group id). */
  async commit(): Promise<void> {
    if (this.member === undefined) throw new InvalidRequestError('committing offsets needs a groupId')
    const offsets: PartitionOffset[] = []
    for (const p of this.partitions.values()) {
      if (p.consumed >= 0 && p.consumed !== p.committed) offsets.push({ topic: p.topic, partition: p.partition, offset: p.consumed })
    }
    this.lastCommitAt = Date.now()
    if (offsets.length === 0) return
    if (this.manual !== undefined) await this.admin.commitGroupOffsets(this.member.groupId, offsets)
    else await this.member.commit(offsets)
    for (const o of offsets) {
      const p = this.partitions.get(partitionKey(o.topic, o.partition))
      if (p !== undefined) p.committed = o.offset
    }
  }

  /**
   * Sets the consumed position of a partition to `offset` (the next record to process), for an
   * eachBatch that stops in the middle of its batch: the rest of the batch is then not counted
   * as consumed, and a later commit stores exactly this position.
   */
  markConsumed(topic: string, partition: number, offset: number): void {
    const p = this.partitions.get(partitionKey(topic, partition))
    if (p === undefined) return
    p.consumed = offset
    p.marked = true
  }

  /** Stops fetching, commits (with a group and auto-commit), leaves the group and closes an owned client. */
  async close(options: { commit?: boolean } = {}): Promise<void> {
    const wasRunning = this.running
    this.running = false
    this.stopRequested?.()
    await this.loop
    try {
      if (wasRunning && this.member !== undefined && (options.commit ?? this.autoCommit) && this.failure === undefined) {
        await this.commit().catch(() => undefined) // a commit refused during a rebalance is lost, as in Kafka's close()
      }
      if (this.member !== undefined) await this.member.leave()
    } finally {
      if (this.ownsClient) await this.client.close()
    }
  }

  private async fetchLoop(handlers: ConsumerHandlers): Promise<void> {
    // A leader without a fetch in flight keeps its entry, set to undefined: deleting and
    // re-adding it per fetch would fill the old generation with this long-lived Map's rehashed
    // tables (see RequestTable in src/shard/request-table.ts).
    const inFlight: FetchesInFlight = new Map()
    while (this.running) {
      try {
        if (this.member !== undefined && this.manual === undefined && !this.member.needsJoin) await this.checkPartitionCounts()
        if (this.member !== undefined && this.member.needsJoin && this.manual === undefined) {
          await this.rebalance(inFlight)
          this.assignedCounts = this.partitionCounts()
          this.countsCheckedAt = Date.now()
        }
        await this.resolvePositions()
        // After NOT_LEADER_OR_FOLLOWER and friends, fetch again only once the new leaders are known.
        if (this.metadataRefresh !== undefined) await this.metadataRefresh
        this.startFetches(inFlight)
        const fetches = [...inFlight.values()].filter((f) => f !== undefined)
        if (fetches.length === 0) {
          // Nothing to fetch (no partitions assigned, no leader): look again shortly.
          await Promise.race([sleep(this.client.retryBackoffMs), this.stopSignal])
          continue
        }
        const outcome = await Promise.race([...fetches, this.stopSignal.then(() => undefined)])
        if (outcome === undefined || !this.running) break
        inFlight.set(outcome.leader, undefined)
        await this.handleOutcome(outcome, handlers)
        if (this.member !== undefined && this.autoCommit && Date.now() - this.lastCommitAt >= this.autoCommitIntervalMs) {
          await this.commit().catch((err: unknown) => this.onCommitError(err))
        }
      } catch (err) {
        if (!this.running) break
        if (this.member !== undefined && isRejoinError(err)) {
          this.member.requestRejoin(err as ShardlogError)
          continue
        }
        if (isShardlogError(err) && err.retriable) {
          if (isStaleMetadataError(err)) this.refreshMetadata()
          await Promise.race([sleep(this.client.retryBackoffMs), this.stopSignal])
          continue
        }
        throw err
      }
    }
  }

  /** EAGER rebalance: commit, give up every partition, rejoin, take the new assignment. */
  private async rebalance(inFlight: FetchesInFlight): Promise<void> {
    const member = this.member as GroupMember
    if (this.autoCommit && member.generationId >= 0) await this.commit().catch(() => undefined) // the old generation may already be gone
    inFlight.clear() // answers of fetches in flight are for revoked positions; they are dropped
    this.partitions.clear()
    await member.join()
    await this.syncAssignment()
  }

  /** Makes {@link partitions} match the assignment (group, manual or all partitions) and loads committed offsets. */
  private async syncAssignment(): Promise<void> {
    let wanted: PartitionAssignment[]
    if (this.manual !== undefined) {
      wanted = this.manual
    } else if (this.member !== undefined) {
      if (this.member.needsJoin) await this.member.join()
      wanted = this.member.assignment
    } else {
      const metadata = await this.client.topicMetadata(this.topics, { waitForLeaders: false })
      wanted = this.topics.flatMap((t) => (metadata.get(t)?.partitions ?? []).map((p) => ({ topic: t, partition: p.partition })))
    }
    const next = new Map<string, PartitionState>()
    for (const w of wanted) {
      const k = partitionKey(w.topic, w.partition)
      const state = this.partitions.get(k) ?? {
        topic: w.topic, partition: w.partition, position: w.offset ?? -1, consumed: w.offset ?? -1, committed: -1, highWatermark: -1, fetching: false, marked: false,
      }
      next.set(k, state)
    }
    this.partitions = next
    const unresolved = [...next.values()].filter((p) => p.position < 0)
    if (this.member !== undefined && unresolved.length > 0) {
      const committed = await this.admin.fetchCommittedOffsets(this.member.groupId, unresolved)
      for (const c of committed) {
        const p = next.get(partitionKey(c.topic, c.partition))
        if (p !== undefined) {
          p.position = c.offset
          p.consumed = c.offset
          p.committed = c.offset
        }
      }
    }
  }

  /** Positions still unknown come from `auto.offset.reset` (ListOffsets earliest/latest). */
  private async resolvePositions(): Promise<void> {
    const unresolved = [...this.partitions.values()].filter((p) => p.position < 0)
    if (unresolved.length === 0) return
    if (this.autoOffsetReset === 'none') {
      const p = unresolved[0] as PartitionState
      throw new OffsetOutOfRangeError(`no committed offset for ${p.topic}-${p.partition} and auto.offset.reset is none`)
    }
    const spec = this.autoOffsetReset === 'earliest' ? OffsetSpec.EARLIEST : OffsetSpec.LATEST
    const offsets = await this.admin.listOffsets(unresolved, spec)
    offsets.forEach((o, i) => {
      const p = unresolved[i] as PartitionState
      p.position = o.offset
      p.consumed = o.offset
    })
  }

  /** Sends a Fetch to every leader that has fetchable partitions and no fetch in flight. */
  private startFetches(inFlight: FetchesInFlight): void {
    const byLeader = new Map<number, PartitionState[]>()
    let leaderless = false
    for (const p of this.partitions.values()) {
      if (p.fetching || p.position < 0) continue
      const leader = this.client.leaderFor(p.topic, p.partition)
      if (leader < 0) {
        leaderless = true
        continue
      }
      if (inFlight.get(leader) !== undefined) continue
      let list = byLeader.get(leader)
      if (list === undefined) byLeader.set(leader, (list = []))
      list.push(p)
    }
    if (leaderless) this.refreshMetadata()
    for (const [leader, states] of byLeader) inFlight.set(leader, this.fetchFrom(leader, states))
  }

  /** One Fetch to `leader`; never rejects (the outcome carries the error). */
  private async fetchFrom(leader: number, states: PartitionState[]): Promise<FetchOutcome> {
    const requested = states.map((state) => ({ state, offset: state.position }))
    const offsetOf = new Map(requested.map((r) => [partitionKey(r.state.topic, r.state.partition), r.offset]))
    for (const s of states) s.fetching = true
    const topicNames = new Map<string, string>()
    try {
      const connection = await this.client.brokerConnection(leader)
      const topicIds = new Map<string, string>()
      for (const s of states) topicIds.set(s.topic, this.client.cachedTopic(s.topic)?.topicId ?? ZERO_UUID)
      // Fetch v13+ names topics by id (KIP-516); without ids (old Metadata) stay at v12.
      let version = connection.versionFor(ApiKey.Fetch)
      if (version >= 13 && [...topicIds.values()].some((id) => id === ZERO_UUID)) version = 12
      for (const [name, id] of topicIds) topicNames.set(id, name)
      const response = await connection.request(ApiKey.Fetch, {
        replicaId: -1,
        maxWaitMs: this.maxWaitMs,
        minBytes: this.minBytes,
        maxBytes: this.maxBytes,
        isolationLevel: 0,
        sessionId: 0,
        sessionEpoch: -1,
        topics: groupByTopic(states).map(([topic, partitions]) => ({
          topic,
          topicId: topicIds.get(topic) as string,
          partitions: partitions.map((partition) => ({
            partition,
            currentLeaderEpoch: -1,
            fetchOffset: offsetOf.get(partitionKey(topic, partition)) as number,
            lastFetchedEpoch: -1,
            logStartOffset: -1,
            partitionMaxBytes: this.maxPartitionBytes,
          })),
        })),
        forgottenTopicsData: [],
        rackId: '',
      }, { version, timeoutMs: this.client.requestTimeoutMs + this.maxWaitMs })
      return { leader, requested, response, topicNames }
    } catch (error) {
      return { leader, requested, error, topicNames }
    } finally {
      for (const s of states) s.fetching = false
    }
  }

  private async handleOutcome(outcome: FetchOutcome, handlers: ConsumerHandlers): Promise<void> {
    if (outcome.error !== undefined) throw outcome.error
    const response = outcome.response as FetchResponse
    throwIfError(response.errorCode, `fetching from broker ${outcome.leader}`)
    const asked = new Map(outcome.requested.map((r) => [partitionKey(r.state.topic, r.state.partition), r]))
    for (const t of response.responses) {
      const topic = t.topic !== '' ? t.topic : outcome.topicNames.get(t.topicId) ?? ''
      for (const p of t.partitions) {
        const request = asked.get(partitionKey(topic, p.partitionIndex))
        const state = this.partitions.get(partitionKey(topic, p.partitionIndex))
        // Assignment changed or someone moved the position while the fetch was out: drop it.
        if (request === undefined || state !== request.state || state.position !== request.offset || !this.running) continue
        if (p.errorCode === 1) {
          if (this.autoOffsetReset === 'none') throw new OffsetOutOfRangeError(`offset ${request.offset} of ${topic}-${p.partitionIndex} is out of range`)
          state.position = -1
          continue
        }
        if (p.errorCode !== 0) {
          if (isStaleMetadataError(errorFromCode(p.errorCode))) {
            this.refreshMetadata()
            continue
          }
          throwIfError(p.errorCode, `fetching ${topic}-${p.partitionIndex}`)
        }
        state.highWatermark = p.highWatermark
        if (p.records === null || p.records.length === 0) continue
        const partition = p.partitionIndex
        // Each record is built as the ConsumedRecord it becomes: one object per record.
        const batches = await decodeRecordBatches<ConsumedRecord>(p.records, (offset, timestamp, key, value, headers) => ({ topic, partition, offset, timestamp, key, value, headers }))
        if (batches.length === 0) {
          // Only a partial batch: a broker that ignores KIP-74 (first batch always whole) would
          // otherwise make this partition fetch the same bytes forever.
          throw new RecordTooLargeError(`the batch at offset ${request.offset} of ${topic}-${p.partitionIndex} is larger than max.partition.fetch.bytes (${this.maxPartitionBytes})`)
        }
        const records: ConsumedRecord[] = []
        let next = state.position
        for (const b of batches) {
          next = Math.max(next, b.header.baseOffset + b.header.lastOffsetDelta + 1)
          if (b.isControl) continue
          for (const r of b.records) if (r.offset >= request.offset) records.push(r)
        }
        state.marked = false
        if (records.length > 0) {
          try {
            await handlers.eachBatch({ topic, partition: p.partitionIndex, highWatermark: p.highWatermark, records })
          } catch (err) {
            // The handler's failure ends the loop (see done()); its records are not marked consumed.
            this.failure = err
            this.running = false
            throw err
          }
        }
        state.position = next
        // Unless eachBatch chose a position with markConsumed, the whole batch counts as consumed.
        if (!state.marked) state.consumed = next
      }
    }
  }

  private onCommitError(err: unknown): void {
    if (this.member !== undefined && isRejoinError(err)) this.member.requestRejoin(err as ShardlogError)
    // Other commit failures are retried at the next interval, as Kafka's auto-commit does.
  }

  private partitionCounts(): string {
    return this.topics.map((t) => `${t}:${this.client.cachedTopic(t)?.partitions.length ?? 0}`).sort().join(',')
  }

  /**
   * Every `metadataMaxAgeMs`, re-reads the subscribed topics' metadata; a topic that gained
   * partitions makes the member rejoin, as a Kafka consumer does, so the new ones get assigned.
   */
  private async checkPartitionCounts(): Promise<void> {
    if (Date.now() - this.countsCheckedAt < this.metadataMaxAgeMs) return
    this.countsCheckedAt = Date.now()
    await this.client.refreshMetadata(this.topics).catch(() => undefined) // tried again next time
    const counts = this.partitionCounts()
    // The first look only records the counts the member joined with (run() joins it first).
    if (this.assignedCounts === '') this.assignedCounts = counts
    else if (counts !== this.assignedCounts) this.member?.requestRejoin()
  }

  private refreshMetadata(): void {
    if (this.metadataRefresh !== undefined) return
    this.metadataRefresh = this.client.refreshMetadata(this.topics)
      .then(() => undefined, () => undefined) // a failed refresh is tried again by the next fetch that needs it
      .finally(() => { this.metadataRefresh = undefined })
  }
}

/** Errors after which a group member must rejoin (Kafka's consumer coordinator rules). */
function isRejoinError(err: unknown): boolean {
  return isShardlogError(err) && (err.code === 'REBALANCE_IN_PROGRESS' || err.code === 'ILLEGAL_GENERATION' || err.code === 'UNKNOWN_MEMBER_ID')
}

/**
 * One consumer's membership of a group, over the wire. `join()` runs JoinGroup → (leader:
 * assignment) → SyncGroup until it has a generation; a heartbeat timer then runs on the
 * coordinator connection and flags `needsJoin` when the coordinator starts a rebalance or
 * forgets the member.
 */
class GroupMember {
  memberId = ''
  generationId = -1
  needsJoin = true
  /** Partitions of the current generation. */
  assignment: Array<{ topic: string; partition: number }> = []
  private readonly assignors: PartitionAssignor[]
  private readonly sessionTimeoutMs: number
  private readonly rebalanceTimeoutMs: number
  private readonly heartbeatIntervalMs: number
  private heartbeatTimer: NodeJS.Timeout | undefined
  private heartbeating = false
  private owned: TopicPartitions[] = []

  constructor(private readonly client: KafkaClient, readonly groupId: string, options: WireConsumerOptions, private readonly topics: () => string[]) {
    this.assignors = (options.partitionAssigners ?? ['range', 'cooperative-sticky']).map((name) => {
      const assignor = assignorByName(name)
      if (assignor === undefined) throw new InvalidConfigError(`unknown partition assigner '${name}': use range, roundrobin, sticky or cooperative-sticky`)
      return assignor
    })
    if (this.assignors.length === 0) throw new InvalidConfigError('partitionAssigners must name at least one assignor')
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? 45_000
    this.rebalanceTimeoutMs = options.rebalanceTimeoutMs ?? 300_000
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? 3_000
  }

  /** Marks the member for rejoining; an unknown member id is dropped first (Kafka's resetGenerationOnError). */
  requestRejoin(err?: ShardlogError): void {
    this.needsJoin = true
    this.stopHeartbeats()
    if (err?.code === 'UNKNOWN_MEMBER_ID' || err?.code === 'ILLEGAL_GENERATION') {
      this.generationId = -1
      if (err.code === 'UNKNOWN_MEMBER_ID') this.memberId = ''
    }
  }

  /** Joins (or rejoins) the group and takes this member's assignment. */
  async join(): Promise<void> {
    this.stopHeartbeats()
    let backoff = this.client.retryBackoffMs
    for (let attempt = 0; ; attempt++) {
      try {
        await this.joinOnce()
        this.needsJoin = false
        this.startHeartbeats()
        return
      } catch (err) {
        if (!isShardlogError(err)) throw err
        if (attempt >= 50) throw err
        if (err.code === 'MEMBER_ID_REQUIRED' || isRejoinError(err)) continue // the state was updated; go again at once
        if (!err.retriable) throw err
        if (err.code === 'NOT_COORDINATOR' || err.code === 'COORDINATOR_NOT_AVAILABLE' || err.code === 'NETWORK_EXCEPTION') this.client.forgetCoordinator(this.groupId)
        await sleep(backoff)
        backoff = Math.min(backoff * 2, 1000)
      }
    }
  }

  /** Commits offsets in this member's generation. */
  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    const offsetOf = new Map(offsets.map((o) => [partitionKey(o.topic, o.partition), o.offset]))
    const connection = await this.client.coordinatorConnection(this.groupId)
    const response = await connection.request(ApiKey.OffsetCommit, {
      groupId: this.groupId,
      generationIdOrMemberEpoch: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: groupByTopic(offsets).map(([name, partitions]) => ({
        name,
        partitions: partitions.map((partition) => ({
          partitionIndex: partition,
          committedOffset: offsetOf.get(partitionKey(name, partition)) as number,
          committedLeaderEpoch: -1,
          commitTimestamp: -1,
          committedMetadata: '',
        })),
      })),
    })
    for (const t of response.topics) {
      for (const p of t.partitions) throwIfError(p.errorCode, `committing the offset of ${t.name}-${p.partitionIndex} for group '${this.groupId}'`)
    }
  }

  /** Leaves the group (LeaveGroup), so the others rebalance at once instead of after the session timeout. */
  async leave(): Promise<void> {
    this.stopHeartbeats()
    if (this.memberId === '') return
    const memberId = this.memberId
    this.memberId = ''
    this.generationId = -1
    try {
      const connection = await this.client.coordinatorConnection(this.groupId)
      const version = connection.versionFor(ApiKey.LeaveGroup)
      // v3+ (KIP-345) lists members; older versions name one member at the top level.
      await connection.request(ApiKey.LeaveGroup, {
        groupId: this.groupId,
        memberId: version >= 3 ? '' : memberId,
        members: version >= 3 ? [{ memberId, groupInstanceId: null, reason: 'the consumer is closing' }] : [],
      }, { version })
    } catch {
      // Leaving is a courtesy: the coordinator drops the member after session.timeout.ms anyway.
    }
  }

  private async joinOnce(): Promise<void> {
    const connection = await this.client.coordinatorConnection(this.groupId)
    const topics = this.topics()
    const join = await connection.request(ApiKey.JoinGroup, {
      groupId: this.groupId,
      sessionTimeoutMs: this.sessionTimeoutMs,
      rebalanceTimeoutMs: this.rebalanceTimeoutMs,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocols: this.assignors.map((a) => subscriptionProtocol(a, { topics, ownedPartitions: this.owned, generationId: this.generationId })),
      reason: null,
    }, { timeoutMs: this.rebalanceTimeoutMs + 5_000 })
    if (join.errorCode === 79) {
      // MEMBER_ID_REQUIRED (KIP-394): the coordinator gave us an id to join with.
      this.memberId = join.memberId
    } else if (join.errorCode === 25) {
      this.memberId = ''
    }
    throwIfError(join.errorCode, `joining group '${this.groupId}'`)
    this.memberId = join.memberId
    this.generationId = join.generationId
    const protocolName = join.protocolName ?? ''
    let assignments: Array<{ memberId: string; assignment: Buffer }> = []
    if (join.leader === join.memberId && !join.skipAssignment) {
      const assignor = this.assignors.find((a) => a.name === protocolName) ?? assignorByName(protocolName)
      if (assignor === undefined) throw new InvalidRequestError(`group '${this.groupId}' chose assignor '${protocolName}', which this consumer does not have`)
      const allTopics = await this.subscribedTopics(join.members)
      assignments = performAssignment(assignor, join.members, (t) => allTopics.get(t))
    }
    const sync = await connection.request(ApiKey.SyncGroup, {
      groupId: this.groupId,
      generationId: this.generationId,
      memberId: this.memberId,
      groupInstanceId: null,
      protocolType: CONSUMER_PROTOCOL_TYPE,
      protocolName,
      assignments,
    }, { timeoutMs: this.rebalanceTimeoutMs + 5_000 })
    throwIfError(sync.errorCode, `syncing group '${this.groupId}'`)
    const assignment = decodeAssignment(sync.assignment)
    this.owned = assignment.assignedPartitions
    this.assignment = assignment.assignedPartitions.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })))
  }

  /** Partition counts of every topic any member subscribes to (the leader assigns them all). */
  private async subscribedTopics(members: ReadonlyArray<{ metadata: Buffer }>): Promise<Map<string, number>> {
    const names = new Set<string>(this.topics())
    for (const m of members) {
      try {
        for (const t of decodeSubscription(m.metadata).topics) names.add(t)
      } catch {
        // performAssignment reports a member with bad metadata; here it only adds no topics.
      }
    }
    await this.client.refreshMetadata([...names])
    const counts = new Map<string, number>()
    for (const t of names) {
      const n = this.client.cachedTopic(t)?.partitions.length
      if (n !== undefined && n > 0) counts.set(t, n)
    }
    return counts
  }

  private startHeartbeats(): void {
    this.stopHeartbeats()
    this.heartbeatTimer = setInterval(() => { void this.heartbeat() }, this.heartbeatIntervalMs)
    this.heartbeatTimer.unref()
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer !== undefined) clearInterval(this.heartbeatTimer)
    this.heartbeatTimer = undefined
  }

  private async heartbeat(): Promise<void> {
    if (this.heartbeating || this.needsJoin) return
    this.heartbeating = true
    try {
      const connection = await this.client.coordinatorConnection(this.groupId)
      const response = await connection.request(ApiKey.Heartbeat, {
        groupId: this.groupId,
        generationId: this.generationId,
        memberId: this.memberId,
        groupInstanceId: null,
      }, { timeoutMs: this.sessionTimeoutMs })
      throwIfError(response.errorCode, `heartbeat to group '${this.groupId}'`)
    } catch (err) {
      if (!isShardlogError(err)) return
      if (isRejoinError(err)) this.requestRejoin(err)
      else if (err.code === 'NOT_COORDINATOR' || err.code === 'COORDINATOR_NOT_AVAILABLE' || err.code === 'NETWORK_EXCEPTION') this.client.forgetCoordinator(this.groupId)
      // Any other failure: the next heartbeat tries again; the session timeout bounds the damage.
    } finally {
      this.heartbeating = false
    }
  }
}
