/**
 * Topic-level configuration: ONE table ({@link TOPIC_CONFIGS}) of Kafka's topic configs with
 * their Kafka names, types, defaults, docs and validators, after Kafka's `TopicConfig` and
 * `LogConfig`. Everything that parses, validates or describes a topic config goes through
 * that table, so a name, default or range is written down exactly once.
 *
 * Values travel as strings (CreateTopics, AlterConfigs, DescribeConfigs carry strings) and
 * become a typed {@link LogConfig} in {@link parseLogConfig}. Kafka's `long` configs whose
 * default is `Long.MAX_VALUE` ("never") are held as `Number.MAX_SAFE_INTEGER`: offsets and
 * times are JS numbers throughout shardlog, and any value above 2^53 means "never" in practice.
 */
import { InvalidConfigError } from '../errors.js'

/** Typed topic configuration used by the storage layer and the replication/produce paths. */
export interface LogConfig {
  /** `segment.bytes`: roll the active segment before it would exceed this size. */
  segmentBytes: number
  /** `segment.ms`: roll a non-empty active segment this long after its first record. */
  segmentMs: number
  /** `segment.index.bytes`: largest `.index`/`.timeindex` file; a full index rolls the segment. */
  segmentIndexBytes: number
  /** `index.interval.bytes`: bytes of batches between two offset index entries. */
  indexIntervalBytes: number
  /** `retention.ms`: delete segments whose newest record is older than this; -1 = no limit. */
  retentionMs: number
  /** `retention.bytes`: delete oldest segments while the log is larger than this; -1 = no limit. */
  retentionBytes: number
  /** `cleanup.policy`: `delete`, `compact` or both. */
  cleanupPolicy: { delete: boolean; compact: boolean }
  /** `delete.retention.ms`: how long tombstones survive compaction. */
  deleteRetentionMs: number
  /** `min.compaction.lag.ms`: records younger than this are not compacted. */
  minCompactionLagMs: number
  /** `max.compaction.lag.ms`: records older than this make the log eligible for compaction. */
  maxCompactionLagMs: number
  /** `min.cleanable.dirty.ratio`: dirty/total ratio that makes a log eligible for compaction. */
  minCleanableDirtyRatio: number
  /** `max.message.bytes`: largest batch accepted (after compression). */
  maxMessageBytes: number
  /** `flush.messages`: fsync once this many records are unflushed; 1 = before every acknowledgement. */
  flushMessages: number
  /** `flush.ms`: fsync a log whose last flush is this old (checked by LogManager.flushDirty). */
  flushMs: number
  /** `min.insync.replicas`: in-sync replicas required for an acks=all produce. */
  minInsyncReplicas: number
  /** `unclean.leader.election.enable`: may an out-of-sync replica become leader. */
  uncleanLeaderElectionEnable: boolean
  /** `compression.type`: `producer`, `uncompressed`, `gzip`, `snappy`, `lz4` or `zstd`. */
  compressionType: string
  /** `message.timestamp.type`: keep the producer's timestamps or stamp the append time. */
  messageTimestampType: 'CreateTime' | 'LogAppendTime'
  /** `file.delete.delay.ms`: accepted for compatibility (see README: deletes are immediate). */
  fileDeleteDelayMs: number
  /** `preallocate`: accepted for compatibility; segment files are never preallocated. */
  preallocate: boolean
}

/** Kafka's config value types. */
export type ConfigType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list'

/** One row of {@link TOPIC_CONFIGS}, typed by the {@link LogConfig} field it fills. */
export interface TopicConfigDefOf<K extends keyof LogConfig> {
  /** Kafka's dotted name, e.g. `segment.bytes`. */
  readonly name: string
  /** The {@link LogConfig} field the value lands in. */
  readonly key: K
  readonly type: ConfigType
  /** Kafka's default, in the string form DescribeConfigs shows. */
  readonly default: string
  readonly doc: string
  /** The accepted range or values, as Kafka documents them (e.g. `[14,...]`). */
  readonly validValues: string
  /** Parses and validates the string form. Throws a {@link ConfigValueError} with the reason. */
  readonly parse: (value: string) => LogConfig[K]
  /** The string form of a typed value (inverse of `parse`). */
  readonly format: (value: LogConfig[K]) => string
}

/** Any row of {@link TOPIC_CONFIGS}. */
export type TopicConfigDef = { [K in keyof LogConfig]: TopicConfigDefOf<K> }[keyof LogConfig]

/** Why one value was refused; {@link parseLogConfig} turns it into an {@link InvalidConfigError}. */
export class ConfigValueError extends Error {}

// ---- Kafka's names and docs (TopicConfig.java), declared once --------------------------

export const SEGMENT_BYTES = 'segment.bytes'
export const SEGMENT_BYTES_DOC = 'This configuration controls the segment file size for the log. Retention and cleaning is always done a file at a time so a larger segment size means fewer files but less granular control over retention.'
export const SEGMENT_MS = 'segment.ms'
export const SEGMENT_MS_DOC = 'This configuration controls the period of time after which the log is rolled even if the segment file isn\'t full to ensure that retention can delete or compact old data.'
export const SEGMENT_INDEX_BYTES = 'segment.index.bytes'
export const SEGMENT_INDEX_BYTES_DOC = 'This configuration controls the size of the index that maps offsets to file positions. shardlog writes index files append-only and rolls the segment when either index reaches this size.'
export const INDEX_INTERVAL_BYTES = 'index.interval.bytes'
export const INDEX_INTERVAL_BYTES_DOC = 'This setting controls how frequently an entry is added to the offset index. The default setting ensures that a message is indexed roughly every 4096 bytes. More indexing allows reads to jump closer to the exact position in the log but makes the index larger.'
export const RETENTION_MS = 'retention.ms'
export const RETENTION_MS_DOC = 'This configuration controls the maximum time a log is retained before old log segments are discarded to free up space if the "delete" retention policy is used. If set to -1, no time limit is applied.'
export const RETENTION_BYTES = 'retention.bytes'
export const RETENTION_BYTES_DOC = 'This configuration controls the maximum size a partition (which consists of log segments) can grow to before old log segments are discarded to free up space if the "delete" retention policy is used. By default there is no size limit only a time limit.'
export const CLEANUP_POLICY = 'cleanup.policy'
export const CLEANUP_POLICY_DOC = 'A string that is either "delete" or "compact" or both. The "delete" policy discards old segments when their retention time or size limit has been reached. The "compact" policy enables log compaction, which retains the latest value for each key.'
export const DELETE_RETENTION_MS = 'delete.retention.ms'
export const DELETE_RETENTION_MS_DOC = 'The amount of time to retain delete tombstone markers for log compacted topics. This is also the time a consumer must complete a read of the log from offset 0 to ensure that it gets a valid snapshot of the final stage.'
export const MIN_COMPACTION_LAG_MS = 'min.compaction.lag.ms'
export const MIN_COMPACTION_LAG_MS_DOC = 'The minimum time a message will remain uncompacted in the log. Only applicable for logs that are being compacted.'
export const MAX_COMPACTION_LAG_MS = 'max.compaction.lag.ms'
export const MAX_COMPACTION_LAG_MS_DOC = 'The maximum time a message will remain ineligible for compaction in the log. Only applicable for logs that are being compacted.'
export const MIN_CLEANABLE_DIRTY_RATIO = 'min.cleanable.dirty.ratio'
export const MIN_CLEANABLE_DIRTY_RATIO_DOC = 'This configuration controls how frequently the log compactor will attempt to clean the log: it cleans a log whose dirty (uncompacted) part is at least this fraction of the log.'
export const MAX_MESSAGE_BYTES = 'max.message.bytes'
export const MAX_MESSAGE_BYTES_DOC = 'The largest record batch size allowed (after compression if compression is enabled).'
export const FLUSH_MESSAGES = 'flush.messages'
export const FLUSH_MESSAGES_DOC = 'This setting allows specifying an interval at which an fsync of data written to the log is forced. For example if this was set to 1 every batch is fsynced before it is acknowledged; if it was 5 the log is fsynced after every five messages. The default leaves data in the OS page cache.'
export const FLUSH_MS = 'flush.ms'
export const FLUSH_MS_DOC = 'This setting allows specifying a time interval at which an fsync of data written to the log is forced. For example if this was set to 1000 the log is fsynced after 1000 ms had passed.'
export const MIN_INSYNC_REPLICAS = 'min.insync.replicas'
export const MIN_INSYNC_REPLICAS_DOC = 'When a producer sets acks to "all" (or "-1"), this configuration specifies the minimum number of replicas that must acknowledge a write for the write to be considered successful. If this minimum cannot be met, then the producer will raise an exception (NotEnoughReplicas or NotEnoughReplicasAfterAppend).'
export const UNCLEAN_LEADER_ELECTION_ENABLE = 'unclean.leader.election.enable'
export const UNCLEAN_LEADER_ELECTION_ENABLE_DOC = 'Indicates whether to enable replicas not in the ISR set to be elected as leader as a last resort, even though doing so may result in data loss.'
export const COMPRESSION_TYPE = 'compression.type'
export const COMPRESSION_TYPE_DOC = 'Specify the final compression type for a given topic. This configuration accepts the standard compression codecs (\'gzip\', \'snappy\', \'lz4\', \'zstd\'). It additionally accepts \'uncompressed\' which is equivalent to no compression; and \'producer\' which means retain the original compression codec set by the producer.'
export const MESSAGE_TIMESTAMP_TYPE = 'message.timestamp.type'
export const MESSAGE_TIMESTAMP_TYPE_DOC = 'Define whether the timestamp in the message is message create time or log append time.'
export const FILE_DELETE_DELAY_MS = 'file.delete.delay.ms'
export const FILE_DELETE_DELAY_MS_DOC = 'The time to wait before deleting a file from the filesystem. Accepted for compatibility: shardlog serves reads from copies, not from open files, so it deletes segments at once.'
export const PREALLOCATE = 'preallocate'
export const PREALLOCATE_DOC = 'True if the file should be preallocated on disk when creating a new log segment. Accepted for compatibility: shardlog never preallocates segment files.'

/** Kafka's `Long.MAX_VALUE` in its string form, used for "never" defaults. */
export const LONG_MAX_STRING = '9223372036854775807'
const INT_MAX = 0x7fff_ffff
const INT_MIN = -0x8000_0000
const LONG_MIN_STRING = '-9223372036854775808'

/** The codecs `compression.type` accepts (Kafka's `BrokerCompressionType`). */
export const COMPRESSION_TYPES = ['uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'] as const

// ---- value parsers ----------------------------------------------------------------------

function parseInteger(value: string, type: 'int' | 'long'): number {
  const v = value.trim()
  if (!/^[+-]?\d+$/.test(v)) throw new ConfigValueError(`Expected value to be a ${type === 'int' ? '32-bit' : '64-bit'} integer`)
  const n = Number(v)
  if (type === 'int') {
    if (n > INT_MAX || n < INT_MIN) throw new ConfigValueError('Expected value to be a 32-bit integer')
    return n
  }
  if (Number.isSafeInteger(n)) return n
  // Beyond 2^53 but within int64: clamp; such values only ever mean "never" or "unlimited".
  const digits = v.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '')
  const limit = v.startsWith('-') ? LONG_MIN_STRING.slice(1) : LONG_MAX_STRING
  if (digits.length > limit.length || (digits.length === limit.length && digits > limit)) {
    throw new ConfigValueError('Expected value to be a 64-bit integer')
  }
  return v.startsWith('-') ? -Number.MAX_SAFE_INTEGER : Number.MAX_SAFE_INTEGER
}

function formatLong(value: number): string {
  if (value >= Number.MAX_SAFE_INTEGER) return LONG_MAX_STRING
  if (value <= -Number.MAX_SAFE_INTEGER) return LONG_MIN_STRING
  return String(value)
}

function atLeast(min: number): (n: number) => number {
  return (n) => {
    if (n < min) throw new ConfigValueError(`Value must be at least ${min}`)
    return n
  }
}

function intConfig<K extends keyof LogConfig & { [P in keyof LogConfig]: LogConfig[P] extends number ? P : never }[keyof LogConfig]>(
  name: string, key: K, def: string, min: number, doc: string,
): TopicConfigDefOf<K> {
  const check = atLeast(min)
  return {
    name, key, type: 'int', default: def, doc, validValues: `[${min},...]`,
    parse: (v) => check(parseInteger(v, 'int')) as LogConfig[K],
    format: (v) => String(v),
  }
}

function longConfig<K extends keyof LogConfig & { [P in keyof LogConfig]: LogConfig[P] extends number ? P : never }[keyof LogConfig]>(
  name: string, key: K, def: string, min: number | undefined, doc: string,
): TopicConfigDefOf<K> {
  const check = min === undefined ? (n: number) => n : atLeast(min)
  return {
    name, key, type: 'long', default: def, doc, validValues: min === undefined ? '' : `[${min},...]`,
    parse: (v) => check(parseInteger(v, 'long')) as LogConfig[K],
    format: (v) => formatLong(v as number),
  }
}

function booleanConfig<K extends 'uncleanLeaderElectionEnable' | 'preallocate'>(name: string, key: K, def: string, doc: string): TopicConfigDefOf<K> {
  return {
    name, key, type: 'boolean', default: def, doc, validValues: 'true, false',
    parse: (v) => {
      const s = v.trim().toLowerCase()
      if (s !== 'true' && s !== 'false') throw new ConfigValueError('Expected value to be either true or false')
      return s === 'true'
    },
    format: (v) => String(v),
  }
}

/**
 * Every topic config shardlog knows, with Kafka's name, type, default, doc and valid range.
 * Unknown names are rejected by {@link parseLogConfig}, as Kafka's AlterConfigs does.
 */
export const TOPIC_CONFIGS: ReadonlyArray<TopicConfigDef> = [
  intConfig(SEGMENT_BYTES, 'segmentBytes', '1073741824', 14, SEGMENT_BYTES_DOC),
  longConfig(SEGMENT_MS, 'segmentMs', '604800000', 1, SEGMENT_MS_DOC),
  intConfig(SEGMENT_INDEX_BYTES, 'segmentIndexBytes', '10485760', 4, SEGMENT_INDEX_BYTES_DOC),
  intConfig(INDEX_INTERVAL_BYTES, 'indexIntervalBytes', '4096', 0, INDEX_INTERVAL_BYTES_DOC),
  longConfig(RETENTION_MS, 'retentionMs', '604800000', -1, RETENTION_MS_DOC),
  longConfig(RETENTION_BYTES, 'retentionBytes', '-1', undefined, RETENTION_BYTES_DOC),
  {
    name: CLEANUP_POLICY, key: 'cleanupPolicy', type: 'list', default: 'delete', doc: CLEANUP_POLICY_DOC,
    validValues: '[compact, delete]',
    parse: (v) => {
      const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
      if (items.length === 0) throw new ConfigValueError('Empty list: expected "delete", "compact" or both')
      for (const item of items) {
        if (item !== 'delete' && item !== 'compact') throw new ConfigValueError(`"${item}" is not one of: compact, delete`)
      }
      return { delete: items.includes('delete'), compact: items.includes('compact') }
    },
    format: (v) => [v.compact ? 'compact' : '', v.delete ? 'delete' : ''].filter(Boolean).join(','),
  },
  longConfig(DELETE_RETENTION_MS, 'deleteRetentionMs', '86400000', 0, DELETE_RETENTION_MS_DOC),
  longConfig(MIN_COMPACTION_LAG_MS, 'minCompactionLagMs', '0', 0, MIN_COMPACTION_LAG_MS_DOC),
  longConfig(MAX_COMPACTION_LAG_MS, 'maxCompactionLagMs', LONG_MAX_STRING, 1, MAX_COMPACTION_LAG_MS_DOC),
  {
    name: MIN_CLEANABLE_DIRTY_RATIO, key: 'minCleanableDirtyRatio', type: 'double', default: '0.5', doc: MIN_CLEANABLE_DIRTY_RATIO_DOC,
    validValues: '[0,...,1]',
    parse: (v) => {
      const s = v.trim()
      if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s)) throw new ConfigValueError('Expected value to be a double')
      const n = Number(s)
      if (n < 0 || n > 1) throw new ConfigValueError('Value must be between 0 and 1')
      return n
    },
    format: (v) => String(v),
  },
  intConfig(MAX_MESSAGE_BYTES, 'maxMessageBytes', '1048588', 0, MAX_MESSAGE_BYTES_DOC),
  longConfig(FLUSH_MESSAGES, 'flushMessages', LONG_MAX_STRING, 1, FLUSH_MESSAGES_DOC),
  longConfig(FLUSH_MS, 'flushMs', LONG_MAX_STRING, 0, FLUSH_MS_DOC),
  intConfig(MIN_INSYNC_REPLICAS, 'minInsyncReplicas', '1', 1, MIN_INSYNC_REPLICAS_DOC),
  booleanConfig(UNCLEAN_LEADER_ELECTION_ENABLE, 'uncleanLeaderElectionEnable', 'false', UNCLEAN_LEADER_ELECTION_ENABLE_DOC),
  {
    name: COMPRESSION_TYPE, key: 'compressionType', type: 'string', default: 'producer', doc: COMPRESSION_TYPE_DOC,
    validValues: `[${COMPRESSION_TYPES.join(', ')}]`,
    parse: (v) => {
      const s = v.trim()
      if (!(COMPRESSION_TYPES as readonly string[]).includes(s)) throw new ConfigValueError(`String must be one of: ${COMPRESSION_TYPES.join(', ')}`)
      return s
    },
    format: (v) => v,
  },
  {
    name: MESSAGE_TIMESTAMP_TYPE, key: 'messageTimestampType', type: 'string', default: 'CreateTime', doc: MESSAGE_TIMESTAMP_TYPE_DOC,
    validValues: '[CreateTime, LogAppendTime]',
    parse: (v) => {
      const s = v.trim()
      if (s !== 'CreateTime' && s !== 'LogAppendTime') throw new ConfigValueError('String must be one of: CreateTime, LogAppendTime')
      return s
    },
    format: (v) => v,
  },
  longConfig(FILE_DELETE_DELAY_MS, 'fileDeleteDelayMs', '60000', 0, FILE_DELETE_DELAY_MS_DOC),
  booleanConfig(PREALLOCATE, 'preallocate', 'false', PREALLOCATE_DOC),
]

const byName = new Map<string, TopicConfigDef>(TOPIC_CONFIGS.map((d) => [d.name, d]))

/** The definition of one topic config, or undefined for a name Kafka topics do not have here. */
export function topicConfigDef(name: string): TopicConfigDef | undefined {
  return byName.get(name)
}

function parseOne(def: TopicConfigDef, value: string): LogConfig[keyof LogConfig] {
  if (typeof value !== 'string') throw new InvalidConfigError(`Invalid value ${String(value)} for configuration ${def.name}: expected a string`)
  try {
    return def.parse(value)
  } catch (err) {
    if (err instanceof ConfigValueError) throw new InvalidConfigError(`Invalid value ${value} for configuration ${def.name}: ${err.message}`)
    throw err
  }
}

function buildDefaults(): LogConfig {
  const config: Partial<Record<keyof LogConfig, unknown>> = {}
  for (const def of TOPIC_CONFIGS) config[def.key] = def.parse(def.default)
  return config as LogConfig
}

/** Kafka's defaults for every topic config. */
export const DEFAULT_LOG_CONFIG: Readonly<LogConfig> = Object.freeze(buildDefaults())

/**
 * Builds a {@link LogConfig} from topic config entries (Kafka names, string values) over
 * `defaults` (broker-level `log.*` settings) over Kafka's defaults.
 * @throws InvalidConfigError naming the key and the reason, for an unknown name, a value of
 *   the wrong type or range, or `min.compaction.lag.ms` above `max.compaction.lag.ms`.
 */
export function parseLogConfig(entries: Record<string, string>, defaults?: Partial<LogConfig>): LogConfig {
  const config: LogConfig = { ...DEFAULT_LOG_CONFIG, cleanupPolicy: { ...DEFAULT_LOG_CONFIG.cleanupPolicy } }
  if (defaults) {
    for (const [key, value] of Object.entries(defaults)) {
      if (value !== undefined && key in config) (config as unknown as Record<string, unknown>)[key] = value
    }
    config.cleanupPolicy = { ...config.cleanupPolicy }
  }
  for (const [name, value] of Object.entries(entries)) {
    const def = byName.get(name)
    if (!def) throw new InvalidConfigError(`Unknown topic config name: ${name}`)
    ;(config as unknown as Record<string, unknown>)[def.key] = parseOne(def, value)
  }
  if (config.minCompactionLagMs > config.maxCompactionLagMs) {
    throw new InvalidConfigError(`conflict topic config setting ${MIN_COMPACTION_LAG_MS} (${config.minCompactionLagMs}) > ${MAX_COMPACTION_LAG_MS} (${config.maxCompactionLagMs})`)
  }
  return config
}

/** One row of a DescribeConfigs answer. */
export interface DescribedConfig {
  name: string
  value: string
  /** True when the value comes from `defaults` or Kafka's default, not from the entries. */
  isDefault: boolean
  doc: string
}

/**
 * Lists every topic config with its effective value, for DescribeConfigs: the entry's
 * value when set, else the default (from `defaults` when given there, else Kafka's).
 * @throws InvalidConfigError when the entries do not parse (same rules as parseLogConfig).
 */
export function describeLogConfig(entries: Record<string, string>, defaults?: Partial<LogConfig>): DescribedConfig[] {
  const effective = parseLogConfig(entries, defaults)
  return TOPIC_CONFIGS.map((def) => {
    const set = Object.prototype.hasOwnProperty.call(entries, def.name)
    const value = set ? entries[def.name]!.trim() : formatValue(def, effective)
    return { name: def.name, value, isDefault: !set, doc: def.doc }
  })
}

function formatValue(def: TopicConfigDef, config: LogConfig): string {
  return (def.format as (v: LogConfig[keyof LogConfig]) => string)(config[def.key])
}

/** The string entries that reproduce `config` (only the values that differ from Kafka's defaults). */
export function logConfigToEntries(config: LogConfig): Record<string, string> {
  const out: Record<string, string> = {}
  for (const def of TOPIC_CONFIGS) {
    const value = formatValue(def, config)
    if (value !== formatValue(def, DEFAULT_LOG_CONFIG)) out[def.name] = value
  }
  return out
}
