/**
 * The consume half of the `throughput` benchmark in a process of its own, so that it can run
 * under different Node flags than the benchmark: the consumer's allocation rate (one message
 * object and one Buffer view per record) makes V8's young-generation size matter, and that
 * size can only be chosen when a process starts (`--max-semi-space-size`).
 *
 *   tsx bench/system/consume-process.ts <data-dir> <shards> <topic> <records> <group> <config-json> <result-file>
 *
 * Opens the cluster that the benchmark stopped (same data directory, so the segments are
 * still in the page cache), reads the first {@link kWarmupRecords} records once in a warm-up
 * group, then the whole topic from the beginning with {@link consumeAll}, and writes that
 * read's {@link ConsumeOutcome} as JSON.
 */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Cluster } from '../../src/client/cluster.js'
import { kWarmupRecords } from './options.js'
import { consumeAll, type ConsumeOutcome } from './workload.js'
import { runIfStartedScript, runScriptWithFlags } from './flagged-process.js'

/** What to read and how. */
export interface ConsumeJob {
  dataDir: string
  shards: number
  topic: string
  records: number
  groupId: string
  config: { maxBytes: number; maxBytesPerPartition: number }
}

/** Runs {@link consumeAll} in a child process started with `nodeFlags` (plus this process's loader flags). */
export function consumeInProcessWithFlags(job: ConsumeJob, nodeFlags: readonly string[], resultFile: string): Promise<ConsumeOutcome> {
  const args = [job.dataDir, String(job.shards), job.topic, String(job.records), job.groupId, JSON.stringify(job.config)]
  return runScriptWithFlags<ConsumeOutcome>(fileURLToPath(import.meta.url), args, nodeFlags, resultFile, 'consume')
}

async function main(): Promise<void> {
  const [dataDir, shards, topic, records, groupId, configJson, resultFile] = process.argv.slice(2)
  if (resultFile === undefined) throw new Error('usage: consume-process.ts <data-dir> <shards> <topic> <records> <group> <config-json> <result-file>')
  const cluster = await Cluster.start({ dataDir: dataDir!, shards: Number(shards) })
  try {
    const config = JSON.parse(configJson!) as ConsumeJob['config']
    // Warm-up, as the produce runs have one: a first read in another group compiles the hot
    // paths, so the measured read is not partly the JIT's.
    await consumeAll(cluster, topic!, Math.min(Number(records), kWarmupRecords), `${groupId!}-warmup`, config)
    const outcome = await consumeAll(cluster, topic!, Number(records), groupId!, config)
    writeFileSync(resultFile, JSON.stringify(outcome))
  } finally {
    await cluster.stop()
  }
}

runIfStartedScript(import.meta.url, main)
