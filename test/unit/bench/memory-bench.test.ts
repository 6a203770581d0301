import { describe, expect, it } from '@jest/globals';
import { commandLine, evaluateMemoryTarget, type MemorySample, summarize } from '../../../bench/memory.ts';

describe('memory bench: the command line its results record', () => {
  it('quotes an argument with spaces, so the line can be pasted into a shell', () => {
    expect(commandLine(['--node-options=--max-old-space-size=80 --max-semi-space-size=8', '--records', '100'], {})).toBe(
      "node bench/memory.ts '--node-options=--max-old-space-size=80 --max-semi-space-size=8' --records 100",
    );
  });

  it('writes the runtime settings taken from the environment before it, and no other variable', () => {
    expect(commandLine([], { MAX_INFLIGHT_TOTAL: '5000', FETCH_MAX_BYTES: '131072', DATABASE_URL: 'postgres://user:secret@db/x', HOME: '/root' })).toBe(
      'MAX_INFLIGHT_TOTAL=5000 FETCH_MAX_BYTES=131072 node bench/memory.ts',
    );
  });

  it('escapes a single quote inside a quoted word', () => {
    expect(commandLine(["it's here"], {})).toBe(`node bench/memory.ts 'it'\\''s here'`);
  });
});

describe('memory bench: its target', () => {
  const sample = (t: number, committed: number, rssMb: number): MemorySample => ({ t, committed, inflight: 0, unpublished: 0, rssMb, heapUsedMb: rssMb / 2, heapTotalMb: rssMb, externalMb: 1, arrayBuffersMb: 1 });
  const run = { records: 100, partitions: 1, client: 'platformatic' as const, produceSeconds: 1, drainSeconds: 4 };

  it('is met by a drain whose RSS peaks at 200 MB and grows by at most 10 MB from 10% to 90%', () => {
    const summary = summarize([sample(0, 0, 150), sample(1, 10, 190), sample(2, 50, 200), sample(3, 90, 199.5), sample(4, 100, 199)], run);
    expect(summary.rssGrowthMb).toBe(9.5);
    expect(summary.target).toMatchObject({ peakMet: true, flatMet: true, met: true });
  });

  it('is not met by a peak above 200 MB, even a flat one', () => {
    const summary = summarize([sample(1, 10, 201), sample(2, 50, 201), sample(3, 90, 201)], run);
    expect(summary.target).toMatchObject({ peakMet: false, flatMet: true, met: false });
  });

  it('is not met by RSS that grows more than 10 MB while the drain runs', () => {
    const summary = summarize([sample(1, 10, 150), sample(2, 50, 158), sample(3, 90, 160.5)], run);
    expect(summary.target).toMatchObject({ peakMet: true, flatMet: false, met: false });
  });

  it('does not call flat a drain without samples at 10% and 90% of it', () => {
    expect(evaluateMemoryTarget({ peakRssMb: 100, rssGrowthMb: 0, atProgress: [] })).toMatchObject({ flatMet: false, met: false });
  });
});
