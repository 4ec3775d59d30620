/**
 * A single-producer single-consumer ring of frames in one SharedArrayBuffer: the transport
 * between the main thread and a shard worker. One thread owns the {@link RingProducer}, one
 * other thread owns the {@link RingConsumer}; neither class is safe to use from two threads.
 *
 * Why a ring of our own rather than `ringbuf.js`: frames must be copied exactly once on each
 * side (payload → ring → the receiver's Buffer), the consumer must reassemble messages larger
 * than the ring, and both sides need the sleeping/waiting flags below to avoid a notify per
 * frame. That is one file of our own to audit instead of a dependency bent to fit.
 *
 * Layout of the SharedArrayBuffer (control words are Int32 slots; each side's hot words sit
 * on their own 64-byte cache line so the two threads do not false-share):
 *
 * ```
 *  byte 0                 64                 128                192         256
 *  +------------------+------------------+------------------+-----------+-------------------+
 *  | writeIndex       | readIndex        | magic            |  unused   | data region:      |
 *  | consumerSleeping | producerWaiting  | capacity, closed |           | `capacity` bytes  |
 *  +------------------+------------------+------------------+-----------+-------------------+
 *    producer writes    consumer writes     set at creation                (a power of two)
 * ```
 *
 * The data region. Indices are free-running uint32 byte counters (they wrap at 2^32, not at
 * the capacity); a byte's position is `index & (capacity - 1)`:
 *
 * ```
 *                read & mask                         write & mask
 *                     v                                    v
 *   +-----------------+--------+-------------+-------------+------------------------+
 *   |      free       | hdr|pay| hdr|payload |hdr|payload  |          free          |
 *   +-----------------+--------+-------------+-------------+------------------------+
 *                      <------------ used = write - read ---->
 *
 *   a frame that runs past the end continues at byte 0 (split copy, no padding marker):
 *   +--------+------------------------------------------------+------------+--------+
 *   |..yload |                     free                       | hdr|payl.. |  free? |
 *   +--------+------------------------------------------------+------------+--------+
 *            ^ write & mask                                   ^ read & mask
 * ```
 *
 * Rules (all arithmetic mod 2^32):
 * - used = write - read, and 0 <= used <= capacity at all times.
 * - empty  <=> write == read.
 * - full   <=> used == capacity. No byte is kept spare: the free-running counters already tell
 *   a full ring from an empty one.
 * - a frame of F bytes may be written <=> capacity - used >= F. A frame of exactly `capacity`
 *   bytes fits an empty ring.
 * - frames start on 4-byte boundaries and the capacity is a power of two, so a header word
 *   never straddles the end; a payload may, and is then copied in two pieces. Split copy
 *   rather than a padding marker: it wastes no space, keeps "fits" a single comparison, and
 *   costs one extra `set` only for the frame that wraps.
 *
 * Publication: the producer writes header and payload with plain stores, then advances
 * `writeIndex` with `Atomics.store`; the consumer reads `writeIndex` with `Atomics.load` before
 * touching those bytes. Atomics are sequentially consistent, so everything written before the
 * store is visible after the load. The same holds in the other direction for `readIndex`: the
 * producer never overwrites bytes until it has seen the consumer release them.
 */
import { InvalidConfigError, KafkaStorageError } from '../errors.js'
import {
  frameBytes, kFlagContinuation, kFlagMore, kFrameAlignBytes, kFrameChunkLengthField, kFrameHeaderBytes,
  kFrameMessageLengthField, kFrameOpFlagsField, kFrameRequestIdField, kMaxMessageBytes, kTransportFlags,
  type ShardRings,
} from './frame.js'

/** Bytes before the data region of a ring's SharedArrayBuffer. */
export const kRingControlBytes = 256
/** Smallest ring capacity accepted, in bytes. */
export const kMinRingBytes = 256
/** Largest ring capacity accepted, in bytes (1 GiB). */
export const kMaxRingBytes = 1 << 30

/** Control word: the producer's free-running byte counter (written by the producer only). */
export const kWriteIndexField = 0
/** Control word: 1 while the consumer is, or is about to be, asleep waiting on `writeIndex`. */
export const kConsumerSleepingField = 1
/** Control word: the consumer's free-running byte counter (written by the consumer only). */
export const kReadIndexField = 16
/** Control word: 1 while the producer is, or is about to be, asleep waiting for free space. */
export const kProducerWaitingField = 17
/** Control word: {@link kRingMagic}, so a stray buffer is refused. */
export const kMagicField = 32
/** Control word: the capacity of the data region in bytes. */
export const kCapacityField = 33
/** Control word: 1 once either side closed the ring; every waiter is woken then. */
export const kClosedField = 34
/** Marks a SharedArrayBuffer laid out by {@link createRingBuffer} ("SLRG"). */
export const kRingMagic = 0x534c5247

/** Default capacity of each ring of a shard, in bytes. */
export const kDefaultRingBytes = 8 * 1024 * 1024

/** Receives each complete message read by {@link RingConsumer.drain}; return `false` to stop draining. */
export type RingMessageSink = (requestId: number, op: number, flags: number, payload: Buffer) => boolean | void

/**
 * A message on its way into a ring. When it cannot be written at once it waits in a
 * {@link MessageBacklog}; `sent` records how much of a chunked payload is already in the ring.
 */
/**
 * A payload made of several buffers (say a small request header and a record batch) that
 * is copied into the ring part by part, so the sender never joins them into one buffer
 * first: one copy of the records instead of two.
 */
export class GatherPayload {
  readonly length: number

  constructor(readonly parts: readonly Uint8Array[]) {
    let n = 0
    for (const p of parts) n += p.length
    this.length = n
  }
}

/** What a message carries: one buffer, or several written back to back. */
export type RingPayload = Uint8Array | GatherPayload

/** Copies bytes `from .. from + length` of `payload` into `dest` at `destAt`. */
function copyPayload(dest: Uint8Array, destAt: number, payload: RingPayload, from: number, length: number): void {
  if (payload instanceof Uint8Array) {
    dest.set(from === 0 && length === payload.length ? payload : payload.subarray(from, from + length), destAt)
    return
  }
  let skip = from
  let left = length
  let at = destAt
  for (const part of payload.parts) {
    if (left === 0) break
    if (skip >= part.length) {
      skip -= part.length
      continue
    }
    const n = Math.min(part.length - skip, left)
    dest.set(skip === 0 && n === part.length ? part : part.subarray(skip, skip + n), at)
    at += n
    left -= n
    skip = 0
  }
}

export interface RingMessage {
  readonly requestId: number
  readonly op: number
  /** Receiver-visible flags (e.g. `kFlagError`); the transport adds its own chunking flags. */
  readonly flags: number
  readonly payload: RingPayload
  /** Payload bytes already written to the ring; owned by {@link RingProducer.writeMessage}. */
  sent: number
}

/** Result of `Atomics.waitAsync` (ES2024; present in Node >= 16, typed here because lib is ES2023). */
type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> }

const atomicsWaitAsync = (Atomics as unknown as {
  waitAsync?: (array: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult
}).waitAsync

/** `Atomics.waitAsync`, which never blocks the calling thread's event loop. */
function waitAsync(array: Int32Array, index: number, value: number, timeoutMs?: number): WaitAsyncResult {
  if (atomicsWaitAsync === undefined) throw new KafkaStorageError('Atomics.waitAsync is not available in this runtime')
  return atomicsWaitAsync(array, index, value, timeoutMs)
}

/**
 * Allocates and formats one ring. `capacityBytes` is the size of the data region: a power of
 * two between {@link kMinRingBytes} and {@link kMaxRingBytes}.
 */
export function createRingBuffer(capacityBytes: number): SharedArrayBuffer {
  if (!Number.isInteger(capacityBytes) || capacityBytes < kMinRingBytes || capacityBytes > kMaxRingBytes ||
      (capacityBytes & (capacityBytes - 1)) !== 0) {
    throw new InvalidConfigError(
      `ring capacity must be a power of two between ${kMinRingBytes} and ${kMaxRingBytes} bytes, got ${capacityBytes}`)
  }
  const sab = new SharedArrayBuffer(kRingControlBytes + capacityBytes)
  const control = new Int32Array(sab, 0, kRingControlBytes / 4)
  control[kMagicField] = kRingMagic
  control[kCapacityField] = capacityBytes
  return sab
}

/** Allocates the request and response rings of one shard, `ringBytes` of data each. */
export function createShardRings(ringBytes: number = kDefaultRingBytes): ShardRings {
  return { requests: createRingBuffer(ringBytes), responses: createRingBuffer(ringBytes) }
}

/** Checks that `value` holds two rings made by {@link createShardRings}; throws INVALID_CONFIG otherwise. */
export function assertShardRings(value: unknown): asserts value is ShardRings {
  const rings = value as Partial<ShardRings> | null
  if (typeof rings !== 'object' || rings === null) throw new InvalidConfigError('shard rings missing')
  ringCapacity(rings.requests, 'requests')
  ringCapacity(rings.responses, 'responses')
}

function ringCapacity(sab: unknown, name: string): number {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < kRingControlBytes + kMinRingBytes) {
    throw new InvalidConfigError(`shard ring '${name}' is not a ring SharedArrayBuffer`)
  }
  const control = new Int32Array(sab, 0, kRingControlBytes / 4)
  const capacity = Atomics.load(control, kCapacityField)
  if (Atomics.load(control, kMagicField) !== kRingMagic || capacity !== sab.byteLength - kRingControlBytes) {
    throw new InvalidConfigError(`shard ring '${name}' has no ring header (magic or capacity mismatch)`)
  }
  return capacity
}

/** The views both ends of a ring share. */
abstract class RingEnd {
  /** Data region capacity in bytes. */
  readonly capacity: number
  protected readonly control: Int32Array
  protected readonly mask: number
  /** The data region, for payload copies. */
  protected readonly bytes: Uint8Array
  /** The data region as 32-bit words, for header fields (frames are 4-byte aligned). */
  protected readonly words: Int32Array

  constructor(sab: SharedArrayBuffer, name: string) {
    this.capacity = ringCapacity(sab, name)
    this.control = new Int32Array(sab, 0, kRingControlBytes / 4)
    this.mask = this.capacity - 1
    this.bytes = new Uint8Array(sab, kRingControlBytes, this.capacity)
    this.words = new Int32Array(sab, kRingControlBytes, this.capacity / 4)
  }

  /** Bytes written and not yet consumed, as seen from this side. */
  usedBytes(): number {
    return (Atomics.load(this.control, kWriteIndexField) - Atomics.load(this.control, kReadIndexField)) >>> 0
  }

  /** True once either side called `close()`. */
  isClosed(): boolean {
    return Atomics.load(this.control, kClosedField) !== 0
  }

  /**
   * Marks the ring closed and wakes every waiter of both sides, on any thread, so no
   * `Atomics.wait`/`waitAsync` stays pending on a ring nobody will write again.
   */
  close(): void {
    Atomics.store(this.control, kClosedField, 1)
    Atomics.notify(this.control, kWriteIndexField)
    Atomics.notify(this.control, kReadIndexField)
  }
}

/**
 * The writing end of a ring. Lives on one thread; never blocks: when the ring lacks room the
 * caller queues the message and waits with {@link waitForSpaceAsync}.
 */
export class RingProducer extends RingEnd {
  /** Our own free-running write counter (int32 view of the uint32); the ring's copy lags it only inside a write. */
  #write: number
  /** Last `readIndex` loaded; refreshed only when the cached value says the ring lacks room. */
  #readSeen: number
  /** A message larger than the free space is split only into chunks of at least this many payload bytes. */
  readonly #minChunkBytes: number
  /** Our producerWaiting flag is up: lowered by the first write or room check after the wait. */
  #waiting = false

  constructor(sab: SharedArrayBuffer, name = 'ring') {
    super(sab, name)
    this.#write = Atomics.load(this.control, kWriteIndexField)
    this.#readSeen = Atomics.load(this.control, kReadIndexField)
    this.#minChunkBytes = Math.max(kFrameAlignBytes, (this.capacity >>> 3) & ~(kFrameAlignBytes - 1))
  }

  /** Largest payload that travels as a single frame (it then needs an empty ring). */
  get maxFramePayloadBytes(): number {
    return this.capacity - kFrameHeaderBytes
  }

  /**
   * Writes a whole message as one frame if it fits the free space now. Returns false, having
   * written nothing, when it does not (or when it is larger than one frame can be: then use
   * {@link writeMessage}, which splits it).
   */
  tryWrite(requestId: number, op: number, flags: number, payload: RingPayload): boolean {
    const length = payload.length
    const size = frameBytes(length)
    if (size > this.capacity || !this.#hasRoom(size)) return false
    this.#putFrame(requestId, op, flags, payload, 0, length, length)
    this.#publish()
    return true
  }

  /**
   * Writes as much of `message` as the free space allows, splitting it into frames when it
   * does not fit at once: each non-final chunk is at least capacity/8 bytes (or the rest), so a
   * small message is never split, a large one streams through a ring smaller than itself.
   * Returns true once the last frame is in the ring. Call again (after
   * {@link waitForSpaceAsync}) with the same object until it returns true; write nothing else
   * to this ring meanwhile, since the frames of one message must be contiguous.
   */
  writeMessage(message: RingMessage): boolean {
    this.#stopWaiting()
    const total = message.payload.length
    for (;;) {
      const remaining = total - message.sent
      const room = this.#payloadRoom()
      const continuation = message.sent > 0 ? kFlagContinuation : 0
      if (remaining <= room) {
        this.#putFrame(message.requestId, message.op, message.flags | continuation, message.payload,
          message.sent, remaining, total)
        message.sent = total
        this.#publish()
        return true
      }
      if (room < this.#minChunkBytes) return false
      this.#putFrame(message.requestId, message.op, message.flags | continuation | kFlagMore, message.payload,
        message.sent, room, total)
      message.sent += room
      this.#publish()
    }
  }

  /**
   * Waits, without blocking the event loop, until the consumer has freed enough room for
   * {@link writeMessage} to make progress on `message`. Returns `undefined` when there is
   * room already (write now) or the ring is closed (the caller checks {@link isClosed} before
   * retrying, or it would spin), else a promise that settles when the consumer released bytes
   * or the ring was closed (then check again: the room may still be short).
   *
   * Lost wake-up prevention (Dekker's pattern, sound because Atomics are sequentially consistent):
   *   producer: store producerWaiting=1; load readIndex; if still short, wait on readIndex
   *   consumer: store readIndex;         load producerWaiting; if 1, notify
   * Either the producer's load sees the consumer's new readIndex, or the consumer's load sees
   * the flag (it notifies). `waitAsync` itself compares readIndex with the value we last saw
   * before it parks, so a notify that lands between our check and the park is not lost.
   *
   * Only the producer clears the flag, once it has its room, as only the consumer clears its
   * own on the data side (see {@link RingConsumer.waitForDataSync}). One release may be too
   * small for the message we wait to write: if the consumer cleared the flag on that release
   * (as it once did, with a compareExchange), we would see the new readIndex, still lack room,
   * park with the flag down, and no later release would wake us. The price is a notify per
   * release while we sleep or are waking, and only then.
   */
  waitForSpaceAsync(message: RingMessage): Promise<unknown> | undefined {
    const remaining = message.payload.length - message.sent
    const needed = Math.min(frameBytes(remaining), kFrameHeaderBytes + this.#minChunkBytes)
    for (;;) {
      if (this.isClosed() || this.#hasRoom(needed)) {
        this.#stopWaiting()
        return undefined
      }
      Atomics.store(this.control, kProducerWaitingField, 1)
      this.#waiting = true
      const read = Atomics.load(this.control, kReadIndexField)
      this.#readSeen = read
      if (this.#hasRoom(needed)) {
        this.#stopWaiting()
        return undefined
      }
      const wait = waitAsync(this.control, kReadIndexField, read)
      if (wait.async) return wait.value
      // 'not-equal': the consumer moved between our load and the park; look again.
    }
  }

  /** Lowers our waiting flag, so the consumer stops notifying on each release. */
  #stopWaiting(): void {
    if (!this.#waiting) return
    this.#waiting = false
    Atomics.store(this.control, kProducerWaitingField, 0)
  }

  /** Payload bytes that fit in one frame written now (negative when not even a header fits). */
  #payloadRoom(): number {
    let free = this.capacity - ((this.#write - this.#readSeen) >>> 0)
    if (free < this.capacity) {
      this.#readSeen = Atomics.load(this.control, kReadIndexField)
      free = this.capacity - ((this.#write - this.#readSeen) >>> 0)
    }
    return Math.min(free - kFrameHeaderBytes, kMaxMessageBytes) & ~(kFrameAlignBytes - 1)
  }

  #hasRoom(size: number): boolean {
    if (this.capacity - ((this.#write - this.#readSeen) >>> 0) >= size) return true
    this.#readSeen = Atomics.load(this.control, kReadIndexField)
    return this.capacity - ((this.#write - this.#readSeen) >>> 0) >= size
  }

  /** Copies one frame into the ring at the write index; the caller has checked the room. */
  #putFrame(requestId: number, op: number, flags: number, payload: RingPayload, from: number,
    chunkLength: number, messageLength: number): void {
    const { words, bytes, mask, capacity } = this
    const at = this.#write & mask
    words[headerWord(at, kFrameChunkLengthField, mask)] = chunkLength
    words[headerWord(at, kFrameRequestIdField, mask)] = requestId
    words[headerWord(at, kFrameOpFlagsField, mask)] = (op & 0xffff) | (flags << 16)
    words[headerWord(at, kFrameMessageLengthField, mask)] = messageLength
    if (chunkLength > 0) {
      const start = (at + kFrameHeaderBytes) & mask
      const first = Math.min(chunkLength, capacity - start)
      copyPayload(bytes, start, payload, from, first)
      if (first < chunkLength) copyPayload(bytes, 0, payload, from + first, chunkLength - first)
    }
    this.#write = (this.#write + frameBytes(chunkLength)) | 0
  }

  /**
   * Makes the frames written so far visible and wakes the consumer if it sleeps.
   * Ordering: the `Atomics.store` of writeIndex comes after the frame's plain stores (so the
   * consumer that loads the new index sees the bytes), and before the load of consumerSleeping
   * (Dekker, see {@link RingConsumer.waitForDataSync}). The consumer awake costs one uncontended
   * load. The flag is left up for the consumer to lower once its wait is over (see there why).
   */
  #publish(): void {
    Atomics.store(this.control, kWriteIndexField, this.#write)
    if (Atomics.load(this.control, kConsumerSleepingField) !== 0) Atomics.notify(this.control, kWriteIndexField)
  }
}

/**
 * The reading end of a ring. Lives on one thread; copies each message once, into a fresh
 * Buffer that becomes the receiver's, and reassembles chunked messages.
 */
export class RingConsumer extends RingEnd {
  /** Our own free-running read counter (int32 view of the uint32). */
  #read: number
  /** The message being reassembled from chunks, if any, and how many of its bytes arrived. */
  #partial: Buffer | undefined
  #partialFilled = 0
  /** Request id, op and receiver flags of the message whose first frame was read last. */
  #messageRequestId = 0
  #messageOp = 0
  #messageFlags = 0

  constructor(sab: SharedArrayBuffer, name = 'ring') {
    super(sab, name)
    this.#read = Atomics.load(this.control, kReadIndexField)
  }

  /** A {@link waitForDataAsync} wait is parked (not settled yet). */
  #waiting = false

  readonly #lowerFlag = (): void => {
    this.#waiting = false
    Atomics.store(this.control, kConsumerSleepingField, 0)
  }

  /** Whether a {@link waitForDataAsync} wait is parked: the reader sleeps until a frame notifies it. */
  get isWaiting(): boolean {
    return this.#waiting
  }

  /** True when at least one frame is waiting to be read. */
  hasFrames(): boolean {
    return Atomics.load(this.control, kWriteIndexField) !== this.#read
  }

  /** Where the next read starts (free-running), to tell whether reading made progress. */
  get readPosition(): number {
    return this.#read
  }

  /**
   * Wakes this ring's own pending data waits, as a frame's notify would have: their promises
   * settle (lowering the flag) and their callers look again. For {@link LostWakeupCheck}.
   */
  wakeWaiters(): number {
    return Atomics.notify(this.control, kWriteIndexField)
  }

  /**
   * Reads every frame present when the call starts (a bound, so a busy producer cannot keep
   * one drain going forever) and hands each complete message to `sink`, in ring order. Space
   * is released frame by frame, before the sink runs. Returns the number of frames read.
   * Throws KAFKA_STORAGE_ERROR if a frame breaks the layout rules: the peer is broken.
   */
  drain(sink: RingMessageSink): number {
    const { words, mask, capacity } = this
    const end = Atomics.load(this.control, kWriteIndexField)
    let frames = 0
    while (this.#read !== end) {
      const available = (end - this.#read) >>> 0
      const at = this.#read & mask
      const chunkLength = words[headerWord(at, kFrameChunkLengthField, mask)]! >>> 0
      const requestId = words[headerWord(at, kFrameRequestIdField, mask)]! >>> 0
      const opFlags = words[headerWord(at, kFrameOpFlagsField, mask)]!
      const messageLength = words[headerWord(at, kFrameMessageLengthField, mask)]! >>> 0
      const op = opFlags & 0xffff
      const flags = opFlags >>> 16
      const size = frameBytes(chunkLength)
      if (chunkLength > capacity - kFrameHeaderBytes || size > available || messageLength > kMaxMessageBytes ||
          chunkLength > messageLength) {
        throw ringBroken(`frame at index ${this.#read >>> 0} (chunk ${chunkLength} B, message ${messageLength} B, ` +
          `${available} B published, capacity ${capacity} B)`)
      }
      const complete = this.#takeFrame(at, requestId, op, flags, chunkLength, messageLength)
      this.#read = (this.#read + size) | 0
      this.#release()
      frames++
      if (complete !== undefined &&
          sink(this.#messageRequestId, this.#messageOp, this.#messageFlags, complete) === false) break
    }
    return frames
  }

  /**
   * Blocks this thread (worker threads only: `Atomics.wait` throws on the main thread) until a
   * frame is present, the ring is closed or `timeoutMs` passes. Returns true when frames are
   * waiting.
   *
   * Lost wake-up prevention, the `sleeping` flag pattern:
   *   consumer: store consumerSleeping=1; load writeIndex; if still empty, wait(writeIndex == read)
   *   producer: store writeIndex;         load consumerSleeping; if 1, notify
   * With sequentially consistent atomics at least one side sees the other's store: either we
   * see the new frame and do not sleep, or the producer sees the flag and notifies. If the
   * notify comes before we park, `Atomics.wait` compares writeIndex with our read index
   * atomically with parking and returns 'not-equal' at once. The flag only saves the producer
   * a notify per frame while we are awake; the value check is what makes sleeping safe.
   *
   * Only the consumer lowers its flag, once its wait is over (here after `Atomics.wait`; when
   * the promise of {@link waitForDataAsync} settles). A producer that lowered it when notifying
   * (it once did, with a compareExchange, to notify once per sleep) could spend it on a frame we
   * had already read: it stores writeIndex, we read the frame, raise the flag for our next wait,
   * the producer's load now sees that flag, lowers it and notifies before we park; the index
   * has not moved since we read, so we park, with the flag down, and no later frame wakes us.
   * That hung a benchmark run. The price is a notify (with no waiter left: cheap) per frame
   * published between the first notify and the end of our wait.
   */
  waitForDataSync(timeoutMs: number): boolean {
    if (this.hasFrames()) return true
    Atomics.store(this.control, kConsumerSleepingField, 1)
    if (!this.hasFrames() && !this.isClosed()) Atomics.wait(this.control, kWriteIndexField, this.#read, timeoutMs)
    Atomics.store(this.control, kConsumerSleepingField, 0)
    return this.hasFrames()
  }

  /**
   * The event-loop-friendly form of {@link waitForDataSync}: returns `undefined` when frames are
   * waiting already or the ring is closed (the caller checks {@link isClosed}, or it would
   * spin), else a promise that settles when the producer published a frame or the ring was
   * closed. Same flag protocol; the flag comes down when the wait settles, before the caller's
   * callbacks run, so a frame published after that is found by the caller's next look. One
   * wait at a time: arm the next only once this one has settled (a settling wait lowers the
   * flag, whichever wait raised it).
   */
  waitForDataAsync(): Promise<unknown> | undefined {
    if (this.hasFrames()) return undefined
    Atomics.store(this.control, kConsumerSleepingField, 1)
    if (this.hasFrames() || this.isClosed()) {
      Atomics.store(this.control, kConsumerSleepingField, 0)
      return undefined
    }
    const wait = waitAsync(this.control, kWriteIndexField, this.#read)
    // The flag comes down once the wait is over, not at our next drain: a drain on another
    // path while this wait is still parked must leave it up, or no frame would wake the wait.
    if (wait.async) {
      this.#waiting = true
      return wait.value.then(this.#lowerFlag)
    }
    Atomics.store(this.control, kConsumerSleepingField, 0)
    return undefined
  }

  /**
   * Copies the payload of the frame at `at` out of the ring. Returns the finished message
   * Buffer, or undefined when more chunks are due.
   */
  #takeFrame(at: number, requestId: number, op: number, flags: number, chunkLength: number,
    messageLength: number): Buffer | undefined {
    if ((flags & kFlagContinuation) === 0) {
      if (this.#partial !== undefined) {
        throw ringBroken(`request ${requestId} began while request ${this.#messageRequestId} was ` +
          `${this.#partialFilled}/${this.#partial.length} B through`)
      }
      const more = (flags & kFlagMore) !== 0
      if (!more && chunkLength !== messageLength) {
        throw ringBroken(`request ${requestId}: single frame carries ${chunkLength} of ${messageLength} B`)
      }
      this.#messageRequestId = requestId
      this.#messageOp = op
      this.#messageFlags = flags & ~kTransportFlags
      const payload = Buffer.allocUnsafe(messageLength)
      this.#copyOut(at, payload, 0, chunkLength)
      if (!more) return payload
      this.#partial = payload
      this.#partialFilled = chunkLength
      return undefined
    }
    const partial = this.#partial
    if (partial === undefined || requestId !== this.#messageRequestId || messageLength !== partial.length ||
        this.#partialFilled + chunkLength > messageLength) {
      throw ringBroken(`continuation of request ${requestId} (${chunkLength} of ${messageLength} B) matches no ` +
        `message in progress`)
    }
    this.#copyOut(at, partial, this.#partialFilled, chunkLength)
    this.#partialFilled += chunkLength
    if ((flags & kFlagMore) !== 0) return undefined
    if (this.#partialFilled !== messageLength) {
      throw ringBroken(`request ${requestId} ended after ${this.#partialFilled} of ${messageLength} B`)
    }
    this.#partial = undefined
    return partial
  }

  #copyOut(at: number, target: Buffer, offset: number, length: number): void {
    if (length === 0) return
    const { bytes, mask, capacity } = this
    const start = (at + kFrameHeaderBytes) & mask
    const first = Math.min(length, capacity - start)
    target.set(bytes.subarray(start, start + first), offset)
    if (first < length) target.set(bytes.subarray(0, length - first), offset + first)
  }

  /**
   * Hands the bytes of the frame just read back to the producer. Same Dekker pairing as
   * {@link RingProducer.waitForSpaceAsync}: store readIndex, then load producerWaiting. The flag
   * is left up for the producer to lower (see there why).
   */
  #release(): void {
    Atomics.store(this.control, kReadIndexField, this.#read)
    if (Atomics.load(this.control, kProducerWaitingField) !== 0) Atomics.notify(this.control, kReadIndexField)
  }
}

/**
 * FIFO of messages waiting for room in a ring, in the order they must enter it. An array with
 * a moving head, compacted when the dead prefix dominates, so push and shift are O(1).
 */
export class MessageBacklog {
  #items: (RingMessage | undefined)[] = []
  #head = 0

  get length(): number {
    return this.#items.length - this.#head
  }

  isEmpty(): boolean {
    return this.#head === this.#items.length
  }

  push(message: RingMessage): void {
    this.#items.push(message)
  }

  /** The oldest message; the caller checked {@link isEmpty}. */
  peek(): RingMessage {
    return this.#items[this.#head]!
  }

  shift(): void {
    this.#items[this.#head++] = undefined
    if (this.#head === this.#items.length) {
      this.#items.length = 0
      this.#head = 0
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head)
      this.#head = 0
    }
  }

  clear(): void {
    this.#items = []
    this.#head = 0
  }
}

/**
 * Index in the data region's Int32Array of header word `field` of the frame at byte `at`. The
 * header may wrap past the end, but each word is whole: frames are 4-byte aligned.
 */
function headerWord(at: number, field: number, mask: number): number {
  return ((at + field * 4) & mask) >>> 2
}

/** The error for a ring whose contents break the layout rules: the peer thread is broken. */
function ringBroken(detail: string): KafkaStorageError {
  return new KafkaStorageError(`shard ring corrupt: ${detail}`)
}
