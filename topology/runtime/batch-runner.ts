/**
 * Takes a partition's closed micro-batches to the database, one at a time: decodes each record
 * once, prefetches the store keys, processes, flushes and commits; reloads stale state and runs
 * the batch again; isolates a record that makes its batch fail (see isolate-failing-record.ts).
 * A batch may hold wall-clock ticks among its records, or only ticks (see punctuation.ts).
 * A batch runs in its task group's turn (task-group.ts), taken before the prefetch and given
 * back once it committed or failed, so no batch of another task of the group changes the store
 * caches it computes from. The PartitionTask owns the rest: the pipeline, halting, counters and stats.
 */
import { randomUUID } from 'node:crypto';
import { errorMessage, FencedError, isRetriable, StaleStateError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { endSpan } from '../../core/messaging-spans.ts';
import { backoffDelay, type RetryPolicy, sleep, withRetry } from '../../core/retry.ts';
import type { ConsumedRecord, TopicPartition } from '../../kafka/port.ts';
import type { StateStoreSpec } from '../builder.ts';
import { deadLetterOf } from './dead-letters.ts';
import { commitIsolating } from './isolate-failing-record.ts';
import { isWallClockTick, type WallClockTick } from './punctuation.ts';
import type { OriginWatermarks } from './repartition-origin.ts';
import { type DecodedRecord, NodeFailure, type TaskGraph } from './task-graph.ts';
import { BatchTrace } from './tracing.ts';
import type { BatchCommittedEvent, CommittableBatch, Committer, DeadLetter, RuntimeEvent } from './types.ts';

/** What the runner needs from its task. */
export interface BatchRunnerContext extends TopicPartition {
  epoch: number | bigint;
  graph: TaskGraph;
  stores: readonly StateStoreSpec[];
  committer: Committer;
  logger: Logger;
  /** Complete: maxAttempts may be Infinity. */
  retry: RetryPolicy;
  /** Aborts retries, backoff waits and the wait for the turn when the task stops. */
  signal: AbortSignal;
  /** Resolves once the task holds its group's turn; rejects if the task stops first. */
  takeTurn(): Promise<void>;
  /** Gives the turn back (nothing if the task does not hold it: it left its group when it stopped). */
  giveTurn(): void;
  halted(): boolean;
  /** The offset the next commit must expect (where the last commit left the partition). */
  committedOffset(): bigint;
  /** A batch committed: the task moves its offset and counters on. */
  committed(batch: CommittableBatch): void;
  /** A record was run (counted once however often a split or reload runs it again). */
  processed(offset: bigint): void;
  /**
   * For a task reading a repartition topic: what it has processed of each upstream partition,
   * so a copy the relay sent twice is skipped (repartition-origin.ts). Undefined otherwise.
   */
  watermarks?: OriginWatermarks;
  /** A copy of a record already processed was skipped. */
  skippedCopy?(offset: bigint): void;
  onEvent?: (event: RuntimeEvent) => void;
}

/** A record decoded once per batch, however often a split or a reload runs it again. */
interface PreparedRecord {
  record: ConsumedRecord;
  decoded?: DecodedRecord;
  /** Why it cannot be processed at all (undecodable, key mismatch, failing prefetch): a dead letter. */
  failure?: NodeFailure;
  /** Store name -> keys the record will read. */
  keys: Map<string, unknown[]>;
}

/** What a batch runs, in order: its records and the wall-clock punctuations queued among them. */
type PreparedItem = PreparedRecord | WallClockTick;

function recordsOf(part: readonly PreparedItem[]): PreparedRecord[] {
  return part.filter((item): item is PreparedRecord => !isWallClockTick(item));
}

/** Thrown into a retry loop to end it once the task has stopped. */
export class TaskStoppedError extends Error {
  constructor() {
    super('partition task stopped');
    this.name = 'TaskStoppedError';
  }
}

/** Stale state is retriable only after a reload, never by committing the same batch again. */
function isRetriableAsIs(error: unknown): boolean {
  return !(error instanceof StaleStateError) && isRetriable(error);
}

export class BatchRunner {
  readonly #context: BatchRunnerContext;
  readonly #storeSpecs: ReadonlyMap<string, StateStoreSpec>;
  readonly #logger: Logger;
  /** The spans of the batch running now; undefined when no tracing SDK is installed (tracing.ts). */
  #trace: BatchTrace | undefined;

  constructor(context: BatchRunnerContext) {
    this.#context = context;
    this.#storeSpecs = new Map(context.stores.map((spec) => [spec.name, spec]));
    this.#logger = context.logger;
  }

  get #tp(): TopicPartition {
    return { topic: this.#context.topic, partition: this.#context.partition };
  }

  /**
   * Runs one closed batch to the end: commits it, or, when it fails for something in its
   * records, splits it until the record at fault is isolated and dead-lettered (see
   * isolate-failing-record.ts). Emits an event per commit made; throws what no retry or split
   * can mend (a fence, the task stopping, an error that outlived a finite retry policy).
   */
  async run(items: readonly (ConsumedRecord | WallClockTick)[], emit: (event: BatchCommittedEvent) => void): Promise<void> {
    if (this.#context.halted()) return;
    // Decoding reads no store: it need not wait for the turn.
    const prepared = items.map((item) => (isWallClockTick(item) ? this.#take(item) : this.#prepare(item)));
    try {
      await this.#context.takeTurn();
    } catch (error) {
      // The wait ends without the turn only when the task stopped; anything else is a bug to report.
      throw this.#context.halted() ? new TaskStoppedError() : error;
    }
    try {
      this.#throwIfStopped();
      await this.#runInTurn(prepared, emit);
    } finally {
      this.#context.giveTurn();
    }
  }

  /** The batch's durations count from here: the wait for the turn is the group's, not the batch's. */
  async #runInTurn(prepared: PreparedItem[], emit: (event: BatchCommittedEvent) => void): Promise<void> {
    const startedAt = Date.now();
    const records = recordsOf(prepared);
    // A batch of wall-clock ticks alone is no one's work: tracing it would only add empty traces.
    this.#trace = records.length > 0 ? BatchTrace.start(this.#tp, records.map((item) => item.record)) : undefined;
    try {
      await this.#commitIsolating(prepared, startedAt, emit);
      this.#trace?.end();
    } catch (error) {
      this.#trace?.end(error);
      throw error;
    } finally {
      this.#trace = undefined;
    }
  }

  #commitIsolating(prepared: PreparedItem[], startedAt: number, emit: (event: BatchCommittedEvent) => void): Promise<void> {
    return commitIsolating<PreparedItem>(prepared, {
      attempt: async (part) => {
        const event = await this.#attempt(part, startedAt);
        if (event) emit(event);
      },
      isRecordFault: (error) => this.#isRecordFault(error),
      isolate: async (one, error) => {
        if (isWallClockTick(one)) this.#dropPunctuation(one, error);
        else emit(await this.#isolate(one, error, startedAt));
      },
      onSplit: (part, error) =>
        this.#logger.warn('batch failed; splitting it to find the record at fault', {
          node: error instanceof NodeFailure ? error.node : 'commit',
          firstOffset: this.#firstOffset(part),
          lastOffset: recordsOf(part).at(-1)?.record.offset,
          error: errorMessage(error),
        }),
    });
  }

  #take(tick: WallClockTick): WallClockTick {
    this.#context.graph.punctuations.taken(tick);
    return tick;
  }

  /** The offset a part starts at: its first record's, or (ticks only) where the partition is. */
  #firstOffset(part: readonly PreparedItem[]): bigint {
    return recordsOf(part)[0]?.record.offset ?? this.#context.committedOffset();
  }

  /** A punctuation whose writes the database refuses on their own: nothing of it commits. */
  #dropPunctuation(tick: WallClockTick, error: unknown): void {
    this.#logger.warn('punctuation dropped: its batch fails with it and commits without it', {
      node: error instanceof NodeFailure ? error.node : 'commit',
      schedule: tick.schedule,
      time: tick.time,
      error: errorMessage(error instanceof NodeFailure ? error.cause : error),
    });
  }

  /**
   * Decodes a record (checking its key) and gathers the store keys it needs. A record that
   * cannot be decoded, or whose prefetch throws, is marked failed and becomes a dead letter in turn.
   */
  #prepare(record: ConsumedRecord): PreparedRecord {
    try {
      const decoded = this.#context.graph.decode(record);
      return { record, decoded, keys: this.#context.graph.prefetchKeys(decoded) };
    } catch (error) {
      return { record, failure: error as NodeFailure, keys: new Map() };
    }
  }

  /**
   * Processes `part` from the committed state and commits it. A stale store (the database
   * changed under the cache) evicts the stale keys, reloads them and runs the part again, with
   * backoff; transient commit and load errors are retried in place; anything else is thrown.
   * Punctuations alone that wrote nothing have nothing to commit: no transaction, no event.
   */
  async #attempt(part: readonly PreparedItem[], startedAt: number): Promise<BatchCommittedEvent | undefined> {
    // Keys found stale are loaded again even when no record prefetches them (a key a processor
    // writes without reading it first): otherwise the rerun would compute from the same stale view.
    let reload = new Map<string, unknown[]>();
    for (let stale = 0; ; ) {
      try {
        await this.#spanned('prefetch', () => this.#prefetch(part, reload));
        this.#throwIfStopped();
        this.#context.watermarks?.beginAttempt();
        const deadLetters = this.#processAll(part);
        // Ticks alone end no batch of records: there is nothing for flush() to close.
        if (recordsOf(part).length > 0) this.#context.graph.flush(this.#trace?.headers);
        const batch = this.#batchOf(part, this.#context.graph.takeOutputs(), this.#storeChanges(), deadLetters);
        if (batch.records === 0 && batch.outputs.length === 0 && batch.storeChanges.size === 0) {
          this.#context.graph.commitBatch();
          return undefined;
        }
        const attempts = await this.#commit(batch, isRetriableAsIs);
        return this.#afterCommit(batch, attempts + stale, Date.now() - startedAt);
      } catch (error) {
        this.#context.graph.resetBatch();
        if (!(error instanceof StaleStateError) || this.#context.halted()) throw error;
        stale++;
        if (stale >= this.#context.retry.maxAttempts) throw error;
        await this.#reloadAfterStale(error, stale, this.#firstOffset(part));
        reload = this.#context.graph.stores.has(error.store) ? new Map([[error.store, [...error.keys]]]) : new Map();
      }
    }
  }

  /**
   * Commits one record as a dead letter: the offset advances in the same transaction. Nothing of
   * the record's own is written but the dead letter, so a failure here is not the record's:
   * it is retried like an infrastructure error, whatever it is, until it passes or the task stops.
   */
  async #isolate(one: PreparedRecord, error: unknown, startedAt: number): Promise<BatchCommittedEvent> {
    const failure = one.failure ?? (error instanceof NodeFailure ? error : new NodeFailure('commit', error));
    this.#logger.warn('record isolated: its batch fails with it and commits without it', {
      node: failure.node,
      offset: one.record.offset,
      error: errorMessage(failure.cause),
    });
    this.#context.processed(one.record.offset);
    // Its position counts as processed: a copy sent again is skipped, not dead-lettered twice.
    this.#context.watermarks?.beginAttempt();
    this.#context.watermarks?.admit(one.record.headers);
    const batch = this.#batchOf([one], [], new Map(), [deadLetterOf(one.record, failure)]);
    const attempts = await this.#commit(batch, (commitError) => !(commitError instanceof FencedError));
    return this.#afterCommit(batch, attempts, Date.now() - startedAt);
  }

  /** Whether a failed attempt may be caused by its records: then the part is split. */
  #isRecordFault(error: unknown): boolean {
    if (this.#context.halted() || error instanceof TaskStoppedError || error instanceof FencedError) return false;
    // A load or flush that failed for what the part holds.
    if (error instanceof NodeFailure) return true;
    // A commit the database refused for what the batch holds (a retriable error gets here only
    // when a finite retry policy ran out: not the records' fault).
    return !isRetriable(error);
  }

  async #reloadAfterStale(error: StaleStateError, failures: number, offset: bigint): Promise<void> {
    const store = this.#context.graph.stores.get(error.store);
    if (store) store.evict(error.keys);
    else for (const each of this.#context.graph.stores.values()) each.evict(error.keys);
    const delayMs = backoffDelay(this.#context.retry, failures);
    this.#logger.warn('state changed in the database since it was cached; reloading it and running the batch again', {
      node: 'commit',
      store: error.store,
      offset,
      attempt: failures,
      delayMs,
      error: error.message,
    });
    this.#context.onEvent?.({ type: 'retry', ...this.#tp, operation: 'reload', attempt: failures, delayMs, offset, error: error.message });
    await sleep(delayMs, this.#context.signal);
    this.#throwIfStopped();
  }

  /** One load per store for the keys the part needs (and the `extra` ones) that the cache lacks. */
  async #prefetch(part: readonly PreparedItem[], extra: ReadonlyMap<string, unknown[]>): Promise<void> {
    const wanted = new Map<string, unknown[]>([...extra].map(([store, keys]) => [store, [...keys]]));
    for (const { keys } of recordsOf(part)) {
      for (const [store, storeKeys] of keys) {
        const list = wanted.get(store);
        if (list) for (const key of storeKeys) list.push(key);
        else wanted.set(store, [...storeKeys]);
      }
    }
    const offset = this.#firstOffset(part);
    await Promise.all(
      [...wanted].map(async ([storeName, keys]) => {
        const store = this.#context.graph.stores.get(storeName)!;
        const missing = store.missing(keys);
        if (missing.length === 0) return;
        try {
          const loaded = await this.retrying('load', offset, () => this.#storeSpecs.get(storeName)!.load(missing), isRetriableAsIs);
          if (!this.#context.halted()) store.cacheLoaded(loaded);
        } catch (error) {
          if (error instanceof TaskStoppedError || isRetriable(error)) throw error;
          // A load the database refuses for one of the keys (a value its SQL cannot take): the part is split.
          throw new NodeFailure(this.#context.graph.loaderOf(storeName), error);
        }
      }),
    );
  }

  #processAll(part: readonly PreparedItem[]): DeadLetter[] {
    const deadLetters: DeadLetter[] = [];
    let position = this.#context.committedOffset();
    for (const item of part) {
      if (isWallClockTick(item)) {
        this.#context.graph.punctuateWallClock(item, position);
        continue;
      }
      const { record, decoded, failure } = item;
      position = record.offset + 1n;
      this.#context.processed(record.offset);
      if (this.#context.watermarks && !this.#context.watermarks.admit(record.headers)) {
        this.#context.skippedCopy?.(record.offset);
        continue;
      }
      if (failure) {
        deadLetters.push(deadLetterOf(record, failure));
        continue;
      }
      const span = this.#trace?.startProcess(record);
      try {
        if (span === undefined) this.#context.graph.process(decoded!);
        else this.#context.graph.process(decoded!, span.headers);
        span?.span.end();
      } catch (error) {
        if (span) endSpan(span.span, error);
        deadLetters.push(deadLetterOf(record, error as NodeFailure));
      }
    }
    return deadLetters;
  }

  #batchOf(part: readonly PreparedItem[], outputs: CommittableBatch['outputs'], storeChanges: CommittableBatch['storeChanges'], deadLetters: DeadLetter[]): CommittableBatch {
    const records = recordsOf(part);
    const expectedNextOffset = this.#context.committedOffset();
    // Ticks alone span no record: the batch starts and ends where the partition is.
    const lastOffset = records.at(-1)?.record.offset ?? expectedNextOffset - 1n;
    return {
      topic: this.#context.topic,
      partition: this.#context.partition,
      epoch: this.#context.epoch,
      firstOffset: records[0]?.record.offset ?? expectedNextOffset,
      lastOffset,
      nextOffset: lastOffset + 1n,
      expectedNextOffset,
      records: records.length,
      outputs,
      storeChanges,
      deadLetters,
      commitId: randomUUID(),
      ...(this.#context.watermarks ? { originWatermarks: this.#context.watermarks.attempted() } : {}),
    };
  }

  /** Runs `work` in a child span of the batch's span named `<name> <topic>`, when the batch is traced. */
  async #spanned<T>(name: string, work: () => Promise<T>): Promise<T> {
    const span = this.#trace?.startChild(name);
    if (span === undefined) return work();
    try {
      const result = await work();
      span.end();
      return result;
    } catch (error) {
      endSpan(span, error);
      throw error;
    }
  }

  /** Commits with retries; returns the attempts it took. */
  #commit(batch: CommittableBatch, retriable: (error: unknown) => boolean): Promise<number> {
    return this.#spanned('commit', () => this.#commitRetrying(batch, retriable));
  }

  async #commitRetrying(batch: CommittableBatch, retriable: (error: unknown) => boolean): Promise<number> {
    let attempts = 0;
    await this.retrying(
      'commit',
      batch.firstOffset,
      () => {
        attempts++;
        return this.#context.committer.commit(batch);
      },
      retriable,
    );
    this.#throwIfStopped();
    return attempts;
  }

  #storeChanges(): CommittableBatch['storeChanges'] {
    const changes: CommittableBatch['storeChanges'] = new Map();
    for (const store of this.#context.graph.stores.values()) {
      const storeChanges = store.batchChanges();
      if (storeChanges.length > 0) changes.set(store.name, storeChanges);
    }
    return changes;
  }

  #afterCommit(batch: CommittableBatch, attempts: number, durationMs: number): BatchCommittedEvent {
    this.#context.graph.commitBatch();
    this.#context.watermarks?.committed();
    this.#context.committed(batch);
    for (const deadLetter of batch.deadLetters) {
      this.#logger.warn('record dead-lettered', { node: deadLetter.node, offset: deadLetter.offset, errorClass: deadLetter.errorClass, error: deadLetter.message });
    }
    this.#logger.debug('batch committed', { firstOffset: batch.firstOffset, nextOffset: batch.nextOffset, records: batch.records });
    return {
      type: 'batch-committed',
      ...this.#tp,
      firstOffset: batch.firstOffset,
      nextOffset: batch.nextOffset,
      records: batch.records,
      outputs: batch.outputs.length,
      deadLetters: batch.deadLetters.length,
      attempts,
      durationMs,
    };
  }

  #throwIfStopped(): void {
    if (this.#context.halted()) throw new TaskStoppedError();
  }

  /** Retries transient failures with backoff, logging each retry; stops when the task stops. */
  retrying<T>(operation: 'commit' | 'load', offset: bigint, run: () => Promise<T>, retriable: (error: unknown) => boolean = isRetriableAsIs): Promise<T> {
    return withRetry(
      () => {
        if (this.#context.signal.aborted) throw new TaskStoppedError();
        return run();
      },
      {
        policy: this.#context.retry,
        signal: this.#context.signal,
        retriable: (error) => !(error instanceof TaskStoppedError) && retriable(error),
        onRetry: (error, failures, delayMs) => {
          this.#logger.warn(`${operation} failed, retrying`, { node: operation, offset, attempt: failures, delayMs, error: errorMessage(error) });
          this.#context.onEvent?.({ type: 'retry', ...this.#tp, operation, attempt: failures, delayMs, offset, error: errorMessage(error) });
        },
      },
    );
  }
}
