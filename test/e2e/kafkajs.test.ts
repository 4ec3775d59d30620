/**
 * End to end with a real, independent Kafka client: kafkajs 2.2.4 talks to shardlog's
 * listeners over TCP. Admin (topics, partitions, configs, records, offsets, groups), producer
 * (every codec, idempotent, acks=0) and a two-member consumer group that must read every
 * record exactly once and leave no LAG, on one broker and on three.
 *
 * kafkajs ships gzip only; like its users we plug snappy, lz4 and zstd in through its
 * CompressionCodecs registry, backed by shardlog's own codecs.
 */
import kafkajs, { type Admin, type Consumer, type Kafka as KafkaClient, type KafkaConfig, type Producer } from 'kafkajs'
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { compress, decompress, type CompressionType } from '../../src/records/compression/index.js'
import { topicName, waitFor } from '../helpers/cluster.js'
import { sharedServedCluster, startServedCluster, type ServedCluster } from '../protocol/server/helpers.js'

const { Kafka, CompressionTypes, CompressionCodecs, logLevel, Partitioners } = kafkajs

const CODECS: ReadonlyArray<[CompressionType, number]> = [
  ['none', CompressionTypes.None],
  ['gzip', CompressionTypes.GZIP],
  ['snappy', CompressionTypes.Snappy],
  ['lz4', CompressionTypes.LZ4],
  ['zstd', CompressionTypes.ZSTD],
]

beforeAll(() => {
  for (const type of ['snappy', 'lz4', 'zstd'] as const) {
    const id = CODECS.find(([t]) => t === type)![1]
    CompressionCodecs[id as keyof typeof CompressionCodecs] = () => ({
      compress: (encoder: { buffer: Buffer }) => compress(type, encoder.buffer),
      decompress: (buffer: Buffer) => decompress(type, buffer),
    })
  }
})

/** A kafkajs client for a served cluster, quiet and quick to give up. */
function kafkaFor(served: ServedCluster, extra: Partial<KafkaConfig> = {}): KafkaClient {
  return new Kafka({
    clientId: 'e2e',
    brokers: [served.listeners.bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 5, initialRetryTime: 50, maxRetryTime: 500 },
    ...extra,
  })
}

async function connectedAdmin(kafka: KafkaClient): Promise<Admin> {
  const admin = kafka.admin()
  await admin.connect()
  onTestFinished(() => admin.disconnect())
  return admin
}

async function connectedProducer(kafka: KafkaClient, config: Parameters<KafkaClient['producer']>[0] = {}): Promise<Producer> {
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...config })
  await producer.connect()
  onTestFinished(() => producer.disconnect())
  return producer
}

function groupConsumer(kafka: KafkaClient, groupId: string): Consumer {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, heartbeatInterval: 300, sessionTimeout: 6000, rebalanceTimeout: 10_000, retry: { retries: 10, initialRetryTime: 50 } })
  onTestFinished(() => consumer.disconnect())
  return consumer
}

/**
 * Starts a group of consumers on `topic` and resolves once they form one stable generation
 * that covers every partition exactly once (so no rebalance happens while they consume).
 */
async function startGroup(kafka: KafkaClient, admin: Admin, groupId: string, topic: string, partitions: number, members: number,
  onMessage: (value: string, partition: number, offset: string) => void): Promise<Consumer[]> {
  const consumers = Array.from({ length: members }, () => groupConsumer(kafka, groupId))
  const assignments = new Map<Consumer, number[]>()
  for (const consumer of consumers) {
    consumer.on(consumer.events.GROUP_JOIN, (e) => { assignments.set(consumer, e.payload.memberAssignment[topic] ?? []) })
    await consumer.connect()
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    await consumer.run({ eachMessage: async ({ message, partition }) => onMessage(message.value!.toString(), partition, message.offset) })
  }
  await waitFor(async () => {
    const [group] = (await admin.describeGroups([groupId])).groups
    const assigned = [...assignments.values()].flat().sort((a, b) => a - b)
    return group!.state === 'Stable' && group!.members.length === members && assignments.size === members &&
      assigned.length === partitions && assigned.every((p, i) => p === i)
  }, 20_000, `a stable group of ${members} covering ${partitions} partitions`)
  return consumers
}

const shared = sharedServedCluster({ config: { 'offsets.topic.num.partitions': '10' } })

describe('e2e > kafkajs > admin', () => {
  it('creates a topic with 3 partitions, raises it to 6, and refuses a lower count with INVALID_PARTITIONS', async () => {
    const kafka = kafkaFor(shared())
    const admin = await connectedAdmin(kafka)
    const topic = topicName('admin')
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(true)
    expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3 }] })).toBe(false)
    expect(await admin.listTopics()).toContain(topic)
    let metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(metadata.topics[0]!.partitions).toHaveLength(3)

    await admin.createPartitions({ topicPartitions: [{ topic, count: 6 }] })
    metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    expect(metadata.topics[0]!.partitions.map((p) => p.partitionId).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5])
    const lower = await admin.createPartitions({ topicPartitions: [{ topic, count: 4 }] }).then(() => undefined, (err: unknown) => err)
    expect(JSON.stringify(lower, Object.getOwnPropertyNames(lower))).toMatch(/INVALID_PARTITIONS|partitions/i)
    expect((lower as { type?: string }).type ?? (lower as { originalError?: { type?: string } }).originalError?.type).toBe('INVALID_PARTITIONS')

    await admin.deleteTopics({ topics: [topic] })
    expect(await admin.listTopics()).not.toContain(topic)
  })

  it('describes and alters topic configs', async () => {
    const kafka = kafkaFor(shared())
    const admin = await connectedAdmin(kafka)
    const topic = topicName('configs')
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] })
    const TOPIC = 2
    const describe = async (): Promise<Map<string, { configValue: string; configSource: number }>> => {
      const r = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: TOPIC, name: topic }] })
      return new Map(r.resources[0]!.configEntries.map((e) => [e.configName, e]))
    }
    let configs = await describe()
    expect(configs.get('cleanup.policy')).toMatchObject({ configValue: 'compact', configSource: 1 })
    expect(configs.get('retention.ms')).toMatchObject({ configValue: '604800000', configSource: 5 })

    await admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] })
    configs = await describe()
    expect(configs.get('retention.ms')).toMatchObject({ configValue: '3600000', configSource: 1 })
    // AlterConfigs replaces the whole set: the cleanup.policy override is gone.
    expect(configs.get('cleanup.policy')).toMatchObject({ configValue: 'delete', configSource: 5 })

    await expect(admin.alterConfigs({ validateOnly: false, resources: [{ type: TOPIC, name: topic, configEntries: [{ name: 'retention.ms', value: 'soon' }] }] }))
      .rejects.toMatchObject({ type: 'INVALID_CONFIG' })
  })

  it('deletes records and lists offsets by timestamp', async () => {
    const kafka = kafkaFor(shared())
    const admin = await connectedAdmin(kafka)
    const producer = await connectedProducer(kafka)
    const topic = topicName('records')
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
    const base = Date.now() - 60_000
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `m${i}`, timestamp: String(base + i * 1000), partition: 0 })) })
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, base + 4500)).toEqual([{ partition: 0, offset: '5' }])
    expect(await admin.fetchTopicOffsetsByTimestamp(topic, base + 999_999)).toEqual([{ partition: 0, offset: '10' }])

    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '4' }] })
    expect(await admin.fetchTopicOffsets(topic)).toEqual([{ partition: 0, offset: '10', high: '10', low: '4' }])
  })
})

describe('e2e > kafkajs > produce and consume', () => {
  it('a group of 2 consumers reads 10,000 records of each codec exactly once, commits, and shows no LAG', async () => {
    const kafka = kafkaFor(shared())
    const admin = await connectedAdmin(kafka)
    const topic = topicName('codecs')
    const groupId = `group-${topic}`
    const partitions = 6
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] })
    const seen = new Map<string, number>()
    await startGroup(kafka, admin, groupId, topic, partitions, 2, (value) => { seen.set(value, (seen.get(value) ?? 0) + 1) })

    const producer = await connectedProducer(kafka)
    const perCodec = 10_000
    for (const [name, codec] of CODECS) {
      for (let start = 0; start < perCodec; start += 2000) {
        await producer.send({
          topic,
          compression: codec,
          messages: Array.from({ length: 2000 }, (_, i) => ({ key: `k${(start + i) % 97}`, value: `${name}-${start + i}` })),
        })
      }
    }
    const total = perCodec * CODECS.length
    await waitFor(() => seen.size >= total, 60_000, `${total} records consumed`)
    expect(seen.size).toBe(total)
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
    for (const [name] of CODECS) expect(seen.has(`${name}-${perCodec - 1}`)).toBe(true)

    // Every consumed offset is committed: LAG = high watermark - committed offset = 0.
    await waitFor(async () => {
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] })
      return committed[0]!.partitions.reduce((n, p) => n + Number(p.offset), 0) === total
    }, 20_000, 'all offsets committed')
    const high = await admin.fetchTopicOffsets(topic)
    const committed = (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions
    expect(high.reduce((n, p) => n + Number(p.high), 0)).toBe(total)
    for (const p of high) {
      const c = committed.find((x) => x.partition === p.partition)!
      expect(Number(p.high) - Number(c.offset), `LAG of partition ${p.partition}`).toBe(0)
    }

    const described = (await admin.describeGroups([groupId])).groups[0]!
    expect(described.protocolType).toBe('consumer')
    expect(described.members).toHaveLength(2)
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toContain(groupId)
  })

  it('an idempotent producer writes each record once', async () => {
    const kafka = kafkaFor(shared())
    const admin = await connectedAdmin(kafka)
    const topic = topicName('idempotent')
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] })
    const producer = await connectedProducer(kafka, { idempotent: true, maxInFlightRequests: 1 })
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic, messages: Array.from({ length: 100 }, (_, j) => ({ key: `k${j}`, value: `v${i}-${j}` })) })
    }
    const offsets = await admin.fetchTopicOffsets(topic)
    expect(offsets.reduce((n, p) => n + Number(p.high), 0)).toBe(500)
  })

  it('acks=0 sends land without a response', async () => {
    const kafka = kafkaFor(shared())
    const admin = await connectedAdmin(kafka)
    const topic = topicName('acks0')
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] })
    const producer = await connectedProducer(kafka)
    for (let i = 0; i < 3; i++) await producer.send({ topic, acks: 0, messages: [{ value: `fire-${i}` }, { value: `forget-${i}` }] })
    await waitFor(async () => (await admin.fetchTopicOffsets(topic))[0]!.high === '6', 10_000, '6 records')
  })

  it('deletes a group once its consumers left', async () => {
    const kafka = kafkaFor(shared())
    const admin = await connectedAdmin(kafka)
    const topic = topicName('groups')
    const groupId = `group-${topic}`
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] })
    const producer = await connectedProducer(kafka)
    await producer.send({ topic, messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] })
    let count = 0
    const [consumer] = await startGroup(kafka, admin, groupId, topic, 2, 1, () => { count++ })
    await waitFor(() => count === 2, 10_000, 'two records')
    await waitFor(async () => (await admin.fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions.every((p) => p.offset === '1'), 10_000, 'commits')
    await consumer!.disconnect()
    expect((await admin.describeGroups([groupId])).groups[0]!.state).toBe('Empty')
    await admin.deleteGroups([groupId])
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).not.toContain(groupId)
  })
})

describe('e2e > kafkajs > three brokers', () => {
  it('produces to and consumes from partitions led by three brokers, each on its own port', async () => {
    const served = await startServedCluster({ brokers: 3, shards: 1, config: { 'offsets.topic.num.partitions': '6' } })
    const kafka = kafkaFor(served)
    const admin = await connectedAdmin(kafka)
    const topic = topicName('multi')
    const groupId = `group-${topic}`
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] })
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] })
    const leaders = new Set(metadata.topics[0]!.partitions.map((p) => p.leader))
    expect(leaders).toEqual(new Set([0, 1, 2]))
    expect(new Set(served.listeners.addresses.map((a) => a.port)).size).toBe(3)

    const values = new Set<string>()
    await startGroup(kafka, admin, groupId, topic, 6, 2, (value) => { values.add(value) })
    const producer = await connectedProducer(kafka)
    await producer.send({ topic, compression: CompressionTypes.LZ4, messages: Array.from({ length: 3000 }, (_, i) => ({ key: `k${i}`, value: `m${i}` })) })
    await waitFor(() => values.size === 3000, 30_000, '3000 records')
    const offsets = await admin.fetchTopicOffsets(topic)
    expect(offsets.filter((o) => Number(o.high) > 0).length).toBe(6)
  })
})

describe('e2e > kafkajs > partitions on the main thread (shards: 0)', () => {
  it('produces, and a group of 2 consumers reads every record once', async () => {
    const served = await startServedCluster({ shards: 0, config: { 'offsets.topic.num.partitions': '4' } })
    expect(served.cluster.engine.brokers[0]!.shards).toHaveLength(1)
    const kafka = kafkaFor(served)
    const admin = await connectedAdmin(kafka)
    const topic = topicName('inthread')
    const groupId = `group-${topic}`
    await admin.createTopics({ topics: [{ topic, numPartitions: 4 }] })
    const seen = new Map<string, number>()
    await startGroup(kafka, admin, groupId, topic, 4, 2, (value) => { seen.set(value, (seen.get(value) ?? 0) + 1) })
    const producer = await connectedProducer(kafka)
    await producer.send({ topic, compression: CompressionTypes.GZIP, messages: Array.from({ length: 2000 }, (_, i) => ({ key: `k${i % 31}`, value: `m${i}` })) })
    await waitFor(() => seen.size === 2000, 30_000, '2000 records')
    expect([...seen.values()].every((n) => n === 1)).toBe(true)
  })
})

describe('e2e > kafkajs > server log', () => {
  it('logged no handler failure and refused nothing kafkajs sent', () => {
    expect(shared().logger.lines.filter((l) => l.startsWith('error') || l.startsWith('warn'))).toEqual([])
  })
})
