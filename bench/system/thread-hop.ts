/**
 * The floor under any latency that crosses threads: a round trip main -> worker -> main
 * through `Atomics.notify`/`Atomics.wait` on a SharedArrayBuffer (the shard rings' wake-up
 * mechanism, without the rings or the engine), on a fixed schedule, latency from each
 * round trip's intended start (coordinated omission corrected), in an HDR histogram.
 * On an idle machine this is a few microseconds; when every core is busy it is the time the
 * OS takes to give the woken thread a core, and the e2e figures cannot be lower.
 */
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep, setImmediate as immediate } from 'node:timers/promises'
import { Worker } from 'node:worker_threads'
import * as hdr from 'hdr-histogram-js'

/** The echo thread: waits for the request counter to move (sleeping, or spinning when `spin`), answers with the same value. */
const kEchoWorker = `
const { workerData } = require('node:worker_threads')
const cells = new Int32Array(workerData.shared)
const spin = workerData.spin
let seen = 0
for (;;) {
  if (spin) while (Atomics.load(cells, 0) === seen) {}
  else Atomics.wait(cells, 0, seen)
  seen = Atomics.load(cells, 0)
  if (seen < 0) break
  Atomics.store(cells, 1, seen)
  Atomics.notify(cells, 1)
}
`

/**
 * How both ends wait: `sleep`, the worker in `Atomics.wait` and the main thread in
 * `Atomics.waitAsync` (the default engine); `poll`, the worker spinning and the main thread
 * checking once per event-loop turn (`busyPollUs`: what no thread sleeping leaves).
 */
export type HopMode = 'sleep' | 'poll'

/** `Atomics.waitAsync` (ES2024, in Node since 16; typed here because the project's lib is ES2023). */
const waitAsync = (Atomics as unknown as {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> }
}).waitAsync

/** Percentiles of the round trips, µs. */
export interface HopFigures {
  p50: number
  p99: number
  p999: number
  max: number
  count: number
}

/** Measures round trips at `ratePerSec` for `durationMs` (after `warmupMs`). */
export async function measureThreadHops(ratePerSec: number, durationMs: number, warmupMs: number, mode: HopMode = 'sleep'): Promise<HopFigures> {
  const shared = new SharedArrayBuffer(8)
  const cells = new Int32Array(shared)
  const worker = new Worker(kEchoWorker, { eval: true, workerData: { shared, spin: mode === 'poll' } })
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 })
  try {
    const intervalMs = 1000 / ratePerSec
    const start = performance.now() + 50
    const end = start + warmupMs + durationMs
    for (let i = 1; ; i++) {
      const due = start + i * intervalMs
      if (due >= end) break
      for (let left = due - performance.now(); left > 0; left = due - performance.now()) {
        if (left > 1.5) await sleep(Math.floor(left - 1))
        else await immediate()
      }
      Atomics.store(cells, 0, i)
      if (mode === 'poll') {
        while (Atomics.load(cells, 1) !== i) await immediate()
      } else {
        Atomics.notify(cells, 0)
        const answer = waitAsync(cells, 1, i - 1)
        if (answer.async) await answer.value
        // A late answer (value still i-1 after a spurious wake) is waited for again.
        while (Atomics.load(cells, 1) !== i) {
          const again = waitAsync(cells, 1, i - 1)
          if (again.async) await again.value
        }
      }
      if (due >= start + warmupMs) histogram.recordValue(Math.max(1, Math.round((performance.now() - due) * 1000)))
    }
    return {
      p50: histogram.getValueAtPercentile(50),
      p99: histogram.getValueAtPercentile(99),
      p999: histogram.getValueAtPercentile(99.9),
      max: histogram.maxValue,
      count: histogram.totalCount,
    }
  } finally {
    Atomics.store(cells, 0, -1)
    Atomics.notify(cells, 0)
    await worker.terminate()
    histogram.destroy()
  }
}
