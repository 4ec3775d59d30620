/**
 * The README's code examples run as written: each ```ts block is extracted, its
 * `from 'shardlog'` import pointed at the sources and `./data` at a temp directory, and
 * executed in a child process with tsx.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/cluster.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8')

/** The ```ts blocks of the README that import from 'shardlog' and stand alone. */
function examples(): string[] {
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((code) => code.includes("from 'shardlog'"))
}

describe('docs > README examples', () => {
  const blocks = examples()

  it('has examples to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(2)
  })

  it.each(blocks.map((code, i) => [i, code] as const))('example %i runs', async (_i, code) => {
    const dir = tempDir()
    const dataDir = path.join(dir, 'data')
    const script = [
      `import { Cluster } from ${JSON.stringify(path.join(root, 'src/index.ts'))}`,
      `const dataDir = ${JSON.stringify(dataDir)}`,
      // The quick example consumes forever; the script ends once the example's own code ran.
      code.replace(/^import .* from 'shardlog'\n/m, '').replaceAll("'./data'", 'dataDir'),
      'process.exit(0)',
    ].join('\n')
    const file = path.join(dir, 'example.mts')
    fs.writeFileSync(file, script)
    const run = promisify(execFile)
    const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000 })
    expect(typeof stdout).toBe('string')
  }, 90_000)
})
