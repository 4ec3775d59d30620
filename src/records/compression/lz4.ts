/**
 * lz4 codec (Kafka codec id 3) on `lz4-napi`. For magic 2 Kafka uses the standard LZ4 *frame*
 * format (magic 0x184D2204, KIP-57 fixed the header checksum that magic 0/1 got wrong), with
 * independent blocks and no checksums, as Kafka's `KafkaLZ4BlockOutputStream` writes it.
 * lz4-napi (lz4_flex) writes exactly that: FLG 0x60 (version 1, independent blocks), no block
 * or content checksum, no content size. Its reader also takes linked blocks and checksums,
 * as librdkafka's LZ4F output may have them.
 *
 * The native binding is loaded on first use, so a missing binary only disables this codec.
 *
 * Performance note: lz4-napi returns external buffers, freed by finalizers that run only when
 * the event loop turns. A long synchronous loop of calls (no turn) piles them up and gets
 * several times slower (decompressFrameSync of 110 KB: 196 µs in a tight loop, 40 µs when the
 * loop yields). Code that decodes many lz4 batches synchronously should yield between chunks
 * of work; the async forms do not have the problem.
 *
 * Thread: any. The async forms run on the libuv thread pool.
 */
import { createRequire } from 'node:module'
import { UnsupportedCompressionTypeError } from '../../errors.js'

type Lz4Module = typeof import('lz4-napi')

/** The first four bytes of every LZ4 frame, little-endian 0x184D2204. */
export const LZ4_FRAME_MAGIC = 0x184d2204

let lz4Module: Lz4Module | undefined

function lz4(): Lz4Module {
  if (lz4Module === undefined) {
    try {
      lz4Module = createRequire(import.meta.url)('lz4-napi') as Lz4Module
    } catch (err) {
      throw new UnsupportedCompressionTypeError('lz4 is unavailable: the lz4-napi native module failed to load', { cause: err })
    }
  }
  return lz4Module
}

/** Compresses `data` into one LZ4 frame off the calling thread. */
export function lz4Compress(data: Buffer): Promise<Buffer> {
  return lz4().compressFrame(data)
}

/** Decompresses one LZ4 frame off the calling thread. */
export function lz4Decompress(data: Buffer): Promise<Buffer> {
  return lz4().decompressFrame(data)
}

/** Compresses `data` into one LZ4 frame on the calling thread. */
export function lz4CompressSync(data: Buffer): Buffer {
  return lz4().compressFrameSync(data)
}

/** Decompresses one LZ4 frame on the calling thread. */
export function lz4DecompressSync(data: Buffer): Buffer {
  return lz4().decompressFrameSync(data)
}
