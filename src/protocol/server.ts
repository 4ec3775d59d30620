/**
 * `KafkaServer`: one broker's Kafka wire-protocol listener, a `net.Server` whose connections
 * are each served by a {@link ConnectionHandler}. It runs on the main thread with the engine;
 * requests reach the shards through the engine's routing.
 *
 * Lifecycle: {@link KafkaServer.start} binds (rejecting if the port is taken), then accepts
 * until {@link KafkaServer.close}, which stops accepting and closes every open connection
 * (requests still being handled are dropped, as when a Kafka broker shuts down).
 */
import { createHash } from 'node:crypto'
import net from 'node:net'
import os from 'node:os'
import type { ClusterEngine } from '../cluster/cluster-engine.js'
import type { GroupCoordinator } from '../group/group-coordinator.js'
import { NetworkError } from '../errors.js'
import { ConnectionHandler, type ConnectionOptions } from './connection-handler.js'
import { stderrLogger, type BrokerContext, type BrokerEndpoint, type ProtocolLogger } from './handlers/index.js'

/** Options of {@link KafkaServer.start}. */
export interface KafkaServerOptions {
  engine: ClusterEngine
  /** The broker this listener serves. */
  brokerId: number
  /** The group coordinator, started on first use. */
  groups: () => Promise<GroupCoordinator>
  /** Interface to bind (`listeners` in Kafka's terms), e.g. `127.0.0.1`. */
  host: string
  /** Port to bind; 0 picks a free one. */
  port: number
  /**
   * Host clients are told to connect to (Kafka's `advertised.listeners`). Default: `host`,
   * or the machine's hostname when `host` is a wildcard (`0.0.0.0`, `::`).
   */
  advertisedHost?: string
  /** Every broker's endpoint, for Metadata and FindCoordinator. Default: only this one. */
  endpoints?: () => readonly BrokerEndpoint[]
  /** Kafka cluster id. Default: derived from the engine's data directory (stable across restarts). */
  clusterId?: string
  /** Where connection problems are logged. Default: stderr. */
  logger?: ProtocolLogger
  /** Per-connection limits; `maxFrameBytes` defaults to the engine's `socket.request.max.bytes`. */
  connection?: Partial<ConnectionOptions>
}

/** One broker's listener. */
export class KafkaServer {
  private readonly connections = new Set<ConnectionHandler>()
  private closing: Promise<void> | undefined

  private constructor(
    private readonly server: net.Server,
    /** Where clients reach this listener (advertised host, bound port). */
    readonly endpoint: BrokerEndpoint,
    /** The interface actually bound. */
    readonly boundHost: string,
  ) {}

  /** Binds the listener and starts accepting connections. Rejects with NETWORK_EXCEPTION if the address cannot be bound. */
  static async start(options: KafkaServerOptions): Promise<KafkaServer> {
    const logger = options.logger ?? stderrLogger
    const server = net.createServer({ noDelay: true })
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error): void => reject(new NetworkError(`broker ${options.brokerId} cannot listen on ${hostPort(options.host, options.port)}: ${err.message}`, { cause: err }))
      server.once('error', onError)
      server.listen({ host: options.host, port: options.port }, () => {
        server.off('error', onError)
        resolve()
      })
    })
    const bound = server.address() as net.AddressInfo
    const endpoint: BrokerEndpoint = {
      brokerId: options.brokerId,
      host: options.advertisedHost ?? advertisedHostFor(options.host),
      port: bound.port,
    }
    const kafkaServer = new KafkaServer(server, endpoint, bound.address)
    const broker: BrokerContext = {
      engine: options.engine,
      brokerId: options.brokerId,
      groups: options.groups,
      endpoints: options.endpoints ?? (() => [endpoint]),
      clusterId: options.clusterId ?? clusterIdFor(options.engine),
      logger,
    }
    const connectionOptions: ConnectionOptions = { maxFrameBytes: options.engine.config.socketRequestMaxBytes, ...options.connection }
    server.on('connection', (socket) => kafkaServer.accept(socket, broker, connectionOptions))
    // After listening, a server error (e.g. EMFILE on accept) must not crash the process.
    server.on('error', (err) => logger.error(`listener of broker ${options.brokerId}: ${err.message}`))
    return kafkaServer
  }

  /** Open connections. */
  get connectionCount(): number {
    return this.connections.size
  }

  private accept(socket: net.Socket, broker: BrokerContext, options: ConnectionOptions): void {
    if (this.closing !== undefined) {
      socket.destroy()
      return
    }
    const connection = new ConnectionHandler(socket, broker, options)
    this.connections.add(connection)
    void connection.closed.then(() => this.connections.delete(connection))
  }

  /** Stops accepting, closes every connection, and resolves once the listener is closed. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      for (const c of this.connections) c.close()
    })
    return this.closing
  }
}

/** `host:port`, with IPv6 hosts in brackets. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}

function advertisedHostFor(host: string): string {
  return host === '0.0.0.0' || host === '::' || host === '' ? os.hostname() : host
}

/**
 * A Kafka-style cluster id (16 bytes, base64url) for an engine: derived from its data
 * directory, so the same data directory always reports the same id.
 */
export function clusterIdFor(engine: ClusterEngine): string {
  return createHash('sha256').update(`shardlog:${engine.options.dataDir}`).digest().subarray(0, 16).toString('base64url')
}
