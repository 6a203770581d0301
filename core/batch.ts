/**
 * The contract between the runtime and whatever commits its micro-batches: what one batch of
 * one partition carries. It lives in core so the runtime (topology/) and the transactional sink
 * (sinks/) share one definition while neither imports the other.
 */

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

/**
 * One key a batch changed in a store. `before` is the committed value the batch computed from
 * (undefined: the key was absent), `after` the value the batch leaves (undefined: deleted). The
 * committer writes `after` only where the backend still holds `before`: anything else means
 * another writer changed the key since it was read, and the batch must run again on fresh state.
 */
export interface StoreChange<K = unknown, V = unknown> {
  key: K;
  before: V | undefined;
  after: V | undefined;
}

/** Everything one micro-batch of one partition produced: committed all together or not at all. */
export interface CommittableBatch {
  topic: string;
  partition: number;
  /** The claim this task holds; a commit under an older epoch must be rejected (FencedError). */
  epoch: number | bigint;
  /**
   * The batch's first and last record. A batch of punctuations alone (an idle task's wall-clock
   * punctuators) holds no record: firstOffset = nextOffset = expectedNextOffset, lastOffset one below.
   */
  firstOffset: bigint;
  lastOffset: bigint;
  /** Where the partition resumes after this batch: lastOffset + 1. */
  nextOffset: bigint;
  /** The offset the store must still hold for this partition (compare-and-set). */
  expectedNextOffset: bigint;
  /** Records consumed in this batch, dead letters included. */
  records: number;
  outputs: SinkOutput[];
  /** Per store, every key the batch changed, in the order the batch first wrote it. */
  storeChanges: Map<string, StoreChange[]>;
  deadLetters: DeadLetter[];
  /**
   * A task reading a repartition topic: the highest position it has processed of each upstream
   * partition after this batch, committed with its offset (see topology/runtime/repartition-origin.ts).
   */
  originWatermarks?: Readonly<Record<string, string>>;
  /**
   * Names this batch (the same on every retry of its commit): a committer can then tell that an
   * earlier attempt committed although its acknowledgement was lost, even for a batch that
   * moves no offset (a punctuation's), instead of applying it again.
   */
  commitId?: string;
}
