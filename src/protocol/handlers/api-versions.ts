/**
 * ApiVersions (key 18), served v0-v3: the version ranges of api-versions.ts. KIP-511: a
 * version this broker does not know is answered by the connection handler with
 * {@link unsupportedApiVersionsResponse} in the v0 layout, so the client can retry with one
 * from the list; v3 clients must name their software with Kafka's pattern, else
 * INVALID_REQUEST.
 */
import { ApiKey } from '../api-keys.js'
import { ADVERTISED_API_VERSIONS } from '../api-versions.js'
import { WireError } from '../error-mapping.js'
import type { ApiVersion, ApiVersionsResponse } from '../messages/api-versions.js'
import { defineHandler } from './context.js'

/** Kafka's `ApiVersionsRequest.isValid` pattern for clientSoftwareName and clientSoftwareVersion. */
const SOFTWARE_NAME_PATTERN = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/

const API_KEYS: readonly ApiVersion[] = ADVERTISED_API_VERSIONS.map((r) => ({
  apiKey: r.apiKey,
  minVersion: r.minVersion,
  maxVersion: r.maxVersion,
}))

function response(errorCode: number, apiKeys: readonly ApiVersion[]): ApiVersionsResponse {
  return { errorCode, apiKeys: [...apiKeys], throttleTimeMs: 0 }
}

/** The answer to an ApiVersions request of an unknown version: UNSUPPORTED_VERSION and the full list, to be written as v0. */
export function unsupportedApiVersionsResponse(): ApiVersionsResponse {
  return response(WireError.UNSUPPORTED_VERSION, API_KEYS)
}

/** ApiVersions handler. */
export const apiVersionsHandler = defineHandler(ApiKey.ApiVersions, (request, ctx) => {
  if (ctx.apiVersion >= 3 && (!SOFTWARE_NAME_PATTERN.test(request.clientSoftwareName) || !SOFTWARE_NAME_PATTERN.test(request.clientSoftwareVersion))) {
    return response(WireError.INVALID_REQUEST, [])
  }
  return response(WireError.NONE, API_KEYS)
})
