/**
 * A shard served on the broker's own thread (`shards: 0`): the same `ShardRuntime` a shard
 * worker runs, called directly instead of through the rings. Lives on the main thread.
 *
 * Why it exists: every produce and every fetch through a worker pays two thread wake-ups,
 * tens of microseconds each and, on a busy machine or a VM, now and then milliseconds. With the
 * shard on the calling thread nothing waits for another thread to be scheduled: the lowest
 * latency, at the price of one core for the whole broker (storage I/O and record handling share
 * the event loop with the application). For tests, small embedded logs and latency-bound work.
 *
 * It keeps the worker's contract: a request's payload is copied when it is made (a caller may
 * reuse its buffers) and no response aliases the log's buffers (the runtime's encoders return
 * fresh ones; a gathered answer, records included, is joined into one);
 * requests are dispatched in the order they were made, on a later microtask, never inside
 * the caller's own call; errors arrive typed as they would from a worker. `kill()` drops
 * the runtime without closing its logs and starts a fresh one over the same directory, which
 * recovers them, exactly as after a worker was terminated (see `ShardRuntime.abandon`).
 */
import { BrokerNotAvailableError, KafkaStorageError, errorFromWire, errorToWire, isShardlogError, type ShardlogError } from '../errors.js'
import { GatherPayload, type RingPayload } from './ring.js'
import { RequestTable } from './request-table.js'
import { ShardRuntime, type ShardRuntimeOptions } from './shard-runtime.js'
import type { ShardLink } from './shard-link.js'
import { isInRestartHookOf, runRestartHook, type RestartHook } from './restart-hook.js'

/** Options of {@link InThreadShard}. */
export interface InThreadShardOptions {
  /** The runtime's start-up parameters, as a shard worker would get them. */
  runtime: ShardRuntimeOptions
  /**
   * Called after a `kill()` once the fresh runtime is up, with the reason; awaited before
   * waiting calls are released, and its own calls go through at once (the broker reopens the
   * shard's partitions here). A failure is reported as a process warning.
   */
  onRestart?: RestartHook
}

type State = 'running' | 'restarting' | 'stopped'

/** A call in flight: how to fail it when the shard dies under it. */
type PendingCall = (err: Error) => void

/** A copy the runtime owns, as a worker owns what it read out of its ring. */
function ownedCopy(payload: RingPayload): Buffer {
  return payload instanceof GatherPayload ? Buffer.concat(payload.parts, payload.length) : Buffer.from(payload)
}

/**
 * The runtime's answer as one Buffer. A single buffer is an encoder's fresh output (produce
 * results, JSON), so it is viewed, not copied again; a gathered one is joined, which copies
 * the records out of the buffers the log read them into, as the ring would.
 */
function answerBuffer(answer: RingPayload): Buffer {
  if (answer instanceof GatherPayload) return Buffer.concat(answer.parts, answer.length)
  return Buffer.isBuffer(answer) ? answer : Buffer.from(answer.buffer, answer.byteOffset, answer.byteLength)
}

/** The error a worker would have sent back: shardlog errors as they are, anything else typed by its code. */
function asShardError(err: unknown): ShardlogError {
  return isShardlogError(err) ? err : errorFromWire(errorToWire(err))
}

/** One shard of a broker served on the calling thread; see the file comment. */
export class InThreadShard implements ShardLink {
  readonly shardId: number
  readonly #opts: InThreadShardOptions
  #runtime: ShardRuntime
  #state: State = 'running'
  #restarts = 0
  /** Calls in flight, failed at once by `kill()`; a table rather than a Set (see RequestTable). */
  #pending = new RequestTable<PendingCall>()
  /** While restarting: resolves when the fresh runtime serves. */
  #ready: Promise<void> | undefined
  /** Set while the `onRestart` hook runs: its own calls go straight through. */
  #recovering = false

  /**
   * Opens the shard's runtime over the broker's directory (logs open lazily, as partitions are
   * opened). Throws KAFKA_STORAGE_ERROR when the directory cannot be prepared.
   */
  constructor(shardId: number, opts: InThreadShardOptions) {
    this.shardId = shardId
    this.#opts = opts
    this.#runtime = this.#open()
  }

  get restarts(): number {
    return this.#restarts
  }

  get isRunning(): boolean {
    return this.#state === 'running'
  }

  request(op: number, payload: RingPayload): Promise<Buffer> {
    return this.#call(op, ownedCopy(payload))
  }

  /** Sends a request whose payload is already the runtime's own copy. */
  #call(op: number, owned: Buffer): Promise<Buffer> {
    if (this.#state === 'stopped') return Promise.reject(this.#stoppedError())
    if (this.#state === 'restarting' && !(this.#recovering && isInRestartHookOf(this))) {
      return this.#ready!.then(() => this.#call(op, owned))
    }
    return new Promise<Buffer>((resolve, reject) => {
      const id = this.#pending.add(reject)
      queueMicrotask(() => this.#dispatch(id, op, owned, resolve, reject))
    })
  }

  whenReady(): Promise<void> {
    if (this.#state === 'stopped') return Promise.reject(this.#stoppedError())
    return this.#ready ?? Promise.resolve()
  }

  /**
   * Fault injection: the runtime dies without closing its logs, every pending call rejects
   * at once with KAFKA_STORAGE_ERROR ("shard N died: killed"), and a fresh runtime recovers
   * them; resolves once it serves (after `onRestart`).
   */
  async kill(): Promise<void> {
    if (this.#state !== 'running') return this.#ready
    const reason = new KafkaStorageError(`shard ${this.shardId} died: killed`)
    this.#state = 'restarting'
    this.#die(reason)
    this.#ready = this.#restart(reason)
    return this.#ready
  }

  /**
   * Graceful stop: later calls reject with BROKER_NOT_AVAILABLE; calls still in flight (long
   * polls the broker's Shutdown did not end) fail with it too. The broker closes the logs
   * first, with its Shutdown request; a runtime that was not shut down is let go without
   * closing, as a worker that never acknowledged its stop would be terminated.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return
    await this.#ready?.catch(() => undefined)
    this.#state = 'stopped'
    this.#die(this.#stoppedError())
  }

  /** Runs a call on the runtime, unless kill() or stop() failed it before its turn came. */
  #dispatch(id: number, op: number, payload: Buffer, resolve: (b: Buffer) => void, reject: (e: Error) => void): void {
    if (!this.#pending.has(id)) return
    // A death takes the call out of the table (and rejects it), so an answer that comes later
    // from the abandoned runtime finds nothing to settle.
    const settle = (answer: RingPayload): void => {
      if (this.#pending.take(id) !== undefined) resolve(answerBuffer(answer))
    }
    const fail = (err: unknown): void => {
      if (this.#pending.take(id) !== undefined) reject(asShardError(err))
    }
    try {
      const answer = this.#runtime.handle(op, payload)
      if (answer instanceof Promise) answer.then(settle, fail)
      else settle(answer)
    } catch (err) {
      fail(err)
    }
  }

  /** Fails every call in flight with `err` and lets the runtime go without closing its logs. */
  #die(err: Error): void {
    for (const reject of this.#pending.drain()) reject(err)
    this.#runtime.abandon()
  }

  async #restart(reason: Error): Promise<void> {
    try {
      this.#runtime = this.#open()
    } catch (err) {
      // The directory cannot be opened again: the shard stays down, every call says why.
      this.#state = 'stopped'
      this.#ready = undefined
      throw err
    }
    this.#recovering = true
    await runRestartHook(this, this.shardId, this.#opts.onRestart, reason)
    this.#recovering = false
    if (this.#state === 'restarting') this.#state = 'running'
    this.#restarts++
    this.#ready = undefined
  }

  #open(): ShardRuntime {
    try {
      return new ShardRuntime(this.#opts.runtime)
    } catch (err) {
      throw isShardlogError(err) ? err : new KafkaStorageError(`shard ${this.shardId} cannot open ${this.#opts.runtime.brokerDir}: ${(err as Error).message}`, { cause: err })
    }
  }

  #stoppedError(): BrokerNotAvailableError {
    return new BrokerNotAvailableError(`shard ${this.shardId} is stopped`)
  }
}
