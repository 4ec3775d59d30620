import { afterEach, describe, expect, it, vi } from 'vitest'
import { LostWakeupCheck, kLostWakeupCheckMs } from '../../src/shard/lost-wakeup-check.js'
import { RingConsumer, RingProducer, createRingBuffer, createShardRings, kConsumerSleepingField } from '../../src/shard/ring.js'
import { ShardChannel } from '../../src/shard/shard-channel.js'

/** Lowers a reader's sleeping flag behind its back: the next frame will not notify it (a lost wake-up). */
function loseNextWakeup(sab: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(sab, 0, 2), kConsumerSleepingField, 0)
}

/** A small ring and both of its ends. */
function ringEnds(): { sab: SharedArrayBuffer; producer: RingProducer; consumer: RingConsumer } {
  const sab = createRingBuffer(256)
  return { sab, producer: new RingProducer(sab), consumer: new RingConsumer(sab) }
}

/** Lets pending promise reactions and platform tasks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

afterEach(() => { vi.useRealTimers() })

describe('shard > LostWakeupCheck', () => {
  it('wakes a parked reader whose frames wait through two checks, and counts it', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { sab, producer, consumer } = ringEnds()
    const check = new LostWakeupCheck(consumer)
    check.start()
    let woken = false
    void consumer.waitForDataAsync()!.then(() => { woken = true })
    loseNextWakeup(sab)
    producer.tryWrite(1, 1, 0, Buffer.from('lost'))
    await settle()
    expect(woken).toBe(false)
    vi.advanceTimersByTime(kLostWakeupCheckMs) // first sight of frames and a parked reader: may be a wake-up on its way
    await settle()
    expect(woken).toBe(false)
    vi.advanceTimersByTime(kLostWakeupCheckMs)
    await vi.waitFor(() => expect(woken).toBe(true))
    expect(check.lostWakeups).toBe(1)
    check.stop()
  })

  it('leaves a reader alone while it reads, however many frames wait', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const { sab, producer, consumer } = ringEnds()
    const check = new LostWakeupCheck(consumer)
    check.start()
    // A wait parked with its wake-up lost, while another path of the reader keeps reading.
    void consumer.waitForDataAsync()
    loseNextWakeup(sab)
    for (let i = 1; i <= 4; i++) {
      producer.tryWrite(i, 1, 0, Buffer.from('x'))
      vi.advanceTimersByTime(kLostWakeupCheckMs)
      consumer.drain(() => false) // one frame read per check: progress
    }
    expect(check.lostWakeups).toBe(0)
    check.stop()
  })

  it('keeps a ShardChannel call from hanging when its response comes without a wake-up', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] })
    const rings = createShardRings(4096)
    const channel = new ShardChannel(rings)
    const answer = channel.request(1, Buffer.from('question'))
    // Play the shard: read the request, answer it with the channel's wake-up lost.
    const requests = new RingConsumer(rings.requests)
    let requestId = 0
    requests.drain((id) => { requestId = id })
    expect(requestId).not.toBe(0)
    await settle() // the channel parks in waitAsync
    loseNextWakeup(rings.responses)
    new RingProducer(rings.responses).tryWrite(requestId, 1, 0, Buffer.from('answer'))
    let answered: string | undefined
    void answer.then((b) => { answered = b.toString() })
    await settle()
    expect(answered).toBeUndefined()
    vi.advanceTimersByTime(2 * kLostWakeupCheckMs)
    await vi.waitFor(() => expect(answered).toBe('answer'))
    expect(channel.lostWakeups).toBe(1)
    channel.close()
  })
})
