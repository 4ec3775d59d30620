/**
 * Where the repository is, whether the benchmarks run from their TypeScript sources (tsx) or
 * from their compiled copy in `build-bench/` (`npm run bench:system`): the first directory
 * above this module that holds shardlog's package.json.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json')
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'shardlog') return dir
    if (path.dirname(dir) === dir) throw new Error(`no shardlog package.json above ${from}`)
  }
}

/** The repository's root directory. */
export const kRepoRoot = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)))

/** `.ts` when running from sources, `.js` when running compiled: the extension of sibling modules to spawn. */
export const kModuleExtension = path.extname(fileURLToPath(import.meta.url))
