import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Command } from 'commander'
import { describe, expect, it, onTestFinished } from 'vitest'
import { parseDuration, perfCommand, type PerfCommandIo } from '../../src/cli/commands/perf.js'
import type { LoadTestSummary } from '../../src/perf/summary.js'
import type { PerfTarget, PerfTargetChoice } from '../../src/perf/target.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

class CapturedStream {
  output = ''
  constructor(readonly isTTY = false, readonly columns = 160) {}
  write(chunk: string): boolean {
    this.output += chunk
    return true
  }
}

interface Harness {
  command: Command
  stdout: CapturedStream
  stderr: CapturedStream
  exitCodes: number[]
  factoryCalls: PerfTargetChoice[]
  run(...args: string[]): Promise<void>
}

/** Builds the command around `target`, with commander's exits turned into exceptions. */
function harness(target: PerfTarget, tty = false): Harness {
  const stdout = new CapturedStream(tty)
  const stderr = new CapturedStream()
  const exitCodes: number[] = []
  const factoryCalls: PerfTargetChoice[] = []
  const io: PerfCommandIo = { stdout, stderr, setExitCode: (code) => exitCodes.push(code) }
  const command = perfCommand(async (opts) => {
    factoryCalls.push(opts)
    return target
  }, io)
  const quiet = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) })
    cmd.commands.forEach(quiet)
  }
  quiet(command)
  return { command, stdout, stderr, exitCodes, factoryCalls, run: async (...args) => { await command.parseAsync(args, { from: 'user' }) } }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardlog-perf-cli-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describe('cli > perf', () => {
  it('produce: passes every flag through, prints interval lines and the summary, and writes --out', async () => {
    const dir = await tempDir()
    const target = new InMemoryPerfTarget()
    const h = harness(target)
    await h.run(
      'produce', '--topic', 'cli-t', '--num-records', '600', '--record-size', '64', '--throughput', '2000', '--acks', '-1',
      '--compression', 'gzip', '--batch-size', '640', '--linger-ms', '2', '--producers', '2', '--partitions', '3',
      '--warmup-records', '100', '--reporting-interval', '100ms', '--max-in-flight', '2', '--bootstrap', '127.0.0.1:9092', '--out', dir,
    )
    expect(h.factoryCalls).toEqual([{ bootstrap: '127.0.0.1:9092' }])
    expect(target.closed).toBe(true)
    expect(target.countRecords('cli-t')).toBe(600)
    expect(target.producerOptions[0]).toEqual({ acks: -1, compression: 'gzip', batchSize: 640, lingerMs: 2 })
    expect(target.largestBatch).toBeLessThanOrEqual(10)
    const out = h.stdout.output
    expect(out).toContain('perf produce: 600 records of 64 bytes to topic "cli-t" on in-memory test target')
    expect(out).toContain('2,000 records/s (coordinated-omission corrected) · acks=all · compression gzip · batch.size 640 bytes · linger.ms 2 · 2 producers')
    expect(out).toMatch(/elapsed\s+throughput\s+data rate\s+p50\s+p99\s+max\s+\(produce latency\)/)
    expect(out).toMatch(/\d+\.\d s +[\d,.]+ rec\/s +[\d.]+ MB\/s +[\d.,]+ ms +[\d.,]+ ms +[\d.,]+ ms/)
    expect(out).toContain('Summary: produce · gzip · acks=all · 2,000 rec/s · in-memory test target')
    expect(out).toMatch(/600 records sent, [\d.]+ records\/sec/)
    expect(out).toContain(`to ${dir}`)
    expect(out).not.toContain('\x1b[')
    const summary = JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as LoadTestSummary
    expect(summary.config).toMatchObject({ numRecords: 600, recordSize: 64, throughput: 2_000, acks: -1, compression: 'gzip', batchSize: 640, lingerMs: 2, producers: 2, partitions: 3, warmupRecords: 100, reportIntervalMs: 100, maxInFlight: 2 })
    expect(summary.records.measured).toBe(500)
    for (const file of ['report.html', 'produce-latency.hgrm', 'produce-latency.hlog', 'service-time.hgrm', 'service-time.hlog']) {
      expect(existsSync(path.join(dir, file))).toBe(true)
    }
    expect(h.exitCodes).toEqual([])
  })

  it('consume: reads --num-records with --group and a --timeout', async () => {
    const target = new InMemoryPerfTarget()
    await target.createTopic('cli-c', 2)
    target.fill('cli-c', 1_000, 10)
    const h = harness(target)
    await h.run('consume', '--topic', 'cli-c', '--num-records', '800', '--group', 'cli-group', '--timeout', '2s')
    expect(target.consumerOptions).toEqual([{ topic: 'cli-c', groupId: 'cli-group', fromBeginning: true }])
    expect(h.factoryCalls).toEqual([{}])
    expect(h.stdout.output).toContain('perf consume: 800 records from topic "cli-c" on in-memory test target')
    expect(h.stdout.output).toMatch(/800 received/)
  })

  it('e2e: runs for --duration and draws a progress bar on a TTY', async () => {
    const target = new InMemoryPerfTarget()
    const h = harness(target, true)
    await h.run('e2e', '--topic', 'cli-e', '--duration', '400ms', '--throughput', '1000', '--record-size', '32', '--reporting-interval', '100ms')
    const out = h.stdout.output
    expect(out).toContain('\r\x1b[2K[')
    expect(out).toMatch(/█+░*\] +\d+\.\d%/)
    expect(out).toMatch(/ETA /)
    expect(out).toMatch(/\(e2e latency\)/)
    expect(out).toMatch(/records {15}400 sent · 400 acknowledged · 0 failed · 400 received · 0 duplicates · 0 missing/)
  })

  it('e2e: hands --shards and --busy-poll-us to the embedded target', async () => {
    const h = harness(new InMemoryPerfTarget())
    await h.run('e2e', '--topic', 'cli-b', '--duration', '200ms', '--throughput', '1000', '--shards', '1', '--busy-poll-us', '500')
    expect(h.factoryCalls).toEqual([{ shards: 1, busyPollUs: 500 }])
  })

  it('compare: overlays saved runs', async () => {
    const root = await tempDir()
    for (const name of ['a', 'b']) {
      await harness(new InMemoryPerfTarget()).run('produce', '--topic', 't', '--num-records', '100', '--out', path.join(root, name))
    }
    const h = harness(new InMemoryPerfTarget())
    await h.run('compare', path.join(root, 'a'), path.join(root, 'b'), '--out', path.join(root, 'cmp'))
    expect(h.stdout.output).toMatch(/Compared 2 runs:\n {3}1\. produce · none · acks=all · in-memory test target \(a\)/)
    expect(existsSync(path.join(root, 'cmp', 'report.html'))).toBe(true)
  })

  it('sets exit code 1 when records fail to send', async () => {
    const h = harness(new InMemoryPerfTarget({ failSends: new Error('down') }))
    await h.run('produce', '--topic', 't', '--num-records', '10')
    expect(h.exitCodes).toEqual([1])
    expect(h.stdout.output).toMatch(/errors +10 failed sends; first: Error: down/)
  })

  it.each([
    [['produce', '--topic', 't', '--num-records', '10', '--acks', '2'], /expected -1 \(all\), 0 or 1, got "2"/],
    [['produce', '--topic', 't', '--num-records', '10', '--compression', 'brotli'], /Allowed choices are none, gzip, snappy, lz4, zstd/],
    [['produce', '--topic', 't', '--num-records', 'ten'], /expected a whole number >= 1, got "ten"/],
    [['produce', '--topic', 't', '--num-records', '10', '--throughput', '0'], /expected -1 \(unlimited\) or records\/s > 0/],
    [['produce', '--topic', 't', '--num-records', '10', '--duration', '1s'], /cannot be used with option '--duration/],
    [['produce', '--topic', 't'], /give --num-records or --duration/],
    [['produce', '--num-records', '10'], /required option '--topic <name>' not specified/],
    [['e2e', '--topic', 't', '--num-records', '10', '--record-size', '8'], /recordSize must be an integer >= 16/],
    [['compare', 'x'], /required option '--out <dir>' not specified/],
    [['e2e', '--topic', 't', '--num-records', '10', '--shards', '2', '--bootstrap', 'h:9092'], /cannot be used with option '--bootstrap/],
    [['e2e', '--topic', 't', '--num-records', '10', '--busy-poll-us', '-5'], /expected a whole number >= 0, got "-5"/],
  ])('rejects %j', async (args, message) => {
    const target = new InMemoryPerfTarget()
    const h = harness(target)
    await expect(h.run(...args)).rejects.toThrow(message)
    expect(target.countRecords('t')).toBe(0)
  })

  it('parses durations with units', () => {
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('10s')).toBe(10_000)
    expect(parseDuration('1.5')).toBe(1_500)
    expect(parseDuration('2m')).toBe(120_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(() => parseDuration('soon')).toThrow(/expected a duration/)
  })
})
