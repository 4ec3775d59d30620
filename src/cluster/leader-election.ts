/**
 * Leader election rules, after Kafka's PartitionChangeBuilder / PartitionLeaderElectionAlgorithms:
 * pure functions from a partition's state and the live brokers to its next state.
 */
import type { PartitionInfo } from './topic-table.js'

/** A partition's next leader, ISR and epoch; `changed` is false when nothing moves. */
export interface PartitionChange {
  leader: number
  isr: number[]
  leaderEpoch: number
  changed: boolean
}

function result(p: PartitionInfo, leader: number, isr: number[]): PartitionChange {
  const leaderChanged = leader !== p.leader
  const isrChanged = isr.length !== p.isr.length || isr.some((b, i) => b !== p.isr[i])
  return { leader, isr, leaderEpoch: leaderChanged ? p.leaderEpoch + 1 : p.leaderEpoch, changed: leaderChanged || isrChanged }
}

/**
 * A broker was fenced: it leaves every ISR (unless it is the last member, which Kafka keeps
 * so that the partition can come back with its data), and partitions it led get the first
 * live ISR member in assignment order as leader. With no live ISR member the partition
 * goes offline (leader -1) unless `unclean` (unclean.leader.election.enable) allows any
 * live replica, at the cost of the records it lacks.
 */
export function onBrokerFenced(p: PartitionInfo, fenced: number, live: ReadonlySet<number>, unclean: boolean): PartitionChange {
  if (!p.replicas.includes(fenced)) return { ...result(p, p.leader, p.isr), changed: false }
  let isr = p.isr.filter((b) => b !== fenced && live.has(b))
  if (isr.length === 0) isr = p.isr.includes(fenced) ? [fenced] : p.isr.filter((b) => b !== fenced)
  let leader = p.leader
  if (p.leader === fenced || (p.leader >= 0 && !live.has(p.leader))) {
    leader = p.replicas.find((b) => isr.includes(b) && live.has(b)) ?? -1
    if (leader === -1 && unclean) {
      leader = p.replicas.find((b) => live.has(b)) ?? -1
      if (leader !== -1) isr = [leader]
    }
  }
  return result(p, leader, isr)
}

/** A broker came back: an offline partition whose ISR it is in gets it as leader. */
export function onBrokerUnfenced(p: PartitionInfo, broker: number, live: ReadonlySet<number>, unclean: boolean): PartitionChange {
  if (p.leader !== -1 || !p.replicas.includes(broker)) return { ...result(p, p.leader, p.isr), changed: false }
  const leader = p.replicas.find((b) => p.isr.includes(b) && live.has(b)) ?? (unclean ? broker : -1)
  return result(p, leader, leader === -1 ? p.isr : p.isr.includes(leader) ? p.isr : [leader])
}

/** Preferred leader election: the first replica in the assignment leads when it is live and in sync. */
export function preferredLeader(p: PartitionInfo, live: ReadonlySet<number>): PartitionChange {
  const preferred = p.replicas[0]
  if (preferred === undefined || preferred === p.leader || !live.has(preferred) || !p.isr.includes(preferred)) {
    return { ...result(p, p.leader, p.isr), changed: false }
  }
  return result(p, preferred, p.isr)
}

/** Controlled shutdown: leadership moves to another live ISR member and the broker leaves the ISR. */
export function onControlledShutdown(p: PartitionInfo, broker: number, live: ReadonlySet<number>): PartitionChange {
  if (!p.replicas.includes(broker)) return { ...result(p, p.leader, p.isr), changed: false }
  const others = p.isr.filter((b) => b !== broker && live.has(b))
  if (others.length === 0) return { ...result(p, p.leader, p.isr), changed: false }
  const leader = p.leader === broker ? p.replicas.find((b) => others.includes(b))! : p.leader
  return result(p, leader, others)
}
