import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import fc from 'fast-check'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { crc32c, crc32cImplementation } from '../../src/records/crc32c.js'
import { crc32cPure } from '../../src/records/crc32c-pure.js'

// kafkajs's table-driven CRC-32C is an independent reference.
const require = createRequire(import.meta.url)
const kafkajsCrc32c = require('kafkajs/src/protocol/recordBatch/crc32C') as (data: Buffer) => number

/** Bit-at-a-time CRC-32C straight from the definition: the slowest, least clever reference. */
function bitwiseCrc32c(data: Uint8Array): number {
  let crc = 0xffff_ffff
  for (const byte of data) {
    crc ^= byte
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
  }
  return (crc ^ 0xffff_ffff) >>> 0
}

describe('records > crc32c', () => {
  afterEach(() => {
    vi.doUnmock('node:module')
    vi.resetModules()
  })

  it('gives the CRC-32C check value for "123456789" (0xE3069283) in both implementations', () => {
    const check = Buffer.from('123456789')
    expect(crc32c(check)).toBe(0xe3069283)
    expect(crc32cPure(check)).toBe(0xe3069283)
    expect(crc32c(Buffer.alloc(0))).toBe(0)
  })

  it('uses the native module on this machine', () => {
    expect(crc32cImplementation).toBe('native')
  })

  it('agrees with the bit-wise definition and kafkajs for every length 0..600 and every alignment', () => {
    const backing = randomBytes(610)
    for (let length = 0; length <= 600; length++) {
      for (let offset = 0; offset < 4; offset++) {
        const data = backing.subarray(offset, offset + length)
        const expected = bitwiseCrc32c(data)
        expect(crc32cPure(data)).toBe(expected)
        expect(crc32c(data)).toBe(expected)
      }
    }
  })

  it('agrees with kafkajs on random buffers up to 64 KiB', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 65_536 }), (bytes) => {
      const data = Buffer.from(bytes)
      const expected = kafkajsCrc32c(data)
      expect(crc32cPure(data)).toBe(expected)
      expect(crc32c(data)).toBe(expected)
    }), { numRuns: 50 })
  })

  it('continues a CRC across chunks with the initial value', () => {
    const data = randomBytes(5000)
    for (const cut of [0, 1, 255, 256, 4999, 5000]) {
      expect(crc32cPure(data.subarray(cut), crc32cPure(data.subarray(0, cut)))).toBe(crc32c(data))
    }
  })

  it('falls back to the pure implementation when the native module cannot be loaded', async () => {
    vi.resetModules()
    vi.doMock('node:module', async (importOriginal) => ({
      ...(await importOriginal<typeof import('node:module')>()),
      createRequire: () => () => { throw new Error('no prebuilt binary for this platform') },
    }))
    const fallback = await import('../../src/records/crc32c.js')
    expect(fallback.crc32cImplementation).toBe('pure')
    const data = randomBytes(4096)
    expect(fallback.crc32c(data)).toBe(kafkajsCrc32c(data))
  })
})
