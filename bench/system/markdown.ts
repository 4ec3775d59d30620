/**
 * Regenerated sections of BENCHMARKS.md. A section sits between two HTML comments,
 * `<!-- bench:<name>:start -->` and `<!-- bench:<name>:end -->`, so a rerun replaces exactly
 * the generated tables and leaves the hand-written analysis around them alone.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { kRepoRoot } from './repo-root.js'

/** BENCHMARKS.md at the repository root. */
export const kBenchmarksFile = path.join(kRepoRoot, 'BENCHMARKS.md')

/** The start and end markers of section `name`. */
export function sectionMarkers(name: string): { start: string; end: string } {
  return { start: `<!-- bench:${name}:start -->`, end: `<!-- bench:${name}:end -->` }
}

/**
 * Returns `document` with the content between the markers of section `name` replaced by
 * `content`; when the markers are missing, the section is appended at the end.
 */
export function replaceSection(document: string, name: string, content: string): string {
  const { start, end } = sectionMarkers(name)
  const block = `${start}\n${content.trim()}\n${end}`
  const from = document.indexOf(start)
  const to = document.indexOf(end)
  if (from >= 0 && to > from) return document.slice(0, from) + block + document.slice(to + end.length)
  if (from >= 0 || to >= 0) throw new Error(`BENCHMARKS.md: the markers of section '${name}' are unbalanced`)
  return `${document.trimEnd()}\n\n${block}\n`
}

/** Rewrites section `name` of `file` (default BENCHMARKS.md) with `content`; returns the file's path. */
export function replaceMarkedSection(name: string, content: string, file = kBenchmarksFile): string {
  const document = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n'
  writeFileSync(file, replaceSection(document, name, content))
  return file
}
