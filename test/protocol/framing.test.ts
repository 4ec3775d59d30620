import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { beginFrame, DEFAULT_MAX_FRAME_BYTES, encodeFrame, endFrame, FrameDecoder } from '../../src/protocol/framing.js'
import { Writer, ZERO_COPY_MIN_BYTES } from '../../src/protocol/writer.js'

/** Cuts `stream` at the given (sorted, deduplicated) positions. */
function cut(stream: Buffer, positions: number[]): Buffer[] {
  const points = [...new Set(positions.map((p) => p % (stream.length + 1)))].sort((a, b) => a - b)
  const out: Buffer[] = []
  let start = 0
  for (const point of points) {
    out.push(stream.subarray(start, point))
    start = point
  }
  out.push(stream.subarray(start))
  return out
}

describe('protocol > framing > FrameDecoder', () => {
  it('returns the same frames however the stream is chunked', () => {
    fc.assert(fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
      fc.array(fc.nat(), { maxLength: 40 }),
      (payloads, cuts) => {
        const stream = Buffer.concat(payloads.flatMap((p) => encodeFrame(Buffer.from(p))))
        const decoder = new FrameDecoder()
        const frames: Buffer[] = []
        for (const chunk of cut(stream, cuts)) frames.push(...decoder.feed(chunk))
        expect(frames.map((f) => f.toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')))
        expect(decoder.bufferedBytes).toBe(0)
      },
    ), { numRuns: 300 })
  })

  it('returns a frame that lies inside one chunk as a view, without copying', () => {
    const stream = Buffer.concat([...encodeFrame(Buffer.from('abc')), ...encodeFrame(Buffer.from('defg'))])
    const frames = new FrameDecoder().feed(stream)
    expect(frames.map((f) => f.toString())).toEqual(['abc', 'defg'])
    expect(frames[0]!.buffer).toBe(stream.buffer)
  })

  it('reassembles a frame split one byte at a time, including its size prefix', () => {
    const stream = Buffer.concat(encodeFrame(Buffer.from('hello kafka')))
    const decoder = new FrameDecoder()
    const frames: Buffer[] = []
    for (const byte of stream) frames.push(...decoder.feed(Buffer.from([byte])))
    expect(frames.map((f) => f.toString())).toEqual(['hello kafka'])
  })

  it('accepts an empty frame', () => {
    expect(new FrameDecoder().feed(Buffer.from('00000000', 'hex'))).toEqual([Buffer.alloc(0)])
  })

  it('rejects a negative size and stays failed', () => {
    const decoder = new FrameDecoder()
    expect(() => decoder.feed(Buffer.from('ffffffff', 'hex'))).toThrow(InvalidRequestError)
    expect(() => decoder.feed(Buffer.from('00000000', 'hex'))).toThrow(/invalid frame size -1/)
  })

  it('rejects a frame above socket.request.max.bytes before buffering it', () => {
    const prefix = Buffer.alloc(4)
    prefix.writeInt32BE(DEFAULT_MAX_FRAME_BYTES + 1)
    expect(() => new FrameDecoder().feed(prefix)).toThrow(/socket\.request\.max\.bytes/)
    prefix.writeInt32BE(101)
    expect(() => new FrameDecoder({ maxFrameBytes: 100 }).feed(prefix)).toThrow(InvalidRequestError)
    prefix.writeInt32BE(100)
    expect(new FrameDecoder({ maxFrameBytes: 100 }).feed(prefix)).toEqual([])
  })

  it('handles many frames per chunk and many chunks per frame', () => {
    const small = Array.from({ length: 500 }, (_, i) => Buffer.from(`m${i}`))
    const stream = Buffer.concat(small.flatMap((p) => encodeFrame(p)))
    expect(new FrameDecoder().feed(stream)).toHaveLength(500)
    const big = Buffer.alloc(200_000, 9)
    const decoder = new FrameDecoder()
    const frames: Buffer[] = []
    for (const chunk of cut(Buffer.concat(encodeFrame(big)), Array.from({ length: 300 }, (_, i) => i * 667))) {
      frames.push(...decoder.feed(chunk))
    }
    expect(frames).toHaveLength(1)
    expect(frames[0]!.equals(big)).toBe(true)
  })
})

describe('protocol > framing > encoding', () => {
  it('prefixes a chunk list with its total size', () => {
    const chunks = encodeFrame([Buffer.from('ab'), Buffer.from('cde')])
    expect(Buffer.concat(chunks).toString('hex')).toBe('00000005' + Buffer.from('abcde').toString('hex'))
  })

  it('fills in the size reserved at the start of a writer, around zero-copy chunks', () => {
    const w = new Writer()
    const at = beginFrame(w)
    w.int32(42)
    const records = Buffer.alloc(ZERO_COPY_MIN_BYTES, 5)
    w.raw(records)
    endFrame(w, at)
    const chunks = w.chunks()
    expect(chunks).toContain(records)
    const frames = new FrameDecoder().feed(Buffer.concat(chunks))
    expect(frames).toHaveLength(1)
    expect(frames[0]!.length).toBe(4 + records.length)
  })
})
