import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileHandleCache } from '../../src/storage/file-handle-cache.js'
import { LogSegment, batchProblem } from '../../src/storage/log-segment.js'
import { batchRangesOf, logBuilder, recordBatch, recordingLogger, recordsOf, tempDir } from '../helpers/log-builder.js'

function withOffsets(batch: Buffer, base: number): Buffer {
  batch.writeUInt32BE(Math.floor(base / 2 ** 32), 0)
  batch.writeUInt32BE(base % 2 ** 32, 4)
  return batch
}

function segment(dir = tempDir(), base = 0): LogSegment {
  return LogSegment.create(dir, base, { handles: new FileHandleCache({ maxOpenFiles: 8 }), indexIntervalBytes: 200, maxIndexSize: 1 << 20, logger: recordingLogger() })
}

/** Appends `n` batches of 4 records each, offsets from the segment's next offset. */
function fill(s: LogSegment, n: number): void {
  for (let i = 0; i < n; i++) {
    const base = s.nextOffset
    const b = withOffsets(recordBatch(4, { firstIndex: base, timestamp: 5000 + base }), base)
    s.append(b, 0, b.length, 1)
  }
}

describe('storage > LogSegment', () => {
  it('appends with one write, indexes every index.interval.bytes and tracks next offset and max timestamp', () => {
    const s = segment()
    expect(existsSync(s.logPath)).toBe(false)
    fill(s, 30)
    expect(statSync(s.logPath).size).toBe(s.size)
    expect(s.nextOffset).toBe(120)
    expect(s.maxTimestampSoFar).toBe(5119)
    expect(s.offsetOfMaxTimestampSoFar).toBe(119)
    expect(s.offsetIndex.entries).toBeGreaterThan(5)
    expect(s.offsetIndex.entries).toBeLessThan(30)
  })

  it('serves a read right behind the appends from memory: no file is opened for it', () => {
    const handles = new FileHandleCache({ maxOpenFiles: 8 })
    const s = LogSegment.create(tempDir(), 0, { handles, indexIntervalBytes: 200, maxIndexSize: 1 << 20, logger: recordingLogger() })
    fill(s, 3)
    handles.closeAll()
    const found = s.translateOffset(8)!
    expect(found.baseOffset).toBe(8)
    const read = s.read(found.position, 1 << 20, Number.MAX_SAFE_INTEGER, true, true)
    expect(read.firstOffset).toBe(8)
    expect(recordsOf(read.data).map((r) => r.offset)).toEqual([8, 9, 10, 11])
    expect(handles.openCount).toBe(0)
    // Once sealed, the segment reads its file again.
    s.seal()
    const openAfterSeal = handles.openCount // the index files it wrote
    expect(recordsOf(s.read(0, 1 << 20, Number.MAX_SAFE_INTEGER, true, true).data)).toHaveLength(12)
    expect(handles.openCount).toBe(openAfterSeal + 1)
  })

  it('translates any offset to the batch holding it, and reads whole batches from there', () => {
    const s = segment()
    fill(s, 30)
    for (let o = 0; o < 120; o++) {
      const batch = s.translateOffset(o)!
      expect(batch.baseOffset).toBe(o - (o % 4))
      expect(batch.lastOffset).toBe(o - (o % 4) + 3)
      const read = s.read(batch.position, 1, 1e9, true, true)
      expect(batchRangesOf(read.data)).toEqual([[batch.baseOffset, batch.lastOffset]])
    }
    expect(s.translateOffset(120)).toBeUndefined()
    expect(s.findOffsetByTimestamp(5050, 0)).toEqual({ offset: 50, timestamp: 5050 })
    expect(s.findOffsetByTimestamp(5050, 70)).toEqual({ offset: 70, timestamp: 5070 })
  })

  it('yields every batch whole through readBatches, also across its 1 MiB windows', () => {
    const s = segment()
    for (let i = 0; i < 12; i++) {
      const b = withOffsets(recordBatch(2, { padding: 150_000, firstIndex: i * 2 }), i * 2)
      s.append(b, 0, b.length, 1)
    }
    const batches = [...s.readBatches()]
    expect(batches).toHaveLength(12)
    expect(batches.reduce((n, b) => n + b.data.length, 0)).toBe(s.size)
    expect(recordsOf(Buffer.concat(batches.map((b) => b.data))).map((r) => r.offset)).toEqual(Array.from({ length: 24 }, (_, i) => i))
  })

  it('truncates to an offset: the batch holding it goes whole, indexes and state follow', () => {
    const s = segment()
    fill(s, 30)
    expect(s.truncateTo(50)).toBeGreaterThan(0)
    expect(s.nextOffset).toBe(48)
    expect(s.maxTimestampSoFar).toBe(5047)
    expect(s.offsetIndex.lastEntry.offset).toBeLessThan(48)
    expect(s.truncateTo(48)).toBe(0)
    fill(s, 1)
    expect(s.translateOffset(50)?.baseOffset).toBe(48)
  })

  it('recovers: rebuilds both indexes and keeps every valid batch', () => {
    const dir = tempDir()
    const s = segment(dir)
    fill(s, 30)
    const entries = s.offsetIndex.entries
    s.seal()
    s.close()
    const reopened = LogSegment.open(dir, 0, { handles: new FileHandleCache(), indexIntervalBytes: 200, maxIndexSize: 1 << 20 })
    expect(reopened.recover()).toBe(0)
    expect(reopened.offsetIndex.entries).toBe(entries)
    expect(reopened.nextOffset).toBe(120)
  })

  it('writes a cleaned segment from batches, checking each one', () => {
    const dir = tempDir()
    const handles = new FileHandleCache()
    const batches = [withOffsets(recordBatch(2), 100), withOffsets(recordBatch(3, { firstIndex: 5 }), 110)]
    const cleaned = LogSegment.createFromBatches(dir, 100, batches, { handles, indexIntervalBytes: 0, maxIndexSize: 1 << 20 })
    expect(cleaned.fileSuffix).toBe('.cleaned')
    expect(readdirSync(dir).sort()).toEqual(['00000000000000000100.index.cleaned', '00000000000000000100.log.cleaned', '00000000000000000100.timeindex.cleaned'])
    expect(cleaned.nextOffset).toBe(113)
    expect(cleaned.isActive).toBe(false)
    const bad = Buffer.from(batches[1]!)
    bad[bad.length - 1] ^= 1
    expect(() => LogSegment.createFromBatches(dir, 200, [withOffsets(recordBatch(1), 200), bad], { handles, indexIntervalBytes: 0, maxIndexSize: 1 << 20 }))
      .toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
    expect(() => LogSegment.createFromBatches(dir, 300, [withOffsets(recordBatch(2), 305), withOffsets(recordBatch(2), 306)], { handles, indexIntervalBytes: 0, maxIndexSize: 1 << 20 }))
      .toThrow(/offsets must increase/)
    expect(readdirSync(dir).filter((n) => !n.startsWith('00000000000000000100'))).toEqual([])
  })

  it('names what is wrong with a batch', () => {
    const good = recordBatch(3)
    expect(batchProblem(good, 0, good.length, true)).toBeUndefined()
    expect(batchProblem(good, 0, 30, true)).toMatch(/less than a batch header/)
    expect(batchProblem(good, 0, good.length - 1, true)).toMatch(/cut off/)
    const crc = Buffer.from(good)
    crc[70] ^= 1
    expect(batchProblem(crc, 0, crc.length, true)).toBe('CRC-32C mismatch')
    expect(batchProblem(crc, 0, crc.length, false)).toBeUndefined()
  })
})

describe('storage > PartitionLog > replaceSegments', () => {
  it('swaps a cleaned segment in for old ones through .cleaned -> .swap -> final names', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000' }).records(200).recordsPerBatch(5).build()
    const { log } = built
    const [a, b, c] = log.segmentsForCleaning()
    const kept = [...a!.readBatches(), ...b!.readBatches(), ...c!.readBatches()].filter((_, i) => i % 3 === 0).map((x) => Buffer.from(x.data))
    const count = log.segmentCount
    log.replaceSegments([a!, b!, c!], log.createCleanedSegment(a!.baseOffset, kept))
    expect(log.segmentCount).toBe(count - 2)
    expect(readdirSync(log.dir).filter((n) => /\.(cleaned|swap|deleted)$/.test(n))).toEqual([])
    expect(existsSync(join(log.dir, `${String(b!.baseOffset).padStart(20, '0')}.log`))).toBe(false)
    const survivors = kept.map((k) => k.readUInt32BE(4))
    for (const base of survivors) expect(batchRangesOf(log.read(base, 1).data)[0]![0]).toBe(base)
    expect(batchRangesOf(log.read(survivors[0]! + 5, 1).data)[0]![0]).toBe(survivors[1]) // a gap: the next batch
    expect(log.logEndOffset).toBe(200)
    const reopened = built.reopen({ crash: true })
    expect(reopened.segmentCount).toBe(count - 2)
    expect(batchRangesOf(reopened.read(0, 1 << 20).data).map(([base]) => base).slice(0, survivors.length)).toEqual(survivors)
  })

  it('keeps an empty first segment (it anchors the log start offset) and drops other emptied ones', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000' }).records(150).recordsPerBatch(5).build()
    const { log } = built
    const [a, b, c] = log.segmentsForCleaning()
    log.replaceSegments([b!], log.createCleanedSegment(b!.baseOffset, []))
    expect(log.segmentList.map((s) => s.baseOffset)).not.toContain(b!.baseOffset)
    log.replaceSegments([a!], log.createCleanedSegment(a!.baseOffset, [], 123_000))
    expect(log.segmentList[0]!.baseOffset).toBe(0)
    expect(log.segmentList[0]!.size).toBe(0)
    expect(log.segmentList[1]).toBe(c)
    expect(batchRangesOf(log.read(0, 1).data)[0]![0]).toBe(c!.baseOffset)
    const reopened = built.reopen({ crash: true })
    expect(reopened.logStartOffset).toBe(0)
    expect(reopened.segmentList[0]!.lastModifiedMs).toBe(123_000)
    expect(batchRangesOf(reopened.read(0, 1).data)[0]![0]).toBe(c!.baseOffset)
  })

  it('deletes old segments outright when nothing of them survives cleaning, and refuses the active segment', () => {
    const { log } = logBuilder().config({ 'segment.bytes': '1000' }).records(100).recordsPerBatch(5).build()
    const [, b] = log.segmentsForCleaning()
    log.replaceSegments([b!], log.createCleanedSegment(b!.baseOffset, []))
    expect(log.segmentList[1]!.baseOffset).toBeGreaterThan(b!.baseOffset)
    expect(log.logStartOffset).toBe(0)
    expect(() => log.replaceSegments([log.activeSegment], log.createCleanedSegment(log.activeSegment.baseOffset, [])))
      .toThrow(expect.objectContaining({ code: 'UNKNOWN_SERVER_ERROR' }))
    log.append(recordBatch(1), { assignOffsets: true })
  })
})
