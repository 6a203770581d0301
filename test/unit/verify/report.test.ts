import { describe, expect, it } from '@jest/globals';
import { formatReport, progressLine, reportJson, type VerifyResult } from '../../../verify/report.ts';

const result: VerifyResult = {
  ok: false,
  settings: { duration: '60s', rate: 100, faults: 'pg-restart,poison' },
  loadMs: 61_000,
  totals: {
    orders: 6000,
    lines: 14_400,
    statuses: { confirmed: 4000, rejected: 1900, cancelled: 90, reserving: 4, pending: 6 },
    restocks: { sent: 60, applied: 58, deadLettered: 2, unconfirmed: 0 },
    cancellations: { sent: 100, unconfirmed: 5, answers: { cancelled: 40, already_cancelled: 20, already_requested: 5, order_rejected: 15, unknown_order: 20 } },
    inventoryEvents: 3000,
    outcomeEvents: 6150,
    deadLetters: 4,
  },
  checks: [
    { name: 'settled', ok: true, detail: 'every partition consumed', violations: [] },
    { name: 'every poison record dead-lettered', ok: false, detail: '1 violation(s): product-id-overflow has no dead letter', violations: ['product-id-overflow has no dead letter'] },
  ],
  faults: [
    { kind: 'pg-restart', target: '', plannedAtMs: 9_000, startedAtMs: 9_500, backAtMs: 10_000, recoveryMs: 2_300, detail: 'pg_ctl restart took 0.5s', error: undefined },
    { kind: 'broker-kill', target: 'node 2', plannedAtMs: 30_000, startedAtMs: 30_000, backAtMs: 50_000, recoveryMs: undefined, detail: 'processor partitions 4 committed nothing since', error: undefined },
  ],
  cleanupProblems: [],
};

describe('formatReport', () => {
  it('says the verdict first, then a row per check and per fault with its recovery time', () => {
    const lines = formatReport(result).split('\n');
    expect(lines[0]).toBe('verify: FAIL — duration 60s, rate 100, faults pg-restart,poison');
    expect(lines.slice(1, 5)).toEqual([
      'load ran 1m1s: 6000 orders stored with 14400 lines (4000 confirmed, 1900 rejected, 90 cancelled, 4 reserving, 6 pending)',
      'restocks: 60 sent (58 applied, 2 dead letters)',
      'cancellations: 100 sent; answers: 40 cancelled, 20 already_cancelled, 5 already_requested, 15 order_rejected, 20 unknown_order; 5 in sends that failed, not counted',
      'events: 3000 InventoryUpdated, 6150 outcome events, 4 dead letters',
    ]);
    const text = lines.join('\n');
    expect(text).toMatch(/^pass\s+settled\s+every partition consumed$/m);
    expect(text).toMatch(/^FAIL\s+every poison record dead-lettered\s+1 violation/m);
    expect(text).toMatch(/^pg-restart\s+9\.5s\s+2\.3s\s+pg_ctl restart took 0\.5s$/m);
    expect(text).toMatch(/^broker-kill \(node 2\)\s+30s\s+not recovered\s+processor partitions 4/m);
  });
});

describe('reportJson', () => {
  it('is parseable and carries every violation with a count', () => {
    const parsed = JSON.parse(reportJson(result)) as { ok: boolean; checks: Array<{ violationCount: number; violations: string[] }> };
    expect(parsed.ok).toBe(false);
    expect(parsed.checks[1]).toMatchObject({ violationCount: 1, violations: ['product-id-overflow has no dead letter'] });
  });
});

describe('progressLine', () => {
  it('shows elapsed/duration, orders, events, lag, outbox and the next fault', () => {
    const sample = { atMs: 0, storedOrders: 1234, decidedOrders: 1200, publishedEvents: 800, unpublishedOutbox: 3, offsets: new Map([['orders[0]', 5n], ['orders[1]', 7n]]), highWatermarks: new Map([['orders[0]', 9n], ['orders[1]', 7n]]) };
    expect(progressLine(sample, { elapsedMs: 15_000, durationMs: 60_000, phase: 'load', faultsDone: 2, faultsTotal: 8, next: 'next poison at 20s' })).toBe(
      '[   15s/1m] load: orders 1,234 stored, 1,200 decided | events 800 | lag 4 | outbox 3 | faults 2/8, next poison at 20s',
    );
    expect(progressLine(undefined, { elapsedMs: 0, durationMs: 30_000, phase: 'load', faultsDone: 0, faultsTotal: 0, next: undefined })).toBe(
      '[   0ms/30s] load: orders ? stored, ? decided | events ? | lag ? | outbox ? | no faults',
    );
  });
});

describe('formatReport of a failed run', () => {
  it('lists the violations of each failed check below the tables', () => {
    const text = formatReport(result);
    expect(text).toMatch(/every poison record dead-lettered \(1\):\n {2}- product-id-overflow has no dead letter/);
  });
});
