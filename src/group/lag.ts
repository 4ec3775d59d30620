/**
 * Consumer LAG, as `kafka-consumer-groups --describe` prints it: per partition, the log end
 * (the high watermark: the last offset a consumer can read, plus one) minus the group's committed
 * offset, and the group's total.
 *
 * A partition appears if the group committed an offset for it or a member of a Stable group is
 * assigned it. With nothing committed, CURRENT-OFFSET and LAG are unknown (Kafka's tool prints
 * "-"): they are null here and do not count in the total. A committed offset past the high
 * watermark (e.g. after a truncation) gives a negative lag, which is reported as it is.
 */
import { UnknownServerError } from '../errors.js'
import type { GroupCoordinator } from './group-coordinator.js'
import { throwIfError } from './group-coordinator.js'
import type { GroupState } from './group-metadata.js'
import { partitionKey } from '../topic-partition.js'

/** Port to the partitions' high watermarks (ListOffsets latest, read_uncommitted). */
export type HighWatermarkPort = (topic: string, partition: number) => Promise<number>

/** One row of the lag report. */
export interface PartitionLag {
  topic: string
  partition: number
  /** The committed offset (the next offset the group will read), or null when none is committed. */
  currentOffset: number | null
  /** The partition's high watermark, or null when not known. */
  logEndOffset: number | null
  /** `logEndOffset - currentOffset`, or null when either is unknown. */
  lag: number | null
  /** The member consuming the partition (Stable groups), or null. */
  memberId: string | null
  groupInstanceId: string | null
  clientId: string | null
  host: string | null
}

/** Input of {@link computeLag}. */
export interface LagInput {
  /** Committed offsets; an offset of -1 means nothing is committed. */
  committed: ReadonlyArray<{ topic: string; partition: number; offset: number }>
  /** High watermarks of the partitions to report. */
  highWatermarks: ReadonlyArray<{ topic: string; partition: number; highWatermark: number }>
  /** Which member consumes which partition. */
  owners?: ReadonlyArray<{ topic: string; partition: number; memberId: string; groupInstanceId: string | null; clientId: string; host: string }>
}

/** The lag rows, sorted by topic and partition, and the sum of the known lags. */
export interface LagReport {
  partitions: PartitionLag[]
  totalLag: number
}

/** A group's lag report, with its state. */
export interface GroupLag extends LagReport {
  groupId: string
  state: GroupState | ''
}

/**
 * Computes per-partition and total lag from committed offsets and high watermarks (pure).
 * Rows are the union of the partitions named in any of the inputs.
 */
export function computeLag(input: LagInput): LagReport {
  const rows = new Map<string, PartitionLag>()
  const row = (topic: string, partition: number): PartitionLag => {
    const key = partitionKey(topic, partition)
    let r = rows.get(key)
    if (r === undefined) {
      r = { topic, partition, currentOffset: null, logEndOffset: null, lag: null, memberId: null, groupInstanceId: null, clientId: null, host: null }
      rows.set(key, r)
    }
    return r
  }
  for (const c of input.committed) {
    const r = row(c.topic, c.partition)
    if (c.offset >= 0) r.currentOffset = c.offset
  }
  for (const h of input.highWatermarks) row(h.topic, h.partition).logEndOffset = h.highWatermark
  for (const o of input.owners ?? []) {
    const r = row(o.topic, o.partition)
    r.memberId = o.memberId
    r.groupInstanceId = o.groupInstanceId
    r.clientId = o.clientId
    r.host = o.host
  }
  let totalLag = 0
  for (const r of rows.values()) {
    if (r.currentOffset !== null && r.logEndOffset !== null) {
      r.lag = r.logEndOffset - r.currentOffset
      totalLag += r.lag
    }
  }
  const partitions = [...rows.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition))
  return { partitions, totalLag }
}

/**
 * The lag report of `groupId`: its committed offsets and, for a Stable consumer group, its
 * members' assignments, with the high watermarks read through `highWatermark`. Throws the typed
 * error if the coordinator cannot describe the group (e.g. it is still loading).
 */
export async function describeGroupLag(coordinator: GroupCoordinator, groupId: string, highWatermark: HighWatermarkPort): Promise<GroupLag> {
  const [described] = coordinator.describeGroups([groupId])
  if (described === undefined) throw new UnknownServerError(`describeGroups gave no answer for group ${groupId}`)
  throwIfError(described.errorCode, `describe group ${groupId}`)
  const fetched = coordinator.fetchOffsets({ groupId, topics: null })
  throwIfError(fetched.errorCode, `fetch offsets of group ${groupId}`)
  const committed = fetched.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset })))
  const owners = described.members.flatMap((m) => (m.assignment ?? []).flatMap((tp) => tp.partitions.map((partition) => ({
    topic: tp.topic, partition, memberId: m.memberId, groupInstanceId: m.groupInstanceId, clientId: m.clientId, host: m.clientHost,
  }))))
  const keys = new Map<string, { topic: string; partition: number }>()
  for (const p of [...committed, ...owners]) keys.set(partitionKey(p.topic, p.partition), { topic: p.topic, partition: p.partition })
  const highWatermarks = await Promise.all([...keys.values()].map(async ({ topic, partition }) => ({ topic, partition, highWatermark: await highWatermark(topic, partition) })))
  return { groupId, state: described.groupState, ...computeLag({ committed, highWatermarks, owners }) }
}
