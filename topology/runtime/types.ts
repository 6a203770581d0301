/**
 * What the runtime hands to, and expects from, the outside: the committer and claimer it is
 * given (the PostgreSQL implementations live in sinks/ and state/), the batch a commit carries
 * (defined in core/batch.ts, shared with the sink), the runtime's settings and its events.
 */
import type { CommittableBatch, DeadLetter } from '../../core/batch.ts';
import type { TopicPartition } from '../../kafka/port.ts';

export type { CommittableBatch, DeadLetter, SinkOutput } from '../../core/batch.ts';

export interface Committer {
  /**
   * Makes the batch durable in one transaction. Throws FencedError when another owner holds
   * the partition now; StaleStateError when a store's backend changed values the batch was
   * computed from (the task reloads them and runs the batch again); a retriable error (see
   * core/errors.ts isRetriable) for transient failures, which the task retries as they are.
   * Anything else is taken to be caused by what the batch holds: the task splits the batch to
   * find the record at fault. So an error the backend raises whatever the batch holds must be
   * reported retriable, or every record would be dead-lettered in turn.
   */
  commit(batch: CommittableBatch): Promise<void>;
}

import type { ClaimedPartition } from '../../core/partitions.ts';

export type { ClaimedPartition };

export interface PartitionClaimer {
  /** Takes ownership of the partitions (bumping their epoch) and returns where each resumes. */
  claim(partitions: TopicPartition[]): Promise<ClaimedPartition[]>;
  /**
   * Gives up claims this member will not use (the partition moved while its claim was in
   * flight), so the stored owner is not a member that does not process it. Only a claim still
   * current (same epoch) is released; a later owner's claim is left alone.
   */
  release?(claims: ClaimedPartition[]): Promise<void>;
}

/** A partition's log start and log end offsets, as the broker reports them now. */
export interface PartitionBounds extends TopicPartition {
  logStartOffset: bigint;
  logEndOffset: bigint;
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

/**
 * An assigned partition that is not being processed right now, and why: its task halted and
 * waits to be claimed again, its claim is being retried, or its database offset lies beyond
 * the topic's end. Readiness and liveness are computed from these.
 */
export interface WaitingPartition extends TopicPartition {
  /** One line for an operator: what the partition waits for and what to do about it. */
  reason: string;
  /** When it stopped being processed (ms since the epoch). */
  since: number;
  /** Only an operator can end the wait (e.g. a reset of offsets beyond the topic's end): restarting the process would not help. */
  needsOperator?: boolean;
}

export interface RuntimeStats {
  partitions: PartitionStats[];
  /** Assigned partitions without a running task. */
  waiting: WaitingPartition[];
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
  /** `reload`: the database changed cached state; the keys were evicted and the batch runs again. */
  | ({ type: 'retry'; operation: 'commit' | 'load' | 'reload'; attempt: number; delayMs: number; offset: bigint; error: string } & TopicPartition)
  | ({ type: 'fenced'; offset: bigint; error: string } & TopicPartition)
  | ({ type: 'partition-failed'; node: string; offset: bigint; error: unknown } & TopicPartition)
  | ({ type: 'partition-waiting'; reason: string; retryInMs: number } & TopicPartition)
  /**
   * A waiting partition is no longer assigned (`reason`: revoked, absent from a new assignment,
   * assigned again): its pending claim retry is dropped, so its wait ends without a
   * `partition-assigned`. `partition-revoked` only tells of partitions that had a running task.
   */
  | ({ type: 'retry-cancelled'; reason: string } & TopicPartition)
  | ({ type: 'claim-released'; epoch: number | bigint } & TopicPartition)
  /** The consumer's assignment changed (partitions assigned or revoked). */
  | { type: 'rebalance'; assigned: number; revoked: number }
  | { type: 'consumer-error'; error: unknown };
