/**
 * Samples the pipeline every interval and hands each Snapshot to whoever listens (the SSE
 * streams) and to GET /api/snapshot. One sampler for the whole console, however many pages are
 * open: the database and the broker are asked once per interval, not once per viewer. A sample
 * starts only after the previous one ended, so a slow database never piles samples up.
 */
import { errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { buildSnapshot, type ConsoleSample, type SampleDeps, type Snapshot, takeConsoleSample } from './snapshot.ts';

export type SnapshotListener = (snapshot: Snapshot) => void;

export interface SnapshotFeed {
  /** The latest snapshot, waiting for the first sample if none was taken yet; rejects when that first sample fails. */
  latest(): Promise<Snapshot>;
  /** Called with every new snapshot; returns the unsubscribe function. */
  subscribe(listener: SnapshotListener): () => void;
  stop(): Promise<void>;
}

export function startSnapshotFeed(deps: SampleDeps, options: { intervalMs: number; logger: Logger; sample?: (deps: SampleDeps) => Promise<ConsoleSample> }): SnapshotFeed {
  const sample = options.sample ?? takeConsoleSample;
  const listeners = new Set<SnapshotListener>();
  let previous: ConsoleSample | undefined;
  let current: Snapshot | undefined;
  let failing: string | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  /** Waiters for the first snapshot (or the error of a sample before there is one). */
  let firstWaiters: Array<{ resolve: (snapshot: Snapshot) => void; reject: (error: unknown) => void }> = [];

  const tick = async () => {
    try {
      const next = await sample(deps);
      current = buildSnapshot(deps, previous ?? next, next);
      previous = next;
      if (failing !== undefined) options.logger.info('console sampling works again');
      failing = undefined;
      for (const waiter of firstWaiters) waiter.resolve(current);
      firstWaiters = [];
      for (const listener of listeners) listener(current);
    } catch (error) {
      // PostgreSQL or the broker away: the page keeps the last numbers and the feed tries again next interval.
      const message = errorMessage(error);
      if (message !== failing) options.logger.warn('console sampling failed; trying again', { error: message });
      failing = message;
      for (const waiter of firstWaiters) waiter.reject(error);
      firstWaiters = [];
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = tick().finally(schedule);
    }, options.intervalMs);
  };
  running = tick().finally(schedule);

  return {
    latest() {
      if (current !== undefined) return Promise.resolve(current);
      return new Promise((resolve, reject) => firstWaiters.push({ resolve, reject }));
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      listeners.clear();
      await running.catch(() => {});
    },
  };
}
