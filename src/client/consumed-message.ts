/**
 * Builds the consumer's kafkajs-shaped {@link KafkaMessage}s straight from the record decoder
 * (a {@link RecordBuilder}), one object per record: building a `Record` first and copying it
 * into a message doubled the allocations on the consumer's hottest path.
 */
import { NO_RECORD_HEADERS, type RecordBuilder, type RecordHeader } from '../records/record-batch.js'
import type { KafkaMessage } from './types.js'

/** Shared by every message without headers, so the hot path allocates nothing for them. */
const NO_HEADERS: KafkaMessage['headers'] = Object.freeze({}) as KafkaMessage['headers']

/**
 * A message as kafkajs delivers it: offset and timestamp as strings, headers as an object
 * (a repeated header key collects its values in an array, as kafkajs 2 does), `attributes`
 * from the record, `size` the key and value bytes.
 */
export const buildKafkaMessage: RecordBuilder<KafkaMessage> = (offset, timestamp, key, value, headers, attributes) => ({
  key,
  value,
  timestamp: timestampText(timestamp),
  offset: offsetText(offset),
  headers: headers === NO_RECORD_HEADERS ? NO_HEADERS : headersObject(headers),
  attributes,
  size: (key === null ? 0 : key.length) + (value === null ? 0 : value.length),
})

/**
 * The records of a batch usually share one timestamp (a producer stamps the records it
 * batches with one clock reading): the last conversion is kept and reused for them.
 */
let lastTimestamp = Number.NaN
let lastTimestampText = ''

function timestampText(timestamp: number): string {
  if (timestamp !== lastTimestamp) {
    lastTimestamp = timestamp
    lastTimestampText = String(timestamp)
  }
  return lastTimestampText
}

/** '000'..'999': the last three digits of an offset of 1,000 or more. */
const kThreeDigits: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))
/** '0'..'999': offsets below 1,000. */
const kSmallOffsets: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i))
/** The leading digits (offset / 1,000) last converted, shared by the next 999 offsets. */
let lastThousands = -1
let lastThousandsText = ''

/**
 * `String(offset)` without V8's number-to-string cache: `String(n)` stores every string it makes
 * in a heap-wide cache of 16,384 entries, which lives in the old generation, so the last 16,384
 * offset strings are always reachable and every scavenge copies them (half the young
 * generation's survivors while consuming; the scavenges took 0.9 instead of 0.3 ms each in the
 * decode micro-benchmark, BENCHMARKS.md). A short concatenation makes a fresh flat string
 * instead; the leading digits change once per 1,000 offsets.
 */
export function offsetText(offset: number): string {
  if (offset < 1000) return kSmallOffsets[offset]!
  const thousands = Math.floor(offset / 1000)
  if (thousands !== lastThousands) {
    lastThousands = thousands
    lastThousandsText = String(thousands)
  }
  return lastThousandsText + kThreeDigits[offset - thousands * 1000]!
}

function headersObject(headers: RecordHeader[]): KafkaMessage['headers'] {
  const out: KafkaMessage['headers'] = {}
  for (const { key, value } of headers) {
    const seen = out[key]
    if (seen === undefined) out[key] = value
    else if (Array.isArray(seen)) seen.push(value)
    else out[key] = [seen, value]
  }
  return out
}
