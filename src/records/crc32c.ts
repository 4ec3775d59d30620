/**
 * CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2 (and of shardlog's own frames).
 *
 * Two implementations, chosen by measurement (bench/micro/crc32c.bench.ts, this 2-core x86-64
 * machine, Node 20, random data):
 *
 * | input   | @node-rs/crc32 (SSE4.2) | crc32c-pure.ts (slicing-by-16) |
 * |---------|-------------------------|--------------------------------|
 * | 32 B    | 105 ns  (0.30 GB/s)     |  39 ns (0.81 GB/s)             |
 * | 128 B   | 116 ns  (1.10 GB/s)     | 117 ns (1.09 GB/s)             |
 * | 1 KiB   | 179 ns  (5.7 GB/s)      | 550 ns (1.86 GB/s)             |
 * | 1 MiB   | 67 µs   (15.6 GB/s)     | 544 µs (1.93 GB/s)             |
 *
 * The native module is ~7x faster on batch-sized inputs, so it is `crc32c`; its fixed cost of a
 * N-API call (~100 ns) loses below ~128 bytes, where the pure loop runs instead. If the native
 * module cannot be loaded (no prebuilt binary for the platform), everything uses the pure one.
 *
 * Thread: any.
 */
import { createRequire } from 'node:module'
import { crc32cPure } from './crc32c-pure.js'

type NativeCrc32c = (input: Uint8Array, initialState?: number | null) => number

/** Inputs shorter than this are cheaper to checksum in JS than to hand to the native module. */
const NATIVE_MIN_BYTES = 128

const nativeCrc32c: NativeCrc32c | undefined = loadNative()

function loadNative(): NativeCrc32c | undefined {
  try {
    const mod = createRequire(import.meta.url)('@node-rs/crc32') as { crc32c?: NativeCrc32c }
    const fn = mod.crc32c
    // Check the binding on the standard check value ("123456789" -> 0xE3069283) before trusting it.
    if (typeof fn !== 'function' || fn(Buffer.from('123456789')) >>> 0 !== 0xe3069283) return undefined
    return fn
  } catch {
    // No binary for this platform or libc: the pure implementation gives the same result.
    return undefined
  }
}

/** Which implementation handles batch-sized inputs in this process: `native` or `pure`. */
export const crc32cImplementation: 'native' | 'pure' = nativeCrc32c ? 'native' : 'pure'

/** CRC-32C of `data` as an unsigned 32-bit number. */
export function crc32c(data: Uint8Array): number {
  if (nativeCrc32c === undefined || data.length < NATIVE_MIN_BYTES) return crc32cPure(data)
  return nativeCrc32c(data) >>> 0
}
