import { describe, expect, it } from 'vitest'
import { Cluster } from '../../src/client/cluster.js'
import { InThreadShard } from '../../src/shard/in-thread-shard.js'
import { ShardOp } from '../../src/shard/shard-ops.js'
import { FetchIsolation, decodeFetchResult, encodeFetchRequest } from '../../src/shard/shard-codec.js'
import { createdTopic, startCluster, tempDir, waitFor } from '../helpers/cluster.js'

/** A long-polling fetch of one partition sent straight to its shard. */
function longPoll(shard: InThreadShard, topic: string, offset: number, maxWaitMs: number): Promise<Buffer> {
  return shard.request(ShardOp.Fetch, encodeFetchRequest({
    maxWaitMs, minBytes: 1, maxBytes: 1 << 20, waitToken: 0, isolation: FetchIsolation.HighWatermark,
    partitions: [{ topic, partition: 0, offset, maxBytes: 1 << 20 }],
  }))
}

describe('shard > InThreadShard (shards: 0)', () => {
  it('serves every partition on the calling thread: order, contiguous offsets and a restart keep every record', async () => {
    const dataDir = tempDir()
    let cluster = await Cluster.start({ dataDir, shards: 0 })
    const shards = cluster.engine.brokers[0]!.shards
    expect(shards).toHaveLength(1)
    expect(shards[0]).toBeInstanceOf(InThreadShard)
    const topic = await createdTopic(cluster, 8)
    const producers = Array.from({ length: 4 }, () => cluster.producer({ lingerMs: 1 }))
    await Promise.all(producers.map(async (producer, p) => {
      for (let i = 0; i < 50; i++) {
        await producer.send({ topic, messages: Array.from({ length: 8 }, (_, j) => ({ value: `${p}:${i}:${j}`, partition: j })) })
      }
    }))
    await cluster.stop()

    cluster = await Cluster.start({ dataDir, shards: 0 })
    try {
      const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
      await consumer.subscribe({ topic, fromBeginning: true })
      const byPartition = new Map<number, Array<{ offset: number; value: string }>>()
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          const list = byPartition.get(partition) ?? []
          list.push({ offset: Number(message.offset), value: message.value!.toString() })
          byPartition.set(partition, list)
        },
      })
      await waitFor(() => [...byPartition.values()].reduce((n, l) => n + l.length, 0) >= 4 * 50 * 8, 10_000, 'every record')
      await consumer.disconnect()
      for (let partition = 0; partition < 8; partition++) {
        const list = byPartition.get(partition)!
        expect(list.map((r) => r.offset)).toEqual(Array.from({ length: 200 }, (_, i) => i))
        // Each producer's records keep their send order within the partition.
        for (let p = 0; p < 4; p++) {
          const mine = list.filter((r) => r.value.startsWith(`${p}:`)).map((r) => Number(r.value.split(':')[1]))
          expect(mine).toEqual(Array.from({ length: 50 }, (_, i) => i))
        }
      }
    } finally {
      await cluster.stop()
    }
  })

  it('a kill fails a long poll at once with KAFKA_STORAGE_ERROR, and the fresh runtime recovers the log', async () => {
    const cluster = await startCluster({ shards: 0 })
    const topic = await createdTopic(cluster, 1)
    await cluster.producer().send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })) })
    const shard = cluster.engine.brokers[0]!.shards[0] as InThreadShard
    const parked = longPoll(shard, topic, 20, 30_000)
    const outcome = parked.then(() => 'answered', (err: unknown) => err)
    await new Promise((r) => setTimeout(r, 20)) // parked in the runtime by now
    const killedAt = Date.now()
    await shard.kill()
    expect(await outcome).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true, message: 'shard 0 died: killed' })
    expect(Date.now() - killedAt).toBeLessThan(5_000) // not the 30 s long poll
    expect(shard.restarts).toBe(1)
    expect(shard.isRunning).toBe(true)

    // The broker's onRestart reopened the partition: the records written before the kill are read back.
    const results = decodeFetchResult(await longPoll(shard, topic, 0, 0))
    expect(results[0]).toMatchObject({ errorCode: 0, highWatermark: 20 })
    const [meta] = await cluster.producer().send({ topic, messages: [{ value: 'after' }] })
    expect(meta!.baseOffset).toBe('20')
  })

  it('answers calls made during a restart once it is done, and refuses calls after stop with BROKER_NOT_AVAILABLE', async () => {
    const cluster = await startCluster({ shards: 0 })
    const topic = await createdTopic(cluster, 1)
    const shard = cluster.engine.brokers[0]!.shards[0] as InThreadShard
    const killing = shard.kill()
    expect(shard.isRunning).toBe(false)
    const during = longPoll(shard, topic, 0, 0) // waits for the restart, then is served
    await killing
    expect(decodeFetchResult(await during)[0]).toMatchObject({ errorCode: 0, highWatermark: 0 })

    await shard.stop()
    await expect(longPoll(shard, topic, 0, 0)).rejects.toMatchObject({ code: 'BROKER_NOT_AVAILABLE' })
    await expect(shard.whenReady()).rejects.toMatchObject({ code: 'BROKER_NOT_AVAILABLE' })
  })

  it('sends the runtime\'s errors back typed, and keeps serving', async () => {
    const cluster = await startCluster({ shards: 0 })
    const topic = await createdTopic(cluster, 1)
    const shard = cluster.engine.brokers[0]!.shards[0] as InThreadShard
    await expect(shard.request(9999, Buffer.alloc(0))).rejects.toMatchObject({ name: expect.stringMatching(/Error$/), errorCode: expect.any(Number) })
    const [unknown] = decodeFetchResult(await shard.request(ShardOp.Fetch, encodeFetchRequest({
      maxWaitMs: 0, minBytes: 1, maxBytes: 1024, waitToken: 0, isolation: FetchIsolation.HighWatermark,
      partitions: [{ topic: 'no-such-topic', partition: 0, offset: 0, maxBytes: 1024 }],
    })))
    expect(unknown!.errorCode).toBe(3) // UNKNOWN_TOPIC_OR_PARTITION
    await expect(cluster.producer().send({ topic, messages: [{ value: 'still serving' }] })).resolves.toHaveLength(1)
  })

  it('refuses a negative shard count, and busyPollUs without shard threads, with INVALID_CONFIG', async () => {
    await expect(Cluster.start({ dataDir: tempDir(), shards: -1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(Cluster.start({ dataDir: tempDir(), shards: 0, busyPollUs: 100 })).rejects.toThrow(/with shards: 0 there are none/)
  })
})
