/**
 * `shardlog server` as a user runs it: a separate process that prints the bootstrap address
 * and data directory, serves clients, and on SIGTERM stops accepting, flushes and closes every
 * log cleanly (clean-shutdown markers written) and exits 0.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { ApiKey } from '../../../src/protocol/api-keys.js'
import { KafkaConnection } from '../../../src/protocol/connection.js'
import { CLEAN_SHUTDOWN_FILE } from '../../../src/storage/file-names.js'
import { tempDir } from '../../helpers/cluster.js'
import { batchOf } from './helpers.js'

const fixture = fileURLToPath(new URL('./fixtures/run-server-command.ts', import.meta.url))

describe('protocol > server > shardlog server command', () => {
  // With shard workers, and with every broker's partitions on the server's main thread.
  it.each([
    { shards: '1', placement: '2 broker(s) x 1 shard(s)' },
    { shards: '0', placement: '2 broker(s) x partitions on the main thread' },
  ])('prints the bootstrap address, serves clients and shuts down cleanly on SIGTERM (--shards $shards)', async ({ shards, placement }) => {
    const dataDir = tempDir()
    const propertiesFile = path.join(dataDir, 'server.properties')
    fs.writeFileSync(propertiesFile, '# test settings\nnum.partitions=2\n')
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, '--port', '0', '--brokers', '2', '--shards', shards, '--data-dir', path.join(dataDir, 'data'), '--config', propertiesFile], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const bootstrap = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no bootstrap line; stdout: ${stdout}; stderr: ${stderr}`)), 20_000)
        child.stdout.on('data', () => {
          const m = /bootstrap server: (\S+):(\d+)/.exec(stdout)
          if (m) {
            clearTimeout(timer)
            resolve(`${m[1]}:${m[2]}`)
          }
        })
        void exited.then((code) => reject(new Error(`server exited with ${code}: ${stderr}`)))
      })
      expect(stdout).toContain(`${placement}, data directory ${path.join(dataDir, 'data')}`)
      expect(stdout).toMatch(/broker 1 listening on 127\.0\.0\.1:\d+/)
      const [host, port] = bootstrap.split(':')
      expect(host).toBe('127.0.0.1')
      const connection = await KafkaConnection.connect({ host: host!, port: Number(port), timeoutMs: 10_000 })
      const md = await connection.request(ApiKey.Metadata, { topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'cli-topic' }], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })
      expect(md.brokers).toHaveLength(2)
      expect(md.topics[0]!.partitions).toHaveLength(2) // num.partitions from --config
      const leader = md.topics[0]!.partitions[0]!.leaderId
      const leaderConnection = await KafkaConnection.connect({ host: host!, port: md.brokers.find((b) => b.nodeId === leader)!.port, timeoutMs: 10_000 })
      const produced = await leaderConnection.request(ApiKey.Produce, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'cli-topic', partitionData: [{ index: 0, records: await batchOf(3) }] }] })
      expect(produced.responses[0]!.partitionResponses[0]!.errorCode).toBe(0)
      await connection.close()
      await leaderConnection.close()
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(stdout).toContain('stopped cleanly')
    const partitionDir = path.join(dataDir, 'data', fs.readdirSync(path.join(dataDir, 'data')).find((d) => d.startsWith('broker-') && fs.existsSync(path.join(dataDir, 'data', d, 'cli-topic-0')))!, 'cli-topic-0')
    expect(fs.existsSync(path.join(partitionDir, CLEAN_SHUTDOWN_FILE))).toBe(true)
  })
})
