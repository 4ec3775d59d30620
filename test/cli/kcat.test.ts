/**
 * Interoperability with librdkafka through kcat (a real, independent Kafka client) against a
 * shardlog server over real sockets: metadata, produce with every codec, consume from the
 * beginning, group consumption; and the other direction: what shardlog's CLI produces with
 * every codec, kcat reads back.
 *
 * kcat must be installed (Debian/Ubuntu: `apt-get install kcat`; CI installs it). Without it
 * these tests fail rather than skip, so a missing tool is never mistaken for a pass.
 */
import { spawn, spawnSync } from 'node:child_process'
import { describe, expect, it, onTestFinished } from 'vitest'
import { consumeCommand } from '../../src/cli/commands/console-consumer.js'
import { produceCommand } from '../../src/cli/commands/console-producer.js'
import { groupsCommand } from '../../src/cli/commands/consumer-groups.js'
import { WireAdmin } from '../../src/protocol/client/wire-admin.js'
import { randomName, sharedWireCluster } from '../protocol/client/wire-cluster.js'
import { runCli } from './wire-cli-harness.js'

const KCAT = process.env.KCAT ?? 'kcat'
const KCAT_TIMEOUT_MS = 15_000
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const

function kcatAvailable(): boolean {
  const probe = spawnSync(KCAT, ['-V'], { encoding: 'utf8' })
  return probe.error === undefined && probe.status === 0
}

interface KcatRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs kcat with `stdin`; kills it and fails after {@link KCAT_TIMEOUT_MS}. */
function kcat(args: readonly string[], stdin = ''): Promise<KcatRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(KCAT, args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`kcat ${args.join(' ')} did not finish in ${KCAT_TIMEOUT_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, KCAT_TIMEOUT_MS)
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(err.code === 'ENOENT' ? new Error(`kcat was not found (${KCAT}): install it (Debian/Ubuntu: apt-get install kcat)`) : err)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(stdin)
  })
}

describe('cli > kcat interoperability', () => {
  const wire = sharedWireCluster()

  it('kcat is installed', () => {
    expect(kcatAvailable(), `kcat was not found (${KCAT}): install it (Debian/Ubuntu: apt-get install kcat) to run the interoperability tests`).toBe(true)
  })

  async function createTopic(partitions: number): Promise<string> {
    const admin = await WireAdmin.connect(wire.bootstrap)
    onTestFinished(() => admin.close())
    const topic = randomName()
    await admin.createTopics([{ name: topic, numPartitions: partitions }])
    return topic
  }

  it('kcat -L lists the brokers and topics', async () => {
    const topic = await createTopic(3)
    const run = await kcat(['-L', '-b', wire.bootstrap, '-t', topic])
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain(`broker 0 at ${wire.bootstrap}`)
    expect(run.stdout).toContain(`topic "${topic}" with 3 partitions:`)
    for (const p of [0, 1, 2]) expect(run.stdout).toMatch(new RegExp(`partition ${p}, leader 0, replicas: 0, isrs: 0`))
  })

  for (const codec of CODECS) {
    it(`kcat produces with -z ${codec}; kcat and shardlog consume the same values`, async () => {
      const topic = await createTopic(2)
      const values = Array.from({ length: 30 }, (_, i) => `${codec}-value-${i}`)
      const produced = await kcat(['-P', '-b', wire.bootstrap, '-t', topic, '-z', codec, '-X', 'linger.ms=50'], `${values.join('\n')}\n`)
      expect(produced.code, produced.stderr).toBe(0)

      const consumed = await kcat(['-C', '-b', wire.bootstrap, '-t', topic, '-e', '-o', 'beginning', '-q'])
      expect(consumed.code, consumed.stderr).toBe(0)
      expect(consumed.stdout.trimEnd().split('\n').sort()).toEqual([...values].sort())

      const ours = await runCli(consumeCommand, ['--topic', topic, '--from-beginning', '--max-messages', '30', '--bootstrap', wire.bootstrap])
      expect(ours.stdout.trimEnd().split('\n').sort()).toEqual([...values].sort())
    })
  }

  it('kcat reads back what shardlog produce writes with every codec', async () => {
    const topic = await createTopic(1)
    const expected: string[] = []
    for (const codec of CODECS) {
      const lines = [1, 2, 3].map((i) => `k${i}:${codec}-${i}`)
      expected.push(...lines)
      const run = await runCli(produceCommand, ['--topic', topic, '--compression', codec, '--key-separator', ':', '--bootstrap', wire.bootstrap], `${lines.join('\n')}\n`)
      expect(run).toMatchObject({ exitCode: 0, stderr: '' })
    }
    const consumed = await kcat(['-C', '-b', wire.bootstrap, '-t', topic, '-e', '-o', 'beginning', '-q', '-f', '%k:%s\n'])
    expect(consumed.code, consumed.stderr).toBe(0)
    expect(consumed.stdout.trimEnd().split('\n')).toEqual(expected)
  })

  it('kcat -G consumes as a group member, and the group shows up in shardlog groups', async () => {
    const topic = await createTopic(2)
    const values = Array.from({ length: 10 }, (_, i) => `g${i}`)
    expect((await kcat(['-P', '-b', wire.bootstrap, '-t', topic], `${values.join('\n')}\n`)).code).toBe(0)
    const group = randomName('kcat-group')
    const consumed = await kcat(['-b', wire.bootstrap, '-G', group, '-c', '10', '-q', '-X', 'auto.offset.reset=earliest', topic])
    expect(consumed.code, consumed.stderr).toBe(0)
    expect(consumed.stdout.trimEnd().split('\n').sort()).toEqual([...values].sort())

    const listed = await runCli(groupsCommand, ['list', '--bootstrap', wire.bootstrap])
    expect(listed.stdout.split('\n')).toContain(group)
  })
})
