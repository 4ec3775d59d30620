/**
 * What a run was measured on: machine and versions, recorded in every `summary.json` so that
 * results from different machines are never compared unknowingly.
 */
import { existsSync, readFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** The machine a run was measured on. */
export interface MachineInfo {
  os: { type: string; platform: string; release: string; arch: string }
  hostname: string
  cpus: { model: string; count: number; speedMHz: number }
  /** Logical processors Node may use (`os.availableParallelism`). */
  availableParallelism: number
  memory: { totalBytes: number; freeBytes: number }
  node: string
}

/** Versions of the software that ran the test. */
export interface VersionInfo {
  shardlog: string
  node: string
  v8: string
  hdrHistogramJs: string
}

/** Describes the current machine. */
export function collectMachineInfo(): MachineInfo {
  const cpus = os.cpus()
  const first = cpus[0]
  return {
    os: { type: os.type(), platform: os.platform(), release: os.release(), arch: os.arch() },
    hostname: os.hostname(),
    cpus: { model: first?.model.trim() ?? 'unknown', count: cpus.length, speedMHz: first?.speed ?? 0 },
    availableParallelism: typeof os.availableParallelism === 'function' ? os.availableParallelism() : cpus.length,
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    node: process.version,
  }
}

/**
 * Finds the nearest `package.json` named `name` at or above `fromDir` and returns its version.
 * Walking up works from `src/perf/` (tsx) and from `dist/src/perf/` (the build) alike.
 */
function packageVersion(name: string, fromDir: string): string {
  let dir = fromDir
  for (;;) {
    const candidate = path.join(dir, 'package.json')
    if (existsSync(candidate)) {
      try {
        const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: unknown; version?: unknown }
        if (pkg.name === name && typeof pkg.version === 'string') return pkg.version
      } catch {
        // An unreadable package.json on the way up is not ours: keep walking.
      }
    }
    const parent = path.dirname(dir)
    if (parent === dir) return 'unknown'
    dir = parent
  }
}

const here = path.dirname(fileURLToPath(import.meta.url))

/** Versions of shardlog (from its package.json), Node, V8 and hdr-histogram-js. */
export function collectVersions(): VersionInfo {
  const root = packageRoot()
  return {
    shardlog: packageVersion('shardlog', here),
    node: process.version,
    v8: process.versions.v8,
    hdrHistogramJs: root === undefined ? 'unknown' : packageVersion('hdr-histogram-js', path.join(root, 'node_modules', 'hdr-histogram-js')),
  }
}

function packageRoot(): string | undefined {
  let dir = here
  for (;;) {
    if (existsSync(path.join(dir, 'node_modules', 'hdr-histogram-js', 'package.json'))) return dir
    const parent = path.dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}
