/**
 * gzip codec (Kafka codec id 1) on node:zlib. Kafka's producer writes one gzip member with
 * `GZIPOutputStream` at `compression.gzip.level` (default -1, zlib's level 6, also zlib's
 * default here); readers accept concatenated members, as `GZIPInputStream` and zlib do.
 *
 * Inflating is capped (`maxOutputBytes`, default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}): gzip
 * reaches ratios near 1000:1, so a 1 MiB batch from the network could otherwise ask for a
 * gigabyte. zlib's `maxOutputLength` stops the inflater as soon as the output passes the cap,
 * so no more than the cap plus one zlib chunk is ever allocated.
 *
 * Thread: any. The async forms run on the libuv thread pool.
 */
import { promisify } from 'node:util'
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib'
import { CorruptRecordError } from '../../errors.js'

/**
 * Default limit on the bytes one compressed records block may inflate to, for every codec
 * that enforces one (gzip, lz4). Far above any batch a producer writes under Kafka's default
 * `max.message.bytes` (1 MiB) or `batch.size` (16 KiB), yet low enough that a hostile batch
 * cannot exhaust memory.
 */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/** gzip-compresses `data` off the calling thread. */
export function gzipCompress(data: Buffer): Promise<Buffer> {
  return gzipAsync(data)
}

/**
 * Inflates a gzip stream off the calling thread. Rejects with {@link CorruptRecordError} when
 * the output would exceed `maxOutputBytes`, and with zlib's error on a bad stream (zlib's
 * RangeError also when `maxOutputBytes` is not an integer from 1 to `buffer.constants.MAX_LENGTH`).
 */
export async function gzipDecompress(data: Buffer, maxOutputBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  try {
    return await gunzipAsync(data, { maxOutputLength: maxOutputBytes })
  } catch (err) {
    throw capError(err, maxOutputBytes)
  }
}

/** gzip-compresses `data` on the calling thread. */
export function gzipCompressSync(data: Buffer): Buffer {
  return gzipSync(data)
}

/**
 * Inflates a gzip stream on the calling thread. Throws {@link CorruptRecordError} when the
 * output would exceed `maxOutputBytes`, and zlib's error on a bad stream.
 */
export function gzipDecompressSync(data: Buffer, maxOutputBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: maxOutputBytes })
  } catch (err) {
    throw capError(err, maxOutputBytes)
  }
}

/** zlib reports the cap as ERR_BUFFER_TOO_LARGE; to a reader that is a corrupt batch. */
function capError(err: unknown, maxOutputBytes: number): unknown {
  if ((err as NodeJS.ErrnoException | null)?.code !== 'ERR_BUFFER_TOO_LARGE') return err
  return new CorruptRecordError(
    `gzip decompression failed: the data inflates to more than the ${maxOutputBytes}-byte limit`, { cause: err })
}
