/**
 * Runs a benchmark script in a Node process of its own, started with Node flags that can only
 * be chosen when a process starts (the garbage collector's), and reads back the JSON result
 * the script wrote; and the child's side: running its `main` when it is the started script.
 * Used by consume-process.ts and e2e-process.ts.
 */
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { isMainModule } from './bench-section.js'

/**
 * Starts `node <nodeFlags> <this process's flags> <script> <args> <resultFile>`, waits for it
 * to exit and returns the JSON it wrote to `resultFile` (then removed). `what` names the run
 * in the error when the process ends without a result.
 */
export function runScriptWithFlags<T>(script: string, args: readonly string[], nodeFlags: readonly string[], resultFile: string, what: string): Promise<T> {
  const argv = [...nodeFlags, ...process.execArgv, script, ...args, resultFile]
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code, signal) => {
      try {
        resolve(JSON.parse(readFileSync(resultFile, 'utf8')) as T)
      } catch {
        reject(new Error(`the ${what} process ended (${signal ?? `exit code ${code}`}) without a result`))
      } finally {
        rmSync(resultFile, { force: true })
      }
    })
  })
}

/**
 * The child's side: runs `main` when the module at `moduleUrl` is the script node was started
 * with (not when it is imported for {@link runScriptWithFlags}), then exits (worker pools may
 * keep the loop alive; the result is written), with code 1 and the error on stderr if it throws.
 */
export function runIfStartedScript(moduleUrl: string, main: () => Promise<void>): void {
  if (!isMainModule(moduleUrl)) return
  main().then(() => process.exit(0), (err: unknown) => {
    console.error(err)
    process.exit(1)
  })
}
