import diagnostics from 'node:diagnostics_channel'
import { describe, it, expect, onTestFinished } from 'vitest'
import { createdTopic, startCluster, tempDir, topicName, waitFor } from '../helpers/cluster.js'
import { Cluster } from '../../src/client/cluster.js'
import type { Consumer } from '../../src/client/consumer.js'

const fast = { sessionTimeout: 6_000, heartbeatInterval: 100, maxWaitTimeInMs: 100 }

function sortAssign(c: Consumer): string[] {
  return c.assignment().map((a) => `${a.topic}:${a.partition}`).sort()
}

describe('client > Consumer groups', () => {
  it('3 consumers on 6 partitions get 2 each; a leaver\'s partitions move; a joiner triggers a rebalance', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 6)
    const groupId = topicName('group')
    const consumers = [0, 1, 2].map(() => cluster.consumer({ groupId, ...fast }))
    for (const c of consumers) {
      await c.subscribe({ topic, fromBeginning: true })
      await c.run({ eachMessage: async () => undefined })
    }
    await waitFor(() => consumers.every((c) => c.assignment().length === 2), 15_000, 'each consumer to own 2 partitions')
    const all = consumers.flatMap(sortAssign)
    expect(new Set(all).size).toBe(6)

    await consumers[2]!.disconnect()
    await waitFor(() => consumers.slice(0, 2).every((c) => c.assignment().length === 3), 15_000, 'the leaver\'s partitions to move')
    expect(new Set(consumers.slice(0, 2).flatMap(sortAssign)).size).toBe(6)

    const joiner = cluster.consumer({ groupId, ...fast })
    await joiner.subscribe({ topic, fromBeginning: true })
    await joiner.run({ eachMessage: async () => undefined })
    await waitFor(() => [consumers[0]!, consumers[1]!, joiner].every((c) => c.assignment().length === 2), 15_000, 'the rebalance after a join')
    const desc = await cluster.admin().describeGroups([groupId])
    expect(desc.groups[0]!.groupState).toBe('Stable')
    expect(desc.groups[0]!.members).toHaveLength(3)
  })

  it('commits after processing: a rebalance neither duplicates nor skips, and a restart resumes from the commits', async () => {
    const dataDir = tempDir()
    const topic = topicName()
    const groupId = topicName('group')
    let cluster = await Cluster.start({ dataDir, shards: 2 })
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 4 }] })
    const producer = cluster.producer()
    await producer.send({ topic, messages: Array.from({ length: 400 }, (_, i) => ({ key: String(i), value: String(i) })) })
    const seen: string[] = []
    const a = cluster.consumer({ groupId, ...fast })
    await a.subscribe({ topic, fromBeginning: true })
    await a.run({ autoCommitThreshold: 1, eachMessage: async ({ message }) => { seen.push(message.value!.toString()) } })
    await waitFor(() => seen.length >= 100)
    const b = cluster.consumer({ groupId, ...fast })
    await b.subscribe({ topic, fromBeginning: true })
    await b.run({ autoCommitThreshold: 1, eachMessage: async ({ message }) => { seen.push(message.value!.toString()) } })
    await waitFor(() => seen.length >= 400, 15_000, 'all 400 records')
    await a.disconnect()
    await b.disconnect()
    expect(seen).toHaveLength(400)
    expect(new Set(seen).size).toBe(400)
    await cluster.stop()

    cluster = await Cluster.start({ dataDir, shards: 2 })
    try {
      await cluster.producer().send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ key: `n${i}`, value: `new-${i}` })) })
      const after: string[] = []
      const c = cluster.consumer({ groupId, ...fast })
      await c.subscribe({ topic, fromBeginning: true })
      await c.run({ eachMessage: async ({ message }) => { after.push(message.value!.toString()) } })
      await waitFor(() => after.length >= 20, 15_000, 'the records produced after the restart')
      await new Promise((r) => setTimeout(r, 200))
      expect(after.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `new-${i}`).sort())
      await c.disconnect()
    } finally {
      await cluster.stop()
    }
  })

  it('LAG is exact: produce 5, consume and commit 4, LAG is 1 per partition and in total', async () => {
    const cluster = await startCluster()
    const topic = topicName()
    const groupId = topicName('group')
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] })
    await cluster.producer().send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ value: String(i) })) })
    const consumer = cluster.consumer({ groupId, ...fast })
    await consumer.subscribe({ topic, fromBeginning: true })
    let n = 0
    let committed = false
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, pause }) => {
        n++
        if (n === 4) {
          pause()
          await consumer.commitOffsets([{ topic, partition: 0, offset: String(Number(message.offset) + 1) }])
          committed = true
        }
      },
    })
    await waitFor(() => committed)
    const lag = await cluster.admin().lag(groupId)
    expect(lag.partitions).toEqual([expect.objectContaining({ topic, partition: 0, currentOffset: 4, logEndOffset: 5, lag: 1 })])
    expect(lag.totalLag).toBe(1)
    const offsets = await cluster.admin().fetchOffsets({ groupId, topics: [topic] })
    expect(offsets).toEqual([{ topic, partitions: [{ partition: 0, offset: '4', metadata: '' }] }])
    await consumer.disconnect()
  })

  it('two groups on the same topic each receive every record', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 3)
    await cluster.producer().send({ topic, messages: Array.from({ length: 60 }, (_, i) => ({ key: String(i), value: String(i) })) })
    const counts = [new Set<string>(), new Set<string>()]
    const consumers = counts.map((set, i) => {
      const c = cluster.consumer({ groupId: `g${i}-${topic}`, ...fast })
      return { c, set }
    })
    for (const { c, set } of consumers) {
      await c.subscribe({ topic, fromBeginning: true })
      await c.run({ eachMessage: async ({ message }) => { set.add(message.value!.toString()) } })
    }
    await waitFor(() => counts.every((s) => s.size === 60))
    for (const { c } of consumers) await c.disconnect()
  })

  it('setOffsets is refused while members are active and works once the group is empty', async () => {
    const cluster = await startCluster()
    const topic = topicName()
    const groupId = topicName('group')
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] })
    await cluster.producer().send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i) })) })
    const consumer = cluster.consumer({ groupId, ...fast })
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async () => undefined })
    await waitFor(() => consumer.assignment().length === 1)
    await expect(cluster.admin().setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: 3 }] })).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' })
    await expect(cluster.admin().deleteGroups([groupId])).rejects.toMatchObject({ code: 'NON_EMPTY_GROUP' })
    await consumer.disconnect()
    await cluster.admin().setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: 3 }] })
    expect((await cluster.admin().fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset).toBe('3')
    await expect(cluster.admin().setOffsets({ groupId, topic, partitions: [{ partition: 7, offset: 3 }] })).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    await cluster.admin().deleteGroups([groupId])
    await expect(cluster.admin().describeGroups(['no-such-group'])).resolves.toBeDefined()
  })

  it('a restarted static member (group.instance.id) gets its partitions back without a rebalance', async () => {
    const cluster = await startCluster()
    const topic = topicName()
    const groupId = topicName('group')
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 4 }] })
    const start = async (instance: string) => {
      const c = cluster.consumer({ groupId, groupInstanceId: instance, sessionTimeout: 10_000, heartbeatInterval: 100, maxWaitTimeInMs: 100 })
      await c.subscribe({ topic, fromBeginning: true })
      await c.run({ eachMessage: async () => undefined })
      return c
    }
    const a = await start('instance-a')
    const b = await start('instance-b')
    await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2, 15_000, 'the initial assignment')
    const before = sortAssign(a)
    const generation = (await cluster.admin().describeGroups([groupId])).groups[0]!
    const rebalances: unknown[] = []
    const onRebalance = (m: unknown): void => { if ((m as { groupId: string }).groupId === groupId) rebalances.push(m) }
    diagnostics.subscribe('shardlog:group:rebalance', onRebalance)
    onTestFinished(() => { diagnostics.unsubscribe('shardlog:group:rebalance', onRebalance) })
    await a.disconnect()
    const again = await start('instance-a')
    await waitFor(() => again.assignment().length === 2, 15_000, 'the static member to be back')
    expect(sortAssign(again)).toEqual(before)
    expect(b.assignment().length).toBe(2)
    const after = (await cluster.admin().describeGroups([groupId])).groups[0]!
    expect(after.groupState).toBe('Stable')
    expect(after.members.map((m) => m.groupInstanceId).sort()).toEqual(generation.members.map((m) => m.groupInstanceId).sort())
    expect(rebalances).toEqual([])
  })

  it('partitions added to a subscribed topic are assigned and consumed after a rebalance', async () => {
    const cluster = await startCluster()
    const topic = topicName()
    const groupId = topicName('group')
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] })
    const consumer = cluster.consumer({ groupId, ...fast })
    await consumer.subscribe({ topic, fromBeginning: true })
    const seen = new Set<number>()
    await consumer.run({ eachMessage: async ({ partition }) => { seen.add(partition) } })
    await waitFor(() => consumer.assignment().length === 2)
    await cluster.admin().createPartitions({ topicPartitions: [{ topic, count: 4 }] })
    await waitFor(() => consumer.assignment().length === 4, 10_000, 'the new partitions to be assigned')
    await cluster.producer().send({ topic, messages: [0, 1, 2, 3].map((partition) => ({ value: 'x', partition })) })
    await waitFor(() => seen.size === 4, 10_000, 'a record from every partition')
  })
})
