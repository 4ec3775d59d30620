/**
 * What a wire API handler receives besides its decoded request: the broker it runs on (the
 * engine, the group coordinator, every broker's listener address) and the request's own
 * context (version, client, connection). Handlers run on the main thread, on the listener's
 * event loop; they call the engine, which routes to the shards.
 *
 * Contract of a handler: answer every failure inside the response with Kafka's error code
 * (per partition, per topic, per group, as the API's schema allows) and never throw for bad
 * input. A handler that throws anyway makes the connection close (see connection-handler.ts).
 */
import type { ClusterEngine } from '../../cluster/cluster-engine.js'
import type { GroupCoordinator } from '../../group/group-coordinator.js'
import type { ApiKey } from '../api-keys.js'
import type { ApiRequests, ApiResponses } from '../messages/index.js'

/** Where a broker's listener can be reached, as advertised in Metadata and FindCoordinator. */
export interface BrokerEndpoint {
  readonly brokerId: number
  readonly host: string
  readonly port: number
}

/**
 * The server's log sink. Lines are short and single-line (stack traces only for bugs).
 * The default writes to stderr; tests inject a collecting one.
 */
export interface ProtocolLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** A logger that writes `[shardlog] level: message` lines to stderr. */
export const stderrLogger: ProtocolLogger = {
  info: (message) => { process.stderr.write(`[shardlog] ${message}\n`) },
  warn: (message) => { process.stderr.write(`[shardlog] warn: ${message}\n`) },
  error: (message) => { process.stderr.write(`[shardlog] error: ${message}\n`) },
}

/** A logger that drops everything. */
export const silentLogger: ProtocolLogger = { info: () => undefined, warn: () => undefined, error: () => undefined }

/** The broker a listener serves: shared by all connections of that listener. */
export interface BrokerContext {
  readonly engine: ClusterEngine
  /** The id of the broker this listener belongs to (its partitions are the ones it leads). */
  readonly brokerId: number
  /** The group coordinator, started on first use (creates `__consumer_offsets`). */
  readonly groups: () => Promise<GroupCoordinator>
  /** Every running listener of the cluster, this one included. */
  readonly endpoints: () => readonly BrokerEndpoint[]
  /** Kafka's cluster id (22 base64url characters), as returned in Metadata v2+. */
  readonly clusterId: string
  readonly logger: ProtocolLogger
}

/** One request as a handler sees it. */
export interface RequestContext {
  readonly broker: BrokerContext
  readonly apiVersion: number
  readonly correlationId: number
  readonly clientId: string | null
  /** The client's address as Kafka shows it in DescribeGroups (`/127.0.0.1`). */
  readonly clientHost: string
  /**
   * Closes the connection once the responses queued before this request are written.
   * Kafka does this when an acks=0 Produce fails, the only way such a client learns of it.
   */
  closeConnection(reason: string): void
}

/** Returned by a handler when the request gets no response at all (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('shardlog.protocol.noResponse')

/** What a handler returns: the response body, or {@link NO_RESPONSE}. */
export type HandlerResult<K extends ApiKey> = ApiResponses[K] | typeof NO_RESPONSE

/** One API's request handler. */
export interface ApiHandler<K extends ApiKey> {
  readonly apiKey: K
  handle(request: ApiRequests[K], ctx: RequestContext): HandlerResult<K> | Promise<HandlerResult<K>>
}

/** Builds an {@link ApiHandler} (keeps the request/response types tied to the key). */
export function defineHandler<K extends ApiKey>(
  apiKey: K,
  handle: (request: ApiRequests[K], ctx: RequestContext) => HandlerResult<K> | Promise<HandlerResult<K>>,
): ApiHandler<K> {
  return { apiKey, handle }
}
