import fs from 'node:fs'
import path from 'node:path'
import { describe, it, expect } from 'vitest'
import { startCluster, tempDir, topicName, waitFor } from '../helpers/cluster.js'
import { Cluster } from '../../src/client/cluster.js'

const haConfig = {
  'broker.session.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '100',
  'replica.lag.time.max.ms': '1000',
  'leader.imbalance.check.interval.ms': '300',
}

async function meta(cluster: Cluster, topic: string, partition = 0) {
  return (await cluster.admin().fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions[partition]!
}

/** Reads every record of a partition from the beginning: offset -> value. */
async function readAll(cluster: Cluster, topic: string, partitions: number): Promise<Map<string, string>> {
  const offsets = await cluster.admin().fetchTopicOffsets(topic)
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0)
  const got = new Map<string, string>()
  const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0 })))
  await consumer.run({ eachMessage: async ({ partition, message }) => { got.set(`${partition}:${message.offset}`, message.value!.toString()) } })
  await waitFor(() => got.size >= total, 10_000, `all ${total} records`)
  await consumer.disconnect()
  return got
}

describe('cluster > failover', () => {
  it.each([false, true])('RF=3, acks=all, min.insync.replicas=2, idempotent=%s: killing the leader mid-load loses no acknowledged record', async (idempotent) => {
    const cluster = await startCluster({ brokers: 3, shards: 1, config: haConfig })
    const topic = topicName()
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] })
    const producer = cluster.producer({ acks: -1, idempotent, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 200 } })
    const acked: Array<{ offset: number; value: string }> = []
    const total = 600
    let killedAt = 0
    const leader = (await meta(cluster, topic)).leader
    const load = (async () => {
      for (let i = 0; i < total; i++) {
        const value = `v${i}`
        const [m] = await producer.send({ topic, messages: [{ value }] })
        acked.push({ offset: Number(m!.baseOffset), value })
        if (i === 200) {
          killedAt = Date.now()
          void cluster.broker(leader).kill()
        }
      }
    })()
    await load
    const after = await meta(cluster, topic)
    expect(after.leader).not.toBe(leader)
    expect(after.leader).toBeGreaterThanOrEqual(0)
    expect(killedAt).toBeGreaterThan(0)

    const records = await readAll(cluster, topic, 1)
    // Every acknowledged record is at its offset, exactly once, and in send order.
    for (const a of acked) expect(records.get(`0:${a.offset}`)).toBe(a.value)
    const ackedOffsets = acked.map((a) => a.offset)
    expect([...ackedOffsets].sort((x, y) => x - y)).toEqual(ackedOffsets)
    // An idempotent producer's retries are deduplicated by the new leader: no value twice in the log.
    const values = [...records.values()]
    if (idempotent) expect(new Set(values).size).toBe(values.length)
  })

  it('a running consumer follows a leader kill: it keeps reading from the new leader, every acknowledged record once, in order', async () => {
    const cluster = await startCluster({ brokers: 3, shards: 1, config: haConfig })
    const topic = topicName()
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] })
    const consumer = cluster.consumer({ maxWaitTimeInMs: 200 })
    consumer.assign([{ topic, partition: 0, offset: 0 }, { topic, partition: 1, offset: 0 }])
    const delivered = new Map<number, number[]>([[0, []], [1, []]])
    const values = new Map<string, string>()
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        delivered.get(partition)!.push(Number(message.offset))
        values.set(`${partition}:${message.offset}`, message.value!.toString())
      },
    })
    const producer = cluster.producer({ acks: -1, idempotent: true, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 200 } })
    const acked: Array<{ key: string; value: string }> = []
    const leader = (await meta(cluster, topic, 0)).leader
    for (let i = 0; i < 300; i++) {
      const partition = i % 2
      const [m] = await producer.send({ topic, messages: [{ value: `v${i}`, partition }] })
      acked.push({ key: `${partition}:${m!.baseOffset}`, value: `v${i}` })
      if (i === 100) void cluster.broker(leader).kill()
    }
    expect((await meta(cluster, topic, 0)).leader).not.toBe(leader)
    await waitFor(() => acked.every((a) => values.has(a.key)), 15_000, 'every acknowledged record delivered')
    await consumer.disconnect()
    for (const a of acked) expect(values.get(a.key)).toBe(a.value)
    // Each partition's offsets arrive strictly increasing: nothing twice, nothing out of order.
    for (const offsets of delivered.values()) expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!)).toBe(true)
  })

  it('new leader within the session timeout plus a small margin', async () => {
    const cluster = await startCluster({ brokers: 3, shards: 1, config: haConfig })
    const topic = topicName()
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] })
    await cluster.producer({ acks: -1 }).send({ topic, messages: [{ value: 'x' }] })
    const leader = (await meta(cluster, topic)).leader
    const t0 = Date.now()
    await cluster.broker(leader).kill()
    await waitFor(async () => { const m = await meta(cluster, topic); return m.leader !== leader && m.leader >= 0 }, 5_000, 'a new leader')
    expect(Date.now() - t0).toBeLessThan(1000 + 1500)
  })

  it('with two of three brokers down acks=all fails with NOT_ENOUGH_REPLICAS; restarted brokers catch up and rejoin the ISR', async () => {
    const cluster = await startCluster({ brokers: 3, shards: 1, config: haConfig })
    const topic = topicName()
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] })
    const producer = cluster.producer({ acks: -1, retry: { retries: 0 } })
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: `a${i}` })) })
    const m0 = await meta(cluster, topic)
    const others = m0.replicas.filter((b) => b !== m0.leader)
    for (const b of others) await cluster.broker(b).kill()
    await waitFor(async () => (await meta(cluster, topic)).isr.length === 1, 5_000, 'the ISR to shrink to the leader')
    await cluster.engine.controller.settled()
    await expect(producer.send({ topic, messages: [{ value: 'lost?' }] })).rejects.toMatchObject({ code: 'NOT_ENOUGH_REPLICAS', errorCode: 19 })
    // acks=1 still works: only the leader is needed.
    await cluster.producer({ acks: 1 }).send({ topic, messages: [{ value: 'one' }] })
    for (const b of others) await cluster.broker(b).restart()
    await waitFor(async () => (await meta(cluster, topic)).isr.length === 3, 10_000, 'restarted brokers to rejoin the ISR')
    await producer.send({ topic, messages: [{ value: 'after' }] })
    const records = [...(await readAll(cluster, topic, 1)).values()]
    expect(records).toEqual([...Array.from({ length: 10 }, (_, i) => `a${i}`), 'one', 'after'])
    expect(records).not.toContain('lost?')
  })

  it('an isolated leader\'s divergent tail is truncated when it returns; replica logs end identical', async () => {
    const dataDir = tempDir()
    const cluster = await startCluster({ dataDir, brokers: 3, shards: 1, config: { ...haConfig, 'auto.leader.rebalance.enable': 'false' } })
    const topic = topicName()
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] })
    await cluster.producer({ acks: -1 }).send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ value: `c${i}` })) })
    const old = (await meta(cluster, topic)).leader
    cluster.isolate(old)
    // Still the leader in metadata until fenced: an acks=1 write lands on it alone.
    await cluster.producer({ acks: 1, retry: { retries: 0 } }).send({ topic, messages: [{ value: 'divergent-1' }, { value: 'divergent-2' }] })
    await waitFor(async () => { const m = await meta(cluster, topic); return m.leader !== old && m.leader >= 0 }, 5_000, 'a new leader')
    await cluster.producer({ acks: -1 }).send({ topic, messages: [{ value: 'n1' }, { value: 'n2' }, { value: 'n3' }] })
    await cluster.heal()
    await waitFor(async () => (await meta(cluster, topic)).isr.length === 3, 10_000, 'the old leader to rejoin the ISR')
    await cluster.flush()
    const seg = (b: number) => fs.readFileSync(path.join(dataDir, `broker-${b}`, `${topic}-0`, '00000000000000000000.log'))
    const reference = seg((await meta(cluster, topic)).leader)
    for (const b of [0, 1, 2]) expect(seg(b).equals(reference)).toBe(true)
    const values = [...(await readAll(cluster, topic, 1)).values()]
    expect(values).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'n1', 'n2', 'n3'])
  })

  it('preferred leaders come back after a broker returns, and a full restart keeps metadata, leaders and data', async () => {
    const dataDir = tempDir()
    let cluster = await Cluster.start({ dataDir, brokers: 3, shards: 1, config: haConfig })
    const topic = topicName()
    try {
      await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 3 }] })
      await cluster.producer({ acks: -1 }).send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: String(i), value: String(i) })) })
      const preferred = (await cluster.admin().fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.map((p) => p.replicas[0])
      await cluster.broker(0).shutdown()
      const moved = (await cluster.admin().fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions
      expect(moved.every((p) => p.leader !== 0)).toBe(true)
      await cluster.broker(0).restart()
      await waitFor(async () => {
        const ps = (await cluster.admin().fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions
        return ps.every((p, i) => p.leader === preferred[i])
      }, 10_000, 'preferred leaders to be restored')
    } finally {
      await cluster.stop()
    }
    cluster = await Cluster.start({ dataDir, brokers: 3, shards: 1, config: haConfig })
    try {
      const ps = (await cluster.admin().fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions
      expect(ps.map((p) => p.replicas.length)).toEqual([3, 3, 3])
      const records = await readAll(cluster, topic, 3)
      expect(new Set(records.values()).size).toBe(30)
    } finally {
      await cluster.stop()
    }
  })
})

describe('cluster > failover seen by a Kafka client', () => {
  it('kafkajs keeps producing through a leader kill: the dead broker stops listening, metadata moves, the client retries', async () => {
    const { Kafka, logLevel } = await import('kafkajs')
    const net = await import('node:net')
    const cluster = await startCluster({ brokers: 3, shards: 1, listeners: true, config: haConfig })
    const topic = topicName()
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3, configEntries: [{ name: 'min.insync.replicas', value: '2' }] }] })
    const kafka = new Kafka({ brokers: [cluster.bootstrap!], logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 500 } })
    const producer = kafka.producer({ idempotent: true })
    await producer.connect()
    try {
      await producer.send({ topic, acks: -1, messages: [{ value: 'before' }] })
      const leader = (await meta(cluster, topic)).leader
      const address = cluster.listenerAddresses.find((a) => a.brokerId === leader)!
      await cluster.broker(leader).kill()
      const refused = await new Promise<boolean>((resolve) => {
        const socket = net.connect(address.port, address.host)
        socket.once('connect', () => { socket.destroy(); resolve(false) })
        socket.once('error', () => resolve(true))
      })
      expect(refused).toBe(true)
      await producer.send({ topic, acks: -1, messages: [{ value: 'after' }] })
      await cluster.broker(leader).restart()
      const again = await new Promise<boolean>((resolve) => {
        const socket = net.connect(address.port, address.host)
        socket.once('connect', () => { socket.destroy(); resolve(true) })
        socket.once('error', () => resolve(false))
      })
      expect(again).toBe(true)
    } finally {
      await producer.disconnect()
    }
    const values = [...(await readAll(cluster, topic, 1)).values()]
    expect(values).toEqual(['before', 'after'])
  })
})

describe('cluster > a paused broker seen by a Kafka client', () => {
  it('holds requests while paused and answers them after resume', async () => {
    const { KafkaConnection } = await import('../../src/protocol/connection.js')
    const { ApiKey } = await import('../../src/protocol/api-keys.js')
    const cluster = await startCluster({ brokers: 1, shards: 1, listeners: true })
    const [address] = cluster.listenerAddresses
    const connection = await KafkaConnection.connect({ host: address!.host, port: address!.port, clientId: 'pause-test' })
    try {
      cluster.broker(0).pause()
      let answered = false
      const pending = connection.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })
        .then((r) => { answered = true; return r })
      await new Promise((r) => setTimeout(r, 300))
      expect(answered).toBe(false)
      cluster.broker(0).resume()
      const res = await pending
      expect(res.brokers.map((b) => b.nodeId)).toEqual([0])
    } finally {
      connection.close()
    }
  })
})
