/**
 * The records of the controller's metadata log, named after KRaft's metadata records
 * (TopicRecord, PartitionRecord, PartitionChangeRecord, ConfigRecord, RemoveTopicRecord,
 * RegisterBrokerRecord). They are JSON-serialisable and replayed in order by the
 * {@link ../cluster/topic-table.TopicTable}.
 */

/** A topic was created. */
export interface TopicRecord {
  type: 'topic'
  name: string
  topicId: string
}

/** A partition was created with its replica assignment. */
export interface PartitionRecord {
  type: 'partition'
  topic: string
  partition: number
  replicas: number[]
  isr: number[]
  leader: number
  leaderEpoch: number
}

/** Leader, ISR or epoch of a partition changed. */
export interface PartitionChangeRecord {
  type: 'partition-change'
  topic: string
  partition: number
  leader: number
  isr: number[]
  leaderEpoch: number
}

/** A topic config was set (value) or removed back to its default (null). */
export interface ConfigRecord {
  type: 'config'
  topic: string
  name: string
  value: string | null
}

/** A topic was deleted. */
export interface RemoveTopicRecord {
  type: 'remove-topic'
  name: string
}

/** A broker registered with the controller. */
export interface RegisterBrokerRecord {
  type: 'register-broker'
  brokerId: number
}

/** A block of producer ids was handed out (KIP-730's ProducerIdsRecord). */
export interface ProducerIdsRecord {
  type: 'producer-ids'
  /** First id after the block. */
  nextProducerId: number
}

/** Any metadata record. */
export type MetadataRecord =
  | TopicRecord
  | PartitionRecord
  | PartitionChangeRecord
  | ConfigRecord
  | RemoveTopicRecord
  | RegisterBrokerRecord
  | ProducerIdsRecord
