import { describe, expect, it } from '@jest/globals';
import { comparePositions, OriginWatermarks, originOf, repartitionEventId } from '../../../topology/runtime/repartition-origin.ts';

const copy = (topic: string, partition: number, offset: bigint, index: number, phase: 0 | 1 = 0) => ({
  'event-id': repartitionEventId('by-word', { topic, partition, position: { offset, phase, index } }),
});

describe('repartition origins', () => {
  it('read back what the event id says: upstream partition, offset, and place (a flush output after the record outputs)', () => {
    expect(repartitionEventId('by-word', { topic: 'lines', partition: 2, position: { offset: 41n, phase: 0, index: 3 } })).toBe('by-word:lines:2:41:3');
    expect(originOf('by-word:lines:2:41:3')).toEqual({ topic: 'lines', partition: 2, position: { offset: 41n, phase: 0, index: 3 } });
    expect(originOf('by-word:lines:2:41:flush:0')).toEqual({ topic: 'lines', partition: 2, position: { offset: 41n, phase: 1, index: 0 } });
    expect(originOf('order-created:0b6c')).toBeUndefined();
    expect(originOf(undefined)).toBeUndefined();
    expect(comparePositions({ offset: 41n, phase: 0, index: 9 }, { offset: 41n, phase: 1, index: 0 })).toBeLessThan(0);
    expect(comparePositions({ offset: 41n, phase: 1, index: 0 }, { offset: 42n, phase: 0, index: 0 })).toBeLessThan(0);
  });

  it('skip a re-sent suffix per upstream partition, and keep apart what different upstream partitions sent', () => {
    const marks = new OriginWatermarks(undefined);
    marks.beginAttempt();
    expect([copy('lines', 0, 5n, 0), copy('lines', 0, 5n, 1), copy('lines', 1, 2n, 0), copy('lines', 0, 7n, 0)].map((headers) => marks.admit(headers))).toEqual([true, true, true, true]);
    // The relay sent 5:1 and 7:0 of partition 0 again, then new ones; partition 1's first output is new to partition 1 only.
    expect([copy('lines', 0, 5n, 1), copy('lines', 0, 7n, 0), copy('lines', 0, 8n, 0), copy('lines', 1, 2n, 1)].map((headers) => marks.admit(headers))).toEqual([false, false, true, true]);
    // A record produced by hand, without an origin, is never taken for a copy.
    expect(marks.admit({})).toBe(true);
  });

  it('start every attempt over from what committed, and survive a restart through the stored form', () => {
    const marks = new OriginWatermarks({ 'lines:0': '5:0:1' });
    marks.beginAttempt();
    expect(marks.admit(copy('lines', 0, 5n, 1))).toBe(false);
    expect(marks.admit(copy('lines', 0, 6n, 0))).toBe(true);
    // The attempt failed (a stale reload): run again, 6:0 is new again.
    marks.beginAttempt();
    expect(marks.admit(copy('lines', 0, 6n, 0))).toBe(true);
    expect(marks.attempted()).toEqual({ 'lines:0': '6:0:0' });
    marks.committed();
    const restarted = new OriginWatermarks(marks.attempted());
    restarted.beginAttempt();
    expect(restarted.admit(copy('lines', 0, 6n, 0))).toBe(false);
    expect(restarted.admit(copy('lines', 0, 6n, 0, 1))).toBe(true);
  });
});
