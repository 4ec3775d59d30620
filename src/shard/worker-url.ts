/**
 * Finds the entry file of a worker thread, whether shardlog runs compiled (dist/) or from its
 * TypeScript sources (vitest, tsx). Main thread only.
 *
 * This module's own URL tells which: `src/shard/worker-url.ts` when run from sources,
 * `dist/src/shard/worker-url.js` when compiled (tsconfig.build.json compiles `src` and
 * `workers` side by side under `dist/`). Either way the worker entry is `workers/<name>`,
 * two levels up.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { InvalidConfigError } from '../errors.js'

/** Where a worker entry lives and the Node flags its thread needs to load it. */
export interface WorkerEntry {
  /** The entry module: `dist/workers/<name>.js` compiled, `workers/<name>.ts` from sources. */
  url: URL
  /** `execArgv` for the Worker: empty for JavaScript, a TypeScript loader for `.ts` entries. */
  execArgv: string[]
}

/** Names a worker entry file may have (kebab-case, as every file in the project). */
const kWorkerName = /^[a-z0-9][a-z0-9-]*$/

/** Resolves `workers/<name>` next to this build (compiled) or in the sources (TypeScript). */
export function workerUrl(name: string): WorkerEntry {
  if (!kWorkerName.test(name)) throw new InvalidConfigError(`invalid worker name '${name}'`)
  const fromSources = import.meta.url.endsWith('.ts')
  const url = new URL(`../../workers/${name}.${fromSources ? 'ts' : 'js'}`, import.meta.url)
  return { url, execArgv: workerExecArgv(url) }
}

let tsxPreload: string | undefined

/**
 * The `execArgv` a Worker needs to run the entry at `url`: nothing for JavaScript; for a
 * `.ts`/`.mts`/`.cts` entry, an `--import` of a one-line module that registers tsx's ESM loader inside the
 * new thread.
 *
 * Why not plain `--import tsx`: in Node 20, tsx registers its hooks on the main thread only,
 * and hooks registered on the main thread do not apply to workers, so a worker started with
 * `--import tsx` still fails on `.ts` ("Unknown file extension"). Calling tsx's `register()`
 * API from the worker's own preload works on every Node version tsx supports. tsx is a dev
 * dependency: only runs from sources need it.
 */
export function workerExecArgv(url: URL): string[] {
  if (!/\.[cm]?ts$/.test(url.pathname)) return []
  tsxPreload ??= `data:text/javascript,${encodeURIComponent(
    `import { register } from ${JSON.stringify(tsxEsmApiUrl())}; register();`)}`
  return ['--import', tsxPreload]
}

/** URL of tsx's ESM API module, found through its package exports (its CJS twin cannot register ESM hooks). */
function tsxEsmApiUrl(): string {
  const require = createRequire(import.meta.url)
  const manifestPath = require.resolve('tsx/package.json')
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    exports?: Record<string, string | { import?: string | { default?: string } }>
  }
  const entry = manifest.exports?.['./esm/api']
  const target = typeof entry === 'string' ? entry
    : typeof entry?.import === 'string' ? entry.import : entry?.import?.default
  if (target === undefined) throw new InvalidConfigError(`tsx at ${manifestPath} exports no './esm/api' ESM entry`)
  return pathToFileURL(path.join(path.dirname(manifestPath), target)).href
}
