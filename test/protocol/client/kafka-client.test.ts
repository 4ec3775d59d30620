/**
 * KafkaClient against a real shardlog server over real sockets: bootstrap, metadata cache,
 * coordinators, the retry helper and closing.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidConfigError, NotLeaderOrFollowerError } from '../../../src/errors.js'
import { KafkaClient, isStaleMetadataError, throwIfError } from '../../../src/protocol/client/kafka-client.js'
import { WireAdmin } from '../../../src/protocol/client/wire-admin.js'
import { randomName, sharedWireCluster } from './wire-cluster.js'

describe('protocol > client > KafkaClient', () => {
  const wire = sharedWireCluster({ brokers: 2 })

  async function connect(bootstrap = wire.bootstrap): Promise<KafkaClient> {
    const client = await KafkaClient.connect({ bootstrap, clientId: 'kafka-client-test', retryBackoffMs: 10 })
    onTestFinished(() => client.close())
    return client
  }

  it('bootstraps from any listed server and learns every broker', async () => {
    const client = await connect(`127.0.0.1:1,${wire.bootstrap}`)
    expect([...client.brokers.keys()].sort()).toEqual([0, 1])
    expect(client.brokers.get(0)!.port).not.toBe(client.brokers.get(1)!.port)
    expect(client.controllerId).toBeGreaterThanOrEqual(0)
    expect(client.clusterId).toEqual(expect.any(String))
  })

  it('caches topic metadata, drops deleted topics on refresh and fails fast for unknown ones', async () => {
    const client = await connect()
    const admin = new WireAdmin(client)
    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: 4, replicationFactor: 2 }])
    const metadata = (await client.topicMetadata([topic])).get(topic)!
    expect(metadata.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3])
    for (const p of metadata.partitions) {
      expect(p.replicas.sort()).toEqual([0, 1])
      expect(client.leaderFor(topic, p.partition)).toBe(p.leader)
      // Each leader answers on its own connection.
      expect((await client.brokerConnection(p.leader)).port).toBe(client.brokers.get(p.leader)!.port)
    }
    expect(client.cachedTopic(topic)?.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/)
    await admin.deleteTopics([topic])
    expect(client.cachedTopic(topic)).toBeUndefined()
    expect(client.leaderFor(topic, 0)).toBe(-1)
    await expect(client.topicMetadata([topic])).rejects.toMatchObject({ code: 'UNKNOWN_TOPIC_OR_PARTITION' })
  })

  it('finds the group coordinator and reuses its connection', async () => {
    const client = await connect()
    const group = randomName('group')
    const first = await client.coordinatorConnection(group)
    expect(await client.coordinatorConnection(group)).toBe(first)
    client.forgetCoordinator(group)
    expect((await client.coordinatorConnection(group)).address).toBe(first.address)
  })

  it('retries retriable errors with backoff, never others', async () => {
    const client = await connect()
    let calls = 0
    const seen: string[] = []
    const value = await client.retry(async () => {
      calls++
      if (calls < 3) throw new NotLeaderOrFollowerError('moved')
      return 'ok'
    }, { onRetry: (err, attempt) => { seen.push(`${err.code}#${attempt}`) } })
    expect(value).toBe('ok')
    expect(seen).toEqual(['NOT_LEADER_OR_FOLLOWER#1', 'NOT_LEADER_OR_FOLLOWER#2'])

    calls = 0
    await expect(client.retry(async () => { calls++; throw new InvalidConfigError('bad') })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    expect(calls).toBe(1)
    calls = 0
    await expect(client.retry(async () => { calls++; throw new NotLeaderOrFollowerError('still moved') }, { retries: 2 })).rejects.toMatchObject({ code: 'NOT_LEADER_OR_FOLLOWER' })
    expect(calls).toBe(3)
  })

  it('fails every call with NETWORK_EXCEPTION once closed', async () => {
    const client = await KafkaClient.connect({ bootstrap: wire.bootstrap })
    await client.close()
    await expect(client.anyConnection()).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' })
    await expect(client.refreshMetadata(null)).rejects.toMatchObject({ code: 'NETWORK_EXCEPTION' })
  })
})

describe('protocol > client > errors', () => {
  it('throwIfError keeps the broker message and the Kafka code', () => {
    expect(() => throwIfError(0, 'x')).not.toThrow()
    expect(() => throwIfError(36, 'creating topic t', 'Topic t already exists.')).toThrow(expect.objectContaining({
      code: 'TOPIC_ALREADY_EXISTS', message: 'creating topic t: Topic t already exists.',
    }))
    expect(() => throwIfError(3, 'fetching t-0')).toThrow(expect.objectContaining({ code: 'UNKNOWN_TOPIC_OR_PARTITION', message: expect.stringMatching(/^fetching t-0: /) }))
  })

  it('isStaleMetadataError picks the errors after which metadata must be refreshed', () => {
    expect(isStaleMetadataError(new NotLeaderOrFollowerError())).toBe(true)
    expect(isStaleMetadataError(new InvalidConfigError())).toBe(false)
    expect(isStaleMetadataError(new Error('plain'))).toBe(false)
  })
})
