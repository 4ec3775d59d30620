/**
 * One e2e run (see e2e-latency.ts) in a process of its own, so that it can run
 * under Node flags chosen for latency: the garbage collector's flags (`--single-threaded-gc`,
 * the young generation's size) can only be set when a process starts.
 *
 *   node bench/system/e2e-process.js <settings-json> <shards> <busy-poll-us> <topic> <result-file>
 *
 * Starts its own cluster in a temporary directory, runs {@link runE2eOnce} through
 * {@link ClusterPerfTarget} (eachMessage), and writes the run's {@link RunFigures} as JSON.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startBenchCluster } from './cluster-fixture.js'
import { runE2eOnce, type RunFigures } from './e2e-run.js'
import { ClusterPerfTarget } from './perf-targets.js'
import { runIfStartedScript, runScriptWithFlags } from './flagged-process.js'
import type { E2eResult } from './results.js'

/** What to run and how. */
export interface E2eJob {
  settings: E2eResult['settings']
  shards: number
  busyPollUs: number
  topic: string
}

/** Runs `job` in a child process started with `nodeFlags` (plus this process's own flags). */
export function e2eInProcessWithFlags(job: E2eJob, nodeFlags: readonly string[], resultFile: string): Promise<RunFigures> {
  const args = [JSON.stringify(job.settings), String(job.shards), String(job.busyPollUs), job.topic]
  return runScriptWithFlags<RunFigures>(fileURLToPath(import.meta.url), args, nodeFlags, resultFile, 'e2e')
}

async function main(): Promise<void> {
  const [settingsJson, shards, busyPollUs, topic, resultFile] = process.argv.slice(2)
  if (resultFile === undefined) throw new Error('usage: e2e-process.js <settings-json> <shards> <busy-poll-us> <topic> <result-file>')
  const bench = await startBenchCluster({ shards: Number(shards), busyPollUs: Number(busyPollUs) })
  try {
    const setup = shards === '0' ? 'shards: 0, partitions on the main thread' : `${shards} shard, busyPollUs ${busyPollUs}`
    const target = new ClusterPerfTarget(bench.cluster, `embedded shardlog (${setup}), eachMessage`)
    const figures = await runE2eOnce(target, JSON.parse(settingsJson!) as E2eResult['settings'], topic!)
    writeFileSync(resultFile, JSON.stringify(figures))
  } finally {
    await bench.close()
  }
}

runIfStartedScript(import.meta.url, main)
