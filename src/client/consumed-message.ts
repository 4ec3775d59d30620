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
  offset: String(offset),
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
