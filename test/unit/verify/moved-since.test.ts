/** movedSince: the verifier reads the run back only from a pipeline that stays still while it reads. */
import { describe, expect, it } from '@jest/globals';
import type { Sample } from '../../../verify/recovery.ts';
import { movedSince } from '../../../verify/run.ts';

const quiet = (changes: Partial<Sample> = {}): Sample => ({
  atMs: 0,
  offsets: new Map([['line-results[0]', 5n]]),
  highWatermarks: new Map([['line-results[0]', 5n]]),
  publishedEvents: 40,
  unpublishedOutbox: 0,
  ...changes,
});

describe('movedSince', () => {
  it('finds nothing when offsets, end offsets, published records and the outbox are as they were', () => {
    expect(movedSince(quiet(), { ...quiet(), atMs: 3_000 })).toBeUndefined();
  });

  it('names every partition whose stored offset or end offset moved, the published records and the outbox', () => {
    const after = quiet({
      offsets: new Map([['line-results[0]', 6n]]),
      highWatermarks: new Map([
        ['line-results[0]', 6n],
        ['product-commands[1]', 2n],
      ]),
      publishedEvents: 41,
      unpublishedOutbox: 2,
    });
    expect(movedSince(quiet(), after)).toBe(
      'offsets of line-results[0]; end offsets of line-results[0], product-commands[1]; published records 40 -> 41; 2 outbox rows unpublished',
    );
  });

  it('counts a look that did not answer as a move: it cannot show that nothing moved', () => {
    expect(movedSince(quiet(), { atMs: 1 })).toBe('offsets of line-results[0]; end offsets of line-results[0]; published records 40 -> ?; ? outbox rows unpublished');
  });
});
