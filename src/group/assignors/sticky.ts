/**
 * Kafka's StickyAssignor (`sticky`) and the algorithm it shares with the cooperative variant
 * (Kafka's `AbstractStickyAssignor`): the assignment is balanced (member counts differ by at most
 * one when subscriptions are equal; otherwise no partition can move to an eligible member that
 * has two fewer), and within that it keeps as many partitions as possible where they were.
 *
 * Previous ownership comes from each member's report; when two members claim a partition, the
 * higher generation wins, and a partition claimed twice in the same generation is treated as
 * unowned. With equal subscriptions Kafka's "constrained" algorithm runs: every member keeps up to
 * its quota (the first `partitions % members` members to reach the higher quota keep one more),
 * and the rest is dealt round robin to members under quota. With unequal subscriptions owned
 * partitions are kept, the rest go to the least loaded eligible member (partitions with the fewest
 * eligible members first), and then partitions move from the most to the least loaded eligible
 * members until no move helps; newly placed partitions move before kept ones.
 *
 * The eager sticky assignor carries the previous assignment in the subscription's userData, in
 * Kafka's StickyAssignor format (no version prefix):
 * ```
 * V1: previous_assignment [{ topic string, partitions [int32] }], generation int32
 * V0: previous_assignment only
 * ```
 */
import { StructReader, StructWriter, type TopicPartitions } from '../consumer-protocol.js'
import { InvalidRequestError, UnknownServerError } from '../../errors.js'
import {
  compareMembers, compareStrings, flatten, partitionsOf, toGroupAssignment,
  type AssignmentContext, type AssignorMember, type GroupAssignment, type OwnedState, type PartitionAssignor, type TopicPartition,
} from './index.js'
import { partitionKey } from '../../topic-partition.js'

/** What a member reports owning: its partitions and their generation (null when unknown). */
export interface MemberOwnership {
  owned: TopicPartition[]
  generation: number | null
}

/** The eager sticky assignor. */
export const stickyAssignor: PartitionAssignor = {
  name: 'sticky',
  version: 0,
  rebalanceProtocols: ['EAGER'],
  subscriptionUserData(state: OwnedState): Buffer | null {
    if (state.generationId < 0 && state.ownedPartitions.length === 0) return null
    return encodeStickyUserData(state.ownedPartitions, state.generationId)
  },
  assign(context: AssignmentContext): GroupAssignment {
    return stickyAssign(context, (m) => decodeStickyUserData(m.subscription.userData))
  },
}

/** Encodes Kafka's StickyAssignor userData V1 (previous assignment and generation). */
export function encodeStickyUserData(partitions: readonly TopicPartitions[], generation: number): Buffer {
  const w = new StructWriter()
  w.array(partitions, (tp) => {
    w.string(tp.topic)
    w.array(tp.partitions, (p) => w.int32(p))
  })
  return w.int32(generation).toBuffer()
}

/**
 * Decodes StickyAssignor userData (V1, else V0). Unreadable userData counts as owning nothing,
 * as in Kafka: a member's bad report must not break the whole group's assignment.
 */
export function decodeStickyUserData(userData: Buffer | null): MemberOwnership {
  if (userData === null || userData.length === 0) return { owned: [], generation: null }
  try {
    const r = new StructReader(userData, 'StickyAssignorUserData', (message) => new InvalidRequestError(message))
    const list = r.array(() => ({ topic: r.string(), partitions: r.array(() => r.int32()) }))
    const generation = r.atEnd() ? null : r.int32()
    return { owned: flatten(list), generation }
  } catch {
    return { owned: [], generation: -1 }
  }
}

/**
 * The sticky algorithm (see the file comment). `ownership` tells what each member owned.
 * Returns an assignment with an entry for every member.
 */
export function stickyAssign(context: AssignmentContext, ownership: (member: AssignorMember) => MemberOwnership): GroupAssignment {
  const members = [...context.members].sort(compareMembers)
  const subscriptions = new Map(members.map((m) => [m.memberId, new Set(m.subscription.topics.filter((t) => partitionsOf(context, t) > 0))]))
  const allTopics = new Set([...subscriptions.values()].flatMap((s) => [...s]))
  const owned = resolveOwnership(members, allTopics, ownership)
  // Keep only partitions that still exist and that the member still subscribes to.
  for (const m of members) {
    const subscribed = subscriptions.get(m.memberId) as Set<string>
    const seen = new Set<string>()
    owned.set(m.memberId, (owned.get(m.memberId) ?? []).filter((tp) => {
      const key = partitionKey(tp.topic, tp.partition)
      const ok = subscribed.has(tp.topic) && Number.isInteger(tp.partition) && tp.partition >= 0 &&
        tp.partition < partitionsOf(context, tp.topic) && !seen.has(key)
      seen.add(key)
      return ok
    }))
  }
  const allPartitions = [...allTopics].sort(compareStrings).flatMap((topic) =>
    Array.from({ length: partitionsOf(context, topic) }, (_, partition) => ({ topic, partition })))
  const perMember = allSubscriptionsEqual(members, subscriptions)
    ? constrainedAssign(members, allPartitions, owned)
    : generalAssign(members, allPartitions, owned, subscriptions)
  return toGroupAssignment(context.members, perMember)
}

/**
 * Kafka's ownership resolution: only claims of the highest generation count (a member without a
 * generation counts only while nobody reports one), and a partition two members claim in that
 * generation belongs to neither.
 */
function resolveOwnership(members: readonly AssignorMember[], allTopics: ReadonlySet<string>,
  ownership: (member: AssignorMember) => MemberOwnership): Map<string, TopicPartition[]> {
  const owned = new Map<string, TopicPartition[]>()
  const claims = new Map<string, string>()
  const multiplyClaimed = new Set<string>()
  let maxGeneration = -1
  let highest: string[] = []
  for (const m of members) {
    owned.set(m.memberId, [])
    const { owned: reported, generation } = ownership(m)
    if (!((generation !== null && generation >= maxGeneration) || (generation === null && maxGeneration === -1))) continue
    if (generation !== null && generation > maxGeneration) {
      // A newer generation makes every older claim stale.
      claims.clear()
      multiplyClaimed.clear()
      for (const id of highest) owned.set(id, [])
      highest = []
      maxGeneration = generation
    }
    highest.push(m.memberId)
    for (const tp of reported) {
      if (!allTopics.has(tp.topic)) continue
      const key = partitionKey(tp.topic, tp.partition)
      const other = claims.get(key)
      claims.set(key, m.memberId)
      if (other === undefined) {
        ;(owned.get(m.memberId) as TopicPartition[]).push(tp)
      } else if (other !== m.memberId) {
        owned.set(other, (owned.get(other) as TopicPartition[]).filter((o) => partitionKey(o.topic, o.partition) !== key))
        multiplyClaimed.add(key)
      }
    }
  }
  if (multiplyClaimed.size > 0) {
    for (const [id, list] of owned) owned.set(id, list.filter((tp) => !multiplyClaimed.has(partitionKey(tp.topic, tp.partition))))
  }
  return owned
}

function allSubscriptionsEqual(members: readonly AssignorMember[], subscriptions: ReadonlyMap<string, ReadonlySet<string>>): boolean {
  if (members.length === 0) return true
  const first = subscriptions.get((members[0] as AssignorMember).memberId) as ReadonlySet<string>
  return members.every((m) => {
    const s = subscriptions.get(m.memberId) as ReadonlySet<string>
    return s.size === first.size && [...s].every((t) => first.has(t))
  })
}

/** Kafka's `constrainedAssign`, for members with equal subscriptions. */
function constrainedAssign(members: readonly AssignorMember[], allPartitions: readonly TopicPartition[],
  owned: ReadonlyMap<string, TopicPartition[]>): Map<string, TopicPartition[]> {
  const assignment = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]))
  if (members.length === 0) return assignment
  const minQuota = Math.floor(allPartitions.length / members.length)
  const maxQuota = Math.ceil(allPartitions.length / members.length)
  const expectedAtMax = allPartitions.length % members.length
  let currentAtMax = 0
  const underMin: string[] = []
  let exactlyMin: string[] = []
  const assigned = new Set<string>()
  const keep = (id: string, list: readonly TopicPartition[]): void => {
    for (const tp of list) assigned.add(partitionKey(tp.topic, tp.partition))
    ;(assignment.get(id) as TopicPartition[]).push(...list)
  }
  for (const m of members) {
    const mine = owned.get(m.memberId) ?? []
    if (mine.length < minQuota) {
      keep(m.memberId, mine)
      underMin.push(m.memberId)
    } else if (mine.length >= maxQuota && currentAtMax < expectedAtMax) {
      keep(m.memberId, mine.slice(0, maxQuota))
      currentAtMax++
      if (currentAtMax === expectedAtMax) exactlyMin = []
    } else {
      keep(m.memberId, mine.slice(0, minQuota))
      if (currentAtMax < expectedAtMax) exactlyMin.push(m.memberId)
    }
  }
  let cursor = 0
  for (const tp of allPartitions) {
    if (assigned.has(partitionKey(tp.topic, tp.partition))) continue
    let id: string
    const fromUnderMin = underMin.length > 0
    if (fromUnderMin) {
      if (cursor >= underMin.length) cursor = 0
      id = underMin[cursor] as string
    } else {
      const next = exactlyMin.shift()
      if (next === undefined) throw new UnknownServerError(`sticky assignment: no member left for ${tp.topic}-${tp.partition}`)
      id = next
    }
    const list = assignment.get(id) as TopicPartition[]
    list.push(tp)
    if (list.length === minQuota) {
      if (fromUnderMin) underMin.splice(cursor, 1)
      if (currentAtMax < expectedAtMax) exactlyMin.push(id)
    } else {
      if (fromUnderMin) cursor++
      if (list.length === maxQuota) {
        currentAtMax++
        if (currentAtMax === expectedAtMax) exactlyMin = []
      }
    }
  }
  return assignment
}

/** The general case, for members with different subscriptions (see the file comment). */
function generalAssign(members: readonly AssignorMember[], allPartitions: readonly TopicPartition[],
  owned: ReadonlyMap<string, TopicPartition[]>, subscriptions: ReadonlyMap<string, ReadonlySet<string>>): Map<string, TopicPartition[]> {
  const order = new Map(members.map((m, i) => [m.memberId, i]))
  const assignment = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, [...(owned.get(m.memberId) ?? [])]]))
  const assigned = new Set([...assignment.values()].flatMap((l) => l.map((tp) => partitionKey(tp.topic, tp.partition))))
  const eligible = (topic: string): string[] => members.filter((m) => (subscriptions.get(m.memberId) as ReadonlySet<string>).has(topic)).map((m) => m.memberId)
  const eligibleByTopic = new Map<string, string[]>()
  for (const tp of allPartitions) if (!eligibleByTopic.has(tp.topic)) eligibleByTopic.set(tp.topic, eligible(tp.topic))
  const sizeOf = (id: string): number => (assignment.get(id) as TopicPartition[]).length
  const leastLoaded = (ids: readonly string[]): string | undefined => {
    let best: string | undefined
    for (const id of ids) {
      if (best === undefined || sizeOf(id) < sizeOf(best) || (sizeOf(id) === sizeOf(best) && (order.get(id) as number) < (order.get(best) as number))) best = id
    }
    return best
  }
  // Partitions with the fewest candidates first, so flexible ones fill the gaps.
  const unassigned = allPartitions
    .filter((tp) => !assigned.has(partitionKey(tp.topic, tp.partition)))
    .sort((a, b) => (eligibleByTopic.get(a.topic) as string[]).length - (eligibleByTopic.get(b.topic) as string[]).length)
  for (const tp of unassigned) {
    const to = leastLoaded(eligibleByTopic.get(tp.topic) as string[])
    if (to !== undefined) (assignment.get(to) as TopicPartition[]).push(tp)
  }
  // Every move lowers the sum of squared sizes, so this ends.
  for (;;) {
    let moved = false
    const bySizeDesc = [...members].sort((a, b) => sizeOf(b.memberId) - sizeOf(a.memberId) || (order.get(a.memberId) as number) - (order.get(b.memberId) as number))
    for (const from of bySizeDesc) {
      const list = assignment.get(from.memberId) as TopicPartition[]
      // Newest placements sit at the end: move those before partitions the member kept.
      for (let i = list.length - 1; i >= 0 && !moved; i--) {
        const tp = list[i] as TopicPartition
        const candidates = (eligibleByTopic.get(tp.topic) as string[]).filter((id) => sizeOf(id) <= list.length - 2)
        const to = leastLoaded(candidates)
        if (to === undefined) continue
        list.splice(i, 1)
        ;(assignment.get(to) as TopicPartition[]).push(tp)
        moved = true
      }
      if (moved) break
    }
    if (!moved) return assignment
  }
}
