/**
 * `shardlog groups` against a real shardlog server over real sockets: list, describe (Kafka's
 * columns), reset-offsets (dry run, --execute, refused while active) and delete.
 */
import { describe, expect, it, onTestFinished } from 'vitest'
import { formatGroupOffsets, formatResetPlan, groupsCommand, parseDatetime } from '../../src/cli/commands/consumer-groups.js'
import { WireAdmin } from '../../src/protocol/client/wire-admin.js'
import { WireConsumer } from '../../src/protocol/client/wire-consumer.js'
import { WireProducer } from '../../src/protocol/client/wire-producer.js'
import { waitFor } from '../helpers/cluster.js'
import { randomName, sharedWireCluster } from '../protocol/client/wire-cluster.js'
import { runCli } from './wire-cli-harness.js'

/** Splits Kafka's table into cells (its columns are space-padded, values have no spaces). */
function cells(stdout: string): string[][] {
  return stdout.split('\n').filter((l) => l.trim() !== '').map((l) => l.trim().split(/\s+/))
}

describe('cli > groups', () => {
  const wire = sharedWireCluster()
  const groups = (...args: string[]) => runCli(groupsCommand, [...args, '--bootstrap', wire.bootstrap])

  /** A topic of 2 partitions with 3 and 2 records, and a group that committed 1 on partition 0. */
  async function fixture(): Promise<{ topic: string; group: string; admin: WireAdmin }> {
    const admin = await WireAdmin.connect(wire.bootstrap)
    onTestFinished(() => admin.close())
    const topic = randomName()
    const group = randomName('group')
    await admin.createTopics([{ name: topic, numPartitions: 2 }])
    const producer = await WireProducer.create(admin.client)
    await producer.send(topic, [0, 0, 0, 1, 1].map((partition, i) => ({ value: String(i), partition, timestamp: 1_000 * (i + 1) })))
    await admin.commitGroupOffsets(group, [{ topic, partition: 0, offset: 1 }])
    return { topic, group, admin }
  }

  async function activeMember(topic: string, group: string): Promise<WireConsumer> {
    const consumer = await WireConsumer.create(wire.bootstrap, { groupId: group, heartbeatIntervalMs: 200 })
    onTestFinished(() => consumer.close())
    consumer.subscribe([topic])
    await consumer.run({ eachBatch: () => undefined })
    return consumer
  }

  it('list shows groups; describe an inactive group shows committed offsets, LAG and "-" for owners', async () => {
    const { topic, group } = await fixture()
    expect((await groups('list')).stdout.split('\n')).toContain(group)
    const described = await groups('describe', group)
    expect(described.exitCode).toBe(0)
    expect(described.stderr).toBe(`\nConsumer group '${group}' has no active members.\n`)
    expect(cells(described.stdout)).toEqual([
      ['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'],
      [group, topic, '0', '1', '3', '2', '-', '-', '-'],
    ])
  })

  it('describe an active group shows every assigned partition with its member, "-" where nothing is committed', async () => {
    const { topic, group } = await fixture()
    const member = await activeMember(topic, group)
    await waitFor(() => member.assignment().length === 2, 10_000, 'the assignment')
    const described = await groups('describe', group)
    expect(described.stderr).toBe('')
    const rows = cells(described.stdout)
    expect(rows[0]).toEqual(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'])
    expect(rows.slice(1).map((r) => r.slice(0, 6))).toEqual([[group, topic, '0', '1', '3', '2'], [group, topic, '1', '-', '2', '-']])
    for (const r of rows.slice(1)) {
      expect(r[6]).toMatch(/^shardlog-consumer-/)
      expect(r[7]).toMatch(/^\/?[\d.:a-f]+$/)
      expect(r[8]).toBe('shardlog-consumer')
    }
  })

  it('describe of an unknown group fails with GROUP_ID_NOT_FOUND', async () => {
    expect(await groups('describe', randomName('nobody'))).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: GROUP_ID_NOT_FOUND: Consumer group '.*' does not exist\.\n$/) })
  })

  it('reset-offsets is a dry run by default and commits with --execute', async () => {
    const { topic, group, admin } = await fixture()
    const dry = await groups('reset-offsets', group, '--topic', topic, '--to-earliest')
    expect(dry.exitCode).toBe(0)
    expect(cells(dry.stdout)).toEqual([['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], [group, topic, '0', '0'], [group, topic, '1', '0']])
    expect(await admin.fetchCommittedOffsets(group)).toEqual([{ topic, partition: 0, offset: 1 }])

    const latest = await groups('reset-offsets', group, '--topic', topic, '--to-latest', '--execute')
    expect(cells(latest.stdout).slice(1).map((r) => r[3])).toEqual(['3', '2'])
    expect(await admin.fetchCommittedOffsets(group)).toEqual([{ topic, partition: 0, offset: 3 }, { topic, partition: 1, offset: 2 }])

    const shifted = await groups('reset-offsets', group, '--topic', `${topic}:0`, '--shift-by', '-2', '--execute')
    expect(cells(shifted.stdout).slice(1)).toEqual([[group, topic, '0', '1']])
    // Offsets outside the log are clamped to it, as Kafka does.
    const clamped = await groups('reset-offsets', group, '--topic', topic, '--to-offset', '99')
    expect(cells(clamped.stdout).slice(1).map((r) => r[3])).toEqual(['3', '2'])
    // Record i has timestamp (i + 1) s: partition 0 holds 0..2, partition 1 holds 3..4.
    const byTime = await groups('reset-offsets', group, '--all-topics', '--to-datetime', new Date(2_500).toISOString())
    expect(cells(byTime.stdout).slice(1).map((r) => r[3])).toEqual(['2', '0'])
  })

  it('reset-offsets is refused while the group has active members', async () => {
    const { topic, group, admin } = await fixture()
    const member = await activeMember(topic, group)
    await waitFor(() => member.assignment().length === 2, 10_000, 'the assignment')
    const refused = await groups('reset-offsets', group, '--topic', topic, '--to-earliest', '--execute')
    expect(refused).toEqual({
      stdout: '',
      stderr: `Error: NON_EMPTY_GROUP: Assignments can only be reset if the group '${group}' is inactive, but the current state is Stable.\n`,
      exitCode: 1,
    })
    expect(await admin.fetchCommittedOffsets(group)).toEqual([{ topic, partition: 0, offset: 1 }])
  })

  it('reset-offsets needs exactly one scenario and a scope', async () => {
    const { topic, group } = await fixture()
    expect(await groups('reset-offsets', group, '--topic', topic)).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: INVALID_REQUEST: give exactly one of/) })
    expect(await groups('reset-offsets', group, '--topic', topic, '--to-earliest', '--to-latest')).toMatchObject({ exitCode: 1 })
    expect(await groups('reset-offsets', group, '--to-earliest')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('--all-topics, --topic') })
    expect(await groups('reset-offsets', group, '--topic', `${topic}:x`, '--to-earliest')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining("Invalid partition 'x'") })
    expect(await groups('reset-offsets', group, '--topic', `${topic}:1`, '--shift-by', '1')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('no current committed offset') })
    expect(await groups('reset-offsets', group, '--topic', topic, '--to-datetime', 'yesterday')).toMatchObject({ exitCode: 1, stderr: expect.stringContaining('ISO-8601') })
  })

  it('delete refuses a group with members, then deletes it once it is empty', async () => {
    const { topic, group } = await fixture()
    const member = await activeMember(topic, group)
    await waitFor(() => member.assignment().length === 2, 10_000, 'the assignment')
    expect(await groups('delete', group)).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: NON_EMPTY_GROUP: /) })
    await member.close()
    expect(await groups('delete', group)).toEqual({ stdout: `Deletion of requested consumer groups ('${group}') was successful.\n`, stderr: '', exitCode: 0 })
    expect((await groups('list')).stdout.split('\n')).not.toContain(group)
    expect(await groups('delete', group)).toMatchObject({ exitCode: 1, stderr: expect.stringMatching(/^Error: GROUP_ID_NOT_FOUND: /) })
  })
})

describe('cli > groups > formatting', () => {
  it("lays out describe rows with Kafka's widths: 15 at least for group, topic, consumer id and host", () => {
    const lines = formatGroupOffsets([{ group: 'g', topic: 't', partition: 0, currentOffset: null, logEndOffset: 5, lag: null, consumerId: null, host: null, clientId: null }])
    expect(lines[0]).toBe(`${'GROUP'.padEnd(15)} ${'TOPIC'.padEnd(15)} ${'PARTITION'.padEnd(10)} ${'CURRENT-OFFSET'.padEnd(15)} ${'LOG-END-OFFSET'.padEnd(15)} ${'LAG'.padEnd(15)} ${'CONSUMER-ID'.padEnd(15)} ${'HOST'.padEnd(15)} CLIENT-ID`)
    expect(lines[1]).toBe(`${'g'.padEnd(15)} ${'t'.padEnd(15)} ${'0'.padEnd(10)} ${'-'.padEnd(15)} ${'5'.padEnd(15)} ${'-'.padEnd(15)} ${'-'.padEnd(15)} ${'-'.padEnd(15)} -`)
  })

  it('lays out the reset plan as Kafka does', () => {
    expect(formatResetPlan('g', [{ topic: 't', partition: 1, offset: 7 }])).toEqual([
      '',
      `${'GROUP'.padEnd(30)} ${'TOPIC'.padEnd(30)} ${'PARTITION'.padEnd(10)} NEW-OFFSET`,
      `${'g'.padEnd(30)} ${'t'.padEnd(30)} ${'1'.padEnd(10)} 7`,
    ])
  })

  it('parses ISO-8601 date-times only', () => {
    expect(parseDatetime('1970-01-01T00:00:01.000Z')).toBe(1000)
    expect(() => parseDatetime('1000')).toThrow()
  })
})
