#!/usr/bin/env node
// Thin launcher: the CLI lives in src/cli and is run from its build in dist/.
import { main } from '../dist/src/cli/index.js'

main(process.argv).catch((err) => {
  process.stderr.write(`shardlog: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
})
