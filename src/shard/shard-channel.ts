/**
 * The main thread's end of one shard's rings: turns `request(op, payload)` calls into
 * request frames and matches response frames back to their callers by request id.
 *
 * Lives on the main thread, one per shard worker incarnation (a restarted worker gets a new
 * channel over new rings). Any number of calls may be in flight; the shard may answer them in
 * any order. The event loop is never blocked: the channel sleeps on the response ring with
 * `Atomics.waitAsync`, and only while calls are pending, so an idle channel holds no promise.
 */
import { BusyPollWindow } from './busy-poll.js'
import {
  BrokerNotAvailableError, InvalidRequestError, KafkaStorageError, RecordTooLargeError, UnknownServerError,
  errorFromWire, type ShardlogError, type WireError,
} from '../errors.js'
import { kFlagError, kMaxMessageBytes, kMaxUserOp, kOpStop, type ShardRings } from './frame.js'
import { GatherPayload, MessageBacklog, RingConsumer, RingProducer, type RingPayload } from './ring.js'
import { RequestTable } from './request-table.js'
import { LostWakeupCheck } from './lost-wakeup-check.js'

/** Options of a {@link ShardChannel}. */
export interface ShardChannelOptions {
  /**
   * Called once if the response ring breaks the frame rules or the shard answers a request it
   * was never sent: the worker is broken. Every call has been failed by then; the owner should
   * replace the worker (ShardHost kills and restarts it).
   */
  onBroken?: (err: ShardlogError) => void
  /**
   * Microseconds the channel keeps polling the response ring, once per event-loop turn, after
   * its last request or response before it sleeps in `Atomics.waitAsync` (the shard endpoint
   * has the same option). 0 (default): sleep at once.
   */
  busyPollUs?: number
}

interface PendingCall {
  resolve(payload: Buffer): void
  reject(err: Error): void
}

/** Main-thread client of one shard worker's rings. */
export class ShardChannel {
  readonly #requests: RingProducer
  readonly #responses: RingConsumer
  readonly #onBroken: ((err: ShardlogError) => void) | undefined
  /** Calls sent or queued and not answered yet, by request id. */
  readonly #pending = new RequestTable<PendingCall>()
  /** Requests waiting for room in the request ring, oldest first (backpressure). */
  readonly #backlog = new MessageBacklog()
  /** A `waitAsync` on the response ring (or an immediate drain) is scheduled. */
  #readerArmed = false
  readonly #lostWakeupCheck: LostWakeupCheck
  /** A `waitAsync` for room in the request ring is scheduled. */
  #spaceWaitArmed = false
  /** Set once: the channel is failed or closed, and every later call rejects with it. */
  #failure: Error | undefined
  /** Opened by each request sent and each response read (`busyPollUs`). */
  readonly #busyPoll: BusyPollWindow

  /** Wraps the rings of one shard; `ShardHost` creates these, one per worker incarnation. */
  constructor(rings: ShardRings, options: ShardChannelOptions = {}) {
    this.#requests = new RingProducer(rings.requests, 'requests')
    this.#responses = new RingConsumer(rings.responses, 'responses')
    this.#onBroken = options.onBroken
    this.#busyPoll = new BusyPollWindow(options.busyPollUs)
    this.#lostWakeupCheck = new LostWakeupCheck(this.#responses)
    this.#lostWakeupCheck.start()
  }

  /** Wake-ups of the response ring that never came and the channel made up for (see LostWakeupCheck). */
  get lostWakeups(): number {
    return this.#lostWakeupCheck.lostWakeups
  }

  /** Calls sent and not yet answered (including those still waiting for ring space). */
  get pendingCount(): number {
    return this.#pending.size
  }

  /** True once {@link failAll} or {@link close} ran. */
  get isClosed(): boolean {
    return this.#failure !== undefined
  }

  /**
   * Sends one request and resolves with the shard's response payload (a Buffer the caller
   * owns). A handler error arrives as a rejection with the typed error rebuilt by
   * `errorFromWire` (identify it by `code`). When the request ring is full the request waits
   * for room in FIFO order: nothing is dropped, the ring never grows; the payload is read, not
   * copied, until it enters the ring, so do not modify it before the promise settles.
   * `op` must be an integer in 0..kMaxUserOp (INVALID_REQUEST otherwise); payloads above
   * 1 GiB fail with MESSAGE_TOO_LARGE.
   */
  request(op: number, payload: RingPayload): Promise<Buffer> {
    if (!Number.isInteger(op) || op < 0 || op > kMaxUserOp) {
      return Promise.reject(new InvalidRequestError(`shard op must be an integer in 0..${kMaxUserOp}, got ${op}`))
    }
    return this.#send(op, payload)
  }

  /**
   * Asks the shard endpoint to stop: it finishes every request sent before this one, runs its
   * `onStop` hook, then acknowledges. Used by `ShardHost.stop()`.
   */
  async requestStop(): Promise<void> {
    await this.#send(kOpStop, new Uint8Array(0))
  }

  /**
   * Rejects every pending and queued call with `err` and closes the channel for good: later
   * calls reject with `err` too (the worker may be gone, and a late response could not be
   * matched safely). Closing the rings wakes any of our own pending waits, and tells a still
   * running endpoint to stop. Idempotent; the first error wins.
   */
  failAll(err: Error): void {
    if (this.#failure !== undefined) return
    this.#failure = err
    this.#lostWakeupCheck.stop()
    const calls = this.#pending.drain()
    this.#backlog.clear()
    this.#requests.close()
    this.#responses.close()
    for (const call of calls) call.reject(err)
  }

  /** Closes the channel; calls still pending reject with BROKER_NOT_AVAILABLE. */
  close(): void {
    this.failAll(new BrokerNotAvailableError('shard channel closed'))
  }

  #send(op: number, payload: RingPayload): Promise<Buffer> {
    if (this.#failure === undefined && this.#requests.isClosed()) {
      // The endpoint stopped (ShardEndpoint.stop) while its thread lives on: nobody would answer.
      this.failAll(new KafkaStorageError('shard endpoint closed its rings'))
    }
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (!(payload instanceof Uint8Array) && !(payload instanceof GatherPayload)) {
      return Promise.reject(new InvalidRequestError(`shard request payload must be a Uint8Array or GatherPayload, got ${typeof payload}`))
    }
    if (payload.length > kMaxMessageBytes) {
      return Promise.reject(new RecordTooLargeError(
        `shard request of ${payload.length} bytes exceeds the ${kMaxMessageBytes}-byte transport limit`))
    }
    let call!: PendingCall
    const result = new Promise<Buffer>((resolve, reject) => {
      call = { resolve, reject }
    })
    const requestId = this.#pending.add(call)
    // Fast path: nothing queued ahead of us and the frame fits now. Queued requests keep
    // their order, so a new one may only bypass the backlog when it is empty.
    if (!this.#backlog.isEmpty() || !this.#requests.tryWrite(requestId, op, 0, payload)) {
      this.#backlog.push({ requestId, op, flags: 0, payload, sent: 0 })
      if (!this.#spaceWaitArmed) this.#flushBacklog()
    }
    this.#busyPoll.touch()
    this.#armReader()
    return result
  }

  /** Moves queued requests into the ring while it has room, then waits for room (never blocks). */
  readonly #flushBacklog = (): void => {
    this.#spaceWaitArmed = false
    for (;;) {
      if (this.#failure !== undefined || this.#requests.isClosed()) return
      while (!this.#backlog.isEmpty() && this.#requests.writeMessage(this.#backlog.peek())) this.#backlog.shift()
      if (this.#backlog.isEmpty()) return
      const wait = this.#requests.waitForSpaceAsync(this.#backlog.peek())
      if (wait !== undefined) {
        this.#spaceWaitArmed = true
        void wait.then(this.#flushBacklog)
        return
      }
      // Room appeared while we looked: write again (each turn of this loop writes a frame).
    }
  }

  /**
   * Makes sure the response ring is watched while calls are pending. If frames are already
   * there, or the channel is busy polling, the drain runs in a macrotask (setImmediate) rather
   * than a microtask, so a shard that answers faster than we drain cannot starve the event loop.
   */
  #armReader(): void {
    if (this.#readerArmed || this.#failure !== undefined || this.#pending.size === 0) return
    this.#readerArmed = true
    if (this.#busyPoll.isOpen()) {
      setImmediate(this.#onResponses)
      return
    }
    const wait = this.#responses.waitForDataAsync()
    if (wait === undefined) setImmediate(this.#onResponses)
    else void wait.then(this.#onResponses)
  }

  readonly #onResponses = (): void => {
    this.#readerArmed = false
    if (this.#failure !== undefined) return
    let frames: number
    try {
      frames = this.#responses.drain(this.#deliver)
    } catch (err) {
      this.#broken(err as ShardlogError)
      return
    }
    if (this.#responses.isClosed()) {
      // The endpoint closed its rings (it stopped) with calls still unanswered.
      this.failAll(new KafkaStorageError('shard endpoint closed its rings with calls pending'))
      return
    }
    if (frames > 0) this.#busyPoll.touch()
    this.#armReader()
  }

  readonly #deliver = (requestId: number, op: number, flags: number, payload: Buffer): boolean => {
    const call = this.#pending.take(requestId)
    if (call === undefined) {
      this.#broken(new KafkaStorageError(`shard answered request ${requestId} (op ${op}) that is not pending`))
      return false
    }
    if ((flags & kFlagError) !== 0) call.reject(errorFromWire(decodeWireError(payload)))
    else call.resolve(payload)
    return true
  }

  #broken(err: ShardlogError): void {
    if (this.#failure !== undefined) return
    this.failAll(err)
    this.#onBroken?.(err)
  }
}

/** Parses the JSON error payload of an error frame; a malformed one becomes UNKNOWN_SERVER_ERROR. */
function decodeWireError(payload: Buffer): WireError {
  const text = payload.toString('utf8')
  try {
    const wire = JSON.parse(text) as Partial<WireError>
    if (typeof wire.errorCode === 'number' && typeof wire.message === 'string') {
      return { errorCode: wire.errorCode, message: wire.message }
    }
  } catch {
    // Not JSON: reported below with the raw text, which is the useful part.
  }
  return { errorCode: new UnknownServerError().errorCode, message: `malformed shard error frame: ${text.slice(0, 200)}` }
}
