/**
 * Kafka's CooperativeStickyAssignor (`cooperative-sticky`, KIP-429): the sticky assignment, but a
 * partition moving from one member to another is left out of this round. Its old owner, seeing it
 * gone from its assignment, revokes it and rejoins; the follow-up rebalance hands it to the new
 * owner. Members keep consuming everything else throughout.
 *
 * Ownership comes from the subscription's ownedPartitions and generationId (v2+); older
 * subscriptions carry the generation as the userData (one int32, Kafka's
 * CooperativeStickyAssignor userData V0).
 */
import type { TopicPartitions } from '../consumer-protocol.js'
import { flatten, type AssignmentContext, type AssignorMember, type GroupAssignment, type OwnedState, type PartitionAssignor } from './index.js'
import { stickyAssign, type MemberOwnership } from './sticky.js'
import { partitionKey } from '../../topic-partition.js'

/** The cooperative sticky assignor. */
export const cooperativeStickyAssignor: PartitionAssignor = {
  name: 'cooperative-sticky',
  version: 0,
  rebalanceProtocols: ['COOPERATIVE', 'EAGER'],
  subscriptionUserData(state: OwnedState): Buffer {
    const b = Buffer.alloc(4)
    b.writeInt32BE(state.generationId)
    return b
  },
  assign(context: AssignmentContext): GroupAssignment {
    const assignment = stickyAssign(context, cooperativeOwnership)
    const transferring = partitionsTransferringOwnership(context.members, assignment)
    if (transferring.size === 0) return assignment
    const adjusted: GroupAssignment = new Map()
    for (const [memberId, list] of assignment) {
      adjusted.set(memberId, list
        .map((tp) => ({ topic: tp.topic, partitions: tp.partitions.filter((p) => transferring.get(partitionKey(tp.topic, p)) !== memberId) }))
        .filter((tp) => tp.partitions.length > 0))
    }
    return adjusted
  },
}

function cooperativeOwnership(member: AssignorMember): MemberOwnership {
  const s = member.subscription
  let generation: number | null = s.generationId >= 0 ? s.generationId : null
  if (generation === null && s.userData !== null) {
    // A subscription before v2 carries the generation in the userData; unreadable means "unknown
    // generation", which Kafka treats as the default (-1).
    generation = s.userData.length >= 4 ? s.userData.readInt32BE(0) : -1
  }
  return { owned: flatten(s.ownedPartitions), generation }
}

/**
 * Partitions assigned to a member that does not own them while another member owns (and must
 * first revoke) them: partition key -> the member it is moving to.
 */
function partitionsTransferringOwnership(members: readonly AssignorMember[], assignment: GroupAssignment): Map<string, string> {
  const added = new Map<string, string>()
  const revoked = new Set<string>()
  for (const m of members) {
    const owned = new Set(flatten(m.subscription.ownedPartitions).map((tp) => partitionKey(tp.topic, tp.partition)))
    const assigned = new Set(flatten(assignment.get(m.memberId) ?? ([] as TopicPartitions[])).map((tp) => partitionKey(tp.topic, tp.partition)))
    for (const key of assigned) if (!owned.has(key)) added.set(key, m.memberId)
    for (const key of owned) if (!assigned.has(key)) revoked.add(key)
  }
  for (const key of [...added.keys()]) if (!revoked.has(key)) added.delete(key)
  return added
}
