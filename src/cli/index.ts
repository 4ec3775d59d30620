/**
 * The `shardlog` command. Each subcommand lives in `commands/`; this file only wires them.
 */
import { Command } from 'commander'
import { demoCommand } from './commands/demo.js'
import { dumpLogCommand } from './commands/dump-log.js'
import { serverCommand } from './commands/server.js'
import { topicsCommand } from './commands/topics.js'
import { produceCommand } from './commands/console-producer.js'
import { consumeCommand } from './commands/console-consumer.js'
import { groupsCommand } from './commands/consumer-groups.js'
import { perfCommand } from './commands/perf.js'
import { createPerfTarget } from '../perf/targets/index.js'

/** Builds the command tree. */
export function buildProgram(): Command {
  const program = new Command('shardlog')
    .description('A Kafka-compatible streaming log engine for Node.js')
    .version('0.1.0')
  program.addCommand(demoCommand())
  program.addCommand(serverCommand())
  program.addCommand(topicsCommand())
  program.addCommand(produceCommand())
  program.addCommand(consumeCommand())
  program.addCommand(groupsCommand())
  program.addCommand(perfCommand(createPerfTarget))
  program.addCommand(dumpLogCommand())
  return program
}

/** Runs the CLI with `argv` (as process.argv). */
export async function main(argv: string[]): Promise<void> {
  await buildProgram().parseAsync(argv)
}
