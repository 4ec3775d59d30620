/**
 * The load-test targets: the embedded cluster and any Kafka bootstrap server, and the factory
 * the `shardlog perf` command uses to choose between them.
 */
import type { PerfTargetFactory } from '../target.js'
import { embeddedTarget } from './embedded-target.js'
import { wireTarget } from './wire-target.js'

export { embeddedTarget, type EmbeddedTargetOptions } from './embedded-target.js'
export { wireTarget } from './wire-target.js'

/** `--bootstrap host:port` measures that server over the wire; without it, a fresh embedded cluster. */
export const createPerfTarget: PerfTargetFactory = async ({ bootstrap, shards, busyPollUs }) =>
  bootstrap !== undefined && bootstrap !== '' ? wireTarget(bootstrap) : embeddedTarget({ shards, busyPollUs })
