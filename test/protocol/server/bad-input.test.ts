/**
 * Bad input on one connection never affects the process or other connections: oversized,
 * negative, malformed and garbage frames, unknown API keys and unsupported versions close
 * that connection (and are logged); an unknown ApiVersions version is answered in the v0
 * layout (KIP-511). A fast-check fuzz run throws random and mutated frames at a live server,
 * then checks that a well-behaved client is still served and that no handler failed.
 */
import type net from 'node:net'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { ADVERTISED_API_VERSIONS } from '../../../src/protocol/api-versions.js'
import { beginFrame, endFrame } from '../../../src/protocol/framing.js'
import { encodeRequestHeader } from '../../../src/protocol/headers.js'
import { API_CODECS, type ApiRequests } from '../../../src/protocol/messages/index.js'
import { Reader, ZERO_UUID } from '../../../src/protocol/reader.js'
import { Writer } from '../../../src/protocol/writer.js'
import { topicName } from '../../helpers/cluster.js'
import { batchOf, closedWithin, connect, rawSocket, sharedServedCluster } from './helpers.js'

const MAX_FRAME_BYTES = 64 * 1024
const shared = sharedServedCluster({ config: { 'socket.request.max.bytes': String(MAX_FRAME_BYTES) } })

/** A whole request frame (size prefix included) for `apiKey` at `version`. */
function requestFrame<K extends ApiKey>(apiKey: K, version: number, body: ApiRequests[K], correlationId = 1): Buffer {
  const w = new Writer()
  const at = beginFrame(w)
  encodeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: 'fuzz' })
  API_CODECS[apiKey].encodeRequest(w, body, version)
  endFrame(w, at)
  return w.toBuffer()
}

/** A frame with any header and body bytes. */
function rawFrame(apiKey: number, version: number, correlationId: number, body: Buffer): Buffer {
  const w = new Writer()
  const at = beginFrame(w)
  encodeRequestHeader(w, { apiKey, apiVersion: version, correlationId, clientId: 'raw' })
  w.raw(body)
  endFrame(w, at)
  return w.toBuffer()
}

/** Reads one response frame (without its size prefix) from a socket. */
function readFrame(socket: net.Socket, timeoutMs = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => reject(new Error('no response frame')), timeoutMs)
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length >= 4 && buffered.length >= 4 + buffered.readInt32BE(0)) {
        clearTimeout(timer)
        socket.off('data', onData)
        resolve(buffered.subarray(4, 4 + buffered.readInt32BE(0)))
      }
    }
    socket.on('data', onData)
  })
}

async function expectStillServing(port: number): Promise<void> {
  const connection = await connect(port, 'good-client')
  const md = await connection.request(ApiKey.Metadata, { topics: null, allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })
  expect(md.brokers.map((b) => b.port)).toEqual([port])
}

describe('protocol > server > bad input', () => {
  it('closes a connection whose frame exceeds socket.request.max.bytes, and keeps serving others', async () => {
    const served = shared()
    const bystander = await connect(served.port())
    const socket = await rawSocket(served.port())
    const prefix = Buffer.alloc(4)
    prefix.writeInt32BE(MAX_FRAME_BYTES + 1)
    socket.write(prefix)
    expect(await closedWithin(socket, 5000)).toBe(true)
    expect(served.logger.lines.some((l) => l.includes('socket.request.max.bytes'))).toBe(true)
    const v = await bystander.request(ApiKey.ApiVersions, { clientSoftwareName: 'x', clientSoftwareVersion: '1' })
    expect(v.errorCode).toBe(0)
  })

  it('closes a connection that sends garbage or a negative frame size', async () => {
    const served = shared()
    const http = await rawSocket(served.port())
    http.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n')
    expect(await closedWithin(http, 5000)).toBe(true)
    const negative = await rawSocket(served.port())
    negative.write(Buffer.from([0xff, 0xff, 0xff, 0xf0, 1, 2, 3]))
    expect(await closedWithin(negative, 5000)).toBe(true)
    const tiny = await rawSocket(served.port())
    tiny.write(Buffer.from([0, 0, 0, 3, 0, 18, 0]))
    expect(await closedWithin(tiny, 5000)).toBe(true)
    await expectStillServing(served.port())
  })

  it('closes a connection asking for an unknown API key or an unsupported version', async () => {
    const served = shared()
    const unknown = await rawSocket(served.port())
    unknown.write(rawFrame(999, 0, 1, Buffer.alloc(0)))
    expect(await closedWithin(unknown, 5000)).toBe(true)
    expect(served.logger.lines.some((l) => l.includes('unknown API key 999'))).toBe(true)
    for (const [apiKey, version] of [[ApiKey.Produce, 2], [ApiKey.Produce, 10], [ApiKey.Fetch, 14], [ApiKey.EndTxn, 0], [ApiKey.SaslHandshake, 1]] as const) {
      const socket = await rawSocket(served.port())
      socket.write(rawFrame(apiKey, version, 1, Buffer.alloc(16)))
      expect(await closedWithin(socket, 5000), `${apiKey} v${version}`).toBe(true)
    }
    expect(served.logger.lines.some((l) => l.includes('unsupported version 2 of Produce'))).toBe(true)
  })

  it('closes a connection whose request body is malformed', async () => {
    const served = shared()
    const socket = await rawSocket(served.port())
    // Metadata v1 whose topic array claims 1000 entries in 3 bytes.
    socket.write(rawFrame(ApiKey.Metadata, 1, 1, Buffer.from([0, 0, 3, 0xe8, 0, 1, 0x61])))
    expect(await closedWithin(socket, 5000)).toBe(true)
    expect(served.logger.lines.some((l) => l.includes('malformed Metadata v1 request'))).toBe(true)
  })

  it('answers an unknown ApiVersions version in the v0 layout with UNSUPPORTED_VERSION and every range (KIP-511)', async () => {
    const served = shared()
    const socket = await rawSocket(served.port())
    // v99 is "flexible": the header has a tagged-field byte; the body is not read.
    socket.write(rawFrame(ApiKey.ApiVersions, 99, 42, Buffer.from([0, 0, 0])))
    const r = new Reader(await readFrame(socket))
    expect(r.int32()).toBe(42) // response header v0: the correlation id only
    const body = API_CODECS[ApiKey.ApiVersions].decodeResponse(r, 0)
    expect(body.errorCode).toBe(35)
    expect(body.apiKeys).toEqual(ADVERTISED_API_VERSIONS.map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion })))
    expect(await closedWithin(socket, 100)).toBe(false)
  })

  it('answers ApiVersions v3 with INVALID_REQUEST when the client software name breaks Kafka\'s pattern', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const r = await connection.request(ApiKey.ApiVersions, { clientSoftwareName: '-bad name-', clientSoftwareVersion: '1' }, { version: 3 })
    expect(r.errorCode).toBe(42)
  })

  it('survives random and mutated frames and still serves a good client (fuzz)', async () => {
    const served = shared()
    const topic = topicName('fuzz')
    const { topicId } = await served.cluster.engine.createTopic({ topic, numPartitions: 2, replicationFactor: 1, configs: {} })
    const batch = await batchOf(2)
    const seeds: Buffer[] = [
      requestFrame(ApiKey.ApiVersions, 3, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' }),
      requestFrame(ApiKey.Metadata, 12, { topics: [{ topicId: ZERO_UUID, name: topic }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }),
      requestFrame(ApiKey.Metadata, 1, { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }),
      requestFrame(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] }),
      requestFrame(ApiKey.Produce, 3, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: topic, partitionData: [{ index: 1, records: batch }] }] }),
      requestFrame(ApiKey.Fetch, 13, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 4096, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic: '', topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 4096 }] }],
        forgottenTopicsData: [], rackId: '',
      }),
      requestFrame(ApiKey.Fetch, 4, {
        replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 4096, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, topicId: ZERO_UUID, partitions: [{ partition: 1, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 4096 }] }],
        forgottenTopicsData: [], rackId: '',
      }),
      requestFrame(ApiKey.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, timeoutMs: 1000, topics: [{ name: topic, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -2, maxNumOffsets: 1 }] }] }),
      requestFrame(ApiKey.OffsetFetch, 8, { groupId: '', topics: [], groups: [{ groupId: 'fuzz-group', memberId: null, memberEpoch: -1, topics: null }], requireStable: false }),
      requestFrame(ApiKey.FindCoordinator, 4, { key: '', keyType: 0, coordinatorKeys: ['fuzz-group'] }),
      requestFrame(ApiKey.DescribeConfigs, 4, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }], includeSynonyms: true, includeDocumentation: false }),
      requestFrame(ApiKey.DescribeGroups, 5, { groups: ['fuzz-group'], includeAuthorizedOperations: true }),
      requestFrame(ApiKey.Heartbeat, 4, { groupId: 'fuzz-group', generationId: 1, memberId: 'm', groupInstanceId: null }),
      requestFrame(ApiKey.OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] }] }),
    ]
    /** Flips, overwrites, truncates or extends a seed; usually keeps the size prefix consistent. */
    const mutated = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      edits: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 6 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      extra: fc.uint8Array({ maxLength: 16 }),
      fixSize: fc.boolean(),
    }).map(({ seed, edits, cut, extra, fixSize }) => {
      let frame = Buffer.from(seeds[seed]!)
      // Edits skip the size prefix when the size is to be kept consistent.
      for (const e of edits) frame[(fixSize ? 4 : 0) + (e.at % (frame.length - (fixSize ? 4 : 0)))] = e.byte
      if (cut !== undefined) frame = frame.subarray(0, 4 + (cut % (frame.length - 4)))
      frame = Buffer.concat([frame, Buffer.from(extra)])
      if (fixSize) frame.writeInt32BE(frame.length - 4, 0)
      return frame
    })
    const random = fc.uint8Array({ minLength: 0, maxLength: 256 }).map((bytes) => {
      const frame = Buffer.alloc(4 + bytes.length)
      frame.writeInt32BE(bytes.length, 0)
      Buffer.from(bytes).copy(frame, 4)
      return frame
    })
    const arbitraryFrame = fc.oneof({ arbitrary: mutated, weight: 3 }, { arbitrary: random, weight: 1 }, { arbitrary: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)), weight: 1 })

    await fc.assert(fc.asyncProperty(arbitraryFrame, async (frame) => {
      const socket = await rawSocket(served.port())
      socket.write(frame)
      // Either an answer, a close, or nothing (a request still waiting): all fine; then hang up.
      await Promise.race([
        new Promise((resolve) => socket.once('data', resolve)),
        closedWithin(socket, 30),
      ])
      socket.destroy()
    }), { numRuns: 150 })

    await expectStillServing(served.port())
    // Bad input is answered or refused; it must never make a handler fail (a bug).
    expect(served.logger.lines.filter((l) => l.startsWith('error'))).toEqual([])
  })
})
