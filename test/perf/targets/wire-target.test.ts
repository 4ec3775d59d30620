/**
 * The wire target against a real shardlog server over real sockets, driven by the load
 * generator (tiny runs: this checks wiring and counts, not speed), and the target factory.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { runLoadTest } from '../../../src/perf/run-load-test.js'
import { createPerfTarget, wireTarget } from '../../../src/perf/targets/index.js'
import { WireAdmin } from '../../../src/protocol/client/wire-admin.js'
import { fetchRawBatches, randomName, sharedWireCluster } from '../../protocol/client/wire-cluster.js'

describe('perf > targets > wireTarget', () => {
  const wire = sharedWireCluster()

  it('produce, consume and e2e runs deliver every record over the wire', async () => {
    const t = await wireTarget(wire.bootstrap)
    onTestFinished(() => t.close())
    expect(t.description).toBe(`kafka ${wire.bootstrap}`)
    const topic = randomName('perf')
    const produced = await runLoadTest({ target: t, mode: 'produce', topic, numRecords: 600, recordSize: 64, partitions: 3, compression: 'zstd', acks: -1, producers: 2 })
    expect(produced.summary.records).toMatchObject({ sent: 600, acked: 600, failed: 0 })

    const admin = await WireAdmin.connect(wire.bootstrap)
    onTestFinished(() => admin.close())
    const offsets = await admin.topicOffsets(topic)
    expect(offsets.reduce((n, o) => n + o.highWatermark, 0)).toBe(600)

    const consumed = await runLoadTest({ target: t, mode: 'consume', topic, numRecords: 600, idleTimeoutMs: 5_000 })
    expect(consumed.summary.records.received).toBe(600)

    const e2e = await runLoadTest({ target: t, mode: 'e2e', topic: randomName('perf-e2e'), numRecords: 300, throughput: 3_000, partitions: 2, acks: 1, idleTimeoutMs: 5_000 })
    expect(e2e.summary.records).toMatchObject({ sent: 300, acked: 300, received: 300, duplicates: 0, missing: 0 })
  })

  it('each send of the harness is one batch: batch count equals send count', async () => {
    const t = await wireTarget(wire.bootstrap)
    onTestFinished(() => t.close())
    const topic = randomName('perf-batches')
    await t.createTopic(topic, 1)
    await t.createTopic(topic, 1) // an existing topic is fine
    const producer = await t.producer({ acks: 1, compression: 'none', batchSize: 16_384, lingerMs: 0 })
    await Promise.all([0, 1, 2].map((i) => producer.send(topic, Array.from({ length: 50 }, () => ({ key: null, value: Buffer.alloc(400, 65 + i) })))))
    await producer.close()
    const admin = await WireAdmin.connect(wire.bootstrap)
    onTestFinished(() => admin.close())
    expect((await admin.topicOffsets(topic))[0]?.highWatermark).toBe(150)
    // Three sends of 50 records each: three RecordBatches, none split or merged.
    const batches = await fetchRawBatches(wire.bootstrap, topic, 0)
    expect(batches.map((b) => b.records.length)).toEqual([50, 50, 50])
    expect(batches.map((b) => new Set(b.records.map((r) => r.value![0])).size)).toEqual([1, 1, 1])
  })

  it('fails to connect with NETWORK_EXCEPTION', async () => {
    await expect(wireTarget('127.0.0.1:1')).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' })
  })

  it('createPerfTarget picks the wire target for --bootstrap and the embedded cluster without it', async () => {
    const remote = await createPerfTarget({ bootstrap: wire.bootstrap })
    onTestFinished(() => remote.close())
    expect(remote.description).toBe(`kafka ${wire.bootstrap}`)
    const embedded = await createPerfTarget({})
    onTestFinished(() => embedded.close())
    expect(embedded.description).toMatch(/^embedded shardlog \(\d+ shards?\)$/)
  })
})
