import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { buildKafkaMessage, offsetText, timestampText } from '../../src/client/consumed-message.js'
import { NO_RECORD_HEADERS } from '../../src/records/record-batch.js'

describe('consumed messages', () => {
  it('offsetText spells every offset as String does', () => {
    for (const offset of [0, 7, 999, 1000, 1001, 1999, 2000, 9_999, 10_000, 123_456_007, 2 ** 31 - 1, 2 ** 31, Number.MAX_SAFE_INTEGER]) {
      expect(offsetText(offset)).toBe(String(offset))
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (offset) => offsetText(offset) === String(offset)))
    // Runs of consecutive offsets, as a consumer converts them, across thousands boundaries and back.
    for (const start of [0, 995, 1_999_990, 5, 1_000_000_000_000]) {
      for (let offset = start; offset < start + 20; offset++) expect(offsetText(offset)).toBe(String(offset))
    }
  })

  it('timestampText spells every timestamp as String does, -1 (none) included', () => {
    const now = 1_764_000_000_000
    for (const t of [-1, 0, 999, 1000, now, now + 1, now, now + 999, now + 1000, 8_640_000_000_000_000, Number.MAX_SAFE_INTEGER, 2 ** 53 + 2]) {
      expect(timestampText(t)).toBe(String(t))
    }
    fc.assert(fc.property(fc.oneof(fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }), fc.double()), (t) => timestampText(t) === String(t)))
    // Records with timestamps of their own, as an application's event times are.
    for (let t = now - 5; t < now + 2_005; t++) expect(timestampText(t)).toBe(String(t))
  })

  it('builds a kafkajs-shaped message with string offset and timestamp', () => {
    const value = Buffer.from('v')
    const message = buildKafkaMessage(12_345, 1_700_000_000_000, null, value, NO_RECORD_HEADERS, 0)
    expect(message).toEqual({ key: null, value, timestamp: '1700000000000', offset: '12345', headers: {}, attributes: 0, size: 1 })
    const withHeaders = buildKafkaMessage(1, 2, Buffer.from('k'), null, [{ key: 'a', value: Buffer.from('1') }, { key: 'a', value: Buffer.from('2') }, { key: 'b', value: null }], 0)
    expect(withHeaders.headers).toEqual({ a: [Buffer.from('1'), Buffer.from('2')], b: null })
    expect(withHeaders.size).toBe(1)
  })
})
