/**
 * WireProducer's retry path against a scripted two-broker cluster (real sockets, the project's
 * own framing and codecs): a leader that moves (NOT_LEADER_OR_FOLLOWER then a metadata
 * refresh), a dropped connection, exhausted retries and a non-retriable error.
 */
import net from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { ADVERTISED_API_VERSIONS } from '../../../src/protocol/api-versions.js'
import { parseBootstrap } from '../../../src/protocol/client/kafka-client.js'
import { WireProducer } from '../../../src/protocol/client/wire-producer.js'
import { beginFrame, endFrame, FrameDecoder } from '../../../src/protocol/framing.js'
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion, type RequestHeaderInfo } from '../../../src/protocol/headers.js'
import { API_CODECS, apiCodec, type ApiRequests, type ApiResponses } from '../../../src/protocol/messages/index.js'
import { Reader } from '../../../src/protocol/reader.js'
import { Writer } from '../../../src/protocol/writer.js'
import { decodeRecordBatches } from '../../../src/records/record-batch.js'

const TOPIC = 'orders'
const TOPIC_ID = 'AAAAAAAAAAAAAAAAAAAAAQ'

/** What a scripted broker answers a Produce with; `drop` closes the connection instead. */
type ProduceScript = (broker: number, request: ApiRequests[ApiKey.Produce]) => number | 'drop'

interface FakeCluster {
  bootstrap: string
  /** Node id of the partition's leader, as Metadata reports it. */
  leader: number
  /** Produce requests received, by broker. */
  produced: Array<{ broker: number; values: string[] }>
  metadataRequests: number
}

/** Two brokers serving one topic of one partition; Produce answers follow `script`. */
async function startFakeCluster(script: ProduceScript): Promise<FakeCluster> {
  const state: FakeCluster = { bootstrap: '', leader: 0, produced: [], metadataRequests: 0 }
  const ports: number[] = []
  let nextOffset = 0
  for (const broker of [0, 1]) {
    const sockets = new Set<net.Socket>()
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
      socket.on('error', () => { /* the client went away */ })
      const decoder = new FrameDecoder()
      let queue = Promise.resolve()
      const reply = <K extends ApiKey>(header: RequestHeaderInfo, version: number, body: ApiResponses[K]): void => {
        const w = new Writer()
        const at = beginFrame(w)
        encodeResponseHeader(w, header.correlationId, responseHeaderVersion(header.apiKey, version))
        API_CODECS[header.apiKey as K].encodeResponse(w, body, version)
        endFrame(w, at)
        for (const chunk of w.chunks()) socket.write(chunk)
      }
      socket.on('data', (chunk: Buffer) => {
        for (const frame of decoder.feed(chunk)) {
          const r = new Reader(frame)
          const header = decodeRequestHeader(r)
          const version = header.apiVersion
          const request = apiCodec(header.apiKey)!.decodeRequest(r, version)
          queue = queue.then(async () => {
            switch (header.apiKey) {
              case ApiKey.ApiVersions:
                reply<ApiKey.ApiVersions>(header, version, { errorCode: 0, apiKeys: ADVERTISED_API_VERSIONS.map((v) => ({ ...v })), throttleTimeMs: 0 })
                break
              case ApiKey.Metadata:
                state.metadataRequests++
                reply<ApiKey.Metadata>(header, version, {
                  throttleTimeMs: 0,
                  brokers: [0, 1].map((id) => ({ nodeId: id, host: '127.0.0.1', port: ports[id]!, rack: null })),
                  clusterId: 'fake',
                  controllerId: 0,
                  topics: [{
                    errorCode: 0, name: TOPIC, topicId: TOPIC_ID, isInternal: false, topicAuthorizedOperations: -2147483648,
                    partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: state.leader, leaderEpoch: 0, replicaNodes: [0, 1], isrNodes: [0, 1], offlineReplicas: [] }],
                  }],
                  clusterAuthorizedOperations: -2147483648,
                })
                break
              case ApiKey.Produce: {
                const produce = request as ApiRequests[ApiKey.Produce]
                const records = produce.topicData[0]!.partitionData[0]!.records!
                const values = (await decodeRecordBatches(records)).flatMap((b) => b.records.map((rec) => rec.value!.toString()))
                state.produced.push({ broker, values })
                const outcome = script(broker, produce)
                if (outcome === 'drop') {
                  socket.destroy()
                  return
                }
                const baseOffset = outcome === 0 ? nextOffset : -1
                if (outcome === 0) nextOffset += values.length
                reply<ApiKey.Produce>(header, version, {
                  throttleTimeMs: 0,
                  responses: [{ name: TOPIC, partitionResponses: [{ index: 0, errorCode: outcome, baseOffset, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null }] }],
                })
                break
              }
              default:
                throw new Error(`the fake broker does not serve API ${header.apiKey}`)
            }
          })
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    ports.push((server.address() as net.AddressInfo).port)
    onTestFinished(async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    })
  }
  state.bootstrap = `127.0.0.1:${ports[0]}`
  return state
}

async function producerFor(cluster: FakeCluster, retries = 5): Promise<WireProducer> {
  const producer = await WireProducer.create(cluster.bootstrap, { retries })
  onTestFinished(() => producer.close())
  return producer
}

describe('protocol > client > WireProducer retries', () => {
  it('follows a moved leader: NOT_LEADER_OR_FOLLOWER refreshes metadata and resends to the new leader', async () => {
    let cluster!: FakeCluster
    cluster = await startFakeCluster((broker) => (broker === cluster.leader ? 0 : 6))
    const producer = await producerFor(cluster)
    expect(await producer.send(TOPIC, [{ value: 'a' }])).toEqual([{ topic: TOPIC, partition: 0, baseOffset: 0, logAppendTimeMs: -1 }])
    const metadataBefore = cluster.metadataRequests
    cluster.leader = 1
    expect(await producer.send(TOPIC, [{ value: 'b' }])).toEqual([{ topic: TOPIC, partition: 0, baseOffset: 1, logAppendTimeMs: -1 }])
    expect(cluster.produced).toEqual([{ broker: 0, values: ['a'] }, { broker: 0, values: ['b'] }, { broker: 1, values: ['b'] }])
    expect(cluster.metadataRequests).toBeGreaterThan(metadataBefore)
  })

  it('resends the same batch after the connection drops', async () => {
    let drops = 1
    const cluster = await startFakeCluster(() => (drops-- > 0 ? 'drop' : 0))
    const producer = await producerFor(cluster)
    expect((await producer.send(TOPIC, [{ value: 'x' }, { value: 'y' }]))[0]?.baseOffset).toBe(0)
    expect(cluster.produced.map((p) => p.values)).toEqual([['x', 'y'], ['x', 'y']])
  })

  it('gives up after `retries` attempts with the last retriable error', async () => {
    const cluster = await startFakeCluster(() => 19) // NOT_ENOUGH_REPLICAS
    const producer = await producerFor(cluster, 2)
    await expect(producer.send(TOPIC, [{ value: 'z' }])).rejects.toMatchObject({ code: 'NOT_ENOUGH_REPLICAS' })
    expect(cluster.produced).toHaveLength(3)
  })

  it('does not retry a non-retriable error', async () => {
    const cluster = await startFakeCluster(() => 10) // MESSAGE_TOO_LARGE
    const producer = await producerFor(cluster)
    await expect(producer.send(TOPIC, [{ value: 'big' }])).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE' })
    expect(cluster.produced).toHaveLength(1)
  })
})

describe('protocol > client > parseBootstrap', () => {
  it('parses host:port lists and IPv6 literals', () => {
    expect(parseBootstrap('a:1, b:2')).toEqual([{ host: 'a', port: 1 }, { host: 'b', port: 2 }])
    expect(parseBootstrap(['[::1]:9092'])).toEqual([{ host: '::1', port: 9092 }])
  })

  it('rejects entries without a valid port', () => {
    for (const bad of ['', 'host', 'host:0', 'host:70000', 'host:x', ':9092']) {
      expect(() => parseBootstrap(bad)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    }
  })
})
