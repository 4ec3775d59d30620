/**
 * Entry point of a shard worker thread: wires the ring transport to a ShardRuntime.
 * Everything else lives in src/shard/.
 */
import { workerData } from 'node:worker_threads'
import { serveShard } from '../src/shard/shard-endpoint.js'
import { ShardRuntime, type ShardRuntimeOptions } from '../src/shard/shard-runtime.js'
import type { ShardWorkerData } from '../src/shard/frame.js'

const { rings, options, busyPollUs } = workerData as ShardWorkerData<{ options: ShardRuntimeOptions }>
const runtime = new ShardRuntime(options)
serveShard(rings, (op, payload) => runtime.handle(op, payload), { busyPollUs })
