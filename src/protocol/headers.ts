/**
 * Request and response headers, on top of the generated RequestHeader/ResponseHeader codecs.
 *
 * Header versions (Kafka's `ApiMessageType.requestHeaderVersion`/`responseHeaderVersion`):
 * - request: v2 (v1 + tagged fields) when the API version is flexible, else v1
 *   (apiKey int16, apiVersion int16, correlationId int32, clientId nullable int16 string;
 *   ClientId stays a classic string even in v2 so any broker can read any header);
 * - response: v1 (correlationId + tagged fields) when flexible, else v0; ApiVersions
 *   responses always use v0 so that a client that asked with too new a version can still
 *   read the UNSUPPORTED_VERSION answer (KIP-511).
 */
import { InvalidRequestError } from '../errors.js'
import { apiCodec } from './messages/index.js'
import { decodeRequestHeader as decodeRequestHeaderAt, encodeRequestHeader as encodeRequestHeaderAt } from './messages/request-header.js'
import { decodeResponseHeader as decodeResponseHeaderAt, encodeResponseHeader as encodeResponseHeaderAt } from './messages/response-header.js'
import type { Reader } from './reader.js'
import type { Writer } from './writer.js'

/** A decoded request header. `apiKey` is a plain number: it may be one shardlog does not know. */
export interface RequestHeaderInfo {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
  /** The header version it was read with (1 or 2). */
  headerVersion: number
}

/** The fields a client puts in a request header. */
export interface RequestHeaderFields {
  apiKey: number
  apiVersion: number
  correlationId: number
  clientId: string | null
}

/**
 * The request header version for an API version: 2 when flexible, else 1. Also answers for
 * versions above the generated ones (flexibility never ends) and for unknown API keys (1), so
 * that the header of any request can be read.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  const codec = apiCodec(apiKey)
  return codec === undefined ? 1 : codec.requestHeaderVersion(apiVersion)
}

/** The response header version for an API version: 1 when flexible, else 0; always 0 for ApiVersions. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  const codec = apiCodec(apiKey)
  return codec === undefined ? 0 : codec.responseHeaderVersion(apiVersion)
}

/**
 * Reads a request header. apiKey and apiVersion are read first to choose the header version,
 * so this succeeds for API keys and versions shardlog does not serve: the server can still
 * answer UNSUPPORTED_VERSION with the right correlation id. Throws InvalidRequestError when
 * the header itself is malformed.
 */
export function decodeRequestHeader(r: Reader): RequestHeaderInfo {
  if (r.remaining < 8) {
    throw new InvalidRequestError(`request of ${r.remaining} bytes is shorter than a request header`)
  }
  const start = r.offset
  const apiKey = r.int16()
  const apiVersion = r.int16()
  r.offset = start
  const headerVersion = requestHeaderVersion(apiKey, apiVersion)
  const header = decodeRequestHeaderAt(r, headerVersion)
  return {
    apiKey: header.requestApiKey,
    apiVersion: header.requestApiVersion,
    correlationId: header.correlationId,
    clientId: header.clientId,
    headerVersion,
  }
}

/** Writes a request header in the version that `apiKey`/`apiVersion` call for. */
export function encodeRequestHeader(w: Writer, header: RequestHeaderFields): void {
  encodeRequestHeaderAt(w, {
    requestApiKey: header.apiKey,
    requestApiVersion: header.apiVersion,
    correlationId: header.correlationId,
    clientId: header.clientId,
  }, requestHeaderVersion(header.apiKey, header.apiVersion))
}

/** Writes a response header; get `headerVersion` from {@link responseHeaderVersion}. */
export function encodeResponseHeader(w: Writer, correlationId: number, headerVersion: number): void {
  encodeResponseHeaderAt(w, { correlationId }, headerVersion)
}

/** Reads a response header and returns its correlation id. */
export function decodeResponseHeader(r: Reader, headerVersion: number): number {
  return decodeResponseHeaderAt(r, headerVersion).correlationId
}
