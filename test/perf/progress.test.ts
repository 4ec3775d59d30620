import { describe, expect, it } from 'vitest'
import { ProgressBar, renderProgressBar } from '../../src/perf/progress.js'

class FakeStream {
  output = ''
  constructor(readonly isTTY: boolean, readonly columns = 200) {}
  write(chunk: string): boolean {
    this.output += chunk
    return true
  }
}

describe('perf > progress', () => {
  it('renders a bar with percentage, counts, elapsed time and ETA', () => {
    const line = renderProgressBar({ completed: 46_700, total: 100_000, elapsedMs: 4_700, fraction: 0.467, etaMs: 5_360 }, 10)
    expect(line).toBe('[█████░░░░░]  46.7%   46,700 / 100,000 records   elapsed 4.70 s   ETA 5.36 s')
    expect(renderProgressBar({ completed: 5, total: null, elapsedMs: 100, fraction: 0.1, etaMs: null }, 10)).toBe('[█░░░░░░░░░]  10.0%   5 records   elapsed 100 ms   ETA --')
  })

  it('draws in place on a TTY and keeps logged lines above the bar', () => {
    const tty = new FakeStream(true)
    const bar = new ProgressBar(tty)
    bar.update({ completed: 1, total: 2, elapsedMs: 10, fraction: 0.5, etaMs: 10 })
    bar.log('interval line')
    bar.done()
    const clear = '\r\x1b[2K'
    const barLine = renderProgressBar({ completed: 1, total: 2, elapsedMs: 10, fraction: 0.5, etaMs: 10 })
    expect(tty.output).toBe(`${clear}${barLine}${clear}interval line\n${barLine}${clear}`)
  })

  it('truncates the bar to the terminal width so it never wraps', () => {
    const narrow = new FakeStream(true, 40)
    new ProgressBar(narrow).update({ completed: 1, total: 2, elapsedMs: 10, fraction: 0.5, etaMs: 10 })
    expect(narrow.output.replace('\r\x1b[2K', '')).toHaveLength(39)
  })

  it('writes only the logged lines when the output is not a TTY', () => {
    const pipe = new FakeStream(false)
    const bar = new ProgressBar(pipe)
    bar.update({ completed: 1, total: 2, elapsedMs: 10, fraction: 0.5, etaMs: 10 })
    bar.log('interval line')
    bar.done()
    expect(pipe.output).toBe('interval line\n')
  })
})
