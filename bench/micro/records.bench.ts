/**
 * RecordBatch v2 encode and decode of 1,000 records of 100-byte values per batch, for each
 * codec (async API, plus the sync API where the codec has one), and varint write/read.
 * Values are JSON-like text (compressible the way real payloads are, not random bytes).
 * GB/s counts uncompressed record bytes, so codecs compare on the same work.
 * Standalone: `npx tsx bench/micro/records.bench.ts`.
 */
import { pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'
import { hasSyncCodec, type CompressionType } from '../../src/records/compression/index.js'
import {
  CrcCheckedBatchReader, decodeRecordBatch, decodeRecordBatchSync, encodeRecordBatch, encodeRecordBatchSync, type RecordInput,
} from '../../src/records/record-batch.js'
import { buildKafkaMessage } from '../../src/client/consumed-message.js'
import { sizeOfVarInt, sizeOfVarLong, takeVarInt, takeVarLong, writeVarInt, writeVarLong } from '../../src/records/varint.js'
import { RECORD_BATCH_OVERHEAD } from '../../src/records/batch-header.js'

/** Work done by one call of a task: records (or varints) and uncompressed bytes. */
export interface RecordsBenchUnits {
  items: number
  bytes: number
}

/** Units of each task added by {@link register}, for records/s and GB/s. */
export const recordsBenchUnits = new Map<string, RecordsBenchUnits>()

const RECORDS_PER_BATCH = 1000
const VALUE_BYTES = 100
const CODECS: CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** A 100-byte JSON-ish value that differs per record, as an event payload would. */
function value(i: number): Buffer {
  const text = `{"id":${100000 + i},"user":"u${(i * 7919) % 5000}","amount":${(i * 104729) % 100000},"status":"${i % 3 ? 'paid' : 'open'}","t":"x"}`
  return Buffer.from(text.padEnd(VALUE_BYTES, ' ').slice(0, VALUE_BYTES))
}

let sink = 0

/** Adds the varint and RecordBatch tasks to `bench`. */
export async function register(bench: Bench): Promise<void> {
  const now = 1_700_000_000_000
  const records: RecordInput[] = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({ key: null, value: value(i), timestamp: now + i }))
  const rawBytes = (await encodeRecordBatch(records)).length - RECORD_BATCH_OVERHEAD

  for (const codec of CODECS) {
    const encoded = await encodeRecordBatch(records, { compression: codec })
    const units = { items: RECORDS_PER_BATCH, bytes: rawBytes }
    const add = (name: string, fn: () => unknown): void => {
      recordsBenchUnits.set(name, units)
      bench.add(name, fn)
    }
    add(`encode ${codec}`, async () => { sink += (await encodeRecordBatch(records, { compression: codec })).length })
    add(`decode ${codec}`, async () => { sink += (await decodeRecordBatch(encoded)).records.length })
    if (codec === 'none') {
      // What the in-process consumer does per batch: kafkajs-shaped messages, in runs, CRC not recomputed.
      add('decode none (consumer: kafkajs messages, runs of 256)', () => {
        const reader = new CrcCheckedBatchReader(encoded, 0, buildKafkaMessage)
        while (reader.remaining > 0) sink += reader.read(256).records.length
      })
    }
    if (hasSyncCodec(codec)) {
      add(`encode ${codec} (sync)`, () => { sink += encodeRecordBatchSync(records, { compression: codec }).length })
      add(`decode ${codec} (sync)`, () => { sink += decodeRecordBatchSync(encoded).records.length })
    }
  }

  // 1,000 varints per call, of the sizes records carry: lengths, offset deltas, timestamp deltas.
  const ints = Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? -1 : (i * 7919) % (i % 2 ? 200 : 70000)))
  const longs = Array.from({ length: 1000 }, (_, i) => (i % 10 === 0 ? 1_700_000_000_000 + i : i * 3))
  const intBuf = Buffer.alloc(ints.reduce((n, v) => n + sizeOfVarInt(v), 0))
  const longBuf = Buffer.alloc(longs.reduce((n, v) => n + sizeOfVarLong(v), 0))
  ints.reduce((pos, v) => writeVarInt(intBuf, v, pos), 0)
  longs.reduce((pos, v) => writeVarLong(longBuf, v, pos), 0)
  const cursor = { pos: 0 }
  const tasks: [string, Buffer, () => void][] = [
    ['varint write x1000', intBuf, () => { let pos = 0; for (const v of ints) pos = writeVarInt(intBuf, v, pos); sink += pos }],
    ['varint read x1000', intBuf, () => { cursor.pos = 0; for (let i = 0; i < 1000; i++) sink += takeVarInt(intBuf, cursor) }],
    ['varlong write x1000', longBuf, () => { let pos = 0; for (const v of longs) pos = writeVarLong(longBuf, v, pos); sink += pos }],
    ['varlong read x1000', longBuf, () => { cursor.pos = 0; for (let i = 0; i < 1000; i++) sink += takeVarLong(longBuf, cursor) }],
  ]
  for (const [name, buf, fn] of tasks) {
    recordsBenchUnits.set(name, { items: 1000, bytes: buf.length })
    bench.add(name, fn)
  }
}

async function main(): Promise<void> {
  const bench = new Bench({ name: 'records', time: 1000 })
  await register(bench)
  await bench.run()
  const rows = bench.tasks.map((task) => {
    const result = task.result
    if (!('period' in result)) return { task: task.name, error: result.state }
    const opsPerSecond = 1000 / result.period
    const units = recordsBenchUnits.get(task.name)!
    return {
      task: task.name,
      'batches/s': Math.round(opsPerSecond).toLocaleString('en-US'),
      'records/s': Math.round(units.items * opsPerSecond).toLocaleString('en-US'),
      'GB/s': ((units.bytes * opsPerSecond) / 1e9).toFixed(3),
      'mean µs': (result.period * 1000).toFixed(1),
      '± %': result.latency.rme.toFixed(1),
    }
  })
  console.table(rows)
  if (sink === 0.5) console.log(sink) // keeps results observable so they are not optimised away
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
