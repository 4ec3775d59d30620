/**
 * The HTML report of one run or of several runs overlaid (`perf compare`): one self-contained
 * page with inline CSS and server-side SVG charts, no script and no network access needed.
 *
 * Charts:
 * - latency by percentile, drawn as HdrHistogram's plotter draws it: x = 1/(1-p) on a log
 *   scale, labelled 0%, 90%, 99%, 99.9%, ...; y = latency in ms;
 * - throughput over time (records/s per reporting interval);
 * - latency over time (p50, p99 and max per interval).
 *
 * Everything shown comes from `summary.json` and the `.hgrm` distributions, so a comparison
 * page is built from saved runs exactly as a run's own page is.
 */
import type { PercentileDistribution } from './hgrm.js'
import {
  formatCount,
  formatDuration,
  formatMBps,
  formatMs,
  formatRate,
  type LatencySummary,
  type LoadTestSummary,
  primarySeries,
} from './summary.js'

/** One run on a report page. */
export interface ReportRun {
  summary: LoadTestSummary
  /** Parsed `.hgrm` distributions by series id. */
  distributions: Record<string, PercentileDistribution>
  /** Legend label; default `summary.label`. */
  label?: string
}

/** What {@link renderReportHtml} draws. */
export interface ReportInput {
  title: string
  runs: readonly ReportRun[]
  /** Time shown as the generation date; default now. */
  generatedAt?: Date
}

/** Series colours (Tableau 10): distinguishable, print-friendly, colour-blind aware. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac']
const DASHES = ['', '7 4', '2 3', '10 3 2 3']

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

// ---------------------------------------------------------------------------------------------
// Charts

/** A line on a chart; points are in data coordinates. */
export interface ChartLine {
  name: string
  color: string
  dash?: string
  points: ReadonlyArray<readonly [number, number]>
  /** Points to mark with a dot and a tooltip. */
  markers?: ReadonlyArray<{ x: number; y: number; tooltip: string }>
}

/** An axis: its title (with unit), scale and ticks, in data coordinates. */
export interface AxisSpec {
  title: string
  kind: 'linear' | 'log' | 'percentile'
  min: number
  max: number
  ticks: Array<{ value: number; label: string }>
}

/** Horizontal bands (e.g. warmup) drawn behind the lines, in x data coordinates. */
export interface Band {
  from: number
  to: number
  label: string
}

/** Everything {@link renderLineChart} draws. */
export interface ChartSpec {
  id: string
  x: AxisSpec
  y: AxisSpec
  lines: readonly ChartLine[]
  bands?: readonly Band[]
}

const CHART_WIDTH = 960
const CHART_HEIGHT = 340
const MARGIN = { top: 16, right: 28, bottom: 54, left: 76 }

/** A "nice" step (1, 2 or 5 × 10^k) giving about `count` intervals over `span`. */
function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count)
  const magnitude = 10 ** Math.floor(Math.log10(raw))
  const residual = raw / magnitude
  return (residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1) * magnitude
}

function trimNumber(value: number, step: number): string {
  const decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)))
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

/**
 * A linear axis from `min` to a nice maximum at or above `max`. `slack` lets `max` overshoot
 * the last tick by that fraction of a step: reporting intervals end a few ms after each whole
 * second, and 3.003 s should not stretch a time axis to 4 s.
 */
function linearAxis(title: string, min: number, max: number, count = 6, slack = 0): AxisSpec {
  const hi = max > min ? max : min + 1
  const step = niceStep(hi - min, count)
  const top = Math.max(step, Math.ceil(hi / step - Math.max(1e-9, slack)) * step)
  const ticks: AxisSpec['ticks'] = []
  for (let v = Math.floor(min / step) * step; v <= top + step / 2; v += step) ticks.push({ value: v, label: trimNumber(v, step) })
  return { title, kind: 'linear', min: ticks[0]!.value, max: top, ticks }
}

/** A log10 axis covering [min, max] in whole decades. */
function logAxis(title: string, min: number, max: number): AxisSpec {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-3)))
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(max, 1e-3))))
  const ticks: AxisSpec['ticks'] = []
  for (let d = lo; d <= hi; d++) ticks.push({ value: 10 ** d, label: (10 ** d).toLocaleString('en-US', { maximumFractionDigits: 3 }) })
  return { title, kind: 'log', min: 10 ** lo, max: 10 ** hi, ticks }
}

/** Label of a percentile decade: 0 → `0%`, 1 → `90%`, 2 → `99%`, 3 → `99.9%`, ... */
export function percentileDecadeLabel(decade: number): string {
  if (decade === 0) return '0%'
  if (decade === 1) return '90%'
  return `99.${'9'.repeat(decade - 2)}%`.replace(/\.%$/, '%')
}

/** HdrHistogram plotter's x axis: log10(1/(1-p)) from 0% to the deepest decade with data. */
function percentileAxis(maxInverse: number): AxisSpec {
  const decades = Math.min(7, Math.max(2, Math.ceil(Math.log10(Math.max(maxInverse, 10)) - 1e-9)))
  const ticks: AxisSpec['ticks'] = []
  for (let d = 0; d <= decades; d++) ticks.push({ value: 10 ** d, label: percentileDecadeLabel(d) })
  return { title: 'Percentile', kind: 'percentile', min: 1, max: 10 ** decades, ticks }
}

function scale(axis: AxisSpec, value: number, from: number, to: number): number {
  let t: number
  if (axis.kind === 'linear') t = (value - axis.min) / (axis.max - axis.min)
  else t = (Math.log10(Math.max(value, axis.min)) - Math.log10(axis.min)) / (Math.log10(axis.max) - Math.log10(axis.min))
  return from + Math.min(1, Math.max(0, t)) * (to - from)
}

const fmt = (n: number): string => n.toFixed(1)

/** Renders a line chart as an `<svg>` element with axes, grid, bands, lines and markers. */
export function renderLineChart(spec: ChartSpec): string {
  const left = MARGIN.left
  const right = CHART_WIDTH - MARGIN.right
  const top = MARGIN.top
  const bottom = CHART_HEIGHT - MARGIN.bottom
  const sx = (v: number): number => scale(spec.x, v, left, right)
  const sy = (v: number): number => scale(spec.y, v, bottom, top)
  const parts: string[] = []
  parts.push(`<svg class="chart" id="${spec.id}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" role="img" aria-label="${escapeHtml(`${spec.y.title} by ${spec.x.title}`)}" xmlns="http://www.w3.org/2000/svg">`)
  parts.push(`<rect class="plot-bg" x="${left}" y="${top}" width="${right - left}" height="${bottom - top}"/>`)
  for (const band of spec.bands ?? []) {
    const x1 = sx(band.from)
    const x2 = sx(band.to)
    if (x2 - x1 < 0.5) continue
    parts.push(`<rect class="band" x="${fmt(x1)}" y="${top}" width="${fmt(x2 - x1)}" height="${bottom - top}"><title>${escapeHtml(band.label)}</title></rect>`)
    parts.push(`<text class="band-label" x="${fmt(x1 + 6)}" y="${top + 14}">${escapeHtml(band.label)}</text>`)
  }
  for (const tick of spec.y.ticks) {
    const y = sy(tick.value)
    parts.push(`<line class="grid" x1="${left}" x2="${right}" y1="${fmt(y)}" y2="${fmt(y)}"/>`)
    parts.push(`<text class="tick y-tick" x="${left - 8}" y="${fmt(y + 4)}" text-anchor="end">${escapeHtml(tick.label)}</text>`)
  }
  for (const tick of spec.x.ticks) {
    const x = sx(tick.value)
    parts.push(`<line class="grid" x1="${fmt(x)}" x2="${fmt(x)}" y1="${top}" y2="${bottom}"/>`)
    parts.push(`<text class="tick x-tick" x="${fmt(x)}" y="${bottom + 18}" text-anchor="middle">${escapeHtml(tick.label)}</text>`)
  }
  parts.push(`<line class="axis" x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}"/>`)
  parts.push(`<line class="axis" x1="${left}" x2="${left}" y1="${top}" y2="${bottom}"/>`)
  parts.push(`<text class="axis-title" x="${(left + right) / 2}" y="${CHART_HEIGHT - 10}" text-anchor="middle">${escapeHtml(spec.x.title)}</text>`)
  parts.push(`<text class="axis-title" transform="translate(18 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(spec.y.title)}</text>`)
  parts.push(`<g class="lines" clip-path="url(#${spec.id}-clip)"><clipPath id="${spec.id}-clip"><rect x="${left - 4}" y="${top - 4}" width="${right - left + 8}" height="${bottom - top + 8}"/></clipPath>`)
  for (const line of spec.lines) {
    if (line.points.length === 0) continue
    const d = line.points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${fmt(sx(x))},${fmt(sy(y))}`).join('')
    const dash = line.dash ? ` stroke-dasharray="${line.dash}"` : ''
    parts.push(`<path class="series" data-series="${escapeHtml(line.name)}" data-points="${line.points.length}" d="${d}" stroke="${line.color}"${dash}><title>${escapeHtml(line.name)}</title></path>`)
    for (const m of line.markers ?? []) {
      parts.push(`<circle class="marker" cx="${fmt(sx(m.x))}" cy="${fmt(sy(m.y))}" r="3.5" fill="${line.color}"><title>${escapeHtml(m.tooltip)}</title></circle>`)
    }
  }
  parts.push('</g></svg>')
  return parts.join('')
}

function legend(lines: readonly ChartLine[]): string {
  const items = lines.map((line) => {
    const dash = line.dash ? ` stroke-dasharray="${line.dash}"` : ''
    return `<li><svg width="30" height="10" aria-hidden="true"><line x1="1" x2="29" y1="5" y2="5" stroke="${line.color}" stroke-width="3"${dash}/></svg>${escapeHtml(line.name)}</li>`
  })
  return `<ul class="legend">${items.join('')}</ul>`
}

function figure(title: string, caption: string, spec: ChartSpec): string {
  const hasData = spec.lines.some((l) => l.points.length > 0)
  const body = hasData ? renderLineChart(spec) : '<p class="empty">No data was recorded for this chart.</p>'
  return `<figure class="card"><figcaption><h2>${escapeHtml(title)}</h2><p>${escapeHtml(caption)}</p></figcaption>${legend(spec.lines)}${body}</figure>`
}

// ---------------------------------------------------------------------------------------------
// Chart data

interface SeriesRef {
  run: ReportRun
  runIndex: number
  series: LatencySummary
  seriesIndex: number
}

function labelOf(run: ReportRun): string {
  return run.label ?? run.summary.label
}

const MARKED_PERCENTILES = [0.5, 0.9, 0.99, 0.999, 0.9999, 0.99999]

function percentileChart(runs: readonly ReportRun[]): ChartSpec {
  const single = runs.length === 1
  const refs: SeriesRef[] = runs.flatMap((run, runIndex) => run.summary.latency.map((series, seriesIndex) => ({ run, runIndex, series, seriesIndex })))
  const lines: ChartLine[] = []
  let maxInverse = 10
  let maxValue = 0
  for (const ref of refs) {
    const dist = ref.run.distributions[ref.series.id]
    if (dist === undefined || dist.rows.length === 0) continue
    const rows = dist.rows.filter((r) => Number.isFinite(r.inverse))
    if (rows.length === 0) continue
    maxInverse = Math.max(maxInverse, rows[rows.length - 1]!.inverse)
    maxValue = Math.max(maxValue, ...rows.map((r) => r.value))
    const name = single ? ref.series.title : `${labelOf(ref.run)} — ${ref.series.title.toLowerCase()}`
    const markers = MARKED_PERCENTILES.flatMap((p) => {
      const row = rows.find((r) => r.percentile >= p)
      if (row === undefined) return []
      return [{ x: row.inverse, y: row.value, tooltip: `${name}\n${(p * 100).toPrecision(6).replace(/\.?0+$/, '')}%: ${formatMs(row.value)} ms` }]
    })
    lines.push({
      name,
      color: PALETTE[(single ? ref.seriesIndex : ref.runIndex) % PALETTE.length]!,
      dash: single ? '' : DASHES[ref.seriesIndex % DASHES.length]!,
      points: rows.map((r) => [r.inverse, r.value] as const),
      markers,
    })
  }
  return { id: 'chart-percentiles', x: percentileAxis(maxInverse), y: linearAxis('Latency (ms)', 0, maxValue), lines }
}

/**
 * Intervals worth a point on a time chart. The last interval of a run is cut short by the
 * run's end; a rate over a few milliseconds is noise, so intervals under a fifth of the
 * reporting interval are left off the charts (they stay in summary.json and the .hlog).
 */
function chartIntervals(summary: LoadTestSummary): LoadTestSummary['intervals'] {
  const all = summary.intervals
  const kept = all.filter((iv) => iv.lengthMs >= summary.config.reportIntervalMs / 5)
  return kept.length > 0 ? kept : all
}

function throughputChart(runs: readonly ReportRun[]): ChartSpec {
  const single = runs.length === 1
  let maxX = 0
  let maxY = 0
  const lines = runs.map((run, i): ChartLine => {
    const intervals = chartIntervals(run.summary)
    const points = intervals.map((iv) => [(iv.startMs + iv.lengthMs) / 1000, iv.recordsPerSec] as const)
    for (const [x, y] of points) {
      maxX = Math.max(maxX, x)
      maxY = Math.max(maxY, y)
    }
    const markers = intervals.map((iv) => ({
      x: (iv.startMs + iv.lengthMs) / 1000,
      y: iv.recordsPerSec,
      tooltip: `${single ? '' : `${labelOf(run)}\n`}${((iv.startMs + iv.lengthMs) / 1000).toFixed(1)} s: ${formatRate(iv.recordsPerSec)} records/s, ${formatMBps(iv.mbPerSec)} MB/s${iv.warmup ? ' (warmup)' : ''}`,
    }))
    return { name: single ? 'Records/s' : labelOf(run), color: PALETTE[i % PALETTE.length]!, points, markers: markers.length <= 120 ? markers : [] }
  })
  return { id: 'chart-throughput', x: linearAxis('Time since start (s)', 0, maxX, 6, 0.05), y: linearAxis('Throughput (records/s)', 0, maxY), lines, bands: single ? warmupBands(runs[0]!) : [] }
}

function warmupBands(run: ReportRun): Band[] {
  const warm = run.summary.intervals.filter((iv) => iv.warmup)
  if (warm.length === 0) return []
  const last = warm[warm.length - 1]!
  return [{ from: 0, to: (last.startMs + last.lengthMs) / 1000, label: 'warmup (excluded)' }]
}

function latencyOverTimeChart(runs: readonly ReportRun[]): ChartSpec {
  const single = runs.length === 1
  const metrics = single ? (['p50', 'p99', 'max'] as const) : (['p99'] as const)
  const lines: ChartLine[] = []
  let maxX = 0
  let minY = Number.POSITIVE_INFINITY
  let maxY = 0
  runs.forEach((run, runIndex) => {
    const primary = primarySeries(run.summary)
    if (primary === undefined) return
    metrics.forEach((metric, metricIndex) => {
      const points: Array<readonly [number, number]> = []
      for (const iv of chartIntervals(run.summary)) {
        const lat = iv.latency[primary.id]
        if (lat === undefined || lat.count === 0) continue
        const x = (iv.startMs + iv.lengthMs) / 1000
        const y = lat[metric]
        points.push([x, y])
        maxX = Math.max(maxX, x)
        maxY = Math.max(maxY, y)
        if (y > 0) minY = Math.min(minY, y)
      }
      lines.push({
        name: single ? `${metric} ${primary.title.toLowerCase()}` : `${labelOf(run)} — p99`,
        color: PALETTE[(single ? metricIndex : runIndex) % PALETTE.length]!,
        points,
        markers: points.length <= 120 ? points.map(([x, y]) => ({ x, y, tooltip: `${single ? '' : `${labelOf(run)}\n`}${x.toFixed(1)} s: ${metric} ${formatMs(y)} ms` })) : [],
      })
    })
  })
  // A stall makes max tower over p50: switch to a log scale when the spread is that wide.
  const useLog = Number.isFinite(minY) && maxY / minY > 50
  const y = useLog ? logAxis('Latency (ms, log scale)', minY, maxY) : linearAxis('Latency (ms)', 0, maxY)
  return { id: 'chart-latency-time', x: linearAxis('Time since start (s)', 0, Math.max(maxX, 1), 6, 0.05), y, lines, bands: single ? warmupBands(runs[0]!) : [] }
}

// ---------------------------------------------------------------------------------------------
// Tables and cards

function kpiCards(summary: LoadTestSummary): string {
  const primary = primarySeries(summary)
  const s = primary?.stats
  const completed = summary.mode === 'produce' ? summary.records.acked ?? 0 : summary.records.received ?? 0
  const cards: Array<[string, string, string]> = [
    ['Records', formatCount(completed), `${summary.mode === 'produce' ? 'acknowledged' : 'received'}${summary.records.warmup > 0 ? `, ${formatCount(summary.records.warmup)} warmup` : ''}`],
    ['Throughput', `${formatRate(summary.throughput.recordsPerSec)}`, 'records/s'],
    ['Data rate', formatMBps(summary.throughput.mbPerSec), 'MB/s (2²⁰ bytes)'],
  ]
  if (s !== undefined && s.count > 0) {
    cards.push(['p50', formatMs(s.p50), 'ms'], ['p99', formatMs(s.p99), 'ms'], ['p99.9', formatMs(s.p999), 'ms'], ['Max', formatMs(s.max), 'ms'])
  }
  return `<section class="kpis">${cards.map(([name, value, unit]) => `<div class="kpi"><div class="kpi-name">${escapeHtml(name)}</div><div class="kpi-value">${escapeHtml(value)}</div><div class="kpi-unit">${escapeHtml(unit)}</div></div>`).join('')}</section>`
}

function latencyTable(runs: readonly ReportRun[]): string {
  const single = runs.length === 1
  const head = ['Series', 'Count', 'Mean', 'Std dev', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'p99.99', 'Max']
  const rows = runs.flatMap((run, runIndex) =>
    run.summary.latency.map((series, seriesIndex) => {
      const s = series.stats
      const color = PALETTE[(single ? seriesIndex : runIndex) % PALETTE.length]!
      const name = single ? series.title : `${labelOf(run)} — ${series.title.toLowerCase()}`
      const cells = s.count === 0
        ? [formatCount(0), ...Array<string>(9).fill('–')]
        : [formatCount(s.count), ...[s.mean, s.stdDeviation, s.p50, s.p90, s.p95, s.p99, s.p999, s.p9999, s.max].map(formatMs)]
      return `<tr><th scope="row"><span class="swatch" style="background:${color}"></span>${escapeHtml(name)}<div class="muted">${escapeHtml(series.description)}</div></th>${cells.map((c) => `<td class="num">${c}</td>`).join('')}</tr>`
    }),
  )
  return `<section class="card"><h2>Latency percentiles</h2><p class="muted">All values in milliseconds; warmup excluded.</p><div class="scroll"><table class="data"><thead><tr>${head.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`
}

function runsTable(runs: readonly ReportRun[]): string {
  const head = ['Run', 'Records', 'Records/s', 'MB/s', 'Measured', 'p50 (ms)', 'p99 (ms)', 'p99.9 (ms)', 'Max (ms)']
  const rows = runs.map((run, i) => {
    const s = primarySeries(run.summary)?.stats
    const completed = run.summary.mode === 'produce' ? run.summary.records.acked ?? 0 : run.summary.records.received ?? 0
    const latency = s === undefined || s.count === 0 ? ['–', '–', '–', '–'] : [s.p50, s.p99, s.p999, s.max].map(formatMs)
    const cells = [formatCount(completed), formatRate(run.summary.throughput.recordsPerSec), formatMBps(run.summary.throughput.mbPerSec), formatDuration(run.summary.throughput.measuredMs), ...latency]
    return `<tr><th scope="row"><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${escapeHtml(labelOf(run))}<div class="muted">${escapeHtml(run.summary.date)}</div></th>${cells.map((c) => `<td class="num">${c}</td>`).join('')}</tr>`
  })
  return `<section class="card"><h2>Runs</h2><div class="scroll"><table class="data"><thead><tr>${head.map((h, i) => `<th${i > 0 ? ' class="num"' : ''}>${h}</th>`).join('')}</tr></thead><tbody>${rows.join('')}</tbody></table></div></section>`
}

const GiB = 1024 ** 3

/** The configuration, machine and version rows of a run, as label → value. */
function configurationRows(summary: LoadTestSummary): Array<[string, string]> {
  const c = summary.config
  const m = summary.machine
  const rows: Array<[string, string]> = [
    ['Mode', c.mode],
    ['Target', c.target],
    ['Topic', c.topic],
    ['Run length', c.numRecords !== null ? `${formatCount(c.numRecords)} records` : `${formatDuration(c.durationMs ?? 0)}`],
    ['Record size', `${formatCount(c.recordSize)} bytes`],
    ['Target throughput', c.throughput > 0 ? `${formatCount(c.throughput)} records/s` : 'unlimited (-1)'],
  ]
  if (c.mode !== 'consume') {
    rows.push(
      ['acks', c.acks === -1 ? '-1 (all)' : String(c.acks)],
      ['compression.type', c.compression],
      ['batch.size', `${formatCount(c.batchSize)} bytes`],
      ['linger.ms', `${c.lingerMs} ms`],
      ['Producers', String(c.producers)],
      ['max.in.flight per producer', String(c.maxInFlight)],
      ['Partitions (when created)', String(c.partitions)],
    )
  }
  if (c.mode !== 'produce') rows.push(['Consumer group', c.groupId ?? 'fresh group per run'], ['Idle timeout', formatDuration(c.idleTimeoutMs)])
  rows.push(
    ['Warmup', [c.warmupRecords > 0 ? `${formatCount(c.warmupRecords)} records` : '', c.warmupMs > 0 ? formatDuration(c.warmupMs) : ''].filter(Boolean).join(' + ') || 'none'],
    ['Reporting interval', formatDuration(c.reportIntervalMs)],
    ['Coordinated omission', summary.coordinatedOmission.corrected ? 'corrected (fixed schedule)' : 'not corrected'],
    ['Date', summary.date],
    ['shardlog', summary.versions.shardlog],
    ['Node.js', `${summary.versions.node} (V8 ${summary.versions.v8})`],
    ['hdr-histogram-js', summary.versions.hdrHistogramJs],
    ['OS', `${m.os.type} ${m.os.release} (${m.os.platform}/${m.os.arch})`],
    ['CPU', `${m.cpus.count} × ${m.cpus.model}${m.cpus.speedMHz > 0 ? ` @ ${m.cpus.speedMHz} MHz` : ''}`],
    ['Memory', `${(m.memory.totalBytes / GiB).toFixed(1)} GiB`],
    ['Free memory at start', `${(m.memory.freeBytes / GiB).toFixed(1)} GiB`],
    ['Host', m.hostname],
  )
  return rows
}

/** Rows that differ between any two runs without making them different experiments. */
const INCIDENTAL_ROWS = new Set(['Date', 'Free memory at start'])

function configurationTable(runs: readonly ReportRun[]): string {
  const perRun = runs.map((run) => new Map(configurationRows(run.summary)))
  const keys: string[] = []
  for (const rows of perRun) for (const key of rows.keys()) if (!keys.includes(key)) keys.push(key)
  const single = runs.length === 1
  const head = single ? '' : `<thead><tr><th>Setting</th>${runs.map((run, i) => `<th><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${escapeHtml(labelOf(run))}</th>`).join('')}</tr></thead>`
  const body = keys.map((key) => {
    const values = perRun.map((rows) => rows.get(key) ?? '–')
    const differs = !single && new Set(values).size > 1 && !INCIDENTAL_ROWS.has(key)
    return `<tr${differs ? ' class="differs"' : ''}><th scope="row">${escapeHtml(key)}</th>${values.map((v) => `<td>${escapeHtml(v)}</td>`).join('')}</tr>`
  })
  const note = single ? '' : '<p class="muted">Rows that differ between runs are highlighted.</p>'
  return `<section class="card"><h2>Configuration</h2>${note}<div class="scroll"><table class="config">${head}<tbody>${body.join('')}</tbody></table></div></section>`
}

function notes(runs: readonly ReportRun[]): string {
  const single = runs.length === 1
  // Notes shared by every run are shown once, without naming the runs.
  const perRun = runs.map((run) => {
    const s = run.summary
    const items: Array<{ cls: string; html: string }> = []
    if (s.mode !== 'consume') items.push({ cls: s.coordinatedOmission.corrected ? 'ok' : 'warn', html: `Coordinated omission ${escapeHtml(s.coordinatedOmission.note)}` })
    if (s.stoppedEarly !== null) items.push({ cls: 'warn', html: `Stopped early: ${escapeHtml(s.stoppedEarly)}.` })
    if (s.errors.count > 0) items.push({ cls: 'bad', html: `${formatCount(s.errors.count)} records failed to send. First error: ${escapeHtml(s.errors.messages[0] ?? '')}` })
    for (const l of s.latency.filter((x) => x.clampedCount > 0)) {
      items.push({ cls: 'warn', html: `${formatCount(l.clampedCount)} ${escapeHtml(l.title.toLowerCase())} values above 60 s were recorded as 60 s.` })
    }
    return items
  })
  const out: string[] = []
  const seen = new Set<string>()
  perRun.forEach((items, i) => {
    for (const item of items) {
      const everywhere = perRun.every((other) => other.some((o) => o.html === item.html))
      if (everywhere) {
        if (seen.has(item.html)) continue
        seen.add(item.html)
        out.push(`<p class="note ${item.cls}">${!single ? 'All runs: ' : ''}${item.html}</p>`)
      } else {
        out.push(`<p class="note ${item.cls}"><strong>${escapeHtml(labelOf(runs[i]!))}:</strong> ${item.html}</p>`)
      }
    }
  })
  return out.join('')
}

const STYLE = `
:root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;--accent:#4e79a7}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue","DejaVu Sans",Arial,sans-serif}
header{background:#102a43;color:#f0f4f8;padding:22px 32px 20px}
header .kicker{color:#9fb3c8;font-size:11.5px;text-transform:uppercase;letter-spacing:1.2px;margin-bottom:4px}
header h1{margin:0;font-size:22px;font-weight:600;letter-spacing:.2px}
header .sub{margin-top:4px;color:#bcccdc;font-size:13px}
header .sub span+span::before{content:"·";margin:0 8px;color:#829ab1}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:18px 20px;margin:0 0 18px;box-shadow:0 1px 2px rgba(16,42,67,.04)}
h2{font-size:16px;font-weight:600;margin:0 0 4px}
figure{margin:0 0 18px}
figcaption p,.muted{color:var(--muted);font-size:12.5px;margin:0;font-weight:400}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:12px;margin:0 0 18px}
.kpi{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.kpi-name{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.4px}
.kpi-value{font-size:24px;font-weight:600;font-variant-numeric:tabular-nums;margin-top:2px}
.kpi-unit{color:var(--muted);font-size:12px}
.note{margin:0 0 10px;padding:10px 14px;border-radius:6px;border-left:4px solid;font-size:13px}
.note.ok{background:#eef6ee;border-color:#59a14f}
.note.warn{background:#fff8e6;border-color:#f0b429}
.note.bad{background:#fdecec;border-color:#e15759}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 18px;padding:0;margin:10px 0 4px;font-size:12.5px}
.legend li{display:flex;align-items:center;gap:6px}
svg.chart{width:100%;height:auto;display:block}
svg.chart .plot-bg{fill:#fbfcfd}
svg.chart .grid{stroke:#e9edf1;stroke-width:1}
svg.chart .axis{stroke:#9aa5b1;stroke-width:1}
svg.chart .tick{fill:#52606d;font-size:11.5px;font-variant-numeric:tabular-nums}
svg.chart .axis-title{fill:#3e4c59;font-size:12.5px;font-weight:600}
svg.chart .series{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
svg.chart .marker{stroke:#fff;stroke-width:1.2}
svg.chart .band{fill:#eceff3}
svg.chart .band-label{fill:#7b8794;font-size:11px}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
table.data th,table.data td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.data thead th{font-size:12px;color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);white-space:nowrap}
table.data tbody th{font-weight:600;min-width:220px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.config th,table.config td{padding:6px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
table.config tbody th{width:240px;color:var(--muted);font-weight:500}
table.config tr.differs td{background:#fff8e6;font-weight:600}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:8px;vertical-align:baseline}
.empty{color:var(--muted);font-style:italic}
footer{color:var(--muted);font-size:12px;text-align:center;padding:0 0 28px}
`

/** Renders the report page of `input.runs` (one run, or several overlaid). */
export function renderReportHtml(input: ReportInput): string {
  const { runs } = input
  const single = runs.length === 1
  const first = runs[0]
  const generated = (input.generatedAt ?? new Date()).toISOString()
  const heading = single && first !== undefined ? first.label ?? first.summary.label : input.title
  const subtitle = single && first !== undefined
    ? [
        `topic ${first.summary.config.topic}`,
        first.summary.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'),
        `shardlog ${first.summary.versions.shardlog}`,
        `Node ${first.summary.versions.node} on ${first.summary.machine.cpus.count} CPUs`,
      ]
    : [`${runs.length} runs compared`, `generated ${generated.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}`]
  const sections: string[] = []
  if (single && first !== undefined) sections.push(kpiCards(first.summary))
  sections.push(notes(runs))
  if (!single) sections.push(runsTable(runs))
  sections.push(
    figure(
      'Latency by percentile',
      'HdrHistogram percentile distribution: the x axis is 1/(1−percentile) on a log scale, so the tail (99%, 99.9%, ...) gets as much room as the median.',
      percentileChart(runs),
    ),
    figure('Throughput over time', 'Records completed per reporting interval (acknowledged when producing, received when consuming).', throughputChart(runs)),
    figure(
      'Latency over time',
      single ? 'p50, p99 and max of each reporting interval (warmup included, shaded).' : 'p99 of each reporting interval, primary latency series of each run.',
      latencyOverTimeChart(runs),
    ),
    latencyTable(runs),
    configurationTable(runs),
  )
  const version = first?.summary.versions.shardlog ?? 'unknown'
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${escapeHtml(input.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header><div class="kicker">shardlog perf report</div><h1>${escapeHtml(heading)}</h1><div class="sub">${subtitle.map((s) => `<span>${escapeHtml(s)}</span>`).join('')}</div></header>
<main>
${sections.join('\n')}
</main>
<footer>Generated by shardlog perf ${escapeHtml(version)} on ${escapeHtml(generated)}. Latency histograms: HdrHistogram, 1 µs to 60 s, 3 significant digits.</footer>
</body>
</html>
`
}
