/**
 * Runs a topology on a consumer group: one PartitionTask per assigned partition, merged into
 * one RxJS pipeline (`tasks$ → mergeMap(task => task.committed$)`), so partitions run in
 * parallel while each stays serial; the tasks of one sub-topology and partition number form a
 * task group (task-group.ts) that shares its stores' cache and runs one batch at a time. It
 * claims partitions from the database offset store on assignment, drops tasks on revocation,
 * pauses fetching under backpressure and reports what happens as events.
 *
 * Assignments and revocations are handled one at a time, in the order the consumer reported
 * them. Nothing stops for good: a partition whose claim fails, whose task is fenced or fails,
 * or whose database offset lies beyond the topic's end waits (listed in `stats().waiting`) and
 * is claimed again with backoff for as long as it stays assigned; a claim that lands after its
 * partition moved on is released, never started.
 */
import { asyncScheduler, mergeMap, type Observable, type SchedulerLike, Subject, type Subscription, tap } from 'rxjs';
import { errorMessage, StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { checkOptions } from '../../core/options.ts';
import { backoffDelay, RETRY_POLICIES, type RetryPolicy } from '../../core/retry.ts';
import { ConsumerStoppedError, type GroupConsumer, OffsetOutOfRangeError, type PartitionOffset, type RecordBatch, type TopicPartition, tpKey } from '../../kafka/port.ts';
import type { Topology } from '../builder.ts';
import { BackpressureGate } from './backpressure.ts';
import { runtimeDiagnostics } from './diagnostics.ts';
import { PartitionTask } from './partition-task.ts';
import { TaskGroups } from './task-group.ts';
import type {
  BatchCommittedEvent,
  ClaimedPartition,
  Committer,
  PartitionBounds,
  PartitionClaimer,
  PauseReason,
  RuntimeConfig,
  RuntimeEvent,
  RuntimeStats,
  WaitingPartition,
} from './types.ts';

let runtimeCount = 0;

export interface StreamRuntimeOptions {
  /** Tags this runtime's events on the diagnostics channel; default runtime-<n>. */
  id?: string;
  topology: Topology;
  consumer: GroupConsumer;
  claimer: PartitionClaimer;
  committer: Committer;
  config: RuntimeConfig;
  logger: Logger;
  /** Closes time-based batches; virtual time in tests. */
  scheduler?: SchedulerLike;
  /**
   * Backoff of commits and store loads (default: retry until success or stop) and of claims
   * and partition restarts (core/retry's delays; those retry for as long as the partition is assigned).
   */
  retry?: Partial<RetryPolicy>;
  /** A partition failed or the consumer reported an error. Informational: the runtime restarts what failed. */
  onError?: (error: StreamError) => void;
  /** Also commit offsets to Kafka, for lag tools only. Default true. */
  commitToKafka?: boolean;
  /**
   * How often those informational commits go out (default 5000 ms), with the latest offset of
   * each partition. Not per batch: a client may rejoin its group when a commit fails during a
   * rebalance, and hundreds of commits a second then keep the group rebalancing.
   */
  kafkaCommitIntervalMs?: number;
  /**
   * The partitions' log start and end offsets, checked at every claim: a database offset beyond
   * the end (topic recreated, broker data wiped) would be out of range. Without it no check is made.
   */
  partitionBounds?: (partitions: TopicPartition[]) => Promise<PartitionBounds[]>;
  /** How often a partition whose offset lies beyond the topic's end is checked again (default 10 s). */
  offsetCheckIntervalMs?: number;
  /**
   * The least wait before a fenced partition is claimed again (default 2000 ms). A fence usually
   * means the group gave the partition to another member and this one has not heard yet: its next
   * heartbeat tells it, and the partition is revoked instead of claimed back from the new owner.
   */
  fencedReclaimDelayMs?: number;
  /** The command an operator runs to move a partition's stored offset (named in the beyond-the-end line). */
  resetCommand?: (tp: TopicPartition) => string;
}

/** An assigned partition; `generation` tells a claim for this assignment from one for an earlier one. */
interface Assignment {
  tp: TopicPartition;
  generation: number;
}

interface Waiting {
  tp: TopicPartition;
  reason: string;
  since: number;
  timer: NodeJS.Timeout | undefined;
  needsOperator: boolean;
}

export class StreamRuntime {
  readonly events$: Observable<RuntimeEvent>;
  /** Failures the runtime recovers from (a partition restarted, a consumer error), for whoever watches. */
  readonly errors$: Observable<StreamError>;
  /**
   * Rejects when the consumer stopped for good (ConsumerStoppedError): the runtime cannot go on,
   * whoever owns it stops it and starts a new one. Stays pending otherwise.
   */
  readonly failed: Promise<never>;
  /** Names this runtime's events on the diagnostics channel (topology/runtime/diagnostics.ts). */
  readonly id: string;
  #fail: (error: StreamError) => void = () => {};

  readonly #options: StreamRuntimeOptions;
  readonly #logger: Logger;
  readonly #scheduler: SchedulerLike;
  readonly #retryPolicy: RetryPolicy;
  readonly #events = new Subject<RuntimeEvent>();
  readonly #errors = new Subject<StreamError>();
  readonly #tasks$ = new Subject<PartitionTask>();
  /** Partitions the consumer assigned and did not revoke since. */
  readonly #assigned = new Map<string, Assignment>();
  readonly #tasks = new Map<string, PartitionTask>();
  /** Assigned partitions without a running task, and the timer that claims them again. */
  readonly #waiting = new Map<string, Waiting>();
  /** Newly assigned partitions whose first claim is in flight, since when (listed as waiting too). */
  readonly #claiming = new Map<string, { tp: TopicPartition; since: number }>();
  /** Restarts of a partition since its last commit: the backoff grows with them. */
  readonly #failures = new Map<string, number>();
  /** The database offset already reported beyond the topic's end, per partition: one line, not one per check. */
  readonly #reportedBeyondEnd = new Map<string, bigint>();
  /** What the consumer was last told, per partition. */
  readonly #paused = new Map<string, PauseReason>();
  readonly #gate: BackpressureGate;
  /** The tasks of one sub-topology and partition number share their stores' cache and take turns (task-group.ts). */
  readonly #groups: TaskGroups;
  #pipeline: Subscription | undefined;
  #rebalanceChain: Promise<unknown> = Promise.resolve();
  #generation = 0;
  #rebalances = 0;
  #droppedUnowned = 0;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  /** Latest committed offset per partition not yet told to Kafka. */
  readonly #kafkaCommitsDue = new Map<string, PartitionOffset>();
  #kafkaCommitTimer: NodeJS.Timeout | undefined;

  constructor(options: StreamRuntimeOptions) {
    checkOptions(
      'StreamRuntime',
      options,
      { topology: 'object', consumer: 'object', claimer: 'object', committer: 'object', config: 'object', logger: 'object', kafkaCommitIntervalMs: 'positive-integer' },
      ['topology', 'consumer', 'claimer', 'committer', 'config', 'logger'],
    );
    checkOptions('StreamRuntime', options.config, { batchMaxRecords: 'positive-integer', commitIntervalMs: 'positive-integer', maxInflightPerPartition: 'positive-integer', maxInflightTotal: 'positive-integer' }, [
      'batchMaxRecords',
      'commitIntervalMs',
      'maxInflightPerPartition',
      'maxInflightTotal',
    ]);
    this.#options = options;
    this.#logger = options.logger.child('runtime');
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#retryPolicy = { ...RETRY_POLICIES.partition, ...options.retry };
    this.#gate = new BackpressureGate(options.config);
    this.#groups = new TaskGroups(options.topology);
    this.id = options.id ?? `runtime-${++runtimeCount}`;
    this.#events.subscribe((event) => {
      if (runtimeDiagnostics.hasSubscribers) runtimeDiagnostics.publish({ ...event, runtime: this.id });
    });
    this.events$ = this.#events.asObservable();
    this.errors$ = this.#errors.asObservable();
    this.failed = new Promise<never>((_, reject) => {
      this.#fail = reject;
    });
    // Handled here too: an owner that does not watch it must not see an unhandled rejection.
    this.failed.catch(() => {});
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new StreamError('ILLEGAL_STATE', `runtime cannot start: it is ${this.#state}`);
    this.#state = 'running';
    this.#pipeline = this.#tasks$
      .pipe(mergeMap((task) => task.committed$.pipe(tap((event) => this.#onCommitted(task, event)))))
      .subscribe();
    try {
      await this.#options.consumer.start({
        onAssigned: (partitions) => this.#serialized(() => this.#onAssigned(partitions)),
        onRevoked: (partitions) => void this.#serialized(async () => this.#onRevoked(partitions)),
        onBatch: (batch) => this.#onBatch(batch),
        onError: (error) => this.#onConsumerError(error),
      });
    } catch (error) {
      this.#state = 'stopped';
      this.#pipeline.unsubscribe();
      throw error;
    }
    if (this.#options.commitToKafka !== false) {
      this.#kafkaCommitTimer = setInterval(() => void this.#commitToKafka(), this.#options.kafkaCommitIntervalMs ?? 5000);
      this.#kafkaCommitTimer.unref();
    }
    this.#logger.info('runtime started', { topics: [...this.#options.topology.sourceByTopic.keys()] });
  }

  async #commitToKafka(): Promise<void> {
    if (this.#kafkaCommitsDue.size === 0) return;
    const offsets = [...this.#kafkaCommitsDue.values()];
    this.#kafkaCommitsDue.clear();
    await this.#options.consumer
      .commitOffsets(offsets)
      .catch((error: unknown) => this.#logger.debug('informational Kafka offset commit failed', { partitions: offsets.length, error: errorMessage(error) }));
  }

  /**
   * Stops fetching, lets every task finish and commit what it has received, then closes the
   * consumer. Tasks still busy when the time is up are abandoned (their work is redone by the
   * next owner from the database offset). Resolves within `timeoutMs`.
   */
  async stop({ timeoutMs }: { timeoutMs: number }): Promise<void> {
    if (this.#state !== 'running') return;
    this.#state = 'stopping';
    const deadline = Date.now() + timeoutMs;
    for (const waiting of this.#waiting.values()) clearTimeout(waiting.timer);
    this.#applyBackpressure();
    const closeReserveMs = Math.min(2_000, Math.floor(timeoutMs / 4));
    const tasks = [...this.#tasks.values()];
    const drained = await raceTimeout(
      Promise.all(tasks.map((task) => task.drain())),
      deadline - closeReserveMs - Date.now(),
    );
    if (!drained) {
      for (const task of tasks.filter((candidate) => candidate.inflight > 0)) {
        this.#logger.warn('shutdown timeout: abandoning uncommitted records', {
          node: 'commit',
          topic: task.topic,
          partition: task.partition,
          offset: task.stats(true).committedOffset,
          inflight: task.inflight,
        });
      }
      for (const task of tasks) void task.stop();
    }
    this.#tasks.clear();
    this.#pipeline?.unsubscribe();
    clearInterval(this.#kafkaCommitTimer);
    await raceTimeout(this.#commitToKafka(), Math.max(0, deadline - Date.now() - 500));
    const closed = await raceTimeout(
      this.#options.consumer.close().then(
        () => true,
        (error) => this.#logger.warn('consumer close failed', { error: errorMessage(error) }),
      ),
      deadline - Date.now(),
    );
    if (!closed) this.#logger.warn('consumer did not close before the shutdown timeout');
    this.#state = 'stopped';
    this.#events.complete();
    this.#errors.complete();
    this.#logger.info('runtime stopped', { drained });
  }

  stats(): RuntimeStats {
    const partitions = [...this.#tasks.entries()].map(([key, task]) => task.stats(this.#paused.has(key)));
    const waiting: WaitingPartition[] = [
      ...[...this.#claiming.values()].map(({ tp, since }) => ({ topic: tp.topic, partition: tp.partition, reason: 'claiming it in the offset store', since })),
      ...[...this.#waiting.values()].map(({ tp, reason, since, needsOperator }) => ({
        topic: tp.topic,
        partition: tp.partition,
        reason,
        since,
        ...(needsOperator ? { needsOperator } : {}),
      })),
    ];
    return {
      partitions,
      waiting,
      inflightTotal: partitions.reduce((sum, partition) => sum + partition.inflight, 0),
      rebalances: this.#rebalances,
      running: this.#state === 'running',
    };
  }

  /** Records delivered for partitions without a task (not assigned yet, revoked, or waiting). */
  get droppedUnowned(): number {
    return this.#droppedUnowned;
  }

  /** Runs rebalance work one piece at a time, in the order it was asked for. */
  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#rebalanceChain.then(work, work);
    this.#rebalanceChain = next.catch(() => {});
    return next;
  }

  async #onAssigned(partitions: TopicPartition[]): Promise<PartitionOffset[]> {
    this.#rebalances++;
    this.#events.next({ type: 'rebalance', assigned: partitions.length, revoked: 0 });
    const owned = new Set([...partitions, ...this.#safeAssignment()].map(tpKey));
    for (const key of [...this.#assigned.keys()]) {
      // An eager rebalance reports the whole assignment again: a partition missing from it is lost.
      if (!owned.has(key)) await this.#forget(key, 'absent from the new assignment');
    }
    const wasPaused = partitions.filter((tp) => this.#paused.has(tpKey(tp)));
    for (const tp of partitions) {
      // Re-reported partitions restart from the database offset under a fresh claim.
      const key = tpKey(tp);
      if (this.#assigned.has(key)) await this.#forget(key, 'assigned again');
      this.#paused.delete(key);
      this.#assigned.set(key, { tp: { topic: tp.topic, partition: tp.partition }, generation: ++this.#generation });
      this.#claiming.set(key, { tp: { topic: tp.topic, partition: tp.partition }, since: Date.now() });
    }
    const starts = partitions.length === 0 ? [] : await this.#claimAndStart(partitions, 'assigned');
    for (const tp of partitions) this.#claiming.delete(tpKey(tp));
    this.#applyBackpressure();
    // We forgot these pauses above; make sure the consumer forgets them too.
    const nowFree = wasPaused.filter((tp) => !this.#paused.has(tpKey(tp)));
    if (nowFree.length > 0) this.#options.consumer.resume(nowFree);
    return starts;
  }

  #onRevoked(partitions: TopicPartition[]): void {
    this.#rebalances++;
    this.#events.next({ type: 'rebalance', assigned: 0, revoked: partitions.length });
    for (const tp of partitions) void this.#forget(tpKey(tp), 'revoked');
    this.#applyBackpressure();
  }

  /** The partition is no longer assigned: its task (if any) is dropped, its retries cancelled. */
  async #forget(key: string, reason: string): Promise<void> {
    this.#assigned.delete(key);
    this.#claiming.delete(key);
    const waiting = this.#waiting.get(key);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.#events.next({ type: 'retry-cancelled', topic: waiting.tp.topic, partition: waiting.tp.partition, reason });
    }
    this.#waiting.delete(key);
    this.#failures.delete(key);
    this.#reportedBeyondEnd.delete(key);
    this.#paused.delete(key);
    const task = this.#tasks.get(key);
    if (task) await this.#revoke(task, reason);
  }

  async #revoke(task: PartitionTask, reason: string): Promise<void> {
    const key = tpKey(task);
    if (this.#tasks.get(key) === task) this.#tasks.delete(key);
    const droppedRecords = task.inflight;
    this.#logger.info('partition revoked: dropping uncommitted work', { topic: task.topic, partition: task.partition, reason, droppedRecords });
    this.#events.next({ type: 'partition-revoked', topic: task.topic, partition: task.partition, droppedRecords });
    await task.stop();
  }

  /**
   * Claims the partitions and starts a task for each claim still current when it lands. With
   * `assigned` the start offsets go back to the consumer through onAssigned's result; with
   * `reclaimed` (a retry) the consumer is told to seek there. Partitions that cannot start wait.
   */
  async #claimAndStart(partitions: TopicPartition[], how: 'assigned' | 'reclaimed'): Promise<PartitionOffset[]> {
    if (this.#state !== 'running') return [];
    const generations = new Map(partitions.map((tp) => [tpKey(tp), this.#assigned.get(tpKey(tp))?.generation]));
    let claims: ClaimedPartition[];
    try {
      claims = await this.#options.claimer.claim(partitions);
    } catch (error) {
      for (const tp of partitions) {
        if (this.#isCurrent(tpKey(tp), generations.get(tpKey(tp)))) this.#waitAndRetry(tp, `claim failed: ${errorMessage(error)}; retrying`);
      }
      return [];
    }
    const bounds = await this.#bounds(claims);
    const starts: PartitionOffset[] = [];
    for (const claim of claims) {
      const key = tpKey(claim);
      const generation = generations.get(key);
      if (!this.#isCurrent(key, generation)) {
        await this.#release(claim, 'the partition moved on while its claim was in flight');
        continue;
      }
      const bound = bounds.get(key);
      if (bound !== undefined && claim.nextOffset > bound.logEndOffset) {
        this.#waitBeyondEnd(claim, bound);
        continue;
      }
      let task: PartitionTask;
      try {
        task = await this.#createTask(claim);
      } catch (error) {
        const node = (error as { node?: unknown }).node;
        this.#report(new StreamError('TASK_FAILED', `cannot start ${key}: ${errorMessage(error)}`, { cause: error, context: { topic: claim.topic, partition: claim.partition, offset: claim.nextOffset, epoch: claim.epoch } }), {
          node: typeof node === 'string' ? node : 'restore',
          topic: claim.topic,
          partition: claim.partition,
          offset: claim.nextOffset,
        });
        if (this.#isCurrent(key, generation)) this.#waitAndRetry(claim, `cannot start: ${errorMessage(error)}; retrying`);
        continue;
      }
      // Restoring the stores took time: the partition may have moved on meanwhile.
      if (!this.#isCurrent(key, generation)) {
        void task.stop();
        await this.#release(claim, 'the partition moved on while its task was starting');
        continue;
      }
      const waiting = this.#waiting.get(key);
      if (waiting) clearTimeout(waiting.timer);
      this.#waiting.delete(key);
      this.#claiming.delete(key);
      this.#reportedBeyondEnd.delete(key);
      this.#tasks.set(key, task);
      this.#tasks$.next(task);
      // Retention deleted records below the log start: read from there (the task accepts the gap).
      const readFrom = bound !== undefined && claim.nextOffset < bound.logStartOffset ? bound.logStartOffset : claim.nextOffset;
      if (readFrom !== claim.nextOffset) {
        this.#logger.warn('database offset below the log start: records were deleted by retention, continuing at the log start', {
          topic: claim.topic,
          partition: claim.partition,
          offset: claim.nextOffset,
          logStartOffset: readFrom,
        });
      }
      const start = { topic: claim.topic, partition: claim.partition, offset: readFrom };
      if (how === 'reclaimed') this.#options.consumer.seek([start]);
      starts.push(start);
      this.#logger.info(how === 'assigned' ? 'partition assigned' : 'partition claimed again', { topic: claim.topic, partition: claim.partition, offset: claim.nextOffset, epoch: claim.epoch });
      this.#events.next({ type: 'partition-assigned', topic: claim.topic, partition: claim.partition, nextOffset: claim.nextOffset, epoch: claim.epoch });
    }
    return starts;
  }

  #createTask(claim: ClaimedPartition): Promise<PartitionTask> {
    const key = tpKey(claim);
    let created: PartitionTask | undefined;
    const promise = PartitionTask.create({
      topology: this.#options.topology,
      claim,
      committer: this.#options.committer,
      batchMaxRecords: this.#options.config.batchMaxRecords,
      commitIntervalMs: this.#options.config.commitIntervalMs,
      scheduler: this.#scheduler,
      logger: this.#options.logger,
      retry: this.#options.retry,
      groups: this.#groups,
      onEvent: (event) => this.#onTaskEvent(key, created, event),
    });
    return promise.then((task) => {
      created = task;
      return task;
    });
  }

  /** Whether a claim made for assignment `generation` may still be used. */
  #isCurrent(key: string, generation: number | undefined): boolean {
    if (this.#state !== 'running' || generation === undefined) return false;
    if (this.#assigned.get(key)?.generation !== generation) return false;
    // The consumer's own view: a revocation it has not reported yet (still queued) counts too.
    return this.#safeAssignment().some((tp) => tpKey(tp) === key);
  }

  async #release(claim: ClaimedPartition, why: string): Promise<void> {
    this.#logger.info('claim released: not starting the partition', { topic: claim.topic, partition: claim.partition, epoch: claim.epoch, why });
    this.#events.next({ type: 'claim-released', topic: claim.topic, partition: claim.partition, epoch: claim.epoch });
    await this.#options.claimer.release?.([claim]).catch((error: unknown) =>
      this.#logger.warn('claim release failed (harmless: the next claim fences it)', { topic: claim.topic, partition: claim.partition, error: errorMessage(error) }),
    );
  }

  async #bounds(claims: ClaimedPartition[]): Promise<Map<string, PartitionBounds>> {
    if (!this.#options.partitionBounds || claims.length === 0) return new Map();
    try {
      return new Map((await this.#options.partitionBounds(claims)).map((bound) => [tpKey(bound), bound]));
    } catch (error) {
      // The broker cannot say now; fetching will tell (an out-of-range fetch comes back here).
      this.#logger.debug('partition bounds unknown; starting without the check', { partitions: claims.map(tpKey), error: errorMessage(error) });
      return new Map();
    }
  }

  #waitBeyondEnd(claim: ClaimedPartition, bound: PartitionBounds): void {
    const key = tpKey(claim);
    const command = this.#options.resetCommand?.(claim) ?? 'reset the partition\'s stored offset';
    const reason =
      `database offset ${claim.nextOffset} is beyond the end offset ${bound.logEndOffset} of ${claim.topic} partition ${claim.partition} ` +
      `(topic recreated or broker data wiped?); waiting, re-checked every ${Math.round(this.#offsetCheckIntervalMs / 1000)} s. To continue run: ${command}`;
    if (this.#reportedBeyondEnd.get(key) !== claim.nextOffset) {
      this.#reportedBeyondEnd.set(key, claim.nextOffset);
      this.#logger.error(`${key}: ${reason}`, { topic: claim.topic, partition: claim.partition, offset: claim.nextOffset, logEndOffset: bound.logEndOffset });
    }
    this.#wait(claim, reason, this.#offsetCheckIntervalMs, { needsOperator: true });
  }

  get #offsetCheckIntervalMs(): number {
    return this.#options.offsetCheckIntervalMs ?? 10_000;
  }

  /** Waits with a backoff that grows with each failure since the partition last committed. */
  #waitAndRetry(tp: TopicPartition, reason: string, minDelayMs = 0): void {
    const key = tpKey(tp);
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delayMs = Math.max(minDelayMs, backoffDelay(this.#retryPolicy, failures));
    this.#logger.warn(`${key}: ${reason}`, { topic: tp.topic, partition: tp.partition, attempt: failures, delayMs });
    this.#wait(tp, reason, delayMs);
  }

  /** Lists the partition as waiting (kept paused) and claims it again after `delayMs`. */
  #wait(tp: TopicPartition, reason: string, delayMs: number, { needsOperator = false } = {}): void {
    const key = tpKey(tp);
    const assignment = this.#assigned.get(key);
    if (!assignment || this.#state !== 'running') return;
    const previous = this.#waiting.get(key);
    clearTimeout(previous?.timer);
    const timer = setTimeout(() => void this.#serialized(() => this.#retry(key, assignment.generation)), delayMs);
    timer.unref();
    const claimingSince = this.#claiming.get(key)?.since;
    this.#claiming.delete(key);
    this.#waiting.set(key, { tp: assignment.tp, reason, since: previous?.since ?? claimingSince ?? Date.now(), timer, needsOperator });
    this.#events.next({ type: 'partition-waiting', topic: tp.topic, partition: tp.partition, reason, retryInMs: delayMs });
    this.#applyBackpressure();
  }

  async #retry(key: string, generation: number): Promise<void> {
    const assignment = this.#assigned.get(key);
    if (this.#state !== 'running' || assignment?.generation !== generation || this.#tasks.has(key)) return;
    await this.#claimAndStart([assignment.tp], 'reclaimed');
    this.#applyBackpressure();
  }

  #onBatch(batch: RecordBatch): void {
    const task = this.#tasks.get(tpKey(batch));
    if (task === undefined || this.#state !== 'running') {
      this.#droppedUnowned += batch.records.length;
      this.#logger.debug('records for a partition without a running task dropped', { topic: batch.topic, partition: batch.partition, records: batch.records.length });
      return;
    }
    task.push(batch.records);
    this.#applyBackpressure();
  }

  #onCommitted(task: PartitionTask, event: BatchCommittedEvent): void {
    this.#failures.delete(tpKey(task));
    this.#events.next(event);
    this.#applyBackpressure();
    if (this.#options.commitToKafka === false) return;
    this.#kafkaCommitsDue.set(tpKey(task), { topic: task.topic, partition: task.partition, offset: event.nextOffset });
  }

  #onTaskEvent(key: string, task: PartitionTask | undefined, event: RuntimeEvent): void {
    this.#events.next(event);
    if (event.type !== 'fenced' && event.type !== 'partition-failed') return;
    // A task already dropped (revoked, replaced) may still report how its last commit ended.
    if (task === undefined || this.#tasks.get(key) !== task) return;
    this.#tasks.delete(key);
    if (event.type === 'fenced') {
      this.#waitAndRetry(event, `fenced at offset ${event.offset} (${event.error}); claiming it again`, this.#options.fencedReclaimDelayMs ?? 2_000);
      return;
    }
    const failure = new StreamError('TASK_FAILED', `${key} stopped at offset ${event.offset} in "${event.node}": ${errorMessage(event.error)}`, {
      cause: event.error,
      context: { node: event.node, topic: event.topic, partition: event.partition, offset: event.offset },
    });
    this.#report(failure, failure.context);
    this.#waitAndRetry(event, `task failed at offset ${event.offset} in "${event.node}": ${errorMessage(event.error)}; restarting from the database offset`);
  }

  #onConsumerError(error: unknown): void {
    this.#events.next({ type: 'consumer-error', error });
    if (error instanceof OffsetOutOfRangeError) {
      this.#onOutOfRange(error);
      return;
    }
    const failure = error instanceof StreamError ? error : new StreamError('SERVICE_UNAVAILABLE', `consumer error (the client keeps retrying): ${errorMessage(error)}`, { retriable: true, cause: error });
    this.#report(failure, { node: 'consumer' }, error instanceof ConsumerStoppedError ? 'error' : 'warn');
    if (error instanceof ConsumerStoppedError && this.#state === 'running') this.#fail(error);
  }

  /** The consumer stopped reading a partition at an offset the broker does not hold: check it again from the claim. */
  #onOutOfRange(error: OffsetOutOfRangeError): void {
    const key = tpKey(error);
    if (!this.#assigned.has(key) || this.#state !== 'running') return;
    const task = this.#tasks.get(key);
    if (task) {
      this.#tasks.delete(key);
      void task.stop();
    }
    this.#waitAndRetry(error, `fetch out of range: ${error.message}; checking the offsets again`);
  }

  #report(error: StreamError, fields: Record<string, unknown>, level: 'error' | 'warn' = 'error'): void {
    this.#logger[level](error.message, { ...fields, error: errorMessage(error.cause ?? error) });
    this.#errors.next(error);
    this.#options.onError?.(error);
  }

  /** Tells the consumer to pause or resume whatever changed since last time. */
  #applyBackpressure(): void {
    const partitions = new Map<string, TopicPartition>();
    for (const [key, task] of this.#tasks) partitions.set(key, { topic: task.topic, partition: task.partition });
    for (const [key, waiting] of this.#waiting) partitions.set(key, waiting.tp);

    const inflight = new Map([...this.#tasks].map(([key, task]) => [key, task.inflight]));
    const pressure = this.#gate.evaluate(inflight);
    const desired = new Map<string, PauseReason>();
    for (const key of partitions.keys()) {
      const state: PauseReason | undefined = this.#state !== 'running' ? 'stopping' : this.#waiting.has(key) ? 'halted' : pressure.get(key);
      if (state) desired.set(key, state);
    }

    const toPause: TopicPartition[] = [];
    const toResume: TopicPartition[] = [];
    for (const [key, tp] of partitions) {
      const wanted = desired.get(key);
      if (wanted && !this.#paused.has(key)) toPause.push(tp);
      if (!wanted && this.#paused.has(key)) toResume.push(tp);
      if (wanted) this.#paused.set(key, wanted);
      else this.#paused.delete(key);
    }
    if (toPause.length > 0) {
      this.#options.consumer.pause(toPause);
      for (const tp of toPause) {
        const reason = desired.get(tpKey(tp))!;
        this.#logger.debug('partition paused', { ...tp, reason });
        this.#events.next({ type: 'paused', ...tp, reason });
      }
    }
    if (toResume.length > 0) {
      this.#options.consumer.resume(toResume);
      for (const tp of toResume) {
        this.#logger.debug('partition resumed', { ...tp });
        this.#events.next({ type: 'resumed', ...tp });
      }
    }
  }

  #safeAssignment(): TopicPartition[] {
    try {
      return this.#options.consumer.assignment();
    } catch {
      return [];
    }
  }
}

/** Resolves true when `work` settles in time, false when `ms` passes first. */
async function raceTimeout(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
