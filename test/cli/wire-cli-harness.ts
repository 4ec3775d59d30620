/**
 * Test helper: runs a wire CLI command in-process, the way `shardlog <cmd> ...` would, with
 * stdin, stdout, stderr and the exit code captured.
 */
import { Readable } from 'node:stream'
import type { Command } from 'commander'
import type { CliIo } from '../../src/cli/cli-common.js'

/** What one run printed and returned. */
export interface CliRun {
  stdout: string
  stderr: string
  exitCode: number
}

class Captured {
  text = ''
  write(chunk: string): boolean {
    this.text += chunk
    return true
  }
}

/**
 * Runs the command built by `build(io)` with `args` (as typed after the command name) and
 * `stdin`. Commander's own exits (usage errors) become exit code 1 with its message on stderr.
 */
export async function runCli(build: (io: CliIo) => Command, args: readonly string[], stdin = ''): Promise<CliRun> {
  const stdout = new Captured()
  const stderr = new Captured()
  let exitCode = 0
  const io: CliIo = { stdout, stderr, stdin: Readable.from([stdin]), setExitCode: (code) => { exitCode = code } }
  const command = build(io)
  const quiet = (cmd: Command): void => {
    cmd.exitOverride().configureOutput({ writeOut: (s) => stdout.write(s), writeErr: (s) => stderr.write(s) })
    cmd.commands.forEach(quiet)
  }
  quiet(command)
  try {
    await command.parseAsync([...args], { from: 'user' })
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode
    if (code === undefined) throw err
    exitCode = code
  }
  return { stdout: stdout.text, stderr: stderr.text, exitCode }
}
