/**
 * Kafka API keys: the int16 at the start of every request header that names the API.
 * One member per message schema under `src/protocol/schemas/`, named after the schema
 * without its `Request`/`Response` suffix (`FetchRequest.json` -> `ApiKey.Fetch`). The code
 * generator checks every schema's `apiKey` against this enum, so the two cannot drift.
 */
export enum ApiKey {
  Produce = 0,
  Fetch = 1,
  ListOffsets = 2,
  Metadata = 3,
  OffsetCommit = 8,
  OffsetFetch = 9,
  FindCoordinator = 10,
  JoinGroup = 11,
  Heartbeat = 12,
  LeaveGroup = 13,
  SyncGroup = 14,
  DescribeGroups = 15,
  ListGroups = 16,
  SaslHandshake = 17,
  ApiVersions = 18,
  CreateTopics = 19,
  DeleteTopics = 20,
  DeleteRecords = 21,
  InitProducerId = 22,
  OffsetForLeaderEpoch = 23,
  AddPartitionsToTxn = 24,
  AddOffsetsToTxn = 25,
  EndTxn = 26,
  TxnOffsetCommit = 28,
  DescribeConfigs = 32,
  AlterConfigs = 33,
  SaslAuthenticate = 36,
  CreatePartitions = 37,
  DeleteGroups = 42,
  IncrementalAlterConfigs = 44,
  OffsetDelete = 47,
}

/** Every API key shardlog has a codec for, in ascending order. */
export const ALL_API_KEYS: readonly ApiKey[] = Object.values(ApiKey)
  .filter((value): value is ApiKey => typeof value === 'number')
  .sort((a, b) => a - b)

/** The enum member name of an API key (`1` -> `'Fetch'`), or undefined for keys shardlog does not know. */
export function apiKeyName(apiKey: number): string | undefined {
  return (ApiKey as unknown as Record<number, string | undefined>)[apiKey]
}
