/**
 * Runs a benchmark script in a Node process of its own, started with Node flags that can only
 * be chosen when a process starts (the garbage collector's), and reads back the JSON result
 * the script wrote. Used by consume-process.ts and e2e-process.ts.
 */
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'

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
