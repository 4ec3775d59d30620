import { describe, it, expect } from 'vitest'
import { createdTopic, startCluster, waitFor } from '../helpers/cluster.js'

// A worker thread that dies, and the in-thread shard of `shards: 0` killed the same way.
describe.each([
  { kind: 'worker', shards: 2 },
  { kind: 'in-thread', shards: 0 },
])('client > shard crash ($kind)', ({ shards }) => {
  it('a killed shard fails pending calls at once, restarts, recovers its logs, and serves again', async () => {
    const cluster = await startCluster({ shards })
    const topic = await createdTopic(cluster, 4)
    const producer = cluster.producer({ lingerMs: 1 })
    const acked: Array<{ partition: number; offset: number; value: string }> = []
    let stop = false
    const load = (async () => {
      let i = 0
      while (!stop) {
        const value = `v${i++}`
        try {
          const [meta] = await producer.send({ topic, messages: [{ key: value, value }] })
          acked.push({ partition: meta!.partition, offset: Number(meta!.baseOffset), value })
        } catch (err) {
          expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true })
        }
      }
    })()
    await waitFor(() => acked.length > 200)
    const shard = cluster.broker(0).shards[0]!
    await shard.kill()
    await shard.whenReady()
    const ackedAtKill = acked.length
    await waitFor(() => acked.length > ackedAtKill + 200, 10_000, 'produce to succeed after the restart')
    stop = true
    await load
    expect(shard.restarts).toBe(1)

    // Every acknowledged record is readable at its offset.
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const byPosition = new Map<string, string>()
    await consumer.run({ eachMessage: async ({ partition, message }) => { byPosition.set(`${partition}:${message.offset}`, message.value!.toString()) } })
    await waitFor(() => byPosition.size >= acked.length, 10_000, 'all acknowledged records')
    await consumer.disconnect()
    for (const a of acked) expect(byPosition.get(`${a.partition}:${a.offset}`)).toBe(a.value)
  })
})
