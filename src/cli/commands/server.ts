/**
 * `shardlog server`: runs the embedded cluster as a Kafka-compatible server, one listener per
 * broker, until SIGINT/SIGTERM.
 *
 * ```
 * shardlog server [--port 9092] [--host 127.0.0.1] [--data-dir ./data] [--brokers N] [--shards S] [--config server.properties]
 * ```
 *
 * Broker `i` listens on `port + i`. It binds to loopback unless `--host` says otherwise (a
 * wildcard host advertises the machine's hostname, or `--advertised-host`). On a signal it
 * stops accepting, flushes every log, closes them cleanly (writing the clean-shutdown
 * markers, so the next start skips recovery) and exits; a second signal exits at once.
 */
import fs from 'node:fs'
import { Command, InvalidArgumentError } from 'commander'
import { Cluster } from '../../client/cluster.js'
import { ClusterEngine } from '../../cluster/cluster-engine.js'
import { parsePropertiesFile } from '../../cluster/server-config.js'
import { startListeners, type Listeners } from '../../protocol/listeners.js'
import type { ProtocolLogger } from '../../protocol/handlers/index.js'

/** Options of {@link startServer}, as the command's flags give them. */
export interface ServerOptions {
  host: string
  /** Port of broker 0 (0 = a free port per broker). */
  port: number
  dataDir: string
  brokers: number
  shards: number
  /** Path of a server.properties file, if any. */
  config?: string
  advertisedHost?: string
}

/** A running server. */
export interface RunningServer {
  readonly cluster: Cluster
  readonly listeners: Listeners
  /** Stops listening, flushes and closes every log cleanly. Idempotent. */
  stop(): Promise<void>
}

/** Where the server writes its lines; the process's streams by default. */
export interface ServerCommandIo {
  out(line: string): void
  logger?: ProtocolLogger
}

const processIo: ServerCommandIo = { out: (line) => { process.stdout.write(`${line}\n`) } }

/** Starts the cluster and its listeners, and prints where to find them. */
export async function startServer(options: ServerOptions, io: ServerCommandIo = processIo): Promise<RunningServer> {
  const config = options.config === undefined ? {} : parsePropertiesFile(fs.readFileSync(options.config, 'utf8'))
  const cluster = await Cluster.start({ dataDir: options.dataDir, brokers: options.brokers, shards: options.shards, config })
  let listeners: Listeners
  try {
    listeners = await startListeners(cluster.engine, () => cluster.groupCoordinator(), {
      host: options.host,
      port: options.port,
      advertisedHost: options.advertisedHost,
      logger: io.logger,
    })
  } catch (err) {
    await cluster.stop()
    throw err
  }
  const shards = options.shards === 0 ? 'partitions on the main thread' : `${options.shards} shard(s)`
  io.out(`shardlog server: ${options.brokers} broker(s) x ${shards}, data directory ${cluster.dataDir}`)
  for (const a of listeners.addresses) io.out(`broker ${a.brokerId} listening on ${a.host}:${a.port}`)
  io.out(`bootstrap server: ${listeners.bootstrap}`)
  let stopping: Promise<void> | undefined
  return {
    cluster,
    listeners,
    stop: () => {
      stopping ??= (async () => {
        await listeners.close()
        await cluster.flush()
        await cluster.stop()
      })()
      return stopping
    },
  }
}

function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}, got "${value}"`)
    return n
  }
}

/** The `server` command. */
export function serverCommand(): Command {
  return new Command('server')
    .description('run the embedded cluster as a Kafka-compatible server (one listener per broker) until SIGINT/SIGTERM')
    .option('--port <port>', 'port of broker 0; broker i listens on port + i (0 = free ports)', integer(0), 9092)
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--advertised-host <host>', 'host name clients are told to connect to (default: --host)')
    .option('--data-dir <dir>', 'data directory', './data')
    .option('--brokers <n>', 'number of brokers', integer(1), 1)
    .option('--shards <n>', 'shard worker threads per broker (0: partitions on the main thread)', integer(0), ClusterEngine.defaultShards())
    .option('--config <file>', 'server.properties with Kafka server settings')
    .action(async (o: ServerOptions) => {
      const server = await startServer(o)
      await new Promise<void>((resolve, reject) => {
        const onSignal = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', onSignal)
          process.off('SIGTERM', onSignal)
          // A second signal while shutting down means "now".
          const forceExit = (): void => process.exit(1)
          process.once('SIGINT', forceExit)
          process.once('SIGTERM', forceExit)
          process.stdout.write(`${signal}: shutting down\n`)
          server.stop().then(() => {
            process.off('SIGINT', forceExit)
            process.off('SIGTERM', forceExit)
            process.stdout.write('shardlog server stopped cleanly\n')
            resolve()
          }, reject)
        }
        process.on('SIGINT', onSignal)
        process.on('SIGTERM', onSignal)
      })
    })
}
