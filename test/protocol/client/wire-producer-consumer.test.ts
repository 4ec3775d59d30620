/**
 * WireProducer and WireConsumer against a real shardlog server over real sockets: every
 * codec and acks setting, keyed partitioning, pipelining, idempotence, consumer groups.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { murmur2, toPositive } from '../../../src/client/partitioners.js'
import { WireAdmin } from '../../../src/protocol/client/wire-admin.js'
import { WireConsumer, type ConsumedRecord, type WireConsumerOptions } from '../../../src/protocol/client/wire-consumer.js'
import { WireProducer, type WireProducerOptions } from '../../../src/protocol/client/wire-producer.js'
import { waitFor } from '../../helpers/cluster.js'
import { fetchRawBatches, randomName, sharedWireCluster } from './wire-cluster.js'

async function setup(bootstrap: string, partitions = 3): Promise<{ bootstrap: string; topic: string; admin: WireAdmin }> {
  const admin = await WireAdmin.connect(bootstrap)
  onTestFinished(() => admin.close())
  const topic = randomName()
  await admin.createTopics([{ name: topic, numPartitions: partitions }])
  return { bootstrap, topic, admin }
}

async function producer(bootstrap: string, options: WireProducerOptions = {}): Promise<WireProducer> {
  const p = await WireProducer.create(bootstrap, options)
  onTestFinished(() => p.close())
  return p
}

/** Reads until `count` records arrived (or fails after 10 s). */
async function consumeAll(bootstrap: string, topic: string, count: number, options: WireConsumerOptions = {}): Promise<ConsumedRecord[]> {
  const consumer = await WireConsumer.create(bootstrap, { autoOffsetReset: 'earliest', ...options })
  const records: ConsumedRecord[] = []
  consumer.subscribe([topic])
  await consumer.run({ eachBatch: (batch) => { records.push(...batch.records) } })
  try {
    await waitFor(() => records.length >= count, 10_000, `${count} records`)
  } finally {
    await consumer.close()
  }
  return records
}

describe('protocol > client > WireProducer + WireConsumer', () => {
  const wire = sharedWireCluster()

  it('a lone send with lingerMs resolves once the linger time passes (the timer closes the batch)', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 1)
    for (let i = 0; i < 20; i++) {
      const p = await producer(bootstrap, { lingerMs: 5 })
      const sent = await Promise.race([
        p.send(topic, [{ value: `only-${i}` }]).then(() => 'sent'),
        new Promise((resolve) => setTimeout(() => resolve('stuck'), 3_000)),
      ])
      expect(sent).toBe('sent')
    }
  })

  for (const compression of ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`round-trips keys, values and headers with compression ${compression}`, async () => {
      const { bootstrap, topic } = await setup(wire.bootstrap)
      const p = await producer(bootstrap, { compression })
      const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: `value-${i}`, headers: { n: String(i) } }))
      const metadata = await p.send(topic, messages)
      expect(metadata.length).toBeGreaterThan(0)
      const records = await consumeAll(bootstrap, topic, 50)
      expect(records.map((r) => r.value?.toString()).sort()).toEqual(messages.map((m) => m.value).sort())
      for (const r of records) {
        const i = Number(r.key?.toString().slice(1))
        expect(r.value?.toString()).toBe(`value-${i}`)
        expect(r.headers).toEqual([{ key: 'n', value: Buffer.from(String(i)) }])
        // The Java client's partitioner: a key lands where Kafka's producers would put it.
        expect(r.partition).toBe(toPositive(murmur2(Buffer.from(`k${i}`))) % 3)
      }
    })
  }

  for (const acks of [0, 1, -1] as const) {
    it(`acknowledges with acks=${acks}`, async () => {
      const { bootstrap, topic, admin } = await setup(wire.bootstrap, 1)
      const p = await producer(bootstrap, { acks })
      const [first] = await p.send(topic, [{ value: 'a' }, { value: 'b' }])
      const [second] = await p.send(topic, [{ value: 'c' }])
      if (acks === 0) {
        expect(first?.baseOffset).toBe(-1)
      } else {
        expect(first?.baseOffset).toBe(0)
        expect(second?.baseOffset).toBe(2)
      }
      await waitFor(async () => (await admin.topicOffsets(topic))[0]?.highWatermark === 3, 5_000, 'high watermark 3')
    })
  }

  it('pipelines many sends and keeps each partition in order', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 2)
    const p = await producer(bootstrap, { batchSize: 200, maxInFlightRequests: 5 })
    const sends = []
    for (let i = 0; i < 400; i++) sends.push(p.send(topic, [{ value: String(i), partition: i % 2 }]))
    await Promise.all(sends)
    const records = await consumeAll(bootstrap, topic, 400)
    for (const partition of [0, 1]) {
      const mine = records.filter((r) => r.partition === partition)
      expect(mine.map((r) => r.offset)).toEqual(mine.map((_, i) => i))
      expect(mine.map((r) => Number(r.value?.toString()))).toEqual(mine.map((_, i) => i * 2 + partition))
    }
  })

  it('an idempotent producer writes its producer id and consecutive sequences', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 1)
    const p = await producer(bootstrap, { idempotent: true })
    await p.send(topic, [{ value: 'a' }, { value: 'b' }])
    await p.send(topic, [{ value: 'c' }])
    const batches = await fetchRawBatches(bootstrap, topic, 0)
    expect(batches.map((b) => b.header.baseSequence)).toEqual([0, 2])
    expect(batches[0]!.header.producerId).toBeGreaterThanOrEqual(0)
    expect(batches[1]!.header.producerId).toBe(batches[0]!.header.producerId)
    await expect(WireProducer.create(bootstrap, { idempotent: true, acks: 1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
  })

  it('rejects sends to a partition that does not exist and to a missing topic without auto-creation', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 1)
    const p = await producer(bootstrap, { allowAutoTopicCreation: false })
    await expect(p.send(topic, [{ value: 'x', partition: 5 }])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    await expect(p.send('no-such-topic', [{ value: 'x' }])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    await expect(p.send(topic, [null as never])).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })

  it('group members split the partitions, commit on close, and a new member resumes from the commit', async () => {
    const { bootstrap, topic, admin } = await setup(wire.bootstrap, 4)
    const group = randomName('group')
    const p = await producer(bootstrap)
    await p.send(topic, Array.from({ length: 40 }, (_, i) => ({ value: String(i), partition: i % 4 })))

    const seen: ConsumedRecord[][] = [[], []]
    const consumers = await Promise.all([0, 1].map(async (i) => {
      const c = await WireConsumer.create(bootstrap, { groupId: group, autoOffsetReset: 'earliest', heartbeatIntervalMs: 100, sessionTimeoutMs: 6_000 })
      c.subscribe([topic])
      return { c, i }
    }))
    await Promise.all(consumers.map(({ c, i }) => c.run({ eachBatch: (b) => { seen[i]!.push(...b.records) } })))
    // The first member joined alone; once the second joins, the group rebalances to two members.
    await waitFor(() => consumers.every(({ c }) => c.assignment().length === 2), 10_000, 'a 2 + 2 assignment')
    await waitFor(() => seen[0]!.length + seen[1]!.length >= 40, 10_000, '40 records')
    const owners = consumers.map(({ c }) => c.assignment().map((a) => a.partition).sort())
    expect([...owners[0]!, ...owners[1]!].sort()).toEqual([0, 1, 2, 3])
    const described = await admin.describeGroup(group)
    expect(described.state).toBe('Stable')
    expect(described.members).toHaveLength(2)
    await Promise.all(consumers.map(({ c }) => c.close()))

    const committed = await admin.fetchCommittedOffsets(group)
    expect(committed).toEqual([0, 1, 2, 3].map((partition) => ({ topic, partition, offset: 10 })))
    expect((await admin.describeGroup(group)).state).toBe('Empty')

    await p.send(topic, [{ value: 'late', partition: 2 }])
    const later = await consumeAll(bootstrap, topic, 1, { groupId: group })
    expect(later.map((r) => [r.partition, r.offset, r.value?.toString()])).toEqual([[2, 10, 'late']])
  })

  it('a group member notices partitions added to its topic (metadata.max.age.ms) and rejoins to get them', async () => {
    const { bootstrap, topic, admin } = await setup(wire.bootstrap, 2)
    const c = await WireConsumer.create(bootstrap, { groupId: randomName('group'), autoOffsetReset: 'earliest', heartbeatIntervalMs: 100, sessionTimeoutMs: 6_000, metadataMaxAgeMs: 200 })
    onTestFinished(() => c.close())
    c.subscribe([topic])
    const seen = new Set<number>()
    await c.run({ eachBatch: (b) => { for (const r of b.records) seen.add(r.partition) } })
    await waitFor(() => c.assignment().length === 2, 10_000, 'the first assignment')
    await admin.createPartitions(topic, 4)
    await waitFor(() => c.assignment().length === 4, 10_000, 'the added partitions to be assigned')
    const p = await producer(bootstrap)
    await p.send(topic, [0, 1, 2, 3].map((partition) => ({ value: 'x', partition })))
    await waitFor(() => seen.size === 4, 10_000, 'a record from every partition')
  })

  it('a consumer without a group reads every partition from latest by default and commits nothing', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 2)
    const p = await producer(bootstrap)
    await p.send(topic, [{ value: 'old', partition: 0 }])
    const consumer = await WireConsumer.create(bootstrap)
    onTestFinished(() => consumer.close())
    const values: string[] = []
    consumer.subscribe([topic])
    await consumer.run({ eachBatch: (b) => { values.push(...b.records.map((r) => r.value!.toString())) } })
    expect(consumer.assignment()).toHaveLength(2)
    await p.send(topic, [{ value: 'new-0', partition: 0 }, { value: 'new-1', partition: 1 }])
    await waitFor(() => values.length >= 2, 10_000, 'two new records')
    expect(values.sort()).toEqual(['new-0', 'new-1'])
    await expect(consumer.commit()).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })

  it('an assigned offset past the log end is reset by auto.offset.reset (OFFSET_OUT_OF_RANGE)', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 1)
    const p = await producer(bootstrap)
    await p.send(topic, [{ value: 'a' }, { value: 'b' }])
    const consumer = await WireConsumer.create(bootstrap, { autoOffsetReset: 'earliest' })
    onTestFinished(() => consumer.close())
    const values: string[] = []
    consumer.assign([{ topic, partition: 0, offset: 1_000 }])
    await consumer.run({ eachBatch: (b) => { values.push(...b.records.map((r) => r.value!.toString())) } })
    await waitFor(() => values.length >= 2, 10_000, 'the reset reads')
    expect(values).toEqual(['a', 'b'])
  })

  it('with auto.offset.reset=none an out-of-range offset ends the loop with OFFSET_OUT_OF_RANGE', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 1)
    const consumer = await WireConsumer.create(bootstrap, { autoOffsetReset: 'none' })
    onTestFinished(() => consumer.close())
    consumer.assign([{ topic, partition: 0, offset: 5 }])
    await consumer.run({ eachBatch: () => undefined })
    await expect(consumer.done()).rejects.toMatchObject({ code: 'OFFSET_OUT_OF_RANGE' })
  })

  it('manually assigned partitions with a group id start at, and commit to, the group offsets', async () => {
    const { bootstrap, topic, admin } = await setup(wire.bootstrap, 2)
    const group = randomName('group')
    const p = await producer(bootstrap)
    await p.send(topic, [0, 1, 2].map((i) => ({ value: String(i), partition: 1 })))
    await admin.commitGroupOffsets(group, [{ topic, partition: 1, offset: 1 }])
    const consumer = await WireConsumer.create(bootstrap, { groupId: group, autoOffsetReset: 'earliest' })
    const values: string[] = []
    consumer.assign([{ topic, partition: 1 }])
    await consumer.run({ eachBatch: (b) => { values.push(...b.records.map((r) => r.value!.toString())) } })
    await waitFor(() => values.length >= 2, 10_000, 'two records')
    await consumer.close()
    expect(values).toEqual(['1', '2'])
    expect(await admin.fetchCommittedOffsets(group)).toEqual([{ topic, partition: 1, offset: 3 }])
  })

  it('rejects bad consumer settings and misuse', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 1)
    await expect(WireConsumer.create(bootstrap, { groupId: '' })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(WireConsumer.create(bootstrap, { groupId: 'g', partitionAssigners: ['fancy'] })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(WireConsumer.create(bootstrap, { autoOffsetReset: 'middle' as never })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    const consumer = await WireConsumer.create(bootstrap)
    onTestFinished(() => consumer.close())
    await expect(consumer.run({ eachBatch: () => undefined })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
    expect(() => consumer.subscribe([])).toThrow(expect.objectContaining({ code: 'INVALID_REQUEST' }))
    consumer.subscribe([topic])
    await consumer.run({ eachBatch: () => undefined })
    await expect(consumer.run({ eachBatch: () => undefined })).rejects.toMatchObject({ code: 'INVALID_REQUEST' })
  })

  it('a failing eachBatch ends the loop and done() reports it', async () => {
    const { bootstrap, topic } = await setup(wire.bootstrap, 1)
    const p = await producer(bootstrap)
    await p.send(topic, [{ value: 'x' }])
    const consumer = await WireConsumer.create(bootstrap, { autoOffsetReset: 'earliest' })
    onTestFinished(() => consumer.close())
    consumer.subscribe([topic])
    await consumer.run({ eachBatch: () => { throw new Error('handler broke') } })
    await expect(consumer.done()).rejects.toThrow('handler broke')
  })
})
