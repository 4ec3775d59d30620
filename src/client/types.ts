/**
 * Public types of the in-process API, named and shaped after kafkajs so that Node users
 * of Kafka recognise them.
 */
import type { CompressionType } from '../records/compression/index.js'

/** Header values as kafkajs accepts them. */
export type IHeaders = { [key: string]: Buffer | string | null | undefined }

/** A record to send. */
export interface Message {
  key?: Buffer | string | null
  value: Buffer | string | null
  /** Explicit partition; otherwise the partitioner chooses. */
  partition?: number
  headers?: IHeaders
  /** Create time in ms since the epoch; string accepted as kafkajs does. */
  timestamp?: number | string
}

/** Where one partition's part of a send landed. */
export interface RecordMetadata {
  topicName: string
  partition: number
  errorCode: number
  /** Offset of the first record of this send in this partition ('-1' for acks=0), as a string like kafkajs. */
  baseOffset: string
  logAppendTime: string
  logStartOffset: string
}

/** Arguments of producer.send. */
export interface ProducerRecord {
  topic: string
  messages: Message[]
  acks?: -1 | 0 | 1
  compression?: CompressionType
  timeout?: number
}

/** A record as a consumer sees it. */
export interface KafkaMessage {
  key: Buffer | null
  value: Buffer | null
  timestamp: string
  offset: string
  /** One entry per header key; a key that repeats in the record maps to all its values in order (as kafkajs 2 delivers them). */
  headers: { [key: string]: Buffer | null | Array<Buffer | null> }
  attributes: number
  size: number
}

/** The batch handed to eachBatch. */
export interface Batch {
  topic: string
  partition: number
  highWatermark: string
  messages: KafkaMessage[]
  isEmpty(): boolean
  firstOffset(): string | null
  lastOffset(): string
  offsetLag(): string
  offsetLagLow(): string
}

/** A topic partition and offset. */
export interface TopicPartitionOffset {
  topic: string
  partition: number
  offset: string
}

export type { CompressionType }
