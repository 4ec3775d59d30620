import { existsSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  retentionDecision, segmentsBelowLogStartOffset, segmentsBeyondRetentionBytes, segmentsBeyondRetentionMs, type RetentionSegment,
} from '../../src/storage/retention.js'
import { logBuilder, recordBatch } from '../helpers/log-builder.js'

const segments: RetentionSegment[] = [
  { baseOffset: 0, size: 100, largestTimestamp: 1000 },
  { baseOffset: 10, size: 100, largestTimestamp: 2000 },
  { baseOffset: 20, size: 100, largestTimestamp: 3000 },
  { baseOffset: 30, size: 50, largestTimestamp: 500 }, // active; never deleted
]

describe('storage > retention > rules', () => {
  it('retention.ms deletes the prefix of segments older than now - retention.ms, never the active one', () => {
    expect(segmentsBeyondRetentionMs(segments, 1000, 2000)).toBe(0)
    expect(segmentsBeyondRetentionMs(segments, 1000, 2001)).toBe(1)
    expect(segmentsBeyondRetentionMs(segments, 1000, 1e9)).toBe(3)
    expect(segmentsBeyondRetentionMs(segments, -1, 1e9)).toBe(0)
  })

  it('retention.bytes deletes the oldest segments while the rest stays at or above the limit', () => {
    expect(segmentsBeyondRetentionBytes(segments, 350)).toBe(0)
    expect(segmentsBeyondRetentionBytes(segments, 250)).toBe(1)
    expect(segmentsBeyondRetentionBytes(segments, 249)).toBe(1)
    expect(segmentsBeyondRetentionBytes(segments, 0)).toBe(3)
    expect(segmentsBeyondRetentionBytes(segments, -1)).toBe(0)
  })

  it('the log start offset deletes segments whose successor starts at or below it', () => {
    expect(segmentsBelowLogStartOffset(segments, 9)).toBe(0)
    expect(segmentsBelowLogStartOffset(segments, 10)).toBe(1)
    expect(segmentsBelowLogStartOffset(segments, 1000)).toBe(3)
  })

  it('size and time apply only with cleanup.policy=delete; the log start offset always', () => {
    const compact = { retentionMs: 0, retentionBytes: 0, cleanupPolicy: { delete: false, compact: true } }
    expect(retentionDecision(segments, compact, 1e9, 10)).toEqual({ count: 1, reasons: ['log-start-offset'] })
    const both = { ...compact, cleanupPolicy: { delete: true, compact: true } }
    expect(retentionDecision(segments, both, 1e9, 10)).toEqual({ count: 3, reasons: ['log-start-offset', 'retention.bytes', 'retention.ms'] })
  })
})

describe('storage > retention > PartitionLog.applyRetention', () => {
  it('deletes whole segments by retention.ms and advances the log start offset', () => {
    const { log } = logBuilder().config({ 'retention.ms': '60000' }).segments(4).records(40).recordsPerBatch(10)
      .batches({ timestamp: 1_000_000, timestampStep: 10_000 }).build()
    // Batch b holds timestamps 1_000_000 + [b*100_000, b*100_000 + 90_000].
    expect(log.segmentCount).toBe(4)
    const firstPath = log.segmentList[0]!.logPath
    expect(log.applyRetention(1_000_000 + 90_000 + 60_000)).toBe(0)
    expect(log.applyRetention(1_000_000 + 190_000 + 60_001)).toBe(2)
    expect(log.logStartOffset).toBe(20)
    expect(existsSync(firstPath)).toBe(false)
    expect(() => log.read(19, 100)).toThrow(expect.objectContaining({ code: 'OFFSET_OUT_OF_RANGE' }))
    expect(log.applyRetention(1e15)).toBe(1)
    expect(log.segmentCount).toBe(1) // the active segment stays, however old
    expect(log.logStartOffset).toBe(30)
  })

  it('deletes the oldest segments by retention.bytes', () => {
    const { log } = logBuilder().segments(5).records(50).recordsPerBatch(10).build()
    const sizes = log.segmentList.map((s) => s.size)
    log.updateConfig({ ...log.config, retentionMs: -1, retentionBytes: sizes.slice(2).reduce((a, b) => a + b, 0) })
    expect(log.applyRetention()).toBe(2)
    expect(log.logStartOffset).toBe(20)
    expect(log.size).toBe(sizes.slice(2).reduce((a, b) => a + b, 0))
  })

  it('leaves a compacted topic\'s segments to the cleaner', () => {
    const { log } = logBuilder().config({ 'cleanup.policy': 'compact', 'retention.ms': '1', 'retention.bytes': '1' }).segments(3).records(30).build()
    expect(log.applyRetention(1e15)).toBe(0)
    log.append(recordBatch(1), { assignOffsets: true })
    expect(log.segmentCount).toBe(3)
  })
})
