/**
 * `shardlog groups list|describe|reset-offsets|delete`: consumer-group administration over the
 * Kafka protocol, with the output and rules of Kafka's `kafka-consumer-groups.sh`
 * (ConsumerGroupCommand):
 *
 * - `describe <group>` prints `GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG
 *   CONSUMER-ID HOST CLIENT-ID` in Kafka's column layout: members with assignments first (most
 *   partitions first), then partitions with a committed offset and no member; `-` marks a
 *   missing value. "has no active members" / "is rebalancing" go to stderr, as Kafka does.
 * - `reset-offsets <group> --topic t[:p,...] (--to-earliest | --to-latest | --to-offset N |
 *   --shift-by N | --to-datetime ISO) [--execute]` prints `GROUP TOPIC PARTITION NEW-OFFSET`;
 *   it is a dry run unless `--execute`, and is refused while the group has active members
 *   (Kafka's rule: only Empty or Dead groups). `--to-offset` and `--shift-by` are clamped to
 *   the partition's [log start, log end], as Kafka's `checkOffsetsRange` does.
 * - `delete <group>` deletes a group without members (DeleteGroups).
 */
import { Command, InvalidArgumentError } from 'commander'
import { GroupIdNotFoundError, InvalidRequestError, NonEmptyGroupError } from '../../errors.js'
import { decodeAssignment } from '../../group/consumer-protocol.js'
import {
  OffsetSpec, comparePartitions, type GroupDescription, type PartitionOffset, type WireAdmin,
} from '../../protocol/client/wire-admin.js'
import { bootstrapOption, collectList, integerAtLeast, processIo, runCommand, withAdmin, type CliIo } from '../cli-common.js'
import { partitionKey } from '../../topic-partition.js'

/** Kafka's MISSING_COLUMN_VALUE. */
const MISSING = '-'

/** One row of `groups describe` (Kafka's PartitionAssignmentState). */
export interface GroupOffsetRow {
  group: string
  topic: string | null
  partition: number | null
  currentOffset: number | null
  logEndOffset: number | null
  lag: number | null
  consumerId: string | null
  host: string | null
  clientId: string | null
}

/** The result of describing a group: its state and rows. */
export interface GroupOffsetsReport {
  state: string
  rows: GroupOffsetRow[]
}

/** How `reset-offsets` chooses the new offsets (exactly one). */
export type ResetScenario =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'offset'; offset: number }
  | { kind: 'shift'; by: number }
  | { kind: 'datetime'; timestampMs: number }

interface CommonFlags {
  bootstrap: string
}

interface ResetFlags extends CommonFlags {
  topic?: string[]
  allTopics: boolean
  toEarliest: boolean
  toLatest: boolean
  toOffset?: number
  shiftBy?: number
  toDatetime?: number
  execute: boolean
  dryRun: boolean
}

/** The `groups` command with its subcommands. */
export function groupsCommand(io: CliIo = processIo): Command {
  const groups = new Command('groups').description('list, describe, reset and delete consumer groups (like kafka-consumer-groups.sh)')

  groups.command('list')
    .description('list consumer groups')
    .addOption(bootstrapOption())
    .action((flags: CommonFlags) => runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
      for (const g of await admin.listGroups()) {
        if (g.protocolType === '' || g.protocolType === 'consumer') io.stdout.write(`${g.groupId}\n`)
      }
    })))

  groups.command('describe')
    .description('show committed offsets, log end offsets, LAG and owners of every partition of a group')
    .argument('<group>', 'group id')
    .addOption(bootstrapOption())
    .action((group: string, flags: CommonFlags) => runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
      const report = await collectGroupOffsets(admin, group)
      if (report.state === 'Dead') throw new GroupIdNotFoundError(`Consumer group '${group}' does not exist.`)
      if (report.state === 'Empty') io.stderr.write(`\nConsumer group '${group}' has no active members.\n`)
      if (report.state === 'PreparingRebalance' || report.state === 'CompletingRebalance') io.stderr.write(`\nWarning: Consumer group '${group}' is rebalancing.\n`)
      if (report.rows.length === 0) return
      io.stdout.write(`\n${formatGroupOffsets(report.rows).join('\n')}\n`)
    })))

  groups.command('reset-offsets')
    .description('reset the committed offsets of an inactive group (dry run unless --execute)')
    .argument('<group>', 'group id')
    .option('--topic <topic[:partitions]>', 'topic, or topic:0,1,2 for some partitions (repeatable)', collectList)
    .option('--all-topics', 'every partition the group has committed offsets for', false)
    .option('--to-earliest', 'reset to the log start offset', false)
    .option('--to-latest', 'reset to the log end offset', false)
    .option('--to-offset <n>', 'reset to this offset', integerAtLeast(0))
    .option('--shift-by <n>', 'move the committed offset by n (may be negative)', integerAtLeast(Number.MIN_SAFE_INTEGER))
    .option('--to-datetime <iso>', 'reset to the first offset at or after this time (e.g. 2024-01-31T12:00:00.000Z)', parseDatetime)
    .option('--execute', 'apply the new offsets (default: only show them)', false)
    .option('--dry-run', 'only show the new offsets (the default)', false)
    .addOption(bootstrapOption())
    .action((group: string, flags: ResetFlags) => runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
      const scenario = resetScenarioOf(flags)
      const execute = flags.execute && !flags.dryRun
      const offsets = await resetGroupOffsets(admin, group, { topics: flags.topic ?? [], allTopics: flags.allTopics, scenario, execute })
      io.stdout.write(`${formatResetPlan(group, offsets).join('\n')}\n`)
    })))

  groups.command('delete')
    .description('delete a consumer group without active members')
    .argument('<group>', 'group id')
    .addOption(bootstrapOption())
    .action((group: string, flags: CommonFlags) => runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
      await admin.deleteGroup(group)
      io.stdout.write(`Deletion of requested consumer groups ('${group}') was successful.\n`)
    })))

  return groups
}

/**
 * The rows of `describe` for a group, built as Kafka's `collectGroupOffsets`: each member with
 * an assignment (most partitions first) gets a row per assigned partition; members without
 * partitions get one row of `-`; partitions with a committed offset and no owner follow.
 */
export async function collectGroupOffsets(admin: WireAdmin, groupId: string): Promise<GroupOffsetsReport> {
  const description = await admin.describeGroup(groupId)
  if (description.state === 'Dead') return { state: 'Dead', rows: [] }
  const committed = await admin.fetchCommittedOffsets(groupId)
  const committedOf = new Map(committed.map((c) => [partitionKey(c.topic, c.partition), c.offset]))
  const members = membersWithAssignments(description).sort((a, b) => b.partitions.length - a.partitions.length)
  const assigned = new Set<string>()
  const pending: Array<Omit<GroupOffsetRow, 'logEndOffset' | 'lag' | 'currentOffset'>> = []
  for (const m of members) {
    if (m.partitions.length === 0) {
      pending.push({ group: groupId, topic: null, partition: null, consumerId: m.memberId, host: m.clientHost, clientId: m.clientId })
      continue
    }
    for (const tp of [...m.partitions].sort((a, b) => a.partition - b.partition || (a.topic < b.topic ? -1 : 1))) {
      assigned.add(partitionKey(tp.topic, tp.partition))
      pending.push({ group: groupId, topic: tp.topic, partition: tp.partition, consumerId: m.memberId, host: m.clientHost, clientId: m.clientId })
    }
  }
  for (const c of [...committed].sort(comparePartitions)) {
    if (assigned.has(partitionKey(c.topic, c.partition))) continue
    pending.push({ group: groupId, topic: c.topic, partition: c.partition, consumerId: MISSING, host: MISSING, clientId: MISSING })
  }
  const logEnd = await logEndOffsets(admin, pending.filter((r) => r.topic !== null) as Array<{ topic: string; partition: number }>)
  const rows = pending.map((r): GroupOffsetRow => {
    if (r.topic === null || r.partition === null) return { ...r, currentOffset: null, logEndOffset: null, lag: null }
    const k = partitionKey(r.topic, r.partition)
    const currentOffset = committedOf.get(k) ?? null
    const logEndOffset = logEnd.get(k) ?? null
    const lag = currentOffset !== null && logEndOffset !== null ? logEndOffset - currentOffset : null
    return { ...r, currentOffset, logEndOffset, lag }
  })
  return { state: description.state, rows }
}

/** Kafka's describe layout: `\n%-Gs %-Ts %-10s %-15s %-15s %-15s %-Cs %-Hs %s`, G/T/C/H at least 15. */
export function formatGroupOffsets(rows: readonly GroupOffsetRow[]): string[] {
  const show = (v: string | number | null): string => (v === null ? MISSING : String(v))
  const widthOf = (pick: (r: GroupOffsetRow) => string | null): number => Math.max(15, ...rows.map((r) => show(pick(r)).length))
  const widths = [widthOf((r) => r.group), widthOf((r) => r.topic), 10, 15, 15, 15, widthOf((r) => r.consumerId), widthOf((r) => r.host)]
  const line = (cells: string[]): string => cells.map((c, i) => (i < widths.length ? c.padEnd(widths[i] as number) : c)).join(' ')
  return [
    line(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']),
    ...rows.map((r) => line([r.group, show(r.topic), show(r.partition), show(r.currentOffset), show(r.logEndOffset), show(r.lag), show(r.consumerId), show(r.host), show(r.clientId)])),
  ]
}

/**
 * Computes (and with `execute` commits) new offsets for a group, as Kafka's `resetOffsets`.
 * Throws NON_EMPTY_GROUP while the group has active members.
 */
export async function resetGroupOffsets(admin: WireAdmin, groupId: string, options: {
  topics: readonly string[]
  allTopics: boolean
  scenario: ResetScenario
  execute: boolean
}): Promise<PartitionOffset[]> {
  const description = await admin.describeGroup(groupId)
  if (description.state !== 'Empty' && description.state !== 'Dead') {
    throw new NonEmptyGroupError(`Assignments can only be reset if the group '${groupId}' is inactive, but the current state is ${description.state}.`)
  }
  const partitions = await partitionsToReset(admin, groupId, options.topics, options.allTopics)
  const planned = await plannedOffsets(admin, groupId, partitions, options.scenario)
  if (options.execute) await admin.commitGroupOffsets(groupId, planned)
  return planned
}

/** Kafka's reset table: `\n%-30s %-30s %-10s %-15s` per row (trailing spaces trimmed). */
export function formatResetPlan(groupId: string, offsets: readonly PartitionOffset[]): string[] {
  const line = (cells: string[]): string => `${cells[0]!.padEnd(30)} ${cells[1]!.padEnd(30)} ${cells[2]!.padEnd(10)} ${cells[3]!}`.trimEnd()
  return ['', line(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET']), ...offsets.map((o) => line([groupId, o.topic, String(o.partition), String(o.offset)]))]
}

/** Parses `--to-datetime`: ISO-8601 (`2024-01-31T12:00:00.000`, local time without a zone, as Kafka). */
export function parseDatetime(value: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(value) ? Date.parse(value) : NaN
  if (!Number.isFinite(ms)) throw new InvalidArgumentError(`expected an ISO-8601 date-time such as 2024-01-31T12:00:00.000Z, got "${value}"`)
  return ms
}

function resetScenarioOf(flags: ResetFlags): ResetScenario {
  const chosen: ResetScenario[] = []
  if (flags.toEarliest) chosen.push({ kind: 'earliest' })
  if (flags.toLatest) chosen.push({ kind: 'latest' })
  if (flags.toOffset !== undefined) chosen.push({ kind: 'offset', offset: flags.toOffset })
  if (flags.shiftBy !== undefined) chosen.push({ kind: 'shift', by: flags.shiftBy })
  if (flags.toDatetime !== undefined) chosen.push({ kind: 'datetime', timestampMs: flags.toDatetime })
  if (chosen.length !== 1) {
    throw new InvalidRequestError('give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime')
  }
  if ((flags.topic === undefined || flags.topic.length === 0) && !flags.allTopics) {
    throw new InvalidRequestError('one of the reset scopes should be defined: --all-topics, --topic')
  }
  return chosen[0] as ResetScenario
}

interface MemberPartitions {
  memberId: string
  clientId: string
  clientHost: string
  partitions: Array<{ topic: string; partition: number }>
}

function membersWithAssignments(description: GroupDescription): MemberPartitions[] {
  return description.members.map((m) => {
    let partitions: Array<{ topic: string; partition: number }> = []
    if (description.protocolType === 'consumer' && m.assignment.length > 0) {
      try {
        partitions = decodeAssignment(m.assignment).assignedPartitions.flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition })))
      } catch {
        // A member whose assignment is not a consumer assignment is shown without partitions.
      }
    }
    return { memberId: m.memberId, clientId: m.clientId, clientHost: m.clientHost, partitions }
  })
}

/** Log end offsets by partition; partitions of a topic that cannot be listed (deleted, no leader) stay unknown (`-`). */
async function logEndOffsets(admin: WireAdmin, partitions: ReadonlyArray<{ topic: string; partition: number }>): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const byTopic = new Map<string, Array<{ topic: string; partition: number }>>()
  for (const p of partitions) {
    const list = byTopic.get(p.topic) ?? []
    list.push(p)
    byTopic.set(p.topic, list)
  }
  await Promise.all([...byTopic.values()].map(async (list) => {
    try {
      for (const o of await admin.listOffsets(list, OffsetSpec.LATEST)) out.set(partitionKey(o.topic, o.partition), o.offset)
    } catch {
      // Kafka's tool shows such partitions with '-' as well (LogOffsetResult.Unknown).
    }
  }))
  return out
}

/** `--topic t` (every partition), `--topic t:0,2` (those), or `--all-topics` (what the group committed). */
async function partitionsToReset(admin: WireAdmin, groupId: string, topics: readonly string[], allTopics: boolean): Promise<Array<{ topic: string; partition: number }>> {
  if (allTopics) return (await admin.fetchCommittedOffsets(groupId)).map((c) => ({ topic: c.topic, partition: c.partition }))
  const out: Array<{ topic: string; partition: number }> = []
  for (const arg of topics) {
    const colon = arg.indexOf(':')
    if (colon < 0) {
      const [metadata] = await admin.describeTopics([arg])
      for (const p of metadata?.partitions ?? []) out.push({ topic: arg, partition: p.partition })
      continue
    }
    const topic = arg.slice(0, colon)
    for (const part of arg.slice(colon + 1).split(',')) {
      if (!/^\d+$/.test(part)) throw new InvalidRequestError(`Invalid partition '${part}' specified in topic arg '${arg}'`)
      out.push({ topic, partition: Number(part) })
    }
  }
  const seen = new Set<string>()
  return out.filter((p) => {
    const k = partitionKey(p.topic, p.partition)
    if (seen.has(k)) return false
    seen.add(k)
    return true
  }).sort(comparePartitions)
}

async function plannedOffsets(admin: WireAdmin, groupId: string, partitions: ReadonlyArray<{ topic: string; partition: number }>, scenario: ResetScenario): Promise<PartitionOffset[]> {
  switch (scenario.kind) {
    case 'earliest':
      return admin.listOffsets(partitions, OffsetSpec.EARLIEST)
    case 'latest':
      return admin.listOffsets(partitions, OffsetSpec.LATEST)
    case 'offset':
      return clampToLog(admin, partitions.map((p) => ({ ...p, offset: scenario.offset })))
    case 'shift': {
      const committed = new Map((await admin.fetchCommittedOffsets(groupId, partitions)).map((c) => [partitionKey(c.topic, c.partition), c.offset]))
      return clampToLog(admin, partitions.map((p) => {
        const current = committed.get(partitionKey(p.topic, p.partition))
        if (current === undefined) throw new InvalidRequestError(`Cannot shift offset for partition ${p.topic}-${p.partition} since there is no current committed offset`)
        return { ...p, offset: current + scenario.by }
      }))
    }
    case 'datetime': {
      const found = await admin.listOffsets(partitions, scenario.timestampMs)
      // No record at or after the time: Kafka falls back to the log end offset.
      const missing = found.filter((o) => o.offset < 0)
      const ends = await admin.listOffsets(missing, OffsetSpec.LATEST)
      const endOf = new Map(ends.map((e) => [partitionKey(e.topic, e.partition), e.offset]))
      return found.map((o) => (o.offset >= 0 ? o : { ...o, offset: endOf.get(partitionKey(o.topic, o.partition)) as number }))
    }
  }
}

/** Kafka's checkOffsetsRange: an offset past the log end becomes the log end, one before the log start the log start. */
async function clampToLog(admin: WireAdmin, requested: readonly PartitionOffset[]): Promise<PartitionOffset[]> {
  const [starts, ends] = await Promise.all([admin.listOffsets(requested, OffsetSpec.EARLIEST), admin.listOffsets(requested, OffsetSpec.LATEST)])
  return requested.map((r, i) => ({ ...r, offset: Math.min(Math.max(r.offset, (starts[i] as PartitionOffset).offset), (ends[i] as PartitionOffset).offset) }))
}
