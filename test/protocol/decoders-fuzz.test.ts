/**
 * Fuzzing: random bytes and mutated valid messages thrown at every request decoder (every
 * generated version) and at decodeRequestHeader. Each input must decode or throw a
 * ShardlogError with INVALID_REQUEST or CORRUPT_MESSAGE: never a RangeError, TypeError or a
 * hang, and never an allocation the input cannot justify.
 */
import fc from 'fast-check'
import { describe, it } from 'vitest'
import { isShardlogError } from '../../src/errors.js'
import { decodeRequestHeader, encodeRequestHeader } from '../../src/protocol/headers.js'
import { apiCodec } from '../../src/protocol/messages/index.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import type { MessageModel } from '../../scripts/generate-protocol.js'
import { protocolModel, structArb, versionsOf } from './message-arbitrary.js'

const ALLOWED_CODES = ['INVALID_REQUEST', 'CORRUPT_MESSAGE']

/** Runs `decode` and fails the test on anything but success or an allowed typed error. */
function decodesOrThrowsTyped(decode: () => unknown): void {
  try {
    decode()
  } catch (err) {
    if (!isShardlogError(err) || !ALLOWED_CODES.includes(err.code)) {
      throw new Error(`decoder threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, { cause: err })
    }
  }
}

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'huge'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  // Big-endian counts and lengths that claim far more than the message holds.
  fc.record({ kind: fc.constant('huge' as const), at: fc.nat(), value: fc.constantFrom(0x7fffffff, 0x80000000, 0xffffffff, 0x40000000, 0x7fff0000) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
)

function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let out = Buffer.from(input)
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length
    switch (m.kind) {
      case 'flip': if (out.length > 0) out[at] = m.value; break
      case 'truncate': out = out.subarray(0, at); break
      case 'huge': if (at + 4 <= out.length) out.writeUInt32BE(m.value, at); break
      case 'insert': out = Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]); break
    }
  }
  return out
}

function fuzzMessage(message: MessageModel, decode: (r: Reader, v: number) => unknown, runs: number): void {
  for (const version of versionsOf(message)) {
    const encoded = structArb(message.root, version, message).map((body) => {
      const w = new Writer()
      apiCodec(message.apiKey!)!.encodeRequest(w, body as never, version)
      return w.toBuffer()
    })
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
      fc.tuple(encoded, fc.array(mutationArb, { minLength: 1, maxLength: 4 })).map(([bytes, ms]) => mutate(bytes, ms)),
    )
    fc.assert(fc.property(input, (bytes) => decodesOrThrowsTyped(() => decode(new Reader(bytes), version))), { numRuns: runs })
  }
}

describe('protocol > decoders > fuzz', () => {
  const model = protocolModel()

  it.each(model.apis.map((api) => [api.name, api] as const))('%s request decoder, every generated version', (_name, api) => {
    fuzzMessage(api.request, (r, v) => apiCodec(api.apiKey)!.decodeRequest(r, v), 60)
  })

  it('decodeRequestHeader survives random and mutated headers', () => {
    const header = fc.record({
      apiKey: fc.integer({ min: 0, max: 50 }),
      apiVersion: fc.integer({ min: 0, max: 20 }),
      correlationId: fc.integer(),
      clientId: fc.option(fc.string({ maxLength: 20 }), { nil: null }),
    }).map((h) => {
      const w = new Writer()
      encodeRequestHeader(w, h)
      return w.toBuffer()
    })
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
      fc.tuple(header, fc.array(mutationArb, { minLength: 1, maxLength: 3 })).map(([bytes, ms]) => mutate(bytes, ms)),
    )
    fc.assert(fc.property(input, (bytes) => decodesOrThrowsTyped(() => decodeRequestHeader(new Reader(bytes)))), { numRuns: 2000 })
  })

  it('rejects bodies made of huge counts at once, for every request decoder and version', () => {
    // Every array count or length read from these bodies is 2^31 - 1 or larger: each decoder
    // must fail on the first one, before allocating an array or buffer for it.
    const hostile = [Buffer.alloc(64, 0x7f), Buffer.alloc(64, 0xff), Buffer.from('7fffffff'.repeat(16), 'hex')]
    for (const api of model.apis) {
      for (const version of versionsOf(api.request)) {
        for (const bytes of hostile) decodesOrThrowsTyped(() => apiCodec(api.apiKey)!.decodeRequest(new Reader(bytes), version))
      }
    }
  })
})
