/**
 * The busy-polling window of one end of the shard rings (`busyPollUs`, Linux's `busy_poll`
 * idea): after a frame goes through, the end keeps checking its ring once per event-loop turn
 * for that long before it sleeps. Shared by `ShardChannel` (main thread) and the shard
 * endpoint (worker), so both ends open and close it by the same rule.
 */
import { performance } from 'node:perf_hooks'

export class BusyPollWindow {
  /** The window in milliseconds (`performance.now()` units); 0 when polling is off. */
  readonly #ms: number
  /** When a frame last went through. */
  #lastAt = 0

  /** `busyPollUs` microseconds; 0 or undefined: never poll. */
  constructor(busyPollUs = 0) {
    this.#ms = Math.max(0, busyPollUs) / 1000
  }

  /** A frame went through now: the window starts again (nothing to do when polling is off). */
  touch(): void {
    if (this.#ms > 0) this.#lastAt = performance.now()
  }

  /** Whether the end should check its ring again on the next turn instead of sleeping. */
  isOpen(): boolean {
    return this.#ms > 0 && performance.now() - this.#lastAt < this.#ms
  }
}
