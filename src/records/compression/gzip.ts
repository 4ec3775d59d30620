/**
 * gzip codec (Kafka codec id 1) on node:zlib. Kafka's producer writes one gzip member with
 * `GZIPOutputStream` at `compression.gzip.level` (default -1, zlib's level 6, also zlib's
 * default here); readers accept concatenated members, as `GZIPInputStream` and zlib do.
 *
 * Thread: any. The async forms run on the libuv thread pool.
 */
import { promisify } from 'node:util'
import { gunzip, gunzipSync, gzip, gzipSync } from 'node:zlib'

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/** gzip-compresses `data` off the calling thread. */
export function gzipCompress(data: Buffer): Promise<Buffer> {
  return gzipAsync(data)
}

/** Inflates a gzip stream off the calling thread; rejects with zlib's error on a bad stream. */
export function gzipDecompress(data: Buffer): Promise<Buffer> {
  return gunzipAsync(data)
}

/** gzip-compresses `data` on the calling thread. */
export function gzipCompressSync(data: Buffer): Buffer {
  return gzipSync(data)
}

/** Inflates a gzip stream on the calling thread; throws zlib's error on a bad stream. */
export function gzipDecompressSync(data: Buffer): Buffer {
  return gunzipSync(data)
}
