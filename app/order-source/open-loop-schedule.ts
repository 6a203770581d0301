/**
 * The open-loop clock of the load generator: order i is *intended* to be sent at
 * `startMs + i * 1000 / rate`, whatever happened to the orders before it. The number of due
 * orders depends on the clock alone, never on how fast earlier sends completed, so a slow
 * send shows up as latency (ack time - intended time) instead of silently lowering the
 * offered load ("coordinated omission").
 */
export interface OpenLoopSchedule {
  readonly startMs: number;
  readonly ratePerSecond: number;
  /** Orders in the whole run; `Infinity` for an open-ended run. */
  readonly total: number;
}

export function createSchedule(startMs: number, ratePerSecond: number, total: number): OpenLoopSchedule {
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`rate must be a positive finite number, got ${ratePerSecond}`);
  if (!(total >= 0)) throw new RangeError(`total must be >= 0, got ${total}`);
  return { startMs, ratePerSecond, total };
}

/** How many orders a run of `durationMs` at this rate offers (at least one). */
export function ordersInDuration(ratePerSecond: number, durationMs: number): number {
  return Math.max(1, Math.ceil((ratePerSecond * durationMs) / 1000));
}

/** When order `index` (0-based) is intended to be sent. */
export function intendedTimeMs(schedule: OpenLoopSchedule, index: number): number {
  return schedule.startMs + (index * 1000) / schedule.ratePerSecond;
}

/** How many orders (counted from the first) are due at `nowMs`: their intended time has come. */
export function dueCount(schedule: OpenLoopSchedule, nowMs: number): number {
  if (nowMs < schedule.startMs) return 0;
  const due = Math.floor(((nowMs - schedule.startMs) * schedule.ratePerSecond) / 1000) + 1;
  return Math.min(due, schedule.total);
}

/**
 * The next batch to form at `nowMs`, given that `scheduled` orders were already taken:
 * every due order, at most `maxBatch`. `count` 0 means nothing is due yet; `waitMs` then says
 * how long until the next one is (0 when the run is over or orders are due).
 */
export function nextBatch(
  schedule: OpenLoopSchedule,
  scheduled: number,
  nowMs: number,
  maxBatch: number,
): { firstIndex: number; count: number; waitMs: number; finished: boolean } {
  const finished = scheduled >= schedule.total;
  if (finished) return { firstIndex: scheduled, count: 0, waitMs: 0, finished };
  const count = Math.min(Math.max(0, dueCount(schedule, nowMs) - scheduled), maxBatch);
  const waitMs = count > 0 ? 0 : Math.max(0, intendedTimeMs(schedule, scheduled) - nowMs);
  return { firstIndex: scheduled, count, waitMs, finished };
}
