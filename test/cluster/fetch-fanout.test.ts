import { describe, expect, it } from 'vitest'
import { createdTopic, startCluster } from '../helpers/cluster.js'
import { FetchIsolation } from '../../src/shard/shard-codec.js'

const longPoll = { maxWaitMs: 20_000, minBytes: 1, maxBytes: 1 << 20, isolation: FetchIsolation.HighWatermark }

/** Resolves to the fetch's results, or to 'waited' if they take longer than `ms`. */
function within<T>(ms: number, p: Promise<T>): Promise<T | 'waited'> {
  return Promise.race([p, new Promise<'waited'>((r) => setTimeout(r, ms, 'waited'))])
}

describe('cluster > fetch across shards', () => {
  it('answers as soon as one shard has records, ending the other shard\'s long poll instead of waiting it out', async () => {
    const cluster = await startCluster({ shards: 2 })
    const topic = await createdTopic(cluster, 2)
    expect(cluster.engine.leaderShard(topic, 0)).not.toBe(cluster.engine.leaderShard(topic, 1))
    const partitions = [0, 1].map((partition) => ({ topic, partition, maxBytes: 1 << 20 }))
    const producer = cluster.producer({ lingerMs: 0 })

    const next = [0, 0] // each partition's next offset
    for (const [round, partition] of [[0, 0], [1, 1], [2, 0]] as const) {
      const fetch = cluster.engine.fetch(longPoll, partitions.map((p) => ({ ...p, offset: next[p.partition]! })))
      await new Promise((r) => setTimeout(r, 50)) // both shards are polling by now
      await producer.send({ topic, messages: [{ value: `round ${round}`, partition }] })
      const results = await within(5_000, fetch)
      expect(results, `round ${round}`).not.toBe('waited')
      if (results === 'waited') return
      expect(results.map((r) => [r.partition, r.errorCode, r.records.length > 0])).toEqual([[0, 0, partition === 0], [1, 0, partition === 1]])
      next[partition]!++
    }
  })

  it('incremental: answers in request order and leaves out only the caught-up partitions', async () => {
    const cluster = await startCluster({ shards: 2 })
    const topic = await createdTopic(cluster, 5)
    const producer = cluster.producer({ lingerMs: 0 })
    for (const partition of [1, 2, 3]) await producer.send({ topic, messages: [{ value: 'x', partition }, { value: 'y', partition }] })
    const fetch = (offsets: number[], maxBytes = 1 << 20): ReturnType<typeof cluster.engine.fetch> => cluster.engine.fetch(
      { maxWaitMs: 0, minBytes: 1, maxBytes, isolation: FetchIsolation.HighWatermark, incremental: true },
      offsets.map((offset, partition) => ({ topic, partition, offset, maxBytes: 1 << 20 })),
    )
    // Partition 0 is empty and asked at 0, 3 is asked at its high watermark: both caught up.
    // 1 and 2 have records, 4 is asked past its end (an error): they are answered, in request order.
    const results = await fetch([0, 0, 1, 2, 50])
    expect(results.map((r) => [r.partition, r.errorCode, r.records.length > 0])).toEqual([[1, 0, true], [2, 0, true], [4, 1, false]])
    // A partition behind its high watermark stays in the answer even when its shard had no bytes
    // left for it (maxBytes is per shard): of two partitions on one shard, the first takes the byte.
    const shardOf = (p: number): unknown => cluster.engine.leaderShard(topic, p)
    const [a, b] = [[1, 2], [1, 3], [2, 3]].find(([x, y]) => shardOf(x!) === shardOf(y!))! // two of three share one of two shards
    const offsets = [0, 2, 2, 2, 0]
    offsets[a!] = 0
    offsets[b!] = 0
    const starved = await fetch(offsets, 1)
    expect(starved.map((r) => [r.partition, r.highWatermark, r.records.length > 0])).toEqual([[a, 2, true], [b, 2, false]])
    // Not incremental: every partition is answered.
    const full = await cluster.engine.fetch({ maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolation: FetchIsolation.HighWatermark },
      [0, 1, 2, 3, 4].map((partition) => ({ topic, partition, offset: 0, maxBytes: 1 << 20 })))
    expect(full.map((r) => r.partition)).toEqual([0, 1, 2, 3, 4])
  })
})
