import { describe, expect, it } from '@jest/globals';
import { formatStatusLine } from '../../../app/status-line.ts';
import { buildStatus, eventRate, formatRate, formatStatus, type StatusSnapshot, subtopologyTopics } from '../../../app/status.ts';
import type { StoredOffset } from '../../../state/offset-store.ts';
import { wordCountTopology } from '../topology/fixtures.ts';

const ORDERS_ONLY = [{ id: 0, topics: ['orders'] }];

const snapshot = (outboxBacklog: number, outboxParked: number): StatusSnapshot => ({
  offsets: [],
  highWatermarks: new Map([['orders', new Map([[0, 5n]])]]),
  dlqWatermarks: new Map(),
  outboxBacklog,
  outboxParked,
  outcomeEnds: {},
  atMs: 1000,
});

const INTERNAL = 'wordcount-by-word-repartition';
const stored = (topic: string, partition: number, nextOffset: bigint, owner: string): StoredOffset => ({
  topic,
  partition,
  nextOffset,
  epoch: 1n,
  owner,
  updatedAt: new Date('2026-11-25T10:36:38.000Z'),
  lastCommitId: null,
});

describe('status report', () => {
  it('shows parked outbox rows, and how to list them, only when there are some', () => {
    const parked = buildStatus('g', ORDERS_ONLY, snapshot(3, 1), snapshot(3, 1));
    expect(parked).toMatchObject({ outboxBacklog: 3, outboxParked: 1 });
    expect(formatStatus(parked).split('\n')[0]).toBe('group g on topic orders: total lag 5, outbox backlog 3 (1 parked: npm run topology -- outbox --parked), dead letters 0');
    expect(formatStatus(buildStatus('g', ORDERS_ONLY, snapshot(2, 0), snapshot(2, 0))).split('\n')[0]).toBe('group g on topic orders: total lag 5, outbox backlog 2, dead letters 0');
  });

  it('shows the lag of every sub-topology, its internal topic\'s partitions included', () => {
    const subtopologies = subtopologyTopics(wordCountTopology());
    expect(subtopologies).toEqual([
      { id: 0, topics: ['lines'] },
      { id: 1, topics: [INTERNAL] },
    ]);
    const at = (atMs: number, internalOffset: bigint): StatusSnapshot => ({
      offsets: [stored('lines', 0, 10n, 'replica-1'), stored(INTERNAL, 0, internalOffset, 'replica-1'), stored(INTERNAL, 1, 4n, 'replica-2'), stored('elsewhere', 0, 1n, 'replica-9')],
      highWatermarks: new Map([
        ['lines', new Map([[0, 12n]])],
        [
          INTERNAL,
          new Map([
            [0, 30n],
            [1, 4n],
          ]),
        ],
      ]),
      dlqWatermarks: new Map(),
      outboxBacklog: 0,
      outboxParked: 0,
      outcomeEnds: {},
      atMs,
    });
    const report = buildStatus('wordcount', subtopologies, at(0, 20n), at(1000, 25n));

    expect(report.subtopologies).toEqual([
      { id: 0, topics: ['lines'], totalLag: '2' },
      { id: 1, topics: [INTERNAL], totalLag: '5' },
    ]);
    expect(report.totalLag).toBe('7');
    expect(report.partitions.map((p) => [p.subtopology, p.topic, p.partition, p.lag])).toEqual([
      [0, 'lines', 0, '2'],
      [1, INTERNAL, 0, '5'],
      [1, INTERNAL, 1, '0'],
    ]);
    expect(report.replicas).toEqual([
      { replica: 'replica-1', topic: 'lines', partitions: [0], ratePerSecond: 0 },
      { replica: 'replica-1', topic: INTERNAL, partitions: [0], ratePerSecond: 5 },
      { replica: 'replica-2', topic: INTERNAL, partitions: [1], ratePerSecond: 0 },
    ]);
    expect(formatStatus(report).split('\n').slice(0, 8)).toEqual([
      `group wordcount on topics lines, ${INTERNAL}: total lag 7, outbox backlog 0, dead letters 0`,
      'outcomes: confirmed 0.0/s, rejected 0.0/s, restocked 0.0/s (restocks applied, not units)',
      '',
      'sub-topology  topics                         lag',
      '------------  -----------------------------  ---',
      '0             lines                          2',
      `1             ${INTERNAL}  5`,
      '',
    ]);
    expect(formatStatus(report)).toContain(`1             ${INTERNAL}  1          replica-2  4          4               0    2026-11-25T10:36:38.000Z`);
  });
});

describe('outcome rates', () => {
  const at = (atMs: number, outcomeEnds: StatusSnapshot['outcomeEnds']): StatusSnapshot => ({ ...snapshot(0, 0), atMs, outcomeEnds });

  it('are the growth of each outcome topic\'s end offsets per second between two samples: one decimal below 10', () => {
    const report = buildStatus('g', ORDERS_ONLY, at(0, { confirmed: 100n, rejected: 10n, restocked: 7n }), at(2000, { confirmed: 182n, rejected: 16n, restocked: 8n }));
    expect(report.outcomeRates).toEqual({ confirmed: 41, rejected: 3, restocked: 0.5 });
    expect(formatStatus(report).split('\n')[1]).toBe('outcomes: confirmed 41/s, rejected 3.0/s, restocked 0.5/s (restocks applied, not units)');
    expect(formatStatusLine(report, ['source 50/s'])).toBe('processed 0/s | confirmed 41/s | rejected 3.0/s | restocked 0.5/s | lag 5 | replicas 0 | outbox 0 | dlq 0 | source 50/s');
  });

  it('a topic that could not be read in either sample counts 0', () => {
    expect(buildStatus('g', ORDERS_ONLY, at(0, { confirmed: 5n }), at(1000, { rejected: 9n })).outcomeRates).toEqual({ confirmed: 0, rejected: 0, restocked: 0 });
  });

  it('rounding: one decimal below 10 events/s, whole ones above', () => {
    expect([eventRate(0n, 1n, 3000), eventRate(0n, 29n, 3000), eventRate(0n, 31n, 3000), eventRate(5n, 5n, 1000), eventRate(9n, 5n, 1000)]).toEqual([0.3, 9.7, 10, 0, 0]);
    expect([formatRate(0), formatRate(0.3), formatRate(9.7), formatRate(10), formatRate(41)]).toEqual(['0.0', '0.3', '9.7', '10', '41']);
  });
});
