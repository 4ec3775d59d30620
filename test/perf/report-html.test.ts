import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { chromium, type BrowserContext } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { compareRuns } from '../../src/perf/compare.js'
import { escapeHtml, percentileDecadeLabel, renderReportHtml } from '../../src/perf/report-html.js'
import { runLoadTest } from '../../src/perf/run-load-test.js'
import { InMemoryPerfTarget } from './fixtures/in-memory-perf-target.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = path.resolve('test-artifacts', 'perf')
const CHART_IDS = ['chart-percentiles', 'chart-throughput', 'chart-latency-time']

interface ChartInfo {
  id: string
  width: number
  height: number
  series: Array<{ name: string; points: number; pathLength: number }>
  markers: number
  xTicks: string[]
}

/** Runs in the page (as a string: the project's TypeScript has no DOM types). */
const INSPECT_CHARTS = `(() => [...document.querySelectorAll('svg.chart')].map((svg) => {
  const box = svg.getBoundingClientRect()
  return {
    id: svg.id,
    width: box.width,
    height: box.height,
    series: [...svg.querySelectorAll('path.series')].map((p) => ({ name: p.dataset.series, points: Number(p.dataset.points), pathLength: p.getTotalLength() })),
    markers: svg.querySelectorAll('circle.marker').length,
    xTicks: [...svg.querySelectorAll('text.x-tick')].map((t) => t.textContent),
  }
}))()`

describe('perf > report-html', () => {
  it('labels the percentile axis as HdrHistogram does', () => {
    expect([0, 1, 2, 3, 4, 5].map(percentileDecadeLabel)).toEqual(['0%', '90%', '99%', '99.9%', '99.99%', '99.999%'])
  })

  it('escapes text from labels and errors', () => {
    expect(escapeHtml(`<script>alert("x")</script> & 'y'`)).toBe('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;')
  })

  it('is self-contained: no script, stylesheet, image or font from anywhere', async () => {
    const { summary, histograms } = await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'produce', topic: 't', numRecords: 100, label: '<b>bold</b> run' })
    const { parsePercentileDistribution, formatPercentileDistribution } = await import('../../src/perf/hgrm.js')
    const distributions = Object.fromEntries(histograms.map((h) => [h.info.id, parsePercentileDistribution(formatPercentileDistribution(h.histogram))]))
    const html = renderReportHtml({ title: 'x', runs: [{ summary, distributions }] })
    expect(html).not.toMatch(/<script|<link rel="stylesheet"|<img|@import|url\(http/i)
    expect(html.match(/(?:src|href)="(?!data:|#)[^"]*"/g)).toBeNull()
    expect(html).toContain('&lt;b&gt;bold&lt;/b&gt; run')
    expect(html).not.toContain('<b>bold</b>')
  })
})

describe('perf > report-html in Chromium', () => {
  let context: BrowserContext
  let root: string
  let runDir: string
  let compareDir: string

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} is missing: this test renders the report in Debian's Chromium. Install it with: apt-get update && apt-get install -y chromium`)
    }
    root = await mkdtemp(path.join(os.tmpdir(), 'shardlog-perf-report-'))
    runDir = path.join(root, 'run')
    // A stall makes the percentile curves and the latency-over-time chart worth looking at.
    await runLoadTest({
      target: new InMemoryPerfTarget({ stall: { afterMs: 600, durationMs: 150 } }), mode: 'produce', topic: 'perf-report', numRecords: 3_000, throughput: 2_000,
      warmupMs: 250, reportIntervalMs: 250, outDir: runDir,
    })
    const e2eDir = path.join(root, 'e2e')
    await runLoadTest({ target: new InMemoryPerfTarget(), mode: 'e2e', topic: 'perf-report', numRecords: 1_000, throughput: 2_000, reportIntervalMs: 250, compression: 'lz4', outDir: e2eDir })
    compareDir = path.join(root, 'compare')
    await compareRuns([runDir, e2eDir], compareDir)
    await mkdir(ARTIFACTS, { recursive: true })
    context = await chromium.launchPersistentContext(path.join(root, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1280, height: 900 },
    })
  })

  afterAll(async () => {
    await context?.close()
    if (root !== undefined) await rm(root, { recursive: true, force: true })
  })

  async function open(file: string, screenshot: string): Promise<ChartInfo[]> {
    const page = await context.newPage()
    const problems: string[] = []
    const requests: string[] = []
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`)
    })
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
    page.on('request', (request) => requests.push(request.url()))
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' })
    const charts = (await page.evaluate(INSPECT_CHARTS)) as ChartInfo[]
    await page.screenshot({ path: path.join(ARTIFACTS, screenshot), fullPage: true })
    await page.close()
    expect(problems).toEqual([])
    // Nothing but the file itself was loaded: no CDN, no network.
    expect(requests).toEqual([pathToFileURL(file).href])
    return charts
  }

  it('renders a run report with non-empty charts and no console errors', async () => {
    const charts = await open(path.join(runDir, 'report.html'), 'report.png')
    expect(charts.map((c) => c.id)).toEqual(CHART_IDS)
    for (const chart of charts) {
      expect(chart.width).toBeGreaterThan(500)
      expect(chart.height).toBeGreaterThan(150)
      expect(chart.series.length).toBeGreaterThan(0)
      for (const s of chart.series) {
        expect(s.points).toBeGreaterThanOrEqual(2)
        expect(s.pathLength).toBeGreaterThan(10)
      }
      expect(chart.markers).toBeGreaterThan(0)
    }
    const [percentiles, throughput, latency] = charts
    expect(percentiles!.series.map((s) => s.name)).toEqual(['Produce latency', 'Service time (uncorrected)'])
    expect(percentiles!.xTicks.slice(0, 4)).toEqual(['0%', '90%', '99%', '99.9%'])
    expect(throughput!.series[0]!.points).toBeGreaterThanOrEqual(4)
    expect(latency!.series.map((s) => s.name)).toEqual(['p50 produce latency', 'p99 produce latency', 'max produce latency'])
    const html = await readFile(path.join(runDir, 'report.html'), 'utf8')
    expect(html).toContain('Coordinated omission corrected')
  })

  it('renders a comparison report with one legend entry per run and series', async () => {
    const charts = await open(path.join(compareDir, 'report.html'), 'compare.png')
    expect(charts.map((c) => c.id)).toEqual(CHART_IDS)
    expect(charts[0]!.series.map((s) => s.name)).toEqual([
      'produce · none · acks=all · 2,000 rec/s · in-memory test target — produce latency',
      'produce · none · acks=all · 2,000 rec/s · in-memory test target — service time (uncorrected)',
      'e2e · lz4 · acks=all · 2,000 rec/s · in-memory test target — end-to-end latency',
      'e2e · lz4 · acks=all · 2,000 rec/s · in-memory test target — produce latency',
    ])
    expect(charts[1]!.series).toHaveLength(2)
    for (const chart of charts) for (const s of chart.series) expect(s.points).toBeGreaterThanOrEqual(2)
  })
})
