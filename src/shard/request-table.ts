/**
 * Values in flight by an id the table hands out, such as the calls a `ShardChannel` has sent to
 * its shard or the fetches a shard has parked: a power-of-two array indexed by the id's low bits,
 * the ids chosen so that each lands on a free slot.
 *
 * Why not a `Map`: V8 allocates the rehashed backing table of a Map that already lives in the
 * old generation directly in the old generation. A Map keyed by ever-increasing request ids,
 * one set and one delete per call, rehashes every few calls; at tens of thousands of calls a
 * second that garbage alone started a mark-compact several times a second on the main thread
 * (each a 2–4 ms pause plus ~10 ms of incremental marking; see BENCHMARKS.md, e2e latency).
 * Storing into an existing array allocates nothing.
 */

const kInitialCapacity = 64

/** Ids (uint32, never 0) mapped to the value stored under each. */
export class RequestTable<T> {
  #ids = new Uint32Array(kInitialCapacity)
  #values: Array<T | undefined> = new Array<T | undefined>(kInitialCapacity).fill(undefined)
  #mask = kInitialCapacity - 1
  #size = 0
  #lastId: number

  /** `lastId`: the id taken to be handed out last, so the first `add` returns the one after it. */
  constructor(lastId = 0) {
    this.#lastId = lastId >>> 0
  }

  /** Calls in the table. */
  get size(): number {
    return this.#size
  }

  /**
   * Stores `value` under a new request id and returns the id: the next uint32 after the last
   * one handed out (wrapping, skipping 0) whose slot is free, so an id still in flight is never
   * reused.
   */
  add(value: T): number {
    if (this.#size * 2 >= this.#values.length) this.#grow()
    let id = this.#lastId
    do id = (id + 1) >>> 0 || 1
    while (this.#values[id & this.#mask] !== undefined)
    this.#lastId = id
    this.#ids[id & this.#mask] = id
    this.#values[id & this.#mask] = value
    this.#size++
    return id
  }

  /** Whether a call is stored under `id`. */
  has(id: number): boolean {
    const slot = id & this.#mask
    return this.#values[slot] !== undefined && this.#ids[slot] === id
  }

  /** Removes and returns the call stored under `id`, or `undefined` if no call has that id. */
  take(id: number): T | undefined {
    const slot = id & this.#mask
    const value = this.#values[slot]
    if (value === undefined || this.#ids[slot] !== id) return undefined
    this.#values[slot] = undefined
    this.#size--
    return value
  }

  /** The first value, in slot order, that `test` accepts; `undefined` when none does. */
  find(test: (value: T) => boolean): T | undefined {
    for (const value of this.#values) if (value !== undefined && test(value)) return value
    return undefined
  }

  /** Empties the table and returns what it held, in slot order. */
  drain(): T[] {
    const out: T[] = []
    for (let slot = 0; slot < this.#values.length; slot++) {
      const value = this.#values[slot]
      if (value !== undefined) out.push(value)
      this.#values[slot] = undefined
    }
    this.#size = 0
    return out
  }

  /**
   * Doubles the array. Live ids already differ in their low bits under the old mask, so they
   * differ under the wider one too: every call keeps a slot of its own.
   */
  #grow(): void {
    const capacity = this.#values.length * 2
    const ids = new Uint32Array(capacity)
    const values = new Array<T | undefined>(capacity).fill(undefined)
    const mask = capacity - 1
    for (let slot = 0; slot < this.#values.length; slot++) {
      const value = this.#values[slot]
      if (value === undefined) continue
      const id = this.#ids[slot]!
      ids[id & mask] = id
      values[id & mask] = value
    }
    this.#ids = ids
    this.#values = values
    this.#mask = mask
  }
}
