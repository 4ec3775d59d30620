/**
 * The embedded target: a real cluster in a temp dir, driven by the load generator through the
 * PerfTarget port (tiny runs: this checks wiring and counts, not speed).
 */
import { readdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { runLoadTest } from '../../../src/perf/run-load-test.js'
import type { PerfTarget } from '../../../src/perf/target.js'
import { embeddedTarget } from '../../../src/perf/targets/embedded-target.js'

const perfDirs = (): string[] => readdirSync(os.tmpdir()).filter((d) => d.startsWith('shardlog-perf-'))

async function target(): Promise<PerfTarget> {
  const t = await embeddedTarget({ shards: 2 })
  onTestFinished(() => t.close())
  return t
}

describe('perf > targets > embeddedTarget', () => {
  it('produce, consume and e2e runs deliver every record', async () => {
    const t = await target()
    expect(t.description).toBe('embedded shardlog (2 shards)')
    const produced = await runLoadTest({ target: t, mode: 'produce', topic: 'perf', numRecords: 600, recordSize: 64, partitions: 3, compression: 'lz4', acks: -1 })
    expect(produced.summary.records).toMatchObject({ sent: 600, acked: 600, failed: 0 })
    expect(produced.summary.errors.count).toBe(0)

    const consumed = await runLoadTest({ target: t, mode: 'consume', topic: 'perf', numRecords: 600, idleTimeoutMs: 5_000 })
    expect(consumed.summary.records.received).toBe(600)
    expect(consumed.summary.stoppedEarly).toBeNull()

    const e2e = await runLoadTest({ target: t, mode: 'e2e', topic: 'perf-e2e', numRecords: 300, throughput: 3_000, partitions: 2, acks: 1, idleTimeoutMs: 5_000 })
    expect(e2e.summary.records).toMatchObject({ sent: 300, acked: 300, received: 300, duplicates: 0, missing: 0 })
  })

  it('createTopic leaves an existing topic alone, and acks=0 sends still arrive', async () => {
    const t = await target()
    await t.createTopic('twice', 2)
    await t.createTopic('twice', 5)
    const producer = await t.producer({ acks: 0, compression: 'none', batchSize: 16_384, lingerMs: 0 })
    await producer.send('twice', [{ key: null, value: Buffer.from('a') }, { key: Buffer.from('k'), value: Buffer.from('b') }])
    await producer.close()
    const consumer = await t.consumer({ topic: 'twice', fromBeginning: true })
    const seen: string[] = []
    await consumer.run((batch) => { for (const m of batch) seen.push(`${m.partition}:${m.value?.toString()}`) })
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(2)
    expect(new Set(seen.map((s) => Number(s.split(':')[0]))).size).toBeLessThanOrEqual(2)
    await consumer.close()
  })

  it('removes its data directory on close', async () => {
    const t = await embeddedTarget({ shards: 1 })
    // Other test files may create perf directories at the same time: check this target's own.
    const created = path.basename(t.dataDir)
    expect(perfDirs()).toContain(created)
    await t.close()
    await t.close() // closing twice is harmless
    expect(perfDirs()).not.toContain(created)
  })

  it('large harness batches with several sends in flight all land (none merged past max.message.bytes)', async () => {
    const t = await embeddedTarget({ shards: 2 })
    onTestFinished(() => t.close())
    const result = await runLoadTest({ target: t, topic: 'big-batches', mode: 'produce', numRecords: 30_000, partitions: 2, acks: 1, batchSize: 256 * 1024, maxInFlight: 5 })
    expect(result.summary.records).toMatchObject({ acked: 30_000, failed: 0 })
    const consumed = await runLoadTest({ target: t, topic: 'big-batches', mode: 'consume', numRecords: 30_000, idleTimeoutMs: 5_000 })
    expect(consumed.summary.records).toMatchObject({ received: 30_000 })
  })
})
