/**
 * The size of V8's young generation in this process, as far as the consumer needs it to size
 * its fetches (see `kFetchResponseBytes` in consumer.ts). V8 reports only the semi-space's
 * current size, which grows with use; the ceiling is the `--max-semi-space-size` flag, read
 * from Node's options as the process was started (command line or NODE_OPTIONS).
 */

/** V8's `max_semi_space_size` default on 64-bit systems (Node 20): 16 MiB. */
const kDefaultSemiSpaceBytes = 16 * 1024 * 1024

/**
 * The largest semi-space V8 may grow to: `--max-semi-space-size` (MiB) when the process was
 * started with it, else V8's default.
 */
export function maxSemiSpaceBytes(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): number {
  const args = [...nodeOptions.split(/\s+/), ...execArgv]
  let mib: number | undefined
  for (let i = 0; i < args.length; i++) {
    const match = /^--max[-_]semi[-_]space[-_]size(?:=(.*))?$/.exec(args[i]!)
    if (!match) continue
    const value = Number(match[1] ?? args[i + 1])
    // The last one given wins, as for Node's own options.
    if (Number.isFinite(value) && value > 0) mib = value
  }
  return mib === undefined ? kDefaultSemiSpaceBytes : mib * 1024 * 1024
}
