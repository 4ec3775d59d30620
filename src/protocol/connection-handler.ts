/**
 * One client connection on a broker's listener: frames in, responses out, in order.
 *
 * ```
 * socket 'data' ─> FrameDecoder ─> request header ─> version check ─> decode body ─> handler
 *                                                                                     │ (may be async)
 * socket <─ cork/write chunks/uncork <─ encode, in request order <─ slot queue <──────┘
 * ```
 *
 * Pipelining: a client may have many requests in flight. Each request takes a slot in a FIFO
 * as it is read and its handler starts at once (handlers dispatch to the shards
 * synchronously, so appends keep the order of the requests); responses are written strictly
 * in slot order, as Kafka guarantees per connection. A slot whose response is ready waits for
 * the ones before it. Reading pauses while `maxInFlightRequests` slots are open or more than
 * `maxQueuedResponseBytes` wait in the socket's write buffer, so a client that does not read
 * its responses cannot make the server buffer without bound.
 *
 * Zero copy: request bodies are decoded as views of the frame (Produce records go to the
 * engine untouched); a response is a chunk list (Fetch records by reference) written with
 * cork + one write per chunk + uncork, i.e. one writev.
 *
 * Bad input never reaches other connections: a frame over `socket.request.max.bytes`, a
 * malformed header or body, an unknown API key or an unsupported version of any API but
 * ApiVersions closes this connection (as Kafka's SocketServer does) and logs one line; an
 * unknown ApiVersions version is answered in the v0 layout with UNSUPPORTED_VERSION and the
 * full version list (KIP-511). A handler that throws (a bug) is logged and closes the
 * connection too. Idle connections close after `connections.max.idle.ms`.
 *
 * Lives on the thread that owns the socket (the main thread). Not shared.
 */
import type net from 'node:net'
import { ApiKey, apiKeyName } from './api-keys.js'
import { isVersionAdvertised } from './api-versions.js'
import { beginFrame, endFrame, FrameDecoder } from './framing.js'
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion, type RequestHeaderInfo } from './headers.js'
import { API_HANDLERS, NO_RESPONSE, unsupportedApiVersionsResponse, type ApiHandler, type BrokerContext, type RequestContext } from './handlers/index.js'
import { apiCodec } from './messages/index.js'
import { Reader } from './reader.js'
import { Writer } from './writer.js'

/** Kafka's default `connections.max.idle.ms`: 10 minutes. */
export const DEFAULT_CONNECTIONS_MAX_IDLE_MS = 600_000

/** Default bound on requests read but not yet answered on one connection. */
export const DEFAULT_MAX_IN_FLIGHT_REQUESTS = 1024

/** Default bound on response bytes waiting in one socket's write buffer before reading pauses. */
export const DEFAULT_MAX_QUEUED_RESPONSE_BYTES = 32 * 1024 * 1024

/** Options of a {@link ConnectionHandler}. */
export interface ConnectionOptions {
  /** `socket.request.max.bytes`: larger frames close the connection. */
  maxFrameBytes: number
  /** Requests in flight at which reading pauses (default {@link DEFAULT_MAX_IN_FLIGHT_REQUESTS}). */
  maxInFlightRequests?: number
  /** Unwritten response bytes at which reading pauses (default {@link DEFAULT_MAX_QUEUED_RESPONSE_BYTES}). */
  maxQueuedResponseBytes?: number
  /** `connections.max.idle.ms`: an idle connection with nothing in flight is closed (default 10 minutes; 0 = never). */
  connectionsMaxIdleMs?: number
}

/** The codec operations the handler needs, with the per-API types erased (checked by the handler table's typing). */
interface ErasedCodec {
  readonly name: string
  decodeRequest(r: Reader, version: number): unknown
  encodeResponse(w: Writer, body: unknown, version: number): void
}

/** One request awaiting its turn to be answered. */
interface Slot {
  readonly apiKey: number
  readonly correlationId: number
  /** The version the response body is encoded in (0 for an unsupported ApiVersions). */
  readonly responseVersion: number
  readonly responseHeaderVersion: number
  ready: boolean
  body: unknown
  /** Set by the handler's closeConnection(): close once this slot's turn comes. */
  closeReason: string | undefined
}

/** Serves the Kafka protocol on one accepted socket. */
export class ConnectionHandler {
  /** The client's address in Kafka's `/host` form. */
  readonly clientHost: string
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>
  private readonly decoder: FrameDecoder
  private readonly maxInFlight: number
  private readonly maxQueuedBytes: number
  private readonly slots: Slot[] = []
  private head = 0
  private paused = false
  private closing = false

  constructor(private readonly socket: net.Socket, private readonly broker: BrokerContext, options: ConnectionOptions) {
    this.decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes })
    this.maxInFlight = options.maxInFlightRequests ?? DEFAULT_MAX_IN_FLIGHT_REQUESTS
    this.maxQueuedBytes = options.maxQueuedResponseBytes ?? DEFAULT_MAX_QUEUED_RESPONSE_BYTES
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('drain', () => this.updateFlow())
    // Resets by clients that go away are routine; 'close' follows and cleans up.
    socket.on('error', () => undefined)
    socket.once('close', () => { this.closing = true })
    const idleMs = options.connectionsMaxIdleMs ?? DEFAULT_CONNECTIONS_MAX_IDLE_MS
    if (idleMs > 0) {
      socket.setTimeout(idleMs, () => {
        // A parked JoinGroup or long poll is not idleness: only close with nothing in flight.
        if (this.inFlight === 0) this.close('idle for longer than connections.max.idle.ms')
      })
    }
  }

  /** Requests read and not yet answered. */
  get inFlight(): number {
    return this.slots.length - this.head
  }

  /** Closes the connection at once; responses not yet written are dropped. */
  close(reason?: string): void {
    if (this.closing) return
    this.closing = true
    if (reason !== undefined) this.broker.logger.info(`closing connection from ${this.clientHost}: ${reason}`)
    this.socket.destroy()
  }

  private reject(reason: string): void {
    if (this.closing) return
    this.broker.logger.warn(`closing connection from ${this.clientHost} to broker ${this.broker.brokerId}: ${reason}`)
    this.closing = true
    this.socket.destroy()
  }

  private onData(chunk: Buffer): void {
    if (this.closing) return
    let frames: Buffer[]
    try {
      frames = this.decoder.feed(chunk)
    } catch (err) {
      this.reject(`bad frame: ${(err as Error).message}`)
      return
    }
    for (const frame of frames) {
      if (this.closing) return
      this.onFrame(frame)
    }
    this.updateFlow()
  }

  private onFrame(frame: Buffer): void {
    const r = new Reader(frame)
    let header: RequestHeaderInfo
    try {
      header = decodeRequestHeader(r)
    } catch (err) {
      this.reject(`malformed request header: ${(err as Error).message}`)
      return
    }
    const { apiKey, apiVersion } = header
    if (!isVersionAdvertised(apiKey, apiVersion)) {
      if (apiKey === ApiKey.ApiVersions) {
        // KIP-511: answer in the v0 layout so that the client can read it and retry.
        const slot = this.enqueue(header, 0, 0)
        slot.body = unsupportedApiVersionsResponse()
        this.markReady(slot)
        return
      }
      const name = apiKeyName(apiKey)
      this.reject(`${name === undefined ? `unknown API key ${apiKey}` : `unsupported version ${apiVersion} of ${name}`} (client ${JSON.stringify(header.clientId)})`)
      return
    }
    const codec = apiCodec(apiKey) as ErasedCodec | undefined
    const handler = (API_HANDLERS as Record<number, ApiHandler<ApiKey> | undefined>)[apiKey]
    if (codec === undefined || handler === undefined) {
      this.reject(`no handler for API key ${apiKey}`)
      return
    }
    let body: unknown
    try {
      body = codec.decodeRequest(r, apiVersion)
    } catch (err) {
      this.reject(`malformed ${codec.name} v${apiVersion} request: ${(err as Error).message}`)
      return
    }
    const slot = this.enqueue(header, apiVersion, responseHeaderVersion(apiKey, apiVersion))
    const ctx: RequestContext = {
      broker: this.broker,
      apiVersion,
      correlationId: header.correlationId,
      clientId: header.clientId,
      clientHost: this.clientHost,
      closeConnection: (reason) => { slot.closeReason = reason },
    }
    let result: unknown
    try {
      // A paused broker (fault injection: a hung broker) holds every request until resumed;
      // they then start in arrival order, so pipelined produces keep their order.
      const broker = this.broker.engine.brokers[this.broker.brokerId]
      result = broker?.isPaused
        ? broker.whenProcessing().then(() => handler.handle(body as never, ctx))
        : handler.handle(body as never, ctx)
    } catch (err) {
      this.onHandlerError(codec.name, err)
      return
    }
    if (result instanceof Promise) {
      result.then((response: unknown) => {
        slot.body = response
        this.markReady(slot)
      }, (err: unknown) => this.onHandlerError(codec.name, err))
    } else {
      slot.body = result
      this.markReady(slot)
    }
  }

  private enqueue(header: RequestHeaderInfo, responseVersion: number, headerVersion: number): Slot {
    const slot: Slot = {
      apiKey: header.apiKey,
      correlationId: header.correlationId,
      responseVersion,
      responseHeaderVersion: headerVersion,
      ready: false,
      body: undefined,
      closeReason: undefined,
    }
    this.slots.push(slot)
    return slot
  }

  private onHandlerError(api: string, err: unknown): void {
    this.broker.logger.error(`${api} handler failed: ${err instanceof Error && err.stack ? err.stack : String(err)}`)
    this.close()
  }

  private markReady(slot: Slot): void {
    slot.ready = true
    if (this.slots[this.head] === slot) this.flush()
  }

  /** Writes every ready response at the head of the queue, in order, as one writev. */
  private flush(): void {
    if (this.closing) return
    const socket = this.socket
    let corked = false
    while (this.head < this.slots.length && this.slots[this.head]!.ready) {
      const slot = this.slots[this.head++]!
      if (slot.body !== NO_RESPONSE) {
        let chunks: Buffer[]
        try {
          chunks = encodeResponse(slot)
        } catch (err) {
          this.broker.logger.error(`cannot encode ${apiKeyName(slot.apiKey) ?? slot.apiKey} v${slot.responseVersion} response: ${err instanceof Error && err.stack ? err.stack : String(err)}`)
          if (corked) socket.uncork()
          this.close()
          return
        }
        if (!corked) {
          socket.cork()
          corked = true
        }
        for (const chunk of chunks) socket.write(chunk)
      }
      if (slot.closeReason !== undefined) {
        this.broker.logger.warn(`closing connection from ${this.clientHost} to broker ${this.broker.brokerId}: ${slot.closeReason}`)
        this.closing = true
        if (corked) socket.uncork()
        // end() lets what was written go out first, then the socket closes.
        socket.end(() => socket.destroy())
        return
      }
    }
    if (corked) socket.uncork()
    if (this.head === this.slots.length) {
      this.slots.length = 0
      this.head = 0
    } else if (this.head >= 1024) {
      this.slots.splice(0, this.head)
      this.head = 0
    }
    this.updateFlow()
  }

  /** Pauses reading while too much is in flight or unwritten, resumes when it drained. */
  private updateFlow(): void {
    if (this.closing) return
    const overloaded = this.inFlight >= this.maxInFlight || this.socket.writableLength >= this.maxQueuedBytes
    if (overloaded && !this.paused) {
      this.paused = true
      this.socket.pause()
    } else if (!overloaded && this.paused) {
      this.paused = false
      this.socket.resume()
    }
  }
}

/** Encodes a ready slot's response frame: size, response header, body. */
function encodeResponse(slot: Slot): Buffer[] {
  const codec = apiCodec(slot.apiKey) as ErasedCodec
  const w = new Writer(256)
  const at = beginFrame(w)
  encodeResponseHeader(w, slot.correlationId, slot.responseHeaderVersion)
  codec.encodeResponse(w, slot.body, slot.responseVersion)
  endFrame(w, at)
  return w.chunks()
}
