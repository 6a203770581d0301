import { describe, expect, it } from '@jest/globals';
import { buildSnapshot, type ConsoleSample } from '../../../app/console/snapshot.ts';
import { subtopologyTopics } from '../../../app/status.ts';
import type { StoredOffset } from '../../../state/offset-store.ts';
import { describeTopology } from '../../../topology/describe/index.ts';
import { wordCountTopology } from '../topology/fixtures.ts';

const topology = wordCountTopology();
const deps = { group: 'wordcount', subtopologies: subtopologyTopics(topology), description: describeTopology(topology) };

const offset = (topic: string, partition: number, nextOffset: bigint): StoredOffset => ({ topic, partition, nextOffset, epoch: 3n, owner: 'replica-1', updatedAt: new Date('2026-12-03T10:00:00.000Z'), lastCommitId: null });

function sample(atMs: number, committed: bigint, end: bigint, countsEnd: bigint): ConsoleSample {
  return {
    status: {
      offsets: [offset('lines', 0, committed)],
      highWatermarks: new Map([['lines', new Map([[0, end]])]]),
      dlqWatermarks: new Map([[0, 2n]]),
      outboxBacklog: 5,
      outboxParked: 1,
      outcomeEnds: {},
      atMs,
    },
    sinkEnds: new Map([['word-counts', countsEnd]]),
  };
}

describe('the console snapshot', () => {
  it('carries the status report\'s numbers and the rates of the nodes and sub-topologies over the interval', () => {
    const snapshot = buildSnapshot(deps, sample(1000, 10n, 20n, 0n), sample(2000, 16n, 30n, 9n));
    expect(snapshot).toMatchObject({
      at: new Date(2000).toISOString(),
      group: 'wordcount',
      outbox: { backlog: 5, parked: 1 },
      deadLetters: { count: '2' },
      outcomeRates: { confirmed: 0, rejected: 0, restocked: 0 },
    });
    expect(snapshot.partitions.find((partition) => partition.topic === 'lines')).toEqual({
      topic: 'lines',
      partition: 0,
      subtopology: 0,
      owner: 'replica-1',
      epoch: '3',
      dbOffset: '16',
      highWatermark: '30',
      lag: '14',
      lastCommitAt: '2026-12-03T10:00:00.000Z',
    });
    expect(snapshot.nodes['lines-source']).toEqual({ recordsPerSecond: 6 });
    expect(snapshot.nodes['split-words']).toEqual({ recordsPerSecond: 6 });
    expect(snapshot.nodes['counts-sink']).toEqual({ recordsPerSecond: 9 });
    expect(snapshot.subtopologies[0]).toEqual({ id: 0, topics: ['lines'], totalLag: '14', recordsPerSecond: 6 });
    expect(snapshot.replicas).toEqual([{ replica: 'replica-1', topic: 'lines', partitions: [0], ratePerSecond: 6 }]);
  });

  it('rates nothing on the first snapshot (one sample, twice)', () => {
    const only = sample(1000, 10n, 20n, 3n);
    const snapshot = buildSnapshot(deps, only, only);
    expect(Object.values(snapshot.nodes).every((node) => node.recordsPerSecond === 0)).toBe(true);
    expect(snapshot.subtopologies.every((subtopology) => subtopology.recordsPerSecond === 0)).toBe(true);
  });
});
