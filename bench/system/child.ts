/**
 * Runs one system benchmark in a process of its own (started by index.ts), so that each one
 * starts from a cold heap and its own worker threads, and a crash stays contained:
 *
 *   tsx bench/system/child.ts <name> <options-json> <result-file> [profile-dir]
 *
 * Writes `{ result, environment }` or `{ error }` as JSON to `<result-file>` (environment:
 * the cores this process and all others used meanwhile, see machine.ts). With a profile directory it
 * also profiles every thread (see cpu-profile.ts) and writes the profiles and their
 * summaries (`<name>.profile.txt`) there.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { isBenchmarkName, kBenchmarks } from './benchmarks.js'
import { ThreadProfiler, formatProfileSummary, summarizeProfile, type CpuProfile } from './cpu-profile.js'
import { watchEnvironment } from './machine.js'
import type { SystemBenchOptions } from './options.js'

async function main(): Promise<void> {
  const [name, optionsJson, resultFile, profileDir] = process.argv.slice(2)
  if (name === undefined || optionsJson === undefined || resultFile === undefined || !isBenchmarkName(name)) {
    throw new Error('usage: tsx bench/system/child.ts <name> <options-json> <result-file> [profile-dir]')
  }
  const options = JSON.parse(optionsJson) as SystemBenchOptions
  const profiler = profileDir === undefined ? undefined : await ThreadProfiler.start()
  const environment = watchEnvironment()
  try {
    const result = await kBenchmarks[name].runner(options)
    writeFileSync(resultFile, JSON.stringify({ result, environment: environment() }))
  } catch (err) {
    writeFileSync(resultFile, JSON.stringify({ error: err instanceof Error ? err.stack ?? err.message : String(err) }))
  } finally {
    if (profiler && profileDir !== undefined) {
      const files = await profiler.stop(profileDir, name)
      const text = files.map((f) => formatProfileSummary(path.basename(f), summarizeProfile(JSON.parse(readFileSync(f, 'utf8')) as CpuProfile, 15))).join('\n\n')
      writeFileSync(path.join(profileDir, `${name}.profile.txt`), `${text}\n`)
      process.stderr.write(`  profiles: ${profileDir}/${name}.*\n`)
    }
  }
}

main().then(
  // Worker pools (codec pool) may keep the loop alive; the result is written.
  () => process.exit(0),
  (err: unknown) => {
    console.error(err)
    process.exit(1)
  },
)
