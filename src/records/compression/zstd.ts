/**
 * zstd codec (Kafka codec id 4, KIP-110) on `@mongodb-js/zstd`: one standard zstd frame at the
 * library's default level (3, Kafka's `compression.zstd.level` default). The binding is
 * asynchronous only (it runs on the libuv thread pool), so there is no sync form; callers
 * that need one check `hasSyncCodec('zstd')` first.
 *
 * The binding refuses frames whose window needs more memory than its decoder allows
 * ("Frame requires too much memory"), which keeps a hostile frame from reserving gigabytes.
 *
 * Thread: any.
 */
import { createRequire } from 'node:module'
import { UnsupportedCompressionTypeError } from '../../errors.js'

type ZstdModule = typeof import('@mongodb-js/zstd')

let zstdModule: ZstdModule | undefined

function zstd(): ZstdModule {
  if (zstdModule === undefined) {
    try {
      zstdModule = createRequire(import.meta.url)('@mongodb-js/zstd') as ZstdModule
    } catch (err) {
      throw new UnsupportedCompressionTypeError('zstd is unavailable: the @mongodb-js/zstd native module failed to load', { cause: err })
    }
  }
  return zstdModule
}

/** Compresses `data` into one zstd frame off the calling thread. */
export function zstdCompress(data: Buffer): Promise<Buffer> {
  return zstd().compress(data)
}

/** Decompresses zstd frames off the calling thread. */
export function zstdDecompress(data: Buffer): Promise<Buffer> {
  return zstd().decompress(data)
}
