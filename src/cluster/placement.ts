/**
 * Replica placement, after Kafka's `AdminUtils.assignReplicasToBrokers` without racks:
 * the first replica of partition p goes to broker (start + p) % n, the followers are
 * shifted by an increasing step so that leaders and followers spread evenly and
 * deterministically over the brokers.
 */
import { InvalidPartitionsError, InvalidReplicationFactorError } from '../errors.js'

/**
 * Assigns `replicationFactor` distinct brokers to partitions `firstPartition ..
 * firstPartition + count - 1`. `brokers` must be the sorted ids of live brokers.
 * @param startIndex - where the round-robin begins (Kafka picks it at random; a stable
 *   hash of the topic name keeps shardlog deterministic)
 */
export function assignReplicas(
  brokers: readonly number[],
  count: number,
  replicationFactor: number,
  startIndex: number,
  firstPartition = 0,
): number[][] {
  if (!Number.isInteger(count) || count < 1) throw new InvalidPartitionsError(`Number of partitions must be at least 1, got ${count}`)
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new InvalidReplicationFactorError(`Replication factor must be at least 1, got ${replicationFactor}`)
  }
  const n = brokers.length
  if (replicationFactor > n) {
    throw new InvalidReplicationFactorError(`Replication factor: ${replicationFactor} larger than available brokers: ${n}.`)
  }
  const result: number[][] = []
  const start = ((startIndex % n) + n) % n
  let shift = start
  for (let i = 0; i < count; i++) {
    const p = firstPartition + i
    if (p > 0 && p % n === 0) shift++
    const first = (start + p) % n
    const replicas = [brokers[first]!]
    for (let j = 0; j < replicationFactor - 1; j++) {
      const step = 1 + ((shift + j) % (n - 1))
      replicas.push(brokers[(first + step) % n]!)
    }
    result.push(replicas)
  }
  return result
}

/** Java's String.hashCode, used for stable, Kafka-familiar hashing of names. */
export function javaStringHash(s: string): number {
  let h = 0
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0
  return h
}

/**
 * The shard (0..shards-1) of a broker that owns a partition replica: consecutive
 * partitions of a topic go to consecutive shards, starting at a shard derived from the
 * topic name, so every topic spreads evenly and the mapping never changes.
 */
export function shardForPartition(topic: string, partition: number, shards: number): number {
  const start = Math.abs(javaStringHash(topic)) % shards
  return (start + partition) % shards
}
