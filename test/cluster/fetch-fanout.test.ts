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
})
