/**
 * `shardlog produce` (stdin lines) and `shardlog consume` against a real shardlog server over
 * real sockets.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { consumeCommand, formatRecord } from '../../src/cli/commands/console-consumer.js'
import { lineToMessage, parseAcks, produceCommand } from '../../src/cli/commands/console-producer.js'
import { WireAdmin } from '../../src/protocol/client/wire-admin.js'
import { randomName, sharedWireCluster } from '../protocol/client/wire-cluster.js'
import { runCli } from './wire-cli-harness.js'

describe('cli > produce + consume', () => {
  const wire = sharedWireCluster()
  const produce = (stdin: string, ...args: string[]) => runCli(produceCommand, [...args, '--bootstrap', wire.bootstrap], stdin)
  const consume = (...args: string[]) => runCli(consumeCommand, [...args, '--bootstrap', wire.bootstrap])

  async function createTopic(partitions: number): Promise<string> {
    const admin = await WireAdmin.connect(wire.bootstrap)
    onTestFinished(() => admin.close())
    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: partitions }])
    return topic
  }

  it('produces stdin lines and consumes them back from the beginning', async () => {
    const topic = await createTopic(1)
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`)
    expect(await produce(`${lines.join('\n')}\n`, '--topic', topic, '--compression', 'gzip', '--acks', 'all')).toEqual({ stdout: '', stderr: '', exitCode: 0 })
    const run = await consume('--topic', topic, '--from-beginning', '--max-messages', '20')
    expect(run).toEqual({ stdout: `${lines.join('\n')}\n`, stderr: 'Processed a total of 20 messages\n', exitCode: 0 })
  })

  it('splits keys at --key-separator and prints them with --print-key', async () => {
    const topic = await createTopic(3)
    expect((await produce('a:1\nb:2:x\nc:\n', '--topic', topic, '--key-separator', ':', '--acks', '1')).exitCode).toBe(0)
    const run = await consume('--topic', topic, '--from-beginning', '--print-key', '--max-messages', '3')
    expect(run.stdout.trimEnd().split('\n').sort()).toEqual(['a\t1', 'b\t2:x', 'c\t'])
  })

  it('stops with --timeout-ms when no record arrives', async () => {
    const topic = await createTopic(2)
    expect(await consume('--topic', topic, '--timeout-ms', '300')).toEqual({ stdout: '', stderr: 'Processed a total of 0 messages\n', exitCode: 0 })
  })

  it('with --group commits exactly what it printed, so the next run continues there', async () => {
    const topic = await createTopic(1)
    await produce('1\n2\n3\n4\n5\n', '--topic', topic)
    const group = randomName('group')
    expect((await consume('--topic', topic, '--group', group, '--from-beginning', '--max-messages', '2')).stdout).toBe('1\n2\n')
    expect((await consume('--topic', topic, '--group', group, '--from-beginning', '--max-messages', '2')).stdout).toBe('3\n4\n')
    expect((await consume('--topic', topic, '--group', group, '--timeout-ms', '500')).stdout).toBe('5\n')
    const admin = await WireAdmin.connect(wire.bootstrap)
    onTestFinished(() => admin.close())
    expect(await admin.fetchCommittedOffsets(group)).toEqual([{ topic, partition: 0, offset: 5 }])
  })

  it('fails with one error line for a line without the key separator, a missing topic, or bad flags', async () => {
    const topic = await createTopic(1)
    const noSeparator = await produce('k:v\nnovalue\n', '--topic', topic, '--key-separator', ':')
    expect(noSeparator).toMatchObject({ exitCode: 1, stderr: "Error: INVALID_RECORD: No key separator found on line number 2: 'novalue'\n" })
    expect(await consume('--topic', 'no-such-topic', '--timeout-ms', '100')).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: UNKNOWN_TOPIC_OR_PARTITION: /) })
    expect(await produce('', '--topic', topic, '--acks', '2')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('expected -1 (all), 0 or 1') })
    expect(await produce('', '--topic', topic, '--compression', 'brotli')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('brotli') })
  })
})

describe('cli > produce + consume > helpers', () => {
  it('lineToMessage splits at the first separator only', () => {
    expect(lineToMessage('a::b', 1, '::')).toEqual({ key: 'a', value: 'b' })
    expect(lineToMessage('a:b:c', 1, ':')).toEqual({ key: 'a', value: 'b:c' })
    expect(lineToMessage('plain', 1, undefined)).toEqual({ value: 'plain' })
    expect(() => lineToMessage('plain', 7, ':')).toThrow(expect.objectContaining({ code: 'INVALID_RECORD', message: expect.stringContaining('line number 7') }))
  })

  it('parseAcks accepts -1, all, 0 and 1', () => {
    expect(['-1', 'all', '0', '1'].map(parseAcks)).toEqual([-1, -1, 0, 1])
    expect(() => parseAcks('2')).toThrow()
  })

  it('formatRecord prints null keys and values as null', () => {
    const base = { topic: 't', partition: 0, offset: 0, timestamp: 0, headers: [] }
    expect(formatRecord({ ...base, key: null, value: null }, true)).toBe('null\tnull')
    expect(formatRecord({ ...base, key: Buffer.from('k'), value: Buffer.from('v') }, false)).toBe('v')
  })
})
