/**
 * The frame layout and control vocabulary shared by both ends of a shard's rings: the main
 * thread's `ShardChannel` and the worker's `serveShard`. Nothing here runs; it is the
 * contract both sides compile against, kept in one file so they cannot drift apart.
 *
 * A frame is a 16-byte header of four 32-bit words followed by its payload, padded to a
 * multiple of {@link kFrameAlignBytes}:
 *
 * ```
 *  word  byte  field                      meaning
 *  0     0     chunkLength  (uint32)      payload bytes carried by this frame
 *  1     4     requestId    (uint32)      pairs a response with its request
 *  2     8     op (uint16, low half) | flags (uint16, high half)
 *  3     12    messageLength (uint32)     payload bytes of the whole message (all its frames)
 *  -     16    payload, chunkLength bytes, then 0..3 padding bytes
 * ```
 *
 * A message whose payload does not fit the free space of the ring travels as several frames
 * written back to back: the first without {@link kFlagContinuation}, every frame but the last
 * with {@link kFlagMore}. Words are in the platform's byte order: both ends share one process.
 */

/** Bytes of a frame header. */
export const kFrameHeaderBytes = 16
/** Frames start on multiples of this many bytes, so a header word never straddles the ring's end. */
export const kFrameAlignBytes = 4
/** Header word (32-bit index) holding the payload bytes carried by this frame. */
export const kFrameChunkLengthField = 0
/** Header word holding the request id (uint32) that pairs a response with its request. */
export const kFrameRequestIdField = 1
/** Header word holding the op code (low 16 bits) and the flags (high 16 bits). */
export const kFrameOpFlagsField = 2
/** Header word holding the payload length of the whole message, across all of its frames. */
export const kFrameMessageLengthField = 3

/** Flag: the payload is a JSON `WireError` (see `errorToWire`) instead of a result. */
export const kFlagError = 0x0001
/** Flag: more frames of the same message follow this one. */
export const kFlagMore = 0x0002
/** Flag: this frame continues a message begun by an earlier frame. */
export const kFlagContinuation = 0x0004
/** The flags that belong to the transport (chunking); the rest are handed to the receiver. */
export const kTransportFlags = kFlagMore | kFlagContinuation

/** Highest op code a shard handler may use; the ops above it are the transport's own. */
export const kMaxUserOp = 0xfeff
/**
 * Transport control op: finish every request already received, run the endpoint's `onStop`,
 * acknowledge with an empty response, then stop reading. Sent by `ShardHost.stop()`.
 */
export const kOpStop = 0xffff

/** Largest message payload the rings carry (1 GiB); larger payloads fail with MESSAGE_TOO_LARGE. */
export const kMaxMessageBytes = 1 << 30

/** Bytes a frame carrying `chunkLength` payload bytes occupies in a ring, padding included. */
export function frameBytes(chunkLength: number): number {
  return kFrameHeaderBytes + ((chunkLength + kFrameAlignBytes - 1) & ~(kFrameAlignBytes - 1))
}

/**
 * The two rings of one shard, each a SharedArrayBuffer holding its own control words and data
 * region (layout in `ring.ts`). Created by `createShardRings` on the main thread and handed to
 * the worker in `workerData.rings`; a plain object, so structured clone shares the memory.
 */
export interface ShardRings {
  /** Main thread → shard: the main thread produces, the shard consumes. */
  readonly requests: SharedArrayBuffer
  /** Shard → main thread: the shard produces, the main thread consumes. */
  readonly responses: SharedArrayBuffer
}

/** `type` of the one message a shard worker posts on its `parentPort`, once it serves its rings. */
export const kShardReadyMessageType = 'shardlog.shard.ready'

/** Posted once by `serveShard` when it starts reading its rings; `ShardHost.start` waits for it. */
export interface ShardReadyMessage {
  readonly type: typeof kShardReadyMessageType
}

/** True for the ready message posted by `serveShard`. */
export function isShardReadyMessage(value: unknown): value is ShardReadyMessage {
  return typeof value === 'object' && value !== null && (value as ShardReadyMessage).type === kShardReadyMessageType
}

/**
 * What `ShardHost` passes as a shard worker's `workerData`: the caller's own JSON-able data
 * with the shard id and the rings added.
 */
export type ShardWorkerData<T extends object = Record<string, unknown>> = T & {
  readonly shardId: number
  readonly rings: ShardRings
  /** The host's `busyPollUs`, for the worker to pass on to `serveShard`. */
  readonly busyPollUs: number
}
