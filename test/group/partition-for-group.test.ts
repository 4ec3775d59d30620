import { describe, expect, it } from 'vitest'
import { javaStringHashCode, kafkaAbs, partitionForGroup } from '../../src/group/partition-for-group.js'
import { InvalidConfigError } from '../../src/errors.js'

describe('group > partitionForGroup', () => {
  it('hashes like Java\'s String.hashCode, over UTF-16 code units', () => {
    expect(javaStringHashCode('')).toBe(0)
    expect(javaStringHashCode('hello')).toBe(99162322)
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'))
    expect(javaStringHashCode('é')).toBe(233)
    expect(javaStringHashCode('\u{1F600}')).toBe(0xd83d * 31 + 0xde00)
    // Overflows to Integer.MIN_VALUE, a well-known Java case.
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648)
  })

  it('uses Kafka\'s Utils.abs, which maps Integer.MIN_VALUE to 0', () => {
    expect(kafkaAbs(-2147483648)).toBe(0)
    expect(kafkaAbs(-5)).toBe(5)
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0)
  })

  it('places groups on offsets.topic.num.partitions partitions (default 50)', () => {
    expect(partitionForGroup('hello')).toBe(99162322 % 50)
    expect(partitionForGroup('hello', 7)).toBe(99162322 % 7)
    for (const g of ['a', 'consumer-group-1', 'x'.repeat(300)]) {
      const p = partitionForGroup(g)
      expect(p).toBeGreaterThanOrEqual(0)
      expect(p).toBeLessThan(50)
    }
  })

  it('rejects a partition count below 1', () => {
    expect(() => partitionForGroup('g', 0)).toThrow(InvalidConfigError)
    expect(() => partitionForGroup('g', 1.5)).toThrow(InvalidConfigError)
  })
})
