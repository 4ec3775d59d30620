/**
 * Partition assignors: the code a consumer group's leader runs between JoinGroup and SyncGroup
 * to split the subscribed topics' partitions among the members (Kafka's
 * `ConsumerPartitionAssignor`, kafkajs's `PartitionAssigners`). They run in the client (our
 * in-process consumer), never in the coordinator, which only stores the bytes.
 *
 * Each assignor implements {@link PartitionAssignor} and is known by its Kafka name, the JoinGroup
 * protocol name every Kafka client uses for it: `range`, `roundrobin`, `sticky`,
 * `cooperative-sticky`. {@link performAssignment} turns a leader's JoinGroup members into
 * SyncGroup assignments (consumer-protocol bytes); {@link subscriptionProtocol} builds a member's
 * JoinGroup protocol entry.
 *
 * Member order is Kafka's (`MemberInfo`): static members by `group.instance.id` first, then
 * dynamic members by member id, so the same group gets the same assignment from any client.
 */
import { InvalidRequestError } from '../../errors.js'
import {
  CONSUMER_PROTOCOL_HIGHEST_VERSION, decodeSubscription, encodeAssignment, encodeSubscription,
  type ConsumerProtocolSubscription, type TopicPartitions,
} from '../consumer-protocol.js'
import type { JoinGroupResponseMember } from '../coordinator-requests.js'
import type { JoinGroupProtocol } from '../member-metadata.js'
import { cooperativeStickyAssignor } from './cooperative-sticky.js'
import { rangeAssignor } from './range.js'
import { roundRobinAssignor } from './round-robin.js'
import { stickyAssignor } from './sticky.js'

/** Kafka's rebalance protocols: EAGER revokes everything before a rebalance, COOPERATIVE only what moves. */
export type RebalanceProtocol = 'EAGER' | 'COOPERATIVE'

/** One group member as an assignor sees it. */
export interface AssignorMember {
  memberId: string
  groupInstanceId: string | null
  subscription: ConsumerProtocolSubscription
}

/** What an assignor gets: the members and a way to learn partition counts. */
export interface AssignmentContext {
  members: readonly AssignorMember[]
  /** Partition count of a topic; undefined (or 0) for a topic that does not exist, which is skipped. */
  partitionCount(topic: string): number | undefined
}

/** An assignment: member id -> its partitions, topics sorted, partitions ascending. Every member has an entry. */
export type GroupAssignment = Map<string, TopicPartitions[]>

/** What a member owns when it rejoins: input to {@link PartitionAssignor.subscriptionUserData}. */
export interface OwnedState {
  ownedPartitions: readonly TopicPartitions[]
  /** The generation the partitions were assigned in, or -1 before the first assignment. */
  generationId: number
}

/** A partition assignment strategy. */
export interface PartitionAssignor {
  /** The Kafka name, used as the JoinGroup protocol name. */
  readonly name: string
  /** The assignor's own version (Kafka's `ConsumerPartitionAssignor.version()`). */
  readonly version: number
  /** Rebalance protocols the assignor supports, preferred first. */
  readonly rebalanceProtocols: readonly RebalanceProtocol[]
  /** The assignor's userData for a member's subscription (null when it keeps none). */
  subscriptionUserData(state: OwnedState): Buffer | null
  /** Computes the assignment; pure and deterministic. */
  assign(context: AssignmentContext): GroupAssignment
}

/**
 * The assignors by kafkajs-style key (`PartitionAssigners.roundRobin`). Getters, because each
 * assignor module imports this one for its helpers: a getter reads the binding only when used,
 * whichever module was loaded first.
 */
export const PartitionAssigners = {
  get range(): PartitionAssignor { return rangeAssignor },
  get roundRobin(): PartitionAssignor { return roundRobinAssignor },
  get sticky(): PartitionAssignor { return stickyAssignor },
  get cooperativeSticky(): PartitionAssignor { return cooperativeStickyAssignor },
}

/**
 * The assignor with a Kafka protocol name (`range`, `roundrobin`, `sticky`,
 * `cooperative-sticky`), also accepting kafkajs's `RoundRobinAssigner`: its algorithm gives the
 * same result as Kafka's round robin for members with equal subscriptions.
 */
export function assignorByName(name: string): PartitionAssignor | undefined {
  switch (name) {
    case 'range': return rangeAssignor
    case 'roundrobin':
    case 'RoundRobinAssigner': return roundRobinAssignor
    case 'sticky': return stickyAssignor
    case 'cooperative-sticky': return cooperativeStickyAssignor
    default: return undefined
  }
}

/** A member's subscription, for {@link subscriptionProtocol}. */
export interface SubscriptionState {
  topics: readonly string[]
  ownedPartitions?: readonly TopicPartitions[]
  /** Generation of the owned partitions (-1 before the first assignment). */
  generationId?: number
  rackId?: string | null
}

/** The JoinGroup protocol entry for `assignor`: its name and a ConsumerProtocolSubscription v3. */
export function subscriptionProtocol(assignor: PartitionAssignor, state: SubscriptionState): JoinGroupProtocol {
  const ownedPartitions = state.ownedPartitions ?? []
  const generationId = state.generationId ?? -1
  const metadata = encodeSubscription({
    topics: state.topics,
    userData: assignor.subscriptionUserData({ ownedPartitions, generationId }),
    ownedPartitions,
    generationId,
    rackId: state.rackId ?? null,
  })
  return { name: assignor.name, metadata }
}

/**
 * The leader's step: decodes the JoinGroup members' subscriptions, runs `assignor` and encodes
 * each member's ConsumerProtocolAssignment for SyncGroup (at the lowest subscription version
 * among the members, so every member can read it). Throws INVALID_REQUEST if a member's metadata
 * is not a consumer subscription.
 */
export function performAssignment(assignor: PartitionAssignor, members: readonly JoinGroupResponseMember[],
  partitionCount: (topic: string) => number | undefined): Array<{ memberId: string; assignment: Buffer }> {
  const decoded = members.map((m): AssignorMember => {
    try {
      return { memberId: m.memberId, groupInstanceId: m.groupInstanceId, subscription: decodeSubscription(m.metadata) }
    } catch (err) {
      throw new InvalidRequestError(`member ${m.memberId} sent metadata that is not a consumer subscription`, { cause: err })
    }
  })
  const version = Math.min(CONSUMER_PROTOCOL_HIGHEST_VERSION, ...decoded.map((m) => m.subscription.version))
  const result = assignor.assign({ members: decoded, partitionCount })
  return decoded.map((m) => ({ memberId: m.memberId, assignment: encodeAssignment({ assignedPartitions: result.get(m.memberId) ?? [] }, version) }))
}

// ---- helpers shared by the assignors ---------------------------------------------------------------

/** A single topic partition. */
export interface TopicPartition {
  topic: string
  partition: number
}

/** Kafka's `MemberInfo` order: static members (by instance id) before dynamic ones (by member id). */
export function compareMembers(a: AssignorMember, b: AssignorMember): number {
  if (a.groupInstanceId !== null && b.groupInstanceId !== null) return compareStrings(a.groupInstanceId, b.groupInstanceId)
  if (a.groupInstanceId !== null) return -1
  if (b.groupInstanceId !== null) return 1
  return compareStrings(a.memberId, b.memberId)
}

/** Java's `String.compareTo` (UTF-16 code unit order), which is also JS's `<`. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The partition count of `topic`, 0 when it does not exist. */
export function partitionsOf(context: AssignmentContext, topic: string): number {
  const n = context.partitionCount(topic)
  return n === undefined || !Number.isInteger(n) || n < 0 ? 0 : n
}

/** Flattens TopicPartitions into single partitions. */
export function flatten(list: readonly TopicPartitions[]): TopicPartition[] {
  return list.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })))
}

/** Groups single partitions into TopicPartitions, topics sorted and partitions ascending. */
export function group(list: readonly TopicPartition[]): TopicPartitions[] {
  const byTopic = new Map<string, number[]>()
  for (const { topic, partition } of list) {
    let ps = byTopic.get(topic)
    if (ps === undefined) {
      ps = []
      byTopic.set(topic, ps)
    }
    ps.push(partition)
  }
  return [...byTopic.keys()].sort(compareStrings).map((topic) => ({ topic, partitions: (byTopic.get(topic) as number[]).sort((x, y) => x - y) }))
}

/** Builds a {@link GroupAssignment} with an entry for every member. */
export function toGroupAssignment(members: readonly AssignorMember[], perMember: ReadonlyMap<string, readonly TopicPartition[]>): GroupAssignment {
  return new Map(members.map((m) => [m.memberId, group(perMember.get(m.memberId) ?? [])]))
}
