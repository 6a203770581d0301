/**
 * One assigned partition: the unit of parallelism, like Kafka Streams' StreamTask. Its
 * records flow through one RxJS pipeline —
 *
 *   input$ → batchBySizeOrTime → concatMap(prefetch → process each record → flush → commit)
 *
 * — so records are handled strictly in offset order, one at a time, and batch n+1 is not
 * even processed before batch n has committed. No record stops it: a record that cannot be
 * processed is a dead letter, and one that makes its batch fail (a value the database refuses,
 * a failing flush) is found by splitting the batch and dead-lettered alone. Transient errors
 * are retried until the task stops; stale cached state is reloaded and the batch run again. A
 * fenced commit (another owner holds the partition) halts the task and drops everything it has
 * not committed.
 */
import { BehaviorSubject, type Observable, Subject, type SchedulerLike, concatMap, filter, finalize, firstValueFrom, from, mergeMap, share, takeUntil, tap } from 'rxjs';
import { FencedError, StaleStateError, StreamError, errorMessage, isRetriable } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { DEFAULT_RETRY, type RetryPolicy, backoffDelay, sleep, withRetry } from '../../core/retry.ts';
import type { ConsumedRecord, TopicPartition } from '../../kafka/port.ts';
import type { StateStoreSpec, Topology } from '../builder.ts';
import { batchBySizeOrTime } from './batch-by-size-or-time.ts';
import { deadLetterOf } from './dead-letters.ts';
import { commitIsolating } from './isolate-failing-record.ts';
import { type DecodedRecord, NodeFailure, TaskGraph } from './task-graph.ts';
import type { BatchCommittedEvent, ClaimedPartition, CommittableBatch, Committer, DeadLetter, PartitionStats, RuntimeEvent } from './types.ts';

export interface PartitionTaskOptions {
  topology: Topology;
  claim: ClaimedPartition;
  committer: Committer;
  batchMaxRecords: number;
  commitIntervalMs: number;
  scheduler: SchedulerLike;
  logger: Logger;
  /** For commits and store loads; by default retries until it succeeds or the task stops. */
  retry?: Partial<RetryPolicy>;
  onEvent?: (event: RuntimeEvent) => void;
}

export type TaskState = 'running' | 'draining' | 'fenced' | 'failed' | 'stopped';

/** A record decoded once per batch, however often a split or a reload runs it again. */
interface PreparedRecord {
  record: ConsumedRecord;
  decoded?: DecodedRecord;
  /** Why it cannot be processed at all (undecodable, key mismatch, failing prefetch): a dead letter. */
  failure?: NodeFailure;
  /** Store name -> keys the record will read. */
  keys: Map<string, unknown[]>;
}

/** Stale state is retriable only after a reload, never by committing the same batch again. */
function isRetriableAsIs(error: unknown): boolean {
  return !(error instanceof StaleStateError) && isRetriable(error);
}

/** Thrown into a retry loop to end it once the task has stopped. */
class TaskStoppedError extends Error {
  constructor() {
    super('partition task stopped');
    this.name = 'TaskStoppedError';
  }
}

export class PartitionTask {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number | bigint;
  /** Committed batches, in order; completes when the task drains or halts. */
  readonly committed$: Observable<BatchCommittedEvent>;

  readonly #options: PartitionTaskOptions;
  readonly #graph: TaskGraph;
  readonly #storeSpecs: ReadonlyMap<string, StateStoreSpec>;
  readonly #logger: Logger;
  readonly #retry: Partial<RetryPolicy>;
  readonly #input = new Subject<ConsumedRecord>();
  readonly #flush$ = new Subject<void>();
  readonly #halted$ = new Subject<void>();
  readonly #abort = new AbortController();
  /** Batches closed and not yet finished: 0 means nothing is being processed or committed. */
  readonly #busyBatches = new BehaviorSubject(0);
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  #state: TaskState = 'running';
  #position: bigint;
  #committedOffset: bigint;
  #received = 0;
  #processed = 0;
  /** Records below it were counted as processed. */
  #processedUpTo: bigint;
  #committedRecords = 0;
  #batchesCommitted = 0;
  #deadLetters = 0;
  #duplicatesIgnored = 0;
  #inflightWork: Promise<unknown> = Promise.resolve();

  private constructor(options: PartitionTaskOptions, graph: TaskGraph) {
    this.#options = options;
    this.#graph = graph;
    this.topic = options.claim.topic;
    this.partition = options.claim.partition;
    this.epoch = options.claim.epoch;
    this.#position = options.claim.nextOffset;
    this.#committedOffset = options.claim.nextOffset;
    this.#processedUpTo = options.claim.nextOffset;
    this.#storeSpecs = new Map(options.topology.stores.map((spec) => [spec.name, spec]));
    this.#retry = { ...DEFAULT_RETRY, maxAttempts: Number.POSITIVE_INFINITY, ...options.retry };
    this.#logger = options.logger.child('task', { topic: this.topic, partition: this.partition });
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });

    this.committed$ = this.#input.pipe(
      batchBySizeOrTime<ConsumedRecord>({
        maxSize: options.batchMaxRecords,
        maxTimeMs: options.commitIntervalMs,
        scheduler: options.scheduler,
        flush$: this.#flush$,
      }),
      tap(() => this.#busyBatches.next(this.#busyBatches.value + 1)),
      concatMap((batch) => {
        const work = this.#runBatch(batch).finally(() => this.#busyBatches.next(Math.max(0, this.#busyBatches.value - 1)));
        this.#inflightWork = work;
        return from(work);
      }),
      // A batch split to isolate a record commits in several parts: one event each.
      mergeMap((events) => events),
      takeUntil(this.#halted$),
      finalize(() => this.#resolveDone()),
      // One pipeline whoever subscribes: a second subscription must not process the records again.
      share(),
    );
  }

  /**
   * Builds the task's processors and restores its stores from their backends. Subscribe to
   * `committed$` to start it.
   */
  static async create(options: PartitionTaskOptions): Promise<PartitionTask> {
    const graph = new TaskGraph(options.topology, options.claim.topic, () => options.scheduler.now());
    const task = new PartitionTask(options, graph);
    await task.#restoreStores();
    return task;
  }

  get state(): TaskState {
    return this.#state;
  }

  get inflight(): number {
    return this.#received - this.#committedRecords;
  }

  /** Queues records; ones below the task's position (delivered again) are ignored. Returns how many were queued. */
  push(records: readonly ConsumedRecord[]): number {
    if (this.#state !== 'running') return 0;
    let queued = 0;
    for (const record of records) {
      if (record.offset < this.#position) {
        this.#duplicatesIgnored++;
        continue;
      }
      this.#position = record.offset + 1n;
      this.#received++;
      queued++;
      this.#input.next(record);
    }
    return queued;
  }

  /** Closes the open batch now instead of waiting for its size or time. */
  flush(): void {
    this.#flush$.next();
  }

  /** Takes no more records, and finishes and commits what was received. Resolves when done or halted. */
  drain(): Promise<void> {
    if (this.#state === 'running') {
      this.#state = 'draining';
      this.#input.complete();
    }
    return this.#done;
  }

  /**
   * Abandons the task: records not yet committed and uncommitted store writes are dropped.
   * Resolves once a commit already sent to the committer has settled (whatever its outcome).
   */
  async stop(): Promise<void> {
    this.#halt('stopped');
    await this.#inflightWork.catch(() => {});
  }

  /** Resolves when no closed batch is waiting, processing or committing. */
  whenIdle(): Promise<unknown> {
    return firstValueFrom(this.#busyBatches.pipe(filter((busy) => busy === 0)));
  }

  stats(paused: boolean): PartitionStats {
    return {
      topic: this.topic,
      partition: this.partition,
      epoch: this.epoch,
      received: this.#received,
      processed: this.#processed,
      inflight: this.inflight,
      committedOffset: this.#committedOffset,
      batchesCommitted: this.#batchesCommitted,
      deadLetters: this.#deadLetters,
      duplicatesIgnored: this.#duplicatesIgnored,
      paused,
    };
  }

  #halt(state: 'fenced' | 'failed' | 'stopped'): void {
    if (this.#state === 'fenced' || this.#state === 'failed' || this.#state === 'stopped') return;
    this.#state = state;
    this.#abort.abort();
    this.#graph.discardBatch();
    this.#halted$.next();
    this.#input.complete();
    // Batches queued behind the one in flight were dropped with the pipeline.
    this.#busyBatches.next(0);
  }

  get #halted(): boolean {
    return this.#state === 'fenced' || this.#state === 'failed' || this.#state === 'stopped';
  }

  get #tp(): TopicPartition {
    return { topic: this.topic, partition: this.partition };
  }

  async #restoreStores(): Promise<void> {
    for (const store of this.#graph.stores.values()) {
      const spec = this.#storeSpecs.get(store.name)!;
      if (!spec.restore) continue;
      const entries = await this.#retrying('load', this.#committedOffset, () => spec.restore!(this.#tp));
      store.cacheLoaded(entries);
      this.#logger.debug('store restored', { store: store.name, cachedKeys: store.cachedKeys });
    }
  }

  /**
   * Runs one closed batch to the end: commits it, or, when it fails for something in its
   * records, splits it until the record at fault is isolated and dead-lettered (see
   * isolate-failing-record.ts). Returns an event per commit made.
   */
  async #runBatch(records: ConsumedRecord[]): Promise<BatchCommittedEvent[]> {
    if (this.#halted) return [];
    const startedAt = Date.now();
    const events: BatchCommittedEvent[] = [];
    const prepared = records.map((record) => this.#prepare(record));
    try {
      await commitIsolating(prepared, {
        attempt: async (part) => {
          events.push(await this.#attempt(part, startedAt));
        },
        isRecordFault: (error) => this.#isRecordFault(error),
        isolate: async (one, error) => {
          events.push(await this.#isolate(one, error, startedAt));
        },
        onSplit: (part, error) =>
          this.#logger.warn('batch failed; splitting it to find the record at fault', {
            node: error instanceof NodeFailure ? error.node : 'commit',
            firstOffset: part[0]!.record.offset,
            lastOffset: part.at(-1)!.record.offset,
            error: errorMessage(error),
          }),
      });
    } catch (error) {
      this.#onBatchError(error, this.#committedOffset);
    }
    return events;
  }

  /**
   * Decodes a record (checking its key) and gathers the store keys it needs. A record that
   * cannot be decoded, or whose prefetch throws, is marked failed and becomes a dead letter in turn.
   */
  #prepare(record: ConsumedRecord): PreparedRecord {
    try {
      const decoded = this.#graph.decode(record);
      return { record, decoded, keys: this.#graph.prefetchKeys(decoded) };
    } catch (error) {
      return { record, failure: error as NodeFailure, keys: new Map() };
    }
  }

  /**
   * Processes `part` from the committed state and commits it. A stale store (the database
   * changed under the cache) evicts the stale keys, reloads them and runs the part again, with
   * backoff; transient commit and load errors are retried in place; anything else is thrown.
   */
  async #attempt(part: readonly PreparedRecord[], startedAt: number): Promise<BatchCommittedEvent> {
    for (let stale = 0; ; ) {
      try {
        await this.#prefetch(part);
        this.#throwIfStopped();
        const deadLetters = this.#processAll(part);
        this.#graph.flush();
        const batch = this.#batchOf(part, this.#graph.takeOutputs(), this.#storeChanges(), deadLetters);
        const attempts = await this.#commit(batch, isRetriableAsIs);
        return this.#afterCommit(batch, attempts + stale, Date.now() - startedAt);
      } catch (error) {
        this.#graph.resetBatch();
        if (!(error instanceof StaleStateError) || this.#halted) throw error;
        stale++;
        if (stale >= this.#retry.maxAttempts!) throw error;
        await this.#reloadAfterStale(error, stale, part[0]!.record.offset);
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
    this.#countProcessed(one.record.offset);
    const batch = this.#batchOf([one], [], new Map(), [deadLetterOf(one.record, failure)]);
    const attempts = await this.#commit(batch, (commitError) => !(commitError instanceof FencedError));
    return this.#afterCommit(batch, attempts, Date.now() - startedAt);
  }

  /** Whether a failed attempt may be caused by its records: then the part is split. */
  #isRecordFault(error: unknown): boolean {
    if (this.#halted || error instanceof TaskStoppedError || error instanceof FencedError) return false;
    // A load or flush that failed for what the part holds.
    if (error instanceof NodeFailure) return true;
    // A commit the database refused for what the batch holds (retriable ones end here only when a finite retry policy ran out).
    return !isRetriable(error);
  }

  async #reloadAfterStale(error: StaleStateError, failures: number, offset: bigint): Promise<void> {
    const store = this.#graph.stores.get(error.store);
    if (store) store.evict(error.keys);
    else for (const each of this.#graph.stores.values()) each.evict(error.keys);
    const delayMs = backoffDelay({ ...DEFAULT_RETRY, ...this.#retry }, failures);
    this.#logger.warn('state changed in the database since it was cached; reloading it and running the batch again', {
      node: 'commit',
      store: error.store,
      offset,
      attempt: failures,
      delayMs,
      error: error.message,
    });
    this.#options.onEvent?.({ type: 'retry', ...this.#tp, operation: 'reload', attempt: failures, delayMs, offset, error: error.message });
    await sleep(delayMs, this.#abort.signal);
    this.#throwIfStopped();
  }

  /** One load per store for the keys the part needs and the cache lacks. */
  async #prefetch(part: readonly PreparedRecord[]): Promise<void> {
    const wanted = new Map<string, unknown[]>();
    for (const { keys } of part) {
      for (const [store, storeKeys] of keys) {
        const list = wanted.get(store);
        if (list) for (const key of storeKeys) list.push(key);
        else wanted.set(store, [...storeKeys]);
      }
    }
    const offset = part[0]!.record.offset;
    await Promise.all(
      [...wanted].map(async ([storeName, keys]) => {
        const store = this.#graph.stores.get(storeName)!;
        const missing = store.missing(keys);
        if (missing.length === 0) return;
        try {
          const loaded = await this.#retrying('load', offset, () => this.#storeSpecs.get(storeName)!.load(missing), isRetriableAsIs);
          if (!this.#halted) store.cacheLoaded(loaded);
        } catch (error) {
          if (error instanceof TaskStoppedError || isRetriable(error)) throw error;
          // A load the database refuses for one of the keys (a value its SQL cannot take): the part is split.
          throw new NodeFailure(this.#graph.loaderOf(storeName), error);
        }
      }),
    );
  }

  #processAll(part: readonly PreparedRecord[]): DeadLetter[] {
    const deadLetters: DeadLetter[] = [];
    for (const { record, decoded, failure } of part) {
      this.#countProcessed(record.offset);
      if (failure) {
        deadLetters.push(deadLetterOf(record, failure));
        continue;
      }
      try {
        this.#graph.process(decoded!);
      } catch (error) {
        deadLetters.push(deadLetterOf(record, error as NodeFailure));
      }
    }
    return deadLetters;
  }

  /** A record run again after a split or a reload counts once. */
  #countProcessed(offset: bigint): void {
    if (offset < this.#processedUpTo) return;
    this.#processed++;
    this.#processedUpTo = offset + 1n;
  }

  #batchOf(part: readonly PreparedRecord[], outputs: CommittableBatch['outputs'], storeChanges: CommittableBatch['storeChanges'], deadLetters: DeadLetter[]): CommittableBatch {
    const first = part[0]!.record;
    const last = part.at(-1)!.record;
    return {
      topic: this.topic,
      partition: this.partition,
      epoch: this.epoch,
      firstOffset: first.offset,
      lastOffset: last.offset,
      nextOffset: last.offset + 1n,
      expectedNextOffset: this.#committedOffset,
      records: part.length,
      outputs,
      storeChanges,
      deadLetters,
    };
  }

  /** Commits with retries; returns the attempts it took. */
  async #commit(batch: CommittableBatch, retriable: (error: unknown) => boolean): Promise<number> {
    let attempts = 0;
    await this.#retrying(
      'commit',
      batch.firstOffset,
      () => {
        attempts++;
        return this.#options.committer.commit(batch);
      },
      retriable,
    );
    this.#throwIfStopped();
    return attempts;
  }

  #storeChanges(): Map<string, Array<[unknown, unknown]>> {
    const changes = new Map<string, Array<[unknown, unknown]>>();
    for (const store of this.#graph.stores.values()) {
      const storeChanges = store.batchChanges();
      if (storeChanges.length > 0) changes.set(store.name, storeChanges);
    }
    return changes;
  }

  #afterCommit(batch: CommittableBatch, attempts: number, durationMs: number): BatchCommittedEvent {
    for (const store of this.#graph.stores.values()) store.commitBatch();
    this.#committedOffset = batch.nextOffset;
    this.#committedRecords += batch.records;
    this.#batchesCommitted++;
    this.#deadLetters += batch.deadLetters.length;
    for (const deadLetter of batch.deadLetters) {
      this.#logger.warn('record dead-lettered', { node: deadLetter.node, offset: deadLetter.offset, errorClass: deadLetter.errorClass, error: deadLetter.message });
      this.#options.onEvent?.({ type: 'dead-letter', ...this.#tp, deadLetter });
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
    if (this.#halted) throw new TaskStoppedError();
  }

  /**
   * Ends the task on what no retry or split can mend: a fence (another owner holds the
   * partition), or an error that outlived a finite retry policy (the test driver's). With the
   * default policy a record never gets here: it is isolated and dead-lettered instead.
   */
  #onBatchError(error: unknown, offset: bigint): void {
    if (error instanceof TaskStoppedError || this.#halted) return;
    if (error instanceof FencedError) {
      this.#logger.warn('partition fenced: another owner holds it now; dropping uncommitted work', {
        node: 'commit',
        offset,
        epoch: this.epoch,
        error: error.message,
      });
      this.#halt('fenced');
      this.#options.onEvent?.({ type: 'fenced', ...this.#tp, offset, error: error.message });
      return;
    }
    const node = error instanceof NodeFailure ? error.node : error instanceof StreamError && typeof error.context.node === 'string' ? error.context.node : 'commit';
    const cause = error instanceof NodeFailure ? error.cause : error;
    this.#logger.error('partition stopped: batch cannot be committed', { node, offset, error: errorMessage(cause), retriable: isRetriable(cause) });
    this.#halt('failed');
    this.#options.onEvent?.({ type: 'partition-failed', ...this.#tp, node, offset, error: cause });
  }

  /** Retries transient failures with backoff, logging each retry; stops when the task stops. */
  #retrying<T>(operation: 'commit' | 'load', offset: bigint, run: () => Promise<T>, retriable: (error: unknown) => boolean = isRetriableAsIs): Promise<T> {
    return withRetry(
      () => {
        if (this.#abort.signal.aborted) throw new TaskStoppedError();
        return run();
      },
      {
        policy: this.#retry,
        signal: this.#abort.signal,
        retriable: (error) => !(error instanceof TaskStoppedError) && retriable(error),
        onRetry: (error, failures, delayMs) => {
          this.#logger.warn(`${operation} failed, retrying`, { node: operation, offset, attempt: failures, delayMs, error: errorMessage(error) });
          this.#options.onEvent?.({ type: 'retry', ...this.#tp, operation, attempt: failures, delayMs, offset, error: errorMessage(error) });
        },
      },
    );
  }
}
