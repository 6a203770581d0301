import { describe, expect, it } from '@jest/globals';
import { buildStatus, formatStatus, type StatusSnapshot } from '../../../app/status.ts';

const snapshot = (outboxBacklog: number, outboxParked: number): StatusSnapshot => ({
  offsets: [],
  highWatermarks: new Map([[0, 5n]]),
  dlqWatermarks: new Map(),
  outboxBacklog,
  outboxParked,
  atMs: 1000,
});

describe('status report', () => {
  it('shows parked outbox rows, and how to list them, only when there are some', () => {
    const parked = buildStatus('g', 'orders', snapshot(3, 1), snapshot(3, 1));
    expect(parked).toMatchObject({ outboxBacklog: 3, outboxParked: 1 });
    expect(formatStatus(parked).split('\n')[0]).toBe('group g on topic orders: total lag 5, outbox backlog 3 (1 parked: npm run topology -- outbox --parked), dead letters 0');
    expect(formatStatus(buildStatus('g', 'orders', snapshot(2, 0), snapshot(2, 0))).split('\n')[0]).toBe('group g on topic orders: total lag 5, outbox backlog 2, dead letters 0');
  });
});
