import { describe, expect, it } from '@jest/globals';
import { createSchedule, dueCount, intendedTimeMs, nextBatch, ordersInDuration } from '../../../app/order-source/open-loop-schedule.ts';

describe('open-loop schedule', () => {
  const schedule = createSchedule(1_000, 1_000, 10_000); // 1 order per ms from t=1000

  it('spaces intended send times by 1/rate', () => {
    expect(intendedTimeMs(schedule, 0)).toBe(1_000);
    expect(intendedTimeMs(schedule, 250)).toBe(1_250);
    expect(intendedTimeMs(createSchedule(0, 20_000, 100), 3)).toBeCloseTo(0.15);
  });

  it('counts the orders whose intended time has come, by the clock alone', () => {
    expect(dueCount(schedule, 999)).toBe(0);
    expect(dueCount(schedule, 1_000)).toBe(1);
    expect(dueCount(schedule, 1_000.9)).toBe(1);
    expect(dueCount(schedule, 1_001)).toBe(2);
    expect(dueCount(schedule, 2_000)).toBe(1_001);
    expect(dueCount(schedule, 1_000_000)).toBe(10_000);
  });

  it('does not lower the offered load after a slow send (no coordinated omission)', () => {
    // 10 orders taken at t=1009; the next send only returns 500 ms later.
    const first = nextBatch(schedule, 0, 1_009, 5_000);
    expect(first).toMatchObject({ firstIndex: 0, count: 10 });
    const afterStall = nextBatch(schedule, 10, 1_509, 5_000);
    // Everything that came due during the stall is due now, to be measured from its intended time.
    expect(afterStall).toMatchObject({ firstIndex: 10, count: 500, waitMs: 0 });
  });

  it('caps a batch and leaves the rest due for the next one', () => {
    expect(nextBatch(schedule, 0, 9_000, 5_000).count).toBe(5_000);
    expect(nextBatch(schedule, 5_000, 9_000, 5_000).count).toBe(3_001);
  });

  it('says how long to wait when nothing is due, and when the run is over', () => {
    expect(nextBatch(schedule, 5, 1_002.5, 100)).toMatchObject({ count: 0, waitMs: 2.5, finished: false });
    expect(nextBatch(schedule, 10_000, 50_000, 100)).toMatchObject({ count: 0, finished: true });
  });

  it('offers rate x duration orders in a duration run', () => {
    expect(ordersInDuration(2_000, 5_000)).toBe(10_000);
    expect(ordersInDuration(3, 500)).toBe(2);
    expect(ordersInDuration(1, 1)).toBe(1);
  });

  it('refuses a rate that is not positive', () => {
    expect(() => createSchedule(0, 0, 1)).toThrow(RangeError);
    expect(() => createSchedule(0, -5, 1)).toThrow(RangeError);
  });
});
