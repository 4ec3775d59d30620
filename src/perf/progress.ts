/**
 * The progress bar of a running load test, drawn in place on a terminal:
 *
 * ```
 * [██████████████░░░░░░░░░░░░░░░░]  46.7%   46,700 / 100,000 records   elapsed 4.7 s   ETA 5.3 s
 * ```
 *
 * Interval lines are printed above it: {@link ProgressBar.log} erases the bar, writes the
 * line, and draws the bar again. On anything but a TTY the bar is not drawn at all, so logs
 * and pipes get only the interval lines.
 */
import type { LoadTestProgress } from './run-load-test.js'
import { formatCount, formatDuration } from './summary.js'

/** Erase the current terminal line and return to its start (ANSI EL2 + CR). */
const CLEAR_LINE = '\r\x1b[2K'

/** Width of the bar itself in cells. */
export const DEFAULT_BAR_WIDTH = 30

/** Renders one progress line (no newline). */
export function renderProgressBar(progress: LoadTestProgress, barWidth = DEFAULT_BAR_WIDTH): string {
  const fraction = Math.min(1, Math.max(0, Number.isFinite(progress.fraction) ? progress.fraction : 0))
  const filled = Math.round(fraction * barWidth)
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(barWidth - filled)}]`
  const percent = `${(fraction * 100).toFixed(1)}%`.padStart(6)
  const count = progress.total === null
    ? `${formatCount(progress.completed)} records`
    : `${formatCount(progress.completed)} / ${formatCount(progress.total)} records`
  const eta = progress.etaMs === null ? 'ETA --' : `ETA ${formatDuration(progress.etaMs)}`
  return `${bar} ${percent}   ${count}   elapsed ${formatDuration(progress.elapsedMs)}   ${eta}`
}

/** A writable terminal-like stream. */
export interface ProgressStream {
  write(chunk: string): unknown
  isTTY?: boolean
  columns?: number
}

/** Draws a {@link renderProgressBar} line in place and keeps it below logged lines. */
export class ProgressBar {
  private readonly stream: ProgressStream
  private readonly enabled: boolean
  private current: string | null = null

  /** `enabled` defaults to whether `stream` is a TTY. */
  constructor(stream: ProgressStream, enabled = stream.isTTY === true) {
    this.stream = stream
    this.enabled = enabled
  }

  /** Redraws the bar for `progress`. */
  update(progress: LoadTestProgress): void {
    if (!this.enabled) return
    let line = renderProgressBar(progress)
    const columns = this.stream.columns ?? 0
    // A line wider than the terminal would wrap, and the next redraw would clear only its tail.
    if (columns > 0 && line.length >= columns) line = line.slice(0, columns - 1)
    this.current = line
    this.stream.write(`${CLEAR_LINE}${line}`)
  }

  /** Writes `line` above the bar. */
  log(line: string): void {
    if (this.enabled && this.current !== null) this.stream.write(CLEAR_LINE)
    this.stream.write(`${line}\n`)
    if (this.enabled && this.current !== null) this.stream.write(this.current)
  }

  /** Erases the bar for good. */
  done(): void {
    if (this.enabled && this.current !== null) this.stream.write(CLEAR_LINE)
    this.current = null
  }
}
