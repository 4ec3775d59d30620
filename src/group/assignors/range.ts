/**
 * Kafka's RangeAssignor (`range`, the Java consumer's default): per topic, the members subscribed
 * to it (in Kafka's member order) get consecutive ranges of partitions, the first
 * `partitions % members` of them one extra. Topics are split independently, so members that come
 * first get more when several topics do not divide evenly. Eager only.
 */
import {
  compareMembers, partitionsOf, toGroupAssignment,
  type AssignmentContext, type GroupAssignment, type PartitionAssignor, type TopicPartition,
} from './index.js'

/** The range assignor. */
export const rangeAssignor: PartitionAssignor = {
  name: 'range',
  version: 0,
  rebalanceProtocols: ['EAGER'],
  subscriptionUserData: () => null,
  assign(context: AssignmentContext): GroupAssignment {
    const perMember = new Map<string, TopicPartition[]>()
    const consumersPerTopic = new Map<string, typeof context.members[number][]>()
    for (const m of context.members) {
      for (const topic of new Set(m.subscription.topics)) {
        let list = consumersPerTopic.get(topic)
        if (list === undefined) {
          list = []
          consumersPerTopic.set(topic, list)
        }
        list.push(m)
      }
    }
    for (const [topic, consumers] of consumersPerTopic) {
      const numPartitions = partitionsOf(context, topic)
      if (numPartitions === 0) continue
      consumers.sort(compareMembers)
      const perConsumer = Math.floor(numPartitions / consumers.length)
      const withExtra = numPartitions % consumers.length
      consumers.forEach((m, i) => {
        const start = perConsumer * i + Math.min(i, withExtra)
        const length = perConsumer + (i < withExtra ? 1 : 0)
        let list = perMember.get(m.memberId)
        if (list === undefined) {
          list = []
          perMember.set(m.memberId, list)
        }
        for (let p = start; p < start + length; p++) list.push({ topic, partition: p })
      })
    }
    return toGroupAssignment(context.members, perMember)
  },
}
