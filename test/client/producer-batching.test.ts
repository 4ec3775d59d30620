/** How the producer forms batches: sticky partitioning at batch boundaries, linger.ms 0. */
import { describe, it, expect } from 'vitest'
import { createdTopic, startCluster } from '../helpers/cluster.js'
import { decodeRecordBatchesSync } from '../../src/records/record-batch.js'
import { FetchIsolation } from '../../src/shard/shard-codec.js'

/** KIP-480 as the Java client applies it: null-key records stick to a partition until its batch is full. */
describe('client > sticky partitioning', () => {
  it('one large send of null-key records fills a batch in one partition, then moves on with the next record', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 8)
    const producer = cluster.producer({ batchSize: 2_000, lingerMs: 5 })
    await producer.send({ topic, messages: Array.from({ length: 200 }, (_, i) => ({ value: `record-${String(i).padStart(4, '0')}-${'x'.repeat(80)}` })) })
    const offsets = await cluster.admin().fetchTopicOffsets(topic)
    const used = offsets.filter((o) => Number(o.high) > 0)
    expect(used.reduce((sum, o) => sum + Number(o.high), 0)).toBe(200)
    expect(used.length).toBeGreaterThan(1)
    // Every batch is full (the same record count) except the last one of the send.
    const results = await cluster.engine.fetch(
      { maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolation: FetchIsolation.HighWatermark },
      used.map((o) => ({ topic, partition: o.partition, offset: 0, maxBytes: 1 << 20 })),
    )
    const perBatch = results.flatMap((r) => decodeRecordBatchesSync(r.records).map((b) => b.records.length)).sort((a, b) => b - a)
    expect(perBatch.length).toBeGreaterThan(2)
    expect(perBatch.slice(0, -1).every((n) => n === perBatch[0])).toBe(true)
  })

  it('keyed records and explicit partitions are not moved by it', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 8)
    const producer = cluster.producer({ batchSize: 1_000, lingerMs: 5 })
    const sent = await producer.send({ topic, messages: Array.from({ length: 100 }, () => ({ key: 'same-key', value: 'y'.repeat(100) })) })
    expect(sent).toHaveLength(1)
    const explicit = await producer.send({ topic, messages: Array.from({ length: 100 }, () => ({ partition: 3, value: 'z'.repeat(100) })) })
    expect(explicit.map((r) => r.partition)).toEqual([3])
  })
})

describe('client > Producer linger.ms 0', () => {
  it('gathers the sends of one synchronous run into one batch, and sends a later one at once', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    const producer = cluster.producer({ lingerMs: 0 })
    // Three sends issued together (no await between them) share one batch.
    await Promise.all([0, 1, 2].map((i) => producer.send({ topic, messages: [{ value: `together-${i}` }] })))
    await producer.send({ topic, messages: [{ value: 'alone' }] })
    const [result] = await cluster.engine.fetch(
      { maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolation: FetchIsolation.HighWatermark },
      [{ topic, partition: 0, offset: 0, maxBytes: 1 << 20 }],
    )
    const batches = decodeRecordBatchesSync(result!.records).map((b) => b.records.map((r) => r.value!.toString()))
    expect(batches).toEqual([['together-0', 'together-1', 'together-2'], ['alone']])
  })
})
