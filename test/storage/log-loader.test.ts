import { appendFileSync, closeSync, existsSync, openSync, readSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  CLEAN_SHUTDOWN_FILE, LOG_START_OFFSET_CHECKPOINT_FILE, RECOVERY_POINT_CHECKPOINT_FILE, filenamePrefixFromOffset,
} from '../../src/storage/file-names.js'
import { readOffsetCheckpoint, writeOffsetCheckpoint } from '../../src/storage/log-loader.js'
import type { PartitionLog } from '../../src/storage/partition-log.js'
import { batchRangesOf, logBuilder, recordBatch, recordingLogger, recordsOf } from '../helpers/log-builder.js'

function logFile(log: PartitionLog, base: number, ext = 'log'): string {
  return join(log.dir, `${filenamePrefixFromOffset(base)}.${ext}`)
}

function overwrite(path: string, position: number, bytes: Buffer): void {
  const fd = openSync(path, 'r+')
  writeSync(fd, bytes, 0, bytes.length, position)
  closeSync(fd)
}

/** Every offset in [from, to) reads back as the record written there. */
function expectReadable(log: PartitionLog, from: number, to: number): void {
  for (let o = from; o < to; o++) {
    expect(recordsOf(log.read(o, 1).data).find((r) => r.offset === o)?.value).toBe(`v${o}`)
  }
}

describe('storage > log-loader > recovery after an unclean shutdown', () => {
  it('cuts garbage written after the last batch and logs what was cut', () => {
    const built = logBuilder().records(50).recordsPerBatch(5).build()
    const path = logFile(built.log, 0)
    const size = statSync(path).size
    built.log.abandon()
    appendFileSync(path, Buffer.from('this is not a record batch at all, just garbage'))
    const log = built.reopen({ crash: true })
    expect(log.hadCleanShutdown).toBe(false)
    expect(log.logEndOffset).toBe(50)
    expect(statSync(path).size).toBe(size)
    const warning = built.logger.warnings.find((w) => w.msg.includes('cut'))
    expect(warning?.fields).toMatchObject({ validBytes: size, truncatedBytes: 47, nextOffset: 50 })
    expect(log.append(recordBatch(5, { firstIndex: 50 }), { assignOffsets: true }).firstOffset).toBe(50)
    expectReadable(log, 0, 55)
  })

  it('cuts half a batch at the end of the log (a torn write)', () => {
    const built = logBuilder().records(40).recordsPerBatch(10).build()
    const path = logFile(built.log, 0)
    const size = statSync(path).size
    const torn = recordBatch(10, { firstIndex: 40 })
    appendFileSync(path, torn.subarray(0, torn.length >> 1))
    const log = built.reopen({ crash: true })
    expect(log.logEndOffset).toBe(40)
    expect(statSync(path).size).toBe(size)
    expectReadable(log, 0, 40)
  })

  it('cuts the last segment at a batch whose CRC fails, keeping the batches before it', () => {
    const built = logBuilder().config({ 'index.interval.bytes': '100' }).segments(3).records(300).recordsPerBatch(5).build()
    const active = built.log.activeSegment
    const batches = [...active.readBatches()]
    expect(batches.length).toBeGreaterThan(4)
    const victim = batches[3]!
    const firstBadOffset = victim.data.readUInt32BE(4) // base offset (low word)
    overwrite(active.logPath, victim.pos + victim.data.length - 3, Buffer.from('!'))
    const log = built.reopen({ crash: true })
    expect(log.logEndOffset).toBe(firstBadOffset)
    expect(built.logger.warnings.some((w) => (w.fields as { reason?: string } | undefined)?.reason === 'CRC-32C mismatch')).toBe(true)
    expectReadable(log, 0, firstBadOffset)
    log.append(recordBatch(5, { firstIndex: firstBadOffset }), { assignOffsets: true })
    expectReadable(log, firstBadOffset, firstBadOffset + 5)
  })

  it('deletes every segment after a corrupt one', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000' }).records(200).recordsPerBatch(5).build()
    const segments = built.log.segmentList
    const second = segments[1]!
    const count = segments.length
    overwrite(second.logPath, 20, Buffer.from('!!!!')) // inside the CRC-covered part of its first batch
    const log = built.reopen({ crash: true })
    expect(log.segmentCount).toBe(2)
    expect(log.logEndOffset).toBe(second.baseOffset)
    expect(readdirSync(log.dir).filter((n) => n.endsWith('.log'))).toHaveLength(2)
    expect(built.logger.warnings.some((w) => w.msg.includes('after a corrupt one'))).toBe(true)
    expect(count).toBeGreaterThan(3)
  })

  it('starts recovery at the recovery point: flushed segments are not scanned', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000' }).records(200).recordsPerBatch(5).build()
    built.log.flush()
    const first = built.log.segmentList[0]!
    const size = first.size
    overwrite(first.logPath, size - 2, Buffer.from('!')) // below the recovery point: trusted
    const log = built.reopen({ crash: true })
    expect(log.logEndOffset).toBe(200)
    expect(log.segmentList[0]!.size).toBe(size)
    expect(built.logger.infos.find((i) => i.msg.includes('Recovering'))?.fields).toMatchObject({ recoveryPoint: 200, segments: 1 })
    // ... and the damage is still never served.
    expect(() => log.read(log.segmentList[1]!.baseOffset - 1, 1)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
  })

  it('opens a log whose checkpoint files are malformed, treating them as missing', () => {
    const built = logBuilder().records(30).build()
    built.log.abandon()
    writeFileSync(join(built.dir, RECOVERY_POINT_CHECKPOINT_FILE), 'garbage')
    writeFileSync(join(built.dir, LOG_START_OFFSET_CHECKPOINT_FILE), '0\n1\nevents 0 -5\n')
    const log = built.reopen({ crash: true })
    expect(log.logEndOffset).toBe(30)
    expect(log.logStartOffset).toBe(0)
    expect(built.logger.warnings.filter((w) => w.msg.includes('malformed'))).toHaveLength(2)
  })

  it('restarts an empty log at the log start offset when recovery cut below it', () => {
    const built = logBuilder().records(30).recordsPerBatch(10).build()
    built.log.deleteRecordsBefore(25)
    built.log.abandon()
    truncateSync(logFile(built.log, 0), 10) // everything torn
    const log = built.reopen({ crash: true })
    expect(log.logStartOffset).toBe(25)
    expect(log.logEndOffset).toBe(25)
    expect(log.append(recordBatch(1), { assignOffsets: true }).firstOffset).toBe(25)
  })
})

describe('storage > log-loader > indexes', () => {
  it('rebuilds a deleted .index and .timeindex (clean shutdown too)', () => {
    const built = logBuilder().config({ 'segment.bytes': '2000', 'index.interval.bytes': '100' }).records(300).recordsPerBatch(5).build()
    const first = built.log.segmentList[0]!
    const entries = first.offsetIndex.entries
    expect(entries).toBeGreaterThan(3)
    built.log.close()
    unlinkSync(logFile(built.log, 0, 'index'))
    unlinkSync(logFile(built.log, 0, 'timeindex'))
    const log = built.reopen({ crash: true })
    expect(log.segmentList[0]!.offsetIndex.entries).toBe(entries)
    expect(existsSync(logFile(log, 0, 'index'))).toBe(true)
    log.close()
    unlinkSync(logFile(log, 0, 'index'))
    const again = built.reopen()
    expect(again.hadCleanShutdown).toBe(true)
    expect(built.logger.warnings.filter((w) => w.msg.includes('Rebuilding'))).toHaveLength(2)
    expect(statSync(logFile(again, 0, 'index')).size).toBe(entries * 8)
    expectReadable(again, 0, 300)
    expect(again.offsetForTimestamp(1_000_123)).toEqual({ offset: 123, timestamp: 1_000_123 })
  })

  it('rebuilds a corrupted .index: a torn entry', () => {
    const built = logBuilder().config({ 'index.interval.bytes': '100' }).records(100).recordsPerBatch(5).build()
    built.log.roll()
    built.log.close()
    appendFileSync(logFile(built.log, 0, 'index'), Buffer.from([1, 2, 3]))
    const log = built.reopen()
    expect(built.logger.warnings.some((w) => w.msg.includes('Rebuilding') && String((w.fields as { reason: string }).reason).includes('multiple'))).toBe(true)
    expect(statSync(logFile(log, 0, 'index')).size % 8).toBe(0)
    expectReadable(log, 0, 100)
  })

  it('rebuilds a corrupted .index: entries pointing past the end of the log', () => {
    const built = logBuilder().config({ 'index.interval.bytes': '100' }).records(100).recordsPerBatch(5).build()
    built.log.roll()
    built.log.close()
    const path = logFile(built.log, 0, 'index')
    const bogus = Buffer.alloc(8)
    bogus.writeInt32BE(500, 0)
    bogus.writeInt32BE(1 << 30, 4)
    appendFileSync(path, bogus)
    const log = built.reopen()
    expect(built.logger.warnings.some((w) => w.msg.includes('Rebuilding'))).toBe(true)
    expectReadable(log, 0, 100)
  })

  it('rebuilds an index whose entries are plausible but wrong when a read finds the mismatch', () => {
    const built = logBuilder().config({ 'index.interval.bytes': '100' }).records(200).recordsPerBatch(5).build()
    built.log.roll()
    built.log.close()
    const path = logFile(built.log, 0, 'index')
    // Shift every position entry by one batch: the shape is valid, the meaning is not.
    const size = statSync(path).size
    const fd = openSync(path, 'r+')
    const buf = Buffer.alloc(size)
    readSync(fd, buf, 0, size, 0)
    for (let at = 0; at + 16 <= size; at += 8) buf.writeInt32BE(buf.readInt32BE(at + 12), at + 4)
    writeSync(fd, buf, 0, size, 0)
    closeSync(fd)
    const log = built.reopen()
    expectReadable(log, 0, 200)
    expect(built.logger.warnings.some((w) => w.msg.includes('does not match'))).toBe(true)
  })

  it('deletes stray index files without a log, and leftover .cleaned, .deleted and .tmp files', () => {
    const built = logBuilder().records(10).build()
    built.log.close()
    const dir = built.dir
    for (const name of ['00000000000000000500.index', '00000000000000000500.timeindex', '00000000000000000007.log.cleaned',
      '00000000000000000007.index.cleaned', '00000000000000000000.log.deleted', `${RECOVERY_POINT_CHECKPOINT_FILE}.tmp`]) {
      writeFileSync(join(dir, name), 'x')
    }
    writeFileSync(join(dir, 'leader-epoch-checkpoint'), '0\n0\n') // not ours: kept
    built.reopen()
    expect(readdirSync(dir).sort()).toEqual([
      '00000000000000000000.index', '00000000000000000000.log', '00000000000000000000.timeindex',
      LOG_START_OFFSET_CHECKPOINT_FILE, 'leader-epoch-checkpoint', RECOVERY_POINT_CHECKPOINT_FILE,
    ].filter((n) => n !== LOG_START_OFFSET_CHECKPOINT_FILE || existsSync(join(dir, n))).sort())
  })
})

describe('storage > log-loader > clean shutdown', () => {
  it('skips the scan when the partition\'s marker is present, and removes the marker on open', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000' }).records(200).recordsPerBatch(5).build()
    built.log.close()
    expect(existsSync(join(built.dir, CLEAN_SHUTDOWN_FILE))).toBe(true)
    // Damage a sealed segment after the clean close: a scan would cut it, a clean open does not look.
    const second = built.log.segmentList[1]!
    overwrite(second.logPath, 30, Buffer.from('!!!!'))
    const log = built.reopen({ crash: true })
    expect(log.hadCleanShutdown).toBe(true)
    expect(existsSync(join(built.dir, CLEAN_SHUTDOWN_FILE))).toBe(false)
    expect(log.logEndOffset).toBe(200)
    expect(log.segmentList[1]!.size).toBe(second.size)
    expect(built.logger.infos.some((i) => i.msg.includes('Recovering'))).toBe(false)
    expect(() => log.read(second.baseOffset, 1)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
    // The marker is gone: a crash now means recovery, from the recovery point (200, so only the
    // active segment is scanned; the damaged sealed segment below it is trusted, as in Kafka,
    // and still refused when read).
    const recovered = built.reopen({ crash: true })
    expect(recovered.hadCleanShutdown).toBe(false)
    expect(recovered.logEndOffset).toBe(200)
    expect(built.logger.infos.find((i) => i.msg.includes('Recovering'))?.fields).toMatchObject({ recoveryPoint: 200, segments: 1 })
    expect(() => recovered.read(second.baseOffset, 1)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
  })

  it('recovers despite the marker when told the shutdown was not clean', () => {
    const built = logBuilder().records(20).build()
    built.log.close()
    appendFileSync(logFile(built.log, 0), Buffer.alloc(100, 7))
    const log = built.reopen({ crash: true, cleanShutdown: false })
    expect(log.hadCleanShutdown).toBe(false)
    expect(log.logEndOffset).toBe(20)
    expect(log.size).toBe(statSync(logFile(log, 0)).size)
  })

  it('still recovers an active segment whose tail is invalid despite the marker', () => {
    const built = logBuilder().records(20).build()
    built.log.close()
    appendFileSync(logFile(built.log, 0), Buffer.alloc(100, 7))
    const log = built.reopen({ crash: true })
    expect(log.logEndOffset).toBe(20)
    expect(log.append(recordBatch(1, { firstIndex: 20 }), { assignOffsets: true }).firstOffset).toBe(20)
    expectReadable(log, 0, 21)
  })
})

describe('storage > log-loader > interrupted compaction swap', () => {
  it('completes a swap whose .swap files were committed before the crash', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000' }).records(200).recordsPerBatch(5).build()
    const log = built.log
    const [a, b] = log.segmentsForCleaning()
    // A "cleaned" segment keeping every other batch of the first two segments.
    const kept = [...a!.readBatches(), ...b!.readBatches()].filter((_, i) => i % 2 === 0).map((x) => Buffer.from(x.data))
    const cleaned = log.createCleanedSegment(a!.baseOffset, kept)
    cleaned.flushAll()
    cleaned.changeFileSuffix('.swap') // the commit point; then the process dies
    log.abandon()
    const reopened = built.reopen({ crash: true })
    expect(readdirSync(built.dir).some((n) => n.endsWith('.swap'))).toBe(false)
    expect(reopened.segmentList.map((s) => s.baseOffset)).not.toContain(b!.baseOffset)
    expect(batchRangesOf(reopened.read(0, 1 << 20).data)).toEqual(kept.map((k) => [k.readUInt32BE(4), k.readUInt32BE(4) + k.readInt32BE(23)]))
    expect(built.logger.infos.some((i) => i.msg.includes('swap'))).toBe(true)
    expect(reopened.logEndOffset).toBe(200)
  })

  it('discards a .cleaned segment that was never committed', () => {
    const built = logBuilder().config({ 'segment.bytes': '1000' }).records(100).recordsPerBatch(5).build()
    const [a] = built.log.segmentsForCleaning()
    built.log.createCleanedSegment(a!.baseOffset, [...a!.readBatches()].slice(0, 1).map((x) => Buffer.from(x.data)))
    const log = built.reopen({ crash: true })
    expect(readdirSync(built.dir).some((n) => n.endsWith('.cleaned'))).toBe(false)
    expectReadable(log, 0, 100)
  })
})

describe('storage > log-loader > checkpoint files', () => {
  it('writes Kafka\'s checkpoint format and reads it back', () => {
    const built = logBuilder().records(1).build()
    const path = join(built.dir, 'some-checkpoint')
    writeOffsetCheckpoint(path, 'events', 0, 1234, true)
    expect(readOffsetCheckpoint(path)).toBe(1234)
    expect(readOffsetCheckpoint(join(built.dir, 'missing'))).toBeUndefined()
    const logger = recordingLogger()
    writeFileSync(path, '0\n2\nevents 0 1\nevents 1 2\n')
    expect(readOffsetCheckpoint(path, logger)).toBeUndefined()
    expect(logger.warnings).toHaveLength(1)
  })
})
