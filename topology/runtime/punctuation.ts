/**
 * Punctuation, as Kafka Streams' ProcessorContext#schedule: a task's punctuators, its stream
 * time, and what of them a batch changes.
 *
 * A punctuation never takes a path of its own to the database: what it writes and forwards
 * commits in a batch's transaction (offset fence, store changes, outbox rows). A stream-time
 * punctuator runs inside the batch of the record that advanced stream time, right after that
 * record. A wall-clock punctuator is a timer on the task's scheduler that queues a
 * WallClockTick into the task's pipeline among its records: batched with them (a tick counts
 * towards a batch's size like a record), it runs in its place in the batch, so never while
 * another batch is processing or committing. A batch of ticks alone (an idle task) commits as
 * a batch of zero records: the offset stays where it is (firstOffset = nextOffset = the
 * committed offset, lastOffset one below), the fence still checks epoch and offset, and
 * flush() is not called, as no record batch ends; if its punctuators wrote and forwarded
 * nothing, it commits nothing (no transaction for a punctuator with nothing to do). While a timer's tick waits, its later
 * firings are skipped (missed punctuations are not made up, as in Kafka Streams), so a task
 * that cannot commit does not pile ticks up.
 *
 * A batch runs again (stale state, a split) from the committed state with processors built
 * afresh, whose init() schedules again. A schedule is known by its node and its place among
 * that node's schedule() calls, so the new punctuator takes the old one's place with the state
 * the last commit left. Stream time, when each stream-time punctuator last fired, and
 * cancellations are staged with the batch like store writes: committed with it, or dropped
 * with it and done again by the rerun, which so fires the same punctuators at the same times
 * on the same state. A cancel() by a record or punctuator that fails is dropped with its writes.
 *
 * Stream time is the largest timestamp of the records the task processed successfully (a dead
 * letter does not move it, so a split that isolates a record fires what the first attempt
 * fired for the others). A stream-time punctuator fires at the first record processed (as in
 * Kafka Streams, punctuation starts as soon as there is data), then whenever stream time is at
 * least intervalMs past the stream time it last fired at. Stream time is not stored: a new
 * task (a rebalance, a restart) starts it afresh.
 *
 * A zero-record batch moves no offset, so after an attempt whose acknowledgement was lost the
 * sink cannot tell it committed: the retry finds the punctuation's store changes stale and runs
 * it again on the committed result. Its outputs are kept once (their event ids are the same);
 * its store writes should therefore set values rather than add to them.
 */
import type { SchedulerAction, SchedulerLike, Subscription } from 'rxjs';
import { StreamError } from '../../core/errors.ts';
import type { Cancellable, PunctuationType, Punctuator } from '../processor-api.ts';

/** A wall-clock punctuation fallen due, queued in the task's pipeline among its records. */
export interface WallClockTick {
  readonly kind: 'wall-clock-tick';
  /** The schedule's id. */
  readonly schedule: string;
  /** The scheduler's time when the timer fired: what the punctuator gets, however often its batch runs. */
  readonly time: number;
}

export function isWallClockTick(item: object): item is WallClockTick {
  return (item as Partial<WallClockTick>).kind === 'wall-clock-tick';
}

export interface Schedule {
  /** `<node>#<n>`: the node's n-th schedule() call in its init(). */
  readonly id: string;
  readonly node: string;
  readonly type: PunctuationType;
  readonly intervalMs: number;
  /** Of the processor instance built last. */
  punctuator: Punctuator;
}

interface WallClockTimer {
  subscription: Subscription;
  /** A tick is in the pipeline and not yet taken into a batch. */
  tickQueued: boolean;
}

/** What a batch changes and its commit makes durable. */
interface ScheduleState {
  streamTime: number | undefined;
  /** Per stream-time schedule id, the stream time it last fired at. */
  firedAt: Map<string, number>;
  cancelled: Set<string>;
}

function copyOf(state: ScheduleState): ScheduleState {
  return { streamTime: state.streamTime, firedAt: new Map(state.firedAt), cancelled: new Set(state.cancelled) };
}

export class Punctuations {
  readonly #scheduler: SchedulerLike;
  readonly #schedules = new Map<string, Schedule>();
  readonly #timers = new Map<string, WallClockTimer>();
  /** Where ticks go while the timers run (the task's pipeline). */
  #queueTick: ((tick: WallClockTick) => void) | undefined;
  #committed: ScheduleState = { streamTime: undefined, firedAt: new Map(), cancelled: new Set() };
  #batch: ScheduleState = copyOf(this.#committed);
  /** Cancellations by the record or punctuator running now: they join the batch only if it succeeds. */
  readonly #pendingCancels = new Set<string>();

  constructor(scheduler: SchedulerLike) {
    this.#scheduler = scheduler;
  }

  /** Registers schedule `id`, or hands it to the punctuator of a processor built afresh. */
  schedule(id: string, node: string, intervalMs: number, type: PunctuationType, punctuator: Punctuator): Cancellable {
    if (!Number.isFinite(intervalMs) || intervalMs < 1) {
      throw new RangeError(`schedule() of "${node}": intervalMs must be a finite number of at least 1, not ${intervalMs}`);
    }
    if (type !== 'stream-time' && type !== 'wall-clock') {
      throw new TypeError(`schedule() of "${node}": the type must be 'stream-time' or 'wall-clock', not ${String(type)}`);
    }
    const known = this.#schedules.get(id);
    if (known === undefined) {
      const schedule = { id, node, type, intervalMs, punctuator };
      this.#schedules.set(id, schedule);
      if (type === 'wall-clock' && this.#queueTick) this.#startTimer(schedule);
    } else if (known.type !== type || known.intervalMs !== intervalMs) {
      throw new StreamError(
        'TOPOLOGY_INVALID',
        `"${node}" scheduled ${type} every ${intervalMs} ms where its earlier instance scheduled ${known.type} every ${known.intervalMs} ms: init() must schedule the same punctuators every time`,
      );
    } else known.punctuator = punctuator;
    return { cancel: () => this.#pendingCancels.add(id) };
  }

  /** Starts the wall-clock timers: each queues its ticks with `queueTick`. */
  startTimers(queueTick: (tick: WallClockTick) => void): void {
    this.#queueTick = queueTick;
    for (const schedule of this.#schedules.values()) {
      if (schedule.type === 'wall-clock' && !this.#committed.cancelled.has(schedule.id)) this.#startTimer(schedule);
    }
  }

  stopTimers(): void {
    this.#queueTick = undefined;
    for (const timer of this.#timers.values()) timer.subscription.unsubscribe();
    this.#timers.clear();
  }

  /** A tick was taken into a batch: its timer may queue the next one. */
  taken(tick: WallClockTick): void {
    const timer = this.#timers.get(tick.schedule);
    if (timer) timer.tickQueued = false;
  }

  /** The schedule a tick fires, unless it is cancelled (committed, or earlier in this batch). */
  scheduleOf(tick: WallClockTick): Schedule | undefined {
    return this.#batch.cancelled.has(tick.schedule) ? undefined : this.#schedules.get(tick.schedule);
  }

  /** The batch's stream time so far (undefined before the first record processed). */
  get streamTime(): number | undefined {
    return this.#batch.streamTime;
  }

  /**
   * A record was processed successfully: stream time moves to its timestamp if that is later.
   * Returns the stream-time schedules due now, marked as fired.
   */
  recordProcessed(timestamp: number): Schedule[] {
    const state = this.#batch;
    const streamTime = state.streamTime === undefined ? timestamp : Math.max(state.streamTime, timestamp);
    state.streamTime = streamTime;
    const due: Schedule[] = [];
    for (const schedule of this.#schedules.values()) {
      if (schedule.type !== 'stream-time' || state.cancelled.has(schedule.id)) continue;
      const firedAt = state.firedAt.get(schedule.id);
      if (firedAt !== undefined && streamTime - firedAt < schedule.intervalMs) continue;
      state.firedAt.set(schedule.id, streamTime);
      due.push(schedule);
    }
    return due;
  }

  /** The running record or punctuator succeeded: its cancellations join the batch. */
  accept(): void {
    for (const id of this.#pendingCancels) this.#batch.cancelled.add(id);
    this.#pendingCancels.clear();
  }

  reject(): void {
    this.#pendingCancels.clear();
  }

  /** The batch is durable: its state becomes the committed one, and cancelled timers stop. */
  commitBatch(): void {
    this.#committed = this.#batch;
    this.#batch = copyOf(this.#committed);
    for (const id of this.#committed.cancelled) {
      this.#timers.get(id)?.subscription.unsubscribe();
      this.#timers.delete(id);
    }
  }

  discardBatch(): void {
    this.#batch = copyOf(this.#committed);
    this.#pendingCancels.clear();
  }

  #startTimer(schedule: Schedule): void {
    const timer: WallClockTimer = { subscription: undefined as unknown as Subscription, tickQueued: false };
    const fire = () => {
      if (timer.tickQueued) return;
      timer.tickQueued = true;
      this.#queueTick?.({ kind: 'wall-clock-tick', schedule: schedule.id, time: this.#scheduler.now() });
    };
    timer.subscription = this.#scheduler.schedule(function (this: SchedulerAction<undefined>) {
      fire();
      this.schedule(undefined, schedule.intervalMs);
    }, schedule.intervalMs);
    this.#timers.set(schedule.id, timer);
  }
}
