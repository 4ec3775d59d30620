import { describe, it, expect } from 'vitest'
import { createdTopic, startCluster, tempDir, topicName, waitFor } from '../helpers/cluster.js'
import { Cluster } from '../../src/client/cluster.js'
import type { KafkaMessage } from '../../src/client/types.js'
import { murmur2, toPositive } from '../../src/client/partitioners.js'

describe('client > Producer and Consumer', () => {
  it('produces and reads back records with keys, headers and timestamps, offsets contiguous from 0', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    const producer = cluster.producer()
    const sent = await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `v${i}`, headers: { h: `x${i}` }, timestamp: 1_700_000_000_000 + i })) })
    expect(sent).toEqual([expect.objectContaining({ topicName: topic, partition: 0, baseOffset: '0', errorCode: 0 })])
    const more = await producer.send({ topic, messages: [{ value: 'last' }] })
    expect(more[0]!.baseOffset).toBe('50')

    const consumer = cluster.consumer({ maxWaitTimeInMs: 100 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: KafkaMessage[] = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message) } })
    await waitFor(() => got.length === 51)
    await consumer.disconnect()
    expect(got.map((m) => Number(m.offset))).toEqual(Array.from({ length: 51 }, (_, i) => i))
    expect(got[7]!.key!.toString()).toBe('k7')
    expect(got[7]!.value!.toString()).toBe('v7')
    expect(got[7]!.headers.h!.toString()).toBe('x7')
    expect(got[7]!.timestamp).toBe(String(1_700_000_000_007))
    expect(got[50]!.key).toBeNull()
  })

  it.each(['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const)('round-trips records compressed with %s', async (compression) => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 2)
    const producer = cluster.producer({ compression, lingerMs: 5 })
    const values = Array.from({ length: 300 }, (_, i) => `value-${i}-${'x'.repeat(i % 50)}`)
    await producer.send({ topic, messages: values.map((value, i) => ({ key: String(i), value })) })
    const consumer = cluster.consumer({ maxWaitTimeInMs: 100 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const got = new Set<string>()
    await consumer.run({ eachBatch: async ({ batch }) => { for (const m of batch.messages) got.add(m.value!.toString()) } })
    await waitFor(() => got.size === values.length)
    await consumer.disconnect()
    expect([...got].sort()).toEqual([...values].sort())
  })

  it('places keyed records with murmur2 exactly as the Java client does', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 8)
    const producer = cluster.producer()
    for (const key of ['alpha', 'beta', 'gamma', 'delta', '']) {
      const [meta] = await producer.send({ topic, messages: [{ key, value: 'x' }] })
      expect(meta!.partition).toBe(toPositive(murmur2(Buffer.from(key))) % 8)
    }
    // Known values from the Java client: Utils.murmur2("21".getBytes()) == -973932308
    expect(murmur2(Buffer.from('21'))).toBe(-973932308)
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482)
  })

  it('keeps per-partition order and contiguous offsets under many concurrent producers', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 4)
    const producers = Array.from({ length: 8 }, () => cluster.producer({ lingerMs: 1, batchSize: 2048 }))
    await Promise.all(producers.map(async (p, pi) => {
      for (let i = 0; i < 200; i++) await p.send({ topic, messages: [{ key: `p${pi}`, value: `${pi}:${i}` }] })
    }))
    const consumer = cluster.consumer({ maxWaitTimeInMs: 100 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const perPartition = new Map<number, number[]>()
    const perProducer = new Map<string, number[]>()
    let total = 0
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const list = perPartition.get(partition) ?? []
        list.push(Number(message.offset))
        perPartition.set(partition, list)
        const [pi, i] = message.value!.toString().split(':')
        const seq = perProducer.get(pi!) ?? []
        seq.push(Number(i))
        perProducer.set(pi!, seq)
        total++
      },
    })
    await waitFor(() => total === 1600)
    await consumer.disconnect()
    for (const offsets of perPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i))
    for (const seq of perProducer.values()) expect(seq).toEqual(Array.from({ length: 200 }, (_, i) => i))
  })

  it('a tailing consumer receives a record produced after it started (long poll)', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 3)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 5_000 })
    await consumer.subscribe({ topic })
    const got: string[] = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()) } })
    await new Promise((r) => setTimeout(r, 200))
    await cluster.producer().send({ topic, messages: [{ value: 'fresh', partition: 2 }] })
    await waitFor(() => got.length === 1, 3_000, 'the tailing consumer to see the record')
    expect(got).toEqual(['fresh'])
    await consumer.disconnect()
  })

  it('with busyPollUs, a tailing consumer gets records produced inside and after the polling window, in order', async () => {
    const cluster = await startCluster({ shards: 1, busyPollUs: 2000 })
    const topic = await createdTopic(cluster, 2)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 5_000 })
    // fromBeginning: a record sent before the consumer resolved "latest" would otherwise be skipped.
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: string[] = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()) } })
    const producer = cluster.producer({ lingerMs: 0 })
    const sent: string[] = []
    for (const gapMs of [0, 0, 1, 20, 60, 0]) {
      await new Promise((r) => setTimeout(r, gapMs))
      const value = `after-${gapMs}-${sent.length}`
      await producer.send({ topic, messages: [{ value, partition: 1 }] })
      sent.push(value)
    }
    await waitFor(() => got.length >= sent.length, 3_000, `the tailing consumer to see every record (has ${got.join(', ')})`)
    expect(got).toEqual(sent)
    await consumer.disconnect()
  })

  it('refuses a busyPollUs that is not an integer from 0 to 1,000,000 with INVALID_CONFIG', async () => {
    await expect(Cluster.start({ dataDir: tempDir(), busyPollUs: -1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(Cluster.start({ dataDir: tempDir(), busyPollUs: 2.5 })).rejects.toThrow(/busyPollUs must be an integer/)
  })

  it('assign + seek reads from the chosen offset; pause and resume stop and restart delivery', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 2)
    await cluster.producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i), partition: 0 })) })
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    consumer.assign([{ topic, partition: 0, offset: 6 }])
    const got: number[] = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push(Number(message.offset)) } })
    await waitFor(() => got.length === 4)
    expect(got).toEqual([6, 7, 8, 9])
    consumer.pause([{ topic }])
    await cluster.producer().send({ topic, messages: [{ value: 'later', partition: 0 }] })
    await new Promise((r) => setTimeout(r, 200))
    expect(got).toHaveLength(4)
    consumer.resume([{ topic }])
    await waitFor(() => got.length === 5)
    consumer.seek({ topic, partition: 0, offset: 0 })
    await waitFor(() => got.length === 16)
    expect(got.slice(5)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    await consumer.disconnect()
  })

  it('paused() lists whole topics and single partitions; resuming a topic resumes its partitions, not those of a topic whose name it begins', async () => {
    const cluster = await startCluster()
    const consumer = cluster.consumer({})
    consumer.pause([{ topic: 'orders' }, { topic: 'orders-eu', partitions: [1, 4] }, { topic: 'order', partitions: [0] }])
    consumer.pause([{ topic: 'orders', partitions: [2] }])
    const byTopic = (list: Array<{ topic: string; partitions: number[] }>): Record<string, number[]> =>
      Object.fromEntries(list.map((p) => [p.topic, [...p.partitions].sort((a, b) => a - b)]))
    expect(byTopic(consumer.paused())).toEqual({ orders: [2], 'orders-eu': [1, 4], order: [0] })
    consumer.resume([{ topic: 'orders' }])
    expect(byTopic(consumer.paused())).toEqual({ 'orders-eu': [1, 4], order: [0] })
    consumer.resume([{ topic: 'orders-eu', partitions: [4] }])
    expect(byTopic(consumer.paused())).toEqual({ 'orders-eu': [1], order: [0] })
    await consumer.disconnect()
  })

  it('restart with the same dataDir brings back every topic, record and offset', async () => {
    const dataDir = tempDir()
    const topic = topicName()
    const first = await Cluster.start({ dataDir, shards: 2 })
    await first.admin().createTopics({ topics: [{ topic, numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '86400000' }] }] })
    await first.producer().send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: String(i), value: `v${i}` })) })
    const before = await first.admin().fetchTopicOffsets(topic)
    await first.stop()

    const second = await Cluster.start({ dataDir, shards: 2 })
    try {
      expect(await second.admin().listTopics()).toContain(topic)
      expect(await second.admin().fetchTopicOffsets(topic)).toEqual(before)
      const cfg = await second.admin().describeConfigs({ resources: [{ type: 2, name: topic, configNames: ['retention.ms'] }] })
      expect(cfg.resources[0]!.configEntries[0]!.configValue).toBe('86400000')
      const res = await second.producer().send({ topic, messages: [{ value: 'after', partition: 0 }] })
      expect(res[0]!.baseOffset).toBe(before.find((o) => o.partition === 0)!.high)
    } finally {
      await second.stop()
    }
  })

  it('subscribe fromTimestamp starts at the first record at or after that time', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    await cluster.producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i), timestamp: 5_000 + i * 100 })) })
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topic, fromTimestamp: 5_650 })
    const got: string[] = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()) } })
    await waitFor(() => got.length === 3)
    expect(got).toEqual(['7', '8', '9'])
    await consumer.disconnect()
  })

  it('splits a large send into batches of batchSize and applies back-pressure with a small bufferMemory', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    // 10,000 x 200 B = 2 MB in one send: more than max.message.bytes (1 MiB) unless it is split.
    const producer = cluster.producer({ batchSize: 16_384, bufferMemory: 64 * 1024 })
    const value = Buffer.alloc(200, 'v')
    const sends = Array.from({ length: 5 }, () => producer.send({ topic, messages: Array.from({ length: 2_000 }, () => ({ value })) }))
    const results = await Promise.all(sends)
    expect(results.map((r) => Number(r[0]!.baseOffset)).sort((a, b) => a - b)).toEqual([0, 2000, 4000, 6000, 8000])
    const [offsets] = await cluster.admin().fetchTopicOffsets(topic)
    expect(offsets!.high).toBe('10000')
    const [big] = await producer.send({ topic, messages: Array.from({ length: 10_000 }, () => ({ value })) })
    expect(big!.baseOffset).toBe('10000')
  })

  it('a RegExp subscription also reads topics created after it', async () => {
    const cluster = await startCluster()
    const prefix = topicName('pattern')
    await cluster.admin().createTopics({ topics: [{ topic: `${prefix}-a` }] })
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topics: [new RegExp(`^${prefix}-`)], fromBeginning: true })
    const got = new Set<string>()
    await consumer.run({ eachMessage: async ({ topic }) => { got.add(topic) } })
    await cluster.admin().createTopics({ topics: [{ topic: `${prefix}-b` }] })
    await cluster.producer().send({ topic: `${prefix}-a`, messages: [{ value: 'a' }] })
    await cluster.producer().send({ topic: `${prefix}-b`, messages: [{ value: 'b' }] })
    await waitFor(() => got.size === 2, 5_000, 'records from both topics')
    await consumer.disconnect()
  })

  it('a running consumer reads the partitions that createPartitions adds', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    const got = new Set<number>()
    await consumer.run({ eachMessage: async ({ partition }) => { got.add(partition) } })
    await cluster.producer().send({ topic, messages: [{ value: 'p0', partition: 0 }] })
    await waitFor(() => got.has(0), 5_000, 'the first partition')
    await cluster.admin().createPartitions({ topicPartitions: [{ topic, count: 3 }] })
    await cluster.producer().send({ topic, messages: [{ value: 'p1', partition: 1 }, { value: 'p2', partition: 2 }] })
    await waitFor(() => got.size === 3, 5_000, 'records from the new partitions')
    await consumer.disconnect()
  })
})
