/**
 * A piscina pool of worker threads for codec work too heavy for the thread that asks for it:
 * compressing the records block of big batches for a send, inflating big fetched batches.
 *
 * Why a pool when every codec already has an async form: the async forms run their native
 * work on libuv's thread pool (4 threads by default, `UV_THREADPOOL_SIZE`), which the whole
 * process shares (shard workers included) and which also runs every `fs` call of the storage
 * layer; big codec jobs queued there make segment reads and appends wait. And some async forms
 * cost the calling thread more than their sync work would (zlib drives its stream from JS in
 * 16 KiB chunks; snappy's chunks are one promise each). The pool runs the sync forms on
 * threads of its own. What it cannot move is the calling thread's own share, writing or
 * parsing the records and the CRC, which is most of the main-thread cost below.
 *
 * What crosses the thread boundary, and how:
 * - Only flat bytes: the records block, compressed or not. Records are never cloned to a
 *   worker: serialising them for `postMessage` costs the calling thread 1.5-7x what encoding
 *   the whole batch does (v8.serialize below), and the worker would still have to write them.
 * - Inputs travel as transferred ArrayBuffers. The block the encoder allocated is handed over
 *   without a copy (`transfer: true`); bytes owned by a caller are copied once into an
 *   exact-size buffer (a structured clone would copy the view's whole backing store, which for
 *   a view into a fetch response can be far larger than the view).
 * - Outputs come back transferred, never copied on this side.
 * - Errors come back as `{ errorCode, message }` and are rebuilt with `errorFromWire`: a
 *   structured clone keeps only an Error's message.
 *
 * Measurements (bench/micro/codec-pool.bench.ts, best of two runs; 2-core x86-64 VM shared
 * with other work (load 6-9), Node 20, so the pool had one thread; batches of ~100-byte
 * JSON-like records; decode rows give the compressed size). inline = encodeRecordBatch /
 * decodeRecordBatch (async codec on libuv), pool = CodecPool. main-thread CPU = schedstat CPU
 * time of the main thread per call; fs.stat = latency of one fs.stat issued during a burst of
 * 4 concurrent calls (13 µs alone); x4 = throughput of that burst.
 *
 *                                  main-thread       latency       fs.stat            x4
 *                                       CPU µs        p50 µs            µs          MB/s
 *                                inline   pool inline   pool inline   pool inline   pool
 * encode gzip 16 KiB                 41     47    169    202    186     96     92     75
 * encode gzip 64 KiB                102     93    642    685    587    138     95     89
 * encode gzip 256 KiB               348    264   6223   2875   3565     85    102    101
 * encode gzip 1 MiB                1145    741  10528  10144   5220   2366    106    105
 * encode snappy 16 KiB               25     30     40     52     50     19    358    237
 * encode snappy 64 KiB               74     80    122    147    105     49    501    384
 * encode snappy 256 KiB             327    261    660    522    324    133    698    584
 * encode snappy 1 MiB              1004    750   1888   1637   2691    114    447    644
 * encode lz4 16 KiB                  21     34     45     62     59     24    248    191
 * encode lz4 64 KiB                  71     81    190    191    163     89    528    350
 * encode lz4 256 KiB                267    285    570    590    136     61    579    522
 * encode lz4 1 MiB                  753    732   1830   1898   1147     95    665    532
 * encode zstd 16 KiB                 28     57    109    195    152     83    156     87
 * encode zstd 64 KiB                 66    113    213    302    167    114    330    213
 * encode zstd 256 KiB               251    289    650    745    529     95    698    387
 * encode zstd 1 MiB                 639    709   2387   2499    533   1870    464    430
 *
 * decode gzip 16 KiB (2 KiB)         50     41     63     76     42     19    242    219
 * decode gzip 64 KiB (9 KiB)        212    107    522    285     80    196    294    274
 * decode gzip 256 KiB (35 KiB)      432    313    701    717    138    103    330    393
 * decode gzip 1 MiB (140 KiB)      1372   1100   2558   2283    139   1298    429    435
 * decode snappy 16 KiB (4 KiB)       26     32     34     53    105     44    315    137
 * decode snappy 64 KiB (16 KiB)     101     98    125    159    353    242    424    318
 * decode snappy 256 KiB (64 KiB)    388    321    483    566   1360     51    653    677
 * decode snappy 1 MiB (257 KiB)    1282   1078   1666   1623   5440    108    496    554
 * decode lz4 16 KiB (4 KiB)          28     38     63     91    107     52    299    185
 * decode lz4 64 KiB (15 KiB)         78    110    249    250    294     32    496    391
 * decode lz4 256 KiB (58 KiB)       299    395    977    975   1313    651    415    380
 * decode lz4 1 MiB (232 KiB)       1029   1188   1999   2043   4585   1880    558    479
 * decode zstd 16 KiB (2 KiB)         30     51     60    103    130     55    244    133
 * decode zstd 64 KiB (8 KiB)         77    117    171    239    361     46    413    281
 * decode zstd 256 KiB (31 KiB)      285    354    554    739   1029    104    626    428
 * decode zstd 1 MiB (115 KiB)      1008   1175   1964   2290   4511     67    546    486
 *
 * v8.serialize(records) of the same batches, main-thread CPU: 16 KiB 64 µs, 64 KiB 247 µs,
 * 256 KiB 1023 µs, 1 MiB 4356 µs.
 *
 * Where it pays, and the thresholds chosen ({@link DEFAULT_OFFLOAD_THRESHOLDS}; sizes are the
 * uncompressed records block for compress, the compressed one for decompress):
 * - gzip compress >= 64 KiB: fs stalls 2-40x shorter, main thread equal or up to 35% less,
 *   same latency. At 16 KiB the pool costs a little more of everything.
 * - gzip decompress >= 8 KiB: main thread 20-50% less from the 64 KiB batch (9 KiB
 *   compressed) up. Inline gzip barely stalls fs (zlib queues one 16 KiB chunk at a time);
 *   the higher fs.stat with the pool is its thread competing for the 2 cores.
 * - snappy compress >= 256 KiB, decompress >= 32 KiB: from 256 KiB batches the main thread
 *   does 15-25% less and fs stalls drop from 0.3-5.4 ms to about 0.1 ms; below, the message
 *   round trip outweighs it.
 * - lz4 compress >= 1 MiB: equal main thread, fs stall 1.1 ms -> 0.1 ms. Below that lz4 is
 *   fast enough that libuv jobs are short and the pool only adds cost.
 * - lz4 decompress: never. The pool costs the main thread 15-40% more at every size (the
 *   input copy and the message outweigh a decoder this fast); it only shortens fs stalls.
 * - zstd: never. Its binding is async only, so on a pool thread it still runs on libuv; the
 *   pool adds main-thread CPU (10-100%) and latency, and its only effect on stalls comes from
 *   serialising zstd calls through its threads.
 * - none: never (nothing to offload).
 * With its one thread here, the pool gives bursts of 16 KiB calls 20-60% less throughput than
 * libuv's four threads; from the chosen thresholds on the difference is within 20% either
 * way. On more cores the pool has more threads (`availableParallelism() - 1`): take the
 * figures again there before moving the thresholds.
 *
 * Thread: the main thread (or any thread that wants a pool of its own: the module-level pool
 * of {@link getCodecPool} is per JavaScript realm, so a shard worker calling it would start
 * threads of its own; shards use the async codec forms instead). The worker side,
 * {@link handleCodecTask}, runs on the pool's threads; `workers/codec-task.ts` wires it up.
 */
import { availableParallelism } from 'node:os'
import { Piscina, move } from 'piscina'
import { CorruptRecordError, UnknownServerError, errorFromWire, errorToWire, isShardlogError, type WireError } from '../errors.js'
import { compress, compressSync, decompress, decompressSync, hasSyncCodec, type CompressionType } from './compression/index.js'
import { DEFAULT_MAX_DECOMPRESSED_BYTES, gzipDecompressSync } from './compression/gzip.js'
import { lz4DecompressSync } from './compression/lz4.js'
import {
  decodeRecordBatchUsing, encodeRecordBatchUsing, type BlockDecompressor, type DecodedBatch, type EncodeBatchOptions, type RecordBuilder, type RecordInput,
} from './record-batch.js'
import { workerUrl, type WorkerEntry } from '../shard/worker-url.js'

// ---------------------------------------------------------------------------------------------
// Offload policy

/** Which way the bytes go: `compress` sizes are uncompressed bytes, `decompress` sizes compressed ones. */
export type CodecDirection = 'compress' | 'decompress'

/**
 * Smallest size in bytes from which a codec call goes to the pool, per codec and direction;
 * `Infinity` means never.
 */
export type OffloadThresholds = { readonly [T in CompressionType]: { readonly [D in CodecDirection]: number } }

/** The thresholds measured for this project (see the file comment for the figures behind them). */
export const DEFAULT_OFFLOAD_THRESHOLDS: OffloadThresholds = Object.freeze({
  none: Object.freeze({ compress: Infinity, decompress: Infinity }),
  gzip: Object.freeze({ compress: 64 * 1024, decompress: 8 * 1024 }),
  snappy: Object.freeze({ compress: 256 * 1024, decompress: 32 * 1024 }),
  lz4: Object.freeze({ compress: 1024 * 1024, decompress: Infinity }),
  zstd: Object.freeze({ compress: Infinity, decompress: Infinity }),
})

/**
 * True when `bytes` of `type` work in `direction` is better done in the codec pool than on
 * the calling thread (async codec on libuv's pool), by `thresholds`.
 */
export function shouldOffload(
  type: CompressionType, bytes: number, direction: CodecDirection = 'compress', thresholds: OffloadThresholds = DEFAULT_OFFLOAD_THRESHOLDS,
): boolean {
  return bytes >= thresholds[type][direction]
}

// ---------------------------------------------------------------------------------------------
// Messages between the pool and its workers

/** One unit of work for a codec worker. `data` is an exact-size view whose memory is transferred. */
export type CodecTask =
  /** Compress `data` with the codec. */
  | { op: 'compress'; type: CompressionType; data: Uint8Array }
  /** Decompress `data`, refusing output beyond `maxOutputBytes` (gzip, lz4). */
  | { op: 'decompress'; type: CompressionType; data: Uint8Array; maxOutputBytes: number }

/** A worker's answer as the pool receives it: the output bytes, or the error in its wire form. */
export type CodecReply = Uint8Array | { error: WireError }

/** A worker's answer as it leaves the worker: the output marked for transfer, or the error. */
export type CodecTaskResult = ReturnType<typeof move> | { error: WireError }

// ---------------------------------------------------------------------------------------------
// Worker side

/**
 * Runs one {@link CodecTask} on the calling (worker) thread and returns its output marked for
 * transfer, or `{ error }`. Never throws: a typed error must not be flattened to a message by
 * piscina's structured clone.
 */
export async function handleCodecTask(task: CodecTask): Promise<CodecTaskResult> {
  try {
    const output = await runTask(task)
    // move() marks the backing store for transfer; piscina hands the view over without a copy.
    return move(ownedBytes(output))
  } catch (err) {
    return { error: errorToWire(err) }
  }
}

function runTask(task: CodecTask): Promise<Buffer> | Buffer {
  const data = Buffer.from(task.data.buffer, task.data.byteOffset, task.data.byteLength)
  switch (task.op) {
    case 'compress': return compressHere(task.type, data)
    case 'decompress': return decompressHere(task.type, data, task.maxOutputBytes)
    default: throw new UnknownServerError(`unknown codec task ${JSON.stringify((task as { op: unknown }).op)}`)
  }
}

/** Sync form on a pool thread (the point of the pool); zstd has none and uses the async one. */
function compressHere(type: CompressionType, data: Buffer): Promise<Buffer> | Buffer {
  return hasSyncCodec(type) ? compressSync(type, data) : compress(type, data)
}

/**
 * Decompresses with the output cap on gzip and lz4 (the codecs whose cap is a parameter; snappy
 * bounds itself by its declared lengths, zstd by its window limit). Every failure becomes
 * {@link CorruptRecordError}, as in compression/index.ts.
 */
async function decompressHere(type: CompressionType, data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  try {
    switch (type) {
      case 'gzip': return gzipDecompressSync(data, maxOutputBytes)
      case 'lz4': return lz4DecompressSync(data, maxOutputBytes)
      default: return hasSyncCodec(type) ? decompressSync(type, data) : await decompress(type, data)
    }
  } catch (err) {
    if (isShardlogError(err)) throw err
    throw new CorruptRecordError(`${type} decompression failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

// ---------------------------------------------------------------------------------------------
// Byte ownership across threads

/** True when `view` spans its whole (non-shared) backing store, which may then be transferred. */
function spansWholeBuffer(view: Uint8Array): boolean {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && !(view.buffer instanceof SharedArrayBuffer)
}

/**
 * `view` itself when it owns its whole backing store, else an exact-size copy. Small Buffers
 * are slices of Node's shared allocation pool, whose backing store must never be transferred.
 */
function ownedBytes(view: Uint8Array): Uint8Array {
  return spansWholeBuffer(view) ? view : new Uint8Array(view)
}

// ---------------------------------------------------------------------------------------------
// Main side

/** Options of a {@link CodecPool}; every one has a default. */
export interface CodecPoolOptions {
  /** Threads kept even when idle; default 0, so an idle process holds no codec threads. */
  minThreads?: number
  /** Most threads; default `availableParallelism() - 1` (at least 1), leaving a core to the main thread. */
  maxThreads?: number
  /** How long an idle thread above `minThreads` lives, in ms; default 30 000 (a thread takes tens of ms to start, more from sources). */
  idleTimeoutMs?: number
  /** The worker entry; default `workers/codec-task` next to this build. */
  worker?: WorkerEntry
}

/** Per-call options of {@link CodecPool.compress}. */
export interface CompressOptions {
  /**
   * Hand `data`'s memory to the worker instead of copying it: when `data` spans its whole
   * ArrayBuffer, that buffer is transferred and `data` is left detached (empty) here. Slices
   * (of Node's small-Buffer pool, say) are copied either way. Default false.
   */
  transfer?: boolean
}

/** Per-call options of {@link CodecPool.decompress} and {@link CodecPool.decodeRecordBatch}. */
export interface DecompressOptions {
  /** Largest decompressed size accepted (gzip, lz4); default {@link DEFAULT_MAX_DECOMPRESSED_BYTES}. */
  maxOutputBytes?: number
}

/**
 * A piscina pool that runs codec work on its own threads. Every method returns what the
 * same-named function of record-batch.ts or compression/index.ts returns, byte for byte, and
 * rejects with the same typed errors; a worker that dies mid-task rejects that task with
 * {@link UnknownServerError} and is replaced for the next one.
 *
 * Lifecycle: threads start on first use and stop after `idleTimeoutMs` idle; idle threads do
 * not keep the process alive. {@link close} waits for tasks in flight, then stops the threads;
 * later calls reject.
 */
export class CodecPool {
  readonly #pool: Piscina<CodecTask, CodecReply>
  #closed = false

  constructor(options: CodecPoolOptions = {}) {
    const entry = options.worker ?? workerUrl('codec-task')
    this.#pool = new Piscina<CodecTask, CodecReply>({
      filename: entry.url.href,
      execArgv: entry.execArgv,
      minThreads: options.minThreads ?? 0,
      maxThreads: options.maxThreads ?? Math.max(1, availableParallelism() - 1),
      idleTimeout: options.idleTimeoutMs ?? 30_000,
    })
  }

  /** Threads running now (0 before the first task and after `idleTimeoutMs` idle). */
  get threadCount(): number {
    return this.#pool.threads.length
  }

  /**
   * `encodeRecordBatch(records, opts)` with the records block compressed in a pool thread. The
   * records are written on the calling thread (see the file comment) into a block that is
   * transferred, not copied. Codec `none` has nothing to offload.
   */
  encodeRecordBatch(records: ReadonlyArray<RecordInput>, opts: EncodeBatchOptions = {}): Promise<Buffer> {
    return encodeRecordBatchUsing((type, block) => this.compress(type, block, { transfer: true }), records, opts)
  }

  /**
   * `decodeRecordBatch(buf, pos)` with the records block decompressed in a pool thread. Length,
   * magic and CRC are checked here first, and the records are parsed here from the inflated
   * block (cloning parsed records across threads costs more than parsing them), so keys and
   * values are views into it. `buf` is copied from, never detached.
   */
  decodeRecordBatch(buf: Buffer, pos = 0, opts: DecompressOptions = {}): Promise<DecodedBatch> {
    return decodeRecordBatchUsing((type, block) => this.decompress(type, block, opts), buf, pos)
  }

  /** `compress(type, data)` in a pool thread; `data` is copied unless `opts.transfer`. */
  async compress(type: CompressionType, data: Buffer, opts: CompressOptions = {}): Promise<Buffer> {
    if (type === 'none') return data
    return this.#run({ op: 'compress', type, data: opts.transfer === true ? ownedBytes(data) : new Uint8Array(data) })
  }

  /**
   * `decompress(type, data)` in a pool thread, with gzip and lz4 output capped at
   * `opts.maxOutputBytes`; `data` is copied. Rejects with {@link CorruptRecordError} on bad or
   * oversized data.
   */
  async decompress(type: CompressionType, data: Buffer, opts: DecompressOptions = {}): Promise<Buffer> {
    if (type === 'none') return data
    return this.#run({
      op: 'decompress', type, data: new Uint8Array(data), maxOutputBytes: opts.maxOutputBytes ?? DEFAULT_MAX_DECOMPRESSED_BYTES,
    })
  }

  /** Waits for tasks in flight, then stops every thread. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#pool.close()
  }

  async #run(task: CodecTask): Promise<Buffer> {
    if (this.#closed) throw new UnknownServerError('the codec pool is closed')
    let reply: CodecReply
    try {
      reply = await this.#pool.run(task, { transferList: [task.data.buffer as ArrayBuffer] })
    } catch (err) {
      // The worker died (uncaught error, exit, out of memory) or the pool was torn down;
      // piscina replaces the thread for the next task.
      throw new UnknownServerError(`codec pool task ${task.op} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    if (reply instanceof Uint8Array) return Buffer.from(reply.buffer, reply.byteOffset, reply.byteLength)
    throw errorFromWire(reply.error)
  }
}

// ---------------------------------------------------------------------------------------------
// The process-wide pool and the calls that choose between it and the calling thread

let sharedPool: CodecPool | undefined

/** The pool shared by this thread's producers and consumers, created on first use with the defaults. */
export function getCodecPool(): CodecPool {
  sharedPool ??= new CodecPool()
  return sharedPool
}

/** Closes the shared pool (tasks in flight finish first); the next {@link getCodecPool} makes a new one. */
export async function closeCodecPool(): Promise<void> {
  const pool = sharedPool
  sharedPool = undefined
  await pool?.close()
}

/**
 * Encodes a batch exactly as `encodeRecordBatch` does, compressing its records block in the
 * shared pool when {@link shouldOffload} says the block is big enough for its codec, and with
 * the async codec (libuv's pool) otherwise. What the producer calls.
 */
export function encodeBatchMaybeOffloaded(
  records: ReadonlyArray<RecordInput>, opts: EncodeBatchOptions = {}, thresholds: OffloadThresholds = DEFAULT_OFFLOAD_THRESHOLDS,
): Promise<Buffer> {
  return encodeRecordBatchUsing((type, block) => shouldOffload(type, block.length, 'compress', thresholds)
    ? getCodecPool().compress(type, block, { transfer: true })
    : compress(type, block), records, opts)
}

/**
 * Decodes the batch at `pos` exactly as `decodeRecordBatch` does, decompressing its records
 * block in the shared pool when {@link shouldOffload} says the compressed block is big enough
 * for its codec. What the consumer calls.
 */
export function decodeBatchMaybeOffloaded(buf: Buffer, pos?: number, thresholds?: OffloadThresholds): Promise<DecodedBatch>
/** As above, with every record built by `build` (the consumer's messages). */
export function decodeBatchMaybeOffloaded<R>(buf: Buffer, pos: number, thresholds: OffloadThresholds, build: RecordBuilder<R>): Promise<DecodedBatch<R>>
export function decodeBatchMaybeOffloaded<R>(
  buf: Buffer, pos = 0, thresholds: OffloadThresholds = DEFAULT_OFFLOAD_THRESHOLDS, build?: RecordBuilder<R>,
): Promise<DecodedBatch<R> | DecodedBatch> {
  const decompressBlock: BlockDecompressor = (type, block) => shouldOffload(type, block.length, 'decompress', thresholds)
    ? getCodecPool().decompress(type, block)
    : decompress(type, block)
  return build ? decodeRecordBatchUsing(decompressBlock, buf, pos, build) : decodeRecordBatchUsing(decompressBlock, buf, pos)
}
