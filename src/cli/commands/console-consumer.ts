/**
 * `shardlog consume --topic t [--from-beginning] [--group g] [--max-messages N] [--print-key]
 * [--timeout-ms T]`: prints record values one per line, like `kafka-console-consumer.sh`.
 *
 * - Without `--group` it reads every partition on its own and commits nothing; with one it
 *   joins the group, starts at the group's committed offsets and commits what it printed when
 *   it stops (exactly up to the last printed record, even when `--max-messages` stops it in
 *   the middle of a fetched batch).
 * - `--from-beginning` starts at the earliest offset where there is no committed offset
 *   (Kafka's `auto.offset.reset=earliest`); otherwise only new records are printed.
 * - `--print-key` prints `key<TAB>value` (Kafka's `print.key=true`); null prints as `null`.
 * - It stops after `--max-messages` records, after `--timeout-ms` without a record (Kafka's
 *   `--timeout-ms`, not an error), or on SIGINT, and then reports "Processed a total of N
 *   messages" on stderr, as Kafka's tool does.
 */
import { Command } from 'commander'
import { WireConsumer, type ConsumedRecord } from '../../protocol/client/wire-consumer.js'
import { bootstrapOption, integerAtLeast, processIo, runCommand, type CliIo } from '../cli-common.js'

interface ConsumeFlags {
  topic: string
  fromBeginning: boolean
  group?: string
  maxMessages?: number
  printKey: boolean
  timeoutMs?: number
  bootstrap: string
}

/** How a record is printed: its value, or `key<TAB>value` with `--print-key`. */
export function formatRecord(record: ConsumedRecord, printKey: boolean): string {
  const value = record.value === null ? 'null' : record.value.toString('utf8')
  if (!printKey) return value
  return `${record.key === null ? 'null' : record.key.toString('utf8')}\t${value}`
}

/** The `consume` command. */
export function consumeCommand(io: CliIo = processIo): Command {
  return new Command('consume')
    .description('print the records of a topic, one value per line (like kafka-console-consumer.sh)')
    .requiredOption('--topic <name>', 'topic to read')
    .option('--from-beginning', 'start at the earliest offset when there is no committed offset', false)
    .option('--group <id>', 'consumer group to join; commits what was printed')
    .option('--max-messages <n>', 'stop after this many records', integerAtLeast(1))
    .option('--print-key', 'print key<TAB>value', false)
    .option('--timeout-ms <ms>', 'stop after this long without a record', integerAtLeast(1))
    .addOption(bootstrapOption())
    .action((flags: ConsumeFlags) => runCommand(io, () => consume(io, flags)))
}

async function consume(io: CliIo, flags: ConsumeFlags): Promise<void> {
  const consumer = await WireConsumer.create(flags.bootstrap, {
    groupId: flags.group,
    autoOffsetReset: flags.fromBeginning ? 'earliest' : 'latest',
    // Commits are explicit: exactly what was printed, when the command stops.
    autoCommit: false,
  })
  let printed = 0
  let finish!: () => void
  const finished = new Promise<void>((resolve) => { finish = resolve })
  let idleTimer: NodeJS.Timeout | undefined
  const armIdleTimer = (): void => {
    if (flags.timeoutMs === undefined) return
    if (idleTimer !== undefined) clearTimeout(idleTimer)
    idleTimer = setTimeout(finish, flags.timeoutMs)
  }
  const onSigint = (): void => finish()
  process.once('SIGINT', onSigint)
  let failure: unknown
  try {
    consumer.subscribe([flags.topic])
    await consumer.run({
      eachBatch: (batch) => {
        if (printed === flags.maxMessages) {
          // Already done: records fetched meanwhile stay unconsumed (and uncommitted).
          consumer.markConsumed(batch.topic, batch.partition, (batch.records[0] as ConsumedRecord).offset)
          return
        }
        for (const record of batch.records) {
          io.stdout.write(`${formatRecord(record, flags.printKey)}\n`)
          printed++
          if (printed === flags.maxMessages) {
            // Stop mid-batch: the commit covers the records printed, not the rest of the batch.
            consumer.markConsumed(record.topic, record.partition, record.offset + 1)
            finish()
            return
          }
        }
        armIdleTimer()
      },
    })
    armIdleTimer()
    // The loop may also end by itself, on a fatal error.
    await Promise.race([finished, consumer.done()])
  } catch (err) {
    failure = err
  } finally {
    process.off('SIGINT', onSigint)
    if (idleTimer !== undefined) clearTimeout(idleTimer)
  }
  try {
    if (flags.group !== undefined && failure === undefined) await consumer.commit()
  } finally {
    await consumer.close({ commit: false })
  }
  if (failure !== undefined) throw failure
  io.stderr.write(`Processed a total of ${printed} messages\n`)
}
