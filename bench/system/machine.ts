/**
 * What a benchmark ran on, recorded next to every figure: CPU model, cores, memory, Node,
 * the commit measured (and whether the working tree had changes), and the load average when
 * the run started, because on a shared machine that explains more variance than anything.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { performance } from 'node:perf_hooks'
import { kRepoRoot } from './repo-root.js'

/** The machine and code a run measured. */
export interface MachineDescription {
  cpuModel: string
  /** Logical processors Node may use (`os.availableParallelism`). */
  cores: number
  memoryGiB: number
  node: string
  platform: string
  /** `git rev-parse --short HEAD`, with `+dirty` when the working tree had changes; `unknown` outside git. */
  commit: string
  /** 1-minute load average when the description was taken. */
  loadAverage1m: number
  /** One line for table captions: `Intel Xeon, 2 cores, 23 GiB, Node v20.20.2, linux`. */
  summary: string
}

function gitCommit(): string {
  try {
    const git = (...args: string[]): string => execFileSync('git', args, { cwd: kRepoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    const head = git('rev-parse', '--short', 'HEAD')
    return git('status', '--porcelain', '--untracked-files=no') === '' ? head : `${head}+dirty`
  } catch {
    // Not a git checkout (an installed package): the commit is simply not known.
    return 'unknown'
  }
}

let cached: Omit<MachineDescription, 'loadAverage1m'> | undefined

/** Describes this machine and checkout. */
export function describeMachine(): MachineDescription {
  if (!cached) {
    const cpuModel = os.cpus()[0]?.model.trim() ?? 'unknown CPU'
    const cores = os.availableParallelism()
    const memoryGiB = Math.round(os.totalmem() / 2 ** 30)
    const platform = `${os.platform()} ${os.release()}`
    cached = {
      cpuModel, cores, memoryGiB, node: process.version, platform, commit: gitCommit(),
      summary: `${cpuModel}, ${cores} cores, ${memoryGiB} GiB, Node ${process.version}, ${os.platform()}`,
    }
  }
  return { ...cached, loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100 }
}

/** CPU time of every core of the machine, ms, busy (user + nice + sys + irq) and in total. */
export interface MachineCpuTimes {
  busyMs: number
  totalMs: number
}

/** Reads the machine's cumulative CPU times (`os.cpus()`), to tell how busy other processes kept it. */
export function machineCpuTimes(): MachineCpuTimes {
  let busyMs = 0
  let totalMs = 0
  for (const { times } of os.cpus()) {
    const busy = times.user + times.nice + times.sys + times.irq
    busyMs += busy
    totalMs += busy + times.idle
  }
  return { busyMs, totalMs }
}

/** How busy the machine was while a benchmark ran, in cores (CPU-seconds per second). */
export interface RunEnvironment {
  /** Cores the benchmark's own process used (all its threads). */
  ownCores: number
  /** Cores other processes used meanwhile: the noise the figures were measured under. */
  otherCores: number
  /** Length of the benchmark, s. */
  seconds: number
}

/** Starts watching; the returned function tells the environment since then. */
export function watchEnvironment(): () => RunEnvironment {
  const machine = machineCpuTimes()
  const own = process.cpuUsage()
  const children = childrenCpuMs()
  const started = performance.now()
  return () => {
    const ms = performance.now() - started
    const m = machineCpuTimes()
    const used = process.cpuUsage(own)
    // Processes the benchmark started itself (and waited for) are its own work, not noise.
    const ownCores = ((used.user + used.system) / 1000 + childrenCpuMs() - children) / ms
    const machineCores = (m.busyMs - machine.busyMs) / ms
    return { ownCores: round2(ownCores), otherCores: round2(Math.max(0, machineCores - ownCores)), seconds: Math.round(ms / 100) / 10 }
  }
}

/**
 * CPU time of this process's children that ended and were waited for, ms: fields 16 and 17
 * (cutime, cstime) of /proc/self/stat, in clock ticks (100 per second on Linux). 0 where
 * /proc is missing.
 */
function childrenCpuMs(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[13]) + Number(fields[14])) * 10
  } catch {
    return 0
  }
}

function round2(n: number): number {
  return Math.round(n * 100) / 100
}
