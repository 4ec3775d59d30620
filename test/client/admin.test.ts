import { describe, it, expect } from 'vitest'
import { startCluster, topicName, waitFor } from '../helpers/cluster.js'

describe('client > Admin', () => {
  it('creates, lists, describes and deletes topics; existing topic gives false like kafkajs', async () => {
    const cluster = await startCluster()
    const admin = cluster.admin()
    const topic = topicName()
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] })).toBe(true)
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(false)
    expect(await admin.listTopics()).toContain(topic)
    const meta = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(meta.topics[0]!.partitions.map((p) => p.partitionId)).toEqual([0, 1, 2])
    for (const p of meta.topics[0]!.partitions) {
      expect(p).toMatchObject({ partitionErrorCode: 0, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] })
    }
    await admin.deleteTopics({ topics: [topic] })
    expect(await admin.listTopics()).not.toContain(topic)
    await expect(admin.fetchTopicMetadata({ topics: [topic] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', errorCode: 3 })
  })

  it('raises the partition count and refuses a decrease or an equal count (INVALID_PARTITIONS)', async () => {
    const cluster = await startCluster()
    const admin = cluster.admin()
    const topic = topicName()
    await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })
    await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] })
    expect((await admin.fetchTopicOffsets(topic)).map((o) => o.partition)).toEqual([0, 1, 2, 3, 4, 5])
    await expect(admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS', errorCode: 37 })
    await expect(admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' })
    const res = await cluster.producer().send({ topic, messages: [{ value: 'x', partition: 5 }] })
    expect(res[0]!.partition).toBe(5)
  })

  it('describes and alters topic configs with Kafka names; bad configs are refused', async () => {
    const cluster = await startCluster()
    const admin = cluster.admin()
    const topic = topicName()
    await admin.createTopics({ topics: [{ topic, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
    const before = await admin.describeConfigs({ resources: [{ type: 2, name: topic }] })
    const entry = (name: string, r = before) => r.resources[0]!.configEntries.find((e) => e.configName === name)!
    expect(entry('cleanup.policy')).toMatchObject({ configValue: 'compact', isDefault: false })
    expect(entry('segment.bytes')).toMatchObject({ configValue: String(1024 ** 3), isDefault: true })
    await admin.alterConfigs({ resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: '1000' }] }] })
    const after = await admin.describeConfigs({ resources: [{ type: 2, name: topic }] })
    expect(entry('retention.ms', after)).toMatchObject({ configValue: '1000', isDefault: false })
    // AlterConfigs replaces the whole set of overrides, as Kafka's (non-incremental) API does.
    expect(entry('cleanup.policy', after).isDefault).toBe(true)
    await admin.alterConfigs({ incremental: true, resources: [{ type: 2, name: topic, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
    const third = await admin.describeConfigs({ resources: [{ type: 2, name: topic }] })
    expect(entry('retention.ms', third).configValue).toBe('1000')
    expect(entry('cleanup.policy', third).configValue).toBe('compact')
    await expect(admin.alterConfigs({ resources: [{ type: 2, name: topic, configEntries: [{ name: 'retention.ms', value: 'soon' }] }] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(admin.alterConfigs({ resources: [{ type: 2, name: topic, configEntries: [{ name: 'no.such.config', value: '1' }] }] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(admin.createTopics({ topics: [{ topic: topicName(), configEntries: [{ name: 'segment.bytes', value: '-5' }] }] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    const missing = await admin.describeConfigs({ resources: [{ type: 2, name: 'nope' }] })
    expect(missing.resources[0]!.errorCode).toBe(3)
  })

  it('fetchTopicOffsets gives log start and high watermark; deleteTopicRecords moves the log start; lookup by timestamp', async () => {
    const cluster = await startCluster()
    const admin = cluster.admin()
    const topic = topicName()
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
    await cluster.producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i), timestamp: 1_000_000 + i * 10 })) })
    expect(await admin.fetchTopicOffsets(topic)).toEqual([{ partition: 0, offset: '10', high: '10', low: '0' }])
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, 1_000_045)).toEqual([{ partition: 0, offset: '5' }])
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, 9_000_000)).toEqual([{ partition: 0, offset: '10' }])
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: 4 }] })
    expect(await admin.fetchTopicOffsets(topic)).toEqual([{ partition: 0, offset: '10', high: '10', low: '4' }])
    await expect(admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: 99 }] })).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' })
    // Offset 0 is now below the log start: the consumer resets by its policy and never sees deleted records.
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50, autoOffsetReset: 'earliest' })
    consumer.assign([{ topic, partition: 0, offset: 0 }])
    const got: number[] = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push(Number(message.offset)) } })
    await waitFor(() => got.length === 6)
    expect(got).toEqual([4, 5, 6, 7, 8, 9])
    await consumer.disconnect()
  })
})

describe('client > bad input', () => {
  it('gives a clear typed error for each bad input and keeps serving', async () => {
    const cluster = await startCluster({ config: { 'auto.create.topics.enable': 'false' } })
    const admin = cluster.admin()
    const producer = cluster.producer()
    await expect(producer.send({ topic: 'missing', messages: [{ value: 'x' }] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION', errorCode: 3 })
    await expect(admin.createTopics({ topics: [{ topic: 'bad name!' }] })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION', errorCode: 17 })
    await expect(admin.createTopics({ topics: [{ topic: '..' }] })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' })
    await expect(admin.createTopics({ topics: [{ topic: 'x'.repeat(250) }] })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' })
    await expect(admin.createTopics({ topics: [{ topic: '../escape' }] })).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' })
    await expect(admin.createTopics({ topics: [{ topic: topicName(), numPartitions: 0 }] })).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' })
    await expect(admin.createTopics({ topics: [{ topic: topicName(), replicationFactor: 3 }] })).rejects.toMatchObject({ code: 'INVALID_REPLICATION_FACTOR', errorCode: 38 })
    const topic = topicName()
    await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'max.message.bytes', value: '2000' }] }] })
    await expect(producer.send({ topic, messages: [{ value: 'x', partition: 2 }] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    await expect(producer.send({ topic, messages: [{ value: 'x', partition: -1 }] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    await expect(producer.send({ topic, messages: [{ value: Buffer.alloc(5000), partition: 0 }] })).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE', errorCode: 10 })
    expect(() => cluster.producer({ acks: 2 as unknown as 1 })).toThrow(expect.objectContaining({ code: 'INVALID_REQUIRED_ACKS' }))
    const consumer = cluster.consumer()
    await expect(consumer.run({ eachMessage: async () => undefined })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    expect(() => consumer.assign([{ topic, partition: 9 }])).toThrow(expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION' }))
    // Nothing was lost and the cluster still serves.
    const ok = await producer.send({ topic, messages: [{ value: 'fine', partition: 0 }] })
    expect(ok[0]!.baseOffset).toBe('0')
    await cluster.stop()
    await expect(cluster.producer().send({ topic, messages: [{ value: 'late' }] })).rejects.toMatchObject({ code: 'BROKER_NOT_AVAILABLE' })
  })
})

describe('client > data directory lock', () => {
  it('refuses a second cluster on the same data directory until the first stops', async () => {
    const { Cluster } = await import('../../src/client/cluster.js')
    const { tempDir } = await import('../helpers/cluster.js')
    const dataDir = tempDir()
    const first = await Cluster.start({ dataDir, shards: 1 })
    await expect(Cluster.start({ dataDir, shards: 1 })).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: expect.stringContaining('in use') })
    await first.stop()
    const second = await Cluster.start({ dataDir, shards: 1 })
    await second.stop()
  })
})

describe('client > deleting a topic under a waiting consumer', () => {
  it('wakes the long-polling fetch at once instead of after maxWaitTimeInMs', async () => {
    const { startCluster: start, topicName: name } = await import('../helpers/cluster.js')
    const cluster = await start({ shards: 1 })
    const topic = name()
    await cluster.admin().createTopics({ topics: [{ topic }] })
    // maxWaitMs beyond the test's own timeout: only an early wake-up lets this test pass.
    const fetch = cluster.engine.fetch({ maxWaitMs: 120_000, minBytes: 1, maxBytes: 1024, isolation: 0 }, [{ topic, partition: 0, offset: 0, maxBytes: 1024 }])
    await new Promise((r) => setTimeout(r, 100))
    await cluster.admin().deleteTopics({ topics: [topic] })
    const [result] = await fetch
    expect(result!.errorCode).toBe(3) // UNKNOWN_TOPIC_OR_PARTITION
  })
})

describe('client > idempotent appends', () => {
  it('refuses two idempotent batches in one append with INVALID_RECORD and writes nothing', async () => {
    const { startCluster: start, topicName: name } = await import('../helpers/cluster.js')
    const { encodeRecordBatch } = await import('../../src/records/record-batch.js')
    const cluster = await start({ shards: 1 })
    const topic = name()
    await cluster.admin().createTopics({ topics: [{ topic }] })
    const a = await encodeRecordBatch([{ value: 'a' }], { producerId: 7, producerEpoch: 0, baseSequence: 0 })
    const b = await encodeRecordBatch([{ value: 'b' }], { producerId: 7, producerEpoch: 0, baseSequence: 1 })
    await expect(cluster.engine.produce(topic, 0, 1, Buffer.concat([a, b]))).rejects.toMatchObject({ code: 'INVALID_RECORD', errorCode: 87 })
    expect(await cluster.admin().fetchTopicOffsets(topic)).toEqual([{ partition: 0, offset: '0', high: '0', low: '0' }])
    const ok = await cluster.engine.produce(topic, 0, 1, a)
    expect(ok.baseOffset).toBe(0)
  })
})
