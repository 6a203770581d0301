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
 * not committed. Wall-clock punctuations queue into the same pipeline, among the records
 * (see punctuation.ts).
 *
 * The task belongs to a task group (task-group.ts) with the other tasks of its sub-topology and
 * partition number in this process: their stores share one committed cache, and their batches
 * take turns. It joins when it is created and leaves when it drains, halts or fails to start.
 */
import { BehaviorSubject, defer, filter, finalize, firstValueFrom, mergeMap, type Observable, type SchedulerLike, Subject, share, takeUntil, tap } from 'rxjs';
import { errorMessage, FencedError, isRetriable, StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { RETRY_POLICIES, type RetryPolicy } from '../../core/retry.ts';
import type { ConsumedRecord, TopicPartition } from '../../kafka/port.ts';
import type { StateStoreSpec, Topology } from '../builder.ts';
import { batchBySizeOrTime } from './batch-by-size-or-time.ts';
import { BatchRunner, TaskStoppedError } from './batch-runner.ts';
import type { WallClockTick } from './punctuation.ts';
import { OriginWatermarks } from './repartition-origin.ts';
import { runCoalesced } from './run-coalesced.ts';
import { NodeFailure, TaskGraph } from './task-graph.ts';
import { type TaskGroupMembership, TaskGroups } from './task-group.ts';
import type { BatchCommittedEvent, ClaimedPartition, CommittableBatch, Committer, PartitionStats, RuntimeEvent } from './types.ts';

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
  /** The process's task groups, which the task joins; without them it is a group of its own. */
  groups?: TaskGroups;
  onEvent?: (event: RuntimeEvent) => void;
}

export type TaskState = 'running' | 'draining' | 'fenced' | 'failed' | 'stopped';

export class PartitionTask {
  readonly topic: string;
  readonly partition: number;
  readonly epoch: number | bigint;
  /** Committed batches, in order; completes when the task drains or halts. */
  readonly committed$: Observable<BatchCommittedEvent>;

  readonly #options: PartitionTaskOptions;
  readonly #graph: TaskGraph;
  readonly #membership: TaskGroupMembership;
  readonly #storeSpecs: ReadonlyMap<string, StateStoreSpec>;
  readonly #runner: BatchRunner;
  readonly #logger: Logger;
  readonly #retry: RetryPolicy;
  readonly #input = new Subject<ConsumedRecord | WallClockTick>();
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

  private constructor(options: PartitionTaskOptions, graph: TaskGraph, membership: TaskGroupMembership) {
    this.#options = options;
    this.#graph = graph;
    this.#membership = membership;
    this.topic = options.claim.topic;
    this.partition = options.claim.partition;
    this.epoch = options.claim.epoch;
    this.#position = options.claim.nextOffset;
    this.#committedOffset = options.claim.nextOffset;
    this.#processedUpTo = options.claim.nextOffset;
    this.#storeSpecs = new Map(options.topology.stores.map((spec) => [spec.name, spec]));
    this.#retry = { ...RETRY_POLICIES.partition, ...options.retry };
    this.#logger = options.logger.child('task', { topic: this.topic, partition: this.partition });
    this.#runner = new BatchRunner({
      topic: this.topic,
      partition: this.partition,
      epoch: this.epoch,
      graph,
      stores: options.topology.stores,
      committer: options.committer,
      logger: this.#logger,
      retry: this.#retry,
      signal: this.#abort.signal,
      takeTurn: () => membership.takeTurn(this.#abort.signal),
      giveTurn: () => membership.giveTurn(),
      halted: () => this.#halted,
      committedOffset: () => this.#committedOffset,
      committed: (batch) => this.#onCommitted(batch),
      processed: (offset) => this.#countProcessed(offset),
      // A repartition topic's task skips the copies a relay re-send puts on it (repartition-origin.ts).
      ...(graph.source.repartition !== undefined
        ? {
            watermarks: new OriginWatermarks(options.claim.originWatermarks),
            skippedCopy: () => {
              this.#duplicatesIgnored++;
            },
          }
        : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });

    // The wall-clock timers run while the pipeline does.
    this.committed$ = defer(() => {
      graph.punctuations.startTimers((tick) => {
        if (this.#state === 'running') this.#input.next(tick);
      });
      return this.#input;
    }).pipe(
      batchBySizeOrTime<ConsumedRecord | WallClockTick>({
        maxSize: options.batchMaxRecords,
        maxTimeMs: options.commitIntervalMs,
        scheduler: options.scheduler,
        flush$: this.#flush$,
      }),
      tap(() => this.#busyBatches.next(this.#busyBatches.value + 1)),
      // Batches that closed while one was running run as one (run-coalesced.ts).
      runCoalesced({
        maxSize: options.batchMaxRecords,
        run: (items, batches) => {
          const work = this.#runBatch(items).finally(() => this.#busyBatches.next(Math.max(0, this.#busyBatches.value - batches)));
          this.#inflightWork = work;
          return work;
        },
      }),
      // A batch split to isolate a record commits in several parts: one event each.
      mergeMap((events) => events),
      takeUntil(this.#halted$),
      finalize(() => {
        graph.punctuations.stopTimers();
        membership.leave();
        this.#resolveDone();
      }),
      // One pipeline whoever subscribes: a second subscription must not process the records again.
      share(),
    );
  }

  /**
   * Joins the task's group, builds its processors and restores the stores its group has not
   * restored yet. Subscribe to `committed$` to start it.
   */
  static async create(options: PartitionTaskOptions): Promise<PartitionTask> {
    const { topic, partition } = options.claim;
    const membership = (options.groups ?? new TaskGroups(options.topology)).join(topic, partition);
    try {
      const graph = new TaskGraph(options.topology, topic, {
        partition,
        epoch: BigInt(options.claim.epoch),
        scheduler: options.scheduler,
        logger: options.logger.child('task', { topic, partition }),
        storeCache: (store) => membership.cache(store),
      });
      const task = new PartitionTask(options, graph, membership);
      await task.#restoreStores();
      return task;
    } catch (error) {
      membership.leave();
      throw error;
    }
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
    // At once, even with a commit still in flight: the others must not wait for it (see task-group.ts).
    this.#membership.leave();
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

  /** Restores each store unless its group did already (the cache is the group's). */
  async #restoreStores(): Promise<void> {
    for (const store of this.#graph.stores.values()) {
      const spec = this.#storeSpecs.get(store.name)!;
      if (!spec.restore) continue;
      const restored = await this.#membership.restore(store.name, () => this.#runner.retrying('load', this.#committedOffset, () => spec.restore!(this.#tp)));
      if (restored) this.#logger.debug('store restored', { store: store.name, cachedKeys: store.cachedKeys });
    }
  }

  /** Runs one closed batch (see BatchRunner); returns an event per commit it made. */
  async #runBatch(items: Array<ConsumedRecord | WallClockTick>): Promise<BatchCommittedEvent[]> {
    const events: BatchCommittedEvent[] = [];
    try {
      await this.#runner.run(items, (event) => events.push(event));
    } catch (error) {
      this.#onBatchError(error, this.#committedOffset);
    }
    return events;
  }

  #onCommitted(batch: CommittableBatch): void {
    this.#committedOffset = batch.nextOffset;
    this.#committedRecords += batch.records;
    this.#batchesCommitted++;
    this.#deadLetters += batch.deadLetters.length;
    for (const deadLetter of batch.deadLetters) this.#options.onEvent?.({ type: 'dead-letter', ...this.#tp, deadLetter });
  }

  /** A record run again after a split or a reload counts once. */
  #countProcessed(offset: bigint): void {
    if (offset < this.#processedUpTo) return;
    this.#processed++;
    this.#processedUpTo = offset + 1n;
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
}
