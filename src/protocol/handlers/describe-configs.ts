/**
 * DescribeConfigs (key 32), served v1-v4, for TOPIC resources (every topic config with its
 * effective value and where it comes from: a topic override, the broker's `log.*` setting
 * from server.properties, or Kafka's default) and BROKER resources (the server settings
 * shardlog understands, plus the `log.*` defaults). Synonyms (v1+) list every level that
 * sets a value, most specific first; documentation (v3+) when asked for. Unknown topics get
 * UNKNOWN_TOPIC_OR_PARTITION, other resource types INVALID_REQUEST.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import type { DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym } from '../messages/describe-configs.js'
import { describeLogConfig, parseLogConfig, topicConfigDef, type ConfigType } from '../../storage/log-config.js'
import { InvalidRequestError, UnknownTopicOrPartitionError } from '../../errors.js'
import { defineHandler, type RequestContext } from './context.js'

/** Kafka's ConfigResource.Type. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const

/**
 * Throws INVALID_REQUEST unless the resource is a topic: AlterConfigs and
 * IncrementalAlterConfigs change topic configs only (broker configs are static here).
 */
export function assertTopicResource(resourceType: number): void {
  if (resourceType !== ConfigResourceType.TOPIC) {
    throw new InvalidRequestError(`Config resources of type ${resourceType} cannot be altered: only TOPIC (2); broker configs come from server.properties`)
  }
}

/** Kafka's DescribeConfigsResponse.ConfigSource. */
export const ConfigSource = { TOPIC_CONFIG: 1, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5 } as const

/** Kafka's DescribeConfigsResponse.ConfigType. */
const CONFIG_TYPE: Record<ConfigType, number> = { boolean: 1, string: 2, int: 3, long: 5, double: 6, list: 7 }

/**
 * The broker settings (server.properties names) whose value sets a topic config's default, by
 * topic config name: the synonyms Kafka lists for a topic config.
 */
const BROKER_SYNONYMS: Readonly<Record<string, string>> = {
  'segment.bytes': 'log.segment.bytes',
  'segment.ms': 'log.roll.ms',
  'segment.index.bytes': 'log.index.size.max.bytes',
  'index.interval.bytes': 'log.index.interval.bytes',
  'retention.ms': 'log.retention.ms',
  'retention.bytes': 'log.retention.bytes',
  'cleanup.policy': 'log.cleanup.policy',
  'delete.retention.ms': 'log.cleaner.delete.retention.ms',
  'min.compaction.lag.ms': 'log.cleaner.min.compaction.lag.ms',
  'max.message.bytes': 'message.max.bytes',
  'flush.messages': 'log.flush.interval.messages',
  'flush.ms': 'log.flush.interval.ms',
  'min.insync.replicas': 'min.insync.replicas',
  'unclean.leader.election.enable': 'unclean.leader.election.enable',
  'compression.type': 'compression.type',
  'message.timestamp.type': 'log.message.timestamp.type',
}

/** One described config, before version-specific trimming. */
export interface DescribedConfigEntry {
  name: string
  value: string
  readOnly: boolean
  isDefault: boolean
  configSource: number
  isSensitive: boolean
  configType: number
  documentation: string
  synonyms: DescribeConfigsSynonym[]
}

/** Every topic config for a topic with `overrides`, with its value, source and synonyms. */
export function describeTopicConfigs(ctx: RequestContext, overrides: Record<string, string>): DescribedConfigEntry[] {
  const brokerDefaults = ctx.broker.engine.config.logDefaults
  return describeLogConfig(overrides, parseLogConfig(brokerDefaults)).map((e) => {
    const synonyms: DescribeConfigsSynonym[] = []
    if (!e.isDefault) synonyms.push({ name: e.name, value: e.value, source: ConfigSource.TOPIC_CONFIG })
    const brokerName = BROKER_SYNONYMS[e.name]
    const def = topicConfigDef(e.name)
    if (brokerName !== undefined && Object.prototype.hasOwnProperty.call(brokerDefaults, e.name)) {
      synonyms.push({ name: brokerName, value: brokerDefaults[e.name]!, source: ConfigSource.STATIC_BROKER_CONFIG })
    }
    if (def !== undefined) synonyms.push({ name: brokerName ?? e.name, value: def.default, source: ConfigSource.DEFAULT_CONFIG })
    return {
      name: e.name,
      value: e.value,
      readOnly: false,
      isDefault: synonyms[0]?.source === ConfigSource.DEFAULT_CONFIG,
      configSource: synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
      isSensitive: false,
      configType: def === undefined ? 0 : CONFIG_TYPE[def.type],
      documentation: e.doc,
      synonyms,
    }
  })
}

/** The broker-level settings shardlog understands, with their values (read-only: set in server.properties). */
function describeBrokerConfigs(ctx: RequestContext): DescribedConfigEntry[] {
  const engine = ctx.broker.engine
  const c = engine.config
  const explicit = engine.options.config
  const rows: Array<[name: string, value: string, type: ConfigType, doc: string]> = [
    ['broker.id', String(ctx.broker.brokerId), 'int', 'The broker id of this server.'],
    ['auto.create.topics.enable', String(c.autoCreateTopicsEnable), 'boolean', 'Enable auto creation of topic on the server.'],
    ['num.partitions', String(c.numPartitions), 'int', 'The default number of log partitions per topic.'],
    ['default.replication.factor', String(c.defaultReplicationFactor), 'int', 'The default replication factors for automatically created topics.'],
    ['offsets.topic.num.partitions', String(c.offsetsTopicNumPartitions), 'int', 'The number of partitions for the offset commit topic.'],
    ['offsets.topic.replication.factor', String(c.offsetsTopicReplicationFactor), 'int', 'The replication factor for the offsets topic.'],
    ['offsets.retention.ms', String(c.offsetsRetentionMs), 'long', 'For subscribed consumers, committed offset of a specific partition will be expired and discarded after this period once the group is empty.'],
    ['socket.request.max.bytes', String(c.socketRequestMaxBytes), 'int', 'The maximum number of bytes in a socket request.'],
    ['log.retention.check.interval.ms', String(c.logRetentionCheckIntervalMs), 'long', 'The frequency in milliseconds that the log cleaner checks whether any log is eligible for deletion.'],
    ['group.initial.rebalance.delay.ms', String(c.groupInitialRebalanceDelayMs), 'int', 'The amount of time the group coordinator will wait for more consumers to join a new group before performing the first rebalance.'],
    ['group.min.session.timeout.ms', String(c.groupMinSessionTimeoutMs), 'int', 'The minimum allowed session timeout for registered consumers.'],
    ['group.max.session.timeout.ms', String(c.groupMaxSessionTimeoutMs), 'int', 'The maximum allowed session timeout for registered consumers.'],
  ]
  const entries = rows.map(([name, value, type, doc]): DescribedConfigEntry => {
    const source = name === 'broker.id' || Object.prototype.hasOwnProperty.call(explicit, name) ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG
    return { name, value, readOnly: true, isDefault: source === ConfigSource.DEFAULT_CONFIG, configSource: source, isSensitive: false, configType: CONFIG_TYPE[type], documentation: doc, synonyms: [{ name, value, source }] }
  })
  // The log.* settings, shown under their broker names with the topic default they set.
  for (const topicEntry of describeTopicConfigs(ctx, {})) {
    const brokerName = BROKER_SYNONYMS[topicEntry.name]
    if (brokerName === undefined || entries.some((e) => e.name === brokerName)) continue
    const source = topicEntry.configSource
    entries.push({ ...topicEntry, name: brokerName, readOnly: true, synonyms: [{ name: brokerName, value: topicEntry.value, source }] })
  }
  return entries
}

/** DescribeConfigs handler. */
export const describeConfigsHandler = defineHandler(ApiKey.DescribeConfigs, (request, ctx) => ({
  throttleTimeMs: 0,
  results: request.resources.map((r): DescribeConfigsResult => {
    try {
      let entries: DescribedConfigEntry[]
      if (r.resourceType === ConfigResourceType.TOPIC) {
        const topic = ctx.broker.engine.controller.topics.get(r.resourceName)
        if (topic === undefined) throw new UnknownTopicOrPartitionError(`Topic '${r.resourceName}' does not exist`)
        entries = describeTopicConfigs(ctx, Object.fromEntries(topic.configs))
      } else if (r.resourceType === ConfigResourceType.BROKER) {
        const id = r.resourceName === '' ? ctx.broker.brokerId : Number(r.resourceName)
        if (!Number.isInteger(id) || ctx.broker.engine.brokers[id] === undefined) throw new InvalidRequestError(`Unknown broker id '${r.resourceName}'`)
        entries = describeBrokerConfigs(ctx)
      } else {
        throw new InvalidRequestError(`Config resources of type ${r.resourceType} are not supported: only TOPIC (2) and BROKER (4)`)
      }
      const keys = r.configurationKeys
      if (keys !== null && keys.length > 0) entries = entries.filter((e) => keys.includes(e.name))
      return {
        errorCode: WireError.NONE,
        errorMessage: null,
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        configs: entries.map((e): DescribeConfigsResourceResult => ({
          name: e.name,
          value: e.value,
          readOnly: e.readOnly,
          // IsDefault exists in v0 only; later versions say it with configSource.
          isDefault: ctx.apiVersion === 0 ? e.isDefault : false,
          configSource: e.configSource,
          isSensitive: e.isSensitive,
          synonyms: request.includeSynonyms ? e.synonyms : [],
          configType: e.configType,
          documentation: request.includeDocumentation ? e.documentation : null,
        })),
      }
    } catch (err) {
      const e = errorResult(err, ctx.broker.logger, `DescribeConfigs ${r.resourceName}`)
      return { errorCode: e.errorCode, errorMessage: e.errorMessage, resourceType: r.resourceType, resourceName: r.resourceName, configs: [] }
    }
  }),
}))
