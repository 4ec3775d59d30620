/**
 * librdkafka (2.0.2, through the kcat tool) against shardlog, when kcat is installed:
 * metadata, produce with every codec (librdkafka writes raw snappy blocks) and with
 * idempotence, consume, and a balanced consumer group that commits its offsets.
 * librdkafka enables groups, idempotence and each codec only when exact old API versions are
 * advertised, so this checks the advertised ranges as much as the handlers.
 */
import { execFileSync, spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { topicName } from '../../helpers/cluster.js'
import { connect, sharedServedCluster } from './helpers.js'

function hasKcat(): boolean {
  try {
    execFileSync('kcat', ['-V'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Runs kcat with `args`, feeding `input` on stdin; resolves stdout, rejects on a non-zero exit. */
function kcat(args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code === 0) resolve(stdout)
      else reject(new Error(`kcat ${args.join(' ')} exited with ${code}: ${stderr}`))
    })
    child.stdin.end(input ?? '')
  })
}

const shared = sharedServedCluster({ config: { 'offsets.topic.num.partitions': '5' } })

describe('protocol > server > librdkafka (kcat)', () => {
  it('has kcat installed (CI installs Debian\'s kcat; install it with `apt-get install kcat`)', () => {
    expect(hasKcat(), 'kcat is not installed: run `apt-get install kcat` (.ci/run does this)').toBe(true)
  })

  it('lists brokers and topics', async () => {
    const served = shared()
    const topic = topicName('kcat-md')
    await served.cluster.engine.createTopic({ topic, numPartitions: 3, replicationFactor: 1, configs: {} })
    const md = JSON.parse(await kcat(['-b', served.listeners.bootstrap, '-L', '-J', '-t', topic])) as {
      brokers: Array<{ id: number; name: string }>
      topics: Array<{ topic: string; partitions: Array<{ partition: number; leader: number }> }>
    }
    expect(md.brokers).toEqual([{ id: 0, name: served.listeners.bootstrap }])
    expect(md.topics[0]!.partitions.map((p) => [p.partition, p.leader])).toEqual([[0, 0], [1, 0], [2, 0]])
  })

  it('produces with every codec and idempotence, and consumes everything back', async () => {
    const served = shared()
    const b = served.listeners.bootstrap
    const topic = topicName('kcat')
    await served.cluster.engine.createTopic({ topic, numPartitions: 2, replicationFactor: 1, configs: {} })
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd']
    for (const codec of codecs) {
      const lines = Array.from({ length: 500 }, (_, i) => `${codec}-${i}`).join('\n')
      await kcat(['-b', b, '-P', '-t', topic, '-z', codec, '-X', 'enable.idempotence=true'], `${lines}\n`)
    }
    const consumed = (await kcat(['-b', b, '-C', '-t', topic, '-o', 'beginning', '-e', '-q'])).trim().split('\n')
    expect(consumed).toHaveLength(codecs.length * 500)
    expect(new Set(consumed).size).toBe(codecs.length * 500)
    expect(consumed).toContain('zstd-499')
  })

  it('consumes as a balanced consumer group and commits the offsets', async () => {
    const served = shared()
    const b = served.listeners.bootstrap
    const topic = topicName('kcat-group')
    const groupId = `group-${topic}`
    await served.cluster.engine.createTopic({ topic, numPartitions: 2, replicationFactor: 1, configs: {} })
    await kcat(['-b', b, '-P', '-t', topic], `${Array.from({ length: 300 }, (_, i) => `m${i}`).join('\n')}\n`)
    const consumed = (await kcat(['-b', b, '-G', groupId, '-X', 'auto.offset.reset=earliest', '-e', '-q', topic])).trim().split('\n')
    expect(new Set(consumed).size).toBe(300)
    const connection = await connect(served.port())
    const committed = await connection.request(ApiKey.OffsetFetch, { groupId, topics: [{ name: topic, partitionIndexes: [0, 1] }], groups: [], requireStable: false }, { version: 7 })
    // Each partition's commit is its log end. librdkafka's sticky partitioner may put all 300
    // null-key records in one partition (sticky.partitioning.linger.ms): the empty one has no
    // commit (-1), as Kafka answers for a partition the group never consumed from.
    const ends = await served.cluster.admin().fetchTopicOffsets(topic)
    const committedByPartition = new Map(committed.topics[0]!.partitions.map((p) => [p.partitionIndex, p.committedOffset]))
    expect(ends.reduce((n, o) => n + Number(o.high), 0)).toBe(300)
    for (const o of ends) expect(committedByPartition.get(o.partition)).toBe(Number(o.high) > 0 ? Number(o.high) : -1)
    expect(served.logger.lines.filter((l) => l.startsWith('error') || l.startsWith('warn'))).toEqual([])
  })
})
