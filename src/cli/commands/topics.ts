/**
 * `shardlog topics create|list|describe|alter|delete`: topic administration over the Kafka
 * protocol, like `kafka-topics.sh` (plus `kafka-configs.sh --alter` for topic configs), against
 * shardlog or any Kafka bootstrap server.
 *
 * ```
 * shardlog topics create   --topic t --partitions 3 [--replication-factor 1] [--config retention.ms=3600000]...
 * shardlog topics list     [--exclude-internal]
 * shardlog topics describe [--topic t]
 * shardlog topics alter    --topic t [--partitions 6] [--config k=v]... [--delete-config k]...
 * shardlog topics delete   --topic t
 * ```
 */
import { Command } from 'commander'
import {
  bootstrapOption, collectConfig, collectList, formatTable, integerAtLeast, processIo, runCommand, withAdmin,
  type CliIo, type CommonFlags,
} from '../cli-common.js'
import { InvalidRequestError, isShardlogError } from '../../errors.js'
import { CONFIG_SOURCE_DYNAMIC_TOPIC, WireAdmin, type PartitionOffsetRange } from '../../protocol/client/wire-admin.js'

/** The `topics` command with its subcommands. */
export function topicsCommand(io: CliIo = processIo): Command {
  const topics = new Command('topics').description('create, list, describe, alter and delete topics (like kafka-topics.sh)')

  topics.command('create')
    .description('create a topic')
    .requiredOption('--topic <name>', 'topic name')
    .option('--partitions <n>', 'number of partitions (default: the broker\'s num.partitions)', integerAtLeast(1))
    .option('--replication-factor <n>', 'copies of each partition (default: the broker\'s default.replication.factor)', integerAtLeast(1))
    .option('--config <name=value>', 'a topic config, e.g. retention.ms=3600000 (repeatable)', collectConfig)
    .option('--if-not-exists', 'succeed quietly when the topic already exists', false)
    .addOption(bootstrapOption())
    .action((flags: CommonFlags & { topic: string; partitions?: number; replicationFactor?: number; config?: Record<string, string>; ifNotExists: boolean }) =>
      runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
        try {
          await admin.createTopics([{ name: flags.topic, numPartitions: flags.partitions, replicationFactor: flags.replicationFactor, configs: flags.config }])
        } catch (err) {
          if (flags.ifNotExists && isShardlogError(err) && err.code === 'TOPIC_ALREADY_EXISTS') return
          throw err
        }
        io.stdout.write(`Created topic ${flags.topic}.\n`)
      })))

  topics.command('list')
    .description('list topic names')
    .option('--exclude-internal', 'leave out internal topics such as __consumer_offsets', false)
    .addOption(bootstrapOption())
    .action((flags: CommonFlags & { excludeInternal: boolean }) =>
      runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
        for (const name of await admin.listTopics({ includeInternal: !flags.excludeInternal })) io.stdout.write(`${name}\n`)
      })))

  topics.command('describe')
    .description('show partitions, leaders, replicas, ISR and offsets of a topic (all topics without --topic)')
    .option('--topic <name>', 'topic name')
    .addOption(bootstrapOption())
    .action((flags: CommonFlags & { topic?: string }) =>
      runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
        const names = flags.topic !== undefined ? [flags.topic] : await admin.listTopics({ includeInternal: false })
        for (const name of names) for (const line of await describeTopic(admin, name)) io.stdout.write(`${line}\n`)
      })))

  topics.command('alter')
    .description('raise the partition count and/or change topic configs')
    .requiredOption('--topic <name>', 'topic name')
    .option('--partitions <n>', 'new partition count (can only grow)', integerAtLeast(1))
    .option('--config <name=value>', 'set a topic config (repeatable)', collectConfig)
    .option('--delete-config <name>', 'remove a topic config, back to its default (repeatable)', collectList)
    .addOption(bootstrapOption())
    .action((flags: CommonFlags & { topic: string; partitions?: number; config?: Record<string, string>; deleteConfig?: string[] }) =>
      runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
        const changes: Record<string, string | null> = { ...flags.config }
        for (const name of flags.deleteConfig ?? []) changes[name] = null
        if (flags.partitions === undefined && Object.keys(changes).length === 0) {
          throw new InvalidRequestError('nothing to alter: give --partitions, --config or --delete-config')
        }
        if (flags.partitions !== undefined) {
          const [before] = await admin.describeTopics([flags.topic])
          await admin.createPartitions(flags.topic, flags.partitions)
          io.stdout.write(`Altered topic ${flags.topic}: partitions ${before?.partitions.length ?? '?'} -> ${flags.partitions}.\n`)
        }
        if (Object.keys(changes).length > 0) {
          await admin.alterTopicConfigs(flags.topic, changes)
          io.stdout.write(`Completed updating config for topic ${flags.topic}.\n`)
        }
      })))

  topics.command('delete')
    .description('delete a topic and its data')
    .requiredOption('--topic <name>', 'topic name')
    .addOption(bootstrapOption())
    .action((flags: CommonFlags & { topic: string }) =>
      runCommand(io, () => withAdmin(flags.bootstrap, async (admin) => {
        await admin.deleteTopics([flags.topic])
        io.stdout.write(`Deleted topic ${flags.topic}.\n`)
      })))

  return topics
}

/**
 * The lines of `topics describe` for one topic: Kafka's summary line (topic id, partition
 * count, replication factor, configs set on the topic), then a table of partitions with
 * leader, replicas, ISR, log start offset and high watermark.
 */
export async function describeTopic(admin: WireAdmin, name: string): Promise<string[]> {
  const [metadata] = await admin.describeTopics([name])
  if (metadata === undefined) return []
  const [offsets, configs] = await Promise.all([
    // A partition without a leader has no offsets to show; its row says '-' instead of failing the describe.
    admin.topicOffsets(name).catch((): PartitionOffsetRange[] => []),
    admin.describeTopicConfigs(name),
  ])
  const overrides = configs
    .filter((c) => c.source === CONFIG_SOURCE_DYNAMIC_TOPIC)
    .map((c) => `${c.name}=${c.isSensitive ? '<sensitive>' : c.value ?? ''}`)
    .join(',')
  const replicationFactor = metadata.partitions[0]?.replicas.length ?? 0
  const summary = `Topic: ${name}\tTopicId: ${metadata.topicId}\tPartitionCount: ${metadata.partitions.length}\tReplicationFactor: ${replicationFactor}\tConfigs: ${overrides}`
  const rows = [['TOPIC', 'PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'HIGH-WATERMARK']]
  for (const p of metadata.partitions) {
    const o = offsets.find((x) => x.partition === p.partition)
    rows.push([
      name,
      String(p.partition),
      p.leader < 0 ? 'none' : String(p.leader),
      p.replicas.join(','),
      p.isr.join(','),
      o === undefined ? '-' : String(o.logStartOffset),
      o === undefined ? '-' : String(o.highWatermark),
    ])
  }
  return [summary, ...formatTable(rows)]
}
