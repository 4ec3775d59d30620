/**
 * The worker thread's end of a shard's rings: reads request frames, runs the shard's handler,
 * writes response frames. Lives on the shard worker thread (one per worker); the main-thread
 * counterpart is `ShardChannel`.
 *
 * Concurrency contract: requests are dispatched in ring order, one at a time, on this thread;
 * a handler may return a promise, and its response is written whenever it settles, so
 * responses may leave in any order (request ids pair them up). The handler runs on the event
 * loop: it may use timers, fs, and async codecs freely.
 *
 * How the endpoint waits for requests, and why it never parks its event loop for long:
 *
 * ```
 *            +-----------------------------------------------------------------------------+
 *            v                                                                             |
 *   pump: drain the request ring, dispatching each request                                 |
 *            |                                                                             |
 *            +-- responses waiting for room? --> return; the space waiter resumes the pump
 *            +-- stop requested?              --> return; the stop sequence takes over
 *            +-- a request within the last `busyPollUs` (default 0)? --> setImmediate -----+
 *            +-- handler promises in flight, or idle for `hotIdleMs` (default 0: always)?  |
 *            |      --> Atomics.waitAsync on writeIndex, return to the event loop;         |
 *            |          a new frame (or close) resolves it --------------------------------+
 *            +-- otherwise ("hot", opt-in, nothing async pending):                         |
 *                   Atomics.wait up to `idleWaitMs` (sleeps in the kernel, wakes within    |
 *                   microseconds of a notify), drain if woken by a frame, then             |
 *                   setImmediate(pump) so timers, I/O callbacks and microtasks run --------+
 * ```
 *
 * Blocking in `Atomics.wait` is only done while nothing this endpoint knows of is pending,
 * and only for `idleWaitMs`, so other work on the loop (the shard runtime's own timers, fs
 * callbacks) waits at most that long; after `hotIdleMs` without requests the endpoint waits
 * with `Atomics.waitAsync` only, costing no CPU and no timer delay.
 *
 * Why blocking is off by default (measured with bench/micro/ring.bench.ts, Node 20, 2-vCPU
 * VM, one-way latency of a 64-byte frame): waitAsync only p50 4.5 µs / p90 6 µs per leg;
 * blocking with a 1 ms timeout p50 5 / p90 14 µs (each short futex timeout arms and cancels
 * a timer, which costs on a VM); blocking with a long timeout p50 3.9 / p90 5.3 µs. Half a
 * microsecond does not pay for delaying the worker's timers and I/O, so blocking is an
 * opt-in for hosts where it measures better. The lost-wake-up argument for both kinds of
 * wait is in `RingConsumer.waitForDataSync`.
 */
import { BusyPollWindow } from './busy-poll.js'
import { parentPort } from 'node:worker_threads'
import { RecordTooLargeError, UnknownServerError, errorToWire } from '../errors.js'
import {
  kFlagError, kMaxMessageBytes, kOpStop, kShardReadyMessageType, type ShardReadyMessage, type ShardRings,
} from './frame.js'
import { GatherPayload, MessageBacklog, RingConsumer, RingProducer, assertShardRings, type RingPayload } from './ring.js'
import { LostWakeupCheck } from './lost-wakeup-check.js'

/**
 * Serves one op of a shard: gets the op code and the request payload (a Buffer the handler
 * owns), returns the response payload, synchronously or as a promise. A thrown or rejected
 * error goes back to the caller as a typed error (see `errorToWire`).
 */
export type ShardHandler = (op: number, payload: Buffer) => RingPayload | Promise<RingPayload>

/** Options of {@link serveShard}; every one has a default. */
export interface ServeShardOptions {
  /**
   * Longest single block in `Atomics.wait` while hot and idle, in milliseconds: the most a
   * timer or I/O callback of this worker is delayed by the endpoint. Only used when
   * `hotIdleMs` > 0. Default 10 (short timeouts cost more per wake-up than they save).
   */
  idleWaitMs?: number
  /**
   * How long the endpoint keeps blocking in `Atomics.wait` between requests before it falls
   * back to `Atomics.waitAsync` (no CPU, no timer delay), in milliseconds. Default 0: never
   * block, always `waitAsync` (see the measurements at the top of this file).
   */
  hotIdleMs?: number
  /**
   * Runs when `ShardHost.stop()` asks the endpoint to stop, after every earlier request was
   * answered and before the stop is acknowledged (after which the host ends the thread):
   * the place to close logs. A rejection is sent back as the stop call's error.
   */
  onStop?: () => void | Promise<void>
  /**
   * Microseconds the endpoint keeps polling the request ring, one check per event-loop turn,
   * after the last request before it sleeps (Linux's `busy_poll` idea). 0 (default): sleep at
   * once. Polling spares the wake-up a request sent to a sleeping thread costs (tens of
   * microseconds on a VM, milliseconds in the tail) and burns the core meanwhile: worth it
   * only with a core per shard plus one for the main thread. The event loop keeps running.
   */
  busyPollUs?: number
}

/** A running endpoint. */
export interface ShardEndpoint {
  /**
   * Stops serving now: no further requests are read and responses still due are dropped. It
   * closes the rings, which fails the main side's pending calls. For an orderly stop use
   * `ShardHost.stop()`, which drains first.
   */
  stop(): void
}

/** Default of {@link ServeShardOptions.idleWaitMs}. */
export const kDefaultIdleWaitMs = 10
/** Default of {@link ServeShardOptions.hotIdleMs}: never block. */
export const kDefaultHotIdleMs = 0

/**
 * Starts serving a shard's rings on this worker thread with `handler`, and tells the parent
 * (when there is one) with a one-time {@link ShardReadyMessage}. Call it once the shard is
 * ready to take requests; `ShardHost.start` resolves on that message. The endpoint keeps the
 * thread alive until stopped. Throws INVALID_CONFIG if `rings` are not shard rings.
 */
export function serveShard(rings: ShardRings, handler: ShardHandler, options: ServeShardOptions = {}): ShardEndpoint {
  assertShardRings(rings)
  const loop = new EndpointLoop(rings, handler, options)
  loop.start()
  const ready: ShardReadyMessage = { type: kShardReadyMessageType }
  parentPort?.postMessage(ready)
  return { stop: () => loop.stop() }
}

/** The endpoint's state machine; see the diagram at the top of the file. */
class EndpointLoop {
  readonly #requests: RingConsumer
  readonly #responses: RingProducer
  readonly #handler: ShardHandler
  readonly #idleWaitMs: number
  readonly #maxIdleTurns: number
  readonly #onStop: (() => void | Promise<void>) | undefined
  /** Responses waiting for room in the response ring, oldest first. */
  readonly #backlog = new MessageBacklog()
  /** Handler promises not settled yet. */
  #inflight = 0
  /** Consecutive hot waits that timed out without a request. */
  #idleTurns = 0
  #asyncWaitArmed = false
  #spaceWaitArmed = false
  #immediateScheduled = false
  /** Request id of the stop request, once received; no request after it is read. */
  #stopRequestId: number | undefined
  /** The stop sequence (onStop, acknowledgement) has begun. */
  #stopStarted = false
  /** The stop acknowledgement is written or queued; stop once the backlog is empty. */
  #stopAcked = false
  #stopped = false
  /** Opened by each batch of request frames read (`busyPollUs`). */
  readonly #busyPoll: BusyPollWindow
  /**
   * A pending `Atomics.waitAsync` does not keep a Node event loop alive, so while serving we
   * hold a ref'd timer that never fires; cleared on stop.
   */
  #keepAlive: NodeJS.Timeout | undefined
  readonly #lostWakeupCheck: LostWakeupCheck

  constructor(rings: ShardRings, handler: ShardHandler, options: ServeShardOptions) {
    this.#requests = new RingConsumer(rings.requests, 'requests')
    this.#responses = new RingProducer(rings.responses, 'responses')
    this.#handler = handler
    this.#idleWaitMs = Math.max(0, options.idleWaitMs ?? kDefaultIdleWaitMs)
    const hotIdleMs = Math.max(0, options.hotIdleMs ?? kDefaultHotIdleMs)
    this.#maxIdleTurns = this.#idleWaitMs > 0 ? Math.ceil(hotIdleMs / this.#idleWaitMs) : 0
    this.#onStop = options.onStop
    this.#busyPoll = new BusyPollWindow(options.busyPollUs)
    // Requests are held back on purpose while responses wait for room.
    this.#lostWakeupCheck = new LostWakeupCheck(this.#requests, () => this.#backlog.isEmpty())
  }

  start(): void {
    this.#keepAlive = setInterval(() => undefined, 0x7fffffff)
    this.#lostWakeupCheck.start()
    this.#scheduleImmediate()
  }

  stop(): void {
    if (this.#stopped) return
    this.#stopped = true
    clearInterval(this.#keepAlive)
    this.#lostWakeupCheck.stop()
    this.#backlog.clear()
    // Wakes our own pending waits (they find #stopped and return) and tells the main side.
    this.#requests.close()
    this.#responses.close()
  }

  readonly #pump = (): void => {
    this.#immediateScheduled = false
    if (this.#stopped) return
    if (this.#requests.isClosed()) {
      // The main side gave up on this shard (ShardChannel.failAll/close): nobody will read.
      this.stop()
      return
    }
    if (this.#stopRequestId !== undefined) return
    this.#drain()
    if (!this.#backlog.isEmpty() || this.#stopRequestId !== undefined || this.#asyncWaitArmed) return
    if (this.#busyPoll.isOpen()) {
      this.#scheduleImmediate()
      return
    }
    if (this.#inflight > 0 || this.#idleTurns >= this.#maxIdleTurns) {
      this.#armAsyncWait()
      return
    }
    if (this.#requests.waitForDataSync(this.#idleWaitMs)) this.#drain()
    else this.#idleTurns++
    this.#scheduleImmediate()
  }

  #drain(): void {
    if (this.#requests.drain(this.#dispatch) > 0) {
      this.#idleTurns = 0
      this.#busyPoll.touch()
    }
  }

  #armAsyncWait(): void {
    const wait = this.#requests.waitForDataAsync()
    if (wait === undefined) {
      this.#scheduleImmediate()
      return
    }
    this.#asyncWaitArmed = true
    void wait.then(this.#onAsyncWake)
  }

  readonly #onAsyncWake = (): void => {
    this.#asyncWaitArmed = false
    this.#pump()
  }

  #scheduleImmediate(): void {
    if (this.#immediateScheduled || this.#stopped) return
    this.#immediateScheduled = true
    setImmediate(this.#pump)
  }

  /** Drain sink: runs one request. Returns false to stop draining (no room for responses, or stop). */
  readonly #dispatch = (requestId: number, op: number, _flags: number, payload: Buffer): boolean => {
    if (op === kOpStop) {
      this.#stopRequestId = requestId
      this.#maybeFinishStop()
      return false
    }
    let result: RingPayload | Promise<RingPayload>
    try {
      result = this.#handler(op, payload)
    } catch (err) {
      this.#sendError(requestId, op, err)
      return this.#backlog.isEmpty()
    }
    if (isPromiseLike(result)) {
      this.#inflight++
      result.then(
        (value) => this.#settled(requestId, op, value),
        (err: unknown) => this.#settledWithError(requestId, op, err))
    } else {
      this.#sendResult(requestId, op, result)
    }
    return this.#backlog.isEmpty()
  }

  #settled(requestId: number, op: number, value: RingPayload): void {
    this.#inflight--
    this.#sendResult(requestId, op, value)
    this.#maybeFinishStop()
  }

  #settledWithError(requestId: number, op: number, err: unknown): void {
    this.#inflight--
    this.#sendError(requestId, op, err)
    this.#maybeFinishStop()
  }

  #sendResult(requestId: number, op: number, value: RingPayload): void {
    if (!(value instanceof Uint8Array) && !(value instanceof GatherPayload)) {
      this.#sendError(requestId, op, new UnknownServerError(
        `shard handler for op ${op} returned ${describe(value)} instead of a Uint8Array or GatherPayload`))
    } else if (value.length > kMaxMessageBytes) {
      this.#sendError(requestId, op, new RecordTooLargeError(
        `shard response of ${value.length} bytes for op ${op} exceeds the ${kMaxMessageBytes}-byte transport limit`))
    } else {
      this.#write(requestId, op, 0, value)
    }
  }

  #sendError(requestId: number, op: number, err: unknown): void {
    this.#write(requestId, op, kFlagError, Buffer.from(JSON.stringify(errorToWire(err)), 'utf8'))
  }

  #write(requestId: number, op: number, flags: number, payload: RingPayload): void {
    if (this.#stopped) return
    if (this.#backlog.isEmpty() && this.#responses.tryWrite(requestId, op, flags, payload)) return
    this.#backlog.push({ requestId, op, flags, payload, sent: 0 })
    if (!this.#spaceWaitArmed) this.#flushBacklog()
  }

  /** Writes queued responses while there is room; resumes reading requests once all are out. */
  readonly #flushBacklog = (): void => {
    this.#spaceWaitArmed = false
    for (;;) {
      if (this.#stopped) return
      if (this.#responses.isClosed()) {
        // The main side gave up on this shard while we waited for room: nobody will read.
        this.stop()
        return
      }
      while (!this.#backlog.isEmpty() && this.#responses.writeMessage(this.#backlog.peek())) this.#backlog.shift()
      if (this.#backlog.isEmpty()) break
      const wait = this.#responses.waitForSpaceAsync(this.#backlog.peek())
      if (wait !== undefined) {
        this.#spaceWaitArmed = true
        void wait.then(this.#flushBacklog)
        return
      }
    }
    // Everything is out. Reading stopped while responses had no room (the drain sink returned
    // false), so resume it; and a stop that waited for this backlog may now finish.
    this.#maybeFinishStop()
    this.#stopOnceAcked()
    this.#scheduleImmediate()
  }

  /**
   * Starts the stop sequence once the stop request arrived and every earlier request is
   * answered and written: runs `onStop`, then queues the acknowledgement (or onStop's error).
   */
  #maybeFinishStop(): void {
    const requestId = this.#stopRequestId
    if (requestId === undefined || this.#stopStarted || this.#stopped) return
    if (this.#inflight > 0 || !this.#backlog.isEmpty()) return
    this.#stopStarted = true
    void Promise.resolve()
      .then(() => this.#onStop?.())
      .then(
        () => this.#write(requestId, kOpStop, 0, new Uint8Array(0)),
        (err: unknown) => this.#sendError(requestId, kOpStop, err))
      .then(() => {
        this.#stopAcked = true
        this.#stopOnceAcked()
      })
  }

  /** Stops once the acknowledgement has left the backlog, so the main side can read it. */
  #stopOnceAcked(): void {
    if (this.#stopAcked && this.#backlog.isEmpty()) this.stop()
  }
}

function isPromiseLike(value: unknown): value is Promise<RingPayload> {
  return typeof value === 'object' && value !== null && typeof (value as Promise<unknown>).then === 'function'
}

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'no constructor'})`
  return typeof value
}
