/**
 * Starts a Kafka wire-protocol listener for every broker of an engine: broker `i` listens on
 * `port + i` (or each on a free port when `port` is 0), and every listener advertises all of
 * them, so a client bootstrapped at broker 0 finds the others through Metadata.
 */
import type { ClusterEngine } from '../cluster/cluster-engine.js'
import { InvalidConfigError } from '../errors.js'
import type { GroupCoordinator } from '../group/group-coordinator.js'
import type { ConnectionOptions } from './connection-handler.js'
import type { BrokerEndpoint, ProtocolLogger } from './handlers/index.js'
import { clusterIdFor, hostPort, KafkaServer } from './server.js'

/** Options of {@link startListeners}. */
export interface ListenerOptions {
  /** Interface to bind, e.g. `127.0.0.1` (loopback) or `0.0.0.0`. */
  host: string
  /** Port of broker 0; broker `i` gets `port + i`. 0 = a free port for each broker. */
  port: number
  /** Host advertised to clients (Kafka's `advertised.listeners`); default `host`, or the hostname for a wildcard. */
  advertisedHost?: string
  /** Where connection problems are logged; default stderr. */
  logger?: ProtocolLogger
  /** Per-connection limits (`maxFrameBytes` defaults to `socket.request.max.bytes`). */
  connection?: Partial<ConnectionOptions>
}

/** The running listeners of a cluster. */
export interface Listeners {
  /** `host:port` of broker 0: the bootstrap server to give clients. */
  readonly bootstrap: string
  /** Every broker's advertised address. */
  readonly addresses: ReadonlyArray<{ brokerId: number; host: string; port: number }>
  /** The listeners themselves, by broker id. */
  readonly servers: readonly KafkaServer[]
  /** Closes one broker's listener and its connections, as a dead broker refuses connections. */
  stopBroker(brokerId: number): Promise<void>
  /** Listens again for a broker, on the address it had. */
  startBroker(brokerId: number): Promise<void>
  /** Closes every listener and connection. */
  close(): Promise<void>
}

/**
 * Starts one listener per broker. Rejects with NETWORK_EXCEPTION (after closing those already
 * started) when a port cannot be bound.
 */
export async function startListeners(
  engine: ClusterEngine,
  groups: () => Promise<GroupCoordinator>,
  opts: ListenerOptions,
): Promise<Listeners> {
  if (engine.brokers.length === 0) throw new InvalidConfigError('The cluster has no brokers to listen for')
  const endpoints: BrokerEndpoint[] = []
  const servers: KafkaServer[] = []
  const clusterId = clusterIdFor(engine)
  const serverFor = (brokerId: number, port: number): Promise<KafkaServer> => KafkaServer.start({
    engine,
    brokerId,
    groups,
    host: opts.host,
    port,
    advertisedHost: opts.advertisedHost,
    endpoints: () => endpoints,
    clusterId,
    logger: opts.logger,
    connection: opts.connection,
  })
  try {
    for (const broker of engine.brokers) {
      const server = await serverFor(broker.id, opts.port === 0 ? 0 : opts.port + broker.id)
      servers.push(server)
      endpoints.push(server.endpoint)
    }
  } catch (err) {
    await Promise.all(servers.map((s) => s.close()))
    throw err
  }
  const stopped = new Set<number>()
  const first = endpoints[0]!
  let closing: Promise<void> | undefined
  return {
    bootstrap: hostPort(first.host, first.port),
    addresses: endpoints.map((e) => ({ brokerId: e.brokerId, host: e.host, port: e.port })),
    servers,
    stopBroker: async (brokerId) => {
      const server = servers[brokerId]
      if (!server || stopped.has(brokerId)) return
      stopped.add(brokerId)
      await server.close()
    },
    startBroker: async (brokerId) => {
      if (!stopped.has(brokerId) || closing) return
      servers[brokerId] = await serverFor(brokerId, endpoints[brokerId]!.port)
      stopped.delete(brokerId)
    },
    close: () => {
      closing ??= Promise.all(servers.map((s) => s.close())).then(() => undefined)
      return closing
    },
  }
}
