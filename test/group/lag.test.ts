import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { PartitionAssigners, performAssignment, subscriptionProtocol } from '../../src/group/assignors/index.js'
import { GroupCoordinator, type OffsetsLog } from '../../src/group/group-coordinator.js'
import { computeLag, describeGroupLag } from '../../src/group/lag.js'
import { CoordinatorLoadInProgressError } from '../../src/errors.js'

/** Test-only in-memory `__consumer_offsets`. */
class MemoryOffsetsLog implements OffsetsLog {
  private readonly records = new Map<number, Array<{ key: Buffer; value: Buffer | null }>>()
  async append(partition: number, records: Array<{ key: Buffer; value: Buffer | null }>): Promise<void> {
    this.records.set(partition, [...(this.records.get(partition) ?? []), ...records])
  }
  async *readAll(partition: number): AsyncIterable<{ key: Buffer | null; value: Buffer | null }> {
    for (const r of this.records.get(partition) ?? []) yield r
  }
}

describe('group > lag > computeLag', () => {
  it('produce 5, commit 4: LAG 1 per partition and in total', () => {
    const one = computeLag({ committed: [{ topic: 't', partition: 0, offset: 4 }], highWatermarks: [{ topic: 't', partition: 0, highWatermark: 5 }] })
    expect(one.partitions).toEqual([{ topic: 't', partition: 0, currentOffset: 4, logEndOffset: 5, lag: 1, memberId: null, groupInstanceId: null, clientId: null, host: null }])
    expect(one.totalLag).toBe(1)
    const three = computeLag({
      committed: [0, 1, 2].map((partition) => ({ topic: 't', partition, offset: 4 })),
      highWatermarks: [0, 1, 2].map((partition) => ({ topic: 't', partition, highWatermark: 5 })),
    })
    expect(three.partitions.map((p) => p.lag)).toEqual([1, 1, 1])
    expect(three.totalLag).toBe(3)
  })

  it('reports null CURRENT-OFFSET and LAG (Kafka\'s "-") where nothing is committed', () => {
    const r = computeLag({
      committed: [{ topic: 't', partition: 1, offset: -1 }],
      highWatermarks: [{ topic: 't', partition: 0, highWatermark: 9 }, { topic: 't', partition: 1, highWatermark: 3 }],
    })
    expect(r.partitions.map((p) => [p.partition, p.currentOffset, p.logEndOffset, p.lag])).toEqual([[0, null, 9, null], [1, null, 3, null]])
    expect(r.totalLag).toBe(0)
  })

  it('sorts rows by topic and partition and keeps owners', () => {
    const r = computeLag({
      committed: [{ topic: 'b', partition: 1, offset: 0 }, { topic: 'a', partition: 2, offset: 1 }],
      highWatermarks: [{ topic: 'b', partition: 1, highWatermark: 0 }, { topic: 'a', partition: 2, highWatermark: 7 }],
      owners: [{ topic: 'a', partition: 2, memberId: 'm', groupInstanceId: null, clientId: 'c', host: '/h' }],
    })
    expect(r.partitions.map((p) => `${p.topic}-${p.partition}:${p.lag}:${p.memberId}`)).toEqual(['a-2:6:m', 'b-1:0:null'])
    expect(r.totalLag).toBe(6)
  })
})

describe('group > lag > describeGroupLag', () => {
  let coordinator: GroupCoordinator

  beforeEach(async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    coordinator = new GroupCoordinator({ offsetsLog: new MemoryOffsetsLog(), topicPartitionCount: (t) => (t === 'events' ? 3 : undefined), minSessionTimeoutMs: 100 })
  })

  afterEach(() => {
    coordinator.close()
    vi.useRealTimers()
  })

  it('combines committed offsets, high watermarks and the members\' assignments', async () => {
    await coordinator.load()
    const joining = coordinator.joinGroup({
      groupId: 'g', memberId: '', groupInstanceId: null, protocolType: 'consumer',
      protocols: [subscriptionProtocol(PartitionAssigners.range, { topics: ['events'] })],
      sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, clientId: 'lagger', clientHost: '/127.0.0.1',
    })
    await vi.advanceTimersByTimeAsync(1)
    const join = await joining
    await coordinator.syncGroup({ groupId: 'g', generationId: join.generationId, memberId: join.memberId, groupInstanceId: null,
      assignments: performAssignment(PartitionAssigners.range, join.members, () => 3) })
    await coordinator.commitOffsets({ groupId: 'g', generationId: join.generationId, memberId: join.memberId,
      topics: [{ name: 'events', partitions: [0, 1].map((partitionIndex) => ({ partitionIndex, committedOffset: 4, committedMetadata: null })) }] })
    const report = await describeGroupLag(coordinator, 'g', async () => 5)
    expect(report.state).toBe('Stable')
    expect(report.partitions.map((p) => [p.partition, p.currentOffset, p.logEndOffset, p.lag, p.clientId])).toEqual([
      [0, 4, 5, 1, 'lagger'], [1, 4, 5, 1, 'lagger'], [2, null, 5, null, 'lagger'],
    ])
    expect(report.totalLag).toBe(2)
  })

  it('throws the typed error while the coordinator is loading', async () => {
    await expect(describeGroupLag(coordinator, 'g', async () => 0)).rejects.toBeInstanceOf(CoordinatorLoadInProgressError)
  })
})
