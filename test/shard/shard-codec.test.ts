import { describe, expect, it } from 'vitest'
import { encodeRecordBatchSync } from '../../src/records/record-batch.js'
import {
  FetchIsolation, decodeFetchRequest, decodeFetchResult, encodeFetchRequest, encodeFetchResult, type FetchPartitionResult,
} from '../../src/shard/shard-codec.js'
import type { GatherPayload } from '../../src/shard/ring.js'

/** The bytes a gather payload puts in the ring, as the receiver copies them out. */
function received(payload: GatherPayload): Buffer {
  const memory = Buffer.alloc(payload.length)
  let at = 0
  for (const part of payload.parts) { memory.set(part, at); at += part.length }
  return memory
}

function result(topic: string, partition: number, records: Buffer, errorCode = 0): FetchPartitionResult {
  return { topic, partition, errorCode, highWatermark: 10, logStartOffset: 0, logEndOffset: 12, records }
}

describe('shard > fetch codec', () => {
  it('round-trips a fetch request, incremental or not', () => {
    for (const incremental of [false, true]) {
      const req = { maxWaitMs: 5, minBytes: 1, maxBytes: 100, waitToken: 7, isolation: FetchIsolation.LogEnd, incremental, partitions: [{ topic: 'tópic', partition: 3, offset: 42, maxBytes: 9 }, { topic: 'b', partition: 0, offset: 0, maxBytes: 1 }] }
      expect(decodeFetchRequest(encodeFetchRequest(req))).toEqual(req)
    }
  })

  it('round-trips results, records gathered from where they lie and empty partitions between them', () => {
    const a = encodeRecordBatchSync([{ value: 'a' }, { key: 'k', value: 'bb' }], { baseOffset: 0 })
    const b = encodeRecordBatchSync([{ value: 'ccc' }], { baseOffset: 5, compression: 'gzip' })
    const results = [result('empty-first', 9, Buffer.alloc(0)), result('one', 0, a), result('empty', 2, Buffer.alloc(0)), result('topic-with-a-longer-name', 1, Buffer.concat([a, b])), result('error', 3, Buffer.alloc(0), 6)]
    const payload = encodeFetchResult(results)
    // The records travel as they are, not copied into the payload.
    expect(payload.parts).toContain(a)
    expect(decodeFetchResult(received(payload))).toEqual(results)
    expect(decodeFetchResult(received(encodeFetchResult([])))).toEqual([])
  })
})
