/**
 * An exclusive lock on a data directory, as Kafka's `.lock` file in each log dir: two
 * shardlog processes writing the same segments would corrupt them, so the second one
 * refuses to start. The lock file holds the owner's pid; a lock left by a process that no
 * longer runs (a crash, kill -9) is taken over.
 */
import fs from 'node:fs'
import path from 'node:path'
import { KafkaStorageError } from '../errors.js'

/** A held lock; release() removes it. */
export interface DataDirLock {
  release(): void
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Takes the lock on `dataDir`, or throws KAFKA_STORAGE_ERROR naming the process that holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = path.join(dataDir, '.lock')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' })
      let released = false
      return {
        release: () => {
          if (released) return
          released = true
          try {
            if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.unlinkSync(file)
          } catch {
            // Already gone: nothing to release.
          }
        },
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new KafkaStorageError(`Cannot lock data directory ${dataDir}: ${(err as Error).message}`)
      const owner = Number(fs.readFileSync(file, 'utf8').trim())
      if (Number.isInteger(owner) && owner > 0 && isRunning(owner)) {
        const who = owner === process.pid ? 'another cluster in this process' : `process ${owner}`
        throw new KafkaStorageError(`Data directory ${dataDir} is in use by ${who} (lock file ${file}); stop it or choose another dataDir`)
      }
      fs.rmSync(file, { force: true })
    }
  }
  throw new KafkaStorageError(`Cannot lock data directory ${dataDir}: the lock file keeps coming back`)
}
