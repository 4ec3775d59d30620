import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CLEAN_SHUTDOWN_FILE } from '../../src/storage/file-names.js'
import { LogManager } from '../../src/storage/log-manager.js'
import { recordBatch, recordingLogger, recordsOf, tempDir, testConfig } from '../helpers/log-builder.js'

function manager(dataDir: string, opts: { maxOpenFiles?: number; now?: () => number } = {}): LogManager {
  return new LogManager({ dataDir, logger: recordingLogger(), ...opts })
}

/** Open descriptors of this process (Linux). */
function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

describe('storage > LogManager > partitions', () => {
  it('creates <topic>-<partition> under the broker directory and returns the same log on the next call', () => {
    const root = tempDir()
    const dataDir = join(root, 'broker-0')
    const logs = manager(dataDir)
    expect(logs.open()).toEqual({ cleanShutdown: false })
    const log = logs.getOrCreate('orders.v1_x-y', 3, testConfig())
    expect(log.dir).toBe(join(dataDir, 'orders.v1_x-y-3'))
    expect(log.topic).toBe('orders.v1_x-y')
    expect(log.partition).toBe(3)
    // A new partition's first segment is on disk at once, as in Kafka.
    expect(readdirSync(log.dir).sort()).toEqual(['00000000000000000000.index', '00000000000000000000.log', '00000000000000000000.timeindex'])
    log.append(recordBatch(1), { assignOffsets: true })
    expect(readdirSync(log.dir).sort()).toEqual(['00000000000000000000.index', '00000000000000000000.log', '00000000000000000000.timeindex'])
    expect(logs.getOrCreate('orders.v1_x-y', 3, testConfig())).toBe(log)
    expect(logs.get('orders.v1_x-y', 3)).toBe(log)
    expect(logs.get('orders.v1_x-y', 4)).toBeUndefined()
    logs.close()
  })

  it('refuses invalid topic names (which also keeps them inside the data directory) and partitions', () => {
    const root = tempDir()
    const logs = manager(join(root, 'broker-0'))
    for (const topic of ['', '.', '..', '../escape', 'a/b', 'x'.repeat(250), 'spaces no', 'ümlaut']) {
      expect(() => logs.getOrCreate(topic, 0, testConfig())).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC_EXCEPTION' }))
    }
    expect(() => logs.getOrCreate('ok', -1, testConfig())).toThrow(expect.objectContaining({ code: 'INVALID_PARTITIONS' }))
    expect(() => logs.getOrCreate('ok', 1.5, testConfig())).toThrow(expect.objectContaining({ code: 'INVALID_PARTITIONS' }))
    expect(readdirSync(root)).toEqual([]) // nothing was created, inside or outside the data directory
  })

  it('opens a partition directory found on disk, with its data, after a restart', () => {
    const dataDir = join(tempDir(), 'broker-1')
    const first = manager(dataDir)
    first.open()
    first.getOrCreate('t', 0, testConfig()).append(recordBatch(7), { assignOffsets: true })
    first.getOrCreate('t', 1, testConfig())
    first.close()
    const second = manager(dataDir)
    expect(second.open()).toEqual({ cleanShutdown: true })
    expect(existsSync(join(dataDir, CLEAN_SHUTDOWN_FILE))).toBe(false)
    expect(second.partitionsOnDisk().sort((a, b) => a.partition - b.partition)).toEqual([{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }])
    const log = second.getOrCreate('t', 0, testConfig())
    expect(log.hadCleanShutdown).toBe(true)
    expect(log.logEndOffset).toBe(7)
    expect(recordsOf(log.read(0, 1 << 20).data).map((r) => r.value)).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6'])
    second.close()
  })

  it('removes a partition by renaming its directory to <topic>-<p>.<uuid>-delete and deleting it', () => {
    const dataDir = join(tempDir(), 'broker-0')
    const logs = manager(dataDir)
    logs.open()
    logs.getOrCreate('gone', 0, testConfig()).append(recordBatch(3), { assignOffsets: true })
    logs.getOrCreate('kept', 0, testConfig())
    logs.remove('gone', 0)
    expect(readdirSync(dataDir)).toEqual(['kept-0'])
    expect(logs.get('gone', 0)).toBeUndefined()
    logs.remove('never-existed', 0) // nothing to do
    // A removal interrupted by a crash is finished by the next open().
    mkdirSync(join(dataDir, 'old-0.0123456789abcdef0123456789abcdef-delete'))
    writeFileSync(join(dataDir, 'old-0.0123456789abcdef0123456789abcdef-delete', '00000000000000000000.log'), 'x')
    logs.close()
    manager(dataDir).open()
    expect(readdirSync(dataDir).sort()).toEqual([CLEAN_SHUTDOWN_FILE, 'kept-0'].sort().filter((n) => n !== CLEAN_SHUTDOWN_FILE).concat())
  })
})

describe('storage > LogManager > several managers over one broker directory', () => {
  it('decides recovery per partition, so one manager\'s clean close never hides another\'s crash', () => {
    const dataDir = join(tempDir(), 'broker-0')
    const shardA = manager(dataDir)
    const shardB = manager(dataDir)
    shardA.open()
    shardB.open()
    shardA.getOrCreate('a', 0, testConfig()).append(recordBatch(5), { assignOffsets: true })
    const b = shardB.getOrCreate('b', 0, testConfig())
    b.append(recordBatch(5), { assignOffsets: true })
    shardA.close() // writes a's marker and the (informational) broker-level one
    b.abandon() // shard B's thread dies without closing
    shardB.handles.closeAll()
    const restartA = manager(dataDir)
    const restartB = manager(dataDir)
    expect(restartA.open().cleanShutdown).toBe(true)
    expect(restartB.open().cleanShutdown).toBe(false) // A already consumed the broker marker
    expect(restartA.getOrCreate('a', 0, testConfig()).hadCleanShutdown).toBe(true)
    const recovered = restartB.getOrCreate('b', 0, testConfig())
    expect(recovered.hadCleanShutdown).toBe(false)
    expect(recovered.logEndOffset).toBe(5)
    restartA.close()
    restartB.close()
  })
})

describe('storage > LogManager > retention and flush tasks', () => {
  it('runRetention deletes old segments of every log by retention.ms', () => {
    const dataDir = join(tempDir(), 'broker-0')
    const logs = manager(dataDir)
    const config = testConfig({ 'retention.ms': '1000' })
    for (const p of [0, 1]) {
      const log = logs.getOrCreate('r', p, config)
      log.append(recordBatch(2, { timestamp: 10_000 }), { assignOffsets: true })
      log.roll()
      log.append(recordBatch(2, { timestamp: 20_000 }), { assignOffsets: true })
    }
    logs.runRetention(11_001) // exactly retention.ms old: kept (Kafka deletes only older)
    expect([...logs.logs()].map((l) => l.segmentCount)).toEqual([2, 2])
    logs.runRetention(11_002) // the first segment's largest timestamp is 10_001
    expect([...logs.logs()].map((l) => [l.segmentCount, l.logStartOffset])).toEqual([[1, 2], [1, 2]])
    logs.close()
  })

  it('flushDirty fsyncs the logs whose unflushed data is older than flush.ms', () => {
    let now = 100_000
    const logs = manager(join(tempDir(), 'broker-0'), { now: () => now })
    const slow = logs.getOrCreate('f', 0, testConfig({ 'flush.ms': '5000' }))
    const never = logs.getOrCreate('f', 1, testConfig())
    slow.append(recordBatch(3), { assignOffsets: true })
    never.append(recordBatch(3), { assignOffsets: true })
    now += 4000
    logs.flushDirty()
    expect(slow.recoveryPoint).toBe(0)
    now += 1000
    logs.flushDirty()
    expect(slow.recoveryPoint).toBe(3)
    expect(never.recoveryPoint).toBe(0)
    logs.close()
  })
})

describe('storage > LogManager > bounded file handles', () => {
  it('opens 10,000 partitions, writes to and reads from 200 of them, with at most 64 descriptors', () => {
    const dataDir = join(tempDir(), 'broker-0')
    const fdsBefore = openFds()
    const logs = manager(dataDir, { maxOpenFiles: 64 })
    logs.open()
    const config = testConfig()
    let maxSeen = 0
    for (let p = 0; p < 10_000; p++) {
      const log = logs.getOrCreate('wide', p, config)
      if (p % 50 === 0) log.append(recordBatch(2, { firstIndex: p }), { assignOffsets: true })
      maxSeen = Math.max(maxSeen, logs.handles.openCount)
    }
    expect(logs.size).toBe(10_000)
    expect(maxSeen).toBeLessThanOrEqual(64)
    expect(openFds() - fdsBefore).toBeLessThanOrEqual(64)
    for (let p = 0; p < 10_000; p += 50) {
      expect(recordsOf(logs.get('wide', p)!.read(0, 1000).data).map((r) => r.value)).toEqual([`v${p}`, `v${p + 1}`])
    }
    expect(logs.handles.stats.evictions).toBeGreaterThan(100)
    logs.close()
    expect(openFds()).toBeLessThanOrEqual(fdsBefore)

    // Reopen a sample (every 5th partition: the ones with data and idle ones alike).
    const reopened = manager(dataDir, { maxOpenFiles: 64 })
    expect(reopened.open().cleanShutdown).toBe(true)
    for (let p = 0; p < 10_000; p += 5) {
      const log = reopened.getOrCreate('wide', p, config)
      expect(log.logEndOffset).toBe(p % 50 === 0 ? 2 : 0)
      if (p % 50 === 0) expect(log.hadCleanShutdown).toBe(true)
    }
    expect(reopened.handles.openCount).toBeLessThanOrEqual(64)
    expect(openFds() - fdsBefore).toBeLessThanOrEqual(64)
    reopened.close()
  })
})
