import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { CorruptRecordError, InvalidRecordError } from '../../src/errors.js'
import { ATTRIBUTES, CRC, codecOf, readBatchHeader } from '../../src/records/batch-header.js'
import {
  decodeRecordBatchSync, decodeRecordBatches, encodeRecordBatch, encodeRecordBatchSync, endTxnMarkerRecord, type EncodeBatchOptions, type RecordInput,
} from '../../src/records/record-batch.js'
import { FileHandleCache } from '../../src/storage/file-handle-cache.js'
import { parseLogConfig } from '../../src/storage/log-config.js'
import { LogSegment } from '../../src/storage/log-segment.js'
import { PartitionLog } from '../../src/storage/partition-log.js'
import {
  cleanSegments, validateCompactedBatch, validateCompactedBatchAsync, type CleanableSegment, type CleanOptions, type CleanResult,
} from '../../src/storage/log-cleaner.js'

const NOW = 1_700_000_000_000
const DAY = 86_400_000

/** A keyed record; `value: null` is a tombstone. */
function rec(offset: number, key: string | null, value: string | null, timestamp = NOW - 10 * DAY): RecordInput {
  return { offset, key, value, timestamp }
}

/** Encodes records (absolute offsets) as one batch starting at the first record's offset. */
function batchOf(records: RecordInput[], opts: EncodeBatchOptions = {}): Buffer {
  return encodeRecordBatchSync(records, { baseOffset: records[0]!.offset, now: NOW, ...opts })
}

function segment(baseOffset: number, batches: Buffer[], lastModifiedMs = NOW - 10 * DAY): CleanableSegment {
  return { baseOffset, lastModifiedMs, batches: () => batches }
}

const defaults: CleanOptions = { now: NOW, deleteRetentionMs: DAY, minCompactionLagMs: 0, maxSegmentBytes: 1 << 30 }

/** Every record left, as `offset:key=value` (`~` for a tombstone), in log order; a zstd batch as `offset:zstd`. */
function contents(result: CleanResult): string[] {
  return result.segments.flatMap((s) => s.batches).flatMap((b) => codecOf(b.readInt16BE(ATTRIBUTES)) === 4
    ? [`${readBatchHeader(b).baseOffset}:zstd`]
    : decodeRecordBatchSync(b).records.map((r) => `${r.offset}:${r.key?.toString() ?? '-'}=${r.value?.toString() ?? '~'}`))
}

describe('storage > LogCleaner > cleanSegments', () => {
  it('keeps only the latest record of each key, at its original offset', () => {
    const result = cleanSegments([
      segment(0, [batchOf([rec(0, 'a', 'a1'), rec(1, 'b', 'b1'), rec(2, 'a', 'a2')]), batchOf([rec(3, 'c', 'c1')])]),
      segment(4, [batchOf([rec(4, 'b', 'b2'), rec(5, 'a', 'a3')])]),
    ], defaults)
    expect(contents(result)).toEqual(['3:c=c1', '4:b=b2', '5:a=a3'])
    expect(result.recordsRemoved).toBe(3)
    expect(result.bytesAfter).toBeLessThan(result.bytesBefore)
    expect(result.cleanedUpTo).toBe(6)
  })

  it('keeps baseOffset, lastOffsetDelta, producer fields, leader epoch and the gzip codec of a rewritten batch', () => {
    const original = batchOf([rec(10, 'k', 'old'), rec(11, 'x', 'x1'), rec(12, 'y', 'y1')], {
      compression: 'gzip', producerId: 42, producerEpoch: 3, baseSequence: 17, partitionLeaderEpoch: 5,
    })
    const result = cleanSegments([segment(10, [original, batchOf([rec(13, 'k', 'new')])])], defaults)
    const rewritten = result.segments[0]!.batches[0]!
    const before = readBatchHeader(original)
    const after = decodeRecordBatchSync(rewritten)
    expect(after.compression).toBe('gzip')
    expect(after.header).toMatchObject({
      baseOffset: 10, lastOffsetDelta: 2, producerId: 42, producerEpoch: 3, baseSequence: 17, partitionLeaderEpoch: 5,
      attributes: before.attributes, recordsCount: 2,
    })
    expect(after.records.map((r) => r.offset)).toEqual([11, 12])
    expect(contents(result)).toEqual(['11:x=x1', '12:y=y1', '13:k=new'])
  })

  it('copies a batch that loses nothing byte for byte', () => {
    const untouched = batchOf([rec(1, 'b', 'b1'), rec(2, 'c', 'c1')], { compression: 'gzip' })
    const result = cleanSegments([segment(0, [batchOf([rec(0, 'a', 'a1')]), untouched, batchOf([rec(3, 'a', 'a2')])])], defaults)
    expect(result.segments[0]!.batches[0]).toBe(untouched)
  })

  it('keeps record timestamps and headers; a CreateTime batch takes its timestamps from the records kept', () => {
    const records: RecordInput[] = [
      { offset: 0, key: 'a', value: '1', timestamp: NOW - 5_000 },
      { offset: 1, key: 'b', value: '2', timestamp: NOW - 3_000, headers: [{ key: 'h', value: 'v' }] },
      { offset: 2, key: 'a', value: '3', timestamp: NOW - 9_000 },
    ]
    const result = cleanSegments([segment(0, [batchOf(records.slice(0, 2)), batchOf([records[2]!]), batchOf([rec(3, 'a', '4')])])], defaults)
    const batch = decodeRecordBatchSync(result.segments[0]!.batches[0]!)
    expect(batch.records).toHaveLength(1)
    expect(batch.records[0]).toMatchObject({ offset: 1, timestamp: NOW - 3_000, headers: [{ key: 'h', value: Buffer.from('v') }] })
    expect(batch.header.maxTimestamp).toBe(NOW - 3_000)
  })

  it('keeps the maxTimestamp of a LogAppendTime batch', () => {
    const original = batchOf([rec(0, 'a', '1'), rec(1, 'b', '2')], { timestampType: 'LogAppendTime', maxTimestamp: NOW - 7 })
    const result = cleanSegments([segment(0, [original, batchOf([rec(2, 'a', '3')])])], defaults)
    const batch = decodeRecordBatchSync(result.segments[0]!.batches[0]!)
    expect(batch.timestampType).toBe('LogAppendTime')
    expect(batch.header.maxTimestamp).toBe(NOW - 7)
  })

  it('drops a batch left empty, but keeps the last batch of each producer as an empty header', () => {
    const p = { producerId: 9, producerEpoch: 1 }
    const result = cleanSegments([
      segment(0, [
        batchOf([rec(0, 'a', '1')], { ...p, baseSequence: 0 }),
        batchOf([rec(1, 'a', '2'), rec(2, 'b', '1')], { ...p, baseSequence: 1, compression: 'gzip' }),
        batchOf([rec(3, 'a', '3'), rec(4, 'b', '2')]),
      ]),
    ], defaults)
    const batches = result.segments[0]!.batches.map((b) => decodeRecordBatchSync(b))
    expect(batches.map((b) => [b.header.baseOffset, b.header.recordsCount])).toEqual([[1, 0], [3, 2]])
    expect(batches[0]!.header).toMatchObject({ lastOffsetDelta: 1, producerId: 9, producerEpoch: 1, baseSequence: 1 })
    expect(batches[0]!.compression).toBe('none')
    expect(result.recordsRemoved).toBe(3)
  })

  it('finds the last batch of a producer in segments it does not clean', () => {
    const p = { producerId: 9, producerEpoch: 1 }
    const result = cleanSegments([
      segment(0, [batchOf([rec(0, 'a', '1')], { ...p, baseSequence: 0 }), batchOf([rec(1, 'a', '2')])]),
      segment(2, [batchOf([rec(2, 'z', '1', NOW)], { ...p, baseSequence: 1 })]),
    ], { ...defaults, minCompactionLagMs: DAY })
    expect(result.segments.map((s) => s.replaces)).toEqual([[0]])
    expect(contents(result)).toEqual(['1:a=2'])
  })

  describe('tombstones', () => {
    const tombstoneLog = (lastModifiedMs: number): CleanableSegment[] => [
      segment(0, [batchOf([rec(0, 'a', '1'), rec(1, 'b', '1')]), batchOf([rec(2, 'a', null)])], lastModifiedMs),
    ]

    it('keeps a tombstone (and removes what it deletes) while delete.retention.ms has not passed', () => {
      const result = cleanSegments(tombstoneLog(NOW - DAY + 1), defaults)
      expect(contents(result)).toEqual(['1:b=1', '2:a=~'])
    })

    it('removes a tombstone once delete.retention.ms has passed since its segment was last modified', () => {
      const result = cleanSegments(tombstoneLog(NOW - DAY), defaults)
      expect(contents(result)).toEqual(['1:b=1'])
      expect(result.recordsRemoved).toBe(2)
    })

    it('judges each segment by its own modification time', () => {
      const result = cleanSegments([
        segment(0, [batchOf([rec(0, 'a', null)])], NOW - 2 * DAY),
        segment(1, [batchOf([rec(1, 'b', null)])], NOW - 1_000),
      ], defaults)
      expect(contents(result)).toEqual(['1:b=~'])
    })

    it('removes a tombstone superseded by a later value, however young', () => {
      const result = cleanSegments([segment(0, [batchOf([rec(0, 'a', null)]), batchOf([rec(1, 'a', 'back')])], NOW)], defaults)
      expect(contents(result)).toEqual(['1:a=back'])
    })
  })

  describe('what is cleanable', () => {
    it('stops at the first segment younger than min.compaction.lag.ms', () => {
      const old = NOW - 2 * DAY
      const result = cleanSegments([
        segment(0, [batchOf([rec(0, 'a', '1', old), rec(1, 'a', '2', old)])]),
        segment(2, [batchOf([rec(2, 'a', '3', NOW - 1_000)])]),
        segment(3, [batchOf([rec(3, 'a', '4', old)])]),
      ], { ...defaults, minCompactionLagMs: DAY })
      expect(result.segments.map((s) => s.replaces)).toEqual([[0]])
      expect(contents(result)).toEqual(['1:a=2'])
      expect(result.cleanedUpTo).toBe(2)
    })

    it('treats a record exactly min.compaction.lag.ms old as cleanable', () => {
      const result = cleanSegments([segment(0, [batchOf([rec(0, 'a', '1', NOW - DAY), rec(1, 'a', '2', NOW - DAY)])])],
        { ...defaults, minCompactionLagMs: DAY })
      expect(contents(result)).toEqual(['1:a=2'])
    })

    it('leaves records at or above dirtyUpTo alone, and segments starting there untouched', () => {
      const result = cleanSegments([
        segment(0, [batchOf([rec(0, 'a', '1'), rec(1, 'a', '2'), rec(2, 'a', '3')])]),
        segment(3, [batchOf([rec(3, 'a', '4')])]),
      ], { ...defaults, dirtyUpTo: 2 })
      expect(result.segments.map((s) => s.replaces)).toEqual([[0]])
      expect(contents(result)).toEqual(['1:a=2', '2:a=3'])
      expect(result.cleanedUpTo).toBe(2)
    })

    it('returns nothing to swap when nothing can be removed', () => {
      const result = cleanSegments([segment(0, [batchOf([rec(0, 'a', '1'), rec(1, 'b', '1')])]), segment(2, [batchOf([rec(2, 'c', '1')])])], defaults)
      expect(result).toMatchObject({ segments: [], recordsRemoved: 0, cleanedUpTo: 3 })
      expect(cleanSegments([], defaults).segments).toEqual([])
    })

    it('stops the round where the offset map fills up and leaves the rest for the next one', () => {
      const result = cleanSegments([
        segment(0, [batchOf([rec(0, 'a', '1'), rec(1, 'b', '1'), rec(2, 'a', '2'), rec(3, 'c', '1'), rec(4, 'a', '3')])]),
        segment(5, [batchOf([rec(5, 'b', '2')])]),
      ], { ...defaults, maxOffsetMapKeys: 2 })
      expect(result.cleanedUpTo).toBe(3)
      expect(contents(result)).toEqual(['1:b=1', '2:a=2', '3:c=1', '4:a=3'])
      expect(result.segments.map((s) => s.replaces)).toEqual([[0]])
    })
  })

  it('tells long keys apart (they are hashed)', () => {
    const long = (c: string): string => c.repeat(100)
    const result = cleanSegments([segment(0, [batchOf([rec(0, long('x'), '1'), rec(1, long('y'), '1'), rec(2, long('x'), '2')])])], defaults)
    expect(contents(result)).toEqual([`1:${long('y')}=1`, `2:${long('x')}=2`])
  })

  it('removes records without a key (a topic switched from delete to compact), as Kafka', () => {
    const result = cleanSegments([segment(0, [batchOf([rec(0, null, 'orphan'), rec(1, 'a', '1')])])], defaults)
    expect(contents(result)).toEqual(['1:a=1'])
  })

  it('copies zstd and control batches as they are and keeps them out of the offset map', async () => {
    const zstd = await encodeRecordBatch([rec(1, 'a', 'z')], { baseOffset: 1, compression: 'zstd', now: NOW })
    const marker = batchOf([{ ...endTxnMarkerRecord('COMMIT', 0, NOW - DAY), offset: 2 }], { isControl: true, transactional: true, producerId: 4, producerEpoch: 0 })
    const result = cleanSegments([segment(0, [batchOf([rec(0, 'a', 'plain')]), zstd, marker, batchOf([rec(3, 'b', '1'), rec(4, 'b', '2')])])], defaults)
    const batches = result.segments[0]!.batches
    expect(batches[1]).toBe(zstd)
    expect(batches[2]).toBe(marker)
    // 'a' at 0 is superseded only by the zstd record, which the cleaner cannot read: it stays.
    expect(decodeRecordBatchSync(batches[0]!).records.map((r) => r.offset)).toEqual([0])
    expect(result.recordsRemoved).toBe(1)
  })

  it('never removes a tombstone that follows a zstd batch (it may delete a value the cleaner cannot see)', async () => {
    const zstd = await encodeRecordBatch([rec(1, 'a', 'hidden')], { baseOffset: 1, compression: 'zstd', now: NOW })
    const result = cleanSegments([segment(0, [batchOf([rec(0, 'a', 'old')]), zstd, batchOf([rec(2, 'a', null), rec(3, 'c', null)])])], defaults)
    expect(contents(result)).toEqual(['1:zstd', '2:a=~', '3:c=~'])
    const before = cleanSegments([segment(0, [batchOf([rec(0, 'a', null)]), zstd])], defaults)
    expect(before.recordsRemoved).toBe(1) // a tombstone before the zstd batch may go
  })

  it('validates several batches back to back, and refuses a partial one', () => {
    const good = batchOf([rec(0, 'a', '1')])
    const keyless = batchOf([rec(1, null, '1')])
    expect(() => validateCompactedBatch(Buffer.concat([good, good]))).not.toThrow()
    expect(() => validateCompactedBatch(Buffer.concat([good, keyless]))).toThrow(InvalidRecordError)
    expect(() => validateCompactedBatch(Buffer.concat([good, keyless.subarray(0, keyless.length - 1)]))).toThrow(CorruptRecordError)
  })

  describe('output segments', () => {
    const three = (): CleanableSegment[] => [
      segment(0, [batchOf([rec(0, 'a', '1'), rec(1, 'b', '1')])], NOW - 3 * DAY),
      segment(2, [batchOf([rec(2, 'a', '2'), rec(3, 'c', '1')])], NOW - 2 * DAY),
      segment(4, [batchOf([rec(4, 'a', '3'), rec(5, 'd', '1')])], NOW - 2 * DAY - 5),
    ]

    it('merges consecutive cleaned segments that fit segment.bytes, naming what each replaces', () => {
      const result = cleanSegments(three(), defaults)
      expect(result.segments).toHaveLength(1)
      expect(result.segments[0]).toMatchObject({ baseOffset: 0, replaces: [0, 2, 4], lastModifiedMs: NOW - 2 * DAY })
      expect(contents(result)).toEqual(['1:b=1', '3:c=1', '4:a=3', '5:d=1'])
    })

    it('keeps segments apart when merging would exceed segment.bytes', () => {
      const result = cleanSegments(three(), { ...defaults, maxSegmentBytes: 100 })
      expect(result.segments.map((s) => s.replaces)).toEqual([[0], [2], [4]])
      for (const s of result.segments) expect(s.batches.reduce((n, b) => n + b.length, 0)).toBeLessThanOrEqual(100)
    })

    it('keeps a segment that lost every record as an empty output (its base offset holds the log start)', () => {
      const result = cleanSegments([segment(0, [batchOf([rec(0, 'a', '1')])]), segment(1, [batchOf([rec(1, 'a', '2')])])], { ...defaults, maxSegmentBytes: 1 })
      expect(result.segments.map((s) => [s.baseOffset, s.batches.length])).toEqual([[0, 0], [1, 1]])
    })
  })

  describe('bad input', () => {
    it('refuses to clean a segment holding a batch that fails its CRC, naming the segment', () => {
      const bad = batchOf([rec(5, 'a', '1'), rec(6, 'a', '2')])
      bad.writeUInt32BE((bad.readUInt32BE(CRC) ^ 1) >>> 0, CRC)
      expect(() => cleanSegments([segment(0, [batchOf([rec(0, 'a', '0')])]), segment(5, [bad])], defaults))
        .toThrow(/cannot clean segment 5/)
      expect(() => cleanSegments([segment(5, [bad])], defaults)).toThrow(CorruptRecordError)
    })

    it('refuses a buffer that is not exactly one batch', () => {
      const b = batchOf([rec(0, 'a', '1')])
      expect(() => cleanSegments([segment(0, [b.subarray(0, b.length - 1)])], defaults)).toThrow(CorruptRecordError)
      expect(() => cleanSegments([segment(0, [Buffer.concat([b, Buffer.alloc(3)])])], defaults)).toThrow(CorruptRecordError)
      expect(() => cleanSegments([segment(0, [Buffer.alloc(10)])], defaults)).toThrow(CorruptRecordError)
    })
  })
})

describe('storage > LogCleaner > validateCompactedBatch', () => {
  it('accepts batches whose records all have keys, tombstones included', () => {
    expect(() => validateCompactedBatch(batchOf([rec(0, 'a', '1'), rec(1, 'b', null)], { compression: 'gzip' }))).not.toThrow()
  })

  it('rejects a record without a key with INVALID_RECORD (not retriable)', () => {
    const batch = batchOf([rec(0, 'a', '1'), rec(1, null, '2')], { compression: 'snappy' })
    expect(() => validateCompactedBatch(batch)).toThrow(InvalidRecordError)
    expect(() => validateCompactedBatch(batch)).toThrow(/Compacted topic cannot accept message without key/)
  })

  it('rejects a corrupt batch with CORRUPT_MESSAGE', () => {
    const batch = batchOf([rec(0, 'a', '1')])
    batch[batch.length - 1]! ^= 0xff
    expect(() => validateCompactedBatch(batch)).toThrow(CorruptRecordError)
    expect(() => validateCompactedBatch(Buffer.alloc(5))).toThrow(CorruptRecordError)
  })

  it('lets zstd through synchronously; the async form checks it', async () => {
    const batch = await encodeRecordBatch([rec(0, null, '1')], { compression: 'zstd', now: NOW })
    expect(() => validateCompactedBatch(batch)).not.toThrow()
    await expect(validateCompactedBatchAsync(batch)).rejects.toThrow(InvalidRecordError)
    await expect(validateCompactedBatchAsync(await encodeRecordBatch([rec(0, 'k', '1')], { compression: 'zstd' }))).resolves.toBeUndefined()
  })
})

describe('storage > LogCleaner > with real segment files', () => {
  it('cleans sealed LogSegments and the result is a valid segment with working indexes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardlog-cleaner-'))
    const handles = new FileHandleCache()
    onTestFinished(() => {
      handles.closeAll()
      rmSync(dir, { recursive: true, force: true })
    })
    const segmentOpts = { handles, indexIntervalBytes: 1, maxIndexSize: 1 << 20, now: NOW - 3 * DAY }
    const write = (base: number, batches: Buffer[]): LogSegment => {
      const seg = LogSegment.create(dir, base, segmentOpts)
      for (const b of batches) seg.append(b, 0, b.length, NOW - 3 * DAY)
      seg.seal()
      return seg
    }
    const sources = [
      write(0, [batchOf([rec(0, 'user-1', 'v1'), rec(1, 'user-2', 'v1')], { compression: 'gzip' }), batchOf([rec(2, 'user-1', 'v2')])]),
      write(3, [batchOf([rec(3, 'user-3', 'v1'), rec(4, 'user-2', null)], { compression: 'gzip' }), batchOf([rec(5, 'user-1', 'v3')])]),
    ]
    const result = cleanSegments(sources.map((seg) => ({
      baseOffset: seg.baseOffset,
      lastModifiedMs: seg.lastModifiedMs,
      batches: () => [...seg.readBatches()].map((b) => b.data),
    })), { ...defaults, deleteRetentionMs: 7 * DAY })
    expect(result.segments).toHaveLength(1)
    const out = result.segments[0]!
    const cleaned = LogSegment.createFromBatches(dir, out.baseOffset, out.batches, segmentOpts)
    expect(cleaned.logPath).toMatch(/00000000000000000000\.log\.cleaned$/)
    const stored = [...cleaned.readBatches()].flatMap((b) => decodeRecordBatchSync(b.data).records)
    expect(stored.map((r) => `${r.offset}:${r.key}=${r.value ?? '~'}`)).toEqual(['3:user-3=v1', '4:user-2=~', '5:user-1=v3'])
    expect(cleaned.translateOffset(4)?.baseOffset).toBe(3)
    expect(cleaned.translateOffset(5)?.baseOffset).toBe(5)
    expect(cleaned.size).toBe(result.bytesAfter)
  })
})

describe('storage > LogCleaner > end to end through PartitionLog', () => {
  const quiet = { warn: (): void => {}, info: (): void => {} }

  it('compacts a rolled log in place, keeps offsets, and survives a reopen', async () => {
    const root = mkdtempSync(join(tmpdir(), 'shardlog-compact-'))
    onTestFinished(() => rmSync(root, { recursive: true, force: true }))
    const dir = join(root, 'users-0')
    const config = parseLogConfig({ 'cleanup.policy': 'compact', 'segment.bytes': '400', 'delete.retention.ms': String(DAY) })
    let clock = NOW - 3 * DAY
    const log = PartitionLog.open(dir, config, { now: () => clock, logger: quiet })
    const latest = new Map<string, { offset: number; value: string | null }>()
    for (let i = 0; i < 40; i++) {
      const key = `user-${i % 6}`
      const value = i % 13 === 12 ? null : `v${i}`
      const batch = encodeRecordBatchSync([{ key, value, timestamp: clock }], { compression: i % 3 === 0 ? 'gzip' : 'none', now: clock })
      const { firstOffset } = log.append(batch, { assignOffsets: true, leaderEpoch: 0, now: clock })
      latest.set(key, { offset: firstOffset, value })
      clock += 1_000
    }
    expect(log.segmentCount).toBeGreaterThan(3)
    const endBefore = log.logEndOffset

    const sources = [...log.segmentsForCleaning()]
    clock = NOW
    const result = cleanSegments(sources.map((s) => ({
      baseOffset: s.baseOffset,
      lastModifiedMs: s.lastModifiedMs,
      largestTimestampMs: s.largestTimestamp,
      batches: () => [...s.readBatches()].map((b) => b.data),
    })), { now: clock, deleteRetentionMs: config.deleteRetentionMs, minCompactionLagMs: config.minCompactionLagMs, maxSegmentBytes: config.segmentBytes })
    expect(result.recordsRemoved).toBeGreaterThan(0)
    for (const out of result.segments) {
      const replaced = sources.filter((s) => out.replaces.includes(s.baseOffset))
      log.replaceSegments(replaced, log.createCleanedSegment(out.baseOffset, out.batches))
    }
    expect(log.logEndOffset).toBe(endBefore)

    const readAll = async (l: PartitionLog): Promise<Map<string, { offset: number; value: string | null }[]>> => {
      const seen = new Map<string, { offset: number; value: string | null }[]>()
      let offset = l.logStartOffset
      while (offset < l.logEndOffset) {
        const { data } = l.read(offset, 1 << 20)
        if (data.length === 0) break
        for (const batch of await decodeRecordBatches(data)) {
          for (const r of batch.records) {
            if (r.offset < offset) continue
            const k = r.key!.toString()
            seen.set(k, [...(seen.get(k) ?? []), { offset: r.offset, value: r.value?.toString() ?? null }])
          }
          offset = batch.header.baseOffset + batch.header.lastOffsetDelta + 1
        }
      }
      return seen
    }

    const check = async (l: PartitionLog): Promise<void> => {
      const seen = await readAll(l)
      const activeBase = l.activeSegment.baseOffset
      for (const [key, last] of latest) {
        const records = seen.get(key) ?? []
        // Outside the active segment (never cleaned) a key keeps at most its latest record, at its
        // original offset; a tombstone older than delete.retention.ms is gone with everything before it.
        expect(records.filter((r) => r.offset < activeBase).length).toBeLessThanOrEqual(1)
        if (last.value === null && last.offset < activeBase) expect(records).toEqual([])
        else expect(records.at(-1)).toEqual(last)
      }
    }
    await check(log)
    log.close()
    const reopened = PartitionLog.open(dir, config, { now: () => clock, logger: quiet })
    onTestFinished(() => reopened.close())
    expect(reopened.logEndOffset).toBe(endBefore)
    await check(reopened)
  })
})
