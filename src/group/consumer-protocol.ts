/**
 * Kafka's "consumer protocol": the bytes a consumer puts in JoinGroup's protocol metadata
 * (ConsumerProtocolSubscription) and a leader puts in SyncGroup's assignments
 * (ConsumerProtocolAssignment). The broker treats them as opaque, but decodes them for
 * DescribeGroups output, lag tooling, OffsetDelete's GROUP_SUBSCRIBED_TO_TOPIC check and
 * offset expiration, exactly as Kafka's GroupCoordinator does.
 *
 * Layout (Kafka's ConsumerProtocol*.json, validVersions 0-3, never flexible): an int16 version,
 * then the struct for that version, big-endian, strings as int16 length + UTF-8, bytes as
 * int32 length + data (-1 = null), arrays as int32 count + items.
 *
 * ```
 * Subscription v0: topics [string], userData bytes?
 *              v1: + ownedPartitions [{ topic string, partitions [int32] }]
 *              v2: + generationId int32
 *              v3: + rackId string?
 * Assignment v0-3: assignedPartitions [{ topic string, partitions [int32] }], userData bytes?
 * ```
 *
 * kafkajs (AssignerProtocol.MemberMetadata / MemberAssignment) writes v0 with an empty (not null)
 * userData; those bytes decode here unchanged. A newer version than 3 is read with the v3 layout
 * (Kafka: "new versions cannot remove or reorder any of the existing fields"), and a struct that
 * ends before an ignorable newer field takes that field's default.
 *
 * The small {@link StructWriter}/{@link StructReader} pair here is also used by offset-record.ts,
 * which encodes the `__consumer_offsets` records with the same (plus the flexible) rules.
 */
import { readInt64, writeInt64 } from '../records/batch-header.js'
import { InvalidRequestError, type ShardlogError } from '../errors.js'

/** JoinGroup's `protocolType` for consumer groups. */
export const CONSUMER_PROTOCOL_TYPE = 'consumer'
/** Highest ConsumerProtocolSubscription/Assignment version this codec writes and understands. */
export const CONSUMER_PROTOCOL_HIGHEST_VERSION = 3

/** Partitions of one topic, as in Kafka's TopicPartition struct of the consumer protocol. */
export interface TopicPartitions {
  topic: string
  partitions: number[]
}

/** A decoded ConsumerProtocolSubscription (JoinGroup protocol metadata). */
export interface ConsumerProtocolSubscription {
  /** Version it was (or is to be) written with, 0-3. */
  version: number
  topics: string[]
  /** Assignor-specific bytes (e.g. the sticky assignor's previous assignment); null when absent. */
  userData: Buffer | null
  /** v1+: partitions the member owns now (cooperative rebalancing); empty below v1. */
  ownedPartitions: TopicPartitions[]
  /** v2+: the generation the owned partitions belong to; -1 below v2. */
  generationId: number
  /** v3+: the member's `client.rack`; null below v3. */
  rackId: string | null
}

/** A decoded ConsumerProtocolAssignment (SyncGroup assignment bytes). */
export interface ConsumerProtocolAssignment {
  version: number
  assignedPartitions: TopicPartitions[]
  userData: Buffer | null
}

/** Input to {@link encodeSubscription}: fields left out take Kafka's defaults. */
export interface SubscriptionInput {
  topics: readonly string[]
  userData?: Buffer | null
  ownedPartitions?: readonly TopicPartitions[]
  generationId?: number
  rackId?: string | null
}

/** Input to {@link encodeAssignment}. */
export interface AssignmentInput {
  assignedPartitions: readonly TopicPartitions[]
  userData?: Buffer | null
}

/**
 * Encodes a subscription with an int16 version prefix. Fields that the version lacks are left
 * out, as Kafka's generated code does for ignorable fields.
 */
export function encodeSubscription(subscription: SubscriptionInput, version = CONSUMER_PROTOCOL_HIGHEST_VERSION): Buffer {
  checkVersion(version)
  const w = new StructWriter().int16(version)
  w.array(subscription.topics, (t) => w.string(t))
  w.nullableBytes(subscription.userData ?? null)
  if (version >= 1) writeTopicPartitions(w, subscription.ownedPartitions ?? [])
  if (version >= 2) w.int32(subscription.generationId ?? -1)
  if (version >= 3) w.nullableString(subscription.rackId ?? null)
  return w.toBuffer()
}

/**
 * Decodes a subscription. Throws INVALID_REQUEST for bytes that are not a subscription (negative
 * version, truncated field, negative lengths other than null markers).
 */
export function decodeSubscription(buf: Buffer): ConsumerProtocolSubscription {
  const r = new StructReader(buf, 'ConsumerProtocolSubscription', invalidRequest)
  const version = r.int16()
  if (version < 0) throw invalidRequest(`ConsumerProtocolSubscription: negative version ${version}`)
  const layout = Math.min(version, CONSUMER_PROTOCOL_HIGHEST_VERSION)
  const topics = r.array(() => r.string())
  const userData = r.nullableBytes()
  // A newer layout's fields are ignorable: a writer that stopped early (some clients write the
  // version number without the fields) leaves them at their defaults.
  const ownedPartitions = layout >= 1 && !r.atEnd() ? readTopicPartitions(r) : []
  const generationId = layout >= 2 && !r.atEnd() ? r.int32() : -1
  const rackId = layout >= 3 && !r.atEnd() ? r.nullableString() : null
  return { version, topics, userData, ownedPartitions, generationId, rackId }
}

/** Encodes an assignment with an int16 version prefix (all versions share one layout). */
export function encodeAssignment(assignment: AssignmentInput, version = CONSUMER_PROTOCOL_HIGHEST_VERSION): Buffer {
  checkVersion(version)
  const w = new StructWriter().int16(version)
  writeTopicPartitions(w, assignment.assignedPartitions)
  w.nullableBytes(assignment.userData ?? null)
  return w.toBuffer()
}

/**
 * Decodes an assignment. Zero bytes decode as an empty v0 assignment: that is what the
 * coordinator hands a member the leader left out (Kafka fills such members with an empty array),
 * and kafkajs reads it as "no assignment" too.
 */
export function decodeAssignment(buf: Buffer): ConsumerProtocolAssignment {
  if (buf.length === 0) return { version: 0, assignedPartitions: [], userData: null }
  const r = new StructReader(buf, 'ConsumerProtocolAssignment', invalidRequest)
  const version = r.int16()
  if (version < 0) throw invalidRequest(`ConsumerProtocolAssignment: negative version ${version}`)
  const assignedPartitions = readTopicPartitions(r)
  const userData = r.atEnd() ? null : r.nullableBytes()
  return { version, assignedPartitions, userData }
}

function checkVersion(version: number): void {
  if (!Number.isInteger(version) || version < 0 || version > CONSUMER_PROTOCOL_HIGHEST_VERSION) {
    throw invalidRequest(`consumer protocol version ${version} is outside 0-${CONSUMER_PROTOCOL_HIGHEST_VERSION}`)
  }
}

function writeTopicPartitions(w: StructWriter, list: readonly TopicPartitions[]): void {
  w.array(list, (tp) => {
    w.string(tp.topic)
    w.array(tp.partitions, (p) => w.int32(p))
  })
}

function readTopicPartitions(r: StructReader): TopicPartitions[] {
  return r.array(() => ({ topic: r.string(), partitions: r.array(() => r.int32()) }))
}

function invalidRequest(message: string): ShardlogError {
  return new InvalidRequestError(message)
}

/**
 * Builds a non-flexible Kafka struct: big-endian integers, int16-length strings, int32-length
 * bytes and int32-count arrays. Collects chunks and concatenates once; meant for the small
 * records of the group coordinator, not for hot paths.
 */
export class StructWriter {
  private readonly chunks: Buffer[] = []

  /** Appends an int16. */
  int16(value: number): this {
    const b = Buffer.allocUnsafe(2)
    b.writeInt16BE(value)
    this.chunks.push(b)
    return this
  }

  /** Appends an int32. */
  int32(value: number): this {
    const b = Buffer.allocUnsafe(4)
    b.writeInt32BE(value)
    this.chunks.push(b)
    return this
  }

  /** Appends an int64 from a safe JS integer. */
  int64(value: number): this {
    if (!Number.isSafeInteger(value)) throw invalidRequest(`int64 field: ${value} is not a safe integer`)
    const b = Buffer.allocUnsafe(8)
    writeInt64(b, value, 0)
    this.chunks.push(b)
    return this
  }

  /** Appends a non-null string (int16 length + UTF-8). */
  string(value: string): this {
    const data = Buffer.from(value, 'utf8')
    if (data.length > 0x7fff) throw invalidRequest(`string field of ${data.length} bytes exceeds 32767`)
    this.int16(data.length)
    this.chunks.push(data)
    return this
  }

  /** Appends a nullable string (length -1 = null). */
  nullableString(value: string | null): this {
    if (value === null) return this.int16(-1)
    return this.string(value)
  }

  /** Appends nullable bytes (int32 length, -1 = null). */
  nullableBytes(value: Buffer | null): this {
    if (value === null) return this.int32(-1)
    this.int32(value.length)
    this.chunks.push(value)
    return this
  }

  /** Appends an int32 count and then each item through `writeItem`. */
  array<T>(items: readonly T[], writeItem: (item: T) => void): this {
    this.int32(items.length)
    for (const item of items) writeItem(item)
    return this
  }

  /** The bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks)
  }
}

/**
 * Reads a Kafka struct written by {@link StructWriter} or by Kafka itself, including the
 * flexible ("compact") forms used by newer `__consumer_offsets` record versions. Every read is
 * bounds-checked; a short or malformed buffer raises the error made by `fail`, naming `what`.
 */
export class StructReader {
  private pos = 0

  constructor(
    private readonly buf: Buffer,
    private readonly what: string,
    private readonly fail: (message: string) => ShardlogError,
  ) {}

  /** True once every byte has been read. */
  atEnd(): boolean {
    return this.pos >= this.buf.length
  }

  /** Reads an int8. */
  int8(): number {
    this.need(1)
    return this.buf.readInt8(this.pos++)
  }

  /** Reads an int16. */
  int16(): number {
    this.need(2)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  /** Reads an int32. */
  int32(): number {
    this.need(4)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  /** Reads an int64 as a JS number (offsets and timestamps fit in 53 bits). */
  int64(): number {
    this.need(8)
    const v = readInt64(this.buf, this.pos)
    this.pos += 8
    return v
  }

  /** Reads a non-null int16-length string. */
  string(): string {
    const s = this.nullableString()
    if (s === null) throw this.fail(`${this.what}: null in a non-nullable string field at byte ${this.pos - 2}`)
    return s
  }

  /** Reads a nullable int16-length string. */
  nullableString(): string | null {
    const len = this.int16()
    if (len === -1) return null
    if (len < 0) throw this.fail(`${this.what}: string length ${len} at byte ${this.pos - 2}`)
    return this.utf8(len)
  }

  /** Reads non-null int32-length bytes (a copy, so the result outlives the source buffer). */
  bytes(): Buffer {
    const b = this.nullableBytes()
    if (b === null) throw this.fail(`${this.what}: null in a non-nullable bytes field at byte ${this.pos - 4}`)
    return b
  }

  /** Reads nullable int32-length bytes. */
  nullableBytes(): Buffer | null {
    const len = this.int32()
    if (len === -1) return null
    if (len < 0) throw this.fail(`${this.what}: bytes length ${len} at byte ${this.pos - 4}`)
    return this.raw(len)
  }

  /** Reads an int32 count, then that many items (a null array reads as empty). */
  array<T>(readItem: () => T): T[] {
    const n = this.int32()
    if (n === -1) return []
    if (n < 0 || n > this.buf.length - this.pos) throw this.fail(`${this.what}: array count ${n} at byte ${this.pos - 4}`)
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(readItem())
    return out
  }

  /** Reads an unsigned varint (flexible versions' lengths and tag numbers). */
  uvarint(): number {
    let value = 0
    let shift = 0
    for (;;) {
      this.need(1)
      const byte = this.buf[this.pos++] as number
      value += (byte & 0x7f) * 2 ** shift
      if ((byte & 0x80) === 0) return value
      shift += 7
      if (shift > 28) throw this.fail(`${this.what}: unsigned varint longer than 5 bytes at byte ${this.pos}`)
    }
  }

  /** Reads a compact nullable string (uvarint length + 1, 0 = null). */
  compactNullableString(): string | null {
    const n = this.uvarint()
    return n === 0 ? null : this.utf8(n - 1)
  }

  /** Reads a compact non-null string. */
  compactString(): string {
    const s = this.compactNullableString()
    if (s === null) throw this.fail(`${this.what}: null in a non-nullable compact string at byte ${this.pos}`)
    return s
  }

  /** Reads compact non-null bytes. */
  compactBytes(): Buffer {
    const n = this.uvarint()
    if (n === 0) throw this.fail(`${this.what}: null in a non-nullable compact bytes field at byte ${this.pos}`)
    return this.raw(n - 1)
  }

  /** Reads a compact array (uvarint count + 1, 0 = null, read as empty). */
  compactArray<T>(readItem: () => T): T[] {
    const n = this.uvarint()
    if (n === 0) return []
    if (n - 1 > this.buf.length - this.pos) throw this.fail(`${this.what}: compact array count ${n - 1} at byte ${this.pos}`)
    const out: T[] = []
    for (let i = 0; i < n - 1; i++) out.push(readItem())
    return out
  }

  /** Skips a flexible struct's tagged-field section (none of the tags is used by shardlog). */
  skipTaggedFields(): void {
    const count = this.uvarint()
    for (let i = 0; i < count; i++) {
      this.uvarint()
      const size = this.uvarint()
      this.raw(size)
    }
  }

  private utf8(len: number): string {
    this.need(len)
    const s = this.buf.toString('utf8', this.pos, this.pos + len)
    this.pos += len
    return s
  }

  private raw(len: number): Buffer {
    this.need(len)
    const b = Buffer.from(this.buf.subarray(this.pos, this.pos + len))
    this.pos += len
    return b
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) {
      throw this.fail(`${this.what}: needs ${n} more bytes at byte ${this.pos} of ${this.buf.length}`)
    }
  }
}
