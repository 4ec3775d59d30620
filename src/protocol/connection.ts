/**
 * A minimal Kafka client connection: one TCP socket to one broker (shardlog or Apache Kafka),
 * used by the CLI and the load-test harness.
 *
 * Lifecycle: {@link KafkaConnection.connect} opens the socket and negotiates versions with
 * ApiVersions (it asks at our highest version; a broker that does not know it answers
 * UNSUPPORTED_VERSION in the v0 layout with its own range, KIP-511, and we ask again). Then
 * any number of requests may be in flight at once (pipelining): Kafka answers the requests
 * of one connection in the order they were sent, so responses are matched to a FIFO of
 * pending requests and their correlation ids checked. {@link KafkaConnection.close}, or any
 * socket error, rejects every pending request with NETWORK_EXCEPTION.
 *
 * A request that times out is rejected with REQUEST_TIMED_OUT but keeps its place in the
 * FIFO, so that its late response, if it ever comes, is recognised and dropped instead of
 * being given to the next request. Requests sent in the same tick are corked into one
 * `writev`. Runs on the thread that created it, like any socket.
 */
import net from 'node:net'
import {
  InvalidRequestError,
  NetworkError,
  RequestTimedOutError,
  UnsupportedVersionError,
  isShardlogError,
} from '../errors.js'
import { ApiKey } from './api-keys.js'
import { advertisedVersions } from './api-versions.js'
import { beginFrame, DEFAULT_MAX_FRAME_BYTES, endFrame, FrameDecoder } from './framing.js'
import { decodeResponseHeader, encodeRequestHeader } from './headers.js'
import type { ApiVersionsResponse } from './messages/api-versions.js'
import { API_CODECS, type ApiRequests, type ApiResponses } from './messages/index.js'
import { Reader } from './reader.js'
import { Writer } from './writer.js'

/** Kafka's default `request.timeout.ms`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** UNSUPPORTED_VERSION, the error a broker answers an unknown ApiVersions version with. */
const UNSUPPORTED_VERSION = 35

/** Options of {@link KafkaConnection.connect}. */
export interface KafkaConnectionOptions {
  host: string
  port: number
  /** `client.id` sent in every request header (default `'shardlog'`). */
  clientId?: string | null
  /** Timeout for connecting and the default for each request, in ms (default 30000, Kafka's `request.timeout.ms`). */
  timeoutMs?: number
  /** Largest response frame accepted, in bytes (default 104857600). */
  maxResponseBytes?: number
  /** Sent in ApiVersions v3+ (KIP-511); must match `[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?`. Default `'shardlog'`. */
  clientSoftwareName?: string
  /** Sent in ApiVersions v3+; same pattern. Default `'unknown'`, as Kafka's Java client without a version. */
  clientSoftwareVersion?: string
}

/** Options of one {@link KafkaConnection.request}. */
export interface RequestOptions {
  /** API version to use; default: the negotiated one ({@link KafkaConnection.versionFor}). */
  version?: number
  /** Set to false for requests the broker does not answer (Produce with acks=0); the promise then resolves once written. */
  expectResponse?: boolean
  /** Overrides the connection's request timeout, in ms. */
  timeoutMs?: number
}

/** An inclusive version range advertised by the broker. */
export interface BrokerVersionRange {
  readonly minVersion: number
  readonly maxVersion: number
}

interface PendingRequest {
  readonly correlationId: number
  readonly apiKey: ApiKey
  readonly version: number
  readonly responseHeaderVersion: number
  readonly deadline: number
  readonly resolve: (body: unknown) => void
  readonly reject: (err: Error) => void
  /** True once resolved, rejected or timed out; its response is then dropped. */
  settled: boolean
}

/**
 * The highest version this client uses for an API: the version shardlog advertises (the
 * range the project tests end to end), or for APIs the broker side does not serve, the
 * highest generated version.
 */
export function clientMaxVersion(apiKey: ApiKey): number {
  return advertisedVersions(apiKey)?.maxVersion ?? API_CODECS[apiKey].maxVersion
}

/** One client connection to a Kafka broker. */
export class KafkaConnection {
  readonly host: string
  readonly port: number
  readonly clientId: string | null
  private readonly socket: net.Socket
  private readonly requestTimeoutMs: number
  private readonly decoder: FrameDecoder
  private readonly queue: PendingRequest[] = []
  private queueHead = 0
  private nextCorrelationId = 0
  private corked = false
  private failure: NetworkError | undefined
  private timer: NodeJS.Timeout | undefined
  private timerDeadline = Infinity
  private brokerRanges: ReadonlyMap<number, BrokerVersionRange> = new Map()
  private readonly closedPromise: Promise<void>

  private constructor(socket: net.Socket, options: KafkaConnectionOptions) {
    this.socket = socket
    this.host = options.host
    this.port = options.port
    this.clientId = options.clientId === undefined ? 'shardlog' : options.clientId
    this.requestTimeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxResponseBytes ?? DEFAULT_MAX_FRAME_BYTES })
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', (err) => this.fail(new NetworkError(`connection to ${this.address} failed: ${err.message}`, { cause: err })))
    socket.on('close', () => this.fail(new NetworkError(`connection to ${this.address} closed`)))
  }

  /**
   * Connects and negotiates API versions. Rejects with NETWORK_EXCEPTION when the broker
   * cannot be reached within `timeoutMs`, or with the error of the ApiVersions exchange.
   */
  static async connect(options: KafkaConnectionOptions): Promise<KafkaConnection> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
    const socket = await openSocket(options.host, options.port, timeoutMs)
    const connection = new KafkaConnection(socket, options)
    try {
      await connection.negotiate(options.clientSoftwareName ?? 'shardlog', options.clientSoftwareVersion ?? 'unknown')
    } catch (err) {
      await connection.close()
      throw err
    }
    return connection
  }

  /** `host:port` of the broker. */
  get address(): string {
    return `${this.host}:${this.port}`
  }

  /** Requests written and not yet answered (timed-out ones included until their answer or the close). */
  get inFlight(): number {
    return this.queue.length - this.queueHead
  }

  /** True after {@link close} or a connection failure. */
  get closed(): boolean {
    return this.failure !== undefined
  }

  /** The version ranges the broker advertised, by API key. */
  get brokerVersions(): ReadonlyMap<number, BrokerVersionRange> {
    return this.brokerRanges
  }

  /**
   * The version used for `apiKey`: min(our max, the broker's max). Throws
   * UNSUPPORTED_VERSION when the broker does not serve the API or the ranges do not meet.
   */
  versionFor(apiKey: ApiKey): number {
    const codec = API_CODECS[apiKey]
    const theirs = this.brokerRanges.get(apiKey)
    if (theirs === undefined) throw new UnsupportedVersionError(`${this.address} does not support ${codec.name}`)
    const version = Math.min(clientMaxVersion(apiKey), theirs.maxVersion)
    if (version < theirs.minVersion || version < codec.minVersion) {
      throw new UnsupportedVersionError(
        `${codec.name}: the broker's versions ${theirs.minVersion}-${theirs.maxVersion} do not meet ours ${codec.minVersion}-${clientMaxVersion(apiKey)}`,
      )
    }
    return version
  }

  /**
   * Sends a request and resolves with the decoded response body. Rejects with
   * REQUEST_TIMED_OUT after the timeout, NETWORK_EXCEPTION when the connection closes first,
   * UNSUPPORTED_VERSION when the version is not usable, or INVALID_REQUEST when the body
   * cannot be encoded or the response cannot be decoded. Error codes inside the response
   * body are the caller's to check.
   */
  request<K extends ApiKey>(apiKey: K, body: ApiRequests[K], options?: RequestOptions & { expectResponse?: true }): Promise<ApiResponses[K]>
  request<K extends ApiKey>(apiKey: K, body: ApiRequests[K], options: RequestOptions & { expectResponse: false }): Promise<undefined>
  request<K extends ApiKey>(apiKey: K, body: ApiRequests[K], options: RequestOptions = {}): Promise<ApiResponses[K] | undefined> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    const expectResponse = options.expectResponse !== false
    let version: number
    let chunks: Buffer[]
    const correlationId = this.nextCorrelationId
    try {
      if (expectResponse && apiKey === ApiKey.Produce && (body as ApiRequests[ApiKey.Produce]).acks === 0) {
        throw new InvalidRequestError('a Produce with acks=0 gets no response: pass { expectResponse: false }')
      }
      const codec = API_CODECS[apiKey]
      version = options.version ?? this.versionFor(apiKey)
      const w = new Writer(256)
      const sizeAt = beginFrame(w)
      encodeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: this.clientId })
      codec.encodeRequest(w, body, version)
      endFrame(w, sizeAt)
      chunks = w.chunks()
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new InvalidRequestError(String(err)))
    }
    // Correlation ids are int32 and only need to be unique among requests in flight.
    this.nextCorrelationId = (correlationId + 1) & 0x7fffffff
    this.write(chunks)
    if (!expectResponse) return Promise.resolve(undefined)
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs
    return new Promise<ApiResponses[K]>((resolve, reject) => {
      const pending: PendingRequest = {
        correlationId,
        apiKey,
        version,
        responseHeaderVersion: API_CODECS[apiKey].responseHeaderVersion(version),
        deadline: Date.now() + timeoutMs,
        resolve: resolve as (body: unknown) => void,
        reject,
        settled: false,
      }
      this.queue.push(pending)
      this.armTimer(pending.deadline)
    })
  }

  /** Closes the socket; pending requests are rejected with NETWORK_EXCEPTION. Resolves once closed. */
  close(): Promise<void> {
    this.fail(new NetworkError(`connection to ${this.address} closed by the client`))
    return this.closedPromise
  }

  private async negotiate(clientSoftwareName: string, clientSoftwareVersion: string): Promise<void> {
    const body = { clientSoftwareName, clientSoftwareVersion }
    let version = clientMaxVersion(ApiKey.ApiVersions)
    let response = await this.request(ApiKey.ApiVersions, body, { version })
    if (response.errorCode === UNSUPPORTED_VERSION) {
      const theirs = response.apiKeys.find((k) => k.apiKey === ApiKey.ApiVersions)
      const retry = theirs === undefined ? 0 : Math.min(version, theirs.maxVersion)
      if (retry >= version) throw new UnsupportedVersionError(`${this.address} rejected ApiVersions v${version}`)
      version = retry
      response = await this.request(ApiKey.ApiVersions, body, { version })
    }
    if (response.errorCode !== 0) {
      throw new UnsupportedVersionError(`${this.address} answered ApiVersions v${version} with error ${response.errorCode}`)
    }
    this.brokerRanges = rangesOf(response)
  }

  private write(chunks: Buffer[]): void {
    const socket = this.socket
    if (!this.corked) {
      // Everything written in this tick leaves in one writev.
      this.corked = true
      socket.cork()
      process.nextTick(() => {
        this.corked = false
        socket.uncork()
      })
    }
    for (const chunk of chunks) socket.write(chunk)
  }

  private onData(chunk: Buffer): void {
    let frames: Buffer[]
    try {
      frames = this.decoder.feed(chunk)
    } catch (err) {
      this.fail(new NetworkError(`bad response frame from ${this.address}: ${(err as Error).message}`, { cause: err }))
      return
    }
    for (const frame of frames) {
      if (this.failure !== undefined) return
      this.onFrame(frame)
    }
  }

  private onFrame(frame: Buffer): void {
    const pending = this.shift()
    if (pending === undefined) {
      this.fail(new NetworkError(`${this.address} sent a response with no request in flight`))
      return
    }
    const r = new Reader(frame)
    let correlationId: number
    try {
      correlationId = decodeResponseHeader(r, pending.responseHeaderVersion)
    } catch (err) {
      this.fail(new NetworkError(`bad response header from ${this.address}: ${(err as Error).message}`, { cause: err }))
      return
    }
    if (correlationId !== pending.correlationId) {
      this.fail(new NetworkError(
        `${this.address} answered correlation id ${correlationId} where ${pending.correlationId} was expected`,
      ))
      return
    }
    if (pending.settled) return // timed out: its late answer is dropped
    pending.settled = true
    try {
      pending.resolve(decodeResponseBody(r, pending))
    } catch (err) {
      pending.reject(isShardlogError(err) ? err : new InvalidRequestError(`bad response body: ${String(err)}`))
    }
  }

  private shift(): PendingRequest | undefined {
    if (this.queueHead >= this.queue.length) return undefined
    const pending = this.queue[this.queueHead++]
    if (this.queueHead === this.queue.length) {
      this.queue.length = 0
      this.queueHead = 0
      // Nothing left to time out: do not keep the event loop busy until the old deadline.
      if (this.timer !== undefined) clearTimeout(this.timer)
      this.timer = undefined
      this.timerDeadline = Infinity
    } else if (this.queueHead >= 1024) {
      this.queue.splice(0, this.queueHead)
      this.queueHead = 0
    }
    return pending
  }

  private armTimer(deadline: number): void {
    if (this.timer !== undefined && this.timerDeadline <= deadline) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerDeadline = deadline
    this.timer = setTimeout(() => this.expire(), Math.max(0, deadline - Date.now()))
  }

  /** Rejects every overdue request and re-arms for the next deadline (one timer for all). */
  private expire(): void {
    this.timer = undefined
    this.timerDeadline = Infinity
    const now = Date.now()
    let next = Infinity
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const pending = this.queue[i]!
      if (pending.settled) continue
      if (pending.deadline <= now) {
        pending.settled = true
        pending.reject(new RequestTimedOutError(
          `${API_CODECS[pending.apiKey].name} v${pending.version} to ${this.address} got no response in time`,
        ))
      } else if (pending.deadline < next) {
        next = pending.deadline
      }
    }
    if (next !== Infinity) this.armTimer(next)
  }

  private fail(err: NetworkError): void {
    if (this.failure !== undefined) return
    this.failure = err
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    for (let i = this.queueHead; i < this.queue.length; i++) {
      const pending = this.queue[i]!
      if (pending.settled) continue
      pending.settled = true
      pending.reject(err)
    }
    this.queue.length = 0
    this.queueHead = 0
    this.socket.destroy()
  }
}

function decodeResponseBody(r: Reader, pending: PendingRequest): unknown {
  let version = pending.version
  // A broker that does not know our ApiVersions version answers in the v0 layout (KIP-511);
  // the error code comes first in every version, so peek at it before choosing the layout.
  if (pending.apiKey === ApiKey.ApiVersions && version > 0 && r.remaining >= 2 && r.buf.readInt16BE(r.offset) === UNSUPPORTED_VERSION) {
    version = 0
  }
  return API_CODECS[pending.apiKey].decodeResponse(r, version)
}

function rangesOf(response: ApiVersionsResponse): Map<number, BrokerVersionRange> {
  return new Map(response.apiKeys.map((k) => [k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion }]))
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new NetworkError(`connecting to ${host}:${port} timed out after ${timeoutMs} ms`))
    }, timeoutMs)
    socket.once('connect', () => {
      clearTimeout(timer)
      socket.removeAllListeners('error')
      socket.setNoDelay(true)
      socket.setKeepAlive(true)
      resolve(socket)
    })
    socket.once('error', (err) => {
      clearTimeout(timer)
      reject(new NetworkError(`cannot connect to ${host}:${port}: ${err.message}`, { cause: err }))
    })
  })
}
