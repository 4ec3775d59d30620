/**
 * Partitioners, after the Java client: a keyed record goes to
 * `toPositive(murmur2(key)) % numPartitions`, exactly as Kafka's clients compute it, so a
 * key lands on the same partition as with Kafka's own producers; a record with a null key
 * sticks to one partition until its batch is sent (KIP-480's sticky partitioner).
 */

/** What a partitioner is told about a record. */
export interface PartitionerArgs {
  topic: string
  partitionCount: number
  key: Buffer | null
}

/** Chooses a partition for a record; `onNewBatch` tells a sticky partitioner to move on. */
export interface Partitioner {
  partition(args: PartitionerArgs): number
  onNewBatch?(topic: string, previous: number, partitionCount: number): void
}

/** A partitioner factory, as kafkajs's `createPartitioner` option takes. */
export type PartitionerFactory = () => Partitioner

/** Murmur2 hash as implemented by org.apache.kafka.common.utils.Utils.murmur2. */
export function murmur2(data: Uint8Array): number {
  const length = data.length
  const seed = 0x9747b28c
  const m = 0x5bd1e995
  const r = 24
  let h = seed ^ length
  const length4 = length >> 2
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24)
    k = Math.imul(k, m)
    k ^= k >>> r
    k = Math.imul(k, m)
    h = Math.imul(h, m)
    h ^= k
  }
  const tail = length4 << 2
  const rest = length & 3
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8
  if (rest >= 1) {
    h ^= data[tail]! & 0xff
    h = Math.imul(h, m)
  }
  h ^= h >>> 13
  h = Math.imul(h, m)
  h ^= h >>> 15
  return h | 0
}

/** Kafka's Utils.toPositive: clears the sign bit. */
export function toPositive(n: number): number {
  return n & 0x7fffffff
}

/** The Java client's default partitioner: murmur2 for keys, sticky for null keys. */
export function defaultPartitioner(): Partitioner {
  const sticky = new Map<string, number>()
  return {
    partition({ topic, partitionCount, key }) {
      if (key !== null) return toPositive(murmur2(key)) % partitionCount
      let p = sticky.get(topic)
      if (p === undefined || p >= partitionCount) {
        p = Math.floor(Math.random() * partitionCount)
        sticky.set(topic, p)
      }
      return p
    },
    onNewBatch(topic, previous, partitionCount) {
      if (sticky.get(topic) !== previous) return
      if (partitionCount <= 1) return
      let next = Math.floor(Math.random() * (partitionCount - 1))
      if (next >= previous) next++
      sticky.set(topic, next)
    },
  }
}

/** Round-robin over partitions for null keys, murmur2 for keys. */
export function roundRobinPartitioner(): Partitioner {
  const counters = new Map<string, number>()
  return {
    partition({ topic, partitionCount, key }) {
      if (key !== null) return toPositive(murmur2(key)) % partitionCount
      const n = counters.get(topic) ?? 0
      counters.set(topic, n + 1)
      return n % partitionCount
    },
  }
}

/** Named partitioners, as kafkajs exposes `Partitioners`. */
export const Partitioners = {
  DefaultPartitioner: defaultPartitioner,
  RoundRobinPartitioner: roundRobinPartitioner,
} as const
