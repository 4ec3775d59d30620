import fc from 'fast-check'
import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import {
  assignorByName, PartitionAssigners, performAssignment, subscriptionProtocol,
  type AssignorMember, type GroupAssignment, type PartitionAssignor,
} from '../../src/group/assignors/index.js'
import { decodeStickyUserData, encodeStickyUserData } from '../../src/group/assignors/sticky.js'
import { decodeAssignment, decodeSubscription, encodeSubscription, type TopicPartitions } from '../../src/group/consumer-protocol.js'
import { InvalidRequestError } from '../../src/errors.js'

const ALL: Array<[string, PartitionAssignor]> = [
  ['range', PartitionAssigners.range],
  ['roundrobin', PartitionAssigners.roundRobin],
  ['sticky', PartitionAssigners.sticky],
  ['cooperative-sticky', PartitionAssigners.cooperativeSticky],
]

function member(memberId: string, topics: string[], extra: Partial<AssignorMember['subscription']> = {}, groupInstanceId: string | null = null): AssignorMember {
  return { memberId, groupInstanceId, subscription: { version: 3, topics, userData: null, ownedPartitions: [], generationId: -1, rackId: null, ...extra } }
}

function counts(topics: Record<string, number>): (t: string) => number | undefined {
  return (t) => topics[t]
}

function flat(a: GroupAssignment, memberId: string): string[] {
  return (a.get(memberId) ?? []).flatMap((tp) => tp.partitions.map((p) => `${tp.topic}-${p}`))
}

/** The partitions owned after an assignment, as the sticky assignors' inputs carry them. */
function stickyMembers(a: GroupAssignment, generation: number, ids: string[], topics: string[]): AssignorMember[] {
  return ids.map((id) => {
    const owned = a.get(id) ?? []
    return member(id, topics, { userData: encodeStickyUserData(owned, generation), ownedPartitions: owned, generationId: generation })
  })
}

describe('group > assignors > every assignor', () => {
  for (const [name, assignor] of ALL) {
    it(`${name}: 3 members on 6 partitions get 2 each`, () => {
      const a = assignor.assign({ members: ['m1', 'm2', 'm3'].map((id) => member(id, ['t'])), partitionCount: counts({ t: 6 }) })
      expect([...a.values()].map((l) => l[0]?.partitions.length)).toEqual([2, 2, 2])
      expect(['m1', 'm2', 'm3'].flatMap((id) => flat(a, id)).sort()).toEqual(['t-0', 't-1', 't-2', 't-3', 't-4', 't-5'])
    })

    it(`${name}: gives members beyond the partition count nothing, and skips unknown topics`, () => {
      const a = assignor.assign({ members: ['a', 'b', 'c'].map((id) => member(id, ['t', 'ghost'])), partitionCount: counts({ t: 2 }) })
      expect([...a.values()].map((l) => l.flatMap((tp) => tp.partitions).length).sort()).toEqual([0, 1, 1])
      expect([...a.values()].flat().every((tp) => tp.topic === 't')).toBe(true)
      expect(assignor.assign({ members: [], partitionCount: counts({ t: 2 }) }).size).toBe(0)
    })

    it(`${name}: assigns every partition exactly once to a subscriber, balanced for equal subscriptions`, () => {
      fc.assert(fc.property(
        fc.integer({ min: 1, max: 7 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 3 }), fc.boolean(),
        (numMembers, partitionCounts, equal) => {
          const topics = Object.fromEntries(partitionCounts.map((n, i) => [`t${i}`, n]))
          const names = Object.keys(topics)
          const members = Array.from({ length: numMembers }, (_, i) => member(`m${i}`, equal ? names : names.filter((_, j) => (i + j) % 2 === 0 || j === 0)))
          const a = assignor.assign({ members, partitionCount: counts(topics) })
          const seen = new Set<string>()
          for (const m of members) {
            for (const tp of a.get(m.memberId) ?? []) {
              expect(m.subscription.topics).toContain(tp.topic)
              for (const p of tp.partitions) {
                expect(seen.has(`${tp.topic}-${p}`)).toBe(false)
                seen.add(`${tp.topic}-${p}`)
              }
            }
          }
          const subscribed = new Set(members.flatMap((m) => m.subscription.topics))
          expect(seen.size).toBe(names.filter((t) => subscribed.has(t)).reduce((sum, t) => sum + (topics[t] as number), 0))
          const sizes = members.map((m) => flat(a, m.memberId).length)
          // Range balances each topic on its own, not the total.
          if (equal && name !== 'range') expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1)
        },
      ))
    })
  }
})

describe('group > assignors > range', () => {
  it('gives each member a consecutive range per topic, the first members one extra', () => {
    const a = PartitionAssigners.range.assign({ members: [member('b', ['t1', 't2']), member('a', ['t1', 't2'])], partitionCount: counts({ t1: 3, t2: 3 }) })
    expect(a.get('a')).toEqual([{ topic: 't1', partitions: [0, 1] }, { topic: 't2', partitions: [0, 1] }])
    expect(a.get('b')).toEqual([{ topic: 't1', partitions: [2] }, { topic: 't2', partitions: [2] }])
  })

  it('orders static members by group.instance.id before dynamic ones', () => {
    const a = PartitionAssigners.range.assign({
      members: [member('a-dynamic', ['t']), member('z', ['t'], {}, 'instance-2'), member('y', ['t'], {}, 'instance-1')],
      partitionCount: counts({ t: 3 }),
    })
    expect([flat(a, 'y'), flat(a, 'z'), flat(a, 'a-dynamic')]).toEqual([['t-0'], ['t-1'], ['t-2']])
  })
})

describe('group > assignors > round robin', () => {
  it('deals partitions across topics in turn, skipping members not subscribed', () => {
    const a = PartitionAssigners.roundRobin.assign({
      members: [member('a', ['t0', 't1']), member('b', ['t0', 't1']), member('c', ['t1'])],
      partitionCount: counts({ t0: 3, t1: 3 }),
    })
    expect(flat(a, 'a')).toEqual(['t0-0', 't0-2', 't1-2'])
    expect(flat(a, 'b')).toEqual(['t0-1', 't1-0'])
    expect(flat(a, 'c')).toEqual(['t1-1'])
  })

  it('matches kafkajs\'s RoundRobinAssigner for equal subscriptions', async () => {
    const topics = { alpha: 5, beta: 3 }
    const cluster = { findTopicPartitionMetadata: (t: 'alpha' | 'beta') => Array.from({ length: topics[t] }, (_, partitionId) => ({ partitionId })) }
    const theirs = kafkajs.PartitionAssigners.roundRobin({ cluster } as unknown as Parameters<typeof kafkajs.PartitionAssigners.roundRobin>[0])
    const ids = ['member-c', 'member-a', 'member-b']
    const groupMembers = ids.map((memberId) => ({ memberId, memberMetadata: kafkajs.AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['alpha', 'beta'], userData: Buffer.alloc(0) }) }))
    const expected = await theirs.assign({ members: groupMembers, topics: ['alpha', 'beta'] })
    const ours = performAssignment(assignorByName('RoundRobinAssigner') as PartitionAssignor,
      groupMembers.map((m) => ({ memberId: m.memberId, groupInstanceId: null, metadata: m.memberMetadata })), (t) => topics[t as 'alpha' | 'beta'])
    for (const e of expected) {
      const mine = ours.find((o) => o.memberId === e.memberId)
      expect(kafkajs.AssignerProtocol.MemberAssignment.decode(mine?.assignment as Buffer)?.assignment)
        .toEqual(kafkajs.AssignerProtocol.MemberAssignment.decode(e.memberAssignment)?.assignment)
    }
  })
})

describe('group > assignors > sticky', () => {
  const ids = ['m1', 'm2', 'm3']

  it('keeps every remaining member\'s partitions when a member leaves', () => {
    const first = PartitionAssigners.sticky.assign({ members: ids.map((id) => member(id, ['t'])), partitionCount: counts({ t: 6 }) })
    const second = PartitionAssigners.sticky.assign({ members: stickyMembers(first, 1, ['m1', 'm3'], ['t']), partitionCount: counts({ t: 6 }) })
    for (const id of ['m1', 'm3']) expect(flat(second, id)).toEqual(expect.arrayContaining(flat(first, id)))
    expect([flat(second, 'm1').length, flat(second, 'm3').length]).toEqual([3, 3])
  })

  it('moves as few partitions as possible when a member joins', () => {
    const first = PartitionAssigners.sticky.assign({ members: ['m1', 'm2'].map((id) => member(id, ['t'])), partitionCount: counts({ t: 6 }) })
    const second = PartitionAssigners.sticky.assign({ members: [...stickyMembers(first, 1, ['m1', 'm2'], ['t']), member('m3', ['t'])], partitionCount: counts({ t: 6 }) })
    const kept = ['m1', 'm2'].flatMap((id) => flat(second, id).filter((tp) => flat(first, id).includes(tp)))
    expect(kept).toHaveLength(4)
    expect(ids.map((id) => flat(second, id).length)).toEqual([2, 2, 2])
  })

  it('is sticky where range is not', () => {
    const topics = counts({ t: 6 })
    const first = PartitionAssigners.range.assign({ members: ids.map((id) => member(id, ['t'])), partitionCount: topics })
    const afterRange = PartitionAssigners.range.assign({ members: ['m2', 'm3'].map((id) => member(id, ['t'])), partitionCount: topics })
    expect(flat(afterRange, 'm2')).not.toEqual(expect.arrayContaining(flat(first, 'm2')))
    const afterSticky = PartitionAssigners.sticky.assign({ members: stickyMembers(first, 1, ['m2', 'm3'], ['t']), partitionCount: topics })
    expect(flat(afterSticky, 'm2')).toEqual(expect.arrayContaining(flat(first, 'm2')))
  })

  it('lets the higher generation win a partition two members claim, and drops same-generation double claims', () => {
    const stale = member('old', ['t'], { userData: encodeStickyUserData([{ topic: 't', partitions: [0, 1, 2] }], 1) })
    const fresh = member('new', ['t'], { userData: encodeStickyUserData([{ topic: 't', partitions: [0] }], 2) })
    const a = PartitionAssigners.sticky.assign({ members: [stale, fresh], partitionCount: counts({ t: 4 }) })
    expect(flat(a, 'new')).toContain('t-0')
    const twin1 = member('x', ['t'], { userData: encodeStickyUserData([{ topic: 't', partitions: [3] }], 5) })
    const twin2 = member('y', ['t'], { userData: encodeStickyUserData([{ topic: 't', partitions: [3, 2] }], 5) })
    const b = PartitionAssigners.sticky.assign({ members: [twin1, twin2], partitionCount: counts({ t: 4 }) })
    expect(flat(b, 'y')).toContain('t-2')
    expect([...flat(b, 'x'), ...flat(b, 'y')].sort()).toEqual(['t-0', 't-1', 't-2', 't-3'])
  })

  it('keeps partitions with unequal subscriptions and stays balanced', () => {
    const members = [member('a', ['t1', 't2'], { userData: encodeStickyUserData([{ topic: 't1', partitions: [0, 1, 2, 3] }], 3) }), member('b', ['t1'])]
    const a = PartitionAssigners.sticky.assign({ members, partitionCount: counts({ t1: 4, t2: 2 }) })
    expect(flat(a, 'a').length).toBe(3)
    expect(flat(a, 'b').length).toBe(3)
    expect(flat(a, 'a')).toEqual(expect.arrayContaining(['t2-0', 't2-1']))
  })

  it('ignores owned partitions of topics that shrank out or are no longer subscribed', () => {
    const m = member('a', ['t'], { userData: encodeStickyUserData([{ topic: 't', partitions: [7] }, { topic: 'gone', partitions: [0] }], 1) })
    expect(flat(PartitionAssigners.sticky.assign({ members: [m], partitionCount: counts({ t: 2, gone: 1 }) }), 'a')).toEqual(['t-0', 't-1'])
  })

  it('stays valid and balanced whatever the members claim to own', () => {
    const claims = fc.array(fc.record({ topic: fc.constantFrom('a', 'b', 'zz'), partitions: fc.array(fc.integer({ min: -1, max: 8 }), { maxLength: 6 }) }), { maxLength: 3 })
    fc.assert(fc.property(
      fc.array(fc.tuple(claims, fc.option(fc.integer({ min: -1, max: 3 }), { nil: null }), fc.boolean()), { minLength: 1, maxLength: 6 }),
      (specs) => {
        const topics = { a: 5, b: 3 }
        const members = specs.map(([owned, generation, both], i) => member(`m${i}`, both ? ['a', 'b'] : ['a'], {
          userData: generation === null ? null : encodeStickyUserData(owned, generation),
        }))
        const result = PartitionAssigners.sticky.assign({ members, partitionCount: counts(topics) })
        const all = members.flatMap((m) => flat(result, m.memberId))
        expect(new Set(all).size).toBe(all.length)
        const subscribedB = members.some((m) => m.subscription.topics.includes('b'))
        expect(all.length).toBe(5 + (subscribedB ? 3 : 0))
        // Balanced: no member could take a partition from one with two more.
        for (const x of members) {
          for (const y of members) {
            if (flat(result, x.memberId).length < flat(result, y.memberId).length + 2) continue
            expect((result.get(x.memberId) ?? []).some((tp) => y.subscription.topics.includes(tp.topic))).toBe(false)
          }
        }
      },
    ))
  })

  it('encodes userData in Kafka\'s StickyAssignor format and survives garbage', () => {
    const data = encodeStickyUserData([{ topic: 't', partitions: [1, 2] }], 9)
    expect(data.toString('hex')).toBe('00000001' + '0001' + '74' + '00000002' + '00000001' + '00000002' + '00000009')
    expect(decodeStickyUserData(data)).toEqual({ owned: [{ topic: 't', partition: 1 }, { topic: 't', partition: 2 }], generation: 9 })
    expect(decodeStickyUserData(data.subarray(0, data.length - 4))).toMatchObject({ generation: null })
    expect(decodeStickyUserData(Buffer.from([1, 2, 3]))).toEqual({ owned: [], generation: -1 })
    expect(PartitionAssigners.sticky.subscriptionUserData({ ownedPartitions: [], generationId: -1 })).toBeNull()
  })
})

describe('group > assignors > cooperative sticky', () => {
  const topics = counts({ t: 6 })

  it('withholds partitions that change owner until their owner has revoked them', () => {
    const first = PartitionAssigners.cooperativeSticky.assign({ members: ['m1', 'm2'].map((id) => member(id, ['t'])), partitionCount: topics })
    const round1 = PartitionAssigners.cooperativeSticky.assign({ members: [...stickyMembers(first, 1, ['m1', 'm2'], ['t']), member('m3', ['t'])], partitionCount: topics })
    // m1 and m2 each give up one partition, which nobody gets in this round.
    expect([flat(round1, 'm1').length, flat(round1, 'm2').length, flat(round1, 'm3').length]).toEqual([2, 2, 0])
    const round2Members = stickyMembers(round1, 2, ['m1', 'm2', 'm3'], ['t'])
    const round2 = PartitionAssigners.cooperativeSticky.assign({ members: round2Members, partitionCount: topics })
    expect(['m1', 'm2', 'm3'].map((id) => flat(round2, id).length)).toEqual([2, 2, 2])
    for (const id of ['m1', 'm2']) expect(flat(round2, id)).toEqual(flat(round1, id))
  })

  it('reads the generation from userData for subscriptions before v2', () => {
    const gen = PartitionAssigners.cooperativeSticky.subscriptionUserData({ ownedPartitions: [], generationId: 4 })
    expect(gen).toEqual(Buffer.from([0, 0, 0, 4]))
    const owner = member('a', ['t'], { version: 1, ownedPartitions: [{ topic: 't', partitions: [0, 1, 2] }], userData: gen })
    const stale = member('b', ['t'], { version: 1, ownedPartitions: [{ topic: 't', partitions: [0] }], userData: Buffer.from([0, 0, 0, 1]) })
    const a = PartitionAssigners.cooperativeSticky.assign({ members: [owner, stale], partitionCount: counts({ t: 4 }) })
    expect(flat(a, 'a')).toContain('t-0')
  })
})

describe('group > assignors > registry and protocol helpers', () => {
  it('finds assignors by their Kafka names', () => {
    expect(['range', 'roundrobin', 'sticky', 'cooperative-sticky'].map((n) => assignorByName(n)?.name)).toEqual(['range', 'roundrobin', 'sticky', 'cooperative-sticky'])
    expect(assignorByName('RoundRobinAssigner')).toBe(PartitionAssigners.roundRobin)
    expect(assignorByName('nope')).toBeUndefined()
    expect(PartitionAssigners.cooperativeSticky.rebalanceProtocols[0]).toBe('COOPERATIVE')
  })

  it('builds a member\'s JoinGroup protocol with the assignor\'s userData', () => {
    const owned: TopicPartitions[] = [{ topic: 't', partitions: [1] }]
    const p = subscriptionProtocol(PartitionAssigners.sticky, { topics: ['t'], ownedPartitions: owned, generationId: 3, rackId: 'r' })
    expect(p.name).toBe('sticky')
    const s = decodeSubscription(p.metadata)
    expect(s).toMatchObject({ version: 3, topics: ['t'], ownedPartitions: owned, generationId: 3, rackId: 'r' })
    expect(decodeStickyUserData(s.userData)).toEqual({ owned: [{ topic: 't', partition: 1 }], generation: 3 })
  })

  it('encodes every member\'s assignment at the lowest subscription version, empty ones included', () => {
    const members = [
      { memberId: 'a', groupInstanceId: null, metadata: encodeSubscription({ topics: ['t'] }, 1) },
      { memberId: 'b', groupInstanceId: null, metadata: kafkajs.AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['t'], userData: Buffer.alloc(0) }) },
    ]
    const out = performAssignment(PartitionAssigners.range, members, counts({ t: 1 }))
    expect(out.map((o) => [o.memberId, decodeAssignment(o.assignment)])).toEqual([
      ['a', { version: 0, assignedPartitions: [{ topic: 't', partitions: [0] }], userData: null }],
      ['b', { version: 0, assignedPartitions: [], userData: null }],
    ])
  })

  it('rejects member metadata that is not a consumer subscription', () => {
    expect(() => performAssignment(PartitionAssigners.range, [{ memberId: 'a', groupInstanceId: null, metadata: Buffer.from([9]) }], counts({})))
      .toThrow(InvalidRequestError)
  })
})
