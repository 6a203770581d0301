/**
 * What the runtime hands to, and expects from, the outside: the committer and claimer the
 * lead implements on PostgreSQL (structural types: implementations need not import these),
 * the batch a commit carries, the runtime's settings and the events it reports.
 */
import type { TopicPartition } from '../../kafka/port.ts';

/** A record that could not be decoded or processed; it leaves through the dead-letter sink. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: bigint;
  /** The record's raw bytes, as consumed. */
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
  /** The error's class name (e.g. `DecodeError`, `TypeError`). */
  errorClass: string;
  message: string;
  /** The topology node that failed. */
  node: string;
  /** The record's timestamp, epoch milliseconds. */
  timestamp: number;
}

/** A record a sink node produced; the committer persists it (e.g. as an outbox row). */
export interface SinkOutput {
  sink: string;
  topic: string;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** Everything one micro-batch of one partition produced: committed all together or not at all. */
export interface CommittableBatch {
  topic: string;
  partition: number;
  /** The claim this task holds; a commit under an older epoch must be rejected (FencedError). */
  epoch: number | bigint;
  firstOffset: bigint;
  lastOffset: bigint;
  /** Where the partition resumes after this batch: lastOffset + 1. */
  nextOffset: bigint;
  /** The offset the store must still hold for this partition (compare-and-set). */
  expectedNextOffset: bigint;
  /** Records consumed in this batch, dead letters included. */
  records: number;
  outputs: SinkOutput[];
  /** Last value per key written during the batch, per store. */
  storeChanges: Map<string, Array<[unknown, unknown]>>;
  deadLetters: DeadLetter[];
}

export interface Committer {
  /**
   * Makes the batch durable in one transaction. Throws FencedError when another owner holds
   * the partition now, a retriable error (see core/errors.ts isRetriable) for transient
   * failures, anything else for failures that retrying cannot fix.
   */
  commit(batch: CommittableBatch): Promise<void>;
}

export interface ClaimedPartition extends TopicPartition {
  /** Where to resume: the offset stored with the last committed batch. */
  nextOffset: bigint;
  epoch: number | bigint;
}

export interface PartitionClaimer {
  /** Takes ownership of the partitions (bumping their epoch) and returns where each resumes. */
  claim(partitions: TopicPartition[]): Promise<ClaimedPartition[]>;
}

export interface RuntimeConfig {
  /** A micro-batch closes at this many records... */
  batchMaxRecords: number;
  /** ...or this long after its first record arrived. */
  commitIntervalMs: number;
  /** Fetching of a partition pauses above this many uncommitted records; resumes below half. */
  maxInflightPerPartition: number;
  /** Fetching of every partition pauses above this many uncommitted records; resumes below half. */
  maxInflightTotal: number;
}

export interface PartitionStats extends TopicPartition {
  epoch: number | bigint;
  received: number;
  processed: number;
  /** Records received and not yet committed (buffered, processing or committing). */
  inflight: number;
  /** The next offset to process after the last committed batch. */
  committedOffset: bigint;
  batchesCommitted: number;
  deadLetters: number;
  /** Records delivered again below the task's position (after a rebalance) and ignored. */
  duplicatesIgnored: number;
  paused: boolean;
}

export interface RuntimeStats {
  partitions: PartitionStats[];
  inflightTotal: number;
  rebalances: number;
  running: boolean;
}

/** Why fetching of a partition paused: its own backlog, the process-wide one, shutdown, or a halted task. */
export type PauseReason = 'partition' | 'total' | 'stopping' | 'halted';

export interface BatchCommittedEvent extends TopicPartition {
  type: 'batch-committed';
  firstOffset: bigint;
  nextOffset: bigint;
  records: number;
  outputs: number;
  deadLetters: number;
  attempts: number;
  durationMs: number;
}

export type RuntimeEvent =
  | BatchCommittedEvent
  | ({ type: 'partition-assigned'; nextOffset: bigint; epoch: number | bigint } & TopicPartition)
  | ({ type: 'partition-revoked'; droppedRecords: number } & TopicPartition)
  | ({ type: 'paused'; reason: PauseReason } & TopicPartition)
  | ({ type: 'resumed' } & TopicPartition)
  | ({ type: 'dead-letter'; deadLetter: DeadLetter } & TopicPartition)
  | ({ type: 'retry'; operation: 'commit' | 'load'; attempt: number; delayMs: number; offset: bigint; error: string } & TopicPartition)
  | ({ type: 'fenced'; offset: bigint; error: string } & TopicPartition)
  | ({ type: 'partition-failed'; node: string; offset: bigint; error: unknown } & TopicPartition)
  | { type: 'consumer-error'; error: unknown };
