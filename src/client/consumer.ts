/**
 * The in-process consumer, shaped after kafkajs: `subscribe` + `run({ eachMessage |
 * eachBatch })`, `seek`, `pause`/`resume`, `commitOffsets`, plus `assign` for manual
 * partitions. With a `groupId` it joins a consumer group through the cluster's group
 * coordinator ({@link GroupMembership}); without one it reads every partition of its
 * topics. Fetches long-poll the shards, so a tailing consumer wakes as soon as a record
 * is appended. Lives on the caller's (main) thread.
 */
import { CrcCheckedBatchReader, isCompressedBatch, iterateBatches, nextOffsetAfter, type DecodedBatch } from '../records/record-batch.js'
import { DEFAULT_OFFLOAD_THRESHOLDS, decodeBatchMaybeOffloaded } from '../records/codec-pool.js'
import { buildKafkaMessage } from './consumed-message.js'
import type { ClusterEngine } from '../cluster/cluster-engine.js'
import { groupByOwner } from '../cluster/partition-routing.js'
import type { ShardLink } from '../shard/shard-link.js'
import { FetchIsolation, type FetchPartitionRequest, type FetchPartitionResult } from '../shard/shard-codec.js'
import type { Batch, KafkaMessage, TopicPartitionOffset } from './types.js'
import { GroupMembership, type MembershipConfig } from './group-membership.js'
import { maxSemiSpaceBytes } from './young-generation.js'
import type { GroupCoordinator } from '../group/group-coordinator.js'
import { InvalidRequestError, OffsetOutOfRangeError, UnknownTopicOrPartitionError, errorFromCode, isShardlogError } from '../errors.js'
import { isPartitionKeyOf, parsePartitionKey, partitionKey } from '../topic-partition.js'

/** What to do when a partition has no committed offset or its offset is out of range. */
export type OffsetResetPolicy = 'earliest' | 'latest' | 'none'

/** Consumer options (kafkajs names). */
export interface ConsumerConfig {
  /** Consumer group; without it the consumer reads all partitions of its topics on its own. */
  groupId?: string
  /** Static membership: `group.instance.id`. */
  groupInstanceId?: string
  sessionTimeout?: number
  rebalanceTimeout?: number
  heartbeatInterval?: number
  /** Assignor names in preference order: 'range', 'roundrobin', 'sticky', 'cooperative-sticky'. Default ['roundrobin', 'range']. */
  partitionAssigners?: string[]
  /** Bytes a fetch waits for (long polling) before it answers. Default 1. */
  minBytes?: number
  /**
   * Most bytes one fetch returns (Kafka's fetch.max.bytes), at least one batch whatever the
   * limit. Default 10 MiB, as kafkajs; each of the consumer's fetches (one per shard) asks for
   * at most 1 MiB of it (a sixteenth of the young generation's semi-space when Node runs with
   * a larger one, see BENCHMARKS.md).
   */
  maxBytes?: number
  /** Most bytes one partition contributes to a fetch (max.partition.fetch.bytes). Default 1 MiB. */
  maxBytesPerPartition?: number
  /** How long a fetch waits for minBytes. Default 5,000 ms. */
  maxWaitTimeInMs?: number
  /** Overrides `fromBeginning` when set: where to start without a committed offset. */
  autoOffsetReset?: OffsetResetPolicy
  clientId?: string
}

/** Arguments of eachMessage. */
export interface EachMessagePayload {
  topic: string
  partition: number
  message: KafkaMessage
  heartbeat(): Promise<void>
  pause(): () => void
}

/** Arguments of eachBatch. */
export interface EachBatchPayload {
  batch: Batch
  resolveOffset(offset: string): void
  heartbeat(): Promise<void>
  commitOffsetsIfNecessary(): Promise<void>
  isRunning(): boolean
  isStale(): boolean
  pause(): () => void
}

/** Arguments of run. */
export interface ConsumerRunConfig {
  eachMessage?: (payload: EachMessagePayload) => Promise<void>
  eachBatch?: (payload: EachBatchPayload) => Promise<void>
  eachBatchAutoResolve?: boolean
  /** Commit processed offsets automatically (group consumers). Default true. */
  autoCommit?: boolean
  /** Commit at most every this many ms. Default 5000. */
  autoCommitInterval?: number | null
  /** Commit after this many resolved records. */
  autoCommitThreshold?: number | null
  /** Rebalance listener: called with the partitions newly assigned. */
  onPartitionsAssigned?: (partitions: Array<{ topic: string; partition: number }>) => void | Promise<void>
  /** Rebalance listener: called with the partitions taken away, before they move (commit here). */
  onPartitionsRevoked?: (partitions: Array<{ topic: string; partition: number }>) => void | Promise<void>
}

interface PartitionPosition {
  topic: string
  partition: number
  /** Its partition key (src/topic-partition.ts), made once: every fetch and delivery looks it up. */
  readonly key: string
  /** Next offset to read; -1 until resolved from the committed offset or the reset policy. */
  offset: number
  /** Last processed offset + 1 not yet committed. */
  resolved: number
  committed: number
  highWatermark: number
  /**
   * When the partition last returned records (a running count, 0 = never): fresh fetches
   * list partitions in this order, least recently served first (see consumeLoop).
   */
  servedAt: number
}

/** A fetch on its way: the offset it asked for per partition, and its answer. */
interface PendingFetch {
  offsets: Map<string, number>
  /** The partitions asked for, in request order, each with the offset asked. */
  partitions: ReadonlyArray<readonly [PartitionPosition, number]>
  /** An incremental fetch's answer: the caught-up partitions are left out (see startFetch). */
  results: Promise<FetchPartitionResult[]>
}

/**
 * Most bytes one of the consumer's fetches asks a shard for, below a larger `maxBytes`: a
 * sixteenth of the young generation's semi-space (1 MiB with Node's defaults, 4 MiB with
 * `--max-semi-space-size=64`). The answer is copied out of the ring into a buffer that the
 * messages' values are views of, so it lives until its last message is dropped, while its
 * messages fill the young generation: a 4 MiB answer in a 16 MiB semi-space outlived the
 * scavenges, was promoted with its messages and waited for a mark-compact, 28 of them in a
 * 2.4 s consume against 3 with 1 MiB answers (consume 4.4–4.6 M records/s with 10 MiB against
 * 4.8–5.9 M with 1 MiB, alternating runs with Node's defaults); with a 64 MiB semi-space the
 * 1 MiB answers only cost more fetches and wake-ups (BENCHMARKS.md).
 */
const kFetchResponseBytes = Math.max(1024 * 1024, Math.floor(maxSemiSpaceBytes() / 16))

/** Whether `offsets` has exactly the partitions of `positions`. */
function sameKeys(offsets: ReadonlyMap<string, number>, positions: readonly PartitionPosition[]): boolean {
  if (offsets.size !== positions.length) return false
  for (const p of positions) if (!offsets.has(p.key)) return false
  return true
}

/**
 * Records per delivery run of one partition's fetched data (an uncompressed batch is split
 * between runs, a compressed one is delivered whole, so such a run may be larger): small
 * enough that one run's messages die young, large enough that eachBatch calls stay few.
 */
const kDeliveryChunkRecords = 1024

/**
 * The messages of `batches` at or after `from` (a fetch starts at the batch holding `from`,
 * so the first batch may begin before it); control batches (transaction markers) are not
 * delivered. The one batch that fits whole is handed out as decoded, without a copy.
 */
function messagesFrom(batches: ReadonlyArray<DecodedBatch<KafkaMessage>>, from: number): KafkaMessage[] {
  const first = batches[0]
  if (batches.length === 1 && first && !first.isControl && !startsBefore(first, from)) return first.records
  const messages: KafkaMessage[] = []
  for (const b of batches) {
    if (b.isControl) continue
    if (!startsBefore(b, from)) {
      for (const m of b.records) messages.push(m)
      continue
    }
    for (const m of b.records) if (Number(m.offset) >= from) messages.push(m)
  }
  return messages
}

/**
 * Whether some of the batch's (or batch slice's) records are before `from`; the records are in
 * offset order, so the first one tells.
 */
function startsBefore(batch: DecodedBatch<KafkaMessage>, from: number): boolean {
  if (batch.header.baseOffset >= from) return false
  const first = batch.records[0]
  return first !== undefined && Number(first.offset) < from
}

/** An in-process consumer. */
export class Consumer {
  private readonly subscriptions = new Map<string, { fromBeginning: boolean; fromTimestamp?: number }>()
  /** RegExp subscriptions, matched again against new topics as they are created (Kafka's pattern subscription). */
  private readonly patterns: Array<{ pattern: RegExp; start: { fromBeginning: boolean; fromTimestamp?: number } }> = []
  private manual: Array<{ topic: string; partition: number }> | undefined
  private positions = new Map<string, PartitionPosition>()
  private readonly pausedSet = new Set<string>()
  private readonly seeks = new Map<string, number>()
  private running = false
  private loop: Promise<void> | undefined
  private membership: GroupMembership | undefined
  private runConfig: ConsumerRunConfig = {}
  private uncommittedCount = 0
  private lastCommit = Date.now()
  private wake: (() => void) | undefined
  /** True while the loop waits on a long-polling fetch, whose result stop() may abandon. */
  private fetching = false
  /** Bumped by subscribe and assign: what syncAssignment derives the partitions from. */
  private assignmentInputs = 0
  /** The topic table's version and {@link assignmentInputs} at the last complete syncAssignment. */
  private synced: { topics: number; inputs: number } | undefined

  constructor(private readonly engine: ClusterEngine, private readonly coordinator: () => Promise<GroupCoordinator>, private readonly config: ConsumerConfig = {}) {
    if (config.groupId !== undefined && (typeof config.groupId !== 'string' || config.groupId.length === 0)) {
      throw new InvalidRequestError('groupId must be a non-empty string')
    }
  }

  /** Present for kafkajs compatibility; the in-process consumer needs no connection. */
  async connect(): Promise<void> {}

  /**
   * Subscribes to topics (names or RegExps matched against existing topics). Without a
   * committed offset, reading starts at the log start (`fromBeginning`), at the first record
   * at or after `fromTimestamp` (ms), or at the end.
   */
  async subscribe(args: { topics?: Array<string | RegExp>; topic?: string | RegExp; fromBeginning?: boolean; fromTimestamp?: number }): Promise<void> {
    if (args.fromTimestamp !== undefined && (!Number.isFinite(args.fromTimestamp) || args.fromTimestamp < 0)) {
      throw new InvalidRequestError(`fromTimestamp must be a time in ms, got ${String(args.fromTimestamp)}`)
    }
    const start = { fromBeginning: !!args.fromBeginning, fromTimestamp: args.fromTimestamp }
    if (this.running) throw new InvalidRequestError('Cannot subscribe while the consumer is running')
    const list = args.topics ?? (args.topic !== undefined ? [args.topic] : [])
    if (list.length === 0) throw new InvalidRequestError('subscribe needs `topic` or `topics`')
    for (const t of list) {
      if (t instanceof RegExp) {
        this.patterns.push({ pattern: t, start })
        this.matchPatterns()
      } else {
        if (!this.engine.controller.topics.has(t)) {
          if (!this.engine.config.autoCreateTopicsEnable) throw new UnknownTopicOrPartitionError(`Topic '${t}' does not exist`)
          await this.engine.autoCreate(t)
        }
        this.subscriptions.set(t, start)
      }
    }
    this.assignmentInputs++
  }

  /** Assigns partitions manually (no group membership, like the Java client's assign()). */
  assign(partitions: Array<{ topic: string; partition: number; offset?: string | number }>): void {
    for (const p of partitions) {
      const count = this.engine.controller.topics.partitionCount(p.topic)
      if (count === undefined || !Number.isInteger(p.partition) || p.partition < 0 || p.partition >= count) {
        throw new UnknownTopicOrPartitionError(`Unknown partition ${p.topic}-${p.partition}`)
      }
    }
    this.manual = partitions.map((p) => ({ topic: p.topic, partition: p.partition }))
    for (const p of partitions) if (p.offset !== undefined) this.seeks.set(partitionKey(p.topic, p.partition), Number(p.offset))
    this.assignmentInputs++
  }

  /** Starts consuming; resolves once the loop started (like kafkajs). */
  async run(config: ConsumerRunConfig): Promise<void> {
    if (this.running) throw new InvalidRequestError('The consumer is already running')
    if (!config.eachMessage && !config.eachBatch) throw new InvalidRequestError('run needs eachMessage or eachBatch')
    if (this.subscriptions.size === 0 && this.patterns.length === 0 && !this.manual) throw new InvalidRequestError('Subscribe to a topic or assign partitions before run')
    this.runConfig = config
    this.synced = undefined
    this.running = true
    if (this.config.groupId && !this.manual) {
      this.membership = new GroupMembership(await this.coordinator(), this.membershipConfig(this.config.groupId))
    }
    this.loop = this.consumeLoop().catch((err: unknown) => {
      // The loop only ends on stop(); an escaped error is reported, never swallowed silently.
      process.emitWarning(`shardlog consumer stopped: ${err instanceof Error ? err.message : String(err)}`)
    })
  }

  /** Adds the topics that match a pattern subscription (new topics included) to the subscriptions. */
  private matchPatterns(): void {
    if (this.patterns.length === 0) return
    for (const info of this.engine.controller.topics.all()) {
      if (info.internal || this.subscriptions.has(info.name)) continue
      const match = this.patterns.find((p) => { p.pattern.lastIndex = 0; return p.pattern.test(info.name) })
      if (match) this.subscriptions.set(info.name, match.start)
    }
  }

  private membershipConfig(groupId: string): MembershipConfig {
    return {
      groupId,
      groupInstanceId: this.config.groupInstanceId ?? null,
      clientId: this.config.clientId ?? 'shardlog',
      sessionTimeoutMs: this.config.sessionTimeout ?? 30_000,
      rebalanceTimeoutMs: this.config.rebalanceTimeout ?? 60_000,
      heartbeatIntervalMs: this.config.heartbeatInterval ?? 3_000,
      assigners: this.config.partitionAssigners ?? ['roundrobin', 'range'],
      topics: () => [...this.subscriptions.keys()],
      partitionCount: (t) => this.engine.controller.topics.partitionCount(t) ?? 0,
    }
  }

  private partitionsToRead(): Array<{ topic: string; partition: number }> {
    if (this.manual) return this.manual
    if (this.membership) return this.membership.assignment
    const out: Array<{ topic: string; partition: number }> = []
    for (const topic of this.subscriptions.keys()) {
      const n = this.engine.controller.topics.partitionCount(topic) ?? 0
      for (let p = 0; p < n; p++) out.push({ topic, partition: p })
    }
    return out
  }

  private resetPolicy(topic: string): OffsetResetPolicy {
    if (this.config.autoOffsetReset) return this.config.autoOffsetReset
    return this.subscriptions.get(topic)?.fromBeginning ? 'earliest' : 'latest'
  }

  private async resetOffset(p: PartitionPosition): Promise<void> {
    const fromTimestamp = this.subscriptions.get(p.topic)?.fromTimestamp
    if (fromTimestamp !== undefined && !this.config.autoOffsetReset) {
      const found = await this.engine.listOffset(p.topic, p.partition, fromTimestamp)
      const offset = found.offset >= 0 ? found.offset : (await this.engine.listOffset(p.topic, p.partition, -1)).offset
      p.offset = offset
      p.resolved = offset
      return
    }
    const policy = this.resetPolicy(p.topic)
    if (policy === 'none') throw new OffsetOutOfRangeError(`No committed offset for ${p.topic}-${p.partition} and autoOffsetReset is 'none'`)
    const r = await this.engine.listOffset(p.topic, p.partition, policy === 'earliest' ? -2 : -1)
    p.offset = r.offset
    p.resolved = r.offset
  }

  /** Brings `positions` in line with the current assignment; fires rebalance listeners. */
  private async syncAssignment(): Promise<void> {
    // Nothing it depends on changed since the last complete pass (the loop calls this before
    // every fetch: thousands of times a second while tailing).
    const topicsVersion = this.engine.controller.topics.version
    if (this.synced !== undefined && this.synced.topics === topicsVersion && this.synced.inputs === this.assignmentInputs &&
        this.seeks.size === 0 && !(this.membership?.needsJoin ?? false)) return
    this.matchPatterns()
    if (this.membership?.subscriptionChanged()) this.membership.requestRejoin()
    if (this.membership && this.membership.needsJoin) {
      const before = [...this.positions.values()].map((p) => ({ topic: p.topic, partition: p.partition }))
      if (before.length > 0) {
        // With autoCommit off the application commits itself (in onPartitionsRevoked, say).
        if (this.runConfig.autoCommit !== false) await this.commitResolved().catch(() => undefined)
        await this.runConfig.onPartitionsRevoked?.(before)
      }
      this.positions.clear()
      await this.membership.join()
      const assigned = this.membership.assignment
      const committed = await this.membership.fetchCommitted(assigned)
      for (const a of assigned) {
        const key = partitionKey(a.topic, a.partition)
        const c = committed.get(key) ?? -1
        this.positions.set(key, { topic: a.topic, partition: a.partition, key, offset: c, resolved: c, committed: c, highWatermark: -1, servedAt: 0 })
      }
      await this.runConfig.onPartitionsAssigned?.(assigned)
    }
    const wanted = this.partitionsToRead()
    const wantedKeys = new Set(wanted.map((p) => partitionKey(p.topic, p.partition)))
    for (const k of [...this.positions.keys()]) if (!wantedKeys.has(k)) this.positions.delete(k)
    const fresh: Array<{ topic: string; partition: number }> = []
    for (const w of wanted) {
      const k = partitionKey(w.topic, w.partition)
      if (!this.positions.has(k)) {
        this.positions.set(k, { topic: w.topic, partition: w.partition, key: k, offset: -1, resolved: -1, committed: -1, highWatermark: -1, servedAt: 0 })
        fresh.push(w)
      }
    }
    if (fresh.length > 0 && !this.membership) await this.runConfig.onPartitionsAssigned?.(fresh)
    for (const [k, offset] of this.seeks) {
      const p = this.positions.get(k)
      if (p) {
        p.offset = offset
        p.resolved = offset
        this.seeks.delete(k)
      }
    }
    for (const p of this.positions.values()) if (p.offset < 0) await this.resetOffset(p)
    this.synced = { topics: topicsVersion, inputs: this.assignmentInputs }
  }

  private async consumeLoop(): Promise<void> {
    // One fetch in flight per shard that leads readable partitions, as Kafka's consumer keeps one
    // per broker: each shard's answer is delivered as it comes, without waiting for the others.
    // A shard without a fetch in flight keeps its entry, set to undefined: this Map lives as long
    // as the consumer, and deleting and re-adding a key for every fetch would fill the old
    // generation with the Map's rehashed tables (see RequestTable in src/shard).
    const inFlight = new Map<ShardLink, PendingFetch | undefined>()
    let served = 0
    while (this.running) {
      try {
        await this.syncAssignment()
        const readable = [...this.positions.values()].filter((p) => !this.isPaused(p))
        if (readable.length === 0) {
          inFlight.clear()
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, 50)
            this.wake = () => { clearTimeout(t); resolve() }
          })
          continue
        }
        const byShard = groupByOwner(readable, (topic, partition) => this.engine.leaderShard(topic, partition))
        for (const shard of [...inFlight.keys()]) if (!byShard.has(shard)) inFlight.delete(shard)
        for (const [shard, partitions] of byShard) {
          // A fetch sent before the last delivery is kept when it asked for exactly the partitions
          // readable there now; otherwise it is abandoned (its answer is dropped when it comes).
          const pending = inFlight.get(shard)
          if (pending === undefined || !sameKeys(pending.offsets, partitions)) {
            // Least recently served first (movePartitionToEnd, see below).
            partitions.sort((a, b) => a.servedAt - b.servedAt)
            inFlight.set(shard, this.startFetch(partitions.map((p) => [p, p.offset])))
          }
        }
        this.fetching = true
        const fetches: Array<Promise<{ shard: ShardLink; fetch: PendingFetch; results: FetchPartitionResult[] }>> = []
        for (const [shard, fetch] of inFlight) if (fetch !== undefined) fetches.push(fetch.results.then((results) => ({ shard, fetch, results })))
        const { shard, fetch, results } = await Promise.race(fetches)
        this.fetching = false
        inFlight.set(shard, undefined)
        if (!this.running) break
        // Each deliverable result with the offset after its last whole batch (where reading goes on).
        const current: Array<{ r: FetchPartitionResult; next: number; k: string }> = []
        const nextFetch: Array<[PartitionPosition, number]> = []
        const servedLast: Array<[PartitionPosition, number]> = []
        // The answer lists the partitions in request order, leaving out the caught-up ones.
        let answered = 0
        for (const [asked, offset] of fetch.partitions) {
          const k = asked.key
          const candidate = results[answered]
          const r = candidate !== undefined && candidate.partition === asked.partition && candidate.topic === asked.topic ? candidate : undefined
          if (r !== undefined) answered++
          const pos = this.positions.get(k)
          if (!pos) continue
          // Fetched for an offset the partition has left since (seek, reset, unresolved records), or
          // paused while the fetch was in flight: those records are not delivered; read again.
          const valid = offset === pos.offset && !this.isPaused(pos)
          if (r === undefined) {
            // Caught up: nothing new, and the high watermark is the offset asked.
            if (valid) pos.highWatermark = offset
            if (!this.isPaused(pos)) nextFetch.push([pos, pos.offset])
            continue
          }
          const next = valid && r.errorCode === 0 ? nextOffsetAfter(r.records, pos.offset) : pos.offset
          if (valid) current.push({ r, next, k })
          // A partition that returned data goes to the back of the next fetches, as the Java
          // consumer's movePartitionToEnd: a fetch fills its partitions in order up to maxBytes,
          // so without it the first partitions would take every fetch while they have data.
          if (r.records.length > 0) pos.servedAt = ++served
          if (!this.isPaused(pos)) (r.records.length > 0 ? servedLast : nextFetch).push([pos, next])
        }
        nextFetch.push(...servedLast)
        // Pipelining, as Kafka's consumer does: the next fetch is on its way while these records
        // are delivered, so the shard reads and copies while this thread decodes.
        if (!(this.membership?.needsJoin ?? false) && nextFetch.length === fetch.offsets.size) inFlight.set(shard, this.startFetch(nextFetch))
        for (const { r, next, k } of current) {
          if (!this.running) break
          const pos = this.positions.get(k)
          // Paused (or reassigned) during an earlier partition's delivery: leave the records for later.
          if (!pos || this.isPaused(pos)) continue
          if (r.errorCode === 1) {
            await this.resetOffset(pos)
            continue
          }
          if (r.errorCode !== 0) throw errorFromCode(r.errorCode, `Fetch from ${r.topic}-${r.partition} failed`)
          pos.highWatermark = r.highWatermark
          if (r.records.length === 0) continue
          await this.decodeAndDeliver(pos, r.records, next)
        }
        await this.maybeAutoCommit()
      } catch (err) {
        this.fetching = false
        inFlight.clear()
        if (!this.running) break
        if (isShardlogError(err) && err.retriable) {
          await new Promise((resolve) => setTimeout(resolve, 100))
          continue
        }
        if (this.membership && isShardlogError(err) && (err.code === 'REBALANCE_IN_PROGRESS' || err.code === 'ILLEGAL_GENERATION' || err.code === 'UNKNOWN_MEMBER_ID')) {
          this.membership.requestRejoin()
          continue
        }
        throw err
      }
    }
  }

  /**
   * Decodes a partition's fetched batches and delivers them in runs of about
   * {@link kDeliveryChunkRecords} records, each decoded just before it is delivered, so only one
   * run's messages are alive at a time instead of a whole 1 MiB fetch's or a whole batch's
   * (consume throughput with Node's default young generation, BENCHMARKS.md).
   * Stops early when a delivery stopped, paused, sought or reassigned the partition. `next` is
   * the offset after the whole fetch.
   */
  private async decodeAndDeliver(pos: PartitionPosition, records: Buffer, next: number): Promise<void> {
    const k = pos.key
    let run: Array<DecodedBatch<KafkaMessage>> = []
    let runRecords = 0
    const stopped = (): boolean => !this.running || this.isPaused(pos) || this.seeks.has(k) || this.positions.get(k) !== pos ||
      (this.membership?.needsJoin ?? false)
    for (const { pos: at } of iterateBatches(records)) {
      // An uncompressed batch is decoded at once (an await per batch costs more than the decode
      // of a small one), a run's worth of records at a time however large the batch, and without
      // computing its CRC again: the shard that read it from the log has just checked it
      // (PartitionLog.verifyCrcOnRead), as Kafka's consumer would (check.crcs). A compressed one
      // is delivered whole (its records share the decompressed block); large gzip/snappy batches
      // are decompressed on the codec pool, off this thread.
      const reader = isCompressedBatch(records, at) ? undefined : new CrcCheckedBatchReader(records, at, buildKafkaMessage)
      do {
        const slice = reader !== undefined
          ? reader.read(kDeliveryChunkRecords - runRecords)
          : await decodeBatchMaybeOffloaded(records, at, DEFAULT_OFFLOAD_THRESHOLDS, buildKafkaMessage)
        const after = reader !== undefined ? reader.nextOffset : slice.header.baseOffset + slice.header.lastOffsetDelta + 1
        // A fetch starts at the batch that holds the position: the records before it are not delivered.
        if (after <= pos.offset) continue
        run.push(slice)
        runRecords += slice.records.length
        if (runRecords < kDeliveryChunkRecords) continue
        await this.deliver(pos, run, after)
        run = []
        runRecords = 0
        if (stopped()) return
      } while (reader !== undefined && reader.remaining > 0)
    }
    // A run that closed on the fetch's last batch was delivered up to its end, which is `next`.
    if (run.length > 0) await this.deliver(pos, run, next)
  }

  /** Sends one fetch for `partitions`, each from the given offset; long-polls up to maxWaitTimeInMs. */
  private startFetch(partitions: ReadonlyArray<readonly [PartitionPosition, number]>): PendingFetch {
    const maxWaitMs = this.config.maxWaitTimeInMs ?? 5_000
    const offsets = new Map<string, number>()
    const requests: FetchPartitionRequest[] = []
    for (const [p, offset] of partitions) {
      offsets.set(p.key, offset)
      requests.push({ topic: p.topic, partition: p.partition, offset, maxBytes: this.config.maxBytesPerPartition ?? 1024 * 1024 })
    }
    // Incremental: every fetch asks for every readable partition, and most of them are caught up.
    const results = this.engine.fetch(
      {
        maxWaitMs: Math.min(maxWaitMs, this.membership ? this.membership.heartbeatIntervalMs : maxWaitMs), minBytes: this.config.minBytes ?? 1,
        maxBytes: Math.min(this.config.maxBytes ?? 10 * 1024 * 1024, kFetchResponseBytes), isolation: FetchIsolation.HighWatermark, incremental: true,
      },
      requests,
    )
    // An abandoned fetch may still fail (the cluster stopped, a leader moved): nobody waits for it.
    results.catch(() => undefined)
    return { offsets, partitions, results }
  }

  /** Hands `batches` to eachBatch or eachMessage; `next` is the offset after them (control batches included). */
  private async deliver(pos: PartitionPosition, batches: Array<DecodedBatch<KafkaMessage>>, next: number): Promise<void> {
    const k = pos.key
    const messages = messagesFrom(batches, pos.offset)
    const seeked = (): boolean => this.seeks.has(k) || !this.positions.has(k)
    if (this.runConfig.eachBatch) {
      const autoResolve = this.runConfig.eachBatchAutoResolve ?? true
      const batch: Batch = {
        topic: pos.topic, partition: pos.partition, highWatermark: String(pos.highWatermark), messages,
        isEmpty: () => messages.length === 0,
        firstOffset: () => messages[0]?.offset ?? null,
        lastOffset: () => messages.length > 0 ? messages[messages.length - 1]!.offset : String(pos.highWatermark - 1),
        offsetLag: () => String(Math.max(0, pos.highWatermark - 1 - Number(messages[messages.length - 1]?.offset ?? pos.highWatermark - 1))),
        offsetLagLow: () => String(Math.max(0, pos.highWatermark - 1 - Number(messages[0]?.offset ?? pos.highWatermark - 1))),
      }
      await this.runConfig.eachBatch({
        batch,
        resolveOffset: (offset) => this.resolve(pos, Number(offset) + 1),
        heartbeat: async () => this.membership?.heartbeatNow(),
        commitOffsetsIfNecessary: () => this.maybeAutoCommit(),
        isRunning: () => this.running,
        isStale: () => seeked() || (this.membership?.needsJoin ?? false),
        pause: () => { this.pause([{ topic: pos.topic, partitions: [pos.partition] }]); return () => this.resume([{ topic: pos.topic, partitions: [pos.partition] }]) },
      })
      if (!seeked() && autoResolve) this.resolve(pos, next)
    } else {
      // One pair of callbacks for the whole run, not a pair per message.
      const heartbeat = async (): Promise<void> => this.membership?.heartbeatNow()
      const pause = (): (() => void) => { this.pause([{ topic: pos.topic, partitions: [pos.partition] }]); return () => this.resume([{ topic: pos.topic, partitions: [pos.partition] }]) }
      for (const message of messages) {
        if (!this.running || seeked() || this.isPaused(pos) || (this.membership?.needsJoin ?? false)) return
        await this.runConfig.eachMessage!({ topic: pos.topic, partition: pos.partition, message, heartbeat, pause })
        this.resolve(pos, Number(message.offset) + 1)
      }
      if (!seeked() && !this.isPaused(pos)) this.resolve(pos, next)
    }
    if (!seeked()) pos.offset = Math.max(pos.offset, pos.resolved)
  }

  private isPaused(p: PartitionPosition): boolean {
    return this.pausedSet.size > 0 && (this.pausedSet.has(p.topic) || this.pausedSet.has(p.key))
  }

  private resolve(pos: PartitionPosition, nextOffset: number): void {
    if (nextOffset <= pos.resolved) return
    this.uncommittedCount += nextOffset - pos.resolved
    pos.resolved = nextOffset
  }

  private async maybeAutoCommit(): Promise<void> {
    if (!this.membership || this.runConfig.autoCommit === false) return
    const interval = this.runConfig.autoCommitInterval ?? 5_000
    const threshold = this.runConfig.autoCommitThreshold ?? null
    const due = (interval !== null && Date.now() - this.lastCommit >= interval) || (threshold !== null && this.uncommittedCount >= threshold)
    if (due) await this.commitResolved()
  }

  /** Commits every processed-but-uncommitted position of a group consumer. */
  private async commitResolved(): Promise<void> {
    if (!this.membership) return
    const offsets: TopicPartitionOffset[] = []
    for (const p of this.positions.values()) if (p.resolved >= 0 && p.resolved !== p.committed) offsets.push({ topic: p.topic, partition: p.partition, offset: String(p.resolved) })
    this.lastCommit = Date.now()
    this.uncommittedCount = 0
    if (offsets.length === 0) return
    await this.membership.commit(offsets)
    for (const o of offsets) {
      const p = this.positions.get(partitionKey(o.topic, o.partition))
      if (p) p.committed = Number(o.offset)
    }
  }

  /** Commits offsets explicitly (the next offset to read, as in Kafka). */
  async commitOffsets(offsets: TopicPartitionOffset[]): Promise<void> {
    if (!this.config.groupId) throw new InvalidRequestError('commitOffsets needs a consumer with a groupId')
    if (!this.membership) {
      const coordinator = await this.coordinator()
      // Not a member (yet): a simple commit with no generation, which Kafka allows for groups without members.
      await new GroupMembership(coordinator, this.membershipConfig(this.config.groupId)).commit(offsets)
      return
    }
    await this.membership.commit(offsets)
    for (const o of offsets) {
      const p = this.positions.get(partitionKey(o.topic, o.partition))
      if (p) p.committed = Number(o.offset)
    }
  }

  /** Moves a partition's position; the next fetch reads from there. */
  seek(args: { topic: string; partition: number; offset: string | number }): void {
    const offset = Number(args.offset)
    if (!Number.isInteger(offset) || offset < -2) throw new InvalidRequestError(`Invalid offset ${String(args.offset)}`)
    this.seeks.set(partitionKey(args.topic, args.partition), offset)
    this.wake?.()
  }

  /** Stops fetching from topics or partitions until resume. */
  pause(topics: Array<{ topic: string; partitions?: number[] }>): void {
    for (const t of topics) {
      if (t.partitions) for (const p of t.partitions) this.pausedSet.add(partitionKey(t.topic, p))
      else this.pausedSet.add(t.topic)
    }
  }

  /** Resumes paused topics or partitions. */
  resume(topics: Array<{ topic: string; partitions?: number[] }>): void {
    for (const t of topics) {
      if (t.partitions) for (const p of t.partitions) this.pausedSet.delete(partitionKey(t.topic, p))
      else {
        this.pausedSet.delete(t.topic)
        for (const k of [...this.pausedSet]) if (isPartitionKeyOf(k, t.topic)) this.pausedSet.delete(k)
      }
    }
    this.wake?.()
  }

  /** The paused topics and partitions. */
  paused(): Array<{ topic: string; partitions: number[] }> {
    const out = new Map<string, number[]>()
    // The set holds whole topics (their names) and single partitions (partition keys).
    for (const k of this.pausedSet) {
      const p = parsePartitionKey(k)
      const topic = p?.topic ?? k
      const list = out.get(topic) ?? []
      if (p !== undefined) list.push(p.partition)
      out.set(topic, list)
    }
    return [...out].map(([topic, partitions]) => ({ topic, partitions }))
  }

  /** The current assignment. */
  assignment(): Array<{ topic: string; partition: number }> {
    return [...this.positions.values()].map((p) => ({ topic: p.topic, partition: p.partition }))
  }

  /** Stops the loop, commits what was processed and leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return
    this.running = false
    this.wake?.()
    this.membership?.abortWaits()
    // A long poll in flight holds no records yet: abandon it instead of waiting maxWaitTimeInMs.
    if (!this.fetching) await this.loop
    if (this.membership) {
      if (this.runConfig.autoCommit !== false) await this.commitResolved().catch(() => undefined)
      await this.membership.leave()
      this.membership = undefined
    }
  }

  /** Graceful disconnect: commits and leaves so the partitions move at once. */
  async disconnect(): Promise<void> {
    await this.stop()
  }
}
