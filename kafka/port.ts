/**
 * The Kafka client port: what the runtime needs from a Kafka client, and nothing more.
 * Two adapters implement it (`@platformatic/kafka`, `kafkajs`); one contract suite
 * (test/integration/kafka/contract.test.ts) runs against both on a real broker.
 *
 * Every method rejects only with a StreamError (or a subclass below, or SendRefusedError), and
 * GroupHandlers.onError receives the adapter's own failures as StreamErrors too: each adapter
 * translates its library's errors (kafka/<adapter>/errors.ts), deciding `retriable` from the
 * library's own flags and keeping the library's error as `cause`.
 */
import type { KafkaClientName, KafkaGroupProtocol } from '../core/config.ts';
import { StreamError } from '../core/errors.ts';

import type { TopicPartition } from '../core/partitions.ts';

export type { TopicPartition };

/** A partition and the offset to start reading it at. */
export interface PartitionOffset extends TopicPartition {
  offset: bigint;
}

export interface ConsumedRecord {
  topic: string;
  partition: number;
  offset: bigint;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** Broker or producer timestamp, epoch milliseconds. */
  timestamp: number;
}

/** Records of one partition, in offset order. */
export interface RecordBatch extends TopicPartition {
  records: ConsumedRecord[];
}

export interface OutgoingMessage {
  topic: string;
  key: string | Buffer | null;
  value: string | Buffer;
  headers?: Record<string, string>;
  /** Explicit partition; otherwise the Java-compatible murmur2 partition of the key. */
  partition?: number;
}

export interface KafkaProducer {
  /**
   * Sends messages with idempotence and acks=all; resolves once every message is acknowledged.
   * Keys are partitioned with Java-compatible murmur2, whichever adapter sends them. A broker
   * refusal of the records themselves (too large, invalid) rejects with SendRefusedError
   * (kafka/send-refused.ts); some partitions of the send may have been written all the same.
   */
  send(messages: OutgoingMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface GroupHandlers {
  /**
   * Partitions newly assigned to this member. Resolves to where each must start (the runtime
   * reads it from its own offset store); fetching of those partitions starts only after that.
   * With an eager protocol the adapter may report the whole assignment again after a rebalance.
   */
  onAssigned(partitions: TopicPartition[]): Promise<PartitionOffset[]>;
  /** Partitions this member no longer owns. Informational: it must not be relied on for correctness. */
  onRevoked(partitions: TopicPartition[]): void;
  /** Records of one assigned partition, in offset order. Flow control is pause/resume, not the return value. */
  onBatch(batch: RecordBatch): void;
  /**
   * An error the adapter reports; it keeps recovering by itself (reconnects, rejoins) and never
   * gives up. An OffsetOutOfRangeError names a partition the adapter stopped reading: the
   * runtime decides where it continues (`seek`).
   */
  onError(error: unknown): void;
}

export interface GroupConsumerOptions {
  groupId: string;
  topics: string[];
  clientId?: string;
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  /**
   * `classic` (default): eager JoinGroup/SyncGroup, every member stops at each rebalance.
   * `consumer`: KIP-848, the broker moves partitions one member at a time; session timeout and
   * heartbeat interval then come from the broker's group.consumer.* settings, not from these options.
   * kafkajs supports only `classic` and ignores `consumer` (with a warning).
   */
  groupProtocol?: KafkaGroupProtocol;
  /**
   * At most this many bytes of records per fetch (Kafka's fetch.max.bytes), over all the
   * partitions of one round; as in Kafka, a first batch larger than that still comes back whole,
   * so no record is too large to be read. It bounds how many records one round decodes at once,
   * whatever the in-flight limits allow.
   */
  fetchMaxBytes?: number;
}

export interface GroupConsumer {
  /** Joins the group and starts fetching; resolves once the consumer runs. */
  start(handlers: GroupHandlers): Promise<void>;
  /** Stops fetching these partitions (records already delivered stay delivered). */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  /**
   * Moves owned partitions' read position (either way); a partition still waiting for its start
   * offset starts there. Records fetched from elsewhere are dropped. Partitions not owned are ignored.
   */
  seek(offsets: PartitionOffset[]): void;
  /** Partitions currently owned by this member. */
  assignment(): TopicPartition[];
  /** Informational commit to Kafka (lag tools); the source of truth is the database. */
  commitOffsets(offsets: PartitionOffset[]): Promise<void>;
  /** Leaves the group and closes connections. */
  close(): Promise<void>;
}

export interface PartitionReaderOptions {
  clientId?: string;
}

/** Reads given partitions from explicit offsets, outside any consumer group. */
export interface PartitionReader {
  start(starts: PartitionOffset[], onBatch: (batch: RecordBatch) => void): Promise<void>;
  close(): Promise<void>;
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** -1 or absent: the broker's default.replication.factor (as Kafka Streams' replication.factor). */
  replicationFactor?: number;
  config?: Record<string, string>;
}

/** The broker's default replication factor, asked for by sending -1 (CreateTopics v4+, Kafka 2.4+). */
export const BROKER_DEFAULT_REPLICATION_FACTOR = -1;

/**
 * The cluster refused a topic's replication factor (more replicas than brokers). Not
 * retriable: the request is wrong, not the moment; the app turns it into one line naming its
 * setting.
 */
export class ReplicationFactorError extends StreamError {
  readonly topic: string;
  readonly replicationFactor: number;
  constructor(topic: string, replicationFactor: number, detail: string, cause?: unknown) {
    super('REQUEST_REFUSED', `cannot create topic ${topic} with replication factor ${replicationFactor}: ${detail}`, { cause, context: { topic, replicationFactor } });
    this.topic = topic;
    this.replicationFactor = replicationFactor;
  }
}

export interface KafkaAdmin {
  /** Creates the topics that do not exist yet; existing ones are left as they are. */
  createTopics(topics: TopicSpec[]): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  listTopics(): Promise<string[]>;
  /** Partition count of a topic, or undefined when it does not exist. */
  partitionCount(topic: string): Promise<number | undefined>;
  /** The next offset to be written (log end offset) of each partition. */
  highWatermarks(topic: string): Promise<Map<number, bigint>>;
  /**
   * Per partition: the log start (`earliest`), the log end (`latest`), or the first offset whose
   * record timestamp is at or after `timestamp` (the log end when no record is that recent).
   * Throws when the topic does not exist.
   */
  listOffsets(topic: string, at: OffsetSpec): Promise<Map<number, bigint>>;
  /** Members of a consumer group right now (empty when the group is empty or unknown). */
  groupMembers(groupId: string): Promise<GroupMemberInfo[]>;
  /**
   * The largest record batch the broker accepts on this topic, in bytes: the topic's
   * `max.message.bytes`, or the broker's `message.max.bytes` when the topic's cannot be read
   * (no such topic yet, no permission to describe it).
   */
  maxMessageBytes(topic: string): Promise<number>;
  close(): Promise<void>;
}

export type OffsetSpec = 'earliest' | 'latest' | { timestamp: number };

export interface GroupMemberInfo {
  memberId: string;
  clientId: string;
  host: string;
}

export interface KafkaClient {
  readonly name: KafkaClientName;
  readonly brokers: string[];
  producer(options?: { clientId?: string }): Promise<KafkaProducer>;
  groupConsumer(options: GroupConsumerOptions): GroupConsumer;
  partitionReader(options?: PartitionReaderOptions): PartitionReader;
  admin(): Promise<KafkaAdmin>;
}

export const tpKey = (tp: TopicPartition): string => `${tp.topic}[${tp.partition}]`;

/**
 * A fetch asked for an offset the partition does not hold: above its log end (the topic was
 * recreated or the broker's data wiped while the database kept its offsets), or below its log
 * start. The adapter stops reading the partition until told where to continue.
 */
export class OffsetOutOfRangeError extends StreamError {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly logStartOffset: bigint | undefined;
  readonly logEndOffset: bigint | undefined;

  constructor(tp: TopicPartition & { offset: bigint; logStartOffset?: bigint; logEndOffset?: bigint }) {
    const bounds = tp.logEndOffset === undefined ? '' : ` (log ${tp.logStartOffset ?? '?'}..${tp.logEndOffset})`;
    super('OFFSET_OUT_OF_RANGE', `offset ${tp.offset} out of range for ${tpKey(tp)}${bounds}`, {
      retriable: true,
      context: { topic: tp.topic, partition: tp.partition, offset: tp.offset },
    });
    this.topic = tp.topic;
    this.partition = tp.partition;
    this.offset = tp.offset;
    this.logStartOffset = tp.logStartOffset;
    this.logEndOffset = tp.logEndOffset;
  }
}

/**
 * The client stopped consuming and will not resume by itself (kafkajs gave up restarting, a
 * group session expired that the library does not rejoin). The owner replaces the consumer.
 */
export class ConsumerStoppedError extends StreamError {
  constructor(detail: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', `consumer stopped: ${detail}`, { retriable: true, cause });
  }
}
