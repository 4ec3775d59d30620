import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { frameBytes, kFlagError, kFrameHeaderBytes, kMaxUserOp } from '../../src/shard/frame.js'
import {
  GatherPayload, MessageBacklog, RingConsumer, RingProducer, assertShardRings, createRingBuffer, createShardRings,
  kConsumerSleepingField, kProducerWaitingField, kReadIndexField, kRingControlBytes, kWriteIndexField, type RingMessage,
  type RingPayload,
} from '../../src/shard/ring.js'
import { workerExecArgv } from '../../src/shard/worker-url.js'
import type { RingWriterData } from './fixtures/ring-writer.js'

interface Received {
  requestId: number
  op: number
  flags: number
  payload: Buffer
}

function ring(capacity: number): { producer: RingProducer; consumer: RingConsumer; sab: SharedArrayBuffer } {
  const sab = createRingBuffer(capacity)
  return { producer: new RingProducer(sab), consumer: new RingConsumer(sab), sab }
}

function drainAll(consumer: RingConsumer): Received[] {
  const out: Received[] = []
  consumer.drain((requestId, op, flags, payload) => { out.push({ requestId, op, flags, payload }) })
  return out
}

/** Payload whose bytes depend on a seed, so a misplaced byte shows. */
function pattern(length: number, seed: number): Buffer {
  const bytes = Buffer.allocUnsafe(length)
  for (let i = 0; i < length; i++) bytes[i] = (i * 31 + seed * 7 + 1) & 0xff
  return bytes
}

function message(requestId: number, payload: RingPayload, op = 1, flags = 0): RingMessage {
  return { requestId, op, flags, payload, sent: 0 }
}

/** Writes `msg` in full on one thread, draining between attempts; returns what was received. */
function pushThrough(producer: RingProducer, consumer: RingConsumer, msg: RingMessage): { received: Received[]; frames: number } {
  const received: Received[] = []
  let frames = 0
  const sink = (requestId: number, op: number, flags: number, payload: Buffer): void => {
    received.push({ requestId, op, flags, payload })
  }
  while (!producer.writeMessage(msg)) frames += consumer.drain(sink)
  frames += consumer.drain(sink)
  return { received, frames }
}

describe('shard > ring > createRingBuffer', () => {
  it('accepts powers of two from 256 bytes', () => {
    expect(createRingBuffer(256).byteLength).toBe(kRingControlBytes + 256)
    expect(createShardRings(1024).requests.byteLength).toBe(kRingControlBytes + 1024)
  })

  it.each([0, 100, 128, 1000, 3 * 1024, 2 ** 31, 1.5, Number.NaN])('rejects capacity %s with INVALID_CONFIG', (capacity) => {
    expect(() => createRingBuffer(capacity)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
  })

  it('refuses buffers that are not rings', () => {
    expect(() => assertShardRings(undefined)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    expect(() => assertShardRings({ requests: new ArrayBuffer(1024), responses: createRingBuffer(256) }))
      .toThrow(/requests/)
    expect(() => assertShardRings({ requests: createRingBuffer(256), responses: new SharedArrayBuffer(4096) }))
      .toThrow(/responses.*no ring header/)
    expect(() => new RingConsumer(new SharedArrayBuffer(kRingControlBytes + 256))).toThrow(/magic/)
  })
})

describe('shard > ring > empty and full rules', () => {
  it('starts empty: nothing to read, the whole capacity free', () => {
    const { producer, consumer } = ring(256)
    expect(consumer.hasFrames()).toBe(false)
    expect(producer.usedBytes()).toBe(0)
    expect(consumer.drain(() => { throw new Error('no frame expected') })).toBe(0)
  })

  it('a frame of exactly the capacity fills an empty ring, and then nothing else fits', () => {
    const { producer, consumer } = ring(256)
    const payload = pattern(256 - kFrameHeaderBytes, 1)
    expect(frameBytes(payload.length)).toBe(256)
    expect(producer.tryWrite(7, 3, 0, payload)).toBe(true)
    expect(producer.usedBytes()).toBe(256)
    expect(producer.tryWrite(8, 3, 0, new Uint8Array(0))).toBe(false)
    const [got] = drainAll(consumer)
    expect(got).toEqual({ requestId: 7, op: 3, flags: 0, payload })
    expect(consumer.usedBytes()).toBe(0)
    expect(consumer.hasFrames()).toBe(false)
    expect(producer.tryWrite(8, 3, 0, new Uint8Array(0))).toBe(true)
  })

  it('fits a frame when the free space equals its size, not one byte less', () => {
    const { producer, consumer } = ring(256)
    expect(producer.tryWrite(1, 1, 0, pattern(100, 1))).toBe(true) // 116 bytes
    expect(producer.usedBytes()).toBe(116)
    expect(producer.tryWrite(2, 1, 0, pattern(128, 2))).toBe(false) // needs 144, 140 free
    expect(producer.tryWrite(2, 1, 0, pattern(124, 2))).toBe(true) // needs 140: exactly full
    expect(producer.usedBytes()).toBe(256)
    expect(drainAll(consumer).map((m) => m.payload.length)).toEqual([100, 124])
  })

  it('pads payloads to 4 bytes and keeps zero-length payloads', () => {
    const { producer, consumer } = ring(256)
    for (const [i, length] of [0, 1, 2, 3, 5].entries()) expect(producer.tryWrite(i, 9, 0, pattern(length, i))).toBe(true)
    expect(producer.usedBytes()).toBe(16 + 20 + 20 + 20 + 24)
    expect(drainAll(consumer).map((m) => m.payload)).toEqual([0, 1, 2, 3, 5].map((length, i) => pattern(length, i)))
  })

  it('a payload larger than one frame can be is refused by tryWrite even on an empty ring', () => {
    const { producer } = ring(256)
    expect(producer.tryWrite(1, 1, 0, new Uint8Array(241))).toBe(false)
    expect(producer.maxFramePayloadBytes).toBe(240)
  })

  it('carries op codes and receiver flags; strips the transport flags', () => {
    const { producer, consumer } = ring(1024)
    producer.tryWrite(0xffffffff, kMaxUserOp, kFlagError, pattern(3, 0))
    const { received, frames } = pushThrough(producer, consumer, message(5, pattern(3000, 5), 0xffff, kFlagError))
    expect(frames).toBeGreaterThan(2) // the second message travelled in chunks
    expect(received.map(({ requestId, op, flags }) => ({ requestId, op, flags }))).toEqual([
      { requestId: 0xffffffff, op: kMaxUserOp, flags: kFlagError },
      { requestId: 5, op: 0xffff, flags: kFlagError },
    ])
  })
})

describe('shard > ring > wrap-around', () => {
  it('splits a payload across the end of the ring and reads it back whole', () => {
    const { producer, consumer } = ring(256)
    producer.tryWrite(1, 1, 0, pattern(200, 1)) // frame 216
    drainAll(consumer)
    const wrapped = pattern(100, 2) // header 216..232, payload 232..256 then 0..76
    expect(producer.tryWrite(2, 1, 0, wrapped)).toBe(true)
    expect(drainAll(consumer)).toEqual([{ requestId: 2, op: 1, flags: 0, payload: wrapped }])
  })

  it('splits a header across the end of the ring', () => {
    const { producer, consumer } = ring(256)
    producer.tryWrite(1, 1, 0, pattern(232, 1)) // frame 248: next header at 248..256 + 0..8
    drainAll(consumer)
    const payload = pattern(50, 3)
    expect(producer.tryWrite(0x12345678, 0xabc, 0, payload)).toBe(true)
    expect(drainAll(consumer)).toEqual([{ requestId: 0x12345678, op: 0xabc, flags: 0, payload }])
  })

  it('keeps working when the free-running indices wrap at 2^32', () => {
    const sab = createRingBuffer(256)
    const control = new Int32Array(sab, 0, kRingControlBytes / 4)
    control[kWriteIndexField] = -40 // 0xffffffd8: 40 bytes before the counters wrap
    control[kReadIndexField] = -40
    const producer = new RingProducer(sab)
    const consumer = new RingConsumer(sab)
    const sent = [pattern(30, 1), pattern(90, 2), pattern(10, 3), pattern(200, 4)]
    const got: Buffer[] = []
    for (const [i, payload] of sent.entries()) {
      expect(producer.tryWrite(i, 1, 0, payload)).toBe(true)
      got.push(...drainAll(consumer).map((m) => m.payload))
    }
    expect(got).toEqual(sent)
    expect(Atomics.load(control, kWriteIndexField) >>> 0).toBeLessThan(1024) // wrapped past zero
  })
})

describe('shard > ring > messages larger than the ring', () => {
  it('streams a message three times the ring size through it in chunks', () => {
    const { producer, consumer } = ring(1024)
    const payload = pattern(3 * 1024 + 5, 9)
    const { received, frames } = pushThrough(producer, consumer, message(42, payload, 77))
    expect(received).toEqual([{ requestId: 42, op: 77, flags: 0, payload }])
    expect(frames).toBeGreaterThan(3)
    expect(consumer.usedBytes()).toBe(0)
  })

  it('interleaves nothing: small messages queued behind a large one arrive after it', () => {
    const { producer, consumer } = ring(256)
    const backlog = new MessageBacklog()
    const sent = [message(1, pattern(1000, 1)), message(2, pattern(3, 2)), message(3, pattern(700, 3))]
    for (const m of sent) backlog.push(m)
    const got: Received[] = []
    while (!backlog.isEmpty()) {
      while (!backlog.isEmpty() && producer.writeMessage(backlog.peek())) backlog.shift()
      got.push(...drainAll(consumer))
    }
    got.push(...drainAll(consumer))
    expect(got.map((m) => m.requestId)).toEqual([1, 2, 3])
    expect(got.map((m) => m.payload)).toEqual(sent.map((m) => m.payload))
  })

  it('does not split a small message: it waits for room instead', () => {
    const { producer } = ring(1024)
    producer.tryWrite(1, 1, 0, pattern(1000, 1)) // 1016 used, 8 free
    expect(producer.writeMessage(message(2, pattern(20, 2)))).toBe(false)
    expect(producer.usedBytes()).toBe(1016)
  })
})

describe('shard > ring > random traffic', () => {
  it('delivers every message once, in order, byte for byte, whatever the sizes and interleaving', () => {
    const capacity = 512
    fc.assert(fc.property(
      fc.array(fc.record({ size: fc.oneof(fc.nat(64), fc.nat(3 * capacity)), drainAfter: fc.nat(3) }), { maxLength: 60 }),
      fc.integer({ min: -4096, max: 4096 }).map((i) => i * 4),
      (plan, startIndex) => {
        const sab = createRingBuffer(capacity)
        const control = new Int32Array(sab, 0, kRingControlBytes / 4)
        control[kWriteIndexField] = startIndex
        control[kReadIndexField] = startIndex
        const producer = new RingProducer(sab)
        const consumer = new RingConsumer(sab)
        const backlog = new MessageBacklog()
        const sent: Buffer[] = []
        const got: Buffer[] = []
        let budget = 0
        const sink = (requestId: number, _op: number, _flags: number, payload: Buffer): boolean => {
          expect(requestId).toBe(got.length)
          got.push(payload)
          return --budget > 0
        }
        const flush = (): void => {
          while (!backlog.isEmpty() && producer.writeMessage(backlog.peek())) backlog.shift()
          expect(producer.usedBytes()).toBeLessThanOrEqual(capacity)
        }
        for (const { size, drainAfter } of plan) {
          const payload = pattern(size, sent.length)
          backlog.push(message(sent.length, payload))
          sent.push(payload)
          flush()
          budget = drainAfter
          if (budget > 0) consumer.drain(sink)
          flush()
        }
        budget = Infinity
        while (!backlog.isEmpty() || consumer.hasFrames()) {
          consumer.drain(sink)
          flush()
        }
        expect(got.length).toBe(sent.length)
        expect(got.findIndex((payload, i) => !payload.equals(sent[i]!))).toBe(-1)
        expect(consumer.usedBytes()).toBe(0)
      }), { numRuns: 120 })
  })
})

describe('shard > ring > gather payloads', () => {
  it('writes several parts back to back, across the end of the ring and in chunks, byte for byte', () => {
    fc.assert(fc.property(
      fc.array(fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 12 }),
      (messages) => {
        const { producer, consumer } = ring(1024)
        let id = 0
        for (const sizes of messages) {
          const parts = sizes.map((n, i) => pattern(n, id * 10 + i))
          const { received } = pushThrough(producer, consumer, message(++id, new GatherPayload(parts)))
          expect(received).toHaveLength(1)
          expect(received[0]!.payload.equals(Buffer.concat(parts))).toBe(true)
        }
      },
    ), { numRuns: 60 })
  })
})

describe('shard > ring > waiting', () => {
  it('waitForDataAsync resolves when the producer publishes a frame', async () => {
    const { producer, consumer } = ring(256)
    const wait = consumer.waitForDataAsync()
    expect(wait).toBeInstanceOf(Promise)
    producer.tryWrite(1, 1, 0, pattern(4, 1))
    await wait
    expect(consumer.hasFrames()).toBe(true)
    expect(consumer.waitForDataAsync()).toBeUndefined() // data present: no wait
  })

  it('keeps the reader sleeping flag up through the frames that wake it, until its wait settles', async () => {
    // A writer that lowered the flag when it notified could spend it on a frame the reader had
    // already read, just before the reader parked again: the reader would sleep with the flag
    // down and frames waiting, and no later frame would wake it.
    const { producer, consumer, sab } = ring(256)
    const control = new Int32Array(sab, 0, kRingControlBytes / 4)
    const wait = consumer.waitForDataAsync()
    expect(wait).toBeInstanceOf(Promise)
    expect(Atomics.load(control, kConsumerSleepingField)).toBe(1)
    producer.tryWrite(1, 1, 0, pattern(4, 1))
    producer.tryWrite(2, 1, 0, pattern(4, 2))
    expect(Atomics.load(control, kConsumerSleepingField)).toBe(1)
    await wait
    expect(Atomics.load(control, kConsumerSleepingField)).toBe(0) // lowered by the reader, awake
    expect(drainAll(consumer).map((r) => r.requestId)).toEqual([1, 2])
  })

  it('leaves the flag up when it drains while a wait is still parked, so the next frame wakes that wait', async () => {
    const { producer, consumer, sab } = ring(256)
    const control = new Int32Array(sab, 0, kRingControlBytes / 4)
    const wait = consumer.waitForDataAsync()
    expect(drainAll(consumer)).toEqual([]) // another path of the reader looks meanwhile
    expect(Atomics.load(control, kConsumerSleepingField)).toBe(1)
    producer.tryWrite(1, 1, 0, pattern(4, 1))
    expect(await Promise.race([wait!.then(() => 'woken'), new Promise((r) => setTimeout(r, 1000, 'asleep'))])).toBe('woken')
  })

  it('a reader that sleeps between frames from another thread is woken for every one of them', async () => {
    const sab = createRingBuffer(4096)
    const consumer = new RingConsumer(sab)
    const count = 5_000
    const writerUrl = new URL('./fixtures/ring-writer.ts', import.meta.url)
    const data: RingWriterData = { sab, count }
    const writer = new Worker(writerUrl, { workerData: data, execArgv: workerExecArgv(writerUrl) })
    const exited = new Promise((resolve) => writer.once('exit', resolve))
    let next = 0
    let sleeps = 0
    while (next < count) {
      consumer.drain((_id, _op, _flags, payload) => {
        expect(payload.readUInt32LE(0)).toBe(next)
        next++
      })
      if (next === count) break
      const wait = consumer.waitForDataAsync()
      if (wait === undefined) continue
      sleeps++
      const woken = await Promise.race([wait.then(() => true), new Promise((r) => setTimeout(r, 2000, false))])
      // A lost wake-up leaves frames in the ring and the wait pending.
      expect(woken, `woken after frame ${next} with frames waiting: ${consumer.hasFrames()}`).toBe(true)
    }
    await exited
    expect(next).toBe(count)
    // The writer's pauses put the reader to sleep about once a burst (~1,000 times); a busy
    // machine merges bursts, so only ask that it slept often enough to have been woken at all.
    expect(sleeps).toBeGreaterThan(10)
  })

  it('waitForSpaceAsync resolves when the consumer frees room, and not before it is needed', async () => {
    const { producer, consumer } = ring(256)
    producer.tryWrite(1, 1, 0, pattern(200, 1))
    const blocked = message(2, pattern(100, 2))
    expect(producer.writeMessage(blocked)).toBe(false)
    const wait = producer.waitForSpaceAsync(blocked)
    expect(wait).toBeInstanceOf(Promise)
    drainAll(consumer)
    await wait
    expect(producer.waitForSpaceAsync(blocked)).toBeUndefined()
    expect(producer.writeMessage(blocked)).toBe(true)
  })

  it('keeps the producer waiting flag up through releases too small for its message, until it writes', async () => {
    // A release that frees less than the waiting message needs must not lower the flag: the
    // producer may have read that release's index between raising the flag and parking, and
    // would then sleep with no one left to wake it.
    const { producer, consumer, sab } = ring(256)
    const control = new Int32Array(sab, 0, kRingControlBytes / 4)
    for (let id = 1; id <= 8; id++) expect(producer.tryWrite(id, 1, 0, pattern(16, id))).toBe(true) // 8 x 32 B
    const blocked = message(9, pattern(32, 9)) // needs a 48-byte frame: two releases' worth
    expect(producer.writeMessage(blocked)).toBe(false)
    const firstWait = producer.waitForSpaceAsync(blocked)
    expect(firstWait).toBeInstanceOf(Promise)
    consumer.drain(() => false) // frees one 32-byte frame
    expect(Atomics.load(control, kProducerWaitingField)).toBe(1)
    await firstWait
    const secondWait = producer.waitForSpaceAsync(blocked)
    expect(secondWait).toBeInstanceOf(Promise)
    consumer.drain(() => false)
    await secondWait
    expect(producer.waitForSpaceAsync(blocked)).toBeUndefined()
    expect(producer.writeMessage(blocked)).toBe(true)
    expect(Atomics.load(control, kProducerWaitingField)).toBe(0) // lowered once it had its room
  })

  it('close() wakes waiters on both ends and they stop waiting', async () => {
    const { producer, consumer } = ring(256)
    const dataWait = consumer.waitForDataAsync()
    producer.tryWrite(1, 1, 0, pattern(240, 1))
    await dataWait
    const blocked = message(2, pattern(8, 2))
    const spaceWait = producer.waitForSpaceAsync(blocked)
    expect(spaceWait).toBeInstanceOf(Promise)
    consumer.close()
    await spaceWait
    expect(producer.isClosed()).toBe(true)
    expect(producer.waitForSpaceAsync(blocked)).toBeUndefined()
    drainAll(consumer)
    expect(consumer.waitForDataAsync()).toBeUndefined()
  })
})

describe('shard > ring > corrupt frames', () => {
  function corrupt(edit: (words: Int32Array) => void): () => void {
    const { producer, consumer, sab } = ring(256)
    producer.tryWrite(1, 1, 0, pattern(8, 1))
    edit(new Int32Array(sab, kRingControlBytes, 64))
    return () => consumer.drain(() => undefined)
  }

  it('rejects a chunk longer than the ring with KAFKA_STORAGE_ERROR', () => {
    expect(corrupt((w) => { w[0] = 4096 })).toThrow(expect.objectContaining({ code: 'KAFKA_STORAGE_ERROR' }))
  })

  it('rejects a frame longer than what was published', () => {
    expect(corrupt((w) => { w[0] = 64; w[3] = 64 })).toThrow(/shard ring corrupt/)
  })

  it('rejects a continuation with no message in progress', () => {
    expect(corrupt((w) => { w[2] = 1 | (0x4 << 16) })).toThrow(/continuation of request 1/)
  })

  it('rejects a single frame that claims a longer message', () => {
    expect(corrupt((w) => { w[3] = 100 })).toThrow(/single frame carries 8 of 100/)
  })
})

describe('shard > ring > MessageBacklog', () => {
  it('is a FIFO across compactions', () => {
    const backlog = new MessageBacklog()
    const out: number[] = []
    for (let i = 0; i < 5000; i++) {
      backlog.push(message(i, new Uint8Array(0)))
      if (i % 3 !== 0) { out.push(backlog.peek().requestId); backlog.shift() }
    }
    while (!backlog.isEmpty()) { out.push(backlog.peek().requestId); backlog.shift() }
    expect(out).toEqual(Array.from({ length: 5000 }, (_, i) => i))
    expect(backlog.length).toBe(0)
  })
})
