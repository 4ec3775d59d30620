import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvalidConfigError } from '../../src/errors.js'
import { compareRuns, labelRuns, readSavedRun } from '../../src/perf/compare.js'
import { runLoadTest } from '../../src/perf/run-load-test.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shardlog-perf-compare-'))
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

describe('perf > compare', () => {
  it('overlays saved runs in one report with a legend label per run', async () => {
    const root = await tempDir()
    const a = path.join(root, 'a')
    const b = path.join(root, 'b')
    const c = path.join(root, 'c')
    await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'produce', topic: 't', numRecords: 300, throughput: 3_000, outDir: a })
    await runLoadTest({ target: new InMemoryPerfTarget({ description: 'kafka 127.0.0.1:9092' }), mode: 'produce', topic: 't', numRecords: 300, compression: 'zstd', acks: 1, outDir: b })
    await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'e2e', topic: 't', numRecords: 300, throughput: 3_000, outDir: c })

    const saved = await readSavedRun(a)
    expect(Object.keys(saved.distributions)).toEqual(['produce-latency', 'service-time'])
    expect(saved.distributions['produce-latency']!.totalCount).toBe(300)

    const out = path.join(root, 'cmp')
    const result = await compareRuns([a, b, c], out)
    expect(result.runs.map((r) => r.label)).toEqual([
      'produce · none · acks=all · 3,000 rec/s · in-memory test target',
      'produce · zstd · acks=1 · kafka 127.0.0.1:9092',
      'e2e · none · acks=all · 3,000 rec/s · in-memory test target',
    ])
    const html = await readFile(result.report, 'utf8')
    expect(result.report).toBe(path.join(out, 'report.html'))
    for (const run of result.runs) expect(html).toContain(run.label!.replace(/&/g, '&amp;'))
    expect(html).toContain('3 runs compared')
    // One line per series of each run on the percentile chart.
    const percentileChart = html.slice(html.indexOf('id="chart-percentiles"'), html.indexOf('</svg>', html.indexOf('id="chart-percentiles"')))
    expect(percentileChart.match(/class="series"/g)).toHaveLength(2 + 1 + 2)
  })

  it('tells runs with the same label apart by their directory', async () => {
    const root = await tempDir()
    for (const name of ['monday', 'tuesday']) {
      await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'produce', topic: 't', numRecords: 50, outDir: path.join(root, name) })
    }
    const runs = labelRuns(await Promise.all(['monday', 'tuesday'].map((n) => readSavedRun(path.join(root, n)))))
    expect(runs.map((r) => r.label)).toEqual([
      'produce · none · acks=all · in-memory test target (monday)',
      'produce · none · acks=all · in-memory test target (tuesday)',
    ])
  })

  it('rejects directories that are not saved runs, naming the file', async () => {
    const root = await tempDir()
    await expect(compareRuns([], root)).rejects.toThrow(/at least one run directory/)
    await expect(readSavedRun(root)).rejects.toThrow(InvalidConfigError)
    await expect(readSavedRun(root)).rejects.toThrow(/is not a perf run directory: cannot read .*summary\.json/)
    await writeFile(path.join(root, 'summary.json'), '{ not json')
    await expect(readSavedRun(root)).rejects.toThrow(/summary\.json is not valid JSON/)
    await writeFile(path.join(root, 'summary.json'), JSON.stringify({ hello: 'world' }))
    await expect(readSavedRun(root)).rejects.toThrow(/not a shardlog perf summary/)
    await writeFile(path.join(root, 'summary.json'), JSON.stringify({ format: 'shardlog-perf-summary', formatVersion: 2 }))
    await expect(readSavedRun(root)).rejects.toThrow(/formatVersion 2/)

    const run = path.join(root, 'run')
    await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'produce', topic: 't', numRecords: 20, outDir: run })
    await rm(path.join(run, 'produce-latency.hgrm'))
    await expect(readSavedRun(run)).rejects.toThrow(/missing produce-latency\.hgrm listed in summary\.json/)
  })
})
