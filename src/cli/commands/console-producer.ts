/**
 * `shardlog produce --topic t [--key-separator :] [--compression c] [--acks n]`: sends the lines
 * of stdin as records, one record per line, like `kafka-console-producer.sh`. With
 * `--key-separator` each line is `key<sep>value` (Kafka's `parse.key=true` + `key.separator`);
 * a line without the separator stops the command with an error, as Kafka's LineMessageReader
 * does. Works against shardlog or any Kafka bootstrap server.
 */
import { createInterface } from 'node:readline'
import { Command, InvalidArgumentError, Option } from 'commander'
import { InvalidConfigError, InvalidRecordError } from '../../errors.js'
import { WireProducer, type WireMessage } from '../../protocol/client/wire-producer.js'
import { bootstrapOption, processIo, runCommand, type CliIo } from '../cli-common.js'

/** Lines sent before waiting for their acknowledgements: bounds memory on endless input. */
const LINES_PER_WAIT = 1000

const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

/** Parses Kafka's `acks`: -1 or `all`, 0, 1. */
export function parseAcks(value: string): -1 | 0 | 1 {
  if (value === '-1' || value === 'all') return -1
  if (value === '0') return 0
  if (value === '1') return 1
  throw new InvalidArgumentError(`expected -1 (all), 0 or 1, got "${value}"`)
}

/**
 * The record for one input line: the whole line as the value, or with a separator the text
 * before its first occurrence as the key and the rest as the value.
 * @throws InvalidRecordError (INVALID_RECORD) when a separator is given and the line lacks it.
 */
export function lineToMessage(line: string, lineNumber: number, keySeparator: string | undefined): WireMessage {
  if (keySeparator === undefined) return { value: line }
  const at = line.indexOf(keySeparator)
  if (at < 0) throw new InvalidRecordError(`No key separator found on line number ${lineNumber}: '${line}'`)
  return { key: line.slice(0, at), value: line.slice(at + keySeparator.length) }
}

interface ProduceFlags {
  topic: string
  keySeparator?: string
  compression: (typeof COMPRESSIONS)[number]
  acks: -1 | 0 | 1
  bootstrap: string
}

/** The `produce` command. */
export function produceCommand(io: CliIo = processIo): Command {
  return new Command('produce')
    .description('send each line of stdin as a record (like kafka-console-producer.sh)')
    .requiredOption('--topic <name>', 'topic to send to')
    .option('--key-separator <sep>', 'split each line into key<sep>value')
    .addOption(new Option('--compression <codec>', 'compression.type').choices(COMPRESSIONS).default('none'))
    .option('--acks <acks>', 'acks: -1 (all), 0 or 1', parseAcks, -1)
    .addOption(bootstrapOption())
    .action((flags: ProduceFlags) => runCommand(io, () => produceLines(io.stdin, flags)))
}

async function produceLines(input: NodeJS.ReadableStream, flags: ProduceFlags): Promise<void> {
  if (flags.keySeparator === '') throw new InvalidConfigError('--key-separator must not be empty')
  const producer = await WireProducer.create(flags.bootstrap, { acks: flags.acks, compression: flags.compression })
  let failure: unknown
  const pending: Array<Promise<unknown>> = []
  const onFailure = (err: unknown): void => { failure ??= err }
  try {
    // The topic is looked up (or auto-created, where the broker allows it, as Kafka's producer
    // asks) before any input is read, so a missing topic fails at once.
    await producer.client.topicMetadata([flags.topic], { allowAutoTopicCreation: true })
    const lines = createInterface({ input, crlfDelay: Infinity })
    let lineNumber = 0
    for await (const line of lines) {
      lineNumber++
      const message = lineToMessage(line, lineNumber, flags.keySeparator)
      pending.push(producer.send(flags.topic, [message]).catch(onFailure))
      if (pending.length >= LINES_PER_WAIT) await Promise.all(pending.splice(0))
      if (failure !== undefined) break
    }
    await Promise.all(pending)
  } finally {
    await producer.close().catch(onFailure)
  }
  if (failure !== undefined) throw failure
}
