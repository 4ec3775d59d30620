/**
 * `perf compare`: overlays saved runs (directories written with `--out`) in one report. Each
 * run is read back from its `summary.json` and its `.hgrm` distributions only, so runs made
 * by different shardlog builds, or against Kafka, compare alike.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { InvalidConfigError } from '../errors.js'
import { parsePercentileDistribution, type PercentileDistribution } from './hgrm.js'
import { renderReportHtml, type ReportRun } from './report-html.js'
import type { LoadTestSummary } from './summary.js'

/** A saved run read back from its directory. */
export interface SavedRun extends ReportRun {
  /** The directory it was read from. */
  dir: string
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads a run directory: `summary.json` and the `.hgrm` file of every latency series it lists.
 * Throws {@link InvalidConfigError} naming the file when the directory is not a saved run.
 */
export async function readSavedRun(dir: string): Promise<SavedRun> {
  const summaryPath = path.join(dir, 'summary.json')
  let text: string
  try {
    text = await readFile(summaryPath, 'utf8')
  } catch (err) {
    throw new InvalidConfigError(`${dir} is not a perf run directory: cannot read ${summaryPath}`, { cause: err })
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new InvalidConfigError(`${summaryPath} is not valid JSON`, { cause: err })
  }
  if (!isObject(parsed) || parsed['format'] !== 'shardlog-perf-summary') {
    throw new InvalidConfigError(`${summaryPath} is not a shardlog perf summary (no "format": "shardlog-perf-summary")`)
  }
  if (parsed['formatVersion'] !== 1) throw new InvalidConfigError(`${summaryPath} has formatVersion ${String(parsed['formatVersion'])}; this shardlog reads version 1`)
  if (!Array.isArray(parsed['latency']) || !Array.isArray(parsed['intervals']) || !isObject(parsed['config'])) {
    throw new InvalidConfigError(`${summaryPath} lacks the latency, intervals or config sections`)
  }
  const summary = parsed as unknown as LoadTestSummary
  const distributions: Record<string, PercentileDistribution> = {}
  for (const series of summary.latency) {
    const hgrmPath = path.join(dir, series.files.hgrm)
    let hgrm: string
    try {
      hgrm = await readFile(hgrmPath, 'utf8')
    } catch (err) {
      throw new InvalidConfigError(`${dir}: missing ${series.files.hgrm} listed in summary.json`, { cause: err })
    }
    distributions[series.id] = parsePercentileDistribution(hgrm, hgrmPath)
  }
  return { dir, summary, distributions }
}

/**
 * Gives every run a legend label: its own label (mode, compression, acks, target), with the
 * directory name appended where two runs would otherwise share one.
 */
export function labelRuns(runs: readonly SavedRun[]): SavedRun[] {
  const counts = new Map<string, number>()
  for (const run of runs) counts.set(run.summary.label, (counts.get(run.summary.label) ?? 0) + 1)
  return runs.map((run) => ({
    ...run,
    label: (counts.get(run.summary.label) ?? 0) > 1 ? `${run.summary.label} (${path.basename(path.resolve(run.dir))})` : run.summary.label,
  }))
}

/** What {@link compareRuns} wrote. */
export interface CompareResult {
  runs: SavedRun[]
  /** Path of the comparison report. */
  report: string
}

/** Reads the runs in `dirs` and writes `report.html` overlaying them to `outDir`. */
export async function compareRuns(dirs: readonly string[], outDir: string): Promise<CompareResult> {
  if (dirs.length === 0) throw new InvalidConfigError('perf compare needs at least one run directory')
  const runs = labelRuns(await Promise.all(dirs.map((dir) => readSavedRun(dir))))
  const dir = path.resolve(outDir)
  await mkdir(dir, { recursive: true })
  const report = path.join(dir, 'report.html')
  await writeFile(report, renderReportHtml({ title: `shardlog perf comparison · ${runs.length} runs`, runs }))
  return { runs, report }
}
