/**
 * The two halves of every call that spans partitions owned by several shards or brokers:
 * split the partitions by owner (one request each), then put the owners' answers back in
 * the caller's order.
 */
import { partitionKey } from '../topic-partition.js'

/** A topic partition, as requests and results name it. */
export interface TopicPartitionRef {
  readonly topic: string
  readonly partition: number
}

/** Groups `items` by `ownerOf(item)`, keeping each owner's items in their original order. */
export function groupByOwner<O, T extends TopicPartitionRef>(items: readonly T[], ownerOf: (topic: string, partition: number) => O): Map<O, T[]> {
  const byOwner = new Map<O, T[]>()
  for (const item of items) {
    const owner = ownerOf(item.topic, item.partition)
    let list = byOwner.get(owner)
    if (!list) byOwner.set(owner, (list = []))
    list.push(item)
  }
  return byOwner
}

/**
 * The owners' answers in the order of `requested`. A partition no owner answered is left out
 * (an incremental fetch leaves out the caught-up ones; every other call answers each partition).
 */
export function inRequestOrder<R extends TopicPartitionRef>(requested: readonly TopicPartitionRef[], answers: ReadonlyArray<readonly R[]>): R[] {
  const index = new Map<string, R>()
  for (const list of answers) for (const r of list) index.set(partitionKey(r.topic, r.partition), r)
  const ordered: R[] = []
  for (const p of requested) {
    const answer = index.get(partitionKey(p.topic, p.partition))
    if (answer !== undefined) ordered.push(answer)
  }
  return ordered
}
