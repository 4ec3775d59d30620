import { randomBytes } from 'node:crypto'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest'
import { isShardlogError } from '../../src/errors.js'
import { kOpStop } from '../../src/shard/frame.js'
import { RingProducer, createShardRings, kConsumerSleepingField } from '../../src/shard/ring.js'
import { ShardChannel } from '../../src/shard/shard-channel.js'
import { ShardHost, type ShardHostOptions } from '../../src/shard/shard-host.js'
import { workerExecArgv, workerUrl } from '../../src/shard/worker-url.js'
import { EchoOp, type EchoWorkerData } from './fixtures/echo-worker.js'

const echoWorkerUrl = new URL('./fixtures/echo-worker.ts', import.meta.url)
const smallRingBytes = 4096

/** Starts an echo worker host and stops it when the test ends. */
async function startEchoHost(opts: Partial<ShardHostOptions> & { data?: EchoWorkerData } = {}): Promise<ShardHost> {
  const { data, ...rest } = opts
  const host = await ShardHost.start({
    shardId: 0, workerUrl: echoWorkerUrl, workerData: data ?? {}, ringBytes: smallRingBytes, ...rest,
  })
  onTestFinished(() => host.stop())
  return host
}

function sleepEcho(ms: number, tag: string): Buffer {
  const payload = Buffer.alloc(4 + tag.length)
  payload.writeUInt32LE(ms, 0)
  payload.write(tag, 4)
  return payload
}

function wireError(errorCode: number, message: string): Buffer {
  return Buffer.from(JSON.stringify({ errorCode, message }))
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n, 0)
  return b
}

async function count(host: ShardHost): Promise<number> {
  return (await host.request(EchoOp.Count, Buffer.alloc(0))).readUInt32LE(0)
}

/** Settles to the rejection reason, failing the test if the promise resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; retriable?: boolean }> {
  return promise.then(
    () => { throw new Error('expected a rejection') },
    (err: Error) => err)
}

describe('shard > ShardChannel > requests and responses', () => {
  let host: ShardHost
  beforeAll(async () => {
    host = await ShardHost.start({ shardId: 0, workerUrl: echoWorkerUrl, workerData: {}, ringBytes: smallRingBytes })
  })
  afterAll(() => host.stop())

  it('matches responses to requests when the shard completes them out of order', async () => {
    const order: string[] = []
    const track = (tag: string, p: Promise<Buffer>): Promise<Buffer> => p.then((b) => { order.push(tag); return b })
    const [slow, fast, sync] = await Promise.all([
      track('slow', host.request(EchoOp.SleepEcho, sleepEcho(80, 'slow'))),
      track('fast', host.request(EchoOp.SleepEcho, sleepEcho(0, 'fast'))),
      track('sync', host.request(EchoOp.Echo, Buffer.from('sync'))),
    ])
    expect(order.indexOf('slow')).toBe(2)
    expect(slow!.subarray(4).toString()).toBe('slow')
    expect(fast!.subarray(4).toString()).toBe('fast')
    expect(sync!.toString()).toBe('sync')
  })

  it('answers 10,000 concurrent requests through a 4 KiB ring, each once and with its own payload', async () => {
    const before = await count(host)
    const payloads = Array.from({ length: 10_000 }, (_, i) => {
      const payload = randomBytes(4 + ((i * 7919) % 600))
      payload.writeUInt32LE(i, 0)
      return payload
    })
    const responses = await Promise.all(payloads.map((p, i) =>
      host.request(i % 5 === 0 ? EchoOp.SleepEcho : EchoOp.Echo, i % 5 === 0 ? Buffer.concat([uint32(0), p]) : p)))
    // One assertion over all responses: 10,000 separate expect() calls would dominate the test.
    const wrong = responses.flatMap((response, i) =>
      (i % 5 === 0 ? response.subarray(4) : response).equals(payloads[i]!) ? [] : [i])
    expect(wrong).toEqual([])
    expect(await count(host)).toBe(before + 1 + 10_000) // the handler saw each request exactly once
  })

  it('carries a message three times the ring size in both directions', async () => {
    const payload = randomBytes(3 * smallRingBytes + 7)
    expect(await host.request(EchoOp.Echo, payload)).toEqual(payload)
    const generated = await host.request(EchoOp.Generate, uint32(5 * smallRingBytes))
    expect(generated.length).toBe(5 * smallRingBytes)
    expect(generated.every((byte, i) => byte === (i & 0xff))).toBe(true)
  })

  it('answers after idle gaps', async () => {
    for (const gapMs of [0, 10, 70, 120]) {
      await new Promise((resolve) => setTimeout(resolve, gapMs))
      expect((await host.request(EchoOp.Echo, Buffer.from(`after ${gapMs}`))).toString()).toBe(`after ${gapMs}`)
    }
  })

  it('interleaves large and small requests without mixing their bytes', async () => {
    const payloads = Array.from({ length: 40 }, (_, i) => randomBytes(i % 4 === 0 ? 2 * smallRingBytes + i : i))
    const responses = await Promise.all(payloads.map((p) => host.request(EchoOp.Echo, p)))
    expect(responses.findIndex((response, i) => !response.equals(payloads[i]!))).toBe(-1)
  })

  it('delivers handler errors as typed errors: thrown, rejected, foreign, and bad results', async () => {
    const thrown = await rejection(host.request(EchoOp.Throw, wireError(1, 'offset 99 is past the end')))
    expect(thrown).toMatchObject({ code: 'OFFSET_OUT_OF_RANGE', errorCode: 1, message: 'offset 99 is past the end' })
    expect(thrown.name).toBe('OffsetOutOfRangeError')
    const rejected = await rejection(host.request(EchoOp.Reject, wireError(6, 'moved')))
    expect(rejected).toMatchObject({ code: 'NOT_LEADER_OR_FOLLOWER', retriable: true, message: 'moved' })
    const foreign = await rejection(host.request(EchoOp.ThrowPlain, Buffer.alloc(0)))
    expect(foreign).toMatchObject({ code: 'UNKNOWN_SERVER_ERROR', message: 'plain failure in handler' })
    const bad = await rejection(host.request(EchoOp.BadResult, Buffer.alloc(0)))
    expect(bad).toMatchObject({ code: 'UNKNOWN_SERVER_ERROR' })
    expect(bad.message).toMatch(/op 11 returned string instead of a Uint8Array/)
    expect(await rejection(host.request(999, Buffer.alloc(0)))).toMatchObject({ code: 'INVALID_REQUEST' })
    // The shard is still healthy afterwards.
    expect((await host.request(EchoOp.Echo, Buffer.from('ok'))).toString()).toBe('ok')
  })

  it('refuses bad ops and payloads without sending them', async () => {
    for (const op of [-1, 1.5, 0x10000, kOpStop, Number.NaN]) {
      expect(await rejection(host.request(op, Buffer.alloc(0)))).toMatchObject({ code: 'INVALID_REQUEST' })
    }
    const notBytes = 'text' as unknown as Uint8Array
    expect(await rejection(host.request(EchoOp.Echo, notBytes))).toMatchObject({ code: 'INVALID_REQUEST' })
    expect((await host.request(EchoOp.Echo, new Uint8Array([1, 2, 3])))).toEqual(Buffer.from([1, 2, 3]))
  })
})

describe('shard > ShardChannel > endpoint wake-up modes', () => {
  // The default (waitAsync only) is exercised by every other test.
  it.each([
    { name: 'blocking in 1 ms slices, then waitAsync after 5 ms idle', endpoint: { idleWaitMs: 1, hotIdleMs: 5 } },
    { name: 'blocking in long slices, never falling back', endpoint: { idleWaitMs: 20, hotIdleMs: 10_000 } },
  ])('answers after idle gaps when $name', async ({ endpoint }) => {
    const host = await startEchoHost({ data: { endpoint } })
    for (const gapMs of [0, 10, 70]) {
      await new Promise((resolve) => setTimeout(resolve, gapMs))
      const payloads = Array.from({ length: 50 }, (_, j) => Buffer.from(`${gapMs}:${j}`))
      expect(await Promise.all(payloads.map((p, j) =>
        host.request(j % 2 === 0 ? EchoOp.Echo : EchoOp.SleepEcho, j % 2 === 0 ? p : Buffer.concat([uint32(1), p])))))
        .toEqual(payloads.map((p, j) => (j % 2 === 0 ? p : Buffer.concat([uint32(1), p]))))
    }
  })

  it('answers within and after the busy-poll window, and through a full ring while polling', async () => {
    const host = await startEchoHost({ busyPollUs: 2000 })
    for (const gapMs of [0, 1, 10, 70]) {
      await new Promise((resolve) => setTimeout(resolve, gapMs))
      expect((await host.request(EchoOp.Echo, Buffer.from(`after ${gapMs}`))).toString()).toBe(`after ${gapMs}`)
    }
    const payloads = Array.from({ length: 2000 }, (_, i) => randomBytes(8 + (i % 300)))
    const responses = await Promise.all(payloads.map((p, i) =>
      host.request(i % 3 === 0 ? EchoOp.SleepEcho : EchoOp.Echo, i % 3 === 0 ? Buffer.concat([uint32(0), p]) : p)))
    expect(responses.findIndex((r, i) => !(i % 3 === 0 ? r.subarray(4) : r).equals(payloads[i]!))).toBe(-1)
  })

  it('stops polling and sleeps on both ends once the busy-poll window passes without frames', async () => {
    // Rings of our own, to watch the sleeping flags: 1 means that end waits in Atomics.waitAsync.
    const rings = createShardRings(smallRingBytes)
    const sleeping = (sab: SharedArrayBuffer): number => Atomics.load(new Int32Array(sab, 0, 2), kConsumerSleepingField)
    const worker = new Worker(echoWorkerUrl, {
      workerData: { shardId: 0, rings, busyPollUs: 5000 }, execArgv: workerExecArgv(echoWorkerUrl),
    })
    onTestFinished(async () => { await worker.terminate() })
    await new Promise((resolve) => worker.once('message', resolve)) // the endpoint's ready message
    const channel = new ShardChannel(rings, { busyPollUs: 5000 })
    onTestFinished(() => channel.close())
    expect((await channel.request(EchoOp.Echo, Buffer.from('hi'))).toString()).toBe('hi')
    const hung = channel.request(EchoOp.Never, Buffer.alloc(0)) // keeps the main side reading
    hung.catch(() => undefined)
    await vi.waitFor(() => {
      expect(sleeping(rings.requests)).toBe(1)
      expect(sleeping(rings.responses)).toBe(1)
    }, { timeout: 5000, interval: 10 })
    // Asleep, both still wake for the next request.
    expect((await channel.request(EchoOp.Echo, Buffer.from('again'))).toString()).toBe('again')
  })

  it('refuses a busyPollUs that is not an integer from 0 to one second', async () => {
    for (const busyPollUs of [-1, 1.5, 2_000_000, Number.NaN]) {
      await expect(startEchoHost({ busyPollUs })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    }
  })
})

describe('shard > ShardHost > worker death', () => {
  it('killing the worker under load rejects every pending call at once with KAFKA_STORAGE_ERROR, then serves again', async () => {
    const restarts: [number, string][] = []
    const host = await startEchoHost({
      shardId: 3,
      onRestart: (shardId, reason) => { restarts.push([shardId, reason.message]) },
    })
    const calls = Array.from({ length: 2000 }, (_, i) =>
      i % 2 === 0 ? host.request(EchoOp.SleepEcho, sleepEcho(10_000, 'never')) : host.request(EchoOp.Echo, uint32(i)))
    let settled = 0
    for (const call of calls) call.then(() => settled++, () => settled++)
    const killed = host.kill()
    await new Promise(setImmediate) // no waiting for the thread's exit: the rejections are already out
    expect(settled).toBe(calls.length)
    const outcomes = await Promise.allSettled(calls)
    const failures = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected').map((o) => o.reason as Error)
    expect(failures.length).toBeGreaterThanOrEqual(1000) // at least every sleeping call
    for (const err of failures) {
      expect(isShardlogError(err)).toBe(true)
      expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true, message: 'shard 3 died: killed' })
    }
    await killed
    await host.whenReady()
    expect(host.restarts).toBe(1)
    expect(restarts).toEqual([[3, 'shard 3 died: killed']])
    expect((await host.request(EchoOp.Echo, Buffer.from('back'))).toString()).toBe('back')
  })

  it('a worker that crashes or exits fails pending calls with the reason, and is replaced each time', async () => {
    const host = await startEchoHost({ shardId: 2 })
    const pending = host.request(EchoOp.SleepEcho, sleepEcho(10_000, 'x'))
    const crash = host.request(EchoOp.Crash, Buffer.alloc(0))
    for (const err of [await rejection(pending), await rejection(crash)]) {
      expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true })
      expect(err.message).toBe('shard 2 died: RangeError: echo worker crashed on purpose')
      expect((err.cause as Error).message).toBe('echo worker crashed on purpose')
    }
    await host.whenReady()
    expect((await host.request(EchoOp.Echo, Buffer.from('alive'))).toString()).toBe('alive')

    const exited = await rejection(host.request(EchoOp.Exit, Buffer.alloc(0)))
    expect(exited).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: 'shard 2 died: exited with code 7' })
    await host.whenReady()
    expect(host.restarts).toBe(2)
    expect((await host.request(EchoOp.Echo, Buffer.from('alive'))).toString()).toBe('alive')
  })

  it('calls made while the worker restarts wait for the replacement; onRestart calls go first', async () => {
    const events: string[] = []
    let host: ShardHost | undefined
    host = await startEchoHost({
      onRestart: async () => {
        events.push('hook start')
        await host!.request(EchoOp.Echo, Buffer.from('from hook')) // must not wait behind the gate
        events.push('hook done')
      },
    })
    const killed = host.kill()
    const waiting = host.request(EchoOp.Echo, Buffer.from('waited')).then((b) => { events.push('caller'); return b })
    expect((await waiting).toString()).toBe('waited')
    await killed
    expect(events).toEqual(['hook start', 'hook done', 'caller'])
  })

  it('after restartWaitMs without a replacement, calls fail fast with KAFKA_STORAGE_ERROR', async () => {
    const host = await startEchoHost({ restartWaitMs: 0 })
    await host.kill()
    await new Promise((resolve) => setTimeout(resolve, 5))
    const err = await rejection(host.request(EchoOp.Echo, Buffer.alloc(0)))
    expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', retriable: true })
    expect(err.message).toMatch(/^shard 0 is restarting after: shard 0 died: killed; no replacement within 0 ms/)
    await host.whenReady()
    expect((await host.request(EchoOp.Echo, Buffer.from('ok'))).toString()).toBe('ok')
  })

  it('with restart off, a dead shard stays dead and fails calls with the death error', async () => {
    const host = await startEchoHost({ restart: false })
    await host.kill()
    expect(await rejection(host.request(EchoOp.Echo, Buffer.alloc(0))))
      .toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: 'shard 0 died: killed' })
    await expect(host.whenReady()).rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR' })
    expect(host.restarts).toBe(0)
  })
})

describe('shard > ShardHost > start and stop', () => {
  it('stop() is graceful: earlier calls complete, onStop runs, later calls are refused, no restart', async () => {
    const host = await startEchoHost({ data: { onStopDelayMs: 30 } })
    const inFlight = Array.from({ length: 5 }, (_, i) => host.request(EchoOp.SleepEcho, sleepEcho(50, `s${i}`)))
    await host.stop()
    expect((await Promise.all(inFlight)).map((b) => b.subarray(4).toString())).toEqual(['s0', 's1', 's2', 's3', 's4'])
    expect(await rejection(host.request(EchoOp.Echo, Buffer.alloc(0))))
      .toMatchObject({ code: 'BROKER_NOT_AVAILABLE', message: 'shard 0 is stopped' })
    expect(host.restarts).toBe(0)
    expect(host.isRunning).toBe(false)
    await host.stop() // idempotent
  })

  it('stop() terminates a worker whose handler hangs, after stopTimeoutMs', async () => {
    const host = await startEchoHost({ stopTimeoutMs: 50 })
    const hung = rejection(host.request(EchoOp.Never, Buffer.alloc(0)))
    await host.stop()
    expect(await hung).toMatchObject({ code: 'BROKER_NOT_AVAILABLE' })
    expect(host.restarts).toBe(0)
  })

  it('stop() during a restart ends the restart and refuses the calls waiting for it', async () => {
    const host = await startEchoHost()
    await host.kill()
    const waiting = rejection(host.request(EchoOp.Echo, Buffer.alloc(0)))
    await host.stop()
    expect(await waiting).toMatchObject({ code: 'BROKER_NOT_AVAILABLE' })
    expect(host.restarts).toBe(0)
  })

  it('start() fails with KAFKA_STORAGE_ERROR when the worker dies before it is ready', async () => {
    const broken = new URL(`data:text/javascript,${encodeURIComponent('throw new Error("no config")')}`)
    await expect(ShardHost.start({ shardId: 5, workerUrl: broken, workerData: {} }))
      .rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: 'shard 5 failed to start: Error: no config' })
  })

  it('start() fails with KAFKA_STORAGE_ERROR when the worker never serves its rings', async () => {
    const idle = new URL(`data:text/javascript,${encodeURIComponent('setInterval(() => {}, 1000)')}`)
    await expect(ShardHost.start({ shardId: 6, workerUrl: idle, workerData: {}, startTimeoutMs: 100 }))
      .rejects.toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: 'shard 6 failed to start: not ready within 100 ms' })
  })

  it('start() refuses bad options with INVALID_CONFIG', async () => {
    const base = { shardId: 0, workerUrl: echoWorkerUrl, workerData: {} }
    await expect(ShardHost.start({ ...base, shardId: -1 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(ShardHost.start({ ...base, ringBytes: 1000 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(ShardHost.start({ ...base, restartWaitMs: -5 })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
    await expect(ShardHost.start({ ...base, workerUrl: 'x' as unknown as URL })).rejects.toMatchObject({ code: 'INVALID_CONFIG' })
  })
})

describe('shard > ShardChannel > failAll and close', () => {
  it('fails calls fast once the endpoint closed its rings', async () => {
    const rings = createShardRings(1024)
    const channel = new ShardChannel(rings)
    new ShardChannel(rings).close() // what a stopping endpoint does to the shared rings
    expect(await rejection(channel.request(1, Buffer.alloc(0))))
      .toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: 'shard endpoint closed its rings' })
  })

  it('failAll rejects pending calls with the given error and every later call too', async () => {
    const channel = new ShardChannel(createShardRings(1024)) // nobody serves these rings
    const pending = [channel.request(1, Buffer.from('a')), channel.request(1, Buffer.alloc(3000))]
    expect(channel.pendingCount).toBe(2)
    const err = new Error('shard gone')
    channel.failAll(err)
    for (const call of pending) expect(await rejection(call)).toBe(err)
    expect(await rejection(channel.request(1, Buffer.alloc(0)))).toBe(err)
    expect(channel.isClosed).toBe(true)
  })

  it('a response to a request that is not pending breaks the channel and reports it', async () => {
    const rings = createShardRings(1024)
    const broken: Error[] = []
    const channel = new ShardChannel(rings, { onBroken: (err) => broken.push(err) })
    const pending = rejection(channel.request(1, Buffer.from('a')))
    new RingProducer(rings.responses).tryWrite(999, 1, 0, Buffer.from('stray')) // a confused shard
    const err = await pending
    expect(err).toMatchObject({ code: 'KAFKA_STORAGE_ERROR', message: 'shard answered request 999 (op 1) that is not pending' })
    expect(broken).toEqual([err])
    expect(channel.isClosed).toBe(true)
  })

  it('close rejects pending calls with BROKER_NOT_AVAILABLE', async () => {
    const channel = new ShardChannel(createShardRings(1024))
    const pending = channel.request(1, Buffer.from('a'))
    channel.close()
    expect(await rejection(pending)).toMatchObject({ code: 'BROKER_NOT_AVAILABLE' })
  })
})

describe('shard > workerUrl', () => {
  it('resolves workers/<name>.ts from sources, with a loader for the worker thread', () => {
    const { url, execArgv } = workerUrl('shard-worker')
    expect(url.href).toBe(new URL('../../workers/shard-worker.ts', import.meta.url).href)
    expect(execArgv[0]).toBe('--import')
    expect(decodeURIComponent(execArgv[1]!)).toMatch(/^data:text\/javascript,import \{ register \} from "file:.*tsx.*";/)
    expect(workerExecArgv(new URL('file:///x/y.js'))).toEqual([])
    expect(workerExecArgv(new URL('file:///x/y.mjs'))).toEqual([])
    expect(workerExecArgv(new URL('file:///x/y.mts'))).toEqual(execArgv)
  })

  it('refuses names that are not kebab-case file names', () => {
    for (const name of ['', '../etc', 'Shard', 'a/b']) {
      expect(() => workerUrl(name)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }))
    }
  })
})
