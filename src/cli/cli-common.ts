/**
 * What the wire commands (topics, produce, consume, groups) share: the `--bootstrap` option,
 * the I/O they write to, option parsers, table formatting, and the one-line error report
 * (`Error: <Kafka error name>: message` on stderr, exit code 1).
 */
import { InvalidArgumentError, Option } from 'commander'
import { isShardlogError } from '../errors.js'
import { WireAdmin } from '../protocol/client/wire-admin.js'

/** The bootstrap server the wire commands use without `--bootstrap` (Kafka's usual local broker). */
export const DEFAULT_BOOTSTRAP = '127.0.0.1:9092'

/** A stream the commands write text to. */
export interface TextSink {
  write(chunk: string): boolean
}

/** Where the wire commands read and write; the process's streams by default. */
export interface CliIo {
  stdout: TextSink
  stderr: TextSink
  /** Lines for `produce`. */
  stdin: NodeJS.ReadableStream
  /** Sets the exit code (1 on error). */
  setExitCode(code: number): void
}

/** The process's stdin, stdout and stderr. */
export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  setExitCode: (code) => { process.exitCode = code },
}

/** The `--bootstrap host:port` option every wire command takes. */
export function bootstrapOption(): Option {
  return new Option('--bootstrap <host:port>', 'Kafka bootstrap server(s), comma-separated').default(DEFAULT_BOOTSTRAP)
}

/** `Error: <Kafka error name>: message`, the one line a failed command prints. */
export function formatCliError(err: unknown): string {
  if (isShardlogError(err)) return `Error: ${err.code}: ${err.message}`
  return `Error: UNKNOWN_SERVER_ERROR: ${err instanceof Error ? err.message : String(err)}`
}

/** Runs a command's body; a failure becomes one error line on stderr and exit code 1. */
export async function runCommand(io: CliIo, body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    io.stderr.write(`${formatCliError(err)}\n`)
    io.setExitCode(1)
  }
}

/** Runs `body` with an admin client for `bootstrap`, closed afterwards. */
export async function withAdmin<T>(bootstrap: string, body: (admin: WireAdmin) => Promise<T>): Promise<T> {
  const admin = await WireAdmin.connect(bootstrap)
  try {
    return await body(admin)
  } finally {
    await admin.close()
  }
}

/** Parses a whole number >= `min` (commander argument parser). */
export function integerAtLeast(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value)
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}, got "${value}"`)
    return n
  }
}

/** Collects a repeatable `k=v` option into a record. */
export function collectConfig(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const at = value.indexOf('=')
  if (at <= 0) throw new InvalidArgumentError(`expected name=value, got "${value}"`)
  return { ...previous, [value.slice(0, at).trim()]: value.slice(at + 1) }
}

/** Collects a repeatable option into a list. */
export function collectList(value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

/**
 * Formats rows as columns separated by two spaces, each as wide as its widest cell (the last
 * column unpadded).
 */
export function formatTable(rows: ReadonlyArray<readonly string[]>): string[] {
  const widths: number[] = []
  for (const row of rows) row.forEach((cell, i) => { widths[i] = Math.max(widths[i] ?? 0, cell.length) })
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] as number))).join('  '))
}

/** The flags every wire command has. */
export interface CommonFlags {
  bootstrap: string
}

