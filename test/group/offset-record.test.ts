import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsRecordKey, encodeGroupMetadataKey,
  encodeGroupMetadataValue, encodeOffsetCommitKey, encodeOffsetCommitValue, type GroupMetadataValue,
} from '../../src/group/offset-record.js'
import { CorruptRecordError } from '../../src/errors.js'

const hex = (...parts: string[]): Buffer => Buffer.from(parts.join(''), 'hex')

describe('group > offset-record > keys', () => {
  it('writes OffsetCommitKey as key version 1: group, topic, partition', () => {
    expect(encodeOffsetCommitKey('g', 't', 1)).toEqual(hex('0001', '0001', '67', '0001', '74', '00000001'))
    expect(decodeOffsetsRecordKey(hex('0000', '0001', '67', '0001', '74', '00000009'))).toEqual({ type: 'offsetCommit', group: 'g', topic: 't', partition: 9 })
  })

  it('writes GroupMetadataKey as key version 2: group', () => {
    expect(encodeGroupMetadataKey('g')).toEqual(hex('0002', '0001', '67'))
    expect(decodeOffsetsRecordKey(encodeGroupMetadataKey('grüppe'))).toEqual({ type: 'groupMetadata', group: 'grüppe' })
  })

  it('reports record types of newer coordinators as unknown and rejects garbage', () => {
    expect(decodeOffsetsRecordKey(hex('0003', '0001', '67'))).toEqual({ type: 'unknown', version: 3 })
    expect(() => decodeOffsetsRecordKey(hex('ffff'))).toThrow(CorruptRecordError)
    expect(() => decodeOffsetsRecordKey(hex('0001', '0005', '67'))).toThrow(CorruptRecordError)
    expect(() => decodeOffsetsRecordKey(Buffer.alloc(0))).toThrow(CorruptRecordError)
  })
})

describe('group > offset-record > OffsetCommitValue', () => {
  it('writes version 3: offset, leaderEpoch, metadata, commitTimestamp', () => {
    const value = { offset: 5, leaderEpoch: 2, metadata: 'md', commitTimestamp: 1000, expireTimestamp: null }
    const bytes = encodeOffsetCommitValue(value)
    expect(bytes).toEqual(hex('0003', '0000000000000005', '00000002', '0002', '6d64', '00000000000003e8'))
    expect(decodeOffsetCommitValue(bytes)).toEqual(value)
  })

  it('writes version 1 when the commit carries an expire timestamp', () => {
    const value = { offset: 5, leaderEpoch: -1, metadata: 'md', commitTimestamp: 1000, expireTimestamp: 2000 }
    const bytes = encodeOffsetCommitValue(value)
    expect(bytes).toEqual(hex('0001', '0000000000000005', '0002', '6d64', '00000000000003e8', '00000000000007d0'))
    expect(decodeOffsetCommitValue(bytes)).toEqual(value)
  })

  it('reads versions 0, 2 and the flexible version 4', () => {
    const expected = { offset: 5, leaderEpoch: -1, metadata: 'md', commitTimestamp: 1000, expireTimestamp: null }
    expect(decodeOffsetCommitValue(hex('0000', '0000000000000005', '0002', '6d64', '00000000000003e8'))).toEqual(expected)
    expect(decodeOffsetCommitValue(hex('0002', '0000000000000005', '0002', '6d64', '00000000000003e8'))).toEqual(expected)
    // v4: compact string (length + 1 as a varint) and an (empty) tagged-field section.
    expect(decodeOffsetCommitValue(hex('0004', '0000000000000005', '00000003', '03', '6d64', '00000000000003e8', '00')))
      .toEqual({ ...expected, leaderEpoch: 3 })
    // v4 with a tagged field (tag 0: topic id) that shardlog skips.
    expect(decodeOffsetCommitValue(hex('0004', '0000000000000005', '00000003', '03', '6d64', '00000000000003e8', '01', '00', '10', '00'.repeat(16))).offset).toBe(5)
  })

  it('round-trips large offsets and timestamps', () => {
    fc.assert(fc.property(fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: -1, max: 2 ** 31 - 1 }), fc.string({ maxLength: 50 }), fc.integer({ min: 0, max: 2 ** 50 }),
      (offset, leaderEpoch, metadata, commitTimestamp) => {
        const v = { offset, leaderEpoch, metadata, commitTimestamp, expireTimestamp: null }
        expect(decodeOffsetCommitValue(encodeOffsetCommitValue(v))).toEqual(v)
      }))
  })

  it('rejects unknown versions and truncated values', () => {
    expect(() => decodeOffsetCommitValue(hex('0009', '00'))).toThrow(CorruptRecordError)
    expect(() => decodeOffsetCommitValue(hex('0003', '0000000000000005'))).toThrow(/needs 4 more bytes/)
  })
})

describe('group > offset-record > GroupMetadataValue', () => {
  const value: GroupMetadataValue = {
    protocolType: 'consumer', generation: 2, protocol: 'range', leader: 'm1', currentStateTimestamp: 1000,
    members: [{ memberId: 'm1', groupInstanceId: null, clientId: 'c', clientHost: 'h', rebalanceTimeoutMs: 300, sessionTimeoutMs: 100, subscription: hex('01'), assignment: hex('02') }],
  }

  it('writes version 3 as Kafka does', () => {
    const bytes = encodeGroupMetadataValue(value)
    expect(bytes).toEqual(hex(
      '0003', '0008', Buffer.from('consumer').toString('hex'), '00000002', '0005', Buffer.from('range').toString('hex'), '0002', '6d31',
      '00000000000003e8', '00000001',
      '0002', '6d31', 'ffff', '0001', '63', '0001', '68', '0000012c', '00000064', '00000001', '01', '00000001', '02',
    ))
    expect(decodeGroupMetadataValue(bytes)).toEqual(value)
  })

  it('round-trips an empty group with no protocol and leader', () => {
    const empty: GroupMetadataValue = { protocolType: 'consumer', generation: 7, protocol: null, leader: null, currentStateTimestamp: -1, members: [] }
    expect(decodeGroupMetadataValue(encodeGroupMetadataValue(empty))).toEqual(empty)
  })

  it('reads version 0 (no rebalance timeout: the session timeout stands in) and 2', () => {
    const member = ['0002', '6d31', '0001', '63', '0001', '68']
    const v0 = hex('0000', '0008', Buffer.from('consumer').toString('hex'), '00000002', '0005', Buffer.from('range').toString('hex'), '0002', '6d31',
      '00000001', ...member, '00000064', '00000001', '01', '00000001', '02')
    expect(decodeGroupMetadataValue(v0)).toEqual({ ...value, currentStateTimestamp: -1, members: [{ ...value.members[0], rebalanceTimeoutMs: 100 }] })
    const v2 = hex('0002', '0008', Buffer.from('consumer').toString('hex'), '00000002', '0005', Buffer.from('range').toString('hex'), '0002', '6d31',
      '00000000000003e8', '00000001', ...member, '0000012c', '00000064', '00000001', '01', '00000001', '02')
    expect(decodeGroupMetadataValue(v2)).toEqual(value)
  })

  it('reads the flexible version 4', () => {
    const v4 = hex('0004', '09', Buffer.from('consumer').toString('hex'), '00000002', '06', Buffer.from('range').toString('hex'), '03', '6d31',
      '00000000000003e8', '02',
      '03', '6d31', '00', '02', '63', '02', '68', '0000012c', '00000064', '02', '01', '02', '02', '00',
      '00')
    expect(decodeGroupMetadataValue(v4)).toEqual(value)
  })

  it('rejects unknown versions and truncated values', () => {
    expect(() => decodeGroupMetadataValue(hex('0005'))).toThrow(CorruptRecordError)
    expect(() => decodeGroupMetadataValue(encodeGroupMetadataValue(value).subarray(0, 30))).toThrow(CorruptRecordError)
  })
})
