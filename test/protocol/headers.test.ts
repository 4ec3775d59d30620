import { describe, expect, it } from 'vitest'
import { InvalidRequestError } from '../../src/errors.js'
import { ApiKey } from '../../src/protocol/api-keys.js'
import {
  decodeRequestHeader, decodeResponseHeader, encodeRequestHeader, encodeResponseHeader,
  requestHeaderVersion, responseHeaderVersion,
} from '../../src/protocol/headers.js'
import { Reader } from '../../src/protocol/reader.js'
import { Writer } from '../../src/protocol/writer.js'

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex')

describe('protocol > headers', () => {
  it('chooses header versions by flexibility, with ApiVersions responses always v0 (KIP-511)', () => {
    expect(requestHeaderVersion(ApiKey.Fetch, 11)).toBe(1)
    expect(requestHeaderVersion(ApiKey.Fetch, 12)).toBe(2)
    expect(responseHeaderVersion(ApiKey.Fetch, 11)).toBe(0)
    expect(responseHeaderVersion(ApiKey.Fetch, 12)).toBe(1)
    expect(requestHeaderVersion(ApiKey.ApiVersions, 3)).toBe(2)
    expect(responseHeaderVersion(ApiKey.ApiVersions, 3)).toBe(0)
    expect(requestHeaderVersion(ApiKey.OffsetDelete, 0)).toBe(1)
    expect(responseHeaderVersion(ApiKey.SaslHandshake, 1)).toBe(0)
    // Unknown keys and future versions still have a header version.
    expect(requestHeaderVersion(999, 0)).toBe(1)
    expect(requestHeaderVersion(ApiKey.ApiVersions, 9)).toBe(2)
  })

  it('encodes and decodes request headers v1 and v2 (client id stays a classic string)', () => {
    const w = new Writer()
    encodeRequestHeader(w, { apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 7, clientId: 'cli' })
    expect(w.toBuffer().toString('hex')).toBe('0003000c00000007' + '0003636c69' + '00')
    const header = decodeRequestHeader(new Reader(w.toBuffer()))
    expect(header).toEqual({ apiKey: 3, apiVersion: 12, correlationId: 7, clientId: 'cli', headerVersion: 2 })

    const v1 = new Writer()
    encodeRequestHeader(v1, { apiKey: ApiKey.Metadata, apiVersion: 4, correlationId: -5, clientId: null })
    expect(v1.toBuffer().toString('hex')).toBe('00030004fffffffb' + 'ffff')
    expect(decodeRequestHeader(new Reader(v1.toBuffer()))).toEqual({ apiKey: 3, apiVersion: 4, correlationId: -5, clientId: null, headerVersion: 1 })
  })

  it('decodes the header of an ApiVersions request with a version we do not know, for UNSUPPORTED_VERSION', () => {
    // ApiVersions v9 from a future client: header v2 (flexible from v3 on), then a body we cannot read.
    const r = new Reader(hex('0012 0009 0000002a 0004 6b637a79 00 ffffff'))
    expect(decodeRequestHeader(r)).toEqual({ apiKey: 18, apiVersion: 9, correlationId: 42, clientId: 'kczy', headerVersion: 2 })
    expect(r.remaining).toBe(3)
  })

  it('decodes the header of an unknown API key as v1', () => {
    const r = new Reader(hex('0400 0001 00000001 0000 beef'))
    expect(decodeRequestHeader(r)).toEqual({ apiKey: 1024, apiVersion: 1, correlationId: 1, clientId: '', headerVersion: 1 })
    expect(r.remaining).toBe(2)
  })

  it('rejects truncated headers with InvalidRequestError', () => {
    expect(() => decodeRequestHeader(new Reader(hex('0003000c000000')))).toThrow(InvalidRequestError)
    expect(() => decodeRequestHeader(new Reader(hex('0003000c00000007 0005 6162')))).toThrow(InvalidRequestError)
  })

  it('encodes and decodes response headers v0 and v1', () => {
    const w = new Writer()
    encodeResponseHeader(w, 9, 0)
    encodeResponseHeader(w, 10, 1)
    expect(w.toBuffer().toString('hex')).toBe('00000009' + '0000000a00')
    const r = new Reader(w.toBuffer())
    expect(decodeResponseHeader(r, 0)).toBe(9)
    expect(decodeResponseHeader(r, 1)).toBe(10)
    expect(r.remaining).toBe(0)
  })
})
