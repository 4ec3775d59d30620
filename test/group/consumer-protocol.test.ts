import fc from 'fast-check'
import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import {
  decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type ConsumerProtocolSubscription,
} from '../../src/group/consumer-protocol.js'
import { InvalidRequestError } from '../../src/errors.js'

const { AssignerProtocol } = kafkajs

describe('group > consumer-protocol > kafkajs compatibility', () => {
  it('encodes a v0 subscription byte for byte as kafkajs MemberMetadata', () => {
    const topics = ['orders', 'payments', 'ünïcode-topic']
    for (const userData of [Buffer.alloc(0), Buffer.from('sticky-state')]) {
      const theirs = AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData })
      expect(encodeSubscription({ topics, userData }, 0)).toEqual(theirs)
      expect(decodeSubscription(theirs)).toEqual({ version: 0, topics, userData, ownedPartitions: [], generationId: -1, rackId: null })
    }
  })

  it('encodes an assignment byte for byte as kafkajs MemberAssignment, for every version', () => {
    const assignment = { orders: [0, 2, 4], payments: [1] }
    for (const version of [0, 1, 2, 3]) {
      const theirs = AssignerProtocol.MemberAssignment.encode({ version, assignment, userData: Buffer.from([1, 2]) })
      const ours = encodeAssignment({ assignedPartitions: [{ topic: 'orders', partitions: [0, 2, 4] }, { topic: 'payments', partitions: [1] }], userData: Buffer.from([1, 2]) }, version)
      expect(ours).toEqual(theirs)
      expect(AssignerProtocol.MemberAssignment.decode(ours)).toEqual({ version, assignment, userData: Buffer.from([1, 2]) })
    }
  })

  it('decodes what kafkajs decodes from our v3 subscription (the fields it knows)', () => {
    const bytes = encodeSubscription({ topics: ['a', 'b'], userData: Buffer.from('u'), ownedPartitions: [{ topic: 'a', partitions: [1] }], generationId: 4, rackId: 'r' })
    expect(AssignerProtocol.MemberMetadata.decode(bytes)).toEqual({ version: 3, topics: ['a', 'b'], userData: Buffer.from('u') })
  })
})

describe('group > consumer-protocol > layout', () => {
  it('writes ConsumerProtocolSubscription v3 as Kafka does', () => {
    const bytes = encodeSubscription({ topics: ['t'], userData: null, ownedPartitions: [{ topic: 't', partitions: [0, 2] }], generationId: 5, rackId: 'r1' })
    expect(bytes.toString('hex')).toBe([
      '0003', // version
      '00000001', '0001', '74', // topics ["t"]
      'ffffffff', // userData null
      '00000001', '0001', '74', '00000002', '00000000', '00000002', // ownedPartitions [{t, [0, 2]}]
      '00000005', // generationId
      '0002', '7231', // rackId "r1"
    ].join(''))
  })

  it('writes only the fields of the requested version', () => {
    const s = { topics: ['t'], userData: null, ownedPartitions: [{ topic: 't', partitions: [3] }], generationId: 9, rackId: 'r' }
    const decoded = [0, 1, 2, 3].map((v) => decodeSubscription(encodeSubscription(s, v)))
    expect(decoded.map((d) => [d.version, d.ownedPartitions.length, d.generationId, d.rackId])).toEqual([
      [0, 0, -1, null], [1, 1, -1, null], [2, 1, 9, null], [3, 1, 9, 'r'],
    ])
  })

  it('reads a newer version with the v3 layout and ignores trailing fields', () => {
    const v3 = encodeSubscription({ topics: ['x'], generationId: 2, rackId: 'rack' })
    const v7 = Buffer.concat([Buffer.from([0, 7]), v3.subarray(2), Buffer.from([9, 9, 9])])
    expect(decodeSubscription(v7)).toMatchObject({ version: 7, topics: ['x'], generationId: 2, rackId: 'rack' })
  })

  it('gives a v1+ subscription that stops after userData the defaults of the missing fields', () => {
    const truncated = Buffer.concat([Buffer.from([0, 2]), encodeSubscription({ topics: ['x'] }, 0).subarray(2)])
    expect(decodeSubscription(truncated)).toEqual({ version: 2, topics: ['x'], userData: null, ownedPartitions: [], generationId: -1, rackId: null })
  })

  it('decodes an empty assignment (a member the leader left out) as no partitions', () => {
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ version: 0, assignedPartitions: [], userData: null })
  })

  it('rejects malformed bytes with INVALID_REQUEST', () => {
    const good = encodeSubscription({ topics: ['orders'] })
    for (const bad of [Buffer.alloc(1), Buffer.from([0xff, 0xff, 0, 0, 0, 0]), good.subarray(0, 8), Buffer.from([0, 0, 0x7f, 0xff, 0xff, 0xff])]) {
      expect(() => decodeSubscription(bad)).toThrow(InvalidRequestError)
    }
    expect(() => decodeAssignment(Buffer.from([0, 0, 0, 0, 0, 5, 0]))).toThrow(InvalidRequestError)
    expect(() => encodeSubscription({ topics: [] }, 4)).toThrow(InvalidRequestError)
    expect(() => encodeSubscription({ topics: ['x'.repeat(40_000)] })).toThrow(/32767/)
  })

  it('round-trips any subscription and assignment', () => {
    const tps = fc.array(fc.record({ topic: fc.string({ maxLength: 20 }), partitions: fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 5 }) }), { maxLength: 4 })
    const bytes = fc.option(fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)), { nil: null })
    fc.assert(fc.property(
      fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }), bytes, tps, fc.integer({ min: -1, max: 2 ** 31 - 1 }), fc.option(fc.string({ maxLength: 10 }), { nil: null }),
      (topics, userData, ownedPartitions, generationId, rackId) => {
        const s: ConsumerProtocolSubscription = { version: 3, topics, userData, ownedPartitions, generationId, rackId }
        expect(decodeSubscription(encodeSubscription(s))).toEqual(s)
        expect(decodeAssignment(encodeAssignment({ assignedPartitions: ownedPartitions, userData }))).toEqual({ version: 3, assignedPartitions: ownedPartitions, userData })
      },
    ))
  })

  it('never throws anything but INVALID_REQUEST on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (raw) => {
      for (const decode of [decodeSubscription, decodeAssignment]) {
        try {
          decode(Buffer.from(raw))
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidRequestError)
        }
      }
    }))
  })
})
