/**
 * Kafka's per-batch compression codecs, by name and by the id stored in bits 0-2 of a
 * RecordBatch's attributes: none (0), gzip (1), snappy (2), lz4 (3), zstd (4). The names are
 * the values of Kafka's `compression.type` producer and topic config (apart from the topic-only
 * `producer`/`uncompressed` aliases, which the config layer resolves).
 *
 * Every codec has an async form (native work on the libuv thread pool). All but zstd also have
 * a sync form, for callers already off the main thread (shard workers, the codec pool).
 * Decompression failures of any kind become {@link CorruptRecordError}: to a reader, bytes that
 * do not decompress are a corrupt batch (Kafka's CORRUPT_MESSAGE).
 *
 * Thread: any.
 */
import { CorruptRecordError, UnsupportedCompressionTypeError, isShardlogError } from '../../errors.js'
import { gzipCompress, gzipCompressSync, gzipDecompress, gzipDecompressSync } from './gzip.js'
import { lz4Compress, lz4CompressSync, lz4Decompress, lz4DecompressSync } from './lz4.js'
import { snappyCompress, snappyCompressSync, snappyDecompress, snappyDecompressSync } from './snappy.js'
import { zstdCompress, zstdDecompress } from './zstd.js'

/** A Kafka compression codec, named as in `compression.type`. */
export type CompressionType = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd'

/** The codec id Kafka stores in bits 0-2 of a batch's attributes. */
export const CompressionCodecId = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const

const TYPE_BY_ID: readonly CompressionType[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd']

/** The codec of a codec id. Throws {@link CorruptRecordError} for ids 5-7 (no such codec). */
export function compressionTypeFromId(id: number): CompressionType {
  const type = TYPE_BY_ID[id]
  if (type === undefined) throw new CorruptRecordError(`unknown compression codec id ${id} in the batch attributes`)
  return type
}

/** True when `name` is one of the five codec names. */
export function isCompressionType(name: string): name is CompressionType {
  return (TYPE_BY_ID as readonly string[]).includes(name)
}

/** True when the codec has `compressSync`/`decompressSync` forms (all but zstd). */
export function hasSyncCodec(type: CompressionType): boolean {
  return type !== 'zstd'
}

/** Compresses `data` with the codec; `none` returns `data` itself. */
export function compress(type: CompressionType, data: Buffer): Promise<Buffer> {
  switch (type) {
    case 'none': return Promise.resolve(data)
    case 'gzip': return gzipCompress(data)
    case 'snappy': return snappyCompress(data)
    case 'lz4': return lz4Compress(data)
    case 'zstd': return zstdCompress(data)
    default: return Promise.reject(unknownType(type))
  }
}

/**
 * Decompresses `data` with the codec; `none` returns `data` itself. Rejects with
 * {@link CorruptRecordError} when the bytes are not a valid stream of that codec.
 */
export async function decompress(type: CompressionType, data: Buffer): Promise<Buffer> {
  try {
    switch (type) {
      case 'none': return data
      case 'gzip': return await gzipDecompress(data)
      case 'snappy': return await snappyDecompress(data)
      case 'lz4': return await lz4Decompress(data)
      case 'zstd': return await zstdDecompress(data)
      default: throw unknownType(type)
    }
  } catch (err) {
    throw asCorrupt(type, err)
  }
}

/**
 * Compresses `data` on the calling thread; `none` returns `data` itself. Throws
 * {@link UnsupportedCompressionTypeError} for zstd, whose binding is async only: use
 * {@link compress}.
 */
export function compressSync(type: CompressionType, data: Buffer): Buffer {
  switch (type) {
    case 'none': return data
    case 'gzip': return gzipCompressSync(data)
    case 'snappy': return snappyCompressSync(data)
    case 'lz4': return lz4CompressSync(data)
    case 'zstd': throw asyncOnly('compressSync', 'compress')
    default: throw unknownType(type)
  }
}

/**
 * Decompresses `data` on the calling thread; `none` returns `data` itself. Throws
 * {@link CorruptRecordError} on bad bytes, and {@link UnsupportedCompressionTypeError} for
 * zstd, whose binding is async only: use {@link decompress}.
 */
export function decompressSync(type: CompressionType, data: Buffer): Buffer {
  if (type === 'zstd') throw asyncOnly('decompressSync', 'decompress')
  try {
    switch (type) {
      case 'none': return data
      case 'gzip': return gzipDecompressSync(data)
      case 'snappy': return snappyDecompressSync(data)
      case 'lz4': return lz4DecompressSync(data)
      default: throw unknownType(type)
    }
  } catch (err) {
    throw asCorrupt(type, err)
  }
}

function asyncOnly(syncName: string, asyncName: string): UnsupportedCompressionTypeError {
  return new UnsupportedCompressionTypeError(
    `zstd has no synchronous form (its native binding is async only): call ${asyncName}() instead of ${syncName}()`,
  )
}

function unknownType(type: never): UnsupportedCompressionTypeError {
  return new UnsupportedCompressionTypeError(`unknown compression type ${JSON.stringify(type)}`)
}

/** Keeps shardlog errors (already typed) and wraps codec errors as CORRUPT_MESSAGE. */
function asCorrupt(type: CompressionType, err: unknown): Error {
  if (isShardlogError(err)) return err
  const detail = err instanceof Error ? err.message : String(err)
  return new CorruptRecordError(`${type} decompression failed: ${detail}`, { cause: err })
}
