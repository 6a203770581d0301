import { describe, expect, it } from '@jest/globals';
import { GROUP_TIMING_DEFAULTS, groupTiming } from '../../../kafka/group-timing.ts';

describe('groupTiming', () => {
  it('uses the defaults when nothing is set', () => {
    expect(groupTiming({})).toEqual(GROUP_TIMING_DEFAULTS);
  });

  it('raises the rebalance timeout to the session timeout, which the broker requires', () => {
    expect(groupTiming({ sessionTimeoutMs: 45_000, rebalanceTimeoutMs: 10_000 }).rebalanceTimeoutMs).toBe(45_000);
  });

  it('keeps the heartbeat within a third of the session timeout', () => {
    expect(groupTiming({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 5_000 }).heartbeatIntervalMs).toBe(2_000);
    expect(groupTiming({ sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 }).heartbeatIntervalMs).toBe(1_000);
  });
});
