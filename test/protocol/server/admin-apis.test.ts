/**
 * The admin APIs over the wire with the raw client: Metadata (all topics, auto-creation, topic
 * ids), CreateTopics, CreatePartitions, DeleteTopics, DescribeConfigs, AlterConfigs and
 * IncrementalAlterConfigs, with Kafka's error codes for every refusal.
 */
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import type { KafkaConnection } from '../../../src/protocol/connection.js'
import type { CreatableTopic } from '../../../src/protocol/messages/create-topics.js'
import type { MetadataRequest } from '../../../src/protocol/messages/metadata.js'
import { ZERO_UUID } from '../../../src/protocol/reader.js'
import { topicName } from '../../helpers/cluster.js'
import { connect, sharedServedCluster } from './helpers.js'

const shared = sharedServedCluster({ config: { 'num.partitions': '2', 'log.retention.ms': '7200000' } })

function newTopic(name: string, extra: Partial<CreatableTopic> = {}): CreatableTopic {
  return { name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [], ...extra }
}

function metadataRequest(names: string[] | null, allowAutoTopicCreation = false): MetadataRequest {
  return { topics: names === null ? null : names.map((name) => ({ topicId: ZERO_UUID, name })), allowAutoTopicCreation, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }
}

async function describeTopic(connection: KafkaConnection, topic: string): Promise<Map<string, { value: string | null; configSource: number }>> {
  const r = await connection.request(ApiKey.DescribeConfigs, { resources: [{ resourceType: 2, resourceName: topic, configurationKeys: null }], includeSynonyms: false, includeDocumentation: false })
  expect(r.results[0]!.errorCode).toBe(0)
  return new Map(r.results[0]!.configs.map((c) => [c.name, c]))
}

describe('protocol > server > Metadata', () => {
  it('lists every topic (null list, or an empty list in v0) with ids, internal flags and leaders', async () => {
    const served = shared()
    const topic = topicName('md')
    const { topicId } = await served.cluster.engine.createTopic({ topic, numPartitions: 2, replicationFactor: 1, configs: {} })
    await served.cluster.groupCoordinator()
    const connection = await connect(served.port())
    const all = await connection.request(ApiKey.Metadata, metadataRequest(null))
    const mine = all.topics.find((t) => t.name === topic)!
    expect(mine).toMatchObject({ errorCode: 0, topicId, isInternal: false })
    expect(mine.partitions.map((p) => [p.partitionIndex, p.leaderId, p.replicaNodes, p.isrNodes])).toEqual([[0, 0, [0], [0]], [1, 0, [0], [0]]])
    expect(all.topics.find((t) => t.name === '__consumer_offsets')!.isInternal).toBe(true)
    const v0 = await connection.request(ApiKey.Metadata, metadataRequest([], true), { version: 0 })
    expect(v0.topics.map((t) => t.name)).toContain(topic)
    const none = await connection.request(ApiKey.Metadata, metadataRequest([]))
    expect(none.topics).toEqual([])
    const byId = await connection.request(ApiKey.Metadata, { ...metadataRequest(null), topics: [{ topicId, name: null }, { topicId: 'AAAAAAAAAAAAAAAAAAAAAQ', name: null }] }, { version: 12 })
    expect(byId.topics.map((t) => [t.name, t.errorCode])).toEqual([[topic, 0], [null, 100]])
  })

  it('creates a missing topic when the client allows it, and refuses illegal names', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const topic = topicName('md-auto')
    const notAllowed = await connection.request(ApiKey.Metadata, metadataRequest([topic], false))
    expect(notAllowed.topics[0]!.errorCode).toBe(3)
    const created = await connection.request(ApiKey.Metadata, metadataRequest([topic], true))
    expect(created.topics[0]!.errorCode).toBe(0)
    expect(created.topics[0]!.partitions).toHaveLength(2) // num.partitions
    const illegal = await connection.request(ApiKey.Metadata, metadataRequest(['no spaces'], true))
    expect(illegal.topics[0]!.errorCode).toBe(17)
  })
})

describe('protocol > server > CreateTopics, CreatePartitions, DeleteTopics', () => {
  it('creates topics with defaults and reports every refusal with its Kafka error', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const ok = topicName('ct')
    const dup = topicName('ct-dup')
    const r = await connection.request(ApiKey.CreateTopics, {
      timeoutMs: 5000, validateOnly: false,
      topics: [
        newTopic(ok, { numPartitions: -1, replicationFactor: -1, configs: [{ name: 'cleanup.policy', value: 'compact' }] }),
        newTopic(dup), newTopic(dup),
        newTopic('bad name'),
        newTopic(topicName('ct-rf'), { replicationFactor: 2 }),
        newTopic(topicName('ct-cfg'), { configs: [{ name: 'retention.ms', value: 'forever' }] }),
        newTopic(topicName('ct-np'), { numPartitions: 0 }),
        newTopic(topicName('ct-asg'), { numPartitions: -1, assignments: [{ partitionIndex: 0, brokerIds: [0] }] }),
      ],
    })
    const codes = r.topics.map((t) => t.errorCode)
    expect(codes).toEqual([0, 42, 42, 17, 38, 40, 37, 39])
    const created = r.topics[0]!
    expect(created).toMatchObject({ numPartitions: 2, replicationFactor: 1 })
    expect(created.topicId).toBe(served.cluster.engine.controller.topics.get(ok)!.topicId)
    expect(created.configs!.find((c) => c.name === 'cleanup.policy')).toMatchObject({ value: 'compact', configSource: 1 })
    expect(r.topics[4]!.errorMessage).toMatch(/[Rr]eplication factor/)
    const again = await connection.request(ApiKey.CreateTopics, { timeoutMs: 5000, validateOnly: false, topics: [newTopic(ok)] })
    expect(again.topics[0]!.errorCode).toBe(36) // TOPIC_ALREADY_EXISTS
    const validated = topicName('ct-validate')
    const dry = await connection.request(ApiKey.CreateTopics, { timeoutMs: 5000, validateOnly: true, topics: [newTopic(validated, { numPartitions: 4 })] })
    expect(dry.topics[0]).toMatchObject({ errorCode: 0, numPartitions: 4 })
    expect(served.cluster.engine.controller.topics.has(validated)).toBe(false)
  })

  it('raises partition counts and refuses a lower or equal count with INVALID_PARTITIONS', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const topic = topicName('cp')
    await served.cluster.engine.createTopic({ topic, numPartitions: 3, replicationFactor: 1, configs: {} })
    const request = (count: number, validateOnly = false, name = topic): Promise<number> =>
      connection.request(ApiKey.CreatePartitions, { timeoutMs: 5000, validateOnly, topics: [{ name, count, assignments: null }] }).then((r) => r.results[0]!.errorCode)
    expect(await request(6, true)).toBe(0)
    expect(served.cluster.engine.controller.topics.partitionCount(topic)).toBe(3)
    expect(await request(6)).toBe(0)
    expect(served.cluster.engine.controller.topics.partitionCount(topic)).toBe(6)
    expect(await request(4)).toBe(37)
    expect(await request(6)).toBe(37)
    expect(await request(8, false, 'missing-topic')).toBe(3)
  })

  it('deletes topics by name and by id, and refuses internal and unknown ones', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const a = topicName('dt')
    const b = topicName('dt')
    await served.cluster.engine.createTopic({ topic: a, numPartitions: 1, replicationFactor: 1, configs: {} })
    const { topicId } = await served.cluster.engine.createTopic({ topic: b, numPartitions: 1, replicationFactor: 1, configs: {} })
    await served.cluster.groupCoordinator()
    const byName = await connection.request(ApiKey.DeleteTopics, { timeoutMs: 5000, topicNames: [a, 'missing-topic', '__consumer_offsets'], topics: [] }, { version: 5 })
    expect(byName.responses.map((r) => [r.name, r.errorCode])).toEqual([[a, 0], ['missing-topic', 3], ['__consumer_offsets', 42]])
    const byId = await connection.request(ApiKey.DeleteTopics, { timeoutMs: 5000, topicNames: [], topics: [{ name: null, topicId }, { name: null, topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' }] }, { version: 6 })
    expect(byId.responses.map((r) => [r.name, r.errorCode])).toEqual([[b, 0], [null, 100]])
    expect(served.cluster.engine.controller.topics.has(a) || served.cluster.engine.controller.topics.has(b)).toBe(false)
  })
})

describe('protocol > server > configs', () => {
  it('describes topic configs with their source: override, server.properties or Kafka default', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const topic = topicName('dc')
    await served.cluster.engine.createTopic({ topic, numPartitions: 1, replicationFactor: 1, configs: { 'segment.bytes': '1048576' } })
    const r = await connection.request(ApiKey.DescribeConfigs, {
      resources: [
        { resourceType: 2, resourceName: topic, configurationKeys: ['segment.bytes', 'retention.ms', 'cleanup.policy'] },
        { resourceType: 2, resourceName: 'missing-topic', configurationKeys: null },
        { resourceType: 4, resourceName: '0', configurationKeys: ['num.partitions', 'log.retention.ms'] },
        { resourceType: 8, resourceName: '0', configurationKeys: null },
      ],
      includeSynonyms: true,
      includeDocumentation: true,
    })
    const [topicResult, missing, broker, logger] = r.results
    const byName = new Map(topicResult!.configs.map((c) => [c.name, c]))
    expect([...byName.keys()].sort()).toEqual(['cleanup.policy', 'retention.ms', 'segment.bytes'])
    expect(byName.get('segment.bytes')).toMatchObject({ value: '1048576', configSource: 1, configType: 3 })
    expect(byName.get('segment.bytes')!.synonyms.map((s) => s.source)).toEqual([1, 5])
    expect(byName.get('retention.ms')).toMatchObject({ value: '7200000', configSource: 4 })
    expect(byName.get('retention.ms')!.synonyms).toEqual([
      { name: 'log.retention.ms', value: '7200000', source: 4 },
      { name: 'log.retention.ms', value: '604800000', source: 5 },
    ])
    expect(byName.get('cleanup.policy')).toMatchObject({ value: 'delete', configSource: 5, configType: 7 })
    expect(byName.get('cleanup.policy')!.documentation).toMatch(/compact/)
    expect(missing!.errorCode).toBe(3)
    expect(new Map(broker!.configs.map((c) => [c.name, c.value]))).toEqual(new Map([['num.partitions', '2'], ['log.retention.ms', '7200000']]))
    expect(broker!.configs.find((c) => c.name === 'num.partitions')).toMatchObject({ configSource: 4, readOnly: true })
    expect(logger!.errorCode).toBe(42)
  })

  it('replaces overrides with AlterConfigs and validates without applying', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const topic = topicName('ac')
    await served.cluster.engine.createTopic({ topic, numPartitions: 1, replicationFactor: 1, configs: { 'cleanup.policy': 'compact' } })
    const alter = (configs: Array<{ name: string; value: string | null }>, validateOnly = false, resourceType = 2): Promise<number> =>
      connection.request(ApiKey.AlterConfigs, { validateOnly, resources: [{ resourceType, resourceName: topic, configs }] }).then((r) => r.responses[0]!.errorCode)
    expect(await alter([{ name: 'retention.ms', value: '1000' }], true)).toBe(0)
    expect((await describeTopic(connection, topic)).get('retention.ms')!.configSource).toBe(4)
    expect(await alter([{ name: 'retention.ms', value: '1000' }])).toBe(0)
    const configs = await describeTopic(connection, topic)
    expect(configs.get('retention.ms')).toMatchObject({ value: '1000', configSource: 1 })
    expect(configs.get('cleanup.policy')).toMatchObject({ value: 'delete', configSource: 5 })
    expect(await alter([{ name: 'retention.ms', value: 'x' }])).toBe(40)
    expect(await alter([{ name: 'no.such.config', value: '1' }])).toBe(40)
    expect(await alter([{ name: 'num.partitions', value: '3' }], false, 4)).toBe(42)
  })

  it('changes only the named configs with IncrementalAlterConfigs, list configs included', async () => {
    const served = shared()
    const connection = await connect(served.port())
    const topic = topicName('iac')
    await served.cluster.engine.createTopic({ topic, numPartitions: 1, replicationFactor: 1, configs: { 'segment.bytes': '1048576' } })
    const alter = (configs: Array<{ name: string; configOperation: number; value: string | null }>): Promise<number> =>
      connection.request(ApiKey.IncrementalAlterConfigs, { validateOnly: false, resources: [{ resourceType: 2, resourceName: topic, configs }] }).then((r) => r.responses[0]!.errorCode)
    expect(await alter([{ name: 'retention.ms', configOperation: 0, value: '5000' }, { name: 'cleanup.policy', configOperation: 2, value: 'compact' }])).toBe(0)
    let configs = await describeTopic(connection, topic)
    expect(configs.get('segment.bytes')!.value).toBe('1048576')
    expect(configs.get('retention.ms')!.value).toBe('5000')
    expect(configs.get('cleanup.policy')!.value).toBe('delete,compact')
    expect(await alter([{ name: 'cleanup.policy', configOperation: 3, value: 'delete' }, { name: 'segment.bytes', configOperation: 1, value: null }])).toBe(0)
    configs = await describeTopic(connection, topic)
    expect(configs.get('cleanup.policy')!.value).toBe('compact')
    expect(configs.get('segment.bytes')!.configSource).toBe(5)
    expect(await alter([{ name: 'retention.ms', configOperation: 2, value: '1' }])).toBe(40)
    expect(await alter([{ name: 'retention.ms', configOperation: 0, value: '1' }, { name: 'retention.ms', configOperation: 1, value: null }])).toBe(42)
    expect(await alter([{ name: 'retention.ms', configOperation: 9, value: '1' }])).toBe(42)
  })
})
