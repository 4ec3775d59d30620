import { describe, expect, it } from 'vitest'
import { ALL_API_KEYS, ApiKey, apiKeyName } from '../../src/protocol/api-keys.js'
import { ADVERTISED_API_VERSIONS, advertisedVersions, isVersionAdvertised } from '../../src/protocol/api-versions.js'
import { API_CODECS } from '../../src/protocol/messages/index.js'

/** kafkajs 2.2.4's highest version per API (VERSIONS.md): it never checks our minimum. */
const KAFKAJS_MAX: Partial<Record<ApiKey, number>> = {
  [ApiKey.Produce]: 7, [ApiKey.Fetch]: 11, [ApiKey.ListOffsets]: 3, [ApiKey.Metadata]: 6, [ApiKey.OffsetCommit]: 5,
  [ApiKey.OffsetFetch]: 4, [ApiKey.FindCoordinator]: 2, [ApiKey.JoinGroup]: 5, [ApiKey.Heartbeat]: 3, [ApiKey.LeaveGroup]: 3,
  [ApiKey.SyncGroup]: 3, [ApiKey.DescribeGroups]: 2, [ApiKey.ListGroups]: 2, [ApiKey.ApiVersions]: 2, [ApiKey.CreateTopics]: 3,
  [ApiKey.DeleteTopics]: 1, [ApiKey.DeleteRecords]: 1, [ApiKey.InitProducerId]: 1, [ApiKey.DescribeConfigs]: 2,
  [ApiKey.AlterConfigs]: 1, [ApiKey.CreatePartitions]: 1, [ApiKey.DeleteGroups]: 1,
}

describe('protocol > api versions', () => {
  it('advertises only versions that have generated codecs', () => {
    for (const range of ADVERTISED_API_VERSIONS) {
      const codec = API_CODECS[range.apiKey]
      expect(range.minVersion).toBeGreaterThanOrEqual(codec.minVersion)
      expect(range.maxVersion).toBeLessThanOrEqual(codec.maxVersion)
    }
  })

  it('keeps every minimum at or below kafkajs\'s maximum, and the v0s librdkafka needs for groups', () => {
    for (const range of ADVERTISED_API_VERSIONS) {
      const kafkajs = KAFKAJS_MAX[range.apiKey]
      if (kafkajs !== undefined) expect(range.minVersion, apiKeyName(range.apiKey)).toBeLessThanOrEqual(kafkajs)
    }
    for (const key of [ApiKey.JoinGroup, ApiKey.SyncGroup, ApiKey.Heartbeat, ApiKey.LeaveGroup, ApiKey.FindCoordinator]) {
      expect(isVersionAdvertised(key, 0)).toBe(true)
    }
    expect(isVersionAdvertised(ApiKey.Fetch, 13)).toBe(true)
    expect(isVersionAdvertised(ApiKey.Fetch, 14)).toBe(false)
  })

  it('does not advertise SASL or transactions, which are not served yet', () => {
    for (const key of [ApiKey.SaslHandshake, ApiKey.SaslAuthenticate, ApiKey.AddPartitionsToTxn, ApiKey.AddOffsetsToTxn, ApiKey.EndTxn, ApiKey.TxnOffsetCommit]) {
      expect(advertisedVersions(key)).toBeUndefined()
    }
    expect(ADVERTISED_API_VERSIONS.map((r) => r.apiKey)).toEqual([...ADVERTISED_API_VERSIONS.map((r) => r.apiKey)].sort((a, b) => a - b))
  })

  it('lists every API key once, in order, with its name', () => {
    expect(ALL_API_KEYS).toHaveLength(31)
    expect(ALL_API_KEYS[0]).toBe(ApiKey.Produce)
    expect(apiKeyName(1)).toBe('Fetch')
    expect(apiKeyName(999)).toBeUndefined()
  })
})
