/**
 * Broker-level (server.properties) settings shardlog understands, with Kafka's names and
 * defaults. `log.*` names set the defaults of the matching topic configs, as in Kafka
 * (`log.retention.ms` -> `retention.ms`, `log.segment.bytes` -> `segment.bytes`, ...).
 */
import { InvalidConfigError } from '../errors.js'

/** Parsed server settings. */
export interface ServerConfig {
  /** auto.create.topics.enable: produce/metadata for a missing topic creates it (default true). */
  autoCreateTopicsEnable: boolean
  /** num.partitions: partitions of an auto-created topic (default 1). */
  numPartitions: number
  /** default.replication.factor (default 1). */
  defaultReplicationFactor: number
  /** offsets.topic.num.partitions (default 50). */
  offsetsTopicNumPartitions: number
  /** offsets.topic.replication.factor (Kafka's default 3, capped here by the broker count). */
  offsetsTopicReplicationFactor: number
  /** socket.request.max.bytes (default 104857600). */
  socketRequestMaxBytes: number
  /** log.retention.check.interval.ms (default 300000). */
  logRetentionCheckIntervalMs: number
  /** Topic config defaults derived from `log.*` settings, by topic config name. */
  logDefaults: Record<string, string>
  /** group.initial.rebalance.delay.ms (Kafka 3000; 0 here by default so tests and dev loops stay fast). */
  groupInitialRebalanceDelayMs: number
  /** group.min.session.timeout.ms (default 6000). */
  groupMinSessionTimeoutMs: number
  /** group.max.session.timeout.ms (default 1800000). */
  groupMaxSessionTimeoutMs: number
  /** offsets.retention.ms (default 7 days). */
  offsetsRetentionMs: number
  /** broker.session.timeout.ms: a broker silent this long is fenced (default 9000, as KRaft). */
  brokerSessionTimeoutMs: number
  /** broker.heartbeat.interval.ms (default 2000). */
  brokerHeartbeatIntervalMs: number
  /** replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR (default 30000). */
  replicaLagTimeMaxMs: number
  /** auto.leader.rebalance.enable: move leadership back to preferred replicas (default true). */
  autoLeaderRebalanceEnable: boolean
  /** leader.imbalance.check.interval.seconds, in ms (default 300 s; `leader.imbalance.check.interval.ms` sets ms directly). */
  leaderImbalanceCheckIntervalMs: number
}

const LOG_PREFIX_MAP: Record<string, string> = {
  'log.segment.bytes': 'segment.bytes',
  'log.roll.ms': 'segment.ms',
  'log.roll.hours': 'segment.ms',
  'log.index.size.max.bytes': 'segment.index.bytes',
  'log.index.interval.bytes': 'index.interval.bytes',
  'log.retention.ms': 'retention.ms',
  'log.retention.minutes': 'retention.ms',
  'log.retention.hours': 'retention.ms',
  'log.retention.bytes': 'retention.bytes',
  'log.cleanup.policy': 'cleanup.policy',
  'log.cleaner.delete.retention.ms': 'delete.retention.ms',
  'log.cleaner.min.compaction.lag.ms': 'min.compaction.lag.ms',
  'message.max.bytes': 'max.message.bytes',
  'log.flush.interval.messages': 'flush.messages',
  'log.flush.interval.ms': 'flush.ms',
  'min.insync.replicas': 'min.insync.replicas',
  'unclean.leader.election.enable': 'unclean.leader.election.enable',
  'compression.type': 'compression.type',
  'log.message.timestamp.type': 'message.timestamp.type',
}

const UNIT_MS: Record<string, number> = {
  'log.roll.hours': 3_600_000,
  'log.retention.minutes': 60_000,
  'log.retention.hours': 3_600_000,
}

const IGNORED = new Set([
  'broker.id', 'node.id', 'listeners', 'advertised.listeners', 'log.dirs', 'log.dir', 'num.network.threads',
  'num.io.threads', 'socket.send.buffer.bytes', 'socket.receive.buffer.bytes', 'zookeeper.connect', 'process.roles',
  'controller.quorum.voters', 'controller.listener.names', 'listener.security.protocol.map', 'inter.broker.listener.name',
  'transaction.state.log.replication.factor', 'transaction.state.log.min.isr', 'num.recovery.threads.per.data.dir',
  'group.coordinator.rebalance.protocols', 'log.cleaner.enable', 'delete.topic.enable',
])

function int(name: string, value: string, min: number): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) throw new InvalidConfigError(`Invalid value ${value} for server config ${name}: must be an integer >= ${min}`)
  return n
}

function bool(name: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new InvalidConfigError(`Invalid value ${value} for server config ${name}: must be true or false`)
  return value === 'true'
}

/** Parses server settings; unknown names are rejected so typos do not pass silently. */
export function parseServerConfig(entries: Record<string, string> = {}): ServerConfig {
  const c: ServerConfig = {
    autoCreateTopicsEnable: true,
    numPartitions: 1,
    defaultReplicationFactor: 1,
    offsetsTopicNumPartitions: 50,
    offsetsTopicReplicationFactor: 3,
    socketRequestMaxBytes: 104_857_600,
    logRetentionCheckIntervalMs: 300_000,
    logDefaults: {},
    groupInitialRebalanceDelayMs: 0,
    groupMinSessionTimeoutMs: 6_000,
    groupMaxSessionTimeoutMs: 1_800_000,
    offsetsRetentionMs: 7 * 24 * 3_600_000,
    brokerSessionTimeoutMs: 9_000,
    brokerHeartbeatIntervalMs: 2_000,
    replicaLagTimeMaxMs: 30_000,
    autoLeaderRebalanceEnable: true,
    leaderImbalanceCheckIntervalMs: 300_000,
  }
  for (const [name, raw] of Object.entries(entries)) {
    const value = String(raw).trim()
    switch (name) {
      case 'auto.create.topics.enable': c.autoCreateTopicsEnable = bool(name, value); break
      case 'num.partitions': c.numPartitions = int(name, value, 1); break
      case 'default.replication.factor': c.defaultReplicationFactor = int(name, value, 1); break
      case 'offsets.topic.num.partitions': c.offsetsTopicNumPartitions = int(name, value, 1); break
      case 'offsets.topic.replication.factor': c.offsetsTopicReplicationFactor = int(name, value, 1); break
      case 'socket.request.max.bytes': c.socketRequestMaxBytes = int(name, value, 1024); break
      case 'log.retention.check.interval.ms': c.logRetentionCheckIntervalMs = int(name, value, 1); break
      case 'group.initial.rebalance.delay.ms': c.groupInitialRebalanceDelayMs = int(name, value, 0); break
      case 'group.min.session.timeout.ms': c.groupMinSessionTimeoutMs = int(name, value, 1); break
      case 'group.max.session.timeout.ms': c.groupMaxSessionTimeoutMs = int(name, value, 1); break
      case 'offsets.retention.ms': c.offsetsRetentionMs = int(name, value, 1); break
      case 'broker.session.timeout.ms': c.brokerSessionTimeoutMs = int(name, value, 10); break
      case 'broker.heartbeat.interval.ms': c.brokerHeartbeatIntervalMs = int(name, value, 1); break
      case 'replica.lag.time.max.ms': c.replicaLagTimeMaxMs = int(name, value, 10); break
      case 'auto.leader.rebalance.enable': c.autoLeaderRebalanceEnable = bool(name, value); break
      case 'leader.imbalance.check.interval.seconds': c.leaderImbalanceCheckIntervalMs = int(name, value, 1) * 1000; break
      case 'leader.imbalance.check.interval.ms': c.leaderImbalanceCheckIntervalMs = int(name, value, 10); break
      default: {
        const topicName = LOG_PREFIX_MAP[name]
        if (topicName) {
          const unit = UNIT_MS[name]
          c.logDefaults[topicName] = unit ? String(int(name, value, 1) * unit) : value
        } else if (!IGNORED.has(name)) {
          throw new InvalidConfigError(`Unknown server config '${name}'`)
        }
      }
    }
  }
  return c
}

/** Parses the text of a Java-style `server.properties` file (`key=value`, `#` comments). */
export function parsePropertiesFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim()
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line)
    if (!m) throw new InvalidConfigError(`Cannot parse properties line: ${rawLine}`)
    out[m[1]!] = m[2]!
  }
  return out
}
