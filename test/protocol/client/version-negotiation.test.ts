/**
 * The wire client against a broker that only speaks old API versions (Kafka 1.x/2.x era): a
 * proxy in front of a real shardlog server rewrites the ApiVersions answer down to old
 * maxima, drops IncrementalAlterConfigs, and points Metadata and FindCoordinator at itself.
 * Every other byte passes through unchanged, so each request the client builds for an old
 * version is checked by the real server's decoders.
 */
import net from 'node:net'
import { describe, expect, it, onTestFinished } from 'vitest'
import { groupsCommand } from '../../../src/cli/commands/consumer-groups.js'
import { topicsCommand } from '../../../src/cli/commands/topics.js'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { WireAdmin } from '../../../src/protocol/client/wire-admin.js'
import { WireConsumer, type ConsumedRecord } from '../../../src/protocol/client/wire-consumer.js'
import { WireProducer } from '../../../src/protocol/client/wire-producer.js'
import { beginFrame, encodeFrame, endFrame, FrameDecoder } from '../../../src/protocol/framing.js'
import { decodeRequestHeader, encodeResponseHeader, responseHeaderVersion } from '../../../src/protocol/headers.js'
import { API_CODECS, type ApiResponses } from '../../../src/protocol/messages/index.js'
import { decodeResponseHeader } from '../../../src/protocol/headers.js'
import { Reader } from '../../../src/protocol/reader.js'
import { Writer } from '../../../src/protocol/writer.js'
import { waitFor } from '../../helpers/cluster.js'
import { runCli } from '../../cli/wire-cli-harness.js'
import { randomName, sharedWireCluster } from './wire-cluster.js'

/** The highest version the "old broker" admits to, by API. */
const OLD_MAX_VERSIONS: ReadonlyMap<number, number> = new Map([
  [ApiKey.Produce, 3], [ApiKey.Fetch, 4], [ApiKey.ListOffsets, 1], [ApiKey.Metadata, 1], [ApiKey.OffsetCommit, 2],
  [ApiKey.OffsetFetch, 2], [ApiKey.FindCoordinator, 0], [ApiKey.JoinGroup, 0], [ApiKey.Heartbeat, 0], [ApiKey.LeaveGroup, 0],
  [ApiKey.SyncGroup, 0], [ApiKey.DescribeGroups, 0], [ApiKey.ListGroups, 0], [ApiKey.ApiVersions, 1], [ApiKey.CreateTopics, 2],
  [ApiKey.DeleteTopics, 1], [ApiKey.InitProducerId, 0], [ApiKey.DescribeConfigs, 1], [ApiKey.AlterConfigs, 0],
  [ApiKey.CreatePartitions, 0], [ApiKey.DeleteGroups, 0],
])

/** Starts the downgrading proxy in front of `upstream` (`host:port`); returns its bootstrap address. */
async function startOldBrokerProxy(upstream: string): Promise<string> {
  const [upstreamHost, upstreamPort] = [upstream.slice(0, upstream.lastIndexOf(':')), Number(upstream.slice(upstream.lastIndexOf(':') + 1))]
  const sockets = new Set<net.Socket>()
  let port = 0
  const server = net.createServer((client) => {
    const broker = net.connect({ host: upstreamHost, port: upstreamPort })
    sockets.add(client).add(broker)
    const pending: Array<{ apiKey: number; apiVersion: number }> = []
    const fromClient = new FrameDecoder()
    const fromBroker = new FrameDecoder()
    client.on('data', (chunk: Buffer) => {
      for (const frame of fromClient.feed(chunk)) {
        const header = decodeRequestHeader(new Reader(frame))
        pending.push({ apiKey: header.apiKey, apiVersion: header.apiVersion })
        for (const c of encodeFrame(frame)) broker.write(c)
      }
    })
    broker.on('data', (chunk: Buffer) => {
      for (const frame of fromBroker.feed(chunk)) {
        const request = pending.shift()!
        for (const c of rewrite(request.apiKey, request.apiVersion, frame, port)) client.write(c)
      }
    })
    const end = (): void => { client.destroy(); broker.destroy() }
    client.on('error', end).on('close', end)
    broker.on('error', end).on('close', end)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as net.AddressInfo).port
  onTestFinished(async () => {
    for (const s of sockets) s.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return `127.0.0.1:${port}`
}

/** Re-encodes the responses the proxy changes; passes every other frame through. */
function rewrite(apiKey: number, apiVersion: number, frame: Buffer, proxyPort: number): Buffer[] {
  if (apiKey !== ApiKey.ApiVersions && apiKey !== ApiKey.Metadata && apiKey !== ApiKey.FindCoordinator) return encodeFrame(frame)
  const r = new Reader(frame)
  const headerVersion = responseHeaderVersion(apiKey, apiVersion)
  const correlationId = decodeResponseHeader(r, headerVersion)
  const w = new Writer()
  const at = beginFrame(w)
  encodeResponseHeader(w, correlationId, headerVersion)
  if (apiKey === ApiKey.ApiVersions) {
    const body = API_CODECS[ApiKey.ApiVersions].decodeResponse(r, apiVersion)
    body.apiKeys = body.apiKeys
      .filter((k) => OLD_MAX_VERSIONS.has(k.apiKey))
      .map((k) => ({ ...k, maxVersion: Math.max(k.minVersion, OLD_MAX_VERSIONS.get(k.apiKey)!) }))
    API_CODECS[ApiKey.ApiVersions].encodeResponse(w, body, apiVersion)
  } else if (apiKey === ApiKey.Metadata) {
    const body: ApiResponses[ApiKey.Metadata] = API_CODECS[ApiKey.Metadata].decodeResponse(r, apiVersion)
    body.brokers = body.brokers.map((b) => ({ ...b, port: proxyPort }))
    API_CODECS[ApiKey.Metadata].encodeResponse(w, body, apiVersion)
  } else {
    const body = API_CODECS[ApiKey.FindCoordinator].decodeResponse(r, apiVersion)
    body.port = proxyPort
    API_CODECS[ApiKey.FindCoordinator].encodeResponse(w, body, apiVersion)
  }
  endFrame(w, at)
  return w.chunks()
}

describe('protocol > client > version negotiation with an old broker', () => {
  const wire = sharedWireCluster()

  it('admin, producer, group consumer and the CLI work at old API versions', async () => {
    const bootstrap = await startOldBrokerProxy(wire.bootstrap)
    const admin = await WireAdmin.connect(bootstrap)
    onTestFinished(() => admin.close())
    const connection = await admin.client.anyConnection()
    expect(connection.versionFor(ApiKey.Fetch)).toBe(4)
    expect(connection.brokerVersions.has(ApiKey.IncrementalAlterConfigs)).toBe(false)

    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: 2, replicationFactor: 1, configs: { 'retention.ms': '3600000' } }])
    expect(await admin.listTopics()).toContain(topic)
    // Without IncrementalAlterConfigs the change goes through AlterConfigs, keeping retention.ms.
    await admin.alterTopicConfigs(topic, { 'cleanup.policy': 'compact' })
    const configs = await admin.describeTopicConfigs(topic)
    expect(configs.find((c) => c.name === 'retention.ms')?.value).toBe('3600000')
    expect(configs.find((c) => c.name === 'cleanup.policy')?.value).toBe('compact')

    const producer = await WireProducer.create(bootstrap, { compression: 'gzip' })
    onTestFinished(() => producer.close())
    await producer.send(topic, Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })))

    const group = randomName('group')
    const consumer = await WireConsumer.create(bootstrap, { groupId: group, autoOffsetReset: 'earliest' })
    const records: ConsumedRecord[] = []
    consumer.subscribe([topic])
    await consumer.run({ eachBatch: (b) => { records.push(...b.records) } })
    await waitFor(() => records.length >= 10, 10_000, '10 records')
    await consumer.close()
    expect(records.map((r) => r.value?.toString()).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `v${i}`).sort())
    expect((await admin.fetchCommittedOffsets(group)).reduce((n, c) => n + c.offset, 0)).toBe(10)

    const described = await runCli(groupsCommand, ['describe', group, '--bootstrap', bootstrap])
    expect(described.exitCode).toBe(0)
    expect(described.stdout).toContain(topic)
    const deleted = await runCli(topicsCommand, ['delete', '--topic', topic, '--bootstrap', bootstrap])
    expect(deleted).toMatchObject({ exitCode: 0, stderr: '' })
    // Looking the deleted topic up (Metadata v1 names no topic) must not create it again.
    await expect(admin.describeTopics([topic])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
    expect(await admin.listTopics()).not.toContain(topic)
  })
})
