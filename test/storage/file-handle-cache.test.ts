import { readdirSync, readSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { DEFAULT_MAX_OPEN_FILES, FileHandleCache } from '../../src/storage/file-handle-cache.js'
import { tempDir } from '../helpers/log-builder.js'

function files(n: number): string[] {
  const dir = tempDir()
  return Array.from({ length: n }, (_, i) => {
    const path = join(dir, `f${i}`)
    writeFileSync(path, `content ${i}`)
    return path
  })
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

describe('storage > FileHandleCache', () => {
  it('defaults to 1000 descriptors and refuses a bound below 2', () => {
    expect(new FileHandleCache().maxOpenFiles).toBe(DEFAULT_MAX_OPEN_FILES)
    expect(DEFAULT_MAX_OPEN_FILES).toBe(1000)
    expect(() => new FileHandleCache({ maxOpenFiles: 1 })).toThrow(RangeError)
  })

  it('never holds more than maxOpenFiles descriptors, closing the least recently used', () => {
    const paths = files(10)
    const cache = new FileHandleCache({ maxOpenFiles: 3 })
    const before = openFds()
    for (const p of paths) cache.fd(p)
    expect(cache.openCount).toBe(3)
    expect(openFds() - before).toBe(3)
    expect(cache.stats).toEqual({ opens: 10, evictions: 7 })
    // f7 is the least recently used of f7..f9; touching it makes f8 the next to go.
    cache.fd(paths[7]!)
    cache.fd(paths[0]!)
    expect(cache.stats.opens).toBe(11)
    cache.fd(paths[7]!)
    cache.fd(paths[9]!)
    expect(cache.stats.opens).toBe(11)
    cache.fd(paths[8]!)
    expect(cache.stats.opens).toBe(12)
    cache.closeAll()
    expect(openFds()).toBe(before)
  })

  it('evicts in exact least-recently-used order under any mix of reads and closes (property)', () => {
    const paths = files(6)
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 4 }),
      fc.array(fc.tuple(fc.boolean(), fc.nat(5)), { maxLength: 60 }),
      (max, ops) => {
        const cache = new FileHandleCache({ maxOpenFiles: max })
        const model: number[] = [] // open files, least recently used first
        let opens = 0
        try {
          for (const [isClose, i] of ops) {
            const at = model.indexOf(i)
            if (isClose) {
              cache.close(paths[i]!)
              if (at >= 0) model.splice(at, 1)
              continue
            }
            const fd = cache.fd(paths[i]!)
            const buf = Buffer.alloc(9)
            readSync(fd, buf, 0, 9, 0)
            expect(buf.toString()).toBe(`content ${i}`)
            if (at >= 0) model.splice(at, 1)
            else {
              opens++
              if (model.length >= max) model.shift()
            }
            model.push(i)
            expect(cache.stats.opens).toBe(opens)
            expect(cache.openCount).toBe(model.length)
          }
        } finally {
          cache.closeAll()
        }
      },
    ))
  })

  it('hands out working descriptors for the file asked for', () => {
    const paths = files(4)
    const cache = new FileHandleCache({ maxOpenFiles: 2 })
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < paths.length; i++) {
        const buf = Buffer.alloc(9)
        readSync(cache.fd(paths[i]!), buf, 0, 9, 0)
        expect(buf.toString()).toBe(`content ${i}`)
      }
    }
    cache.closeAll()
  })

  it('creates files on request, and closes one path or a whole directory', () => {
    const dir = tempDir()
    const cache = new FileHandleCache({ maxOpenFiles: 10 })
    cache.fdCreate(join(dir, 'x'))
    cache.fdCreate(join(dir, 'y'))
    expect(readdirSync(dir).sort()).toEqual(['x', 'y'])
    expect(() => cache.fd(join(dir, 'missing'))).toThrow(/ENOENT/)
    cache.close(join(dir, 'y'))
    expect(cache.openCount).toBe(1)
    cache.closeUnder(dir)
    expect(cache.openCount).toBe(0)
  })
})
