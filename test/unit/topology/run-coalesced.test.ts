import { describe, expect, it } from '@jest/globals';
import { lastValueFrom, Subject, toArray } from 'rxjs';
import { runCoalesced } from '../../../topology/runtime/run-coalesced.ts';

/** A run that finishes only when the test says so, recording what it was given. */
function controlledRuns() {
  const runs: Array<{ items: string[]; batches: number; finish: () => void }> = [];
  const run = (items: string[], batches: number) =>
    new Promise<string>((resolve) => {
      runs.push({ items, batches, finish: () => resolve(items.join('')) });
    });
  return { runs, run };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('runCoalesced', () => {
  it('runs a batch alone as soon as it closes when nothing else runs', async () => {
    const { runs, run } = controlledRuns();
    const batches = new Subject<string[]>();
    const results = lastValueFrom(batches.pipe(runCoalesced({ run, maxSize: 10 }), toArray()));
    batches.next(['a', 'b']);
    expect(runs.map((r) => r.items)).toEqual([['a', 'b']]);
    runs[0]!.finish();
    await settle();
    batches.next(['c']);
    expect(runs.map((r) => [r.items, r.batches])).toEqual([
      [['a', 'b'], 1],
      [['c'], 1],
    ]);
    runs[1]!.finish();
    batches.complete();
    expect(await results).toEqual(['ab', 'c']);
  });

  it('merges, in order, every batch that closed while one was running into the next run', async () => {
    const { runs, run } = controlledRuns();
    const batches = new Subject<string[]>();
    const results = lastValueFrom(batches.pipe(runCoalesced({ run, maxSize: 10 }), toArray()));
    batches.next(['a']);
    batches.next(['b']);
    batches.next(['c', 'd']);
    batches.next(['e']);
    expect(runs).toHaveLength(1);
    runs[0]!.finish();
    await settle();
    expect(runs.map((r) => [r.items, r.batches])).toEqual([
      [['a'], 1],
      [['b', 'c', 'd', 'e'], 3],
    ]);
    runs[1]!.finish();
    batches.complete();
    expect(await results).toEqual(['a', 'bcde']);
  });

  it('never merges past maxSize, and completes only after the last run', async () => {
    const { runs, run } = controlledRuns();
    const batches = new Subject<string[]>();
    const results = lastValueFrom(batches.pipe(runCoalesced({ run, maxSize: 3 }), toArray()));
    batches.next(['a']);
    batches.next(['b', 'c']);
    batches.next(['d']);
    batches.next(['e', 'f', 'g', 'h']);
    batches.complete();
    for (let i = 0; i < 4 && runs[i]; i++) {
      runs[i]!.finish();
      await settle();
    }
    expect(runs.map((r) => r.items)).toEqual([['a'], ['b', 'c', 'd'], ['e', 'f', 'g', 'h']]);
    expect(await results).toEqual(['a', 'bcd', 'efgh']);
  });
});
