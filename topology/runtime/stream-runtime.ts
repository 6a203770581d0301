/**
 * Runs a topology on a consumer group: one PartitionTask per assigned partition, merged into
 * one RxJS pipeline (`tasks$ → mergeMap(task => task.committed$)`), so partitions run in
 * parallel while each stays serial. It claims partitions from the database offset store on
 * assignment, drops tasks on revocation, pauses fetching under backpressure and reports what
 * happens as events.
 */
import { Subject, type Observable, type SchedulerLike, type Subscription, asyncScheduler, mergeMap, tap } from 'rxjs';
import { StreamError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { type RetryPolicy, withRetry } from '../../core/retry.ts';
import { type GroupConsumer, type PartitionOffset, type RecordBatch, type TopicPartition, tpKey } from '../../kafka/port.ts';
import type { Topology } from '../builder.ts';
import { BackpressureGate } from './backpressure.ts';
import { PartitionTask } from './partition-task.ts';
import type { BatchCommittedEvent, Committer, PartitionClaimer, PauseReason, RuntimeConfig, RuntimeEvent, RuntimeStats } from './types.ts';

export interface StreamRuntimeOptions {
  topology: Topology;
  consumer: GroupConsumer;
  claimer: PartitionClaimer;
  committer: Committer;
  config: RuntimeConfig;
  logger: Logger;
  /** Closes time-based batches; virtual time in tests. */
  scheduler?: SchedulerLike;
  /** For commits and store loads (default: retry until success or stop) and claims (default: core/retry's). */
  retry?: Partial<RetryPolicy>;
  /** A partition stopped for good (non-retriable failure) or the consumer failed. */
  onFatal?: (error: StreamError) => void;
  /** Also commit offsets to Kafka, for lag tools only. Default true. */
  commitToKafka?: boolean;
  /**
   * How often those informational commits go out (default 5000 ms), with the latest offset of
   * each partition. Not per batch: a client may rejoin its group when a commit fails during a
   * rebalance, and hundreds of commits a second then keep the group rebalancing.
   */
  kafkaCommitIntervalMs?: number;
}

export class StreamRuntime {
  readonly events$: Observable<RuntimeEvent>;
  readonly errors$: Observable<StreamError>;

  readonly #options: StreamRuntimeOptions;
  readonly #logger: Logger;
  readonly #scheduler: SchedulerLike;
  readonly #events = new Subject<RuntimeEvent>();
  readonly #errors = new Subject<StreamError>();
  readonly #tasks$ = new Subject<PartitionTask>();
  readonly #tasks = new Map<string, PartitionTask>();
  /** Partitions still assigned whose task halted (fenced or failed): kept paused. */
  readonly #halted = new Map<string, TopicPartition>();
  /** What the consumer was last told, per partition. */
  readonly #paused = new Map<string, PauseReason>();
  readonly #gate: BackpressureGate;
  #pipeline: Subscription | undefined;
  #rebalanceChain: Promise<unknown> = Promise.resolve();
  #rebalances = 0;
  #droppedUnowned = 0;
  #state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  /** Latest committed offset per partition not yet told to Kafka. */
  readonly #kafkaCommitsDue = new Map<string, PartitionOffset>();
  #kafkaCommitTimer: NodeJS.Timeout | undefined;

  constructor(options: StreamRuntimeOptions) {
    this.#options = options;
    this.#logger = options.logger.child('runtime');
    this.#scheduler = options.scheduler ?? asyncScheduler;
    this.#gate = new BackpressureGate(options.config);
    this.events$ = this.#events.asObservable();
    this.errors$ = this.#errors.asObservable();
  }

  async start(): Promise<void> {
    if (this.#state !== 'new') throw new StreamError('CONFIG_INVALID', `runtime cannot start: it is ${this.#state}`);
    this.#state = 'running';
    this.#pipeline = this.#tasks$
      .pipe(mergeMap((task) => task.committed$.pipe(tap((event) => this.#onCommitted(task, event)))))
      .subscribe();
    try {
      await this.#options.consumer.start({
        onAssigned: (partitions) => this.#serialized(() => this.#onAssigned(partitions)),
        onRevoked: (partitions) => this.#onRevoked(partitions),
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
    return {
      partitions,
      waiting: [],
      inflightTotal: partitions.reduce((sum, partition) => sum + partition.inflight, 0),
      rebalances: this.#rebalances,
      running: this.#state === 'running',
    };
  }

  /** Records delivered for partitions without a task (not assigned yet, revoked, or halted). */
  get droppedUnowned(): number {
    return this.#droppedUnowned;
  }

  #serialized<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#rebalanceChain.then(work, work);
    this.#rebalanceChain = next.catch(() => {});
    return next;
  }

  async #onAssigned(partitions: TopicPartition[]): Promise<PartitionOffset[]> {
    this.#rebalances++;
    const owned = new Set([...partitions, ...this.#safeAssignment()].map(tpKey));
    for (const [key, task] of this.#tasks) {
      // An eager rebalance reports the whole assignment again: a task missing from it lost its partition.
      if (!owned.has(key)) await this.#revoke(task, 'absent from the new assignment');
    }
    const wasPaused = partitions.filter((tp) => this.#paused.has(tpKey(tp)));
    for (const tp of partitions) {
      // Re-reported partitions restart from the database offset under a fresh claim.
      const running = this.#tasks.get(tpKey(tp));
      if (running) await this.#revoke(running, 'assigned again');
      this.#halted.delete(tpKey(tp));
      this.#paused.delete(tpKey(tp));
    }
    if (partitions.length === 0) return [];

    const claims = await withRetry(() => this.#options.claimer.claim(partitions), {
      policy: this.#options.retry,
      onRetry: (error, failures, delayMs) =>
        this.#logger.warn('claim failed, retrying', { node: 'claim', partitions: partitions.map(tpKey), attempt: failures, delayMs, error: errorMessage(error) }),
    }).catch((error: unknown) => {
      const failure = new StreamError('SERVICE_UNAVAILABLE', `cannot claim ${partitions.map(tpKey).join(', ')}: ${errorMessage(error)}`, { cause: error });
      this.#reportFatal(failure, { node: 'claim', partitions: partitions.map(tpKey) });
      throw failure;
    });

    const starts: PartitionOffset[] = [];
    for (const claim of claims) {
      const key = tpKey(claim);
      try {
        const task = await PartitionTask.create({
          topology: this.#options.topology,
          claim,
          committer: this.#options.committer,
          batchMaxRecords: this.#options.config.batchMaxRecords,
          commitIntervalMs: this.#options.config.commitIntervalMs,
          scheduler: this.#scheduler,
          logger: this.#options.logger,
          retry: this.#options.retry,
          onEvent: (event) => this.#onTaskEvent(key, event),
        });
        if (this.#state !== 'running') {
          void task.stop();
          continue;
        }
        this.#tasks.set(key, task);
        this.#tasks$.next(task);
        starts.push({ topic: claim.topic, partition: claim.partition, offset: claim.nextOffset });
        this.#logger.info('partition assigned', { topic: claim.topic, partition: claim.partition, offset: claim.nextOffset, epoch: claim.epoch });
        this.#events.next({ type: 'partition-assigned', topic: claim.topic, partition: claim.partition, nextOffset: claim.nextOffset, epoch: claim.epoch });
      } catch (error) {
        this.#halted.set(key, { topic: claim.topic, partition: claim.partition });
        const node = (error as { node?: unknown }).node;
        const failure = new StreamError('PROCESSOR_FAILED', `cannot start ${key}: ${errorMessage(error)}`, { cause: error });
        this.#reportFatal(failure, { node: typeof node === 'string' ? node : 'restore', topic: claim.topic, partition: claim.partition, offset: claim.nextOffset });
      }
    }
    this.#applyBackpressure();
    // We forgot these pauses above; make sure the consumer forgets them too.
    const nowFree = wasPaused.filter((tp) => !this.#paused.has(tpKey(tp)));
    if (nowFree.length > 0) this.#options.consumer.resume(nowFree);
    return starts;
  }

  #onRevoked(partitions: TopicPartition[]): void {
    this.#rebalances++;
    for (const tp of partitions) {
      const key = tpKey(tp);
      this.#halted.delete(key);
      this.#paused.delete(key);
      const task = this.#tasks.get(key);
      if (task) void this.#revoke(task, 'revoked');
    }
    this.#applyBackpressure();
  }

  async #revoke(task: PartitionTask, reason: string): Promise<void> {
    const key = tpKey(task);
    if (this.#tasks.get(key) === task) this.#tasks.delete(key);
    this.#paused.delete(key);
    const droppedRecords = task.inflight;
    this.#logger.info('partition revoked: dropping uncommitted work', { topic: task.topic, partition: task.partition, reason, droppedRecords });
    this.#events.next({ type: 'partition-revoked', topic: task.topic, partition: task.partition, droppedRecords });
    await task.stop();
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
    this.#events.next(event);
    this.#applyBackpressure();
    if (this.#options.commitToKafka === false) return;
    this.#kafkaCommitsDue.set(tpKey(task), { topic: task.topic, partition: task.partition, offset: event.nextOffset });
  }

  #onTaskEvent(key: string, event: RuntimeEvent): void {
    this.#events.next(event);
    if (event.type !== 'fenced' && event.type !== 'partition-failed') return;
    const task = this.#tasks.get(key);
    if (task) this.#tasks.delete(key);
    this.#halted.set(key, { topic: event.topic, partition: event.partition });
    if (event.type === 'partition-failed') {
      const failure = new StreamError('PROCESSOR_FAILED', `${key} stopped at offset ${event.offset} in "${event.node}": ${errorMessage(event.error)}`, {
        cause: event.error,
        context: { node: event.node, topic: event.topic, partition: event.partition, offset: event.offset },
      });
      this.#reportFatal(failure, failure.context);
    }
    this.#applyBackpressure();
  }

  #onConsumerError(error: unknown): void {
    this.#events.next({ type: 'consumer-error', error });
    const failure = error instanceof StreamError ? error : new StreamError('SERVICE_UNAVAILABLE', `consumer failed: ${errorMessage(error)}`, { cause: error });
    this.#reportFatal(failure, { node: 'consumer' });
  }

  #reportFatal(error: StreamError, fields: Record<string, unknown>): void {
    this.#logger.error(error.message, { ...fields, error: errorMessage(error.cause ?? error) });
    this.#errors.next(error);
    this.#options.onFatal?.(error);
  }

  /** Tells the consumer to pause or resume whatever changed since last time. */
  #applyBackpressure(): void {
    const partitions = new Map<string, TopicPartition>();
    for (const [key, task] of this.#tasks) partitions.set(key, { topic: task.topic, partition: task.partition });
    for (const [key, tp] of this.#halted) partitions.set(key, tp);

    const inflight = new Map([...this.#tasks].map(([key, task]) => [key, task.inflight]));
    const pressure = this.#gate.evaluate(inflight);
    const desired = new Map<string, PauseReason>();
    for (const key of partitions.keys()) {
      const state: PauseReason | undefined = this.#state !== 'running' ? 'stopping' : this.#halted.has(key) ? 'halted' : pressure.get(key);
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
