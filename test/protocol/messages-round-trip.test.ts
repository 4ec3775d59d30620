import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { InvalidRequestError, UnsupportedVersionError } from '../../src/errors.js'
import { ApiKey } from '../../src/protocol/api-keys.js'
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment } from '../../src/protocol/messages/consumer-protocol-assignment.js'
import { decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription } from '../../src/protocol/messages/consumer-protocol-subscription.js'
import { encodeFetchResponse, type FetchResponse } from '../../src/protocol/messages/fetch.js'
import { API_CODECS, apiCodec } from '../../src/protocol/messages/index.js'
import { encodeMetadataRequest } from '../../src/protocol/messages/metadata.js'
import { decodeRequestHeader, encodeRequestHeader } from '../../src/protocol/messages/request-header.js'
import { decodeResponseHeader, encodeResponseHeader } from '../../src/protocol/messages/response-header.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'
import type { MessageModel } from '../../scripts/generate-protocol.js'
import { expectedDecode, protocolModel, structArb, versionsOf } from './message-arbitrary.js'

type Encode = (w: Writer, msg: never, version: number) => void
type Decode = (r: Reader, version: number) => unknown

/** Encodes, decodes, re-encodes: the decoded body must equal the input and both encodings the same bytes. */
function checkRoundTrip(message: MessageModel, encode: Encode, decode: Decode, runs: number): void {
  for (const version of versionsOf(message)) {
    fc.assert(
      fc.property(structArb(message.root, version, message), (body) => {
        const w = new Writer(8) // tiny, so that most messages cross scratch-buffer boundaries
        encode(w, body as never, version)
        const bytes = w.toBuffer()
        expect(bytes.length).toBe(w.length)
        const r = new Reader(bytes)
        const decoded = decode(r, version)
        expect(r.remaining).toBe(0)
        expect(decoded).toEqual(expectedDecode(message.root, body))
        const again = new Writer()
        encode(again, decoded as never, version)
        expect(again.toBuffer().equals(bytes)).toBe(true)
      }),
      { numRuns: runs },
    )
  }
}

describe('protocol > messages > round trip', () => {
  const model = protocolModel()

  it.each(model.apis.map((api) => [api.name, api] as const))('%s requests and responses, every generated version', (_name, api) => {
    const codec = apiCodec(api.apiKey)!
    checkRoundTrip(api.request, codec.encodeRequest as Encode, codec.decodeRequest, 12)
    checkRoundTrip(api.response, codec.encodeResponse as Encode, codec.decodeResponse, 12)
  })

  it('RequestHeader, ResponseHeader and the consumer protocol, every version', () => {
    const byName = new Map(model.others.map((m) => [m.name, m]))
    checkRoundTrip(byName.get('RequestHeader')!, encodeRequestHeader as Encode, decodeRequestHeader, 30)
    checkRoundTrip(byName.get('ResponseHeader')!, encodeResponseHeader as Encode, decodeResponseHeader, 10)
    checkRoundTrip(byName.get('ConsumerProtocolSubscription')!, encodeConsumerProtocolSubscription as Encode, decodeConsumerProtocolSubscription, 30)
    checkRoundTrip(byName.get('ConsumerProtocolAssignment')!, encodeConsumerProtocolAssignment as Encode, decodeConsumerProtocolAssignment, 30)
  })

  it('covers every ApiKey and generates at least up to the advertised maximum', () => {
    for (const key of Object.values(ApiKey).filter((k): k is ApiKey => typeof k === 'number')) {
      expect(API_CODECS[key].apiKey).toBe(key)
    }
    expect(API_CODECS[ApiKey.Fetch]).toMatchObject({ minVersion: 0, maxVersion: 17, firstFlexibleVersion: 12 })
    // EndTxn v5 is latestVersionUnstable and not advertised: no code for it.
    expect(API_CODECS[ApiKey.EndTxn].maxVersion).toBe(4)
  })

  it('rejects versions outside the generated range with UNSUPPORTED_VERSION', () => {
    const codec = API_CODECS[ApiKey.Metadata]
    expect(() => codec.decodeRequest(new Reader(Buffer.alloc(8)), 13)).toThrow(UnsupportedVersionError)
    expect(() => codec.encodeRequest(new Writer(), { topics: [], allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }, -1))
      .toThrow(UnsupportedVersionError)
  })

  it('refuses to drop a non-ignorable field that a version lacks, as Kafka does', () => {
    const body = { topics: [], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }
    expect(() => encodeMetadataRequest(new Writer(), body, 3)).toThrow(UnsupportedVersionError)
    expect(() => encodeMetadataRequest(new Writer(), body, 4)).not.toThrow()
    // At its default the field may be dropped.
    expect(() => encodeMetadataRequest(new Writer(), { ...body, allowAutoTopicCreation: true }, 3)).not.toThrow()
  })

  it('refuses null where the version does not allow it', () => {
    const body = { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false }
    expect(() => encodeMetadataRequest(new Writer(), body, 0)).toThrow(InvalidRequestError)
    expect(() => encodeMetadataRequest(new Writer(), body, 1)).not.toThrow()
  })

  it('appends large Fetch records by reference, so a response goes out as [header, ...records] without copying', () => {
    const records = Buffer.alloc(64 * 1024, 7)
    const response: FetchResponse = {
      throttleTimeMs: 0, errorCode: 0, sessionId: 0,
      responses: [{
        topic: 't', topicId: 'AAAAAAAAAAAAAAAAAAAAAA',
        partitions: [{
          partitionIndex: 0, errorCode: 0, highWatermark: 10, lastStableOffset: 10, logStartOffset: 0,
          abortedTransactions: [], preferredReadReplica: -1, records,
        }],
      }],
    }
    for (const version of [4, 11, 12, 13]) {
      const w = new Writer()
      encodeFetchResponse(w, response, version)
      const chunks = w.chunks()
      expect(chunks.some((chunk) => chunk === records)).toBe(true)
      const decoded = API_CODECS[ApiKey.Fetch].decodeResponse(new Reader(Buffer.concat(chunks)), version)
      expect(decoded.responses[0]!.partitions[0]!.records!.equals(records)).toBe(true)
    }
  })
})
