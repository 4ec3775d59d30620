/**
 * Storage hot paths: PartitionLog.append of 100 KB batches (1,000 records of 100 bytes)
 * against raw `fs.writeSync` of the same bytes in the same chunks (the ceiling: the append
 * adds validation, CRC-32C, offset assignment and index upkeep around exactly one pwrite),
 * once with the CRC checked on the appending thread and once pre-verified by the caller,
 * PartitionLog.read of 1 MiB from the page cache (with and without CRC checks), the read of a
 * tailing fetch (the last small batch: from the active segment's TailWindow, and from the file
 * when the window is empty), and offset index lookups (active index in memory; sealed index
 * by positional reads).
 *
 * Standalone: `npx tsx bench/micro/storage.bench.ts [timeMs]` prints a table with MB/s,
 * records/s and the append/raw ratio. Files go to a temp directory removed at the end; each
 * write task starts on a fresh file and deletes it afterwards (dropping its dirty pages), so
 * one task's write-back does not slow the next.
 */
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Bench } from 'tinybench'
import { encodeRecordBatchSync, type RecordInput } from '../../src/records/record-batch.js'
import { FileHandleCache } from '../../src/storage/file-handle-cache.js'
import { parseLogConfig } from '../../src/storage/log-config.js'
import { silentLogger } from '../../src/storage/log-loader.js'
import { OffsetIndex } from '../../src/storage/offset-index.js'
import { PartitionLog } from '../../src/storage/partition-log.js'

/** Task names (also the keys of {@link storageBenchUnits}). */
export const StorageBenchTask = {
  RawWrite: 'raw fs.writeSync 100 KB chunk',
  Append: 'PartitionLog.append 100 KB batch',
  AppendPreverified: 'PartitionLog.append 100 KB batch (CRC pre-verified)',
  Read: 'PartitionLog.read 1 MiB (page cache, CRC checked)',
  ReadNoCrc: 'PartitionLog.read 1 MiB (page cache, no CRC)',
  TailRead: 'PartitionLog.read last 600 B batch (TailWindow)',
  TailReadFile: 'PartitionLog.read last 600 B batch (file, pread)',
  LookupActive: 'OffsetIndex.lookup active (100k entries, memory)',
  LookupSealed: 'OffsetIndex.lookup sealed (100k entries, pread)',
} as const

/** Work per call of each task, read by bench/micro/index.ts. */
export const storageBenchUnits = new Map<string, { bytes?: number; records?: number }>()

const RECORDS_PER_BATCH = 1000
const RECORD_VALUE_BYTES = 100
const READ_BYTES = 1 << 20
const READ_LOG_BATCHES = 400
const INDEX_ENTRIES = 100_000

let sink = 0

function hundredKbBatch(): Buffer {
  const value = Buffer.alloc(RECORD_VALUE_BYTES, 'x')
  const records: RecordInput[] = []
  for (let i = 0; i < RECORDS_PER_BATCH; i++) records.push({ value, timestamp: 1_700_000_000_000 + i })
  return encodeRecordBatchSync(records)
}

/** Adds the storage tasks to `bench`; removes its files when the bench completes. */
export async function register(bench: Bench): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'shardlog-bench-storage-'))
  bench.addEventListener('complete', () => rmSync(root, { recursive: true, force: true }))
  const batch = hundredKbBatch()
  const config = parseLogConfig({})
  storageBenchUnits.set(StorageBenchTask.RawWrite, { bytes: batch.length, records: RECORDS_PER_BATCH })
  storageBenchUnits.set(StorageBenchTask.Append, { bytes: batch.length, records: RECORDS_PER_BATCH })
  storageBenchUnits.set(StorageBenchTask.AppendPreverified, { bytes: batch.length, records: RECORDS_PER_BATCH })

  // Raw ceiling: positional writes of the same chunk at the end of a fresh file.
  let rawFd = -1
  let rawPos = 0
  let rawRound = 0
  bench.add(StorageBenchTask.RawWrite, () => {
    rawPos += writeSync(rawFd, batch, 0, batch.length, rawPos)
  }, {
    beforeAll: () => {
      rawFd = openSync(join(root, `raw-${rawRound}.log`), 'w+')
      rawPos = 0
    },
    afterAll: () => {
      closeSync(rawFd)
      unlinkSync(join(root, `raw-${rawRound++}.log`))
    },
  })

  // The same append with and without the CRC-32C check on this thread (see AppendOptions.crcVerified).
  let appendLog: PartitionLog | undefined
  let appendRound = 0
  const appendHooks = {
    beforeAll: () => {
      appendLog = PartitionLog.open(join(root, `append${appendRound++}-0`), config, { logger: silentLogger })
    },
    afterAll: () => appendLog!.delete(),
  }
  bench.add(StorageBenchTask.Append, () => {
    sink ^= appendLog!.append(batch, { assignOffsets: true }).lastOffset
  }, appendHooks)
  bench.add(StorageBenchTask.AppendPreverified, () => {
    sink ^= appendLog!.append(batch, { assignOffsets: true, crcVerified: true }).lastOffset
  }, appendHooks)

  // Read: a log of 400 batches (~40 MB), read 1 MiB at a time from rotating offsets.
  const readLog = PartitionLog.open(join(root, 'read-0'), config, { logger: silentLogger })
  for (let i = 0; i < READ_LOG_BATCHES; i++) readLog.append(Buffer.from(batch), { assignOffsets: true })
  const readBytes = readLog.read(0, READ_BYTES).data.length
  storageBenchUnits.set(StorageBenchTask.Read, { bytes: readBytes, records: (readBytes / batch.length) * RECORDS_PER_BATCH })
  storageBenchUnits.set(StorageBenchTask.ReadNoCrc, { bytes: readBytes, records: (readBytes / batch.length) * RECORDS_PER_BATCH })
  let readAt = 0
  const readOnce = (): void => {
    const offset = (readAt = (readAt + 7919) % (READ_LOG_BATCHES * RECORDS_PER_BATCH - 20 * RECORDS_PER_BATCH))
    sink ^= readLog.read(offset, READ_BYTES).data.length
  }
  bench.add(StorageBenchTask.Read, readOnce, { beforeAll: () => { readLog.verifyCrcOnRead = true } })
  bench.add(StorageBenchTask.ReadNoCrc, readOnce, { beforeAll: () => { readLog.verifyCrcOnRead = false } })
  bench.addEventListener('complete', () => readLog.abandon())

  // A tailing fetch: the last of 1,000 small batches (5 records of 100 bytes), read once from a
  // log that appended them (its TailWindow holds the last 16 KiB) and once from the same files
  // reopened (the window starts empty at the end of the file, so the read goes to the file).
  const small = encodeRecordBatchSync(Array.from({ length: 5 }, (_, i) => ({ value: Buffer.alloc(RECORD_VALUE_BYTES, 'y'), timestamp: 1_700_000_000_000 + i })))
  const tailDir = join(root, 'tail-0')
  const seed = PartitionLog.open(tailDir, config, { logger: silentLogger })
  for (let i = 0; i < 1000; i++) seed.append(Buffer.from(small), { assignOffsets: true })
  seed.close()
  const fromFile = PartitionLog.open(tailDir, config, { logger: silentLogger })
  const tailLog = PartitionLog.open(join(root, 'tail-1'), config, { logger: silentLogger })
  for (let i = 0; i < 1000; i++) tailLog.append(Buffer.from(small), { assignOffsets: true })
  const lastOffset = tailLog.logEndOffset - 5
  storageBenchUnits.set(StorageBenchTask.TailRead, { bytes: small.length, records: 5 })
  storageBenchUnits.set(StorageBenchTask.TailReadFile, { bytes: small.length, records: 5 })
  bench.add(StorageBenchTask.TailRead, () => { sink ^= tailLog.read(lastOffset, 1 << 20).data.length })
  bench.add(StorageBenchTask.TailReadFile, () => { sink ^= fromFile.read(lastOffset, 1 << 20).data.length })
  bench.addEventListener('complete', () => { tailLog.abandon(); fromFile.abandon() })

  // Index lookups over 100k entries (a full 1 GiB segment at index.interval.bytes=8192 has ~130k).
  const handles = new FileHandleCache({ maxOpenFiles: 4 })
  const active = OffsetIndex.create(join(root, '00000000000000000000.index'), 0, 10 << 20, handles)
  for (let i = 0; i < INDEX_ENTRIES; i++) active.append(i * 10 + 9, i * 4096)
  active.flush()
  const sealed = OffsetIndex.open(join(root, '00000000000000000000.index'), 0, 10 << 20, handles)
  let target = 0
  bench.add(StorageBenchTask.LookupActive, () => {
    target = (target + 104_729) % (INDEX_ENTRIES * 10)
    sink ^= active.lookup(target).position
  })
  bench.add(StorageBenchTask.LookupSealed, () => {
    target = (target + 104_729) % (INDEX_ENTRIES * 10)
    sink ^= sealed.lookup(target).position
  })
  bench.addEventListener('complete', () => handles.closeAll())
}

async function main(): Promise<void> {
  const time = Number(process.argv[2] ?? 1000)
  const bench = new Bench({ name: 'storage', time, warmupTime: Math.min(200, time / 4) })
  await register(bench)
  await bench.run()
  const medians = new Map<string, number>()
  const rows = bench.tasks.map((task) => {
    const result = task.result
    if (result.state !== 'completed') return { task: task.name, error: result.state }
    const opsPerSec = 1000 / result.latency.p50
    medians.set(task.name, opsPerSec)
    const units = storageBenchUnits.get(task.name) ?? {}
    return {
      task: task.name,
      'ops/s': Math.round(opsPerSec).toLocaleString('en-US'),
      'MB/s': units.bytes === undefined ? '' : ((units.bytes * opsPerSec) / 1e6).toFixed(0),
      'records/s': units.records === undefined ? '' : Math.round(units.records * opsPerSec).toLocaleString('en-US'),
      'median µs': (result.latency.p50 * 1000).toFixed(1),
      '± %': result.latency.rme.toFixed(1),
    }
  })
  console.table(rows)
  const raw = medians.get(StorageBenchTask.RawWrite)
  for (const task of [StorageBenchTask.Append, StorageBenchTask.AppendPreverified]) {
    const append = medians.get(task)
    if (raw && append) console.log(`${task} / raw writeSync: ${((append / raw) * 100).toFixed(0)}%`)
  }
  if (sink === 0.5) console.log(sink) // keeps results observable so the calls are not optimised away
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
