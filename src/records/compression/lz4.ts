/**
 * lz4 codec (Kafka codec id 3) on `lz4-napi`. For magic 2 Kafka uses the standard LZ4 *frame*
 * format (magic 0x184D2204, KIP-57 fixed the header checksum that magic 0/1 got wrong), with
 * independent blocks and no checksums, as Kafka's `KafkaLZ4BlockOutputStream` writes it.
 * lz4-napi (lz4_flex) writes exactly that: FLG 0x60 (version 1, independent blocks), no block
 * or content checksum, no content size. Its reader also takes linked blocks and checksums,
 * as librdkafka's LZ4F output may have them.
 *
 * Decompression is capped (`maxOutputBytes`, default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}).
 * The binding has no output limit of its own, so the frame is measured before it is handed over:
 *
 * ```
 * frame   magic 04 22 4D 18 | FLG | BD | [content size u64 LE] | [dict id u32] | HC
 *         blocks: u32 LE size word (high bit = stored uncompressed; 0 = end mark),
 *                 the block, [u32 block checksum]
 *         [u32 content checksum]
 * FLG     bits 7-6 version (01), 5 independent blocks, 4 block checksums,
 *         3 content size present, 2 content checksum, 0 dict id present
 * BD      bits 6-4 block maximum size: 4 = 64 KiB, 5 = 256 KiB, 6 = 1 MiB, 7 = 4 MiB
 * ```
 *
 * A declared content size above the cap is refused outright. Otherwise the output is bounded
 * by the blocks: a stored block yields its size, a compressed block at most min(block maximum,
 * 255 x its size) (LZ4's best case is one 0xFF length byte for 255 output bytes). A frame whose
 * bound exceeds the cap by more than one block maximum is refused before decoding; one within
 * that slack is decoded and its length checked. So no call allocates more than the cap plus
 * 4 MiB, and every frame that a Kafka client writes (full blocks, the last one partial) and
 * that fits the cap is accepted. Like lz4_flex, the walk reads one frame, takes the end of the
 * input as its end, and ignores bytes after its end mark.
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
import { CorruptRecordError, UnsupportedCompressionTypeError } from '../../errors.js'
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './gzip.js'

type Lz4Module = typeof import('lz4-napi')

/** The first four bytes of every LZ4 frame, little-endian 0x184D2204. */
export const LZ4_FRAME_MAGIC = 0x184d2204

const FLG_VERSION_SHIFT = 6
const FLG_BLOCK_CHECKSUM = 0x10
const FLG_CONTENT_SIZE = 0x08
const FLG_DICT_ID = 0x01
const BLOCK_STORED = 0x8000_0000
/** LZ4 emits at most 255 output bytes per input byte (a run of 0xFF match-length bytes). */
const MAX_BLOCK_EXPANSION = 255

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

/**
 * Decompresses one LZ4 frame off the calling thread. Rejects with {@link CorruptRecordError}
 * on a malformed frame or one that inflates beyond `maxOutputBytes`.
 */
export async function lz4Decompress(data: Buffer, maxOutputBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Promise<Buffer> {
  checkFrameBound(data, maxOutputBytes)
  return checkOutput(await lz4().decompressFrame(data), maxOutputBytes)
}

/** Compresses `data` into one LZ4 frame on the calling thread. */
export function lz4CompressSync(data: Buffer): Buffer {
  return lz4().compressFrameSync(data)
}

/**
 * Decompresses one LZ4 frame on the calling thread. Throws {@link CorruptRecordError} on a
 * malformed frame or one that inflates beyond `maxOutputBytes`.
 */
export function lz4DecompressSync(data: Buffer, maxOutputBytes = DEFAULT_MAX_DECOMPRESSED_BYTES): Buffer {
  checkFrameBound(data, maxOutputBytes)
  return checkOutput(lz4().decompressFrameSync(data), maxOutputBytes)
}

/**
 * The most bytes the frame at the start of `data` can decompress to (see the file comment),
 * and its block maximum size. Throws {@link CorruptRecordError} when the frame header or a
 * block length is malformed.
 */
export function lz4FrameOutputBound(data: Uint8Array): { bound: number; blockMaxBytes: number; contentSize: number | undefined } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  if (data.length < 7 || view.getUint32(0, true) !== LZ4_FRAME_MAGIC) throw corrupt('not an LZ4 frame (bad magic or too short)')
  const flg = data[4]!
  if (flg >> FLG_VERSION_SHIFT !== 1) throw corrupt(`unsupported LZ4 frame version ${flg >> FLG_VERSION_SHIFT}`)
  const blockSizeId = (data[5]! >> 4) & 0x07
  if (blockSizeId < 4) throw corrupt(`invalid LZ4 block maximum size id ${blockSizeId}`)
  const blockMaxBytes = 1 << (2 * blockSizeId + 8)
  let pos = 6
  let contentSize: number | undefined
  if ((flg & FLG_CONTENT_SIZE) !== 0) {
    if (data.length < pos + 8) throw corrupt('LZ4 frame header truncated in its content size')
    contentSize = Number(view.getBigUint64(pos, true))
    pos += 8
  }
  if ((flg & FLG_DICT_ID) !== 0) pos += 4
  pos += 1 // header checksum, verified by the decoder
  const checksumBytes = (flg & FLG_BLOCK_CHECKSUM) !== 0 ? 4 : 0
  let bound = 0
  while (pos + 4 <= data.length) {
    const word = view.getUint32(pos, true)
    if (word === 0) break // end mark
    const size = word & ~BLOCK_STORED
    const stored = (word & BLOCK_STORED) !== 0
    if (size > blockMaxBytes) throw corrupt(`LZ4 block of ${size} bytes exceeds the frame's block maximum ${blockMaxBytes}`)
    pos += 4 + size + checksumBytes
    if (pos > data.length) throw corrupt(`LZ4 block of ${size} bytes runs past the end of the frame`)
    bound += stored ? size : Math.min(blockMaxBytes, size * MAX_BLOCK_EXPANSION)
  }
  return { bound, blockMaxBytes, contentSize }
}

/** Refuses, before any decoding, a frame that could inflate past the cap (see the file comment). */
function checkFrameBound(data: Buffer, maxOutputBytes: number): void {
  const { bound, blockMaxBytes, contentSize } = lz4FrameOutputBound(data)
  if (contentSize !== undefined && contentSize > maxOutputBytes) {
    throw overCap(`declares a content size of ${contentSize} bytes`, maxOutputBytes)
  }
  if (bound > maxOutputBytes + blockMaxBytes) throw overCap(`has blocks that can inflate to ${bound} bytes`, maxOutputBytes)
}

function checkOutput(out: Buffer, maxOutputBytes: number): Buffer {
  if (out.length > maxOutputBytes) throw overCap(`inflated to ${out.length} bytes`, maxOutputBytes)
  return out
}

function overCap(what: string, maxOutputBytes: number): CorruptRecordError {
  return corrupt(`the frame ${what}, more than the ${maxOutputBytes}-byte limit`)
}

function corrupt(detail: string): CorruptRecordError {
  return new CorruptRecordError(`lz4 decompression failed: ${detail}`)
}
