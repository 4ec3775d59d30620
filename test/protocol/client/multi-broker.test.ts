/**
 * Producer and consumer against a two-broker shardlog cluster over real sockets: batches go
 * to each partition's leader, and the consumer fetches from both brokers at once.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { WireAdmin } from '../../../src/protocol/client/wire-admin.js'
import { WireConsumer, type ConsumedRecord } from '../../../src/protocol/client/wire-consumer.js'
import { WireProducer } from '../../../src/protocol/client/wire-producer.js'
import { waitFor } from '../../helpers/cluster.js'
import { randomName, sharedWireCluster } from './wire-cluster.js'

describe('protocol > client > two brokers', () => {
  const wire = sharedWireCluster({ brokers: 2 })

  it('produces to the leaders on both brokers and consumes everything back as a group', async () => {
    const admin = await WireAdmin.connect(wire.bootstrap)
    onTestFinished(() => admin.close())
    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: 4, replicationFactor: 2 }])
    const [described] = await admin.describeTopics([topic])
    expect(new Set(described!.partitions.map((p) => p.leader))).toEqual(new Set([0, 1]))

    const producer = await WireProducer.create(wire.bootstrap, { compression: 'snappy', acks: -1 })
    onTestFinished(() => producer.close())
    const values = Array.from({ length: 200 }, (_, i) => `v${i}`)
    await Promise.all(values.map((value, i) => producer.send(topic, [{ key: `k${i}`, value }])))
    const offsets = await admin.topicOffsets(topic)
    expect(offsets.reduce((n, o) => n + o.highWatermark, 0)).toBe(200)

    const consumer = await WireConsumer.create(wire.bootstrap, { groupId: randomName('group'), autoOffsetReset: 'earliest' })
    const records: ConsumedRecord[] = []
    consumer.subscribe([topic])
    await consumer.run({ eachBatch: (b) => { records.push(...b.records) } })
    await waitFor(() => records.length >= 200, 10_000, '200 records')
    await consumer.close()
    expect(records.map((r) => r.value!.toString()).sort()).toEqual([...values].sort())
    for (const p of [0, 1, 2, 3]) {
      const mine = records.filter((r) => r.partition === p).map((r) => r.offset)
      expect(mine).toEqual(mine.map((_, i) => i))
    }
  })
})
