import { describe, expect, it } from '@jest/globals';
import type { ConsoleSample, SampleDeps, Snapshot } from '../../../app/console/snapshot.ts';
import { startSnapshotFeed } from '../../../app/console/snapshot-feed.ts';
import { subtopologyTopics } from '../../../app/status.ts';
import { silentLogger } from '../../../core/logger.ts';
import { waitFor } from '../../../core/wait.ts';
import { describeTopology } from '../../../topology/describe/index.ts';
import { wordCountTopology } from '../topology/fixtures.ts';

const topology = wordCountTopology();
const deps = { group: 'wordcount', subtopologies: subtopologyTopics(topology), description: describeTopology(topology) } as unknown as SampleDeps;

/** A sample of the `lines` topic whose committed offset is `committed`, taken at `atMs`. */
function sample(atMs: number, committed: bigint): ConsoleSample {
  return {
    status: {
      offsets: [{ topic: 'lines', partition: 0, nextOffset: committed, epoch: 1n, owner: 'r', updatedAt: new Date(atMs), lastCommitId: null }],
      highWatermarks: new Map([['lines', new Map([[0, committed]])]]),
      dlqWatermarks: new Map(),
      outboxBacklog: 0,
      outboxParked: 0,
      outcomeEnds: {},
      atMs,
    },
    sinkEnds: new Map(),
  };
}

describe('the snapshot feed', () => {
  it('samples every interval: the first snapshot rates nothing, the next ones rate the growth since the one before', async () => {
    let taken = 0;
    const feed = startSnapshotFeed(deps, { intervalMs: 5, logger: silentLogger, sample: async () => sample(1000 * ++taken, 10n * BigInt(taken)) });
    const received: Snapshot[] = [];
    feed.subscribe((snapshot) => received.push(snapshot));
    await waitFor(() => received.length >= 3, 'three snapshots');
    await feed.stop();
    const rates = received.map((snapshot) => snapshot.nodes['lines-source']!.recordsPerSecond);
    // Subscribed before the first sample resolved: the listener saw the first snapshot too.
    expect(received[0]!.at).toBe(new Date(1000).toISOString());
    expect(rates[0]).toBe(0);
    expect(rates.slice(1)).toEqual(rates.slice(1).map(() => 10));
    expect((await feed.latest()).at).toBe(received.at(-1)!.at);
  });

  it('latest() waits for the first sample, rejects when it fails, and the feed keeps trying', async () => {
    let calls = 0;
    const feed = startSnapshotFeed(deps, {
      intervalMs: 5,
      logger: silentLogger,
      sample: async () => {
        calls++;
        if (calls === 1) throw new Error('database away');
        return sample(1000 * calls, 5n);
      },
    });
    await expect(feed.latest()).rejects.toThrow('database away');
    await waitFor(() => calls >= 2, 'a second sample');
    expect((await feed.latest()).group).toBe('wordcount');
    await feed.stop();
  });

  it('samples no more once stopped', async () => {
    let calls = 0;
    const feed = startSnapshotFeed(deps, { intervalMs: 5, logger: silentLogger, sample: async () => sample(1000 * ++calls, 1n) });
    await feed.latest();
    await feed.stop();
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 30)); // a quiet period: nothing may happen in it
    expect(calls).toBe(after);
  });
});
