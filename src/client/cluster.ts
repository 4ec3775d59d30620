/**
 * `Cluster`: the entry point of the in-process API. It starts the engine (controller,
 * brokers, shard workers) over a data directory and hands out kafkajs-shaped admin,
 * producer and consumer clients; with `listeners` it also serves the Kafka wire protocol.
 */
import fs from 'node:fs'
import path from 'node:path'
import { ClusterEngine } from '../cluster/cluster-engine.js'
import { Admin } from './admin.js'
import { Producer, type ProducerConfig } from './producer.js'
import { Consumer, type ConsumerConfig } from './consumer.js'
import { GroupService } from '../cluster/group-service.js'
import type { GroupCoordinator } from '../group/group-coordinator.js'
import { InvalidConfigError } from '../errors.js'
import { startListeners, type Listeners } from '../protocol/listeners.js'
import { assertBusyPollUs } from '../shard/shard-host.js'
import type { ShardLink } from '../shard/shard-link.js'

/**
 * One broker of a running cluster, for inspection and fault injection in users' own tests.
 * ```ts
 * const leader = (await admin.fetchTopicMetadata({ topics: ['orders'] })).topics[0].partitions[0].leader
 * await cluster.broker(leader).kill()      // abrupt: its workers are terminated
 * // ... producers retry, the controller elects a new leader from the ISR ...
 * await cluster.broker(leader).restart()   // it recovers, catches up and rejoins the ISR
 * ```
 */
export interface BrokerHandle {
  readonly id: number
  /** The broker's shards (each owns some partition replicas): its workers, or the one on the main thread with `shards: 0`. */
  readonly shards: readonly ShardLink[]
  /** True unless killed or shut down. */
  readonly isRunning: boolean
  /** True while paused. */
  readonly isPaused: boolean
  /** Abrupt stop: workers terminated, no clean shutdown, its listener closed; the controller notices by missed heartbeats. */
  kill(): Promise<void>
  /** Controlled shutdown: leadership moves to other in-sync replicas first, then a clean stop. */
  shutdown(): Promise<void>
  /** Starts a killed or shut-down broker again; it recovers its logs, catches up and rejoins the ISR. */
  restart(): Promise<void>
  /** Hangs the broker: no heartbeats, no processing (calls to it wait) until resume(). */
  pause(): void
  /** Ends a pause. */
  resume(): void
}

/** Options of {@link Cluster.start}. */
export interface ClusterOptions {
  /** Root data directory (brokers live in `broker-<id>/`, metadata in `metadata/`). Default `./data`. */
  dataDir?: string
  /** Number of brokers. Default 1. */
  brokers?: number
  /**
   * Shard worker threads per broker. Default `os.availableParallelism()`. 0: no shard
   * threads; each broker serves its partitions on this thread, which spares every produce and
   * fetch two thread wake-ups (the lowest latency; see BENCHMARKS.md) and gives the broker one
   * core: its storage I/O runs on your event loop. Integer from 0 to 256.
   */
  shards?: number
  /** Server settings with Kafka's names, as in server.properties (`num.partitions`, `log.retention.ms`, ...). */
  config?: Record<string, string>
  /**
   * Bound on open file handles per broker. Default: half the process's open-files limit
   * (from /proc/self/limits on Linux; 1000 elsewhere), between 256 and 8192.
   */
  maxOpenFiles?: number
  /** Bytes of each shard ring (one for requests, one for responses). Default 8 MiB. */
  ringBytes?: number
  /**
   * Microseconds the main thread and each shard worker keep polling the rings between them,
   * once per event-loop turn, after the last request or response before they sleep (as
   * Linux's `net.core.busy_poll` does for sockets). Default 0: sleep at once, as a Kafka
   * broker's threads do. Waking a sleeping thread costs tens of microseconds, and now and
   * then milliseconds on a VM, on every produce and fetch: polling removes that from the
   * latency, and burns a core per polling thread while traffic flows (none once it stops for
   * longer than this). Worth it with a core per shard plus one for the main thread, e.g.
   * `{ shards: 1, busyPollUs: 1000 }` on 2 cores. Integer from 0 to 1,000,000; only 0 with
   * `shards: 0`.
   */
  busyPollUs?: number
  /**
   * Serve the Kafka wire protocol: `true` for loopback on free ports, or `{ host, port }`
   * (broker i listens on port + i; port 0 picks free ports). Then `cluster.bootstrap` is
   * the address to hand to kafkajs, kcat or any Kafka client.
   */
  listeners?: boolean | { host?: string; port?: number; advertisedHost?: string }
}

/** A running shardlog cluster. */
export class Cluster {
  private readonly groups: GroupService
  private readonly clients = new Set<{ disconnect(): Promise<void> }>()
  private listeners: Listeners | undefined

  private constructor(readonly engine: ClusterEngine, readonly dataDir: string) {
    this.groups = new GroupService(engine)
  }

  /** `host:port` of broker 0's Kafka listener (with the `listeners` option), for Kafka clients. */
  get bootstrap(): string | undefined {
    return this.listeners?.bootstrap
  }

  /** Every broker's Kafka listener address (with the `listeners` option). */
  get listenerAddresses(): ReadonlyArray<{ brokerId: number; host: string; port: number }> {
    return this.listeners?.addresses ?? []
  }

  /** Starts a cluster: every topic, record and committed offset of `dataDir` is back. */
  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const brokers = options.brokers ?? 1
    if (!Number.isInteger(brokers) || brokers < 1 || brokers > 64) throw new InvalidConfigError(`brokers must be an integer from 1 to 64, got ${String(options.brokers)}`)
    const shards = options.shards ?? ClusterEngine.defaultShards()
    if (!Number.isInteger(shards) || shards < 0 || shards > 256) throw new InvalidConfigError(`shards must be an integer from 0 to 256, got ${String(options.shards)}`)
    const { busyPollUs } = options
    assertBusyPollUs(busyPollUs)
    if (shards === 0 && busyPollUs !== undefined && busyPollUs > 0) {
      throw new InvalidConfigError('busyPollUs polls the rings between this thread and the shard workers; with shards: 0 there are none')
    }
    const dataDir = path.resolve(options.dataDir ?? './data')
    const engine = await ClusterEngine.start({
      dataDir,
      brokers,
      shards,
      config: options.config ?? {},
      maxOpenFiles: options.maxOpenFiles ?? defaultMaxOpenFiles(brokers),
      ringBytes: options.ringBytes,
      busyPollUs,
    })
    const cluster = new Cluster(engine, dataDir)
    if (options.listeners) {
      const l = options.listeners === true ? {} : options.listeners
      try {
        cluster.listeners = await startListeners(engine, () => cluster.groups.coordinator(), {
          host: l.host ?? '127.0.0.1',
          port: l.port ?? 0,
          advertisedHost: l.advertisedHost,
        })
      } catch (err) {
        await cluster.stop()
        throw err
      }
    }
    return cluster
  }

  /** An admin client. */
  admin(): Admin {
    return new Admin(this.engine, () => this.groups.coordinator())
  }

  /** A producer (kafkajs options plus lingerMs/batchSize/acks/compression). */
  producer(config: ProducerConfig = {}): Producer {
    const p = new Producer(this.engine, config)
    this.clients.add(p)
    return p
  }

  /** A consumer; with `groupId` it joins that consumer group. */
  consumer(config: ConsumerConfig = {}): Consumer {
    const c = new Consumer(this.engine, () => this.groups.coordinator(), config)
    this.clients.add(c)
    return c
  }

  /** The group coordinator (started on first use, as Kafka loads `__consumer_offsets` lazily). */
  groupCoordinator(): Promise<GroupCoordinator> {
    return this.groups.coordinator()
  }

  /** A broker, for inspection and fault injection. */
  broker(id: number): BrokerHandle {
    const b = this.engine.brokers[id]
    if (!b) throw new InvalidConfigError(`No broker ${id}: the cluster has ${this.engine.brokers.length}`)
    const engine = this.engine
    return {
      id,
      get shards() { return b.shards },
      get isRunning() { return !b.isStopped },
      get isPaused() { return b.isPaused },
      // A dead broker also stops listening, so Kafka clients see its connections refused.
      kill: async () => {
        await this.listeners?.stopBroker(id)
        await engine.killBroker(id)
      },
      shutdown: async () => {
        await engine.shutdownBroker(id)
        await this.listeners?.stopBroker(id)
      },
      restart: async () => {
        await engine.restartBroker(id)
        await this.listeners?.startBroker(id)
      },
      pause: () => b.pause(),
      resume: () => b.resume(),
    }
  }

  /** Cuts a broker off from the other brokers and the controller (clients still reach it). */
  isolate(id: number): void {
    this.engine.isolate(id)
  }

  /** Ends every isolation. */
  heal(): Promise<void> {
    return this.engine.heal()
  }

  /** Flushes every log to disk (fsync). */
  flush(): Promise<void> {
    return this.engine.flush()
  }

  /** Stops clients, closes every log cleanly and stops the workers. */
  async stop(): Promise<void> {
    await this.listeners?.close()
    this.listeners = undefined
    await Promise.all([...this.clients].map((c) => c.disconnect().catch(() => undefined)))
    this.clients.clear()
    await this.groups.close()
    await this.engine.stop()
  }
}

/**
 * Half the soft open-files limit, shared by the brokers: segments keep three files each
 * (.log, .index, .timeindex), and a bound well below the limit leaves room for sockets.
 */
function defaultMaxOpenFiles(brokers: number): number {
  let limit = 2000
  try {
    const m = /^Max open files\s+(\d+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'))
    if (m) limit = Number(m[1])
  } catch {
    // Not Linux: keep the conservative default.
  }
  return Math.max(256, Math.min(8192, Math.floor(limit / 2 / brokers)))
}
