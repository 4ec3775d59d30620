/**
 * Kafka's RoundRobinAssignor (`roundrobin`): all partitions of all subscribed topics, topics in
 * name order, are dealt one by one to the members in Kafka's member order, skipping a member that
 * does not subscribe to the partition's topic. With equal subscriptions every member ends up with
 * the same count give or take one. Eager only.
 */
import {
  compareMembers, compareStrings, partitionsOf, toGroupAssignment,
  type AssignmentContext, type GroupAssignment, type PartitionAssignor, type TopicPartition,
} from './index.js'

/** The round-robin assignor. */
export const roundRobinAssignor: PartitionAssignor = {
  name: 'roundrobin',
  version: 0,
  rebalanceProtocols: ['EAGER'],
  subscriptionUserData: () => null,
  assign(context: AssignmentContext): GroupAssignment {
    const members = [...context.members].sort(compareMembers)
    const perMember = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]))
    if (members.length === 0) return toGroupAssignment(members, perMember)
    const subscribed = members.map((m) => new Set(m.subscription.topics))
    const topics = [...new Set(members.flatMap((m) => m.subscription.topics))].sort(compareStrings)
    let next = 0
    for (const topic of topics) {
      const n = partitionsOf(context, topic)
      for (let partition = 0; partition < n; partition++) {
        // Every topic here has at least one subscriber, so this stops within one lap.
        while (!(subscribed[next] as Set<string>).has(topic)) next = (next + 1) % members.length
        ;(perMember.get((members[next] as typeof members[number]).memberId) as TopicPartition[]).push({ topic, partition })
        next = (next + 1) % members.length
      }
    }
    return toGroupAssignment(context.members, perMember)
  },
}
