import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { isPartitionKeyOf, parsePartitionKey, partitionKey } from '../src/topic-partition.js'

const topicName = fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/)

describe('topic-partition > partition keys', () => {
  it('gives every (topic, partition) its own key and reads it back (property)', () => {
    fc.assert(fc.property(topicName, fc.nat(100_000), topicName, fc.nat(100_000), (t1, p1, t2, p2) => {
      expect(partitionKey(t1, p1) === partitionKey(t2, p2)).toBe(t1 === t2 && p1 === p2)
      expect(parsePartitionKey(partitionKey(t1, p1))).toEqual({ topic: t1, partition: p1 })
    }))
  })

  it('tells the keys of a topic from those of a topic whose name it begins', () => {
    expect(isPartitionKeyOf(partitionKey('orders', 3), 'orders')).toBe(true)
    expect(isPartitionKeyOf(partitionKey('orders-eu', 3), 'orders')).toBe(false)
    expect(isPartitionKeyOf(partitionKey('order', 3), 'orders')).toBe(false)
    expect(isPartitionKeyOf('orders', 'orders')).toBe(false)
  })

  it('reads no partition out of a plain topic name', () => {
    expect(parsePartitionKey('orders')).toBeUndefined()
    expect(parsePartitionKey('orders\u0000x')).toBeUndefined()
  })
})
