import { describe, expect, it } from 'vitest'
import { createdTopic, startCluster } from '../helpers/cluster.js'
import { FetchIsolation } from '../../src/shard/shard-codec.js'

/** Kafka's fetch.min.bytes on the shards: a long poll answers once that many bytes are readable, or at maxWaitMs. */
describe('shard > fetch minBytes', () => {
  it('answers once enough bytes were appended, not at the first append', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    const producer = cluster.producer({ lingerMs: 0 })
    const started = Date.now()
    let answered = 0
    const fetch = cluster.engine.fetch(
      { maxWaitMs: 20_000, minBytes: 600, maxBytes: 1 << 20, isolation: FetchIsolation.HighWatermark },
      [{ topic, partition: 0, offset: 0, maxBytes: 1 << 20 }],
    ).then((r) => { answered = Date.now(); return r })
    // Each send is one batch of about 100 bytes: six or seven are needed.
    let sends = 0
    while (answered === 0 && sends < 20) {
      await producer.send({ topic, messages: [{ value: 'x'.repeat(30) }] })
      sends++
      await new Promise((r) => setTimeout(r, 20))
    }
    const [result] = await fetch
    expect(result!.errorCode).toBe(0)
    expect(result!.records.length).toBeGreaterThanOrEqual(600)
    expect(sends).toBeGreaterThan(3)
    expect(answered - started).toBeLessThan(20_000)
  })

  it('answers at maxWaitMs with what is there when minBytes never arrive', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster, 2)
    const producer = cluster.producer({ lingerMs: 0 })
    const fetch = cluster.engine.fetch(
      { maxWaitMs: 300, minBytes: 1 << 20, maxBytes: 1 << 20, isolation: FetchIsolation.HighWatermark },
      [{ topic, partition: 0, offset: 0, maxBytes: 1 << 20 }, { topic, partition: 1, offset: 0, maxBytes: 1 << 20 }],
    )
    await producer.send({ topic, messages: [{ value: 'a', partition: 0 }, { value: 'b', partition: 1 }] })
    await producer.send({ topic, messages: [{ value: 'c', partition: 1 }] })
    const results = await fetch
    expect(results.map((r) => r.errorCode)).toEqual([0, 0])
    expect(results[0]!.records.length).toBeGreaterThan(0)
    expect(results[1]!.records.length).toBeGreaterThan(results[0]!.records.length)
  })
})
