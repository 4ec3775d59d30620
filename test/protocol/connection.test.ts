/**
 * KafkaConnection against a tiny in-test broker (a real net.Server speaking the wire
 * protocol through the same framing, header and codec modules): ApiVersions negotiation,
 * pipelining, timeouts, acks=0 and disconnects.
 */
import net from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidRequestError, NetworkError, RequestTimedOutError, UnsupportedVersionError } from '../../src/errors.js'
import { ApiKey } from '../../src/protocol/api-keys.js'
import { KafkaConnection } from '../../src/protocol/connection.js'
import { beginFrame, endFrame, FrameDecoder } from '../../src/protocol/framing.js'
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion, type RequestHeaderInfo } from '../../src/protocol/headers.js'
import { apiCodec, API_CODECS, type ApiRequests } from '../../src/protocol/messages/index.js'
import type { MetadataRequest, MetadataResponse } from '../../src/protocol/messages/metadata.js'
import { Reader, ZERO_UUID } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

interface FakeBrokerOptions {
  apiVersionsMax?: number
  metadataMax?: number
}

interface FakeBroker {
  port: number
  /** Headers of every request received, in order. */
  received: RequestHeaderInfo[]
}

/**
 * Answers ApiVersions (v0 + UNSUPPORTED_VERSION above `apiVersionsMax`, as KIP-511 says) and
 * echoes Metadata: each requested topic comes back by name. Topic names steer it:
 * `slow:<ms>` delays that answer (later answers wait, keeping order), `hang` never answers,
 * `disconnect` drops the connection. Produce gets an answer unless acks=0.
 */
async function startFakeBroker(options: FakeBrokerOptions = {}): Promise<FakeBroker> {
  const apiVersionsMax = options.apiVersionsMax ?? 3
  const metadataMax = options.metadataMax ?? 12
  const received: RequestHeaderInfo[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => { /* the client went away; nothing to clean up */ })
    const decoder = new FrameDecoder()
    let queue: Promise<void> = Promise.resolve()
    let hung = false
    const reply = (header: RequestHeaderInfo, apiVersion: number, write: (w: Writer) => void): void => {
      const w = new Writer()
      const at = beginFrame(w)
      encodeResponseHeader(w, header.correlationId, responseHeaderVersion(header.apiKey, apiVersion))
      write(w)
      endFrame(w, at)
      for (const chunk of w.chunks()) socket.write(chunk)
    }
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.feed(chunk)) {
        const r = new Reader(frame)
        const header = decodeRequestHeader(r)
        received.push(header)
        if (header.apiKey === ApiKey.ApiVersions) {
          const unsupported = header.apiVersion > apiVersionsMax
          const version = unsupported ? 0 : header.apiVersion
          const body = {
            errorCode: unsupported ? 35 : 0,
            apiKeys: [
              { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 9 },
              { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: metadataMax },
              { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: apiVersionsMax },
            ],
            throttleTimeMs: 0,
          }
          queue = queue.then(() => reply(header, version, (w) => API_CODECS[ApiKey.ApiVersions].encodeResponse(w, body, version)))
          continue
        }
        const request = apiCodec(header.apiKey)!.decodeRequest(r, header.apiVersion)
        if (header.apiKey === ApiKey.Produce) {
          if ((request as ApiRequests[ApiKey.Produce]).acks === 0) continue
          queue = queue.then(() => reply(header, header.apiVersion, (w) => API_CODECS[ApiKey.Produce].encodeResponse(w, { responses: [], throttleTimeMs: 0 }, header.apiVersion)))
          continue
        }
        const names = ((request as MetadataRequest).topics ?? []).map((t) => t.name ?? '')
        if (names.includes('disconnect')) {
          socket.destroy()
          return
        }
        if (names.includes('hang')) hung = true
        const delay = names.map((n) => /^slow:(\d+)$/.exec(n)).find((m) => m !== null)
        queue = queue.then(async () => {
          if (delay) await sleep(Number(delay[1]))
          if (hung) return
          reply(header, header.apiVersion, (w) => API_CODECS[ApiKey.Metadata].encodeResponse(w, echo(names), header.apiVersion))
        })
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { port: (server.address() as net.AddressInfo).port, received }
}

function echo(names: string[]): MetadataResponse {
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: 0, host: '127.0.0.1', port: 9092, rack: null }],
    clusterId: 'fake',
    controllerId: 0,
    topics: names.map((name) => ({
      errorCode: 0, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: -2147483648,
    })),
    clusterAuthorizedOperations: -2147483648,
  }
}

function metadataRequest(...names: string[]): MetadataRequest {
  return {
    topics: names.map((name) => ({ topicId: ZERO_UUID, name })),
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  }
}

async function connect(port: number, timeoutMs = 5000): Promise<KafkaConnection> {
  const connection = await KafkaConnection.connect({ host: '127.0.0.1', port, clientId: 'test-client', timeoutMs })
  onTestFinished(() => connection.close())
  return connection
}

describe('protocol > KafkaConnection', () => {
  it('negotiates versions with ApiVersions v3 and uses min(ours, theirs)', async () => {
    const broker = await startFakeBroker({ metadataMax: 7 })
    const connection = await connect(broker.port)
    expect(broker.received[0]).toMatchObject({ apiKey: ApiKey.ApiVersions, apiVersion: 3, clientId: 'test-client' })
    expect(connection.brokerVersions.get(ApiKey.Metadata)).toEqual({ minVersion: 0, maxVersion: 7 })
    expect(connection.versionFor(ApiKey.Metadata)).toBe(7)
    expect(connection.versionFor(ApiKey.Produce)).toBe(9)
    const response = await connection.request(ApiKey.Metadata, metadataRequest('orders'))
    expect(response.topics.map((t) => t.name)).toEqual(['orders'])
    expect(broker.received.at(-1)).toMatchObject({ apiKey: ApiKey.Metadata, apiVersion: 7, headerVersion: 1 })
  })

  it('retries ApiVersions at the broker\'s version after UNSUPPORTED_VERSION (KIP-511)', async () => {
    const broker = await startFakeBroker({ apiVersionsMax: 2 })
    const connection = await connect(broker.port)
    expect(broker.received.map((h) => [h.apiKey, h.apiVersion])).toEqual([[ApiKey.ApiVersions, 3], [ApiKey.ApiVersions, 2]])
    expect(connection.versionFor(ApiKey.Metadata)).toBe(12)
  })

  it('pipelines many requests and matches the in-order responses to them', async () => {
    const broker = await startFakeBroker()
    const connection = await connect(broker.port)
    const names = Array.from({ length: 60 }, (_, i) => (i % 7 === 0 ? `slow:${i % 3}` : `topic-${i}`))
    const pending = names.map((name) => connection.request(ApiKey.Metadata, metadataRequest(name)))
    expect(connection.inFlight).toBe(60)
    const responses = await Promise.all(pending)
    expect(responses.map((r) => r.topics[0]!.name)).toEqual(names)
    expect(connection.inFlight).toBe(0)
    const ids = broker.received.slice(1).map((h) => h.correlationId)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('times out a slow request, drops its late answer and keeps serving the next ones', async () => {
    const broker = await startFakeBroker()
    const connection = await connect(broker.port)
    const slow = connection.request(ApiKey.Metadata, metadataRequest('slow:300'), { timeoutMs: 50 })
    const next = connection.request(ApiKey.Metadata, metadataRequest('after'))
    await expect(slow).rejects.toBeInstanceOf(RequestTimedOutError)
    await expect(slow).rejects.toMatchObject({ code: 'REQUEST_TIMED_OUT' })
    const response = await next
    expect(response.topics[0]!.name).toBe('after')
    expect(connection.closed).toBe(false)
  })

  it('rejects every pending request with NETWORK_EXCEPTION when the broker disconnects', async () => {
    const broker = await startFakeBroker()
    const connection = await connect(broker.port)
    const first = connection.request(ApiKey.Metadata, metadataRequest('hang'))
    const second = connection.request(ApiKey.Metadata, metadataRequest('a'))
    const third = connection.request(ApiKey.Metadata, metadataRequest('disconnect'))
    await Promise.all([first, second, third].map((pending) => expect(pending).rejects.toBeInstanceOf(NetworkError)))
    expect(connection.closed).toBe(true)
    await expect(connection.request(ApiKey.Metadata, metadataRequest('x'))).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION', retriable: true })
  })

  it('sends acks=0 Produce without waiting for an answer', async () => {
    const broker = await startFakeBroker()
    const connection = await connect(broker.port)
    const produce: ApiRequests[ApiKey.Produce] = {
      transactionalId: null, acks: 0, timeoutMs: 1000, topicData: [{ name: 'orders', partitionData: [{ index: 0, records: null }] }],
    }
    await expect(connection.request(ApiKey.Produce, produce)).rejects.toBeInstanceOf(InvalidRequestError)
    await expect(connection.request(ApiKey.Produce, produce, { expectResponse: false })).resolves.toBeUndefined()
    expect(connection.inFlight).toBe(0)
    const acked = await connection.request(ApiKey.Produce, { ...produce, acks: 1 })
    expect(acked.responses).toEqual([])
    const response = await connection.request(ApiKey.Metadata, metadataRequest('after-produce'))
    expect(response.topics[0]!.name).toBe('after-produce')
    expect(broker.received.filter((h) => h.apiKey === ApiKey.Produce).map((h) => h.apiVersion)).toEqual([9, 9])
  })

  it('rejects an API the broker does not advertise with UNSUPPORTED_VERSION', async () => {
    const broker = await startFakeBroker()
    const connection = await connect(broker.port)
    const fetch = connection.request(ApiKey.Heartbeat, { groupId: 'g', generationId: 1, memberId: 'm', groupInstanceId: null })
    await expect(fetch).rejects.toBeInstanceOf(UnsupportedVersionError)
    expect(connection.closed).toBe(false)
  })

  it('rejects pending requests when closed by the client', async () => {
    const broker = await startFakeBroker()
    const connection = await connect(broker.port)
    const rejected = expect(connection.request(ApiKey.Metadata, metadataRequest('hang'))).rejects.toBeInstanceOf(NetworkError)
    await connection.close()
    await rejected
    expect(connection.closed).toBe(true)
  })

  it('fails to connect to a closed port with NETWORK_EXCEPTION', async () => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    await new Promise<void>((resolve) => server.close(() => resolve()))
    await expect(KafkaConnection.connect({ host: '127.0.0.1', port, timeoutMs: 2000 })).rejects.toBeInstanceOf(NetworkError)
  })
})
