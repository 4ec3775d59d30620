/**
 * A safety net under the rings' wake-ups: a reader parked in `Atomics.waitAsync` while frames
 * wait in its ring, with no reading in between, for two checks in a row (one to two seconds)
 * has lost its wake-up; the check wakes the wait itself and counts it. The ring protocol is
 * meant never to lose one (see `RingConsumer.waitForDataSync`), and once did (BENCHMARKS.md,
 * e2e latency); with this net such a bug costs a second instead of a hung caller. Shared by
 * `ShardChannel` (main thread) and the shard endpoint (worker).
 */
import type { RingConsumer } from './ring.js'

/** How often a parked reader's ring is looked at. */
export const kLostWakeupCheckMs = 1000

export class LostWakeupCheck {
  readonly #ring: RingConsumer
  readonly #readingWanted: () => boolean
  /** Read position at the last check that found frames waiting, or undefined. */
  #stuckAt: number | undefined
  #timer: NodeJS.Timeout | undefined
  /** Wake-ups this check had to make up for. */
  lostWakeups = 0

  /**
   * `readingWanted`: whether the reader means to read now (the shard endpoint holds requests
   * back while its responses wait for room); by default always.
   */
  constructor(ring: RingConsumer, readingWanted: () => boolean = () => true) {
    this.#ring = ring
    this.#readingWanted = readingWanted
  }

  /** Starts checking (if not already); the timer does not keep the event loop alive. */
  start(): void {
    if (this.#timer !== undefined) return
    this.#timer = setInterval(this.#check, kLostWakeupCheckMs)
    this.#timer.unref()
  }

  /** Stops checking. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#stuckAt = undefined
  }

  readonly #check = (): void => {
    if (!this.#ring.isWaiting || !this.#ring.hasFrames() || !this.#readingWanted()) {
      this.#stuckAt = undefined
      return
    }
    const at = this.#ring.readPosition
    if (this.#stuckAt !== at) {
      this.#stuckAt = at // frames and a parked reader once may be a wake-up on its way
      return
    }
    this.#stuckAt = undefined
    this.lostWakeups++
    this.#ring.wakeWaiters()
  }
}
