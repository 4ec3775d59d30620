/**
 * InitProducerId (key 22), served v0-v4: hands an idempotent producer a new producer id (epoch
 * 0) from the controller's persisted id blocks, as Kafka does for a null transactional id
 * (also when the producer re-initialises with its old id and epoch, KIP-360). Transactional
 * ids are not served yet: such a request gets INVALID_REQUEST rather than a coordinator
 * error the client would retry forever.
 */
import { ApiKey } from '../api-keys.js'
import { errorResult, WireError } from '../error-mapping.js'
import { defineHandler } from './context.js'

/** InitProducerId handler. */
export const initProducerIdHandler = defineHandler(ApiKey.InitProducerId, (request, ctx) => {
  if (request.transactionalId !== null) {
    return { throttleTimeMs: 0, errorCode: WireError.INVALID_REQUEST, producerId: -1, producerEpoch: -1 }
  }
  try {
    const { producerId, producerEpoch } = ctx.broker.engine.controller.allocateProducerId()
    return { throttleTimeMs: 0, errorCode: WireError.NONE, producerId, producerEpoch }
  } catch (err) {
    return { throttleTimeMs: 0, errorCode: errorResult(err, ctx.broker.logger, 'InitProducerId').errorCode, producerId: -1, producerEpoch: -1 }
  }
})
