import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { describe, expect, it, onTestFinished } from 'vitest'
import { dumpLogCommand, dumpLogSegment } from '../../src/cli/commands/dump-log.js'
import { InvalidRequestError } from '../../src/errors.js'
import { CRC } from '../../src/records/batch-header.js'
import { encodeRecordBatch, encodeRecordBatchSync, endTxnMarkerRecord } from '../../src/records/record-batch.js'
import { FileHandleCache } from '../../src/storage/file-handle-cache.js'
import { logFilePath, offsetIndexFilePath, timeIndexFilePath } from '../../src/storage/file-names.js'
import { LogSegment } from '../../src/storage/log-segment.js'
import { ProducerStateManager, snapshotFileName } from '../../src/storage/producer-state-manager.js'

const T = 1_700_000_000_000

function partitionDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shardlog-dump-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function lines(file: string, printData = false): Promise<string[]> {
  const out: string[] = []
  for await (const line of dumpLogSegment(file, { printData })) out.push(line)
  return out
}

/** Three batches at offsets 100..104 in a real segment written by LogSegment (an index entry per batch). */
async function writeSegment(dir: string): Promise<{ batches: Buffer[] }> {
  const batches = [
    encodeRecordBatchSync([{ key: 'k1', value: 'hello', timestamp: T }, { key: null, value: 'world', timestamp: T + 1 }], { baseOffset: 100, partitionLeaderEpoch: 2 }),
    encodeRecordBatchSync([{ key: 'k2', value: Buffer.from([0, 1, 0xff]), timestamp: T + 5, headers: [{ key: 'trace', value: 'abc' }, { key: 'n', value: null }] }], {
      baseOffset: 102, compression: 'gzip', producerId: 7, producerEpoch: 1, baseSequence: 41, partitionLeaderEpoch: 2,
    }),
    await encodeRecordBatch([{ key: 'k3', value: 'line\nbreak', timestamp: T + 9 }, { key: 'k4', value: null, timestamp: T + 8 }], { baseOffset: 103, compression: 'zstd', partitionLeaderEpoch: 3 }),
  ]
  const handles = new FileHandleCache()
  const segment = LogSegment.create(dir, 100, { handles, indexIntervalBytes: 1, maxIndexSize: 1 << 20, now: T })
  for (const b of batches) segment.append(b, 0, b.length, T)
  segment.seal()
  segment.close()
  handles.closeAll()
  return { batches }
}

describe('cli > dump-log > .log', () => {
  it('prints one line per batch with Kafka\'s fields', async () => {
    const dir = partitionDir()
    const { batches } = await writeSegment(dir)
    const out = await lines(logFilePath(dir, 100))
    expect(out[0]).toBe(`Dumping ${logFilePath(dir, 100)}`)
    expect(out[1]).toBe('Starting offset: 100')
    expect(out).toHaveLength(5)
    expect(out[2]).toBe(`baseOffset: 100 lastOffset: 101 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 2 isTransactional: false isControl: false deleteHorizonMs: none position: 0 CreateTime: ${T + 1} size: ${batches[0]!.length} magic: 2 compresscodec: none crc: ${batches[0]!.readUInt32BE(CRC)} isvalid: true`)
    expect(out[3]).toContain(`baseOffset: 102 lastOffset: 102 count: 1 baseSequence: 41 lastSequence: 41 producerId: 7 producerEpoch: 1 partitionLeaderEpoch: 2`)
    expect(out[3]).toContain(`position: ${batches[0]!.length} CreateTime: ${T + 5}`)
    expect(out[3]).toContain('compresscodec: gzip')
    expect(out[4]).toContain('baseOffset: 103 lastOffset: 104 count: 2')
    expect(out[4]).toContain('compresscodec: zstd')
  })

  it('--print-data prints every record: UTF-8 when printable, hex otherwise, null, headers', async () => {
    const dir = partitionDir()
    await writeSegment(dir)
    const out = await lines(logFilePath(dir, 100), true)
    const records = out.filter((l) => l.startsWith('| '))
    expect(records).toEqual([
      `| offset: 100 CreateTime: ${T} keySize: 2 valueSize: 5 sequence: -1 headerKeys: [] key: k1 payload: hello`,
      `| offset: 101 CreateTime: ${T + 1} keySize: -1 valueSize: 5 sequence: -1 headerKeys: [] key: null payload: world`,
      `| offset: 102 CreateTime: ${T + 5} keySize: 2 valueSize: 3 sequence: 41 headerKeys: [trace,n] key: k2 payload: 0x0001ff headers: [trace=abc, n=null]`,
      `| offset: 103 CreateTime: ${T + 9} keySize: 2 valueSize: 10 sequence: -1 headerKeys: [] key: k3 payload: 0x${Buffer.from('line\nbreak').toString('hex')}`,
      `| offset: 104 CreateTime: ${T + 8} keySize: 2 valueSize: -1 sequence: -1 headerKeys: [] key: k4 payload: null`,
    ])
  })

  it('prints LogAppendTime and transaction markers as Kafka does', async () => {
    const dir = partitionDir()
    const file = logFilePath(dir, 0)
    writeFileSync(file, Buffer.concat([
      encodeRecordBatchSync([{ key: 'a', value: 'b' }], { timestampType: 'LogAppendTime', maxTimestamp: T, now: T - 5 }),
      encodeRecordBatchSync([endTxnMarkerRecord('COMMIT', 4, T)], { baseOffset: 1, isControl: true, transactional: true, producerId: 3, producerEpoch: 0 }),
    ]))
    const out = await lines(file, true)
    expect(out[2]).toContain(`LogAppendTime: ${T}`)
    expect(out[3]).toContain(`| offset: 0 LogAppendTime: ${T} `)
    expect(out[4]).toContain('isTransactional: true isControl: true')
    expect(out[5]).toBe(`| offset: 1 CreateTime: ${T} keySize: 4 valueSize: 6 sequence: -1 headerKeys: [] endTxnMarker: COMMIT coordinatorEpoch: 4`)
  })

  it('reports a batch that fails its CRC as isvalid: false and keeps going', async () => {
    const dir = partitionDir()
    const file = logFilePath(dir, 0)
    const bad = encodeRecordBatchSync([{ key: 'a', value: 'payload' }], { now: T })
    bad[bad.length - 2]! ^= 0x55
    writeFileSync(file, Buffer.concat([bad, encodeRecordBatchSync([{ key: 'b', value: 'ok' }], { baseOffset: 1, now: T })]))
    const out = await lines(file, true)
    expect(out[2]).toMatch(/isvalid: false$/)
    expect(out[3]).toMatch(/^\| cannot decode the records of this batch: .*crc/)
    expect(out[4]).toMatch(/baseOffset: 1 .*isvalid: true$/)
    expect(out[5]).toContain('key: b payload: ok')
  })

  it('reports a torn tail instead of failing', async () => {
    const dir = partitionDir()
    await writeSegment(dir)
    const file = logFilePath(dir, 100)
    const size = readFileSync(file).length
    truncateSync(file, size - 7)
    const out = await lines(file, true)
    expect(out.at(-1)).toMatch(/^Found \d+ invalid bytes at the end of 00000000000000000100\.log \(a batch of \d+ bytes at position \d+ is cut off\)$/)
    expect(out.filter((l) => l.startsWith('baseOffset:'))).toHaveLength(2)
  })

  it('reports a few stray bytes and a corrupt batch length', async () => {
    const dir = partitionDir()
    const file = logFilePath(dir, 0)
    writeFileSync(file, encodeRecordBatchSync([{ value: 'x' }], { now: T }))
    appendFileSync(file, Buffer.from([1, 2, 3]))
    expect((await lines(file)).at(-1)).toBe('Found 3 invalid bytes at the end of 00000000000000000000.log (less than a batch header)')
    const garbage = Buffer.alloc(30, 0)
    writeFileSync(file, garbage)
    expect((await lines(file)).at(-1)).toBe('Found 30 invalid bytes at position 0 of 00000000000000000000.log: batchLength 0 is below the minimum 49')
  })

  it('dumps an empty segment', async () => {
    const dir = partitionDir()
    const file = logFilePath(dir, 42)
    writeFileSync(file, '')
    expect(await lines(file)).toEqual([`Dumping ${file}`, 'Starting offset: 42'])
  })
})

describe('cli > dump-log > indexes and snapshots', () => {
  it('prints the offset index entries of a real segment, with no mismatch', async () => {
    const dir = partitionDir()
    const { batches } = await writeSegment(dir)
    const out = await lines(offsetIndexFilePath(dir, 100))
    // As Kafka, the first batch gets no entry: one is added once index.interval.bytes have passed.
    expect(out.slice(1)).toEqual([
      `offset: 102 position: ${batches[0]!.length}`,
      `offset: 104 position: ${batches[0]!.length + batches[1]!.length}`,
    ])
  })

  it('reports index entries that do not match the log, and a torn entry', async () => {
    const dir = partitionDir()
    const { batches } = await writeSegment(dir)
    const file = offsetIndexFilePath(dir, 100)
    const index = readFileSync(file)
    index.writeInt32BE(3, 0) // the first entry now claims offset 103 at the second batch
    writeFileSync(file, Buffer.concat([index, Buffer.from([9, 9])]))
    const out = await lines(file)
    expect(out).toContain('Found 2 invalid bytes at the end of 00000000000000000100.index')
    expect(out.slice(-2)).toEqual([`Mismatches in :${file}`, '  Index offset: 103, log offset: 102'])
    expect(batches).toHaveLength(3)
  })

  it('stops at the zero fill of a preallocated Kafka index', async () => {
    const dir = partitionDir()
    const file = offsetIndexFilePath(dir, 0)
    const index = Buffer.alloc(8 * 4)
    index.writeInt32BE(0, 0)
    index.writeInt32BE(0, 4)
    index.writeInt32BE(5, 8)
    index.writeInt32BE(4096, 12)
    writeFileSync(file, index)
    const out = await lines(file)
    expect(out.slice(1, 3)).toEqual(['offset: 0 position: 0', 'offset: 5 position: 4096'])
    expect(out.filter((l) => l.startsWith('offset:'))).toHaveLength(2)
  })

  it('prints the time index entries of a real segment', async () => {
    const dir = partitionDir()
    await writeSegment(dir)
    const out = await lines(timeIndexFilePath(dir, 100))
    expect(out[0]).toBe(`Dumping ${timeIndexFilePath(dir, 100)}`)
    expect(out.slice(1)).toEqual([`timestamp: ${T + 5} offset: 102`, `timestamp: ${T + 9} offset: 104`])
  })

  it('prints a producer state snapshot, and says when it is corrupt', async () => {
    const dir = partitionDir()
    const producers = new ProducerStateManager(dir)
    producers.update({ producerId: 7, producerEpoch: 2, baseSequence: 0, lastOffsetDelta: 2, firstOffset: 10, lastOffset: 12, timestamp: T })
    producers.takeSnapshot(13)
    const file = join(dir, snapshotFileName(13))
    expect((await lines(file)).slice(1)).toEqual([
      `producerId: 7 producerEpoch: 2 lastTimestamp: ${T}`,
      `| firstSequence: 0 lastSequence: 2 firstOffset: 10 lastOffset: 12 timestamp: ${T}`,
    ])
    writeFileSync(file, readFileSync(file).subarray(0, 20))
    expect((await lines(file))[1]).toMatch(/is corrupt/)
  })

  it('refuses other files and index files without a base offset name', async () => {
    const dir = partitionDir()
    writeFileSync(join(dir, 'leader-epoch-checkpoint'), '0\n0\n')
    writeFileSync(join(dir, 'foo.index'), '')
    await expect(lines(join(dir, 'leader-epoch-checkpoint'))).rejects.toThrow(InvalidRequestError)
    await expect(lines(join(dir, 'foo.index'))).rejects.toThrow(/20-digit base offset/)
    await expect(lines(join(dir, '00000000000000000000.log'))).rejects.toThrow(/ENOENT/)
  })
})

describe('cli > dump-log > command', () => {
  it('writes the dump to its output, --print-data included', async () => {
    const dir = partitionDir()
    await writeSegment(dir)
    let text = ''
    const out = new Writable({ write(chunk, _enc, done) { text += String(chunk); done() } })
    const cmd = dumpLogCommand(out)
    expect(cmd.name()).toBe('dump-log')
    await cmd.parseAsync([logFilePath(dir, 100), '--print-data'], { from: 'user' })
    const printed = text.split('\n')
    expect(printed[0]).toBe(`Dumping ${logFilePath(dir, 100)}`)
    expect(printed.filter((l) => l.startsWith('| offset:'))).toHaveLength(5)
  })

  it('reports an unreadable file on stderr with exit code 1', async () => {
    const previous = process.exitCode
    const errors: string[] = []
    const write = process.stderr.write.bind(process.stderr)
    process.stderr.write = ((chunk: string) => { errors.push(chunk); return true }) as typeof process.stderr.write
    try {
      await dumpLogCommand(new Writable({ write(_c, _e, done) { done() } })).parseAsync(['/nonexistent/00000000000000000000.log'], { from: 'user' })
      expect(process.exitCode).toBe(1)
      expect(errors.join('')).toMatch(/^dump-log: .*ENOENT/)
    } finally {
      process.stderr.write = write
      process.exitCode = previous
    }
  })
})
