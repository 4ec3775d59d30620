import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TailWindow, TailWindowPool } from '../../src/storage/tail-window.js'

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill)

describe('storage > TailWindow', () => {
  it('serves the last bytes appended, and nothing it does not hold whole', () => {
    const w = new TailWindow(100, 64)
    w.appended(bytes(10, 1), 0, 10, 100)
    w.appended(bytes(10, 2), 0, 10, 110)
    const out = Buffer.alloc(20)
    expect(w.read(out, 0, 20, 100)).toBe(true)
    expect(out).toEqual(Buffer.concat([bytes(10, 1), bytes(10, 2)]))
    expect(w.read(out, 0, 5, 95)).toBe(false) // starts before the window
    expect(w.read(out, 0, 11, 110)).toBe(false) // runs past the end
  })

  it('keeps the newest half when full, and restarts empty after a write too large to keep', () => {
    const w = new TailWindow(0, 64)
    for (let i = 0; i < 7; i++) w.appended(bytes(10, i), 0, 10, i * 10)
    expect(w.start + w.length).toBe(70)
    expect(w.length).toBeLessThanOrEqual(64)
    const out = Buffer.alloc(10)
    expect(w.read(out, 0, 10, 60)).toBe(true)
    expect(out).toEqual(bytes(10, 6))
    w.appended(bytes(40, 9), 0, 40, 70)
    expect(w.length).toBe(0)
    expect(w.read(out, 0, 10, 60)).toBe(false)
    w.appended(bytes(4, 8), 0, 4, 110)
    expect(w.read(out, 0, 4, 110)).toBe(true)
  })

  it('follows a truncation, and empties on a write that is not at its end', () => {
    const w = new TailWindow(0, 64)
    w.appended(bytes(20, 1), 0, 20, 0)
    w.truncated(12)
    const out = Buffer.alloc(10)
    expect(w.read(out, 0, 10, 2)).toBe(true)
    expect(w.read(out, 0, 10, 5)).toBe(false)
    w.appended(bytes(8, 3), 0, 8, 30) // not at 12: a hole the window cannot fill
    expect(w.read(out, 0, 4, 30)).toBe(false)
  })

  it('always answers what the file holds (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(
        fc.record({ append: fc.integer({ min: 1, max: 50 }) }),
        fc.record({ cut: fc.nat(300) }),
        fc.record({ release: fc.constant(true) }),
        fc.record({ read: fc.nat(400), length: fc.integer({ min: 1, max: 40 }) }),
      ), { maxLength: 200 }),
      (ops) => {
        let file = Buffer.alloc(0)
        const w = new TailWindow(0, 128)
        let fillByte = 0
        for (const op of ops) {
          if ('append' in op) {
            const src = Buffer.alloc(op.append + 4, ++fillByte % 256)
            w.appended(src, 2, 2 + op.append, file.length)
            file = Buffer.concat([file, src.subarray(2, 2 + op.append)])
          } else if ('cut' in op) {
            const size = Math.min(op.cut, file.length)
            file = file.subarray(0, size)
            w.truncated(size)
          } else if ('release' in op) {
            w.release()
          } else {
            const out = Buffer.alloc(op.length)
            if (w.read(out, 0, op.length, op.read)) expect(out).toEqual(file.subarray(op.read, op.read + op.length))
          }
          expect(w.start + w.length).toBeLessThanOrEqual(file.length)
        }
      },
    ))
  })

  it('keeps at most the pool\'s windows: the least recently appended gives up its copy first', () => {
    const pool = new TailWindowPool(2)
    const [a, b, c] = [0, 1, 2].map(() => new TailWindow(0, 64, pool))
    const out = Buffer.alloc(4)
    a!.appended(bytes(4, 1), 0, 4, 0)
    b!.appended(bytes(4, 2), 0, 4, 0)
    a!.appended(bytes(4, 3), 0, 4, 4) // a is the newest now
    c!.appended(bytes(4, 4), 0, 4, 0) // evicts b, the least recently appended
    expect(pool.size).toBe(2)
    expect(b!.read(out, 0, 4, 0)).toBe(false)
    expect(a!.read(out, 0, 4, 4)).toBe(true)
    expect(out).toEqual(bytes(4, 3))
    expect(c!.read(out, 0, 4, 0)).toBe(true)
    expect(out).toEqual(bytes(4, 4))
    // b appended again takes a window back (from a, now the oldest), and its reads resume after the gap.
    b!.appended(bytes(4, 5), 0, 4, 4)
    expect(a!.read(out, 0, 4, 4)).toBe(false)
    expect(b!.read(out, 0, 4, 4)).toBe(true)
    expect(b!.read(out, 0, 4, 0)).toBe(false)
    c!.release()
    expect(pool.size).toBe(1)
    expect(pool.oldest).toBe(b)
    expect(pool.newest).toBe(b)
  })
})
