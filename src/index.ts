/**
 * shardlog: a Kafka-compatible streaming log engine for Node.js.
 * The public API: start a {@link Cluster}, then use its admin, producer and consumer.
 */
export { Cluster, type ClusterOptions, type BrokerHandle } from './client/cluster.js'
export { Admin, ConfigResourceTypes, type ITopicConfig, type PartitionMetadata, type ConfigEntry } from './client/admin.js'
export { Producer, type ProducerConfig } from './client/producer.js'
export { Consumer, type ConsumerConfig, type ConsumerRunConfig, type EachMessagePayload, type EachBatchPayload, type OffsetResetPolicy } from './client/consumer.js'
export { Partitioners, murmur2, type Partitioner, type PartitionerArgs } from './client/partitioners.js'
export type { Message, RecordMetadata, ProducerRecord, KafkaMessage, Batch, TopicPartitionOffset, IHeaders, CompressionType } from './client/types.js'
export * from './errors.js'
export { runLoadTest } from './perf/run-load-test.js'
export type { LoadTestOptions, LoadTestResult } from './perf/run-load-test.js'
export type { PerfTarget, PerfProducer, PerfConsumer } from './perf/target.js'
export { embeddedTarget, wireTarget } from './perf/targets/index.js'
