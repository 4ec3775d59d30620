/**
 * WireAdmin against a real shardlog server over real sockets: topics, partitions, configs,
 * offsets and typed errors.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { KafkaClient } from '../../../src/protocol/client/kafka-client.js'
import { OffsetSpec, WireAdmin } from '../../../src/protocol/client/wire-admin.js'
import { WireProducer } from '../../../src/protocol/client/wire-producer.js'
import { randomName, sharedWireCluster } from './wire-cluster.js'

async function connectAdmin(bootstrap: string): Promise<WireAdmin> {
  const admin = await WireAdmin.connect(bootstrap)
  onTestFinished(() => admin.close())
  return admin
}

describe('protocol > client > WireAdmin', () => {
  const wire = sharedWireCluster()

  it('creates, lists, describes, grows and deletes a topic', async () => {
    const { bootstrap } = wire
    const admin = await connectAdmin(bootstrap)
    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: 3, replicationFactor: 1, configs: { 'retention.ms': '3600000' } }])
    expect(await admin.listTopics()).toContain(topic)
    const [described] = await admin.describeTopics([topic])
    expect(described?.partitions.map((p) => p.partition)).toEqual([0, 1, 2])
    for (const p of described?.partitions ?? []) {
      expect(p.leader).toBeGreaterThanOrEqual(0)
      expect(p.replicas).toEqual([p.leader])
      expect(p.isr).toEqual([p.leader])
    }
    const configs = await admin.describeTopicConfigs(topic)
    expect(configs.find((c) => c.name === 'retention.ms')).toMatchObject({ value: '3600000', isDefault: false })

    await admin.createPartitions(topic, 5)
    expect((await admin.describeTopics([topic]))[0]?.partitions).toHaveLength(5)

    await admin.alterTopicConfigs(topic, { 'retention.ms': '7200000', 'cleanup.policy': 'compact' })
    const altered = await admin.describeTopicConfigs(topic)
    expect(altered.find((c) => c.name === 'retention.ms')?.value).toBe('7200000')
    expect(altered.find((c) => c.name === 'cleanup.policy')?.value).toBe('compact')
    await admin.alterTopicConfigs(topic, { 'cleanup.policy': null })
    expect((await admin.describeTopicConfigs(topic)).find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'delete', isDefault: true })

    await admin.deleteTopics([topic])
    expect(await admin.listTopics()).not.toContain(topic)
  })

  it('reports Kafka errors as typed errors', async () => {
    const { bootstrap } = wire
    const admin = await connectAdmin(bootstrap)
    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: 2 }])
    await expect(admin.createTopics([{ name: topic, numPartitions: 2 }])).rejects.toMatchObject({ code: 'TOPIC_ALREADY_EXISTS' })
    await expect(admin.createPartitions(topic, 1)).rejects.toMatchObject({ code: 'INVALID_PARTITIONS' })
    await expect(admin.createTopics([{ name: 'bad name!', numPartitions: 1 }])).rejects.toMatchObject({ code: 'INVALID_TOPIC_EXCEPTION' })
    await expect(admin.createTopics([{ name: randomName(), numPartitions: 1, replicationFactor: 3 }])).rejects.toMatchObject({ code: 'INVALID_REPLICATION_FACTOR' })
    await expect(admin.createTopics([{ name: randomName(), numPartitions: 1, configs: { 'no.such.config': '1' } }])).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(admin.describeTopics(['missing-topic'])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    await expect(admin.deleteTopics(['missing-topic'])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
  })

  it('lists log start offsets, high watermarks and offsets by timestamp', async () => {
    const { bootstrap } = wire
    const admin = await connectAdmin(bootstrap)
    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: 2 }])
    const producer = await WireProducer.create(admin.client)
    await producer.send(topic, [{ value: 'a', partition: 0, timestamp: 1_000 }, { value: 'b', partition: 0, timestamp: 2_000 }, { value: 'c', partition: 1, timestamp: 3_000 }])
    await producer.close()
    expect(await admin.topicOffsets(topic)).toEqual([
      { topic, partition: 0, logStartOffset: 0, highWatermark: 2 },
      { topic, partition: 1, logStartOffset: 0, highWatermark: 1 },
    ])
    const byTime = await admin.listOffsets([{ topic, partition: 0 }, { topic, partition: 1 }], 1_500)
    expect(byTime.map((o) => o.offset)).toEqual([1, 0])
    const earliest = await admin.listOffsets([{ topic, partition: 0 }], OffsetSpec.EARLIEST)
    expect(earliest[0]?.offset).toBe(0)
  })

  it('fails with NETWORK_EXCEPTION when no bootstrap server answers', async () => {
    await expect(KafkaClient.connect({ bootstrap: '127.0.0.1:1', requestTimeoutMs: 2_000 })).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' })
    await expect(KafkaClient.connect({ bootstrap: 'nonsense' })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
  })
})
