/**
 * `shardlog topics` against a real shardlog server over real sockets.
 */
import { describe, expect, it } from 'vitest'
import { formatCliError, formatTable } from '../../src/cli/cli-common.js'
import { topicsCommand } from '../../src/cli/commands/topics.js'
import { UnknownTopicOrPartitionError } from '../../src/errors.js'
import { randomName, sharedWireCluster } from '../protocol/client/wire-cluster.js'
import { runCli } from './wire-cli-harness.js'

describe('cli > topics', () => {
  const wire = sharedWireCluster()
  const topics = (...args: string[]) => runCli(topicsCommand, [...args, '--bootstrap', wire.bootstrap])

  it('create, list, describe, alter and delete a topic', async () => {
    const topic = randomName()
    expect(await topics('create', '--topic', topic, '--partitions', '3', '--replication-factor', '1', '--config', 'retention.ms=3600000'))
      .toEqual({ stdout: `Created topic ${topic}.\n`, stderr: '', exitCode: 0 })
    expect((await topics('list')).stdout.split('\n')).toContain(topic)

    const described = await topics('describe', '--topic', topic)
    expect(described.exitCode).toBe(0)
    const lines = described.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^Topic: ${topic}\\tTopicId: \\S{22}\\tPartitionCount: 3\\tReplicationFactor: 1\\tConfigs: retention.ms=3600000$`))
    expect(lines[1]!.split(/\s+/)).toEqual(['TOPIC', 'PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'HIGH-WATERMARK'])
    expect(lines.slice(2).map((l) => l.split(/\s+/))).toEqual([0, 1, 2].map((p) => [topic, String(p), '0', '0', '0', '0', '0']))
    // Aligned: every column starts at the same position on every line.
    const starts = (line: string) => [...line.matchAll(/(?<=^|\s)\S/g)].map((m) => m.index)
    expect(new Set(lines.slice(1).map((l) => starts(l).join(','))).size).toBe(1)

    expect(await topics('alter', '--topic', topic, '--partitions', '5', '--config', 'cleanup.policy=compact', '--delete-config', 'retention.ms')).toEqual({
      stdout: `Altered topic ${topic}: partitions 3 -> 5.\nCompleted updating config for topic ${topic}.\n`, stderr: '', exitCode: 0,
    })
    const after = (await topics('describe', '--topic', topic)).stdout.split('\n')
    expect(after[0]).toContain('PartitionCount: 5')
    expect(after[0]).toMatch(/Configs: cleanup.policy=compact$/)

    expect(await topics('delete', '--topic', topic)).toEqual({ stdout: `Deleted topic ${topic}.\n`, stderr: '', exitCode: 0 })
    expect((await topics('list')).stdout.split('\n')).not.toContain(topic)
  })

  it("create without --partitions takes the broker's num.partitions; describe without --topic shows every topic", async () => {
    const [a, b] = [randomName(), randomName()]
    expect((await topics('create', '--topic', a)).exitCode).toBe(0)
    expect((await topics('create', '--topic', b, '--partitions', '2')).exitCode).toBe(0)
    const all = (await topics('describe')).stdout
    expect(all).toMatch(new RegExp(`Topic: ${a}\\tTopicId: \\S+\\tPartitionCount: 1\\t`))
    expect(all).toMatch(new RegExp(`Topic: ${b}\\tTopicId: \\S+\\tPartitionCount: 2\\t`))
    expect(all).not.toContain('__consumer_offsets')
  })

  it('prints one error line with the Kafka error name and exits 1', async () => {
    const topic = randomName()
    await topics('create', '--topic', topic, '--partitions', '2')
    const again = await topics('create', '--topic', topic)
    expect(again.exitCode).toBe(1)
    expect(again.stdout).toBe('')
    expect(again.stderr).toMatch(/^Error: TOPIC_ALREADY_EXISTS: .+\n$/)
    expect((await topics('create', '--topic', topic, '--if-not-exists')).exitCode).toBe(0)

    const shrink = await topics('alter', '--topic', topic, '--partitions', '1')
    expect(shrink).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: INVALID_PARTITIONS: /) })
    const missing = await topics('describe', '--topic', 'no-such-topic')
    expect(missing).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: UNKNOWN_TOPIC_OR_PARTITION: .*no-such-topic/) })
    expect(await topics('delete', '--topic', 'no-such-topic')).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: UNKNOWN_TOPIC_OR_PARTITION: /) })
    expect(await topics('alter', '--topic', topic)).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: INVALID_REQUEST: nothing to alter/) })
    expect(await topics('create', '--topic', randomName(), '--config', 'no.such.config=1')).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: INVALID_CONFIG: /) })
  })

  it('rejects bad flags before connecting', async () => {
    expect(await runCli(topicsCommand, ['create', '--topic', 't', '--partitions', '0'])).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('expected a whole number >= 1') })
    expect(await runCli(topicsCommand, ['create', '--topic', 't', '--config', 'novalue'])).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('expected name=value') })
    expect(await runCli(topicsCommand, ['list', '--bootstrap', 'nonsense'])).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: INVALID_CONFIG: bootstrap server 'nonsense'/) })
  })

  it('reports a broker that cannot be reached as NETWORK_EXCEPTION', async () => {
    const run = await runCli(topicsCommand, ['list', '--bootstrap', '127.0.0.1:1'])
    expect(run).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: NETWORK_EXCEPTION: .*127\.0\.0\.1:1/) })
  })
})

describe('cli > topics > helpers', () => {
  it('formatCliError names the Kafka error, or UNKNOWN_SERVER_ERROR for anything else', () => {
    expect(formatCliError(new UnknownTopicOrPartitionError('gone'))).toBe('Error: UNKNOWN_TOPIC_OR_PARTITION: gone')
    expect(formatCliError(new Error('boom'))).toBe('Error: UNKNOWN_SERVER_ERROR: boom')
  })

  it('formatTable pads every column but the last to its widest cell', () => {
    expect(formatTable([['A', 'BB', 'C'], ['xxx', 'y', 'zzzz']])).toEqual(['A    BB  C', 'xxx  y   zzzz'])
  })
})
