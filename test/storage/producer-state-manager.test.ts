import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidProducerEpochError, OutOfOrderSequenceError, UnknownProducerIdError } from '../../src/errors.js'
import { CONTROL_FLAG_MASK, type BatchHeader } from '../../src/records/batch-header.js'
import {
  BATCHES_TO_RETAIN, ProducerStateManager, snapshotFileName, type ProducerBatchAppend,
} from '../../src/storage/producer-state-manager.js'

const INT32_MAX = 0x7fff_ffff

function partitionDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shardlog-producers-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A batch of `count` records from producer 7 epoch `epoch` starting at sequence `seq`, written at `offset`. */
function batch(seq: number, count: number, offset: number, epoch = 0, producerId = 7, timestamp = 1_000): ProducerBatchAppend {
  return { producerId, producerEpoch: epoch, baseSequence: seq, lastOffsetDelta: count - 1, firstOffset: offset, lastOffset: offset + count - 1, timestamp }
}

function header(b: ProducerBatchAppend, attributes = 0): { header: BatchHeader } {
  return {
    header: {
      baseOffset: b.firstOffset, batchLength: 0, partitionLeaderEpoch: 0, magic: 2, crc: 0, attributes,
      lastOffsetDelta: b.lastOffset - b.firstOffset, baseTimestamp: b.timestamp, maxTimestamp: b.timestamp,
      producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, recordsCount: b.lastOffset - b.firstOffset + 1,
    },
  }
}

/** Checks and, when allowed, records the batch, like the partition log does for a client append. */
function produce(m: ProducerStateManager, b: ProducerBatchAppend): ReturnType<ProducerStateManager['check']> {
  const verdict = m.check(b)
  if (verdict.kind === 'append') m.update(b)
  return verdict
}

describe('storage > ProducerStateManager > check', () => {
  it('always appends batches of non-idempotent producers (producerId -1)', () => {
    const m = new ProducerStateManager(partitionDir())
    const plain = { producerId: -1, producerEpoch: -1, baseSequence: -1, lastOffsetDelta: 3 }
    expect(m.check(plain)).toEqual({ kind: 'append' })
    m.update({ ...plain, firstOffset: 0, lastOffset: 3, timestamp: 1 })
    expect(m.check(plain)).toEqual({ kind: 'append' })
    expect(m.producers().size).toBe(0)
    expect(m.mapEndOffset).toBe(4)
  })

  it('accepts a new producer at sequence 0 and then consecutive sequences', () => {
    const m = new ProducerStateManager(partitionDir())
    expect(produce(m, batch(0, 3, 0))).toEqual({ kind: 'append' })
    expect(produce(m, batch(3, 2, 3))).toEqual({ kind: 'append' })
    expect(m.producer(7)?.batches.map((b) => [b.firstSeq, b.lastSeq])).toEqual([[0, 2], [3, 4]])
  })

  it('answers a retried batch with its original offsets instead of appending it twice', () => {
    const m = new ProducerStateManager(partitionDir())
    produce(m, batch(0, 3, 100))
    produce(m, batch(3, 2, 103))
    expect(m.check(batch(0, 3, 999))).toEqual({ kind: 'duplicate', firstOffset: 100, lastOffset: 102 })
    expect(m.check(batch(3, 2, 999))).toEqual({ kind: 'duplicate', firstOffset: 103, lastOffset: 104 })
  })

  it('remembers only the last 5 batches: an older retry is out of order', () => {
    const m = new ProducerStateManager(partitionDir())
    for (let i = 0; i < BATCHES_TO_RETAIN + 1; i++) produce(m, batch(i, 1, i))
    expect(m.producer(7)?.batches).toHaveLength(BATCHES_TO_RETAIN)
    expect(m.check(batch(1, 1, 0))).toEqual({ kind: 'duplicate', firstOffset: 1, lastOffset: 1 })
    expect(() => m.check(batch(0, 1, 0))).toThrow(OutOfOrderSequenceError)
  })

  it('refuses a sequence gap and a batch that overlaps the last one', () => {
    const m = new ProducerStateManager(partitionDir())
    produce(m, batch(0, 3, 0))
    expect(() => m.check(batch(4, 1, 3))).toThrow(OutOfOrderSequenceError)
    expect(() => m.check(batch(2, 2, 3))).toThrow(OutOfOrderSequenceError)
    expect(() => m.check(batch(0, 2, 3))).toThrow(OutOfOrderSequenceError) // same start, different end: not a retry
  })

  it('refuses an unknown producer that does not start at sequence 0 (UNKNOWN_PRODUCER_ID)', () => {
    const m = new ProducerStateManager(partitionDir())
    expect(() => m.check(batch(5, 1, 0))).toThrow(UnknownProducerIdError)
  })

  it('fences an older epoch with INVALID_PRODUCER_EPOCH, even for a batch it had written', () => {
    const m = new ProducerStateManager(partitionDir())
    produce(m, batch(0, 2, 0, 0))
    produce(m, batch(0, 2, 2, 1))
    expect(() => m.check(batch(2, 1, 4, 0))).toThrow(InvalidProducerEpochError)
    expect(() => m.check(batch(0, 2, 0, 0))).toThrow(InvalidProducerEpochError)
  })

  it('requires a new epoch to start at sequence 0 and then forgets the old epoch\'s batches', () => {
    const m = new ProducerStateManager(partitionDir())
    produce(m, batch(0, 3, 0, 0))
    expect(() => m.check(batch(3, 1, 3, 1))).toThrow(OutOfOrderSequenceError)
    expect(produce(m, batch(0, 1, 3, 1))).toEqual({ kind: 'append' })
    expect(m.producer(7)).toMatchObject({ producerEpoch: 1, batches: [{ firstSeq: 0, lastSeq: 0, firstOffset: 3 }] })
  })

  it('wraps the sequence from Int32.MaxValue to 0', () => {
    const m = new ProducerStateManager(partitionDir())
    // Rebuilt state: the producer's last batch ended two below the maximum.
    m.update(batch(INT32_MAX - 4, 3, 0))
    expect(produce(m, batch(INT32_MAX - 1, 4, 3))).toEqual({ kind: 'append' })
    expect(m.producer(7)?.batches.at(-1)).toMatchObject({ firstSeq: INT32_MAX - 1, lastSeq: 1 })
    expect(m.check(batch(INT32_MAX - 1, 4, 99))).toEqual({ kind: 'duplicate', firstOffset: 3, lastOffset: 6 })
    expect(produce(m, batch(2, 1, 7))).toEqual({ kind: 'append' })
  })

  it('accepts sequence 0 right after a batch that ended at Int32.MaxValue', () => {
    const m = new ProducerStateManager(partitionDir())
    m.update(batch(INT32_MAX - 1, 2, 0))
    expect(() => m.check(batch(INT32_MAX + 1, 1, 2))).toThrow(OutOfOrderSequenceError)
    expect(produce(m, batch(0, 1, 2))).toEqual({ kind: 'append' })
  })

  it('keeps producers apart', () => {
    const m = new ProducerStateManager(partitionDir())
    produce(m, batch(0, 1, 0, 0, 1))
    expect(produce(m, batch(0, 1, 1, 0, 2))).toEqual({ kind: 'append' })
    expect(m.check(batch(0, 1, 0, 0, 2))).toEqual({ kind: 'duplicate', firstOffset: 1, lastOffset: 1 })
  })
})

describe('storage > ProducerStateManager > update', () => {
  it('never throws: the log is the source of truth on replay and follower appends', () => {
    const m = new ProducerStateManager(partitionDir())
    m.update(batch(10, 1, 0, 3))
    m.update(batch(50, 1, 1, 3)) // a gap
    m.update(batch(0, 1, 2, 1)) // an older epoch replaces the entry, as Kafka's addBatch
    expect(m.producer(7)).toMatchObject({ producerEpoch: 1, batches: [{ firstSeq: 0, firstOffset: 2 }] })
    expect(m.mapEndOffset).toBe(3)
  })
})

describe('storage > ProducerStateManager > rebuildFrom', () => {
  it('replays batch headers and skips those already covered by the state', () => {
    const m = new ProducerStateManager(partitionDir())
    m.update(batch(0, 2, 0))
    m.rebuildFrom([header(batch(0, 2, 0)), header(batch(2, 3, 2)), header({ ...batch(0, 1, 5), producerId: -1 }), header(batch(5, 1, 6))])
    expect(m.producer(7)?.batches.map((b) => b.firstOffset)).toEqual([0, 2, 6])
    expect(m.mapEndOffset).toBe(7)
    expect(m.check(batch(6, 1, 7))).toEqual({ kind: 'append' })
  })

  it('lets a control batch move the epoch without adding a batch', () => {
    const m = new ProducerStateManager(partitionDir())
    m.rebuildFrom([header(batch(0, 2, 0, 0)), header(batch(0, 1, 2, 1), CONTROL_FLAG_MASK)])
    expect(m.producer(7)).toMatchObject({ producerEpoch: 1, batches: [] })
    expect(m.mapEndOffset).toBe(3)
    expect(() => m.check(batch(2, 1, 3, 0))).toThrow(InvalidProducerEpochError)
  })
})

describe('storage > ProducerStateManager > snapshots', () => {
  it('restores the whole state, all retained batches included, from the latest snapshot', () => {
    const dir = partitionDir()
    const m = new ProducerStateManager(dir)
    for (let i = 0; i < 3; i++) produce(m, batch(i * 2, 2, i * 2, 0, 7, 5_000 + i))
    produce(m, batch(0, 1, 6, 2, 9, 123))
    m.takeSnapshot(7)
    expect(readdirSync(dir)).toEqual([snapshotFileName(7)])
    expect(snapshotFileName(7)).toBe('00000000000000000007.snapshot')

    const reopened = new ProducerStateManager(dir)
    expect(reopened.loadLatestSnapshot()).toBe(7)
    expect(reopened.mapEndOffset).toBe(7)
    expect(reopened.producers()).toEqual(m.producers())
    expect(reopened.check(batch(0, 2, 99))).toEqual({ kind: 'duplicate', firstOffset: 0, lastOffset: 1 })
    expect(reopened.check(batch(6, 1, 7))).toEqual({ kind: 'append' })
  })

  it('keeps only the newest two snapshots', () => {
    const dir = partitionDir()
    const m = new ProducerStateManager(dir)
    for (const offset of [10, 30, 20, 40]) m.takeSnapshot(offset)
    expect(m.snapshotOffsets()).toEqual([30, 40])
    expect(readdirSync(dir).sort()).toEqual([snapshotFileName(30), snapshotFileName(40)])
  })

  it('returns 0 and an empty state when there is no snapshot', () => {
    const m = new ProducerStateManager(partitionDir())
    m.update(batch(0, 1, 0))
    expect(m.loadLatestSnapshot()).toBe(0)
    expect(m.producers().size).toBe(0)
  })

  it.each([
    ['a flipped byte', (b: Buffer) => { b[b.length - 3]! ^= 0x40; return b }],
    ['a torn tail', (b: Buffer) => b.subarray(0, b.length - 5)],
    ['an unknown version', (b: Buffer) => { b.writeInt16BE(9, 0); return b }],
    ['nothing at all', () => Buffer.alloc(0)],
  ])('deletes a snapshot with %s and falls back to the older one', (_why, corrupt) => {
    const dir = partitionDir()
    const m = new ProducerStateManager(dir)
    produce(m, batch(0, 1, 0))
    m.takeSnapshot(1)
    produce(m, batch(1, 1, 1))
    m.takeSnapshot(2)
    const newest = join(dir, snapshotFileName(2))
    writeFileSync(newest, corrupt(readFileSync(newest)))

    const reopened = new ProducerStateManager(dir)
    expect(reopened.loadLatestSnapshot()).toBe(1)
    expect(existsSync(newest)).toBe(false)
    expect(reopened.producer(7)?.batches.map((b) => b.lastOffset)).toEqual([0])
  })

  it('falls back to a full replay (offset 0) when every snapshot is corrupt', () => {
    const dir = partitionDir()
    writeFileSync(join(dir, snapshotFileName(50)), 'not a snapshot')
    const m = new ProducerStateManager(dir)
    expect(m.loadLatestSnapshot()).toBe(0)
    expect(readdirSync(dir)).toEqual([])
  })

  it('ignores files that are not snapshots', () => {
    const dir = partitionDir()
    writeFileSync(join(dir, '00000000000000000000.log'), '')
    writeFileSync(join(dir, '12.snapshot'), '')
    expect(new ProducerStateManager(dir).loadLatestSnapshot()).toBe(0)
    expect(readdirSync(dir).sort()).toEqual(['00000000000000000000.log', '12.snapshot'])
  })

  it('truncateAndReload drops snapshots above the new log end and reloads the newest left', () => {
    const dir = partitionDir()
    const m = new ProducerStateManager(dir)
    produce(m, batch(0, 5, 0))
    m.takeSnapshot(5)
    produce(m, batch(5, 5, 5))
    m.takeSnapshot(10)
    expect(m.truncateAndReload(7)).toBe(5)
    expect(m.snapshotOffsets()).toEqual([5])
    expect(m.producer(7)?.batches.map((b) => b.lastOffset)).toEqual([4])
    expect(m.mapEndOffset).toBe(5)
  })
})

describe('storage > ProducerStateManager > removeExpired', () => {
  it('drops producers idle for producer.id.expiration.ms or more', () => {
    const m = new ProducerStateManager(partitionDir(), { producerIdExpirationMs: 1_000 })
    produce(m, batch(0, 1, 0, 0, 1, 10_000))
    produce(m, batch(0, 1, 1, 0, 2, 10_500))
    m.removeExpired(10_999)
    expect([...m.producers().keys()]).toEqual([1, 2])
    m.removeExpired(11_000)
    expect([...m.producers().keys()]).toEqual([2])
    expect(() => m.check(batch(1, 1, 2, 0, 1))).toThrow(UnknownProducerIdError)
  })

  it('defaults to Kafka\'s one day', () => {
    const m = new ProducerStateManager(partitionDir())
    produce(m, batch(0, 1, 0, 0, 7, 0))
    m.removeExpired(86_399_999)
    expect(m.producer(7)).toBeDefined()
    m.removeExpired(86_400_000)
    expect(m.producer(7)).toBeUndefined()
  })
})
