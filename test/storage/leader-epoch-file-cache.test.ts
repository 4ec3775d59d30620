import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { KafkaStorageError } from '../../src/errors.js'
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochFileCache } from '../../src/storage/leader-epoch-file-cache.js'

function checkpointPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'shardlog-epochs-'))
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, LEADER_EPOCH_CHECKPOINT_FILE)
}

function cacheWith(entries: Array<[number, number]>): LeaderEpochFileCache {
  const cache = new LeaderEpochFileCache(checkpointPath())
  for (const [epoch, offset] of entries) cache.assign(epoch, offset)
  return cache
}

describe('storage > LeaderEpochFileCache > file', () => {
  it('starts empty and writes nothing when the file does not exist', () => {
    const file = checkpointPath()
    const cache = new LeaderEpochFileCache(file)
    expect(cache.entries()).toEqual([])
    expect(cache.latestEpoch()).toBeUndefined()
    expect(existsSync(file)).toBe(false)
  })

  it('writes Kafka\'s text format and leaves no temp file', () => {
    const file = checkpointPath()
    const cache = new LeaderEpochFileCache(file)
    cache.assign(0, 0)
    cache.assign(3, 1200)
    expect(readFileSync(file, 'latin1')).toBe('0\n2\n0 0\n3 1200\n')
    expect(existsSync(`${file}.tmp`)).toBe(false)
  })

  it('reloads what it wrote', () => {
    const file = checkpointPath()
    const cache = new LeaderEpochFileCache(file)
    cache.assign(1, 5)
    cache.assign(4, 90)
    expect(new LeaderEpochFileCache(file).entries()).toEqual([{ epoch: 1, startOffset: 5 }, { epoch: 4, startOffset: 90 }])
  })

  it('reads a file written by Kafka, with any whitespace between the fields', () => {
    const file = checkpointPath()
    writeFileSync(file, '0\n3\n0 0\n2   17\n5\t300\n')
    expect(new LeaderEpochFileCache(file).entries().map((e) => e.epoch)).toEqual([0, 2, 5])
  })

  it('treats an empty file as an empty cache, as Kafka creates it empty', () => {
    const file = checkpointPath()
    writeFileSync(file, '')
    expect(new LeaderEpochFileCache(file).entries()).toEqual([])
  })

  it.each([
    ['an unknown version', '1\n1\n0 0\n'],
    ['a non-numeric count', '0\nx\n0 0\n'],
    ['fewer entries than the count (torn write)', '0\n3\n0 0\n1 10\n'],
    ['more entries than the count', '0\n1\n0 0\n1 10\n'],
    ['a line with three fields', '0\n1\n0 0 7\n'],
    ['a negative offset', '0\n1\n0 -5\n'],
    ['binary garbage', '\u0000\u0001\u00ff'],
  ])('refuses to open a checkpoint with %s (KAFKA_STORAGE_ERROR, as Kafka)', (_why, text) => {
    const file = checkpointPath()
    writeFileSync(file, text, 'latin1')
    expect(() => new LeaderEpochFileCache(file)).toThrow(KafkaStorageError)
    try {
      new LeaderEpochFileCache(file)
    } catch (err) {
      expect((err as KafkaStorageError).code).toBe('KAFKA_STORAGE_ERROR')
      expect((err as Error).message).toContain(file)
    }
  })

  it('repairs a non-monotonic file the way assign would', () => {
    const file = checkpointPath()
    writeFileSync(file, '0\n3\n0 0\n5 100\n3 50\n')
    expect(new LeaderEpochFileCache(file).entries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 50 }])
  })

  it('flush re-creates a deleted file', () => {
    const file = checkpointPath()
    const cache = new LeaderEpochFileCache(file)
    cache.assign(2, 7)
    rmSync(file)
    cache.flush()
    expect(readFileSync(file, 'latin1')).toBe('0\n1\n2 7\n')
  })
})

describe('storage > LeaderEpochFileCache > assign', () => {
  it('ignores the same epoch at the same or a later offset (every leader append)', () => {
    const file = checkpointPath()
    const cache = new LeaderEpochFileCache(file)
    cache.assign(2, 10)
    rmSync(file)
    cache.assign(2, 10)
    cache.assign(2, 50)
    expect(cache.entries()).toEqual([{ epoch: 2, startOffset: 10 }])
    expect(existsSync(file)).toBe(false) // no-ops do not rewrite the file
  })

  it('moves the latest epoch back when it is assigned an earlier start', () => {
    expect(cacheWith([[1, 0], [2, 10], [2, 8]]).entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 8 }])
  })

  it('drops later entries when an older epoch is assigned (log rewritten after divergence)', () => {
    expect(cacheWith([[1, 0], [2, 10], [4, 20], [3, 30]]).entries()).toEqual([
      { epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 10 }, { epoch: 3, startOffset: 30 },
    ])
  })

  it('drops entries that start at or after a new epoch\'s start', () => {
    expect(cacheWith([[1, 0], [2, 10], [3, 10]]).entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }])
  })

  it.each([[-1, 0], [0, -1], [1.5, 0], [0, Number.NaN]])('rejects epoch %s at offset %s', (epoch, offset) => {
    const cache = new LeaderEpochFileCache(checkpointPath())
    expect(() => cache.assign(epoch, offset)).toThrow(RangeError)
  })
})

describe('storage > LeaderEpochFileCache > endOffsetFor', () => {
  const history: Array<[number, number]> = [[1, 0], [3, 100], [6, 250]]

  it('answers the log end offset for the latest epoch', () => {
    expect(cacheWith(history).endOffsetFor(6, 400)).toEqual({ epoch: 6, endOffset: 400 })
  })

  it('answers the start of the next epoch for a known older epoch', () => {
    expect(cacheWith(history).endOffsetFor(3, 400)).toEqual({ epoch: 3, endOffset: 250 })
    expect(cacheWith(history).endOffsetFor(1, 400)).toEqual({ epoch: 1, endOffset: 100 })
  })

  it('answers the largest epoch below an unknown one, ending where the next starts', () => {
    expect(cacheWith(history).endOffsetFor(4, 400)).toEqual({ epoch: 3, endOffset: 250 })
    expect(cacheWith(history).endOffsetFor(2, 400)).toEqual({ epoch: 1, endOffset: 100 })
  })

  it('answers the first start offset for an epoch older than the whole history', () => {
    expect(cacheWith([[3, 100], [6, 250]]).endOffsetFor(1, 400)).toEqual({ epoch: 1, endOffset: 100 })
  })

  it('answers -1/-1 for an epoch above the latest, for -1 and for an empty cache', () => {
    expect(cacheWith(history).endOffsetFor(7, 400)).toEqual({ epoch: -1, endOffset: -1 })
    expect(cacheWith(history).endOffsetFor(-1, 400)).toEqual({ epoch: -1, endOffset: -1 })
    expect(cacheWith([]).endOffsetFor(0, 400)).toEqual({ epoch: -1, endOffset: -1 })
  })
})

describe('storage > LeaderEpochFileCache > truncation', () => {
  it('truncateFromEnd removes entries starting at or after the new log end and persists it', () => {
    const cache = cacheWith([[1, 0], [3, 100], [6, 250]])
    cache.truncateFromEnd(250)
    expect(cache.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 100 }])
    expect(new LeaderEpochFileCache(cache.file).entries()).toEqual(cache.entries())
    cache.truncateFromEnd(101)
    expect(cache.latestEpoch()).toBe(3)
    cache.truncateFromEnd(0)
    expect(cache.entries()).toEqual([])
  })

  it('truncateFromStart keeps the epoch that owns the new first offset, moved up to it', () => {
    const cache = cacheWith([[1, 0], [3, 100], [6, 250]])
    cache.truncateFromStart(120)
    expect(cache.entries()).toEqual([{ epoch: 3, startOffset: 120 }, { epoch: 6, startOffset: 250 }])
    expect(new LeaderEpochFileCache(cache.file).entries()).toEqual(cache.entries())
  })

  it('truncateFromStart at an exact epoch start removes only older epochs', () => {
    const cache = cacheWith([[1, 0], [3, 100], [6, 250]])
    cache.truncateFromStart(250)
    expect(cache.entries()).toEqual([{ epoch: 6, startOffset: 250 }])
  })

  it('truncateFromStart below every entry changes nothing', () => {
    const cache = cacheWith([[3, 100]])
    cache.truncateFromStart(50)
    expect(cache.entries()).toEqual([{ epoch: 3, startOffset: 100 }])
  })
})

describe('storage > LeaderEpochFileCache > epochForOffset', () => {
  it('returns the epoch that wrote an offset', () => {
    const cache = cacheWith([[1, 10], [3, 100], [6, 250]])
    expect(cache.epochForOffset(5)).toBeUndefined()
    expect(cache.epochForOffset(10)).toBe(1)
    expect(cache.epochForOffset(99)).toBe(1)
    expect(cache.epochForOffset(100)).toBe(3)
    expect(cache.epochForOffset(10_000)).toBe(6)
  })
})
