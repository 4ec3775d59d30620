import { describe, expect, it } from 'vitest'
import {
  DEFAULT_LOG_CONFIG, LONG_MAX_STRING, TOPIC_CONFIGS, describeLogConfig, logConfigToEntries, parseLogConfig, topicConfigDef,
} from '../../src/storage/log-config.js'

describe('storage > log-config > TOPIC_CONFIGS', () => {
  it('lists every supported topic config once, by Kafka name, with a doc and a default that parses', () => {
    const names = TOPIC_CONFIGS.map((d) => d.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names.sort()).toEqual([
      'cleanup.policy', 'compression.type', 'delete.retention.ms', 'file.delete.delay.ms', 'flush.messages', 'flush.ms',
      'index.interval.bytes', 'max.compaction.lag.ms', 'max.message.bytes', 'message.timestamp.type', 'min.cleanable.dirty.ratio',
      'min.compaction.lag.ms', 'min.insync.replicas', 'preallocate', 'retention.bytes', 'retention.ms', 'segment.bytes',
      'segment.index.bytes', 'segment.ms', 'unclean.leader.election.enable',
    ])
    for (const def of TOPIC_CONFIGS) {
      expect(def.doc.length, def.name).toBeGreaterThan(20)
      expect(() => parseLogConfig({ [def.name]: def.default })).not.toThrow()
    }
  })

  it('has Kafka\'s defaults', () => {
    expect(DEFAULT_LOG_CONFIG).toEqual({
      segmentBytes: 1073741824, segmentMs: 604800000, segmentIndexBytes: 10485760, indexIntervalBytes: 4096,
      retentionMs: 604800000, retentionBytes: -1, cleanupPolicy: { delete: true, compact: false }, deleteRetentionMs: 86400000,
      minCompactionLagMs: 0, maxCompactionLagMs: Number.MAX_SAFE_INTEGER, minCleanableDirtyRatio: 0.5, maxMessageBytes: 1048588,
      flushMessages: Number.MAX_SAFE_INTEGER, flushMs: Number.MAX_SAFE_INTEGER, minInsyncReplicas: 1, uncleanLeaderElectionEnable: false,
      compressionType: 'producer', messageTimestampType: 'CreateTime', fileDeleteDelayMs: 60000, preallocate: false,
    })
    expect(topicConfigDef('flush.messages')?.default).toBe(LONG_MAX_STRING)
  })
})

describe('storage > log-config > parseLogConfig', () => {
  it('parses every type: int, long, double, boolean, string and list', () => {
    const config = parseLogConfig({
      'segment.bytes': '1048576', 'retention.ms': '-1', 'retention.bytes': ' 5000 ', 'min.cleanable.dirty.ratio': '0.25',
      'unclean.leader.election.enable': 'TRUE', 'compression.type': 'zstd', 'cleanup.policy': 'compact, delete',
      'message.timestamp.type': 'LogAppendTime', 'flush.messages': '1',
    })
    expect(config).toMatchObject({
      segmentBytes: 1048576, retentionMs: -1, retentionBytes: 5000, minCleanableDirtyRatio: 0.25, uncleanLeaderElectionEnable: true,
      compressionType: 'zstd', cleanupPolicy: { delete: true, compact: true }, messageTimestampType: 'LogAppendTime', flushMessages: 1,
    })
    expect(parseLogConfig({ 'cleanup.policy': 'compact' }).cleanupPolicy).toEqual({ delete: false, compact: true })
  })

  it('holds Long.MAX_VALUE and other values above 2^53 as Number.MAX_SAFE_INTEGER', () => {
    expect(parseLogConfig({ 'segment.ms': LONG_MAX_STRING }).segmentMs).toBe(Number.MAX_SAFE_INTEGER)
    expect(parseLogConfig({ 'retention.bytes': '9007199254740993' }).retentionBytes).toBe(Number.MAX_SAFE_INTEGER)
  })

  it('applies broker defaults under the topic entries', () => {
    const config = parseLogConfig({ 'retention.ms': '1000' }, { retentionMs: 5, segmentBytes: 2048 })
    expect(config.retentionMs).toBe(1000)
    expect(config.segmentBytes).toBe(2048)
  })

  const invalid: Array<[string, string, RegExp]> = [
    ['segment.bytes', '13', /at least 14/],
    ['segment.bytes', '2147483648', /32-bit/],
    ['segment.bytes', '1e6', /integer/],
    ['segment.ms', '0', /at least 1/],
    ['retention.ms', '-2', /at least -1/],
    ['retention.bytes', '92233720368547758070', /64-bit/],
    ['min.cleanable.dirty.ratio', '1.5', /between 0 and 1/],
    ['min.cleanable.dirty.ratio', 'half', /double/],
    ['unclean.leader.election.enable', 'yes', /true or false/],
    ['compression.type', 'brotli', /one of/],
    ['compression.type', 'GZIP', /one of/],
    ['message.timestamp.type', 'NowTime', /one of/],
    ['cleanup.policy', 'delete,forever', /not one of/],
    ['cleanup.policy', '', /Empty list/],
    ['max.message.bytes', '-1', /at least 0/],
    ['flush.messages', '0', /at least 1/],
    ['min.insync.replicas', '0', /at least 1/],
  ]
  for (const [name, value, reason] of invalid) {
    it(`refuses ${name}=${JSON.stringify(value)} with INVALID_CONFIG naming the key`, () => {
      let error: unknown
      try {
        parseLogConfig({ [name]: value })
      } catch (err) {
        error = err
      }
      expect(error).toMatchObject({ code: 'INVALID_CONFIG', errorCode: 40 })
      expect((error as Error).message).toContain(name)
      expect((error as Error).message).toMatch(reason)
    })
  }

  it('refuses unknown names and min.compaction.lag.ms above max.compaction.lag.ms', () => {
    expect(() => parseLogConfig({ 'segment.size': '1' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining('segment.size') }))
    expect(() => parseLogConfig({ 'min.compaction.lag.ms': '10', 'max.compaction.lag.ms': '5' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })
})

describe('storage > log-config > describeLogConfig', () => {
  it('lists every config with its value, whether it is a default, and its doc', () => {
    const rows = describeLogConfig({ 'retention.ms': '1000', 'cleanup.policy': 'compact' })
    expect(rows).toHaveLength(TOPIC_CONFIGS.length)
    expect(rows.find((r) => r.name === 'retention.ms')).toMatchObject({ value: '1000', isDefault: false })
    expect(rows.find((r) => r.name === 'cleanup.policy')).toMatchObject({ value: 'compact', isDefault: false })
    expect(rows.find((r) => r.name === 'segment.bytes')).toMatchObject({ value: '1073741824', isDefault: true })
    expect(rows.find((r) => r.name === 'flush.ms')).toMatchObject({ value: LONG_MAX_STRING, isDefault: true })
    expect(rows.every((r) => r.doc.length > 0)).toBe(true)
    expect(describeLogConfig({}, { segmentBytes: 4096 }).find((r) => r.name === 'segment.bytes')).toMatchObject({ value: '4096', isDefault: true })
    expect(() => describeLogConfig({ 'retention.ms': 'soon' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })

  it('round-trips a config through its entries', () => {
    const config = parseLogConfig({ 'segment.bytes': '4096', 'cleanup.policy': 'compact,delete', 'retention.ms': '-1' })
    expect(logConfigToEntries(config)).toEqual({ 'segment.bytes': '4096', 'cleanup.policy': 'compact,delete', 'retention.ms': '-1' })
    expect(parseLogConfig(logConfigToEntries(config))).toEqual(config)
  })
})
