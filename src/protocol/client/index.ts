/**
 * The client side of the Kafka wire protocol, for the CLI and the load-test harness: a cluster
 * layer ({@link KafkaClient}: metadata, connections, coordinators) and the admin, producer and
 * consumer built on it. Standard protocol only, versions negotiated by ApiVersions, so it works
 * against shardlog's listeners and against Apache Kafka alike.
 */
export {
  KafkaClient, parseBootstrap, throwIfError, isStaleMetadataError, DEFAULT_METADATA_MAX_AGE_MS, DEFAULT_RETRY_BACKOFF_MS,
  type BrokerAddress, type BrokerNode, type KafkaClientOptions, type PartitionMetadata, type RetryOptions,
  type TopicMetadata, type TopicMetadataOptions,
} from './kafka-client.js'
export {
  WireAdmin, OffsetSpec, CONFIG_RESOURCE_TOPIC, CONFIG_SOURCE_DYNAMIC_TOPIC, groupByTopic, comparePartitions,
  type GroupDescription, type GroupListing, type GroupMemberDescription, type NewTopic, type PartitionOffset,
  type PartitionOffsetRange, type TopicConfigEntry,
} from './wire-admin.js'
export {
  WireProducer, type SendOptions, type WireMessage, type WireProducerOptions, type WireRecordMetadata,
} from './wire-producer.js'
export {
  WireConsumer, type AutoOffsetReset, type ConsumedBatch, type ConsumedRecord, type ConsumerHandlers,
  type PartitionAssignment, type WireConsumerOptions,
} from './wire-consumer.js'
