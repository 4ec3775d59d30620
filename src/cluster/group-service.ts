/**
 * Starts the group coordinator over the internal, compacted `__consumer_offsets` topic,
 * whose partitions are written and replayed through the normal log path (the shards), so
 * committed offsets survive a restart. Created on first use, as Kafka loads the offsets
 * topic lazily. Lives on the main thread.
 */
import type { ClusterEngine } from './cluster-engine.js'
import { GroupCoordinator, type OffsetsLog } from '../group/group-coordinator.js'
import { encodeRecordBatch, decodeRecordBatches } from '../records/record-batch.js'
import { FetchIsolation } from '../shard/shard-codec.js'

/** Kafka's name for the internal offsets topic. */
export const OFFSETS_TOPIC = '__consumer_offsets'

/** The {@link OffsetsLog} port over the engine's partition logs. */
export class EngineOffsetsLog implements OffsetsLog {
  constructor(private readonly engine: ClusterEngine) {}

  async append(partition: number, records: Array<{ key: Buffer; value: Buffer | null }>): Promise<void> {
    if (records.length === 0) return
    const batch = await encodeRecordBatch(records.map((r) => ({ key: r.key, value: r.value })))
    await this.engine.produce(OFFSETS_TOPIC, partition, -1, batch)
  }

  async *readAll(partition: number): AsyncIterable<{ key: Buffer | null; value: Buffer | null }> {
    const end = (await this.engine.listOffset(OFFSETS_TOPIC, partition, -1)).offset
    let offset = (await this.engine.listOffset(OFFSETS_TOPIC, partition, -2)).offset
    while (offset < end) {
      const [r] = await this.engine.fetch(
        { maxWaitMs: 0, minBytes: 0, maxBytes: 16 * 1024 * 1024, isolation: FetchIsolation.HighWatermark },
        [{ topic: OFFSETS_TOPIC, partition, offset, maxBytes: 16 * 1024 * 1024 }],
      )
      if (!r || r.records.length === 0) break
      const batches = await decodeRecordBatches(r.records)
      let next = offset
      for (const b of batches) {
        for (const rec of b.records) if (rec.offset >= offset) yield { key: rec.key, value: rec.value }
        next = b.header.baseOffset + b.header.lastOffsetDelta + 1
      }
      if (next <= offset) break
      offset = next
    }
  }
}

/** Owns the coordinator's lifecycle. */
export class GroupService {
  private starting: Promise<GroupCoordinator> | undefined

  constructor(private readonly engine: ClusterEngine) {}

  /** The coordinator, creating `__consumer_offsets` and replaying it on first use. */
  coordinator(): Promise<GroupCoordinator> {
    this.starting ??= this.start()
    return this.starting
  }

  private async start(): Promise<GroupCoordinator> {
    const config = this.engine.config
    if (!this.engine.controller.topics.has(OFFSETS_TOPIC)) {
      await this.engine.controller.createTopic({
        topic: OFFSETS_TOPIC,
        numPartitions: config.offsetsTopicNumPartitions,
        replicationFactor: 1,
        configs: { 'cleanup.policy': 'compact', 'segment.bytes': String(100 * 1024 * 1024) },
      })
    }
    const coordinator = new GroupCoordinator({
      offsetsLog: new EngineOffsetsLog(this.engine),
      offsetsTopicPartitions: this.engine.controller.topics.partitionCount(OFFSETS_TOPIC),
      topicPartitionCount: (topic: string) => this.engine.controller.topics.partitionCount(topic),
      initialRebalanceDelayMs: config.groupInitialRebalanceDelayMs,
      minSessionTimeoutMs: config.groupMinSessionTimeoutMs,
      maxSessionTimeoutMs: config.groupMaxSessionTimeoutMs,
      offsetsRetentionMs: config.offsetsRetentionMs,
    })
    await coordinator.load()
    return coordinator
  }

  /** Stops the coordinator's timers. */
  async close(): Promise<void> {
    if (!this.starting) return
    const c = await this.starting.catch(() => undefined)
    c?.close()
  }
}
