/**
 * Produce, Fetch, ListOffsets, DeleteRecords, OffsetForLeaderEpoch and InitProducerId over
 * real sockets with the raw pipelined KafkaConnection: ordering under pipelining, idempotent
 * retries, acks=0, auto-creation, topic ids, long polling, Kafka's record checks.
 */
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import type { KafkaConnection } from '../../../src/protocol/connection.js'
import type { FetchRequest, FetchResponse } from '../../../src/protocol/messages/fetch.js'
import type { ProduceRequest, ProduceResponse } from '../../../src/protocol/messages/produce.js'
import { ZERO_UUID } from '../../../src/protocol/reader.js'
import { decodeRecordBatchesSync, encodeRecordBatch } from '../../../src/records/record-batch.js'
import { topicName } from '../../helpers/cluster.js'
import { batchOf, connect, sharedServedCluster, startServedCluster, type ServedCluster } from './helpers.js'

function produceRequest(topic: string, partition: number, records: Buffer, acks = -1): ProduceRequest {
  return { transactionalId: null, acks, timeoutMs: 5000, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] }
}

function fetchRequest(topic: string, partition: number, offset: number, extra: Partial<FetchRequest> = {}, topicId = ZERO_UUID): FetchRequest {
  return {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic, topicId, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
    forgottenTopicsData: [], rackId: '',
    ...extra,
  }
}

/** A Fetch naming the topic (v12, the last version before topic ids). */
function fetchByName(connection: KafkaConnection, topic: string, partition: number, offset: number, extra: Partial<FetchRequest> = {}): Promise<FetchResponse> {
  return connection.request(ApiKey.Fetch, fetchRequest(topic, partition, offset, extra), { version: 12 })
}

function partitionOf(r: ProduceResponse): ProduceResponse['responses'][number]['partitionResponses'][number] {
  return r.responses[0]!.partitionResponses[0]!
}

function fetchedValues(r: FetchResponse): string[] {
  const records = r.responses[0]!.partitions[0]!.records
  if (records === null || records.length === 0) return []
  return decodeRecordBatchesSync(records).flatMap((b) => b.records.map((rec) => rec.value!.toString()))
}

async function topicWith(served: ServedCluster, partitions = 1, configs: Record<string, string> = {}): Promise<{ topic: string; topicId: string }> {
  const topic = topicName('wire')
  const info = await served.cluster.engine.createTopic({ topic, numPartitions: partitions, replicationFactor: 1, configs })
  return { topic, topicId: info.topicId }
}

async function latestOffset(connection: KafkaConnection, topic: string, partition = 0): Promise<number> {
  const r = await connection.request(ApiKey.ListOffsets, {
    replicaId: -1, isolationLevel: 0, timeoutMs: 1000,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 }] }],
  })
  return r.topics[0]!.partitions[0]!.offset
}

/** One cluster for the tests that need no special server config. */
const shared = sharedServedCluster()

describe('protocol > server > Produce and Fetch', () => {
  it('answers pipelined produces in request order with offsets in that order, and fetch returns the records', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    const batch = await batchOf(3)
    const responses = await Promise.all(Array.from({ length: 200 }, () => connection.request(ApiKey.Produce, produceRequest(topic, 0, batch))))
    expect(responses.map((r) => partitionOf(r).errorCode)).toEqual(new Array(200).fill(0))
    expect(responses.map((r) => partitionOf(r).baseOffset)).toEqual(Array.from({ length: 200 }, (_, i) => i * 3))
    const fetched = await fetchByName(connection, topic, 0, 0, { maxBytes: 64 })
    const p = fetched.responses[0]!.partitions[0]!
    expect(p.errorCode).toBe(0)
    expect(p.highWatermark).toBe(600)
    expect(p.lastStableOffset).toBe(600)
    expect(p.abortedTransactions).toEqual([])
    expect(fetched.sessionId).toBe(0)
    // At least one whole batch even past max_bytes, as Kafka.
    expect(fetchedValues(fetched).slice(0, 3)).toEqual(['value-0', 'value-1', 'value-2'])
  })

  it('serves topic ids in Fetch v13 and answers UNKNOWN_TOPIC_ID for an unknown one', async () => {
    const served = shared()
    const { topic, topicId } = await topicWith(served)
    const connection = await connect(served.port())
    await connection.request(ApiKey.Produce, produceRequest(topic, 0, await batchOf(2)))
    const byId = await connection.request(ApiKey.Fetch, fetchRequest('', 0, 0, {}, topicId), { version: 13 })
    expect(byId.responses[0]!.topicId).toBe(topicId)
    expect(fetchedValues(byId)).toEqual(['value-0', 'value-1'])
    const unknown = await connection.request(ApiKey.Fetch, fetchRequest('', 0, 0, {}, 'AAAAAAAAAAAAAAAAAAAAAQ'), { version: 13 })
    expect(unknown.responses[0]!.partitions[0]!.errorCode).toBe(100)
  })

  it('long-polls until records arrive (max_wait_ms / min_bytes)', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const consumer = await connect(served.port())
    const producer = await connect(served.port())
    const pending = fetchByName(consumer, topic, 0, 0, { maxWaitMs: 20_000, minBytes: 1 })
    await new Promise((r) => setTimeout(r, 50))
    await producer.request(ApiKey.Produce, produceRequest(topic, 0, await batchOf(1)))
    expect(fetchedValues(await pending)).toEqual(['value-0'])
  })

  it('answers an incremental fetch of an unknown session with FETCH_SESSION_ID_NOT_FOUND', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    const r = await fetchByName(connection, topic, 0, 0, { sessionId: 1234, sessionEpoch: 1 })
    expect(r.errorCode).toBe(70)
  })

  it('does not duplicate an idempotent retry and rejects an out-of-order sequence', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    const init = await connection.request(ApiKey.InitProducerId, { transactionalId: null, transactionTimeoutMs: -1, producerId: -1, producerEpoch: -1 })
    expect(init.errorCode).toBe(0)
    expect(init.producerId).toBeGreaterThanOrEqual(0)
    const ids = { producerId: init.producerId, producerEpoch: init.producerEpoch }
    const first = await batchOf(3, { ...ids, baseSequence: 0 })
    const sent = await connection.request(ApiKey.Produce, produceRequest(topic, 0, first))
    const retried = await connection.request(ApiKey.Produce, produceRequest(topic, 0, first))
    expect(partitionOf(sent)).toMatchObject({ errorCode: 0, baseOffset: 0 })
    expect(partitionOf(retried)).toMatchObject({ errorCode: 0, baseOffset: 0 })
    expect(await latestOffset(connection, topic)).toBe(3)
    const gap = await connection.request(ApiKey.Produce, produceRequest(topic, 0, await batchOf(1, { ...ids, baseSequence: 10 })))
    expect(partitionOf(gap).errorCode).toBe(45) // OUT_OF_ORDER_SEQUENCE_NUMBER
    expect(partitionOf(gap).errorMessage).toBeTypeOf('string')
    const next = await connection.request(ApiKey.Produce, produceRequest(topic, 0, await batchOf(2, { ...ids, baseSequence: 3 })))
    expect(partitionOf(next)).toMatchObject({ errorCode: 0, baseOffset: 3 })
    const fetched = await fetchByName(connection, topic, 0, 0)
    expect(fetchedValues(fetched)).toEqual(['value-0', 'value-1', 'value-2', 'value-0', 'value-1'])
  })

  it('gives no response to acks=0 but appends the records and keeps answering in order', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    for (let i = 0; i < 5; i++) await connection.request(ApiKey.Produce, produceRequest(topic, 0, await batchOf(2), 0), { expectResponse: false })
    // The next request on the same connection gets its own answer, after the appends.
    expect(await latestOffset(connection, topic)).toBe(10)
    expect(connection.closed).toBe(false)
  })

  it('closes the connection when an acks=0 produce fails, as Kafka does', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    await connection.request(ApiKey.Produce, produceRequest(topic, 7, await batchOf(1), 0), { expectResponse: false })
    await expect(connection.request(ApiKey.Metadata, { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }))
      .rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' })
    expect(served.logger.lines.some((l) => l.includes('acks=0 Produce failed'))).toBe(true)
  })

  it('auto-creates a missing topic on produce when auto.create.topics.enable is on', async () => {
    const served = await startServedCluster({ config: { 'num.partitions': '3' } })
    const connection = await connect(served.port())
    const topic = topicName('auto')
    const r = await connection.request(ApiKey.Produce, produceRequest(topic, 2, await batchOf(1)))
    expect(partitionOf(r)).toMatchObject({ errorCode: 0, baseOffset: 0 })
    expect(served.cluster.engine.controller.topics.partitionCount(topic)).toBe(3)
    const bad = await connection.request(ApiKey.Produce, produceRequest('bad/name', 0, await batchOf(1)))
    expect(partitionOf(bad).errorCode).toBe(17) // INVALID_TOPIC_EXCEPTION
  })

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic when auto-creation is off', async () => {
    const served = await startServedCluster({ config: { 'auto.create.topics.enable': 'false' } })
    const connection = await connect(served.port())
    const topic = topicName('nope')
    const r = await connection.request(ApiKey.Produce, produceRequest(topic, 0, await batchOf(1)))
    expect(partitionOf(r).errorCode).toBe(3)
    const md = await connection.request(ApiKey.Metadata, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })
    expect(md.topics[0]!.errorCode).toBe(3)
    expect(served.cluster.engine.controller.topics.has(topic)).toBe(false)
  })

  it('applies Kafka record checks: one magic-2 batch per partition, valid CRC, valid acks', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    const one = await batchOf(1)
    const two = Buffer.concat([one, await batchOf(1)])
    expect(partitionOf(await connection.request(ApiKey.Produce, produceRequest(topic, 0, two))).errorCode).toBe(87) // INVALID_RECORD
    const oldMagic = Buffer.from(one)
    oldMagic[16] = 1
    expect(partitionOf(await connection.request(ApiKey.Produce, produceRequest(topic, 0, oldMagic))).errorCode).toBe(87)
    const badCrc = Buffer.from(one)
    badCrc[badCrc.length - 1] ^= 0xff
    expect(partitionOf(await connection.request(ApiKey.Produce, produceRequest(topic, 0, badCrc))).errorCode).toBe(2) // CORRUPT_MESSAGE
    expect(partitionOf(await connection.request(ApiKey.Produce, produceRequest(topic, 0, one.subarray(0, 30)))).errorCode).toBe(2)
    expect(partitionOf(await connection.request(ApiKey.Produce, produceRequest(topic, 0, one, 2))).errorCode).toBe(21) // INVALID_REQUIRED_ACKS
    expect(await latestOffset(connection, topic)).toBe(0)
    expect(connection.closed).toBe(false)
  })
})

describe('protocol > server > ListOffsets, DeleteRecords, OffsetForLeaderEpoch', () => {
  it('lists earliest, latest and by-timestamp offsets, and moves the log start with DeleteRecords', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    const base = 1_700_000_000_000
    for (let i = 0; i < 4; i++) {
      const batch = await encodeRecordBatch([{ value: `t${i}`, timestamp: base + i * 1000 }])
      await connection.request(ApiKey.Produce, produceRequest(topic, 0, batch))
    }
    const list = async (timestamp: number): Promise<{ offset: number; timestamp: number; errorCode: number }> => {
      const r = await connection.request(ApiKey.ListOffsets, {
        replicaId: -1, isolationLevel: 0, timeoutMs: 1000,
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
      })
      return r.topics[0]!.partitions[0]!
    }
    expect((await list(-2)).offset).toBe(0)
    expect((await list(-1)).offset).toBe(4)
    expect(await list(base + 1500)).toMatchObject({ errorCode: 0, offset: 2, timestamp: base + 2000 })
    expect(await list(base + 99_000)).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1 })
    // MAX_TIMESTAMP (KIP-734) from v7: the record with the largest timestamp; before v7 Kafka refuses it.
    expect(await list(-3)).toMatchObject({ errorCode: 0, offset: 3, timestamp: base + 3000 })
    const v6 = await connection.request(ApiKey.ListOffsets, {
      replicaId: -1, isolationLevel: 0, timeoutMs: 1000,
      topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -3, maxNumOffsets: 1 }] }],
    }, { version: 6 })
    expect(v6.topics[0]!.partitions[0]!.errorCode).toBe(35)

    const deleted = await connection.request(ApiKey.DeleteRecords, { timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 2 }] }] })
    expect(deleted.topics[0]!.partitions[0]).toMatchObject({ errorCode: 0, lowWatermark: 2 })
    expect((await list(-2)).offset).toBe(2)
    const below = await fetchByName(connection, topic, 0, 0)
    expect(below.responses[0]!.partitions[0]!.errorCode).toBe(1) // OFFSET_OUT_OF_RANGE
    const tooFar = await connection.request(ApiKey.DeleteRecords, { timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: 99 }] }] })
    expect(tooFar.topics[0]!.partitions[0]!.errorCode).toBe(1)
  })

  it('answers the end offset of a leader epoch and checks the current epoch', async () => {
    const served = shared()
    const { topic } = await topicWith(served)
    const connection = await connect(served.port())
    await connection.request(ApiKey.Produce, produceRequest(topic, 0, await batchOf(5)))
    const ask = async (leaderEpoch: number, currentLeaderEpoch = -1): Promise<{ errorCode: number; leaderEpoch: number; endOffset: number }> => {
      const r = await connection.request(ApiKey.OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }] })
      return r.topics[0]!.partitions[0]!
    }
    expect(await ask(0)).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 5 })
    expect((await ask(0, 3)).errorCode).toBe(75) // UNKNOWN_LEADER_EPOCH
    const missing = await connection.request(ApiKey.OffsetForLeaderEpoch, { replicaId: -1, topics: [{ topic: 'missing-topic', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] })
    expect(missing.topics[0]!.partitions[0]!.errorCode).toBe(3)
  })

  it('answers a transactional InitProducerId with INVALID_REQUEST (transactions are not served)', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const r = await connection.request(ApiKey.InitProducerId, { transactionalId: 'tx-1', transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })
    expect(r.errorCode).toBe(42)
  })
})

describe('protocol > server > connection lifecycle', () => {
  it('closes every connection when the listeners close', async () => {
    const served = await startServedCluster()
    const connection = await connect(served.port())
    expect(served.listeners.servers[0]!.connectionCount).toBe(1)
    await served.listeners.close()
    await expect(connection.request(ApiKey.ApiVersions, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' })
  })
})
