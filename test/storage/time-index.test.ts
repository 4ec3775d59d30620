import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileHandleCache } from '../../src/storage/file-handle-cache.js'
import { TimeIndex } from '../../src/storage/time-index.js'
import { tempDir } from '../helpers/log-builder.js'

function newIndex(maxIndexSize = 1 << 20): { index: TimeIndex; path: string; handles: FileHandleCache } {
  const handles = new FileHandleCache({ maxOpenFiles: 4 })
  const path = join(tempDir(), '00000000000000000100.timeindex')
  return { index: TimeIndex.create(path, 100, maxIndexSize, handles), path, handles }
}

describe('storage > TimeIndex', () => {
  it('writes Kafka\'s format: 12-byte big-endian (int64 timestamp, int32 relative offset) entries', () => {
    const { index, path } = newIndex()
    index.maybeAppend(1_700_000_000_000, 105)
    index.flush()
    const bytes = readFileSync(path)
    expect(bytes.length).toBe(12)
    expect(bytes.readBigInt64BE(0)).toBe(1_700_000_000_000n)
    expect(bytes.readInt32BE(8)).toBe(5)
  })

  it('appends only when the timestamp grows (Kafka\'s maybeAppend)', () => {
    const { index } = newIndex()
    index.maybeAppend(1000, 110)
    index.maybeAppend(1000, 120)
    index.maybeAppend(900, 130)
    index.maybeAppend(-1, 140)
    index.maybeAppend(1500, 150)
    expect(index.entries).toBe(2)
    expect(index.lastEntry).toEqual({ timestamp: 1500, offset: 150 })
  })

  it('finds the greatest entry whose timestamp is at or below the target, in memory and from the file', () => {
    const { index, path, handles } = newIndex()
    for (let i = 0; i < 500; i++) index.maybeAppend(10_000 + i * 100, 100 + i * 3)
    const check = (idx: TimeIndex): void => {
      expect(idx.lookup(9_999)).toEqual({ timestamp: -1, offset: 100 })
      expect(idx.lookup(10_000)).toEqual({ timestamp: 10_000, offset: 100 })
      expect(idx.lookup(10_250)).toEqual({ timestamp: 10_200, offset: 106 })
      expect(idx.lookup(1e15)).toEqual({ timestamp: 59_900, offset: 1597 })
    }
    check(index)
    index.seal()
    check(index)
    check(TimeIndex.open(path, 100, 1 << 20, handles))
  })

  it('truncates by offset and keeps its last entry right', () => {
    const { index } = newIndex()
    for (let i = 0; i < 10; i++) index.maybeAppend(1000 + i, 100 + i * 10)
    index.truncateTo(150)
    expect(index.lastEntry).toEqual({ timestamp: 1004, offset: 140 })
    index.maybeAppend(1003, 150) // not greater than the last timestamp any more
    expect(index.entries).toBe(5)
  })

  it('takes a final entry into a full index when forced (the segment is being sealed)', () => {
    const { index } = newIndex(24)
    index.maybeAppend(1, 100)
    index.maybeAppend(2, 101)
    index.maybeAppend(3, 102)
    expect(index.entries).toBe(2)
    index.maybeAppend(3, 102, true)
    expect(index.entries).toBe(3)
  })
})
