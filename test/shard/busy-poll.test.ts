import { describe, expect, it } from 'vitest'
import { BusyPollWindow } from '../../src/shard/busy-poll.js'

describe('shard > BusyPollWindow', () => {
  it('opens with each frame for busyPollUs, and never when polling is off', async () => {
    const off = new BusyPollWindow(0)
    off.touch()
    expect(off.isOpen()).toBe(false)
    expect(new BusyPollWindow().isOpen()).toBe(false)

    // 200 ms: wide enough that a pause of a busy machine between touch and look cannot close it.
    const window = new BusyPollWindow(200_000)
    window.touch()
    expect(window.isOpen()).toBe(true)
    await new Promise((r) => setTimeout(r, 220))
    expect(window.isOpen()).toBe(false)
  })
})
