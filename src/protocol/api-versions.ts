/**
 * The API version ranges shardlog's broker advertises in its ApiVersions response.
 *
 * Each range was chosen so that kafkajs 2.2.4, @platformatic/kafka 1.35 and librdkafka
 * 2.0.2 (kcat) all get every feature they use:
 * - kafkajs picks min(its max, our max) and never checks our minimum, so every minimum here
 *   is at or below kafkajs's maximum;
 * - librdkafka turns a feature on only when one exact version lies inside the range (for
 *   example JoinGroup/SyncGroup/Heartbeat/LeaveGroup/FindCoordinator v0 enable consumer
 *   groups), so old versions stay in;
 * - @platformatic/kafka sends topic ids in Fetch once Metadata is v10 or newer, so Fetch
 *   reaches v13.
 *
 * SaslHandshake/SaslAuthenticate and the transaction APIs (AddPartitionsToTxn,
 * AddOffsetsToTxn, EndTxn, TxnOffsetCommit) have codecs but are not served yet, so they are
 * deliberately absent: advertising an API makes clients use it.
 */
import { ApiKey } from './api-keys.js'

/** An inclusive range of API versions. */
export interface ApiVersionRange {
  readonly apiKey: ApiKey
  readonly minVersion: number
  readonly maxVersion: number
}

/** The advertised ranges, in ascending API key order (the order of the ApiVersions response). */
export const ADVERTISED_API_VERSIONS: readonly ApiVersionRange[] = [
  { apiKey: ApiKey.Produce, minVersion: 3, maxVersion: 9 },
  { apiKey: ApiKey.Fetch, minVersion: 4, maxVersion: 13 },
  { apiKey: ApiKey.ListOffsets, minVersion: 1, maxVersion: 7 },
  { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 12 },
  { apiKey: ApiKey.OffsetCommit, minVersion: 2, maxVersion: 8 },
  { apiKey: ApiKey.OffsetFetch, minVersion: 1, maxVersion: 8 },
  { apiKey: ApiKey.FindCoordinator, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.JoinGroup, minVersion: 0, maxVersion: 9 },
  { apiKey: ApiKey.Heartbeat, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.LeaveGroup, minVersion: 0, maxVersion: 5 },
  { apiKey: ApiKey.SyncGroup, minVersion: 0, maxVersion: 5 },
  { apiKey: ApiKey.DescribeGroups, minVersion: 0, maxVersion: 5 },
  { apiKey: ApiKey.ListGroups, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.ApiVersions, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.CreateTopics, minVersion: 2, maxVersion: 7 },
  { apiKey: ApiKey.DeleteTopics, minVersion: 1, maxVersion: 6 },
  { apiKey: ApiKey.DeleteRecords, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.InitProducerId, minVersion: 0, maxVersion: 4 },
  { apiKey: ApiKey.OffsetForLeaderEpoch, minVersion: 2, maxVersion: 4 },
  { apiKey: ApiKey.DescribeConfigs, minVersion: 1, maxVersion: 4 },
  { apiKey: ApiKey.AlterConfigs, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.CreatePartitions, minVersion: 0, maxVersion: 3 },
  { apiKey: ApiKey.DeleteGroups, minVersion: 0, maxVersion: 2 },
  { apiKey: ApiKey.IncrementalAlterConfigs, minVersion: 0, maxVersion: 1 },
  { apiKey: ApiKey.OffsetDelete, minVersion: 0, maxVersion: 0 },
]

const rangeByApiKey: ReadonlyMap<number, ApiVersionRange> = new Map(
  ADVERTISED_API_VERSIONS.map((range) => [range.apiKey, range]),
)

/** The advertised range for an API, or undefined when shardlog does not serve it. */
export function advertisedVersions(apiKey: number): ApiVersionRange | undefined {
  return rangeByApiKey.get(apiKey)
}

/**
 * True when the broker answers `apiKey` at `apiVersion`. Anything else gets
 * UNSUPPORTED_VERSION (35), as Kafka's broker does.
 */
export function isVersionAdvertised(apiKey: number, apiVersion: number): boolean {
  const range = rangeByApiKey.get(apiKey)
  return range !== undefined && apiVersion >= range.minVersion && apiVersion <= range.maxVersion
}
