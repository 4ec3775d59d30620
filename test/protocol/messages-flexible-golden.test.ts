/**
 * Flexible versions against bytes written out by hand from the schemas (kafkajs stops before
 * flexible versions, so there is no independent encoder to compare with). Each golden is
 * annotated field by field: compact lengths are length + 1 as an unsigned varint, and every
 * struct ends with its tagged-field section (`00` when empty).
 */
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../src/protocol/api-keys.js'
import { API_CODECS, type ApiRequests, type ApiResponses } from '../../src/protocol/messages/index.js'
import { Reader, ZERO_UUID } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

/** Joins annotated hex fragments (spaces ignored) into bytes. */
function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex')
}

const ascii = (s: string): string => Buffer.from(s, 'utf8').toString('hex')
/** A compact string: uvarint(length + 1) then UTF-8 (short strings only). */
const compact = (s: string): string => (Buffer.byteLength(s) + 1).toString(16).padStart(2, '0') + ascii(s)

const TOPIC_ID = 'AAECAwQFBgcICQoLDA0ODw' // bytes 00 01 02 .. 0f in Kafka's base64url form
const TOPIC_ID_HEX = '000102030405060708090a0b0c0d0e0f'

function checkRequest<K extends ApiKey>(apiKey: K, version: number, body: ApiRequests[K], golden: Buffer): ApiRequests[K] {
  const w = new Writer()
  API_CODECS[apiKey].encodeRequest(w, body, version)
  expect(w.toBuffer().toString('hex')).toBe(golden.toString('hex'))
  const r = new Reader(golden)
  const decoded = API_CODECS[apiKey].decodeRequest(r, version)
  expect(r.remaining).toBe(0)
  expect(decoded).toMatchObject(body as object)
  return decoded
}

function checkResponse<K extends ApiKey>(apiKey: K, version: number, body: ApiResponses[K], golden: Buffer): ApiResponses[K] {
  const w = new Writer()
  API_CODECS[apiKey].encodeResponse(w, body, version)
  expect(w.toBuffer().toString('hex')).toBe(golden.toString('hex'))
  const r = new Reader(golden)
  const decoded = API_CODECS[apiKey].decodeResponse(r, version)
  expect(r.remaining).toBe(0)
  expect(decoded).toMatchObject(body as object)
  return decoded
}

describe('protocol > messages > flexible versions (hand-written golden bytes)', () => {
  it('ApiVersions v3 request: compact strings and an empty tagged section', () => {
    checkRequest(ApiKey.ApiVersions, 3, { clientSoftwareName: 'shardlog', clientSoftwareVersion: '1.0.0' }, hex(
      compact('shardlog'), //  ClientSoftwareName
      compact('1.0.0'), //     ClientSoftwareVersion
      '00', //                 tagged fields: none
    ))
  })

  it('ApiVersions v3 response: tagged fields in ascending tag order, absent ones read back as defaults', () => {
    const apiKeys = [{ apiKey: 0, minVersion: 3, maxVersion: 9 }, { apiKey: 18, minVersion: 0, maxVersion: 3 }]
    const decoded = checkResponse(ApiKey.ApiVersions, 3, {
      errorCode: 0,
      apiKeys,
      throttleTimeMs: 0,
      supportedFeatures: [{ name: 'metadata.version', minVersion: 1, maxVersion: 20 }],
      finalizedFeaturesEpoch: 5,
    }, hex(
      '0000', //                       ErrorCode
      '03', //                         ApiKeys: 2 entries
      '0000 0003 0009 00', //          Produce 3-9, no tags
      '0012 0000 0003 00', //          ApiVersions 0-3, no tags
      '00000000', //                   ThrottleTimeMs
      '02', //                         2 tagged fields
      '00 17', //                      tag 0 SupportedFeatures, 23 bytes:
      '02', compact('metadata.version'), '0001 0014 00', //   1 entry: name, 1, 20, no tags
      '01 08 0000000000000005', //     tag 1 FinalizedFeaturesEpoch = 5
    ))
    expect(decoded.finalizedFeatures).toEqual([])
    expect(decoded.zkMigrationReady).toBe(false)

    // Defaults are not written: the tagged section is empty.
    const plain = checkResponse(ApiKey.ApiVersions, 3, { errorCode: 35, apiKeys, throttleTimeMs: 0, finalizedFeaturesEpoch: -1 }, hex(
      '0023', '03', '0000 0003 0009 00', '0012 0000 0003 00', '00000000', '00',
    ))
    expect(plain.finalizedFeaturesEpoch).toBe(-1)
    expect(plain.supportedFeatures).toEqual([])
  })

  it('Metadata v9 request: compact non-nullable topic names', () => {
    checkRequest(ApiKey.Metadata, 9, {
      topics: [{ topicId: ZERO_UUID, name: 'orders' }],
      allowAutoTopicCreation: true,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    }, hex(
      '02', compact('orders'), '00', //  Topics: 1 entry, Name, no tags (TopicId starts in v10)
      '01', //                           AllowAutoTopicCreation
      '00', //                           IncludeClusterAuthorizedOperations (v8-10)
      '00', //                           IncludeTopicAuthorizedOperations
      '00', //                           tagged fields
    ))
  })

  it('Metadata v12 request: topic ids, a null topic name, and null for all topics', () => {
    checkRequest(ApiKey.Metadata, 12, {
      topics: [{ topicId: ZERO_UUID, name: 'orders' }, { topicId: TOPIC_ID, name: null }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: true,
    }, hex(
      '03', //                                       Topics: 2 entries
      '00000000000000000000000000000000', compact('orders'), '00',
      TOPIC_ID_HEX, '00', '00', //                   TopicId, Name null, no tags
      '00', //                                       AllowAutoTopicCreation
      '01', //                                       IncludeTopicAuthorizedOperations (no cluster flag in v11+)
      '00',
    ))
    checkRequest(ApiKey.Metadata, 12, {
      topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false,
    }, hex('00', '01', '00', '00'))
  })

  it('Metadata v12 response', () => {
    checkResponse(ApiKey.Metadata, 12, {
      throttleTimeMs: 0,
      brokers: [{ nodeId: 1, host: 'h', port: 9092, rack: null }],
      clusterId: 'c1',
      controllerId: 1,
      topics: [{
        errorCode: 0, name: 'orders', topicId: TOPIC_ID, isInternal: false, topicAuthorizedOperations: -2147483648,
        partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 5, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }],
      }],
      clusterAuthorizedOperations: -2147483648,
    }, hex(
      '00000000', //                                        ThrottleTimeMs
      '02', '00000001', compact('h'), '00002384', '00', '00', // Brokers: id 1, host, port 9092, rack null, tags
      compact('c1'), //                                     ClusterId
      '00000001', //                                        ControllerId
      '02', //                                              Topics: 1 entry
      '0000', compact('orders'), TOPIC_ID_HEX, '00', //     ErrorCode, Name, TopicId, IsInternal
      '02', //                                              Partitions: 1 entry
      '0000 00000000 00000001 00000005', //                 ErrorCode, PartitionIndex, LeaderId, LeaderEpoch
      '02 00000001', '02 00000001', '01', '00', //          ReplicaNodes, IsrNodes, OfflineReplicas, tags
      '80000000', '00', //                                  TopicAuthorizedOperations, tags
      '00', //                                              tagged fields (ClusterAuthorizedOperations ends at v10)
    ))
  })

  it('Fetch v12 request: a tagged nullable string at the top level', () => {
    const decoded = checkRequest(ApiKey.Fetch, 12, {
      clusterId: 'c1',
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 10485760,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: 'orders',
        topicId: ZERO_UUID,
        partitions: [{ partition: 0, currentLeaderEpoch: 7, fetchOffset: 100, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1048576 }],
      }],
      forgottenTopicsData: [],
      rackId: '',
    }, hex(
      'ffffffff', '000001f4', '00000001', '00a00000', '01', //  ReplicaId, MaxWaitMs, MinBytes, MaxBytes, IsolationLevel
      '00000000', 'ffffffff', //                               SessionId, SessionEpoch
      '02', compact('orders'), //                              Topics: 1 entry, Topic
      '02', //                                                 Partitions: 1 entry
      '00000000 00000007 0000000000000064 ffffffff ffffffffffffffff 00100000 00',
      '00', //                                                 topic tags
      '01', //                                                 ForgottenTopicsData: empty
      '01', //                                                 RackId: ''
      '01 00 03', compact('c1'), //                            1 tagged field: tag 0 ClusterId, 3 bytes
    ))
    expect(decoded.replicaState).toBeUndefined()
    expect(decoded.topics[0]!.partitions[0]!.replicaDirectoryId).toBe(ZERO_UUID)
  })

  it('Fetch v12 response: tagged structs in a partition, records as compact bytes', () => {
    const records = Buffer.from('0102030405', 'hex')
    checkResponse(ApiKey.Fetch, 12, {
      throttleTimeMs: 0, errorCode: 0, sessionId: 0,
      responses: [{
        topic: 'orders', topicId: ZERO_UUID,
        partitions: [{
          partitionIndex: 0, errorCode: 6, highWatermark: 10, lastStableOffset: 10, logStartOffset: 0,
          currentLeader: { leaderId: 2, leaderEpoch: 9 },
          abortedTransactions: null, preferredReadReplica: -1, records,
        }],
      }],
    }, hex(
      '00000000 0000 00000000', //                               ThrottleTimeMs, ErrorCode, SessionId
      '02', compact('orders'), '02', //                          Responses: 1 topic, Partitions: 1
      '00000000 0006 000000000000000a 000000000000000a 0000000000000000',
      '00', //                                                   AbortedTransactions: null
      'ffffffff', //                                             PreferredReadReplica
      '06 0102030405', //                                        Records: 5 bytes
      '01 01 09 00000002 00000009 00', //                        tag 1 CurrentLeader (9 bytes: id, epoch, no tags)
      '00', '00', //                                             topic tags, response tags
    ))
  })

  it('CreateTopics v5 request and response (tagged int16 in a nested struct)', () => {
    checkRequest(ApiKey.CreateTopics, 5, {
      topics: [{ name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'cleanup.policy', value: 'compact' }] }],
      timeoutMs: 30000,
      validateOnly: false,
    }, hex(
      '02', compact('orders'), '00000003', '0001', //     Topics: 1, Name, NumPartitions, ReplicationFactor
      '01', //                                            Assignments: empty
      '02', compact('cleanup.policy'), compact('compact'), '00', //  Configs: 1 entry
      '00', //                                            topic tags
      '00007530', '00', '00', //                          TimeoutMs, ValidateOnly, tags
    ))
    checkResponse(ApiKey.CreateTopics, 5, {
      throttleTimeMs: 0,
      topics: [{
        name: 'orders', topicId: ZERO_UUID, errorCode: 40, errorMessage: 'bad config', topicConfigErrorCode: 40,
        numPartitions: 3, replicationFactor: 1,
        configs: [{ name: 'cleanup.policy', value: 'compact', readOnly: false, configSource: 5, isSensitive: false }],
      }],
    }, hex(
      '00000000', '02', compact('orders'), '0028', compact('bad config'),
      '00000003', '0001', //                                              NumPartitions, ReplicationFactor
      '02', compact('cleanup.policy'), compact('compact'), '00 05 00 00', // Configs: ReadOnly, ConfigSource, IsSensitive, tags
      '01 00 02 0028', //                                                 tag 0 TopicConfigErrorCode = 40
      '00',
    ))
  })

  it('decodes unknown tagged fields by skipping them', () => {
    const golden = hex(compact('a'), compact('b'), '02', '05 02 abcd', '7f 00')
    const decoded = API_CODECS[ApiKey.ApiVersions].decodeRequest(new Reader(golden), 3)
    expect(decoded).toEqual({ clientSoftwareName: 'a', clientSoftwareVersion: 'b' })
  })
})
