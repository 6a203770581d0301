/**
 * The order source: generates orders on an open-loop clock, stores each batch in ONE
 * PostgreSQL transaction, publishes it as OrderCreated, and advances a publication watermark.
 *
 * The guarantee — every order stored AND published, never one without the other, even
 * after SIGKILL — rests on three rules:
 *  1. Nothing is published before the INSERT of its batch committed.
 *  2. The watermark (order_source_progress.published_seq) only moves to a seq whose batch and
 *     every earlier batch were acknowledged by the broker (PublicationTracker).
 *  3. On start, every stored order above the watermark is published again, in seq order,
 *     before anything new is generated (`recover`).
 * A crash between publish and watermark therefore re-publishes some orders: duplicates on the
 * topic exist only as identical events (same event id), which the processor dedupes by order id.
 *
 * Why the classic outbox-relay bug (`WHERE id > lastId` skipping rows whose ids commit out of
 * order) cannot happen: seqs are not drawn from a database sequence by concurrent
 * transactions. One process per source id (held by an advisory lock, see source-lock.ts)
 * assigns them and stores one batch at a time, so the batch n+1 transaction starts only after
 * batch n committed: seqs become visible strictly in order, and no reader can observe seq k+1
 * while seq k is still uncommitted.
 */

import { EventChannel } from '../../core/diagnostics.ts';
import { errorMessage, StreamError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { checkOptions } from '../../core/options.ts';
import { RETRY_POLICIES, type RetryPolicy, sleep, withRetry } from '../../core/retry.ts';
import type { OrderGenerator } from '../../processors/order-generator.ts';
import { type LatencyPercentiles, LatencyRecorder } from './latency-recorder.ts';
import { createSchedule, intendedTimeMs, nextBatch, ordersInDuration } from './open-loop-schedule.ts';
import type { OrderLedger, OrderPublisher, SourceOrder, SourceOwnership } from './ports.ts';
import { PublicationTracker } from './publication-tracker.ts';

export interface OrderSourceOptions {
  ledger: OrderLedger;
  publisher: OrderPublisher;
  generator: OrderGenerator;
  logger: Logger;
  ownership?: SourceOwnership;
  /** Epoch milliseconds (fractional allowed); injectable for tests. */
  clock?: () => number;
  /** Largest batch: one INSERT and one producer send (default 5000). */
  maxBatch?: number;
  /** Batches being published at once while the next one is stored (default 4). */
  maxInFlightBatches?: number;
  /** The watermark is written at most this often while running (default 100 ms). */
  watermarkIntervalMs?: number;
  /** Backoff between attempts when the database or the broker fail; attempts are unlimited. */
  retry?: Partial<Omit<RetryPolicy, 'maxAttempts'>>;
}

/** One run at a target rate: for a duration, or for a count of orders. */
export interface RunPlan {
  ratePerSecond: number;
  durationMs?: number;
  count?: number;
}

export interface RunControl {
  /** Stop scheduling new orders; what is stored still gets published (drain). */
  stop?: AbortSignal;
  /** Give up retrying too: what is stored but unpublished is left to the next start's recovery. */
  abort?: AbortSignal;
}

/** Counters a progress display polls; they only grow (except `backlog`). */
export interface SourceCounters {
  /** Orders the schedule had made due (offered load). */
  scheduled: number;
  stored: number;
  published: number;
  /** Lines of the published orders. */
  publishedLines: number;
  /** Failed attempts (database or broker) that were retried or gave up. */
  errors: number;
  /** Stored orders whose batch (or an earlier one) is not acknowledged yet. */
  backlog: number;
  watermark: number;
}

export interface RunResult {
  plan: RunPlan;
  startMs: number;
  endMs: number;
  /** Orders the plan offered. */
  offered: number;
  scheduled: number;
  stored: number;
  published: number;
  /** Lines of the orders published: over `published`, the mean lines per order. */
  publishedLines: number;
  errors: number;
  /**
   * Published orders per second: published / max(planned length, last ack - start - min latency).
   * The smallest latency is the pipeline's constant delay: it shifts every ack alike and says
   * nothing about throughput, while a source that falls behind acks ever later and scores lower.
   */
  achievedRate: number;
  latency: LatencyPercentiles;
  /** Whether the run ended because it was stopped (SIGINT) rather than by its plan. */
  stopped: boolean;
}

/** The database's sequence is not where this process left it: another writer used the source id. */
export class SourceSequenceConflictError extends StreamError {
  constructor(expectedNext: number, actualNext: number) {
    super('OWNERSHIP_CONFLICT', `the source's next seq is ${actualNext}, expected ${expectedNext}: another process wrote with this source id`, {
      context: { expectedNext, actualNext },
    });
  }
}

/** What the order source publishes on its diagnostics channel: metrics count from these. */
export type SourceDiagnostic = { type: 'stored'; orders: number } | { type: 'published'; orders: number };

export const sourceDiagnostics = new EventChannel<SourceDiagnostic>('kstream:source');

export class OrderSource {
  readonly #options: Required<Omit<OrderSourceOptions, 'ownership' | 'retry'>> & Pick<OrderSourceOptions, 'ownership'>;
  readonly #retry: RetryPolicy;
  readonly #log: Logger;
  #nextSeq: number | undefined;
  #tracker: PublicationTracker | undefined;
  #persistedWatermark = 0;
  #watermarkWrite: Promise<void> | undefined;
  #lastWatermarkWriteMs = 0;
  #latency = new LatencyRecorder();
  readonly #counters = { scheduled: 0, stored: 0, published: 0, publishedLines: 0, errors: 0 };
  /** Set once a run gave up mid-batch: the in-memory seq may then disagree with the database. */
  #broken = false;

  constructor(options: OrderSourceOptions) {
    checkOptions(
      'OrderSource',
      options,
      { ledger: 'object', publisher: 'object', generator: 'object', logger: 'object', clock: 'function', maxBatch: 'positive-integer', maxInFlightBatches: 'positive-integer', watermarkIntervalMs: 'non-negative-integer' },
      ['ledger', 'publisher', 'generator', 'logger'],
    );
    this.#options = {
      clock: () => performance.timeOrigin + performance.now(),
      maxBatch: 5000,
      maxInFlightBatches: 4,
      watermarkIntervalMs: 100,
      ...options,
    };
    this.#retry = { ...RETRY_POLICIES.source, ...options.retry, maxAttempts: Number.POSITIVE_INFINITY };
    this.#log = options.logger;
  }

  counters(): SourceCounters {
    const tracker = this.#tracker;
    return { ...this.#counters, backlog: tracker?.backlog ?? 0, watermark: tracker?.watermark ?? this.#persistedWatermark };
  }

  /** Latency percentiles since the previous call (for a live progress line). */
  takeIntervalLatency(): LatencyPercentiles {
    return this.#latency.takeInterval();
  }

  /**
   * Publishes every stored order above the watermark, in seq order, advancing the watermark
   * after each batch. Must run (under ownership) before the first `run`. Returns how many
   * orders were re-published.
   */
  async recover(control: RunControl = {}): Promise<number> {
    const { ledger, ownership, maxBatch } = this.#options;
    control = { ...control, abort: this.#abortSignal(control.abort) };
    await this.#attempt('check ownership', async () => ownership?.ensureHeld(), control.abort);
    let watermark = await this.#attempt('read watermark', () => ledger.publishedSeq(), control.abort);
    this.#persistedWatermark = watermark;
    let recovered = 0;
    for (;;) {
      const orders = await this.#attempt('read unpublished orders', () => ledger.readUnpublished(watermark, maxBatch), control.abort);
      if (orders.length === 0) break;
      await this.#attempt('re-publish', () => this.#options.publisher.publish(orders), control.abort);
      watermark = orders[orders.length - 1]!.seq;
      await this.#attempt('advance watermark', () => ledger.advancePublished(watermark), control.abort);
      this.#persistedWatermark = watermark;
      recovered += orders.length;
    }
    this.#nextSeq = await this.#attempt('read next seq', () => ledger.nextSeq(), control.abort);
    this.#tracker = new PublicationTracker(this.#nextSeq - 1);
    if (recovered > 0) this.#log.info('re-published stored orders above the watermark', { recovered, watermark });
    if (ownership?.lost?.aborted) throw ownership.lost.reason;
    return recovered;
  }

  /** Offers orders at `plan.ratePerSecond` on an open-loop clock; resolves once all stored orders are published (or the run is aborted). */
  async run(plan: RunPlan, control: RunControl = {}): Promise<RunResult> {
    if (this.#tracker === undefined || this.#nextSeq === undefined) throw new Error('OrderSource.run() before recover()');
    if (this.#broken) throw new Error('OrderSource cannot run again after an aborted run; restart the process');
    const { clock, maxBatch, maxInFlightBatches } = this.#options;
    const lost = this.#options.ownership?.lost;
    // Losing ownership aborts like control.abort: no new batch, no retry of the current one.
    control = { ...control, abort: this.#abortSignal(control.abort) };
    const wake = control.stop && control.abort ? AbortSignal.any([control.stop, control.abort]) : (control.stop ?? control.abort);
    const offered = plan.count ?? ordersInDuration(plan.ratePerSecond, plan.durationMs ?? 0);
    const startMs = clock();
    const deadlineMs = plan.count === undefined ? startMs + (plan.durationMs ?? 0) : Number.POSITIVE_INFINITY;
    const schedule = createSchedule(startMs, plan.ratePerSecond, offered);
    const intendedAt = (index: number) => intendedTimeMs(schedule, index);
    const before = { ...this.#counters };
    const latency = new LatencyRecorder();
    const inFlight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let scheduled = 0;
    let lastAckMs = startMs;

    while (!control.stop?.aborted && !control.abort?.aborted && failure === undefined) {
      const now = clock();
      const batch = nextBatch(schedule, scheduled, now, maxBatch);
      if (batch.finished) break;
      // Past the deadline every remaining order is due: take one last batch, then stop (a
      // source that fell further behind leaves the rest unscheduled: offered > scheduled).
      const pastDeadline = now >= deadlineMs;
      if (batch.count === 0) {
        if (pastDeadline) break;
        await sleep(Math.max(1, batch.waitMs), wake);
        continue;
      }
      const orders = this.#generate(batch.count, now);
      scheduled += batch.count;
      this.#counters.scheduled += batch.count;
      try {
        await this.#store(orders, control.abort);
      } catch (error) {
        failure = { error };
        break;
      }
      while (inFlight.size >= maxInFlightBatches) await Promise.race(inFlight);
      const task: Promise<void> = this.#publish(orders, control.abort)
        .then((ackMs) => {
          lastAckMs = Math.max(lastAckMs, ackMs);
          latency.recordBatch(intendedAt, batch.firstIndex, batch.count, ackMs);
          this.#latency.recordBatch(intendedAt, batch.firstIndex, batch.count, ackMs);
        })
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (pastDeadline) break;
    }
    const loopEndMs = clock();
    await Promise.all(inFlight);
    await this.#flushWatermark(control.abort);
    if (lost?.aborted) {
      this.#broken = true;
      throw lost.reason;
    }
    if (failure !== undefined) {
      this.#broken = true;
      throw failure.error;
    }
    const endMs = Math.max(lastAckMs, startMs + 1);
    const published = this.#counters.published - before.published;
    const runLatency = latency.total();
    const plannedMs = Math.min(plan.count === undefined ? (plan.durationMs ?? 0) : (offered * 1000) / plan.ratePerSecond, loopEndMs - startMs);
    const busyMs = Math.max(1, plannedMs, endMs - startMs - runLatency.min);
    return {
      plan,
      startMs,
      endMs,
      offered,
      scheduled,
      stored: this.#counters.stored - before.stored,
      published,
      publishedLines: this.#counters.publishedLines - before.publishedLines,
      errors: this.#counters.errors - before.errors,
      achievedRate: (published * 1000) / busyMs,
      latency: runLatency,
      stopped: Boolean(control.stop?.aborted || control.abort?.aborted),
    };
  }

  #generate(count: number, nowMs: number): SourceOrder[] {
    const { generator } = this.#options;
    const createdAtMs = Math.floor(nowMs);
    const orders = new Array<SourceOrder>(count);
    let seq = this.#nextSeq!;
    for (let i = 0; i < count; i++) orders[i] = { ...generator.next(createdAtMs), seq: seq++, createdAtMs };
    this.#nextSeq = seq;
    return orders;
  }

  /**
   * Commits the batch, retrying until it is stored. After a failed attempt the COMMIT may
   * still have happened (the connection died after the server committed), and after the lock
   * was lost and re-acquired another writer may have used this source id meanwhile; in both
   * cases the database is asked where the sequence stands before inserting again.
   */
  async #store(orders: SourceOrder[], abort: AbortSignal | undefined): Promise<void> {
    const { ledger, ownership } = this.#options;
    try {
      await this.#attempt(
        'store orders',
        async (attempt) => {
          const reacquired = (await ownership?.ensureHeld()) === true;
          if ((attempt > 1 || reacquired) && (await this.#isAlreadyStored(orders))) return;
          await ledger.insert(orders);
        },
        abort,
      );
    } catch (error) {
      // The database may or may not hold this batch now; only a fresh start can tell.
      this.#broken = true;
      throw error;
    }
    this.#tracker!.stored(orders[0]!.seq, orders[orders.length - 1]!.seq);
    this.#counters.stored += orders.length;
    sourceDiagnostics.publish({ type: 'stored', orders: orders.length });
  }

  /** Whether this exact batch is committed already; throws if the sequence moved in any other way. */
  async #isAlreadyStored(orders: SourceOrder[]): Promise<boolean> {
    const { ledger } = this.#options;
    const first = orders[0]!;
    const last = orders[orders.length - 1]!;
    const next = await ledger.nextSeq();
    if (next === first.seq) return false;
    if (next === last.seq + 1) {
      const [stored] = await ledger.readUnpublished(last.seq - 1, 1);
      if (stored?.orderId === last.orderId) return true;
    }
    throw new SourceSequenceConflictError(first.seq, next);
  }

  /** Publishes until acknowledged; returns the acknowledgement time. */
  async #publish(orders: SourceOrder[], abort: AbortSignal | undefined): Promise<number> {
    await this.#attempt('publish orders', () => this.#options.publisher.publish(orders), abort);
    const ackMs = this.#options.clock();
    this.#tracker!.published(orders[orders.length - 1]!.seq);
    this.#counters.published += orders.length;
    for (const order of orders) this.#counters.publishedLines += order.lines.length;
    sourceDiagnostics.publish({ type: 'published', orders: orders.length });
    this.#maybeWriteWatermark(ackMs);
    return ackMs;
  }

  /** Writes the watermark in the background at most every `watermarkIntervalMs`, one write at a time. */
  #maybeWriteWatermark(nowMs: number): void {
    const target = this.#tracker!.watermark;
    if (this.#watermarkWrite || target <= this.#persistedWatermark) return;
    if (nowMs - this.#lastWatermarkWriteMs < this.#options.watermarkIntervalMs) return;
    this.#lastWatermarkWriteMs = nowMs;
    this.#watermarkWrite = this.#options.ledger
      .advancePublished(target)
      .then(() => {
        this.#persistedWatermark = Math.max(this.#persistedWatermark, target);
      })
      .catch((error: unknown) => {
        // Harmless: a later write (or the final flush) moves it past this point anyway.
        this.#counters.errors++;
        this.#log.warn('could not advance the publication watermark; will retry', { error: errorMessage(error) });
      })
      .finally(() => {
        this.#watermarkWrite = undefined;
      });
  }

  async #flushWatermark(abort: AbortSignal | undefined): Promise<void> {
    await this.#watermarkWrite;
    const target = this.#tracker!.watermark;
    if (target <= this.#persistedWatermark) return;
    try {
      await this.#attempt('advance watermark', () => this.#options.ledger.advancePublished(target), abort);
      this.#persistedWatermark = target;
    } catch (error) {
      // Only costs re-publishing (identical events) on the next start.
      this.#log.warn('watermark not advanced at the end of the run', { watermark: target, error: errorMessage(error) });
    }
  }

  /** The caller's abort signal joined with the ownership's `lost` signal (either may be absent). */
  #abortSignal(abort: AbortSignal | undefined): AbortSignal | undefined {
    const lost = this.#options.ownership?.lost;
    if (!lost) return abort;
    return abort ? AbortSignal.any([abort, lost]) : lost;
  }

  /** Retries `operation` with backoff until it succeeds, fails for good, or `abort` fires; counts every failure. */
  #attempt<T>(what: string, operation: (attempt: number) => Promise<T>, abort: AbortSignal | undefined): Promise<T> {
    return withRetry(operation, {
      policy: this.#retry,
      signal: abort,
      onRetry: (error, failures, delayMs) => {
        this.#counters.errors++;
        this.#log.warn(`${what} failed; retrying`, { attempt: failures, delayMs, error: errorMessage(error) });
      },
    }).catch((error: unknown) => {
      this.#counters.errors++;
      throw error;
    });
  }
}
