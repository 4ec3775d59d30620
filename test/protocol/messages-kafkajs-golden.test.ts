/**
 * Cross-checks the generated codecs against kafkajs 2.2.4, an independent hand-written
 * implementation: kafkajs's request encoders produce the golden request bodies (ours must
 * encode the same body to the same bytes and decode kafkajs's bytes to the same body), and
 * kafkajs's response decoders must read the responses we encode.
 */
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../src/protocol/api-keys.js'
import {
  decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment,
} from '../../src/protocol/messages/consumer-protocol-assignment.js'
import {
  decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription,
} from '../../src/protocol/messages/consumer-protocol-subscription.js'
import { API_CODECS, type ApiRequests, type ApiResponses } from '../../src/protocol/messages/index.js'
import { Reader, ZERO_UUID } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const require = createRequire(import.meta.url)

interface KafkajsRequest { apiVersion: number; encode(): Promise<{ buffer: Buffer }> }
interface KafkajsResponse { decode(raw: Buffer): Promise<Record<string, unknown>> }

/** The request body kafkajs encodes for `<api>/v<version>` with `args`. */
async function kafkajsRequestBody(api: string, version: number, args: unknown): Promise<Buffer> {
  const make = require(`kafkajs/src/protocol/requests/${api}/v${version}/request`) as (args: unknown) => KafkajsRequest
  const request = make(args)
  expect(request.apiVersion).toBe(version)
  return (await request.encode()).buffer
}

/** kafkajs's decoding of a response body we encoded. */
async function kafkajsDecodeResponse(api: string, version: number, body: Buffer): Promise<Record<string, unknown>> {
  const { decode } = require(`kafkajs/src/protocol/requests/${api}/v${version}/response`) as KafkajsResponse
  return decode(body)
}

function encodeRequest<K extends ApiKey>(apiKey: K, body: ApiRequests[K], version: number): Buffer {
  const w = new Writer()
  API_CODECS[apiKey].encodeRequest(w, body, version)
  return w.toBuffer()
}

function decodeRequest<K extends ApiKey>(apiKey: K, bytes: Buffer, version: number): ApiRequests[K] {
  const r = new Reader(bytes)
  const body = API_CODECS[apiKey].decodeRequest(r, version)
  expect(r.remaining).toBe(0)
  return body
}

function encodeResponse<K extends ApiKey>(apiKey: K, body: ApiResponses[K], version: number): Buffer {
  const w = new Writer()
  API_CODECS[apiKey].encodeResponse(w, body, version)
  return w.toBuffer()
}

/** Ours encodes `body` to exactly kafkajs's bytes, and decodes kafkajs's bytes back to `body`. */
function expectSameRequest<K extends ApiKey>(apiKey: K, version: number, body: ApiRequests[K], golden: Buffer): void {
  expect(encodeRequest(apiKey, body, version).toString('hex')).toBe(golden.toString('hex'))
  expect(decodeRequest(apiKey, golden, version)).toMatchObject(body as object)
}

/** Ours decodes kafkajs's bytes and encodes the result back to the same bytes. */
function expectRoundTripOfKafkajs<K extends ApiKey>(apiKey: K, version: number, golden: Buffer): ApiRequests[K] {
  const decoded = decodeRequest(apiKey, golden, version)
  expect(encodeRequest(apiKey, decoded, version).toString('hex')).toBe(golden.toString('hex'))
  return decoded
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)

/** kafkajs's consumer-protocol subscription (JoinGroup protocol metadata), version 0. */
const { MemberMetadata, MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol') as {
  MemberMetadata: { encode(m: { version: number; topics: string[]; userData?: Buffer }): Buffer }
  MemberAssignment: { encode(m: { version: number; assignment: Record<string, number[]>; userData?: Buffer }): Buffer }
}

describe('protocol > messages > kafkajs requests (golden bytes)', () => {
  it.each(range(0, 2))('ApiVersions v%i', async (v) => {
    const golden = await kafkajsRequestBody('apiVersions', v, {})
    expectSameRequest(ApiKey.ApiVersions, v, { clientSoftwareName: '', clientSoftwareVersion: '' }, golden)
  })

  it.each(range(0, 6))('Metadata v%i', async (v) => {
    const golden = await kafkajsRequestBody('metadata', v, { topics: ['orders', 'päyments'], allowAutoTopicCreation: false })
    expectSameRequest(ApiKey.Metadata, v, {
      topics: [{ topicId: ZERO_UUID, name: 'orders' }, { topicId: ZERO_UUID, name: 'päyments' }],
      allowAutoTopicCreation: v >= 4 ? false : true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }, golden)
  })

  it.each(range(3, 7))('Produce v%i (records passed through as raw bytes)', async (v) => {
    const golden = await kafkajsRequestBody('produce', v, {
      acks: -1,
      timeout: 30000,
      transactionalId: 'tx-1',
      compression: 0,
      topicData: [{
        topic: 'orders',
        partitions: [{
          partition: 2,
          firstSequence: 0,
          messages: [{ key: 'k1', value: 'v1', timestamp: 1700000000000 }, { key: null, value: 'v2', timestamp: 1700000000001 }],
        }],
      }],
    })
    const decoded = expectRoundTripOfKafkajs(ApiKey.Produce, v, golden)
    expect(decoded).toMatchObject({ transactionalId: 'tx-1', acks: -1, timeoutMs: 30000 })
    expect(decoded.topicData).toHaveLength(1)
    expect(decoded.topicData[0]!.name).toBe('orders')
    const partition = decoded.topicData[0]!.partitionData[0]!
    expect(partition.index).toBe(2)
    // The record batch is kept as bytes: magic 2 at offset 16, batch length + 12 = its size.
    const records = partition.records!
    expect(records[16]).toBe(2)
    expect(records.readInt32BE(8) + 12).toBe(records.length)
    // It is a view of the request, not a copy.
    expect(records.buffer).toBe(golden.buffer)
  })

  it.each(range(4, 11))('Fetch v%i', async (v) => {
    const golden = await kafkajsRequestBody('fetch', v, {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: 'orders',
        partitions: [
          { partition: 0, fetchOffset: '12345678901', logStartOffset: -1, maxBytes: 1048576, currentLeaderEpoch: 7 },
          { partition: 1, fetchOffset: '0', logStartOffset: -1, maxBytes: 65536, currentLeaderEpoch: 7 },
        ],
      }],
      forgottenTopics: [{ topic: 'old', partitions: [1, 2] }],
      rackId: 'rack-a',
    })
    const partition = (index: number, fetchOffset: number, partitionMaxBytes: number) => ({
      partition: index,
      currentLeaderEpoch: v >= 9 ? 7 : -1,
      fetchOffset,
      lastFetchedEpoch: -1,
      logStartOffset: -1,
      partitionMaxBytes,
    })
    expectSameRequest(ApiKey.Fetch, v, {
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{ topic: 'orders', topicId: ZERO_UUID, partitions: [partition(0, 12345678901, 1048576), partition(1, 0, 65536)] }],
      forgottenTopicsData: v >= 7 ? [{ topic: 'old', topicId: ZERO_UUID, partitions: [1, 2] }] : [],
      rackId: v >= 11 ? 'rack-a' : '',
    }, golden)
  })

  it.each(range(1, 3))('ListOffsets v%i', async (v) => {
    const golden = await kafkajsRequestBody('listOffsets', v, {
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, timestamp: -1 }, { partition: 1, timestamp: '1700000000000' }] }],
    })
    expectSameRequest(ApiKey.ListOffsets, v, {
      replicaId: -1,
      isolationLevel: v >= 2 ? 1 : 0,
      topics: [{
        name: 'orders',
        partitions: [
          { partitionIndex: 0, currentLeaderEpoch: -1, timestamp: -1, maxNumOffsets: 1 },
          { partitionIndex: 1, currentLeaderEpoch: -1, timestamp: 1700000000000, maxNumOffsets: 1 },
        ],
      }],
      timeoutMs: 0,
    }, golden)
  })

  it.each(range(0, 5))('JoinGroup v%i (with consumer-protocol metadata from kafkajs)', async (v) => {
    const metadata = MemberMetadata.encode({ version: 0, topics: ['orders', 'payments'], userData: Buffer.from('ud') })
    const golden = await kafkajsRequestBody('joinGroup', v, {
      groupId: 'group-1',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: 'member-1',
      groupInstanceId: 'instance-1',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'RoundRobinAssigner', metadata }],
    })
    expectSameRequest(ApiKey.JoinGroup, v, {
      groupId: 'group-1',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: v >= 1 ? 60000 : -1,
      memberId: 'member-1',
      groupInstanceId: v >= 5 ? 'instance-1' : null,
      protocolType: 'consumer',
      protocols: [{ name: 'RoundRobinAssigner', metadata }],
      reason: null,
    }, golden)
  })

  it.each(range(2, 5))('OffsetCommit v%i', async (v) => {
    const golden = await kafkajsRequestBody('offsetCommit', v, {
      groupId: 'group-1',
      groupGenerationId: 3,
      memberId: 'member-1',
      retentionTime: -1,
      topics: [{ topic: 'orders', partitions: [{ partition: 0, offset: '42', metadata: null }, { partition: 1, offset: '9007199254740991', metadata: 'm' }] }],
    })
    expectSameRequest(ApiKey.OffsetCommit, v, {
      groupId: 'group-1',
      generationIdOrMemberEpoch: 3,
      memberId: 'member-1',
      groupInstanceId: null,
      retentionTimeMs: -1,
      topics: [{
        name: 'orders',
        partitions: [
          { partitionIndex: 0, committedOffset: 42, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: null },
          { partitionIndex: 1, committedOffset: Number.MAX_SAFE_INTEGER, committedLeaderEpoch: -1, commitTimestamp: -1, committedMetadata: 'm' },
        ],
      }],
    }, golden)
  })

  it.each(range(2, 3))('CreateTopics v%i', async (v) => {
    const golden = await kafkajsRequestBody('createTopics', v, {
      topics: [
        { topic: 'orders', numPartitions: 3, replicationFactor: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: 'manual', replicaAssignment: [{ partition: 0, replicas: [1, 2] }] },
      ],
      validateOnly: true,
      timeout: 5000,
    })
    expectSameRequest(ApiKey.CreateTopics, v, {
      topics: [
        { name: 'orders', numPartitions: 3, replicationFactor: 2, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] },
        { name: 'manual', numPartitions: -1, replicationFactor: -1, assignments: [{ partitionIndex: 0, brokerIds: [1, 2] }], configs: [] },
      ],
      timeoutMs: 5000,
      validateOnly: true,
    }, golden)
  })

  // The other APIs kafkajs implements: decode its bytes, check the values, re-encode identically.
  it('FindCoordinator v0-2, Heartbeat v0-3, SyncGroup v0-3, LeaveGroup v0-3', async () => {
    expect(expectRoundTripOfKafkajs(ApiKey.FindCoordinator, 0, await kafkajsRequestBody('findCoordinator', 0, { groupId: 'g' })))
      .toMatchObject({ key: 'g', keyType: 0 })
    for (const v of [1, 2]) {
      const golden = await kafkajsRequestBody('findCoordinator', v, { coordinatorKey: 'tx', coordinatorType: 1 })
      expect(expectRoundTripOfKafkajs(ApiKey.FindCoordinator, v, golden)).toMatchObject({ key: 'tx', keyType: 1 })
    }
    for (const v of range(0, 3)) {
      const golden = await kafkajsRequestBody('heartbeat', v, { groupId: 'g', groupGenerationId: 5, memberId: 'm', groupInstanceId: 'i' })
      expect(expectRoundTripOfKafkajs(ApiKey.Heartbeat, v, golden))
        .toMatchObject({ groupId: 'g', generationId: 5, memberId: 'm', groupInstanceId: v >= 3 ? 'i' : null })
    }
    const assignment = MemberAssignment.encode({ version: 0, assignment: { orders: [0, 2], payments: [1] } })
    for (const v of range(0, 3)) {
      const golden = await kafkajsRequestBody('syncGroup', v, {
        groupId: 'g', generationId: 5, memberId: 'm', groupInstanceId: null, groupAssignment: [{ memberId: 'm', memberAssignment: assignment }],
      })
      const decoded = expectRoundTripOfKafkajs(ApiKey.SyncGroup, v, golden)
      expect(decoded).toMatchObject({ groupId: 'g', generationId: 5, memberId: 'm', assignments: [{ memberId: 'm', assignment }] })
    }
    for (const v of range(0, 2)) {
      const golden = await kafkajsRequestBody('leaveGroup', v, { groupId: 'g', memberId: 'm' })
      expect(expectRoundTripOfKafkajs(ApiKey.LeaveGroup, v, golden)).toMatchObject({ groupId: 'g', memberId: 'm', members: [] })
    }
    const golden = await kafkajsRequestBody('leaveGroup', 3, { groupId: 'g', members: [{ memberId: 'm1' }, { memberId: 'm2', groupInstanceId: 'i2' }] })
    expect(expectRoundTripOfKafkajs(ApiKey.LeaveGroup, 3, golden)).toMatchObject({
      groupId: 'g', members: [{ memberId: 'm1', groupInstanceId: null }, { memberId: 'm2', groupInstanceId: 'i2' }],
    })
  })

  it('OffsetFetch v1-4, DescribeGroups v0-2, ListGroups v0-2, DeleteGroups v0-1', async () => {
    for (const v of range(1, 4)) {
      const golden = await kafkajsRequestBody('offsetFetch', v, { groupId: 'g', topics: [{ topic: 'orders', partitions: [{ partition: 0 }, { partition: 3 }] }] })
      expect(expectRoundTripOfKafkajs(ApiKey.OffsetFetch, v, golden))
        .toMatchObject({ groupId: 'g', topics: [{ name: 'orders', partitionIndexes: [0, 3] }] })
    }
    for (const v of range(0, 2)) {
      const golden = await kafkajsRequestBody('describeGroups', v, { groupIds: ['a', 'b'] })
      expect(expectRoundTripOfKafkajs(ApiKey.DescribeGroups, v, golden)).toMatchObject({ groups: ['a', 'b'] })
      expect(expectRoundTripOfKafkajs(ApiKey.ListGroups, v, await kafkajsRequestBody('listGroups', v, {}))).toMatchObject({ statesFilter: [] })
    }
    for (const v of range(0, 1)) {
      const golden = await kafkajsRequestBody('deleteGroups', v, ['a', 'b'])
      expect(expectRoundTripOfKafkajs(ApiKey.DeleteGroups, v, golden)).toMatchObject({ groupsNames: ['a', 'b'] })
    }
  })

  it('DeleteTopics v0-1, CreatePartitions v0-1, DeleteRecords v0-1, DescribeConfigs v0-2, AlterConfigs v0-1', async () => {
    for (const v of range(0, 1)) {
      const golden = await kafkajsRequestBody('deleteTopics', v, { topics: ['a', 'b'], timeout: 5000 })
      expect(expectRoundTripOfKafkajs(ApiKey.DeleteTopics, v, golden)).toMatchObject({ topicNames: ['a', 'b'], timeoutMs: 5000 })
      const partitions = await kafkajsRequestBody('createPartitions', v, { topicPartitions: [{ topic: 'a', count: 6 }], validateOnly: false, timeout: 5000 })
      expect(expectRoundTripOfKafkajs(ApiKey.CreatePartitions, v, partitions))
        .toMatchObject({ topics: [{ name: 'a', count: 6, assignments: null }], timeoutMs: 5000, validateOnly: false }) // kafkajs writes an empty list as null
      const records = await kafkajsRequestBody('deleteRecords', v, { topics: [{ topic: 'a', partitions: [{ partition: 0, offset: '100' }] }], timeout: 5000 })
      expect(expectRoundTripOfKafkajs(ApiKey.DeleteRecords, v, records))
        .toMatchObject({ topics: [{ name: 'a', partitions: [{ partitionIndex: 0, offset: 100 }] }], timeoutMs: 5000 })
      const alter = await kafkajsRequestBody('alterConfigs', v, {
        resources: [{ type: 2, name: 'a', configEntries: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: true,
      })
      expect(expectRoundTripOfKafkajs(ApiKey.AlterConfigs, v, alter)).toMatchObject({
        resources: [{ resourceType: 2, resourceName: 'a', configs: [{ name: 'retention.ms', value: '1000' }] }], validateOnly: true,
      })
    }
    for (const v of range(0, 2)) {
      const golden = await kafkajsRequestBody('describeConfigs', v, { resources: [{ type: 2, name: 'a', configNames: ['retention.ms'] }], includeSynonyms: true })
      expect(expectRoundTripOfKafkajs(ApiKey.DescribeConfigs, v, golden)).toMatchObject({
        resources: [{ resourceType: 2, resourceName: 'a', configurationKeys: ['retention.ms'] }], includeSynonyms: v >= 1,
      })
    }
  })

  it('InitProducerId v0-1, SaslHandshake v0-1 and the transaction APIs v0-1', async () => {
    for (const v of range(0, 1)) {
      const init = await kafkajsRequestBody('initProducerId', v, { transactionalId: 'tx', transactionTimeout: 60000 })
      expect(expectRoundTripOfKafkajs(ApiKey.InitProducerId, v, init)).toMatchObject({ transactionalId: 'tx', transactionTimeoutMs: 60000 })
      const sasl = await kafkajsRequestBody('saslHandshake', v, { mechanism: 'PLAIN' })
      expect(expectRoundTripOfKafkajs(ApiKey.SaslHandshake, v, sasl)).toMatchObject({ mechanism: 'PLAIN' })
      const txn = { transactionalId: 'tx', producerId: '4000', producerEpoch: 2 }
      const end = await kafkajsRequestBody('endTxn', v, { ...txn, transactionResult: true })
      expect(expectRoundTripOfKafkajs(ApiKey.EndTxn, v, end)).toMatchObject({ transactionalId: 'tx', producerId: 4000, producerEpoch: 2, committed: true })
      const offsets = await kafkajsRequestBody('addOffsetsToTxn', v, { ...txn, groupId: 'g' })
      expect(expectRoundTripOfKafkajs(ApiKey.AddOffsetsToTxn, v, offsets)).toMatchObject({ groupId: 'g', producerId: 4000 })
      const partitions = await kafkajsRequestBody('addPartitionsToTxn', v, { ...txn, topics: [{ topic: 'a', partitions: [0, 1] }] })
      expect(expectRoundTripOfKafkajs(ApiKey.AddPartitionsToTxn, v, partitions)).toMatchObject({
        v3AndBelowTransactionalId: 'tx', v3AndBelowProducerId: 4000, v3AndBelowTopics: [{ name: 'a', partitions: [0, 1] }],
      })
      const commit = await kafkajsRequestBody('txnOffsetCommit', v, { ...txn, groupId: 'g', topics: [{ topic: 'a', partitions: [{ partition: 0, offset: '7', metadata: null }] }] })
      expect(expectRoundTripOfKafkajs(ApiKey.TxnOffsetCommit, v, commit)).toMatchObject({
        groupId: 'g', topics: [{ name: 'a', partitions: [{ partitionIndex: 0, committedOffset: 7, committedMetadata: null }] }],
      })
    }
  })

  it('consumer protocol v0: kafkajs MemberMetadata/MemberAssignment are ours byte for byte', () => {
    const userData = Buffer.from([1, 2, 3])
    const subscription = MemberMetadata.encode({ version: 0, topics: ['orders', 'payments'], userData })
    const r = new Reader(subscription)
    expect(r.int16()).toBe(0)
    const decoded = decodeConsumerProtocolSubscription(r, 0)
    expect(decoded).toMatchObject({ topics: ['orders', 'payments'], userData })
    const w = new Writer()
    w.int16(0)
    encodeConsumerProtocolSubscription(w, decoded, 0)
    expect(w.toBuffer().equals(subscription)).toBe(true)

    const assignment = MemberAssignment.encode({ version: 0, assignment: { orders: [0, 2], payments: [1] }, userData })
    const ra = new Reader(assignment, 2)
    const decodedAssignment = decodeConsumerProtocolAssignment(ra, 0)
    expect(decodedAssignment).toEqual({
      assignedPartitions: [{ topic: 'orders', partitions: [0, 2] }, { topic: 'payments', partitions: [1] }],
      userData,
    })
    const wa = new Writer()
    wa.int16(0)
    encodeConsumerProtocolAssignment(wa, decodedAssignment, 0)
    expect(wa.toBuffer().equals(assignment)).toBe(true)
  })
})

describe('protocol > messages > kafkajs decodes our responses', () => {
  it.each(range(0, 2))('ApiVersions v%i', async (v) => {
    const body = encodeResponse(ApiKey.ApiVersions, {
      errorCode: 0,
      apiKeys: [{ apiKey: 0, minVersion: 3, maxVersion: 9 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }],
      throttleTimeMs: 0,
    }, v)
    const decoded = await kafkajsDecodeResponse('apiVersions', v, body)
    expect(decoded).toMatchObject({ errorCode: 0, apiVersions: [{ apiKey: 0, minVersion: 3, maxVersion: 9 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }] })
  })

  it.each(range(0, 6))('Metadata v%i', async (v) => {
    const body = encodeResponse(ApiKey.Metadata, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092, rack: v >= 1 ? 'r1' : null }],
      clusterId: v >= 2 ? 'cluster-1' : null,
      controllerId: v >= 1 ? 1 : -1,
      topics: [{
        errorCode: 0, name: 'orders', topicId: ZERO_UUID, isInternal: false, topicAuthorizedOperations: -2147483648,
        partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: -1, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
      }],
      clusterAuthorizedOperations: -2147483648,
    }, v)
    const decoded = await kafkajsDecodeResponse('metadata', v, body)
    expect(decoded).toMatchObject({
      brokers: [{ nodeId: 1, host: 'localhost', port: 9092 }],
      topicMetadata: [{ topicErrorCode: 0, topic: 'orders', partitionMetadata: [{ partitionId: 0, leader: 1, replicas: [1], isr: [1] }] }],
    })
  })

  it.each(range(3, 7))('Produce v%i', async (v) => {
    const body = encodeResponse(ApiKey.Produce, {
      responses: [{
        name: 'orders',
        partitionResponses: [{ index: 2, errorCode: 0, baseOffset: 1234567890123, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null }],
      }],
      throttleTimeMs: 0,
    }, v)
    const decoded = await kafkajsDecodeResponse('produce', v, body)
    expect(decoded).toMatchObject({ topics: [{ topicName: 'orders', partitions: [{ partition: 2, errorCode: 0, baseOffset: '1234567890123' }] }] })
  })

  it.each(range(4, 11))('Fetch v%i with a kafkajs record batch passed through', async (v) => {
    const produce = await kafkajsRequestBody('produce', 7, {
      acks: 1, timeout: 1000, compression: 0,
      topicData: [{ topic: 'orders', partitions: [{ partition: 0, messages: [{ key: 'k1', value: 'hello', timestamp: 1700000000000 }] }] }],
    })
    const records = decodeRequest(ApiKey.Produce, produce, 7).topicData[0]!.partitionData[0]!.records
    const body = encodeResponse(ApiKey.Fetch, {
      throttleTimeMs: 0, errorCode: 0, sessionId: 0,
      responses: [{
        topic: 'orders', topicId: ZERO_UUID,
        partitions: [{
          partitionIndex: 0, errorCode: 0, highWatermark: 1, lastStableOffset: 1, logStartOffset: 0,
          abortedTransactions: [], preferredReadReplica: -1, records,
        }],
      }],
    }, v)
    const decoded = await kafkajsDecodeResponse('fetch', v, body)
    const responses = decoded.responses as { topicName: string; partitions: { partition: number; highWatermark: string; messages: { key: Buffer; value: Buffer }[] }[] }[]
    expect(responses[0]!.topicName).toBe('orders')
    expect(responses[0]!.partitions[0]!.highWatermark).toBe('1')
    const messages = responses[0]!.partitions[0]!.messages
    expect(messages).toHaveLength(1)
    expect(messages[0]!.key.toString()).toBe('k1')
    expect(messages[0]!.value.toString()).toBe('hello')
  })

  it.each(range(1, 3))('ListOffsets v%i', async (v) => {
    const body = encodeResponse(ApiKey.ListOffsets, {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [], timestamp: -1, offset: 42, leaderEpoch: -1 }] }],
    }, v)
    const decoded = await kafkajsDecodeResponse('listOffsets', v, body)
    expect(decoded).toMatchObject({ responses: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0, offset: '42' }] }] })
  })

  it.each(range(0, 5))('JoinGroup v%i', async (v) => {
    const metadata = MemberMetadata.encode({ version: 0, topics: ['orders'] })
    const body = encodeResponse(ApiKey.JoinGroup, {
      throttleTimeMs: 0, errorCode: 0, generationId: 3, protocolType: 'consumer', protocolName: 'RoundRobinAssigner',
      leader: 'm1', skipAssignment: false, memberId: 'm1',
      members: [{ memberId: 'm1', groupInstanceId: null, metadata }],
    }, v)
    const decoded = await kafkajsDecodeResponse('joinGroup', v, body)
    expect(decoded).toMatchObject({ errorCode: 0, generationId: 3, groupProtocol: 'RoundRobinAssigner', leaderId: 'm1', memberId: 'm1' })
    const members = decoded.members as { memberId: string; memberMetadata: Buffer }[]
    expect(members[0]!.memberId).toBe('m1')
    expect(members[0]!.memberMetadata.equals(metadata)).toBe(true)
  })

  it.each(range(2, 5))('OffsetCommit v%i', async (v) => {
    const body = encodeResponse(ApiKey.OffsetCommit, {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] }],
    }, v)
    const decoded = await kafkajsDecodeResponse('offsetCommit', v, body)
    expect(decoded).toMatchObject({ responses: [{ topic: 'orders', partitions: [{ partition: 0, errorCode: 0 }, { partition: 1, errorCode: 0 }] }] })
  })

  it.each(range(2, 3))('CreateTopics v%i', async (v) => {
    const body = encodeResponse(ApiKey.CreateTopics, {
      throttleTimeMs: 0,
      topics: [{ name: 'orders', topicId: ZERO_UUID, errorCode: 0, errorMessage: null, numPartitions: -1, replicationFactor: -1, configs: [] }],
    }, v)
    const decoded = await kafkajsDecodeResponse('createTopics', v, body)
    expect(decoded).toMatchObject({ topicErrors: [{ topic: 'orders', errorCode: 0 }] })
  })

  it('FindCoordinator v0-2, Heartbeat v0-3 and SyncGroup v0-3', async () => {
    for (const v of range(0, 2)) {
      const body = encodeResponse(ApiKey.FindCoordinator, {
        throttleTimeMs: 0, errorCode: 0, errorMessage: null, nodeId: 1, host: 'localhost', port: 9092, coordinators: [],
      }, v)
      expect(await kafkajsDecodeResponse('findCoordinator', v, body)).toMatchObject({ errorCode: 0, coordinator: { nodeId: 1, host: 'localhost', port: 9092 } })
    }
    for (const v of range(0, 3)) {
      const heartbeat = encodeResponse(ApiKey.Heartbeat, { throttleTimeMs: 0, errorCode: 0 }, v)
      expect(await kafkajsDecodeResponse('heartbeat', v, heartbeat)).toMatchObject({ errorCode: 0 })
      const assignment = MemberAssignment.encode({ version: 0, assignment: { orders: [0] } })
      const sync = encodeResponse(ApiKey.SyncGroup, { throttleTimeMs: 0, errorCode: 0, protocolType: null, protocolName: null, assignment }, v)
      const decoded = await kafkajsDecodeResponse('syncGroup', v, sync)
      expect((decoded.memberAssignment as Buffer).equals(assignment)).toBe(true)
    }
  })
})
