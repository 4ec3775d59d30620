/**
 * What a broker needs of one of its shards, however the shard is run: on a worker thread
 * behind the rings (`ShardHost`, the default) or on the broker's own thread (`InThreadShard`,
 * `shards: 0`). Lives on the main thread.
 */
import type { RingPayload } from './ring.js'

/** One shard of a broker, as the broker and the clients reach it. */
export interface ShardLink {
  /** The shard's number within its broker. */
  readonly shardId: number
  /** Times the shard came back after a death (a crashed or killed worker, a `kill()`). */
  readonly restarts: number
  /** True while the shard serves requests normally (not restarting, not stopped). */
  readonly isRunning: boolean
  /**
   * Sends a request to the shard; resolves with its response payload. Rejects with the
   * handler's typed error, with KAFKA_STORAGE_ERROR when the shard dies first, with
   * BROKER_NOT_AVAILABLE after `stop()`. The payload is copied before this returns.
   */
  request(op: number, payload: RingPayload): Promise<Buffer>
  /** Resolves once the shard serves requests (at once unless restarting). */
  whenReady(): Promise<void>
  /**
   * Fault injection: the shard dies abruptly, without closing its logs. Pending calls reject at
   * once with KAFKA_STORAGE_ERROR; with restart on, the shard comes back and recovers its logs.
   */
  kill(): Promise<void>
  /** Graceful stop, no restart; later calls reject with BROKER_NOT_AVAILABLE. Idempotent. */
  stop(): Promise<void>
}
