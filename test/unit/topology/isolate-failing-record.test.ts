import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { commitIsolating } from '../../../topology/runtime/isolate-failing-record.ts';

class RecordRefused extends Error {}

/** Commits parts like a database that refuses any part holding a bad record; returns what happened. */
async function run(records: number[], bad: Set<number>, options: { infrastructureDown?: boolean } = {}) {
  const committed: number[][] = [];
  const isolated: number[] = [];
  let attempts = 0;
  await commitIsolating(records, {
    attempt: async (part) => {
      attempts++;
      if (options.infrastructureDown) throw new Error('connection refused');
      if (part.some((record) => bad.has(record))) throw new RecordRefused(`refused ${part.join(',')}`);
      committed.push([...part]);
    },
    isRecordFault: (error) => error instanceof RecordRefused,
    isolate: async (record) => {
      isolated.push(record);
    },
  });
  return { committed, isolated, attempts };
}

describe('commitIsolating', () => {
  it('halves a failing batch until the bad record stands alone, committing the rest in offset order', async () => {
    const { committed, isolated, attempts } = await run([0, 1, 2, 3, 4, 5, 6, 7], new Set([5]));
    expect(isolated).toEqual([5]);
    expect(committed).toEqual([[0, 1, 2, 3], [4], [6, 7]]);
    // 0..7 fails, 0..3 commits, 4..7 fails, 4..5 fails, 4 commits, 5 fails alone, 6..7 commits.
    expect(attempts).toBe(7);
  });

  it('commits a batch without bad records in one attempt', async () => {
    expect(await run([0, 1, 2], new Set())).toEqual({ committed: [[0, 1, 2]], isolated: [], attempts: 1 });
  });

  it('rethrows a failure that is not the records’ fault without splitting', async () => {
    await expect(run([0, 1, 2, 3], new Set(), { infrastructureDown: true })).rejects.toThrow('connection refused');
  });

  it('for any batch and any bad records: isolates exactly the bad ones, commits every other record once, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 60 }), fc.array(fc.nat(59)), async (size, picks) => {
        const records = Array.from({ length: size }, (_, index) => index);
        const bad = new Set(picks.filter((pick) => pick < size));
        const { committed, isolated } = await run(records, bad);
        expect(isolated).toEqual(records.filter((record) => bad.has(record)));
        const order = [...committed.flat(), ...isolated].sort((a, b) => a - b);
        expect(order).toEqual(records);
        expect(committed.flat()).toEqual(records.filter((record) => !bad.has(record)));
      }),
    );
  });
});
