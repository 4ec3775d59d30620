/**
 * Partition keys: one string per (topic, partition), for the Maps and Sets keyed by partition
 * throughout shardlog (producer queues, consumer positions, shard replicas, lag, assignors, the
 * wire clients, the CLI). The topic and the partition number joined by NUL, a character a Kafka
 * topic name cannot contain (legal: ASCII letters, digits, '.', '_' and '-'), so no two
 * partitions share a key and a key's topic is everything before the NUL.
 */

/** The key of partition `partition` of `topic`. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

/** Whether `key` is the partition key of one of `topic`'s partitions. */
export function isPartitionKeyOf(key: string, topic: string): boolean {
  return key.length > topic.length && key.charCodeAt(topic.length) === 0 && key.startsWith(topic)
}

/** The topic and partition a key names, or `undefined` for a string that is not a partition key. */
export function parsePartitionKey(key: string): { topic: string; partition: number } | undefined {
  const nul = key.lastIndexOf('\u0000')
  if (nul < 0) return undefined
  const partition = Number(key.slice(nul + 1))
  return Number.isInteger(partition) ? { topic: key.slice(0, nul), partition } : undefined
}
