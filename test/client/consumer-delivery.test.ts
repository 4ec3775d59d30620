import fs from 'node:fs'
import path from 'node:path'
import { describe, it, expect } from 'vitest'
import { createdTopic, startCluster, tempDir, topicName, waitFor } from '../helpers/cluster.js'
import { Cluster } from '../../src/client/cluster.js'
import type { KafkaMessage } from '../../src/client/types.js'
import { encodeRecordBatchSync } from '../../src/records/record-batch.js'

/**
 * What the consumer hands to eachBatch/eachMessage, and how the fetch it sends ahead (while a
 * batch is being processed) gives way to seek, pause and unresolved offsets.
 */

/** One partition holding `count` records in batches of `perSend`, values 'v<offset>'. */
async function filledTopic(cluster: Cluster, count: number, perSend: number): Promise<string> {
  const topic = await createdTopic(cluster)
  const producer = cluster.producer()
  for (let from = 0; from < count; from += perSend) {
    await producer.send({ topic, messages: Array.from({ length: Math.min(perSend, count - from) }, (_, i) => ({ value: `v${from + i}` })) })
  }
  return topic
}

/** One partition holding `batches` RecordBatches of `perBatch` records each, values 'v<offset>'. */
async function batchedTopic(cluster: Cluster, batches: number, perBatch: number): Promise<string> {
  const topic = await createdTopic(cluster)
  for (let b = 0; b < batches; b++) {
    await cluster.engine.produce(topic, 0, 1, encodeRecordBatchSync(Array.from({ length: perBatch }, (_, i) => ({ value: `v${b * perBatch + i}` }))))
  }
  return topic
}

/** The sizes of the eachBatch calls of a fresh consumer that reads `topic` from the beginning until `total` records. */
async function eachBatchSizes(cluster: Cluster, topic: string, total: number): Promise<number[]> {
  const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
  await consumer.subscribe({ topic, fromBeginning: true })
  const sizes: number[] = []
  await consumer.run({ eachBatch: async ({ batch }) => { sizes.push(batch.messages.length) } })
  await waitFor(() => sizes.reduce((a, b) => a + b, 0) >= total)
  await consumer.disconnect()
  return sizes
}

/** A consumer whose fetches return about one 20-record batch each, so a read spans many fetches. */
function smallFetchConsumer(cluster: Cluster) {
  return cluster.consumer({ maxWaitTimeInMs: 50, maxBytesPerPartition: 64 })
}

describe('client > Consumer delivery', () => {
  it('delivers headers as kafkajs does (a repeated key collects its values in order) and each record its own timestamp', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    await cluster.producer().send({
      topic,
      messages: [
        { value: 'a', timestamp: 1_700_000_000_000 },
        { value: 'b', timestamp: 1_700_000_000_000, headers: { one: 'x' } },
        { value: 'c', timestamp: 1_700_000_000_005 },
        { value: 'd', timestamp: 1_700_000_000_000 },
      ],
    })
    // The object form cannot repeat a key: the record-level API can, as Kafka allows.
    await cluster.producer().send({ topic, messages: [{ value: 'e', timestamp: 1_600_000_000_000 }] })
    await cluster.engine.produce(topic, 0, 1, encodeRecordBatchSync([{ value: 'f', headers: [{ key: 'k', value: '1' }, { key: 'k', value: null }, { key: 'k', value: '3' }, { key: 'other', value: 'o' }] }]))

    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: KafkaMessage[] = []
    await consumer.run({ eachBatch: async ({ batch }) => { got.push(...batch.messages) } })
    await waitFor(() => got.length === 6)
    await consumer.disconnect()

    expect(got.map((m) => m.timestamp)).toEqual(['1700000000000', '1700000000000', '1700000000005', '1700000000000', '1600000000000', expect.any(String)])
    expect(got[0]!.headers).toEqual({})
    expect(got[1]!.headers).toEqual({ one: Buffer.from('x') })
    expect(got[5]!.headers).toEqual({ k: [Buffer.from('1'), null, Buffer.from('3')], other: Buffer.from('o') })
    expect(got.map((m) => m.attributes)).toEqual([0, 0, 0, 0, 0, 0])
    expect(got[2]!.size).toBe(1)
    // Plain data: spreading and JSON keep every field.
    expect({ ...got[2]! }).toEqual(expect.objectContaining({ offset: '2', timestamp: '1700000000005', value: Buffer.from('c'), key: null }))
    expect(JSON.parse(JSON.stringify(got[2]))).toEqual(expect.objectContaining({ offset: '2', timestamp: '1700000000005' }))
  })

  it('a seek inside eachBatch drops the records fetched ahead and delivers from the new offset', async () => {
    const cluster = await startCluster()
    const topic = await filledTopic(cluster, 200, 20)
    const consumer = smallFetchConsumer(cluster)
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: number[] = []
    let sought = false
    await consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) got.push(Number(m.offset))
        if (!sought && got.length >= 40) {
          sought = true
          consumer.seek({ topic, partition: 0, offset: 5 })
        }
      },
    })
    await waitFor(() => got.length >= 40 + 195)
    await new Promise((r) => setTimeout(r, 100))
    await consumer.disconnect()
    const afterSeek = got.slice(40)
    expect(got.slice(0, 40)).toEqual(Array.from({ length: 40 }, (_, i) => i))
    expect(afterSeek).toEqual(Array.from({ length: 195 }, (_, i) => 5 + i))
    expect(got).toHaveLength(40 + 195)
  })

  it('with eachBatchAutoResolve off, the records left unresolved are delivered again', async () => {
    const cluster = await startCluster()
    const topic = await filledTopic(cluster, 100, 20)
    const consumer = smallFetchConsumer(cluster)
    await consumer.subscribe({ topic, fromBeginning: true })
    const firsts: number[] = []
    let calls = 0
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        calls++
        firsts.push(Number(batch.firstOffset()))
        // The first time, only half of the batch is processed; afterwards everything.
        const upTo = calls === 1 ? Math.floor(batch.messages.length / 2) : batch.messages.length
        for (const m of batch.messages.slice(0, upTo)) resolveOffset(m.offset)
      },
    })
    await waitFor(() => firsts.includes(80))
    await consumer.disconnect()
    expect(firsts[0]).toBe(0)
    expect(firsts[1]).toBe(10)
    expect(firsts.slice(2)).toEqual(firsts.slice(2).map((_, i) => 20 + 20 * i).filter((o) => o <= 80))
  })

  it('a partition paused inside eachBatch gets nothing more, records fetched ahead included, until resume', async () => {
    const cluster = await startCluster()
    const topic = await filledTopic(cluster, 100, 20)
    const consumer = smallFetchConsumer(cluster)
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: number[] = []
    await consumer.run({
      eachBatch: async ({ batch, pause }) => {
        for (const m of batch.messages) got.push(Number(m.offset))
        if (got.length === 20) pause()
      },
    })
    await waitFor(() => got.length >= 20)
    await new Promise((r) => setTimeout(r, 300))
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    consumer.resume([{ topic }])
    await waitFor(() => got.length === 100)
    await consumer.disconnect()
    expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i))
  })

  it('delivers a large fetch in runs of 1,024 records, splitting its batches, every record once and in order', async () => {
    const cluster = await startCluster()
    const topic = await batchedTopic(cluster, 8, 1_500) // 8 batches of 1,500 (~100 KB): one fetch holds them all
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const sizes: number[] = []
    const got: number[] = []
    const lastOffsets: Array<string | null> = []
    await consumer.run({
      eachBatch: async ({ batch }) => {
        sizes.push(batch.messages.length)
        lastOffsets.push(batch.lastOffset())
        for (const m of batch.messages) got.push(Number(m.offset))
      },
    })
    await waitFor(() => got.length >= 12_000)
    await consumer.disconnect()
    expect(got).toEqual(Array.from({ length: 12_000 }, (_, i) => i))
    expect(sizes).toEqual([...Array.from({ length: 11 }, () => 1_024), 736])
    expect(lastOffsets.slice(0, 3)).toEqual(['1023', '2047', '3071'])
  })

  it('groups small RecordBatches into runs of 1,024 records', async () => {
    const cluster = await startCluster()
    const topic = await batchedTopic(cluster, 40, 100)
    const sizes = await eachBatchSizes(cluster, topic, 4_000)
    expect(sizes).toEqual([1_024, 1_024, 1_024, 928])
  })

  it('delivers a compressed batch whole, however large', async () => {
    const cluster = await startCluster()
    const topic = await createdTopic(cluster)
    await cluster.producer({ compression: 'gzip', batchSize: 1024 * 1024 }).send({ topic, messages: Array.from({ length: 3_000 }, (_, i) => ({ value: `v${i}` })) })
    const sizes = await eachBatchSizes(cluster, topic, 3_000)
    expect(sizes).toEqual([3_000])
  })

  it('commits the offset after each run, in the middle of a batch too, and a new member goes on from there', async () => {
    const cluster = await startCluster()
    const topic = await batchedTopic(cluster, 1, 3_000)
    const groupId = `g-${topicName()}`
    const first = cluster.consumer({ groupId, maxWaitTimeInMs: 50 })
    await first.subscribe({ topic, fromBeginning: true })
    await first.run({
      autoCommitThreshold: 1,
      // The first run (offsets 0..1023) is resolved, and the partition paused before the next.
      eachBatch: async ({ pause }) => { pause() },
    })
    await waitFor(async () => (await cluster.admin().fetchOffsets({ groupId, topics: [topic] }))[0]!.partitions[0]!.offset === '1024')
    await first.disconnect()
    const second = cluster.consumer({ groupId, maxWaitTimeInMs: 50 })
    await second.subscribe({ topic, fromBeginning: true })
    const got: number[] = []
    await second.run({ eachMessage: async ({ message }) => { got.push(Number(message.offset)) } })
    await waitFor(() => got.length >= 3_000 - 1_024)
    await second.disconnect()
    expect(got).toEqual(Array.from({ length: 3_000 - 1_024 }, (_, i) => 1_024 + i))
  })

  it('a seek into the middle of a large batch delivers from that offset exactly', async () => {
    const cluster = await startCluster()
    const topic = await batchedTopic(cluster, 2, 3_000)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: number[] = []
    const sizes: number[] = []
    let sought = false
    await consumer.run({
      eachBatch: async ({ batch }) => {
        sizes.push(batch.messages.length)
        for (const m of batch.messages) got.push(Number(m.offset))
        if (!sought) {
          sought = true
          consumer.seek({ topic, partition: 0, offset: '2500' })
        }
      },
    })
    await waitFor(() => got.at(-1) === 5_999)
    await consumer.disconnect()
    expect(got).toEqual([...Array.from({ length: 1_024 }, (_, i) => i), ...Array.from({ length: 3_500 }, (_, i) => 2_500 + i)])
    // The records before 2,500 in the fetched batch are decoded and dropped, never handed out as empty runs.
    expect(sizes.every((n) => n > 0)).toBe(true)
  })

  it('a partition paused in the first run of a large fetch gets none of the later runs until resume', async () => {
    const cluster = await startCluster()
    const topic = await batchedTopic(cluster, 8, 1_500)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: number[] = []
    await consumer.run({
      eachBatch: async ({ batch, pause }) => {
        for (const m of batch.messages) got.push(Number(m.offset))
        if (got.length <= 1_024) pause()
      },
    })
    await waitFor(() => got.length > 0)
    await new Promise((r) => setTimeout(r, 300))
    expect(got).toEqual(Array.from({ length: 1_024 }, (_, i) => i))
    consumer.resume([{ topic }])
    await waitFor(() => got.length >= 12_000)
    await consumer.disconnect()
    expect(got).toEqual(Array.from({ length: 12_000 }, (_, i) => i))
  })

  it('takes turns between partitions when a fetch cannot hold them all (maxBytes), as Kafka\'s consumer does', async () => {
    const cluster = await startCluster({ shards: 1 })
    const topic = await createdTopic(cluster, 3)
    for (let partition = 0; partition < 3; partition++) {
      for (let b = 0; b < 10; b++) {
        await cluster.engine.produce(topic, partition, 1, encodeRecordBatchSync(Array.from({ length: 100 }, (_, i) => ({ value: Buffer.alloc(100, i) }))))
      }
    }
    // About one 10 KiB batch per fetch: one partition at a time can be served.
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50, maxBytes: 12_000, maxBytesPerPartition: 12_000 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const order: number[] = []
    await consumer.run({ eachBatch: async ({ batch }) => { order.push(batch.partition) } })
    await waitFor(() => order.length >= 30)
    await consumer.disconnect()
    // Each partition is served in every three fetches, not drained before the next one's turn.
    expect(order.slice(0, 30)).toEqual(Array.from({ length: 30 }, (_, i) => i % 3))
  })

  it('a tailing eachBatch sees each partition\'s high watermark and no lag, while fetches leave the caught-up partitions out', async () => {
    const cluster = await startCluster({ shards: 1 })
    const topic = await createdTopic(cluster, 3)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 1_000 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const batches: Array<[number, string, string, string]> = []
    await consumer.run({ eachBatch: async ({ batch }) => { batches.push([batch.partition, batch.highWatermark, batch.offsetLag(), batch.lastOffset()]) } })
    const producer = cluster.producer({ lingerMs: 0 })
    const sent = [0, 0, 0]
    for (const partition of [2, 0, 2, 1, 2]) {
      const count = partition + 1
      await producer.send({ topic, messages: Array.from({ length: count }, (_, i) => ({ value: `${partition}-${i}`, partition })) })
      sent[partition]! += count
      await waitFor(() => batches.some(([p, , , last]) => p === partition && Number(last) === sent[partition]! - 1), 5_000, `partition ${partition} delivered`)
    }
    await consumer.disconnect()
    for (const [partition, highWatermark, lag, last] of batches) {
      expect(Number(highWatermark), `partition ${partition}`).toBe(Number(last) + 1)
      expect(lag).toBe('0')
    }
  })

  it('never delivers a batch corrupted on disk: the shard refuses it and the consumer keeps retrying', async () => {
    // The consumer decodes without computing CRCs again because the shard's log read checks
    // them: this is the check that stands between a flipped byte and eachMessage.
    const dataDir = tempDir()
    const first = await startCluster({ dataDir })
    const topic = await batchedTopic(first, 1, 3)
    // Flipped while the cluster is down: a running log keeps a copy of its last appends
    // (TailWindow) and would not see a change made behind its back, as the page cache would not
    // show a flip on the disk under it.
    await first.stop()
    const segment = path.join(dataDir, 'broker-0', `${topic}-0`, '00000000000000000000.log')
    const bytes = fs.readFileSync(segment)
    const fd = fs.openSync(segment, 'r+')
    try {
      fs.writeSync(fd, Buffer.from([bytes[bytes.length - 2]! ^ 0xff]), 0, 1, bytes.length - 2) // inside the last record
    } finally {
      fs.closeSync(fd)
    }
    const cluster = await startCluster({ dataDir })
    const consumer = cluster.consumer({ maxWaitTimeInMs: 50 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: string[] = []
    await consumer.run({ eachMessage: async ({ message }) => { got.push(message.value!.toString()) } })
    await new Promise((r) => setTimeout(r, 500))
    expect(got).toEqual([])
    await consumer.disconnect() // still running: the retriable CORRUPT_MESSAGE did not end the loop
  })

  it('stop() during a long eachBatch returns without waiting out the fetch sent ahead', async () => {
    const cluster = await startCluster()
    const topic = await filledTopic(cluster, 20, 20)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 30_000 })
    await consumer.subscribe({ topic, fromBeginning: true })
    let entered!: () => void
    const inBatch = new Promise<void>((resolve) => { entered = resolve })
    await consumer.run({
      eachBatch: async () => {
        entered()
        await new Promise((r) => setTimeout(r, 100))
      },
    })
    await inBatch
    // The fetch sent ahead long-polls for 30 s on an idle partition; stop must not wait for it.
    const stopped = consumer.stop().then(() => 'stopped')
    const outcome = await Promise.race([stopped, new Promise((r) => setTimeout(() => r('timed out'), 5_000))])
    expect(outcome).toBe('stopped')
  })

  it('delivers each shard\'s records as they come while the other shard\'s long poll waits, and stops at once', async () => {
    const cluster = await startCluster({ shards: 2 })
    const topic = topicName()
    // Two partitions: one on each shard.
    await cluster.admin().createTopics({ topics: [{ topic, numPartitions: 2 }] })
    const consumer = cluster.consumer({ maxWaitTimeInMs: 20_000 })
    await consumer.subscribe({ topic, fromBeginning: true })
    const got: string[] = []
    await consumer.run({ eachMessage: async ({ partition, message }) => { got.push(`${partition}:${message.value!.toString()}`) } })
    const producer = cluster.producer()
    for (let round = 0; round < 3; round++) {
      await producer.send({ topic, messages: [{ value: `a${round}`, partition: 0 }] })
      await waitFor(() => got.includes(`0:a${round}`), 5_000, `record a${round} on partition 0`)
      await producer.send({ topic, messages: [{ value: `b${round}`, partition: 1 }] })
      await waitFor(() => got.includes(`1:b${round}`), 5_000, `record b${round} on partition 1`)
    }
    expect(got).toEqual(['0:a0', '1:b0', '0:a1', '1:b1', '0:a2', '1:b2'])
    const stopped = consumer.stop().then(() => 'stopped')
    expect(await Promise.race([stopped, new Promise((r) => setTimeout(() => r('timed out'), 5_000))])).toBe('stopped')
  })

  it('the cluster stops at once while a consumer long-polls, without waiting out maxWaitTimeInMs', async () => {
    const cluster = await Cluster.start({ dataDir: tempDir(), shards: 2 })
    const topic = await createdTopic(cluster, 2)
    const consumer = cluster.consumer({ maxWaitTimeInMs: 60_000 })
    await consumer.subscribe({ topic, fromBeginning: true })
    await consumer.run({ eachMessage: async () => {} })
    await new Promise((r) => setTimeout(r, 200)) // both shards now hold a parked fetch
    const stopped = cluster.stop().then(() => 'stopped')
    expect(await Promise.race([stopped, new Promise((r) => setTimeout(() => r('still stopping'), 5_000))])).toBe('stopped')
  })
})
