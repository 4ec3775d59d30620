import { closeSync, openSync, readFileSync, readdirSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { isBatchCrcValid, readBatchHeader, TIMESTAMP_TYPE_MASK } from '../../src/records/batch-header.js'
import { RECOVERY_POINT_CHECKPOINT_FILE } from '../../src/storage/file-names.js'
import { PartitionLog } from '../../src/storage/partition-log.js'
import { batchRangesOf, logBuilder, partitionDir, recordBatch, recordingLogger, recordsOf, testConfig } from '../helpers/log-builder.js'

function concat(...parts: Buffer[]): Buffer {
  return Buffer.concat(parts)
}

function openLog(entries: Record<string, string> = {}, now?: () => number): PartitionLog {
  return PartitionLog.open(partitionDir(), testConfig(entries), { logger: recordingLogger(), now })
}

describe('storage > PartitionLog > append', () => {
  it('assigns contiguous offsets from 0 and returns the base offset of each append', () => {
    const log = openLog()
    const first = log.append(recordBatch(3), { assignOffsets: true })
    const second = log.append(recordBatch(5, { firstIndex: 3 }), { assignOffsets: true })
    expect(first).toMatchObject({ firstOffset: 0, lastOffset: 2, recordCount: 3, batchCount: 1, logStartOffset: 0, logAppendTime: -1 })
    expect(second).toMatchObject({ firstOffset: 3, lastOffset: 7, recordCount: 5 })
    expect(log.logEndOffset).toBe(8)
    expect(recordsOf(log.read(0, 1 << 20).data).map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    log.close()
  })

  it('takes several batches back to back and rewrites each base offset in place without breaking its CRC', () => {
    const log = openLog()
    log.append(recordBatch(2), { assignOffsets: true })
    const batches = concat(recordBatch(4, { firstIndex: 2 }), recordBatch(1, { firstIndex: 6 }), recordBatch(3, { firstIndex: 7 }))
    const result = log.append(batches, { assignOffsets: true, leaderEpoch: 7 })
    expect(result).toMatchObject({ firstOffset: 2, lastOffset: 9, batchCount: 3, recordCount: 8 })
    // The caller's buffer now holds the assigned offsets and the leader epoch; CRCs still match.
    let pos = 0
    const bases: number[] = []
    while (pos < batches.length) {
      const h = readBatchHeader(batches, pos)
      bases.push(h.baseOffset)
      expect(h.partitionLeaderEpoch).toBe(7)
      expect(isBatchCrcValid(batches, pos, h.batchLength + 12)).toBe(true)
      pos += h.batchLength + 12
    }
    expect(bases).toEqual([2, 6, 7])
    const read = log.read(2, 1 << 20)
    expect(batchRangesOf(read.data)).toEqual([[2, 5], [6, 6], [7, 9]])
    expect(recordsOf(read.data).every((r) => r.value === `v${r.offset}`)).toBe(true)
  })

  it('stamps LogAppendTime into maxTimestamp and the attributes, recomputing the CRC', () => {
    const log = openLog({ 'message.timestamp.type': 'LogAppendTime' }, () => 5_000_000)
    const batch = recordBatch(3, { timestamp: 42 })
    const result = log.append(batch, { assignOffsets: true, now: 7_000_000 })
    expect(result.logAppendTime).toBe(7_000_000)
    expect(result.maxTimestamp).toBe(7_000_000)
    const stored = log.read(0, 1 << 20).data
    const header = readBatchHeader(stored, 0)
    expect(header.maxTimestamp).toBe(7_000_000)
    expect(header.attributes & TIMESTAMP_TYPE_MASK).toBe(TIMESTAMP_TYPE_MASK)
    expect(isBatchCrcValid(stored, 0, stored.length)).toBe(true)
    expect(recordsOf(stored).map((r) => r.timestamp)).toEqual([7_000_000, 7_000_000, 7_000_000])
  })

  it('keeps a follower\'s offsets, allows gaps after compaction and refuses offsets below the log end', () => {
    const log = openLog()
    log.append(recordBatch(3, { baseOffset: 0 }), { assignOffsets: false })
    log.append(recordBatch(2, { baseOffset: 10 }), { assignOffsets: false })
    expect(log.logEndOffset).toBe(12)
    expect(batchRangesOf(log.read(3, 1 << 20).data)).toEqual([[10, 11]])
    const sizeBefore = log.size
    expect(() => log.append(recordBatch(1, { baseOffset: 11 }), { assignOffsets: false })).toThrow(expect.objectContaining({ code: 'UNKNOWN_SERVER_ERROR' }))
    expect(log.size).toBe(sizeBefore)
    expect(log.logEndOffset).toBe(12)
  })
})

describe('storage > PartitionLog > append validation', () => {
  const cases: Array<[string, (b: Buffer) => Buffer, string]> = [
    ['a bad CRC', (b) => { b[b.length - 1] ^= 0xff; return b }, 'CORRUPT_MESSAGE'],
    ['a bad magic', (b) => { b.writeInt8(1, 16); return b }, 'CORRUPT_MESSAGE'],
    ['a batch cut short', (b) => b.subarray(0, b.length - 3), 'CORRUPT_MESSAGE'],
    ['fewer bytes than a header', (b) => b.subarray(0, 40), 'CORRUPT_MESSAGE'],
    ['a batchLength below the minimum', (b) => { b.writeInt32BE(10, 8); return b }, 'CORRUPT_MESSAGE'],
    ['a negative lastOffsetDelta', (b) => { b.writeInt32BE(-1, 23); return b }, 'CORRUPT_MESSAGE'],
    ['a records count that does not match the offsets', (b) => { b.writeInt32BE(2, 57); return b }, 'INVALID_RECORD'],
  ]
  for (const [what, damage, code] of cases) {
    it(`refuses ${what} and writes nothing, even after a valid batch in the same append`, () => {
      const log = openLog()
      log.append(recordBatch(2), { assignOffsets: true })
      const good = recordBatch(3, { firstIndex: 2 })
      const bad = damage(recordBatch(3, { firstIndex: 5 }))
      const request = concat(good, bad)
      const before = Buffer.from(request)
      const sizeBefore = log.size
      expect(() => log.append(request, { assignOffsets: true })).toThrow(expect.objectContaining({ code }))
      expect(log.logEndOffset).toBe(2)
      expect(log.size).toBe(sizeBefore)
      expect(statSync(join(log.dir, '00000000000000000000.log')).size).toBe(sizeBefore)
      expect(request.equals(before)).toBe(true) // not even the valid batch was touched
    })
  }

  it('skips only the CRC check when the caller says it verified the CRCs, and still never serves a bad batch', () => {
    const log = openLog()
    const bad = recordBatch(3)
    bad[bad.length - 1] ^= 0xff
    expect(log.append(bad, { assignOffsets: true, crcVerified: true }).lastOffset).toBe(2)
    expect(() => log.read(0, 1000)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
    const short = recordBatch(3).subarray(0, 50)
    expect(() => log.append(short, { assignOffsets: true, crcVerified: true })).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
  })

  it('refuses an empty append', () => {
    const log = openLog()
    expect(() => log.append(Buffer.alloc(0), { assignOffsets: true })).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
  })

  it('refuses a batch above max.message.bytes with RecordTooLargeError', () => {
    const log = openLog({ 'max.message.bytes': '1000' })
    const big = recordBatch(10, { padding: 200 })
    expect(big.length).toBeGreaterThan(1000)
    expect(() => log.append(big, { assignOffsets: true })).toThrow(expect.objectContaining({ code: 'MESSAGE_TOO_LARGE', errorCode: 10 }))
    expect(log.logEndOffset).toBe(0)
  })

  it('refuses a batch above segment.bytes with RecordListTooLargeError', () => {
    const log = openLog({ 'segment.bytes': '500' })
    const big = recordBatch(10, { padding: 100 })
    expect(() => log.append(big, { assignOffsets: true })).toThrow(expect.objectContaining({ code: 'RECORD_LIST_TOO_LARGE', errorCode: 18 }))
    expect(log.size).toBe(0)
  })

  it('fails every operation on a closed log with KafkaStorageError', () => {
    const log = openLog()
    log.close()
    expect(() => log.append(recordBatch(1), { assignOffsets: true })).toThrow(expect.objectContaining({ code: 'KAFKA_STORAGE_ERROR' }))
    expect(() => log.read(0, 100)).toThrow(expect.objectContaining({ code: 'KAFKA_STORAGE_ERROR' }))
  })
})

describe('storage > PartitionLog > read', () => {
  it('finds the batch holding any offset (first, middle, last record of a batch, every segment) through the index', () => {
    const { log } = logBuilder().config({ 'segment.bytes': '3000', 'index.interval.bytes': '150' }).records(700).recordsPerBatch(7).build()
    expect(log.segmentCount).toBeGreaterThan(5)
    expect(log.segmentList.some((s) => s.offsetIndex.entries > 3)).toBe(true)
    for (let offset = 0; offset < 700; offset++) {
      const one = log.read(offset, 1)
      const [[base, last]] = batchRangesOf(one.data) as [[number, number]]
      expect(base).toBeLessThanOrEqual(offset)
      expect(last).toBeGreaterThanOrEqual(offset)
      expect(base % 7).toBe(0)
      expect(one.firstOffset).toBe(base)
    }
  })

  it('returns only whole batches within maxBytes, at least one (minOneMessage), and nothing past maxOffset', () => {
    const { log } = logBuilder().records(100).recordsPerBatch(10).build()
    const batchSize = log.read(10, 1).data.length // batches [10, 19] .. [90, 99] have the same size
    const two = log.read(15, batchSize * 2 + Math.floor(batchSize / 2))
    expect(batchRangesOf(two.data)).toEqual([[10, 19], [20, 29]])
    expect(log.read(15, 10).data.length).toBe(batchSize) // larger than maxBytes, but whole
    expect(log.read(15, 10, { minOneMessage: false }).data.length).toBe(0)
    expect(batchRangesOf(log.read(0, 1 << 20, { maxOffset: 40 }).data).at(-1)).toEqual([30, 39])
    expect(log.read(35, 1 << 20, { maxOffset: 35 }).data.length).toBe(0)
    expect(log.read(35, 1 << 20, { maxOffset: 38 }).data.length).toBe(0) // the batch holding 35 reaches past 38
  })

  it('is empty at the log end and refuses offsets outside [logStartOffset, logEndOffset]', () => {
    const { log } = logBuilder().records(20).build()
    expect(log.read(20, 1000)).toMatchObject({ firstOffset: 20, logStartOffset: 0, logEndOffset: 20 })
    expect(log.read(20, 1000).data.length).toBe(0)
    expect(() => log.read(21, 1000)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE', errorCode: 1 }))
    expect(() => log.read(-1, 1000)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }))
    log.deleteRecordsBefore(10)
    expect(() => log.read(9, 1000)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }))
    expect(log.read(10, 1000).firstOffset).toBe(10)
  })

  it('jumps through the offset index: bytes before the indexed position are never scanned', () => {
    // Reopened: the log's own copy of its last appends (TailWindow) would hide what is done
    // to the file behind its back.
    const log = logBuilder().config({ 'index.interval.bytes': '100' }).records(200).recordsPerBatch(5).build().reopen()
    // Zero the first batch of the active segment behind the log's back.
    const fd = openSync(join(log.dir, '00000000000000000000.log'), 'r+')
    writeSync(fd, Buffer.alloc(40), 0, 40, 0)
    closeSync(fd)
    expect(recordsOf(log.read(150, 100).data)[0]!.offset).toBe(150)
    expect(() => log.read(0, 100)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
  })

  it('never returns a batch that fails its CRC', () => {
    const log = logBuilder().records(50).recordsPerBatch(10).build().reopen() // read from the file, as above
    const first = log.read(0, 1).data.length
    const second = log.read(10, 1).data.length
    const fd = openSync(join(log.dir, '00000000000000000000.log'), 'r+')
    writeSync(fd, Buffer.from('X'), 0, 1, first + second - 2) // a value byte of batch [10, 19]
    closeSync(fd)
    expect(batchRangesOf(log.read(0, 1 << 20).data)).toEqual([[0, 9]]) // stops before the bad batch
    expect(() => log.read(10, 1 << 20)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
    expect(batchRangesOf(log.read(20, 1 << 20).data)[0]).toEqual([20, 29])
  })
})

describe('storage > PartitionLog > offsetForTimestamp', () => {
  it('returns the first record whose timestamp is >= the target, across segments', () => {
    const { log } = logBuilder().config({ 'segment.bytes': '2000', 'index.interval.bytes': '100' })
      .records(300).recordsPerBatch(6).batches({ timestamp: 10_000, timestampStep: 10 }).build()
    expect(log.segmentCount).toBeGreaterThan(3)
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 0, timestamp: 10_000 })
    expect(log.offsetForTimestamp(10_000)).toEqual({ offset: 0, timestamp: 10_000 })
    for (const offset of [1, 5, 6, 77, 150, 299]) {
      expect(log.offsetForTimestamp(10_000 + offset * 10)).toEqual({ offset, timestamp: 10_000 + offset * 10 })
      expect(log.offsetForTimestamp(10_000 + offset * 10 - 5)).toEqual({ offset, timestamp: 10_000 + offset * 10 })
    }
    expect(log.offsetForTimestamp(10_000 + 3000)).toBeNull()
  })

  it('answers Kafka\'s sentinels: latest, earliest and max timestamp', () => {
    const { log } = logBuilder().records(30).recordsPerBatch(10).batches({ timestamp: 500, timestampStep: 1 }).build()
    log.deleteRecordsBefore(5)
    expect(log.offsetForTimestamp(-1)).toEqual({ offset: 30, timestamp: -1 })
    expect(log.offsetForTimestamp(-2)).toEqual({ offset: 5, timestamp: -1 })
    expect(log.offsetForTimestamp(-3)).toEqual({ offset: 29, timestamp: 529 })
    expect(log.offsetForTimestamp(0)).toEqual({ offset: 5, timestamp: 505 }) // never below the log start
  })

  it('finds the exact record inside a compressed batch', () => {
    const log = openLog()
    log.append(recordBatch(50, { compression: 'gzip', timestamp: 1000, timestampStep: 2 }), { assignOffsets: true })
    expect(log.offsetForTimestamp(1051)).toEqual({ offset: 26, timestamp: 1052 })
  })
})

describe('storage > PartitionLog > roll', () => {
  it('rolls on segment.bytes without splitting a batch, and no segment exceeds it', () => {
    const { log } = logBuilder().config({ 'segment.bytes': '1500' }).records(400).recordsPerBatch(4).build()
    expect(log.segmentCount).toBeGreaterThan(5)
    const segments = log.segmentList
    for (let i = 0; i < segments.length; i++) {
      const s = segments[i]!
      expect(s.size).toBeLessThanOrEqual(1500)
      const batches = [...s.readBatches()]
      expect(batches.reduce((n, b) => n + b.data.length, 0)).toBe(s.size) // whole batches only
      if (i + 1 < segments.length) {
        // It rolled exactly when the next batch would not have fit.
        expect(s.size + [...segments[i + 1]!.readBatches()][0]!.data.length).toBeGreaterThan(1500)
        expect(segments[i + 1]!.baseOffset).toBe(s.nextOffset)
      }
    }
    const names = readdirSync(log.dir).filter((n) => n.endsWith('.log')).sort()
    expect(names[1]).toBe(`${String(log.segmentList[1]!.baseOffset).padStart(20, '0')}.log`)
  })

  it('spreads one large multi-batch append over several segments', () => {
    const log = openLog({ 'segment.bytes': '1000' })
    const batches: Buffer[] = []
    for (let i = 0; i < 20; i++) batches.push(recordBatch(3, { firstIndex: i * 3, padding: 60 }))
    const result = log.append(Buffer.concat(batches), { assignOffsets: true })
    expect(result).toMatchObject({ firstOffset: 0, lastOffset: 59, batchCount: 20 })
    expect(log.segmentCount).toBeGreaterThan(3)
    expect(recordsOf(log.read(0, 1 << 20).data).length).toBeGreaterThan(0)
    for (let o = 0; o < 60; o++) expect(recordsOf(log.read(o, 1).data).some((r) => r.offset === o)).toBe(true)
  })

  it('rolls on segment.ms measured from the first batch timestamp (CreateTime)', () => {
    const log = openLog({ 'segment.ms': '1000' })
    log.append(recordBatch(1, { timestamp: 10_000 }), { assignOffsets: true })
    log.append(recordBatch(1, { timestamp: 10_900 }), { assignOffsets: true })
    expect(log.segmentCount).toBe(1)
    log.append(recordBatch(1, { timestamp: 11_001 }), { assignOffsets: true })
    expect(log.segmentCount).toBe(2)
    expect(log.activeSegment.baseOffset).toBe(2)
  })

  it('rolls on segment.ms by the injected clock with LogAppendTime', () => {
    let now = 1_000_000
    const log = openLog({ 'segment.ms': '60000', 'message.timestamp.type': 'LogAppendTime' }, () => now)
    log.append(recordBatch(1), { assignOffsets: true })
    now += 59_000
    log.append(recordBatch(1), { assignOffsets: true })
    expect(log.segmentCount).toBe(1)
    now += 2_000
    log.append(recordBatch(1), { assignOffsets: true })
    expect(log.segmentCount).toBe(2)
  })

  it('rolls when the offset index is full (segment.index.bytes)', () => {
    const log = openLog({ 'segment.index.bytes': '16', 'index.interval.bytes': '0' })
    for (let i = 0; i < 10; i++) log.append(recordBatch(1, { firstIndex: i }), { assignOffsets: true })
    expect(log.segmentCount).toBeGreaterThan(2)
    for (const s of log.segmentList) expect(s.offsetIndex.entries).toBeLessThanOrEqual(2)
    for (let o = 0; o < 10; o++) expect(recordsOf(log.read(o, 1).data)[0]!.offset).toBe(o)
  })

  it('roll() starts a new segment at the log end and does nothing on an empty active segment', () => {
    const log = openLog()
    log.roll()
    expect(log.segmentCount).toBe(1)
    log.append(recordBatch(5), { assignOffsets: true })
    log.roll()
    log.roll()
    expect(log.segmentList.map((s) => s.baseOffset)).toEqual([0, 5])
  })
})

describe('storage > PartitionLog > deleteRecordsBefore', () => {
  it('advances the log start offset, deletes segments below it, and persists it', () => {
    const built = logBuilder().config({ 'segment.bytes': '1200' }).records(200).recordsPerBatch(5).build()
    const { log } = built
    const segmentsBefore = log.segmentCount
    const second = log.segmentList[1]!.baseOffset
    expect(log.deleteRecordsBefore(second + 3)).toBe(second + 3)
    expect(log.logStartOffset).toBe(second + 3)
    expect(log.segmentCount).toBe(segmentsBefore - 1)
    expect(readdirSync(log.dir)).not.toContain('00000000000000000000.log')
    expect(log.deleteRecordsBefore(2)).toBe(second + 3) // lower: no change
    expect(batchRangesOf(log.read(second + 3, 1).data)[0]![0]).toBe(second) // the batch holding it
    expect(() => log.deleteRecordsBefore(201)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }))
    expect(built.reopen().logStartOffset).toBe(second + 3)
    expect(built.reopen({ crash: true }).logStartOffset).toBe(second + 3)
  })

  it('may advance to the log end, leaving the active segment in place', () => {
    const { log } = logBuilder().records(30).build()
    expect(log.deleteRecordsBefore(30)).toBe(30)
    expect(log.segmentCount).toBe(1)
    expect(log.read(30, 100).data.length).toBe(0)
    log.append(recordBatch(2), { assignOffsets: true })
    expect(recordsOf(log.read(30, 1000).data).map((r) => r.offset)).toEqual([30, 31])
  })
})

describe('storage > PartitionLog > truncateTo', () => {
  it('removes every batch at or after the offset, in the middle of a segment, and appends continue there', () => {
    const built = logBuilder().config({ 'index.interval.bytes': '100' }).records(100).recordsPerBatch(5).build()
    const { log } = built
    log.truncateTo(60)
    expect(log.logEndOffset).toBe(60)
    expect(batchRangesOf(log.read(50, 1 << 20).data)).toEqual([[50, 54], [55, 59]])
    log.append(recordBatch(5, { firstIndex: 60 }), { assignOffsets: true })
    for (let o = 0; o < 65; o++) expect(recordsOf(log.read(o, 1).data).some((r) => r.offset === o && r.value === `v${o}`)).toBe(true)
    expect(built.reopen({ crash: true }).logEndOffset).toBe(65)
  })

  it('drops the whole batch holding a mid-batch offset', () => {
    const { log } = logBuilder().records(50).recordsPerBatch(10).build()
    log.truncateTo(33)
    expect(log.logEndOffset).toBe(30)
  })

  it('deletes later segments and cuts the one holding the offset, indexes included', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000', 'index.interval.bytes': '50' }).records(300).recordsPerBatch(3).build()
    const { log } = built
    const target = log.segmentList[2]!.baseOffset + 6
    log.truncateTo(target)
    expect(log.segmentCount).toBe(3)
    expect(log.logEndOffset).toBe(target)
    expect(log.activeSegment.offsetIndex.lastEntry.offset).toBeLessThan(target)
    expect(log.activeSegment.timeIndex.lastEntry.offset).toBeLessThan(target)
    log.append(recordBatch(3, { firstIndex: target, timestamp: 1_000_000 + target }), { assignOffsets: true })
    for (let o = 0; o < target + 3; o++) expect(recordsOf(log.read(o, 1).data).some((r) => r.offset === o)).toBe(true)
    const reopened = built.reopen()
    expect(reopened.logEndOffset).toBe(target + 3)
    expect(reopened.offsetForTimestamp(1_000_000 + target)).toEqual({ offset: target, timestamp: 1_000_000 + target })
  })

  it('empties the log when truncating to (or below) the first segment, and ignores offsets at or past the end', () => {
    const { log } = logBuilder().config({ 'segment.bytes': '1000' }).records(100).recordsPerBatch(5).build()
    log.truncateTo(100)
    log.truncateTo(500)
    expect(log.logEndOffset).toBe(100)
    log.truncateTo(0)
    expect(log.logEndOffset).toBe(0)
    expect(log.segmentCount).toBe(1)
    expect(log.size).toBe(0)
    expect(log.append(recordBatch(2), { assignOffsets: true }).firstOffset).toBe(0)
  })

  it('lowers the recovery point and persists it', () => {
    const { log } = logBuilder().records(40).build()
    log.flush()
    expect(log.recoveryPoint).toBe(40)
    log.truncateTo(20)
    expect(log.recoveryPoint).toBe(20)
    expect(readFileSync(join(log.dir, RECOVERY_POINT_CHECKPOINT_FILE), 'utf8')).toBe('0\n1\nevents 0 20\n')
  })
})

describe('storage > PartitionLog > flush policy', () => {
  it('leaves writes in the page cache by default: the recovery point does not move until flush()', () => {
    const log = openLog()
    log.append(recordBatch(10), { assignOffsets: true })
    expect(log.recoveryPoint).toBe(0)
    expect(log.unflushedMessages).toBe(10)
    log.flush()
    expect(log.recoveryPoint).toBe(10)
    expect(readFileSync(join(log.dir, RECOVERY_POINT_CHECKPOINT_FILE), 'utf8')).toBe('0\n1\nevents 0 10\n')
  })

  it('flush.messages=1 fsyncs before every append returns (the recovery point follows the log end)', () => {
    const log = openLog({ 'flush.messages': '1' })
    for (let i = 0; i < 5; i++) {
      log.append(recordBatch(2, { firstIndex: i * 2 }), { assignOffsets: true })
      expect(log.recoveryPoint).toBe(log.logEndOffset)
      expect(readFileSync(join(log.dir, RECOVERY_POINT_CHECKPOINT_FILE), 'utf8')).toBe(`0\n1\nevents 0 ${log.logEndOffset}\n`)
    }
  })

  it('flush.messages=N flushes once N records are unflushed', () => {
    const log = openLog({ 'flush.messages': '5' })
    log.append(recordBatch(2), { assignOffsets: true })
    log.append(recordBatch(2), { assignOffsets: true })
    expect(log.recoveryPoint).toBe(0)
    log.append(recordBatch(2), { assignOffsets: true })
    expect(log.recoveryPoint).toBe(6)
  })
})
