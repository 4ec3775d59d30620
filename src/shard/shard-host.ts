/**
 * Owns one shard worker thread for its whole life: starts it, talks to it through a
 * `ShardChannel`, notices when it dies, fails the calls it took down and brings up a
 * replacement. Lives on the main thread, one per shard.
 *
 * Lifecycle:
 *
 * ```
 *   start() --> running --(worker error/exit, kill())--> restarting --(replacement ready,
 *                 ^                                          |          onRestart done)--+
 *                 +------------------------------------------|---------------------------+
 *                 |                                          | restart: false
 *                 |                                          v
 *                 +--(stop())--> stopping --> stopped       dead (every call fails)
 * ```
 *
 * On a death every pending call rejects at once with KAFKA_STORAGE_ERROR (retriable;
 * "shard N died: why"). Such a call may or may not have been applied by the shard before it
 * died, exactly like a Kafka request whose broker connection dropped: clients retry, and
 * idempotent producers make the retry safe.
 *
 * Calls made while restarting wait for the replacement, bounded: they wait at most
 * `restartWaitMs` from the death; once that passed, calls fail fast with
 * KAFKA_STORAGE_ERROR until the replacement is up (the restart itself keeps trying, with
 * backoff). Waiting hides a quick restart from callers, who were not sent to the dead worker
 * and so are safe to delay; the bound keeps a crash-looping shard from piling up callers.
 *
 * The replacement gets new rings (the old ones may hold half-written frames) and the same
 * `workerData`. `onRestart` runs once it is ready and before waiting calls are released;
 * calls made from within `onRestart` (e.g. reopening the shard's partitions) go straight
 * through, recognised by their async context.
 */
import { Worker } from 'node:worker_threads'
import { BrokerNotAvailableError, InvalidConfigError, KafkaStorageError, type ShardlogError } from '../errors.js'
import { isShardReadyMessage, type ShardRings, type ShardWorkerData } from './frame.js'
import { createShardRings, kDefaultRingBytes, type RingPayload } from './ring.js'
import { ShardChannel } from './shard-channel.js'
import type { ShardLink } from './shard-link.js'
import { isInRestartHookOf, runRestartHook, type RestartHook } from './restart-hook.js'
import { workerExecArgv } from './worker-url.js'

/** Options of {@link ShardHost.start}. */
export interface ShardHostOptions {
  /** The shard's number, used in thread names and error messages. */
  shardId: number
  /** The worker entry module (see `workerUrl`); it must call `serveShard(workerData.rings, ...)`. */
  workerUrl: URL
  /** `execArgv` of the worker. Default: `workerExecArgv(workerUrl)` (a TypeScript loader for `.ts`). */
  execArgv?: string[]
  /**
   * The worker's configuration, JSON-able. The worker receives it as `workerData`, with
   * `shardId` and `rings` added (see `ShardWorkerData`).
   */
  workerData: object
  /** Data bytes of each of the two rings; a power of two. Default 8 MiB. */
  ringBytes?: number
  /**
   * Microseconds both ends of the rings keep polling for frames after the last one before
   * they sleep: `ShardChannel`'s and `serveShard`'s `busyPollUs` (the worker gets it in its
   * `workerData`). Default 0: sleep at once.
   */
  busyPollUs?: number
  /** Replace a worker that dies. Default true. */
  restart?: boolean
  /**
   * Called when a replacement worker is ready, with the error that killed its predecessor.
   * Awaited before waiting calls are released; its own calls to this host go through at once.
   * If it throws, the failure is reported as a process warning and the shard serves anyway.
   */
  onRestart?: RestartHook
  /** How long a worker may take to call `serveShard`, in ms. Default 60000. */
  startTimeoutMs?: number
  /** How long calls made after a death wait for the replacement, in ms. Default 5000. */
  restartWaitMs?: number
  /** How long `stop()` waits for the worker to acknowledge before terminating it, in ms. Default 10000. */
  stopTimeoutMs?: number
}

/** Largest {@link ShardHostOptions.busyPollUs}: one second. */
export const kMaxBusyPollUs = 1_000_000
/** Default of {@link ShardHostOptions.startTimeoutMs}. */
export const kDefaultStartTimeoutMs = 60_000
/** Default of {@link ShardHostOptions.restartWaitMs}. */
export const kDefaultRestartWaitMs = 5_000
/** Default of {@link ShardHostOptions.stopTimeoutMs}. */
export const kDefaultStopTimeoutMs = 10_000
/** First delay between failed restart attempts, in ms; doubles up to {@link kMaxRestartBackoffMs}. */
export const kRestartBackoffMs = 100
/** Longest delay between failed restart attempts, in ms. */
export const kMaxRestartBackoffMs = 5_000

type HostState = 'running' | 'restarting' | 'dead' | 'stopping' | 'stopped'

/** Calls made while restarting wait on this; it opens when the replacement serves, or expires. */
interface RestartGate {
  readonly promise: Promise<void>
  open(): void
  expire(err: Error): void
  /** Set once expired: later calls fail fast with it. */
  error: Error | undefined
  readonly timer: NodeJS.Timeout
}

/** A worker that signalled ready, with its rings. */
interface Incarnation {
  readonly worker: Worker
  readonly rings: ShardRings
}

/** Main-thread owner of one shard worker; see the file comment for the lifecycle. */
export class ShardHost implements ShardLink {
  /** The shard's number. */
  readonly shardId: number
  readonly #opts: ShardHostOptions
  #state: HostState = 'running'
  #worker: Worker
  #channel: ShardChannel
  /** The current worker has died (or been killed); its death has been handled. */
  #workerGone = false
  #exited: Promise<void>
  #restarts = 0
  #gate: RestartGate | undefined
  /** The replacement serves and `onRestart` is running. */
  #recovering = false
  #restartLoop: Promise<void> | undefined
  /** A replacement worker that has not signalled ready yet (terminated by stop()). */
  #starting: Worker | undefined
  /** Cancels a restart backoff sleep (on stop). */
  #wakeBackoff: (() => void) | undefined
  #lastFailure: Error | undefined
  #stopping: Promise<void> | undefined
  /** Waiters of {@link whenReady} during a restart. */
  #readyWaiters: { resolve(): void; reject(err: Error): void }[] = []

  private constructor(opts: ShardHostOptions, first: Incarnation) {
    this.shardId = opts.shardId
    this.#opts = opts
    this.#worker = first.worker
    this.#channel = this.#install(first)
    this.#exited = exitOf(first.worker)
  }

  /**
   * Starts the shard's worker and resolves once it serves its rings. Rejects with
   * KAFKA_STORAGE_ERROR if the worker fails or exits first, or is not ready within
   * `startTimeoutMs`; with INVALID_CONFIG for bad options.
   */
  static async start(opts: ShardHostOptions): Promise<ShardHost> {
    validateOptions(opts)
    const first = await spawnWorker(opts)
    return new ShardHost(opts, first)
  }

  /** Replacement workers that came up since start. */
  get restarts(): number {
    return this.#restarts
  }

  /** True while a worker is serving requests normally. */
  get isRunning(): boolean {
    return this.#state === 'running'
  }

  /**
   * Sends a request to the shard; resolves with its response payload. Rejects with the
   * handler's typed error, with KAFKA_STORAGE_ERROR if the worker dies first or the
   * replacement is not up within `restartWaitMs`, with BROKER_NOT_AVAILABLE after `stop()`.
   */
  request(op: number, payload: RingPayload): Promise<Buffer> {
    switch (this.#state) {
      case 'running':
        return this.#channel.request(op, payload)
      case 'restarting':
        if (this.#recovering && isInRestartHookOf(this)) return this.#channel.request(op, payload)
        return this.#requestAfterRestart(op, payload)
      case 'dead':
        return Promise.reject(this.#lastFailure)
      default:
        return Promise.reject(this.#stoppedError())
    }
  }

  /**
   * Resolves when a worker serves requests: at once while running, after the replacement is
   * up (and `onRestart` done) while restarting. Rejects when the host is stopped, or dead
   * because restart is off.
   */
  whenReady(): Promise<void> {
    if (this.#state === 'running') return Promise.resolve()
    if (this.#state === 'restarting') {
      return new Promise((resolve, reject) => this.#readyWaiters.push({ resolve, reject }))
    }
    return Promise.reject(this.#state === 'dead' ? this.#lastFailure : this.#stoppedError())
  }

  /**
   * Fault injection: terminates the worker abruptly. Pending calls reject at once with
   * KAFKA_STORAGE_ERROR ("shard N died: killed"); with restart on, a replacement comes up
   * (await {@link whenReady} for it). Resolves once the killed thread has exited.
   */
  async kill(): Promise<void> {
    const worker = this.#worker
    if (this.#workerGone || this.#state === 'stopping' || this.#state === 'stopped') return
    this.#onWorkerGone(worker, undefined, 'killed')
    await worker.terminate()
  }

  /**
   * Graceful stop, no restart: calls made before it are answered, the endpoint runs its
   * `onStop` and acknowledges, then the thread is ended. Later calls reject with
   * BROKER_NOT_AVAILABLE. A worker that does not acknowledge within `stopTimeoutMs` is
   * terminated. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop(): Promise<void> {
    const previous = this.#state
    this.#state = 'stopping'
    const stopped = this.#stoppedError()
    this.#gate?.expire(stopped)
    this.#wakeBackoff?.()
    void this.#starting?.terminate()
    for (const waiter of this.#readyWaiters.splice(0)) waiter.reject(stopped)
    if (previous === 'running' && !this.#workerGone) {
      const timeoutMs = this.#opts.stopTimeoutMs ?? kDefaultStopTimeoutMs
      let timer: NodeJS.Timeout | undefined
      const timedOut = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs) })
      // A failed or late acknowledgement only means the thread is terminated below instead of
      // having finished its work: stop() still completes, which is what the caller asked for.
      await Promise.race([this.#channel.requestStop().catch(() => undefined), timedOut])
      clearTimeout(timer)
    }
    // A replacement in its onRestart hook gets no graceful stop: closing its channel fails the
    // hook's calls, so the restart loop cannot hang on them.
    if (previous !== 'running') this.#channel.close()
    await this.#restartLoop
    this.#channel.close()
    await this.#worker.terminate()
    await this.#exited
    this.#state = 'stopped'
  }

  async #requestAfterRestart(op: number, payload: RingPayload): Promise<Buffer> {
    const gate = this.#gate
    if (gate === undefined) throw this.#lastFailure ?? this.#stoppedError()
    if (gate.error !== undefined) throw gate.error
    await gate.promise
    // The gate opens only on 'running'; re-dispatch in case the new worker died meanwhile.
    return this.request(op, payload)
  }

  /** Creates the channel of a ready worker and watches the worker for its death. */
  #install(incarnation: Incarnation): ShardChannel {
    const { worker, rings } = incarnation
    worker.on('error', (err: Error) => this.#onWorkerGone(worker, err, `${err.name}: ${err.message}`))
    worker.once('exit', (code: number) => this.#onWorkerGone(worker, undefined, `exited with code ${code}`))
    return new ShardChannel(rings, {
      busyPollUs: this.#opts.busyPollUs,
      onBroken: (err: ShardlogError) => {
        // The worker wrote frames that break the ring rules: it cannot be trusted any more.
        this.#onWorkerGone(worker, err, err.message)
        void worker.terminate()
      },
    })
  }

  /** Handles the death of `worker` once: fails its calls, then restarts it or marks the host dead. */
  #onWorkerGone(worker: Worker, cause: Error | undefined, why: string): void {
    if (worker !== this.#worker || this.#workerGone) return
    this.#workerGone = true
    const err = new KafkaStorageError(`shard ${this.shardId} died: ${why}`, cause === undefined ? undefined : { cause })
    this.#lastFailure = err
    this.#channel.failAll(err)
    if (this.#state !== 'running') return // stopping: stop() finishes; restarting: the loop sees #workerGone
    if (this.#opts.restart === false) {
      this.#state = 'dead'
      return
    }
    this.#state = 'restarting'
    this.#gate = this.#openGate(err)
    this.#restartLoop = this.#restart(err).catch((loopErr: unknown) => {
      // #restart catches what it expects; anything else is a bug worth seeing, not a crash.
      process.emitWarning(`shard ${this.shardId} restart loop failed: ${String(loopErr)}`)
    })
  }

  #openGate(reason: Error): RestartGate {
    let open!: () => void
    let reject!: (err: Error) => void
    const promise = new Promise<void>((resolve, fail) => { open = resolve; reject = fail })
    // Callers await the gate; an expiry with nobody waiting must not count as unhandled.
    promise.catch(() => undefined)
    const waitMs = this.#opts.restartWaitMs ?? kDefaultRestartWaitMs
    const gate: RestartGate = {
      promise,
      error: undefined,
      open: () => { clearTimeout(gate.timer); open() },
      expire: (err: Error) => {
        clearTimeout(gate.timer)
        gate.error ??= err
        reject(gate.error)
      },
      timer: setTimeout(() => gate.expire(new KafkaStorageError(
        `shard ${this.shardId} is restarting after: ${reason.message}; no replacement within ${waitMs} ms`,
        { cause: reason })), waitMs).unref(),
    }
    return gate
  }

  /** Brings up replacements until one serves (backoff between failures) or the host stops. */
  async #restart(reason: Error): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await this.#backoff(attempt)
      if (this.#state !== 'restarting') return
      let incarnation: Incarnation
      try {
        incarnation = await spawnWorker(this.#opts, (worker) => { this.#starting = worker })
      } catch {
        // The replacement failed to start (or stop() ended it); its error is the same kind of
        // KafkaStorageError that callers already got for the death. Try again after the backoff.
        continue
      } finally {
        this.#starting = undefined
      }
      if (this.#state !== 'restarting') {
        await incarnation.worker.terminate()
        return
      }
      this.#worker = incarnation.worker
      this.#workerGone = false
      this.#exited = exitOf(incarnation.worker)
      this.#channel = this.#install(incarnation)
      this.#recovering = true
      await runRestartHook(this, this.shardId, this.#opts.onRestart, reason)
      this.#recovering = false
      if (this.#state !== 'restarting') return
      if (this.#workerGone) {
        reason = this.#lastFailure ?? reason // the replacement died during onRestart: go again
        continue
      }
      this.#state = 'running'
      this.#restarts++
      this.#gate?.open()
      this.#gate = undefined
      for (const waiter of this.#readyWaiters.splice(0)) waiter.resolve()
      return
    }
  }

  #backoff(attempt: number): Promise<void> {
    const delayMs = Math.min(kRestartBackoffMs * 2 ** (attempt - 1), kMaxRestartBackoffMs)
    return new Promise((resolve) => {
      const timer = setTimeout(done, delayMs)
      function done(): void { clearTimeout(timer); resolve() }
      this.#wakeBackoff = done
    })
  }

  #stoppedError(): BrokerNotAvailableError {
    return new BrokerNotAvailableError(`shard ${this.shardId} is stopped`)
  }
}

/** Throws INVALID_CONFIG unless `value` is undefined or a valid {@link ShardHostOptions.busyPollUs}. */
export function assertBusyPollUs(value: unknown): void {
  if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0 && (value as number) <= kMaxBusyPollUs)) {
    throw new InvalidConfigError(`busyPollUs must be an integer from 0 to ${kMaxBusyPollUs} microseconds, got ${String(value)}`)
  }
}

function validateOptions(opts: ShardHostOptions): void {
  if (!Number.isInteger(opts.shardId) || opts.shardId < 0) {
    throw new InvalidConfigError(`shardId must be a non-negative integer, got ${opts.shardId}`)
  }
  if (!(opts.workerUrl instanceof URL)) throw new InvalidConfigError('workerUrl must be a URL')
  if (typeof opts.workerData !== 'object' || opts.workerData === null) {
    throw new InvalidConfigError('workerData must be an object')
  }
  assertBusyPollUs(opts.busyPollUs)
  for (const key of ['startTimeoutMs', 'restartWaitMs', 'stopTimeoutMs'] as const) {
    const value = opts[key]
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new InvalidConfigError(`${key} must be a non-negative number of milliseconds, got ${value}`)
    }
  }
}

/** Starts a worker with fresh rings and waits for its ready message; `onSpawned` sees the thread at once. */
function spawnWorker(opts: ShardHostOptions, onSpawned?: (worker: Worker) => void): Promise<Incarnation> {
  const { shardId } = opts
  const rings = createShardRings(opts.ringBytes ?? kDefaultRingBytes)
  const workerData: ShardWorkerData<object> = { ...opts.workerData, shardId, rings, busyPollUs: opts.busyPollUs ?? 0 }
  let worker: Worker
  try {
    worker = new Worker(opts.workerUrl, {
      workerData,
      execArgv: opts.execArgv ?? workerExecArgv(opts.workerUrl),
      name: `shardlog-shard-${shardId}`,
    })
  } catch (err) {
    return Promise.reject(new KafkaStorageError(`shard ${shardId} failed to start: ${(err as Error).message}`,
      { cause: err }))
  }
  onSpawned?.(worker)
  const timeoutMs = opts.startTimeoutMs ?? kDefaultStartTimeoutMs
  return new Promise<Incarnation>((resolve, reject) => {
    const timer = setTimeout(() => fail(new KafkaStorageError(
      `shard ${shardId} failed to start: not ready within ${timeoutMs} ms`)), timeoutMs)
    const onMessage = (message: unknown): void => {
      if (!isShardReadyMessage(message)) return
      cleanup()
      resolve({ worker, rings })
    }
    const onError = (err: Error): void =>
      fail(new KafkaStorageError(`shard ${shardId} failed to start: ${err.name}: ${err.message}`, { cause: err }))
    const onExit = (code: number): void =>
      fail(new KafkaStorageError(`shard ${shardId} failed to start: exited with code ${code}`))
    function cleanup(): void {
      clearTimeout(timer)
      worker.off('message', onMessage)
      worker.off('error', onError)
      worker.off('exit', onExit)
    }
    function fail(err: KafkaStorageError): void {
      cleanup()
      // A failed start may leave 'error' events behind (e.g. after terminate): keep them handled.
      worker.on('error', () => undefined)
      void worker.terminate()
      reject(err)
    }
    worker.on('message', onMessage)
    worker.on('error', onError)
    worker.on('exit', onExit)
  })
}

/** Resolves when `worker` has exited (never rejects, unlike `events.once` on an 'error'). */
function exitOf(worker: Worker): Promise<void> {
  return new Promise((resolve) => worker.once('exit', () => resolve()))
}
