/**
 * CRC-32C (Castagnoli), the checksum of Kafka's RecordBatch v2.
 * Backed by @node-rs/crc32 (SSE4.2 / ARMv8 CRC instructions).
 */
import { crc32c as nativeCrc32c } from '@node-rs/crc32'

/** CRC-32C of `data` as an unsigned 32-bit number. */
export function crc32c(data: Uint8Array): number {
  return nativeCrc32c(data as Buffer) >>> 0
}
