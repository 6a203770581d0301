/**
 * One assigned partition: the unit of parallelism, like Kafka Streams' StreamTask. Its
 * records flow through one RxJS pipeline —
 *
 *   input$ → batchBySizeOrTime → concatMap(prefetch → process each record → flush → commit)
 *
 * — so records are handled strictly in offset order, one at a time, and batch n+1 is not
 * even processed before batch n has committed. A fenced or failed commit halts the task and
 * drops everything it has not committed.
 */
import { BehaviorSubject, type Observable, Subject, type SchedulerLike, concatMap, filter, finalize, firstValueFrom, from, share, takeUntil, tap } from 'rxjs';
import { FencedError, StreamError, errorMessage, isRetriable } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from '../../core/retry.ts';
import type { ConsumedRecord, TopicPartition } from '../../kafka/port.ts';
import type { StateStoreSpec, Topology } from '../builder.ts';
import { batchBySizeOrTime } from './batch-by-size-or-time.ts';
import { type DecodedRecord, type NodeFailure, TaskGraph, errorClassOf } from './task-graph.ts';
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

interface PreparedBatch {
  decoded: Map<bigint, DecodedRecord>;
  failures: Map<bigint, NodeFailure>;
  /** Store name -> keys the batch's records will read. */
  wanted: Map<string, unknown[]>;
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
      filter((event): event is BatchCommittedEvent => event !== undefined),
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
    const specs = new Map(this.#options.topology.stores.map((spec) => [spec.name, spec]));
    for (const store of this.#graph.stores.values()) {
      const spec = specs.get(store.name)!;
      if (!spec.restore) continue;
      const entries = await this.#retrying('load', this.#committedOffset, () => spec.restore!(this.#tp));
      store.cacheLoaded(entries);
      this.#logger.debug('store restored', { store: store.name, cachedKeys: store.cachedKeys });
    }
  }

  async #runBatch(records: ConsumedRecord[]): Promise<BatchCommittedEvent | undefined> {
    if (this.#halted) return undefined;
    const first = records[0]!;
    const last = records.at(-1)!;
    const startedAt = Date.now();
    try {
      const { decoded, failures, wanted } = this.#prepare(records);
      await this.#prefetch(wanted, first.offset);
      if (this.#halted) return undefined;
      const deadLetters = this.#processAll(records, decoded, failures);
      this.#flushProcessors(last);
      const batch: CommittableBatch = {
        topic: this.topic,
        partition: this.partition,
        epoch: this.epoch,
        firstOffset: first.offset,
        lastOffset: last.offset,
        nextOffset: last.offset + 1n,
        expectedNextOffset: this.#committedOffset,
        records: records.length,
        outputs: this.#graph.takeOutputs(),
        storeChanges: this.#storeChanges(),
        deadLetters,
      };
      let attempts = 0;
      await this.#retrying('commit', first.offset, () => {
        attempts++;
        return this.#options.committer.commit(batch);
      });
      if (this.#halted) return undefined;
      return this.#afterCommit(batch, attempts, Date.now() - startedAt);
    } catch (error) {
      this.#onBatchError(error, first.offset);
      return undefined;
    }
  }

  /**
   * Decodes every record and gathers the store keys they need. A record that cannot be
   * decoded, or whose prefetch throws, is recorded as failed and becomes a dead letter in turn.
   */
  #prepare(records: ConsumedRecord[]): PreparedBatch {
    const decoded = new Map<bigint, DecodedRecord>();
    const failures = new Map<bigint, NodeFailure>();
    const wanted = new Map<string, unknown[]>();
    for (const record of records) {
      try {
        const value = this.#graph.decode(record);
        for (const [store, keys] of this.#graph.prefetchKeys(value)) {
          const list = wanted.get(store);
          if (list) for (const key of keys) list.push(key);
          else wanted.set(store, [...keys]);
        }
        decoded.set(record.offset, value);
      } catch (error) {
        failures.set(record.offset, error as NodeFailure);
      }
    }
    return { decoded, failures, wanted };
  }

  /** One load per store for the keys the batch needs and the cache lacks. */
  async #prefetch(wanted: Map<string, unknown[]>, offset: bigint): Promise<void> {
    const specs = new Map<string, StateStoreSpec>(this.#options.topology.stores.map((spec) => [spec.name, spec]));
    await Promise.all(
      [...wanted].map(async ([storeName, keys]) => {
        const store = this.#graph.stores.get(storeName)!;
        const missing = store.missing(keys);
        if (missing.length === 0) return;
        const loaded = await this.#retrying('load', offset, () => specs.get(storeName)!.load(missing));
        if (!this.#halted) store.cacheLoaded(loaded, missing);
      }),
    );
  }

  #processAll(records: ConsumedRecord[], decoded: Map<bigint, DecodedRecord>, failures: Map<bigint, NodeFailure>): DeadLetter[] {
    const deadLetters: DeadLetter[] = [];
    for (const record of records) {
      this.#processed++;
      const failed = failures.get(record.offset);
      if (failed) {
        deadLetters.push(this.#deadLetter(record, failed));
        continue;
      }
      try {
        this.#graph.process(decoded.get(record.offset)!);
      } catch (error) {
        deadLetters.push(this.#deadLetter(record, error as NodeFailure));
      }
    }
    return deadLetters;
  }

  #deadLetter(record: ConsumedRecord, failure: NodeFailure): DeadLetter {
    const deadLetter: DeadLetter = {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key,
      value: record.value,
      headers: record.headers,
      errorClass: errorClassOf(failure.cause),
      message: errorMessage(failure.cause),
      node: failure.node,
      timestamp: record.timestamp,
    };
    this.#logger.warn('record dead-lettered', {
      node: failure.node,
      offset: record.offset,
      errorClass: deadLetter.errorClass,
      error: deadLetter.message,
    });
    return deadLetter;
  }

  #flushProcessors(last: ConsumedRecord): void {
    try {
      this.#graph.flush();
    } catch (error) {
      const failure = error as NodeFailure;
      throw new StreamError('PROCESSOR_FAILED', `flush of "${failure.node}" failed at ${this.topic}[${this.partition}]@${last.offset}: ${failure.message}`, {
        cause: failure.cause,
        context: { node: failure.node, topic: this.topic, partition: this.partition, offset: last.offset },
      });
    }
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
    for (const deadLetter of batch.deadLetters) this.#options.onEvent?.({ type: 'dead-letter', ...this.#tp, deadLetter });
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
    const node = error instanceof StreamError && typeof error.context.node === 'string' ? error.context.node : 'commit';
    this.#logger.error('partition stopped: batch cannot be committed', { node, offset, error: errorMessage(error), retriable: isRetriable(error) });
    this.#halt('failed');
    this.#options.onEvent?.({ type: 'partition-failed', ...this.#tp, node, offset, error });
  }

  /** Retries transient failures with backoff, logging each retry; stops when the task stops. */
  #retrying<T>(operation: 'commit' | 'load', offset: bigint, run: () => Promise<T>): Promise<T> {
    return withRetry(
      () => {
        if (this.#abort.signal.aborted) throw new TaskStoppedError();
        return run();
      },
      {
        policy: this.#retry,
        signal: this.#abort.signal,
        onRetry: (error, failures, delayMs) => {
          this.#logger.warn(`${operation} failed, retrying`, { node: operation, offset, attempt: failures, delayMs, error: errorMessage(error) });
          this.#options.onEvent?.({ type: 'retry', ...this.#tp, operation, attempt: failures, delayMs, offset, error: errorMessage(error) });
        },
      },
    );
  }
}
