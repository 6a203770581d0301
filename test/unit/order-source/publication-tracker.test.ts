import { describe, expect, it } from '@jest/globals';
import { PublicationTracker } from '../../../app/order-source/publication-tracker.ts';

describe('PublicationTracker', () => {
  it('advances only over batches that are published with every batch before them', () => {
    const tracker = new PublicationTracker(100);
    tracker.stored(101, 110);
    tracker.stored(111, 120);
    tracker.stored(121, 130);
    expect(tracker.backlog).toBe(30);
    // The second batch is acknowledged first: the first one is still out, so nothing moves.
    expect(tracker.published(120)).toBe(100);
    expect(tracker.published(101 + 9)).toBe(120);
    expect(tracker.backlog).toBe(10);
    expect(tracker.published(130)).toBe(130);
    expect(tracker.backlog).toBe(0);
  });

  it('refuses a batch that does not follow the last stored seq', () => {
    const tracker = new PublicationTracker(0);
    tracker.stored(1, 5);
    expect(() => tracker.stored(7, 9)).toThrow(RangeError);
    expect(() => tracker.stored(5, 9)).toThrow(RangeError);
  });

  it('refuses an acknowledgement of a batch it does not know', () => {
    const tracker = new PublicationTracker(0);
    tracker.stored(1, 5);
    expect(() => tracker.published(4)).toThrow(RangeError);
  });
});
