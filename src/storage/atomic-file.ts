/**
 * Crash-safe replacement of small files (checkpoints, snapshots): a crash leaves either the
 * old or the new content, never a mix — Kafka's `Utils.atomicMoveWithFallback`.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Replaces `file` with `data`: write a sibling `.tmp`, then rename it over `file`. With
 * `durable` (the default) the tmp file is fsynced before the rename and the directory after
 * it, so the new content survives a power loss; without, only a process crash is covered —
 * enough where an older value is merely conservative (a recovery point).
 */
export function writeFileAtomicSync(file: string, data: Buffer, durable = true): void {
  const tmp = `${file}.tmp`
  const fd = openSync(tmp, 'w', 0o644)
  try {
    let written = 0
    while (written < data.length) written += writeSync(fd, data, written, data.length - written)
    if (durable) fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, file)
  if (durable) fsyncDirectory(dirname(file))
}

function fsyncDirectory(dir: string): void {
  let fd: number
  try {
    fd = openSync(dir, 'r')
  } catch {
    return // Windows cannot open a directory; there the rename is as durable as it gets
  }
  try {
    fsyncSync(fd)
  } catch {
    // Some filesystems refuse fsync on a directory (EINVAL/EISDIR); the file itself is synced.
  } finally {
    closeSync(fd)
  }
}
