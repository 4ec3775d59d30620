import { describe, expect, it } from 'vitest'
import { maxSemiSpaceBytes } from '../../src/client/young-generation.js'

describe('young generation size', () => {
  it('reads --max-semi-space-size from the command line or NODE_OPTIONS, else V8\'s 16 MiB default', () => {
    const mib = 1024 * 1024
    expect(maxSemiSpaceBytes([], '')).toBe(16 * mib)
    expect(maxSemiSpaceBytes(['--max-semi-space-size=64'], '')).toBe(64 * mib)
    expect(maxSemiSpaceBytes(['--max_semi_space_size', '32'], '')).toBe(32 * mib)
    expect(maxSemiSpaceBytes([], '--enable-source-maps --max-semi-space-size=8')).toBe(8 * mib)
    // The command line comes after NODE_OPTIONS, so it wins; a value that is not a number is ignored.
    expect(maxSemiSpaceBytes(['--max-semi-space-size=128'], '--max-semi-space-size=8')).toBe(128 * mib)
    expect(maxSemiSpaceBytes(['--max-semi-space-size=lots'], '')).toBe(16 * mib)
  })
})
