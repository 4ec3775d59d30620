/**
 * CPU profiles of every thread of a benchmark process, and their summary by self time.
 *
 * `node --cpu-prof` profiles the main thread and the workers that inherit its flags, but the
 * shard workers are started with their own `execArgv`, so they would be left out. Instead the
 * {@link ThreadProfiler} uses the inspector from inside the process: the `Profiler` domain for
 * the main thread and the `NodeWorker` domain to attach to every worker thread (shards, codec
 * pool) and profile it too. Profiles are written as `.cpuprofile` files (Chrome DevTools and
 * speedscope open them) into a directory the caller chooses, outside the repository.
 *
 * Summaries: `npx tsx bench/system/cpu-profile.ts <file.cpuprofile>... [--top N]`.
 */
import { writeFileSync, readFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

/** The subset of the V8 CPU profile format that the summary reads. */
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number } }>
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

interface WorkerMessage {
  id?: number
  result?: { profile?: CpuProfile }
  error?: { message: string }
}

let active: ThreadProfiler | undefined

/**
 * Called by a benchmark before it stops its worker threads: a worker's profile must be taken
 * while the thread still runs. A no-op when nothing is being profiled.
 */
export async function collectWorkerProfiles(): Promise<void> {
  await active?.collectWorkers()
}

/** Profiles the main thread and every worker thread from {@link start} until {@link stop}. */
export class ThreadProfiler {
  readonly #session = new Session()
  readonly #workers = new Map<string, string>()
  readonly #pending = new Map<number, (m: WorkerMessage) => void>()
  readonly #profiles: Array<{ thread: string; profile: CpuProfile }> = []
  #nextId = 0

  private constructor() {}

  /** Starts profiling this thread and every worker thread, present and future. */
  static async start(): Promise<ThreadProfiler> {
    const profiler = new ThreadProfiler()
    await profiler.#begin()
    active = profiler
    return profiler
  }

  async #begin(): Promise<void> {
    const s = this.#session
    s.connect()
    s.on('NodeWorker.attachedToWorker', (message) => {
      const { sessionId, workerInfo } = message.params as { sessionId: string; workerInfo: { title: string; workerId: string } }
      this.#workers.set(sessionId, workerInfo.title || `worker-${workerInfo.workerId}`)
      // Not awaited: the inspector's event callback cannot wait; a worker that exits this soon has nothing to show.
      void this.#toWorker(sessionId, 'Profiler.enable').then(() => this.#toWorker(sessionId, 'Profiler.start')).catch(() => undefined)
    })
    s.on('NodeWorker.detachedFromWorker', (message) => {
      this.#workers.delete((message.params as { sessionId: string }).sessionId)
    })
    s.on('NodeWorker.receivedMessageFromWorker', (message) => {
      const m = JSON.parse((message.params as { message: string }).message) as WorkerMessage
      if (m.id !== undefined) this.#pending.get(m.id)?.(m)
      if (m.id !== undefined) this.#pending.delete(m.id)
    })
    await s.post('Profiler.enable')
    await s.post('Profiler.setSamplingInterval', { interval: 200 })
    await s.post('Profiler.start')
    await s.post('NodeWorker.enable', { waitForDebuggerOnStart: false })
  }

  #toWorker(sessionId: string, method: string): Promise<WorkerMessage> {
    const id = ++this.#nextId
    return new Promise<WorkerMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${method}: no answer from worker`))
      }, 10_000)
      this.#pending.set(id, (m) => {
        clearTimeout(timer)
        resolve(m)
      })
      void this.#session.post('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method }) }).catch(reject)
    })
  }

  /** Takes the profiles of the workers running now (before they are stopped). */
  async collectWorkers(): Promise<void> {
    await Promise.all([...this.#workers].map(async ([sessionId, thread]) => {
      const answer = await this.#toWorker(sessionId, 'Profiler.stop').catch(() => undefined)
      if (answer?.result?.profile) this.#profiles.push({ thread, profile: answer.result.profile })
    }))
  }

  /** Stops every profile and writes them to `dir` as `<label>.<thread>.cpuprofile`; returns the paths. */
  async stop(dir: string, label: string): Promise<string[]> {
    await this.collectWorkers()
    const { profile } = (await this.#session.post('Profiler.stop')) as { profile: CpuProfile }
    this.#profiles.unshift({ thread: 'main', profile })
    this.#session.disconnect()
    if (active === this) active = undefined
    const counts = new Map<string, number>()
    return this.#profiles.map(({ thread, profile: p }) => {
      const slug = thread.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/^-|-$/g, '') || 'thread'
      const n = (counts.get(slug) ?? 0) + 1
      counts.set(slug, n)
      const file = path.join(dir, `${label}.${slug}${n > 1 ? `-${n}` : ''}.cpuprofile`)
      writeFileSync(file, JSON.stringify(p))
      return file
    })
  }
}

/** One function's share of a profile. */
export interface SelfTimeRow {
  /** `name (file)`. */
  fn: string
  selfMs: number
  /** Percent of the sampled time, idle included. */
  percent: number
}

/** A profile by self time. */
export interface ProfileSummary {
  sampledMs: number
  /** Time the thread waited with nothing to run (`(idle)`, plus blocking `Atomics.wait`). */
  idleMs: number
  gcMs: number
  rows: SelfTimeRow[]
}

/** Sums each function's self time (time at the top of the stack) and returns the top `top`. */
export function summarizeProfile(profile: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<string, number>()
  let sampled = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)
    const dt = profile.timeDeltas[i] ?? 0
    if (!node) continue
    // Functions are keyed by name and file only: code run through tsx is transformed, so the
    // profile's line numbers are those of the transformed module, not of the source.
    const { functionName, url } = node.callFrame
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(src|bench|workers|node_modules)\//, '$1/')
    const fn = file === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} (${file})`
    self.set(fn, (self.get(fn) ?? 0) + dt)
    sampled += dt
  }
  const ms = (us: number): number => us / 1000
  const idle = [...self].filter(([fn]) => fn === '(idle)' || fn.startsWith('waitForDataSync ')).reduce((a, [, t]) => a + t, 0)
  const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([fn, t]) => ({ fn, selfMs: ms(t), percent: sampled > 0 ? (100 * t) / sampled : 0 }))
  return { sampledMs: ms(sampled), idleMs: ms(idle), gcMs: ms(self.get('(garbage collector)') ?? 0), rows }
}

/** The summary as text lines. */
export function formatProfileSummary(title: string, s: ProfileSummary): string {
  const lines = [`${title}: ${s.sampledMs.toFixed(0)} ms sampled, ${s.idleMs.toFixed(0)} ms idle/waiting, ${s.gcMs.toFixed(0)} ms GC`]
  for (const r of s.rows) lines.push(`  ${r.percent.toFixed(1).padStart(5)}%  ${r.selfMs.toFixed(0).padStart(7)} ms  ${r.fn}`)
  return lines.join('\n')
}

async function main(argv: string[]): Promise<void> {
  const topAt = argv.indexOf('--top')
  const top = topAt >= 0 ? Number(argv[topAt + 1]) : 20
  const files = argv.filter((a, i) => a !== '--top' && (topAt < 0 || i !== topAt + 1))
  if (files.length === 0) {
    console.error('usage: npx tsx bench/system/cpu-profile.ts <file.cpuprofile>... [--top N]')
    process.exitCode = 2
    return
  }
  for (const file of files) {
    console.log(formatProfileSummary(path.basename(file), summarizeProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, top)))
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main(process.argv.slice(2))
