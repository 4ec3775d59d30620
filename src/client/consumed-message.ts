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

/** '000'..'999': the last three digits of a number of 1,000 or more. */
const kThreeDigits: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))
/** '0'..'999'. */
const kSmallNumbers: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i))

/**
 * `String(n)` for the offsets and timestamps of consecutive records, without V8's
 * number-to-string cache: `String(n)` stores every string it makes in a heap-wide cache of
 * 16,384 entries that lives in the old generation, so the last 16,384 strings made are always
 * reachable and every scavenge copies them (half the young generation's survivors while
 * consuming: scavenges took 0.9 instead of 0.3 ms each in a decode-only run), and converting a
 * timestamp (a double) costs about 120 ns. Instead the leading digits (n / 1,000), which
 * consecutive records share, are converted once and the last three appended: a fresh string
 * (a flat one below 13 characters, a two-part one from 13, as timestamps are); twice as fast
 * for records with timestamps of their own (BENCHMARKS.md).
 */
class DecimalText {
  #thousands = -1
  #thousandsText = ''

  of(n: number): string {
    if (!Number.isSafeInteger(n) || n < 0) return String(n)
    if (n < 1000) return kSmallNumbers[n]!
    const thousands = Math.floor(n / 1000)
    if (thousands !== this.#thousands) {
      this.#thousands = thousands
      this.#thousandsText = String(thousands)
    }
    return this.#thousandsText + kThreeDigits[n - thousands * 1000]!
  }
}

const offsets = new DecimalText()
const timestamps = new DecimalText()

/** The offset as kafkajs spells it (a decimal string); see {@link DecimalText}. */
export function offsetText(offset: number): string {
  return offsets.of(offset)
}

/**
 * The records of a batch usually share one timestamp (a producer stamps the records it
 * batches with one clock reading): the last conversion is kept and reused for them.
 */
let lastTimestamp = Number.NaN
let lastTimestampText = ''

/** The timestamp as kafkajs spells it; see {@link DecimalText}. */
export function timestampText(timestamp: number): string {
  if (timestamp !== lastTimestamp) {
    lastTimestamp = timestamp
    lastTimestampText = timestamps.of(timestamp)
  }
  return lastTimestampText
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
