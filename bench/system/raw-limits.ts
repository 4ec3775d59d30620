/**
 * The raw limits the system figures are compared with, measured in the same process and the
 * same temporary directory right after the figure they bound:
 * - {@link rawWrite}: `fs.writeSync` of the same number of bytes in the same-sized chunks as
 *   the produce run left on disk (the page cache's ingest rate for this write pattern);
 * - {@link rawRead}: `fs.readSync` of the same segment files in 1 MiB chunks (page cache hits);
 * - {@link decodeOnly}: RecordBatch v2 decoding of those bytes on this thread, no I/O;
 * - {@link encodeOnly}: RecordBatch v2 encoding (and compression) of producer-sized batches.
 */
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync, writeSync } from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import type { CompressionType } from '../../src/records/compression/index.js'
import { decodeRecordBatchesSync, encodeRecordBatch, type RecordInput } from '../../src/records/record-batch.js'

/** Bytes moved and the time it took. */
export interface RawOutcome {
  bytes: number
  elapsedMs: number
}

/** Writes `totalBytes` in `chunkBytes` chunks with `fs.writeSync` to a new file in `dir`, then removes it. */
export function rawWrite(dir: string, totalBytes: number, chunkBytes: number, fill?: Buffer): RawOutcome {
  const chunk = Buffer.alloc(Math.max(1, Math.round(chunkBytes)))
  if (fill !== undefined) for (let pos = 0; pos < chunk.length; pos += fill.length) fill.copy(chunk, pos)
  const file = path.join(dir, `raw-write-${process.pid}-${Date.now()}.bin`)
  const fd = openSync(file, 'w')
  let written = 0
  const started = performance.now()
  try {
    while (written < totalBytes) written += writeSync(fd, chunk, 0, Math.min(chunk.length, totalBytes - written))
  } finally {
    closeSync(fd)
  }
  const elapsedMs = performance.now() - started
  rmSync(file, { force: true })
  return { bytes: written, elapsedMs }
}

/** Reads `files` whole with `fs.readSync` in `chunkBytes` chunks into one reused buffer. */
export function rawRead(files: readonly string[], chunkBytes = 1 << 20): RawOutcome {
  const buffer = Buffer.allocUnsafe(chunkBytes)
  let bytes = 0
  const started = performance.now()
  for (const file of files) {
    const fd = openSync(file, 'r')
    try {
      for (let n = readSync(fd, buffer, 0, chunkBytes, null); n > 0; n = readSync(fd, buffer, 0, chunkBytes, null)) bytes += n
    } finally {
      closeSync(fd)
    }
  }
  return { bytes, elapsedMs: performance.now() - started }
}

/** Records decoded and the time it took. */
export interface RecordsOutcome {
  records: number
  elapsedMs: number
}

/**
 * Decodes the batches of `files` (at most `maxBytes` of them) on this thread, in slices of
 * whole batches of about `sliceBytes` (a fetch response's worth), touching every value.
 */
export function decodeOnly(files: readonly string[], maxBytes = 256 << 20, sliceBytes = 1 << 20): RecordsOutcome {
  const slices: Buffer[] = []
  let loaded = 0
  for (const file of files) {
    if (loaded >= maxBytes) break
    const data = readFileSync(file).subarray(0, Math.min(statSync(file).size, maxBytes - loaded))
    let sliceStart = 0
    let end = 0
    // Whole batches only; a zero length is the preallocated tail of an active segment.
    for (let pos = 0, length = 0; pos + 12 <= data.length && (length = data.readInt32BE(pos + 8)) > 0 && pos + 12 + length <= data.length; pos += 12 + length) {
      if (pos + 12 + length - sliceStart > sliceBytes && end > sliceStart) {
        slices.push(data.subarray(sliceStart, end))
        sliceStart = end
      }
      end = pos + 12 + length
    }
    if (end > sliceStart) slices.push(data.subarray(sliceStart, end))
    loaded += end
  }
  let records = 0
  let touched = 0
  const started = performance.now()
  for (const slice of slices) {
    for (const batch of decodeRecordBatchesSync(slice)) {
      for (const r of batch.records) touched += r.value?.length ?? 0
      records += batch.records.length
    }
  }
  const elapsedMs = performance.now() - started
  if (touched < 0) throw new Error('unreachable: keeps the value reads observable')
  return { records, elapsedMs }
}

/**
 * Encodes batches of `recordsPerBatch` records (values cycled from `values`) with `codec` for
 * `durationMs`, `concurrency` at a time (async codecs run on libuv's pool, as the producer's do).
 */
export async function encodeOnly(codec: CompressionType, values: readonly Buffer[], recordsPerBatch: number, durationMs: number, concurrency = 4): Promise<RecordsOutcome> {
  const now = Date.now()
  const records: RecordInput[] = Array.from({ length: recordsPerBatch }, (_, i) => ({ key: null, value: values[i % values.length]!, timestamp: now + i }))
  let encoded = 0
  const started = performance.now()
  const deadline = started + durationMs
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      await encodeRecordBatch(records, { compression: codec })
      encoded += recordsPerBatch
    }
  }))
  return { records: encoded, elapsedMs: performance.now() - started }
}
