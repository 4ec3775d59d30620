import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { RequestTable } from '../../src/shard/request-table.js'

describe('shard > RequestTable', () => {
  it('hands out consecutive ids and gives each call back once', () => {
    const table = new RequestTable<string>()
    const a = table.add('a')
    const b = table.add('b')
    expect([a, b]).toEqual([1, 2])
    expect(table.size).toBe(2)
    expect(table.take(b)).toBe('b')
    expect(table.take(b)).toBeUndefined()
    expect(table.take(a)).toBe('a')
    expect(table.size).toBe(0)
  })

  it('answers undefined for an id it never handed out, even one that shares a slot with a live call', () => {
    const table = new RequestTable<string>()
    const id = table.add('live')
    expect(table.has(id + 64)).toBe(false)
    expect(table.take(id + 64)).toBeUndefined() // same slot in the initial 64-slot array
    expect(table.take(0)).toBeUndefined()
    expect(table.has(id)).toBe(true)
    expect(table.take(id)).toBe('live')
    expect(table.has(id)).toBe(false)
  })

  it('skips ids whose slot is still taken, so a call in flight keeps its id', () => {
    const table = new RequestTable<number>()
    const parked = table.add(-1) // id 1 stays in flight, like a long-polling fetch
    for (let i = 0; i < 1000; i++) {
      const id = table.add(i)
      expect(id).not.toBe(parked)
      expect(table.take(id)).toBe(i)
    }
    expect(table.take(parked)).toBe(-1)
  })

  it('finds a stored value by a test, and nothing once it was taken', () => {
    const table = new RequestTable<{ token: number }>()
    const ids = [5, 9, 13].map((token) => table.add({ token }))
    expect(table.find((v) => v.token === 9)).toEqual({ token: 9 })
    table.take(ids[1]!)
    expect(table.find((v) => v.token === 9)).toBeUndefined()
    expect(table.find((v) => v.token > 10)).toEqual({ token: 13 })
  })

  it('wraps after 2^32 - 1 without handing out 0', () => {
    const table = new RequestTable<string>(0xffff_fffe)
    expect(table.add('a')).toBe(0xffff_ffff)
    expect(table.add('b')).toBe(1)
    expect(table.take(0xffff_ffff)).toBe('a')
    expect(table.take(1)).toBe('b')
  })

  it('grows past its first array and keeps every call, then drains them all', () => {
    const table = new RequestTable<number>()
    const ids = Array.from({ length: 1000 }, (_, i) => table.add(i))
    expect(new Set(ids).size).toBe(1000)
    expect(table.size).toBe(1000)
    expect(table.take(ids[500]!)).toBe(500)
    expect(table.drain().sort((x, y) => x - y)).toEqual([...Array(1000).keys()].filter((i) => i !== 500))
    expect(table.size).toBe(0)
    expect(table.take(ids[0]!)).toBeUndefined()
  })

  it('behaves as a map from the ids it hands out (property)', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(fc.constant('add' as const), fc.nat(200)), { maxLength: 400 }),
      fc.integer({ min: 0, max: 0xffff_ffff }),
      (ops, start) => {
        const table = new RequestTable<number>(start)
        const model = new Map<number, number>()
        const live: number[] = []
        let n = 0
        for (const op of ops) {
          if (op === 'add') {
            const id = table.add(n)
            expect(id).not.toBe(0)
            expect(model.has(id)).toBe(false)
            model.set(id, n++)
            live.push(id)
          } else if (live.length > 0) {
            const id = live.splice(op % live.length, 1)[0]!
            expect(table.has(id)).toBe(true)
            expect(table.take(id)).toBe(model.get(id))
            expect(table.has(id)).toBe(false)
            model.delete(id)
          }
          expect(table.size).toBe(model.size)
        }
        expect(table.drain().sort((x, y) => x - y)).toEqual([...model.values()].sort((x, y) => x - y))
      },
    ))
  })
})
