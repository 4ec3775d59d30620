import fs from 'node:fs'
import path from 'node:path'
import { describe, it, expect } from 'vitest'
import { startCluster, tempDir, topicName, waitFor } from '../helpers/cluster.js'

/** Short timeouts so failures are noticed in tests within a second or two. */
const haConfig = {
  'broker.session.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '100',
  'replica.lag.time.max.ms': '1000',
  'leader.imbalance.check.interval.ms': '500',
}

describe('cluster > replication', () => {
  it('RF 1, 2 and 3 work; RF larger than the broker count is refused', async () => {
    const cluster = await startCluster({ brokers: 3, shards: 1, config: haConfig })
    const admin = cluster.admin()
    for (const rf of [1, 2, 3]) {
      const topic = topicName(`rf${rf}`)
      await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: rf }] })
      const meta = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]!
      for (const p of meta.partitions) {
        expect(p.replicas).toHaveLength(rf)
        expect(new Set(p.replicas).size).toBe(rf)
        expect(p.leader).toBe(p.replicas[0])
      }
      // Leaders spread over the brokers.
      expect(new Set(meta.partitions.map((p) => p.leader)).size).toBe(3)
      await cluster.producer({ acks: -1 }).send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: String(i), value: String(i) })) })
      const offsets = await admin.fetchTopicOffsets(topic)
      expect(offsets.reduce((n, o) => n + Number(o.high), 0)).toBe(30)
    }
    await expect(admin.createTopics({ topics: [{ topic: topicName(), replicationFactor: 4 }] })).rejects.toMatchObject({ code: 'INVALID_REPLICATION_FACTOR' })
  })

  it('followers hold the leader\'s batches byte for byte', async () => {
    const dataDir = tempDir()
    const cluster = await startCluster({ dataDir, brokers: 3, shards: 1, config: haConfig })
    const topic = topicName()
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 3 }] })
    const producer = cluster.producer({ acks: -1, compression: 'lz4' })
    for (let i = 0; i < 20; i++) await producer.send({ topic, messages: Array.from({ length: 10 }, (_, j) => ({ value: `${i}-${j}` })) })
    await cluster.flush()
    const seg = (b: number) => fs.readFileSync(path.join(dataDir, `broker-${b}`, `${topic}-0`, '00000000000000000000.log'))
    await waitFor(() => seg(1).length === seg(0).length && seg(2).length === seg(0).length, 5_000, 'followers to catch up')
    expect(seg(1).equals(seg(0))).toBe(true)
    expect(seg(2).equals(seg(0))).toBe(true)
  })
})
