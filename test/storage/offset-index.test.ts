import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { FileHandleCache } from '../../src/storage/file-handle-cache.js'
import { OffsetIndex } from '../../src/storage/offset-index.js'
import { tempDir } from '../helpers/log-builder.js'

function newIndex(maxIndexSize = 1 << 20): { index: OffsetIndex; path: string; handles: FileHandleCache } {
  const handles = new FileHandleCache({ maxOpenFiles: 4 })
  const path = join(tempDir(), '00000000000000001000.index')
  return { index: OffsetIndex.create(path, 1000, maxIndexSize, handles), path, handles }
}

describe('storage > OffsetIndex', () => {
  it('writes Kafka\'s format: 8-byte big-endian (relative offset, position) entries, lazily and append-only', () => {
    const { index, path } = newIndex()
    index.append(1004, 0)
    index.append(1010, 300)
    expect(existsSync(path)).toBe(false) // still in memory
    index.flush()
    const bytes = readFileSync(path)
    expect(bytes.length).toBe(16)
    expect([bytes.readInt32BE(0), bytes.readInt32BE(4), bytes.readInt32BE(8), bytes.readInt32BE(12)]).toEqual([4, 0, 10, 300])
  })

  it('finds the greatest entry at or below the target, in memory and from the file alike', () => {
    const { index, path, handles } = newIndex()
    for (let i = 0; i < 1000; i++) index.append(1000 + i * 10 + 9, i * 500)
    const expectLookups = (idx: OffsetIndex): void => {
      expect(idx.lookup(999)).toEqual({ offset: 1000, position: 0 })
      expect(idx.lookup(1000)).toEqual({ offset: 1000, position: 0 })
      expect(idx.lookup(1009)).toEqual({ offset: 1009, position: 0 })
      expect(idx.lookup(1018)).toEqual({ offset: 1009, position: 0 })
      expect(idx.lookup(1019)).toEqual({ offset: 1019, position: 500 })
      expect(idx.lookup(5555)).toEqual({ offset: 5549, position: 227000 })
      expect(idx.lookup(1e12)).toEqual({ offset: 10999, position: 499500 })
    }
    expectLookups(index)
    index.seal()
    expect(index.isMutable).toBe(false)
    expectLookups(index)
    expectLookups(OffsetIndex.open(path, 1000, 1 << 20, handles))
  })

  it('truncates to an offset, in memory and on disk', () => {
    const { index, path, handles } = newIndex()
    for (let i = 1; i <= 600; i++) index.append(1000 + i * 2, i * 100)
    index.truncateTo(1100) // removes entries with offset >= 1100
    expect(index.lastEntry).toEqual({ offset: 1098, position: 4900 })
    expect(index.entries).toBe(49)
    index.flush()
    expect(readFileSync(path).length).toBe(49 * 8)
    index.append(1100, 5000)
    index.truncateTo(0)
    expect(index.entries).toBe(0)
    expect(index.lastEntry).toEqual({ offset: 1000, position: 0 })
    expect(OffsetIndex.open(path, 1000, 1 << 20, handles).entries).toBe(0)
  })

  it('is full at segment.index.bytes / 8 entries', () => {
    const { index } = newIndex(20)
    expect(index.maxEntries).toBe(2)
    index.append(1001, 10)
    expect(index.isFull).toBe(false)
    index.append(1002, 20)
    expect(index.isFull).toBe(true)
  })

  it('refuses entries that go backwards (a bug, reported with the values)', () => {
    const { index } = newIndex()
    index.append(1005, 100)
    expect(() => index.append(1005, 200)).toThrow(/1005/)
    expect(() => index.append(1006, 100)).toThrow(/does not follow/)
    expect(index.canAppendOffset(1000 + 2 ** 31)).toBe(false)
  })

  it('reports a corrupt file on open: torn entry, negative last entry', () => {
    const { index, path, handles } = newIndex()
    index.append(1001, 10)
    index.close()
    appendFileSync(path, Buffer.from([0, 0, 0]))
    expect(() => OffsetIndex.open(path, 1000, 1 << 20, handles)).toThrow(expect.objectContaining({ code: 'CORRUPT_MESSAGE' }))
    writeFileSync(path, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]))
    expect(() => OffsetIndex.open(path, 1000, 1 << 20, handles)).toThrow(/negative/)
  })

  it('validates every entry against the log on request', () => {
    const { index } = newIndex()
    index.append(1001, 10)
    index.append(1002, 20)
    expect(() => index.validateEntries(100)).not.toThrow()
    expect(() => index.validateEntries(15)).toThrow(/entry 1/)
  })
})
