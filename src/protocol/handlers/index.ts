/**
 * The wire API handlers, one module per API, by API key. Every API advertised in
 * api-versions.ts has exactly one handler here (a test checks both ways); the connection
 * handler rejects any other key before it gets here.
 */
import { ApiKey } from '../api-keys.js'
import { alterConfigsHandler } from './alter-configs.js'
import { apiVersionsHandler } from './api-versions.js'
import type { ApiHandler } from './context.js'
import { createPartitionsHandler } from './create-partitions.js'
import { createTopicsHandler } from './create-topics.js'
import { deleteGroupsHandler } from './delete-groups.js'
import { deleteRecordsHandler } from './delete-records.js'
import { deleteTopicsHandler } from './delete-topics.js'
import { describeConfigsHandler } from './describe-configs.js'
import { describeGroupsHandler } from './describe-groups.js'
import { fetchHandler } from './fetch.js'
import { findCoordinatorHandler } from './find-coordinator.js'
import { heartbeatHandler } from './heartbeat.js'
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js'
import { initProducerIdHandler } from './init-producer-id.js'
import { joinGroupHandler } from './join-group.js'
import { leaveGroupHandler } from './leave-group.js'
import { listGroupsHandler } from './list-groups.js'
import { listOffsetsHandler } from './list-offsets.js'
import { metadataHandler } from './metadata.js'
import { offsetCommitHandler } from './offset-commit.js'
import { offsetDeleteHandler } from './offset-delete.js'
import { offsetFetchHandler } from './offset-fetch.js'
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js'
import { produceHandler } from './produce.js'
import { syncGroupHandler } from './sync-group.js'

export {
  NO_RESPONSE, defineHandler, silentLogger, stderrLogger,
  type ApiHandler, type BrokerContext, type BrokerEndpoint, type HandlerResult, type ProtocolLogger, type RequestContext,
} from './context.js'
export { unsupportedApiVersionsResponse } from './api-versions.js'

/** The handlers of the APIs shardlog serves, by API key. */
export const API_HANDLERS: { readonly [K in ApiKey]?: ApiHandler<K> } = {
  [ApiKey.Produce]: produceHandler,
  [ApiKey.Fetch]: fetchHandler,
  [ApiKey.ListOffsets]: listOffsetsHandler,
  [ApiKey.Metadata]: metadataHandler,
  [ApiKey.OffsetCommit]: offsetCommitHandler,
  [ApiKey.OffsetFetch]: offsetFetchHandler,
  [ApiKey.FindCoordinator]: findCoordinatorHandler,
  [ApiKey.JoinGroup]: joinGroupHandler,
  [ApiKey.Heartbeat]: heartbeatHandler,
  [ApiKey.LeaveGroup]: leaveGroupHandler,
  [ApiKey.SyncGroup]: syncGroupHandler,
  [ApiKey.DescribeGroups]: describeGroupsHandler,
  [ApiKey.ListGroups]: listGroupsHandler,
  [ApiKey.ApiVersions]: apiVersionsHandler,
  [ApiKey.CreateTopics]: createTopicsHandler,
  [ApiKey.DeleteTopics]: deleteTopicsHandler,
  [ApiKey.DeleteRecords]: deleteRecordsHandler,
  [ApiKey.InitProducerId]: initProducerIdHandler,
  [ApiKey.OffsetForLeaderEpoch]: offsetForLeaderEpochHandler,
  [ApiKey.DescribeConfigs]: describeConfigsHandler,
  [ApiKey.AlterConfigs]: alterConfigsHandler,
  [ApiKey.CreatePartitions]: createPartitionsHandler,
  [ApiKey.DeleteGroups]: deleteGroupsHandler,
  [ApiKey.IncrementalAlterConfigs]: incrementalAlterConfigsHandler,
  [ApiKey.OffsetDelete]: offsetDeleteHandler,
}
