/**
 * CRC-32C: the native @node-rs/crc32 binding against the pure slicing-by-16 implementation,
 * on a 1 MiB buffer (throughput) and on 64 bytes (fixed cost of a call), plus `crc32c` as
 * selected by src/records/crc32c.ts. Standalone: `npx tsx bench/micro/crc32c.bench.ts`.
 */
import { randomBytes } from 'node:crypto'
import { pathToFileURL } from 'node:url'
import { crc32c as nativeCrc32c } from '@node-rs/crc32'
import { Bench } from 'tinybench'
import { crc32c } from '../../src/records/crc32c.js'
import { crc32cPure } from '../../src/records/crc32c-pure.js'

/** Bytes processed per call of each task, for GB/s. */
export const crc32cBenchBytes = new Map<string, number>()

let sink = 0

/** Adds the CRC-32C tasks to `bench`. */
export async function register(bench: Bench): Promise<void> {
  const mib = randomBytes(1 << 20)
  const small = randomBytes(64)
  const tasks: [string, Buffer, (b: Buffer) => number][] = [
    ['crc32c native 1 MiB', mib, (b) => nativeCrc32c(b) >>> 0],
    ['crc32c pure 1 MiB', mib, crc32cPure],
    ['crc32c selected 1 MiB', mib, crc32c],
    ['crc32c native 64 B', small, (b) => nativeCrc32c(b) >>> 0],
    ['crc32c pure 64 B', small, crc32cPure],
    ['crc32c selected 64 B', small, crc32c],
  ]
  for (const [name, data, fn] of tasks) {
    crc32cBenchBytes.set(name, data.length)
    bench.add(name, () => { sink ^= fn(data) })
  }
}

async function main(): Promise<void> {
  const bench = new Bench({ name: 'crc32c', time: 1000 })
  await register(bench)
  await bench.run()
  const rows = bench.tasks.map((task) => {
    const result = task.result
    if (!('period' in result)) return { task: task.name, error: result.state }
    const opsPerSecond = 1000 / result.period
    return {
      task: task.name,
      'ops/s': Math.round(opsPerSecond).toLocaleString('en-US'),
      'GB/s': ((crc32cBenchBytes.get(task.name)! * opsPerSecond) / 1e9).toFixed(2),
      'mean µs': (result.period * 1000).toFixed(3),
      '± %': result.latency.rme.toFixed(1),
    }
  })
  console.table(rows)
  if (sink === 0.5) console.log(sink) // keeps the checksums observable so they are not optimised away
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main()
