/**
 * Runs a shard's `onRestart` hook (the broker reopens the shard's partitions there) in an async
 * context of its own, so the shard can let the hook's own calls through while every other
 * caller waits for the restart to finish. Shared by `ShardHost` and `InThreadShard`.
 */
import { AsyncLocalStorage } from 'node:async_hooks'

/** The shard whose hook is running, in the async context of that hook's calls. */
const restartHookScope = new AsyncLocalStorage<object>()

/** An `onRestart` hook: the shard's number and what killed its predecessor. */
export type RestartHook = (shardId: number, reason: Error) => void | Promise<void>

/** True when called from within `shard`'s running `onRestart` hook (or what it awaits). */
export function isInRestartHookOf(shard: object): boolean {
  return restartHookScope.getStore() === shard
}

/**
 * Runs `hook` for `shard`. A failure does not stop the shard: what the hook failed to redo (say,
 * reopen a partition) surfaces as that partition's own errors, and is reported as a process
 * warning, where operators look.
 */
export async function runRestartHook(shard: object, shardId: number, hook: RestartHook | undefined, reason: Error): Promise<void> {
  if (hook === undefined) return
  try {
    await restartHookScope.run(shard, () => hook(shardId, reason))
  } catch (err) {
    process.emitWarning(`shard ${shardId} onRestart failed: ${err instanceof Error ? err.message : String(err)}`)
  }
}
