import { describe, expect, it } from '@jest/globals';
import { comparePositions, OriginWatermarks, originOf, repartitionEventId } from '../../../topology/runtime/repartition-origin.ts';

const copy = (topic: string, partition: number, offset: bigint, index: number, phase: 0 | 1 = 0, epoch = 3n) => ({
  'event-id': repartitionEventId('by-word', { topic, partition, position: { epoch, offset, phase, index } }),
});

describe('repartition origins', () => {
  it('read back what the event id says: upstream partition, claim epoch, offset, and place (a flush output after the record outputs)', () => {
    expect(repartitionEventId('by-word', { topic: 'lines', partition: 2, position: { epoch: 7n, offset: 41n, phase: 0, index: 3 } })).toBe('by-word:lines:2:e7:41:3');
    expect(originOf('by-word:lines:2:e7:41:3')).toEqual({ topic: 'lines', partition: 2, position: { epoch: 7n, offset: 41n, phase: 0, index: 3 } });
    expect(originOf('by-word:lines:2:e7:41:flush:0')).toEqual({ topic: 'lines', partition: 2, position: { epoch: 7n, offset: 41n, phase: 1, index: 0 } });
    // Written before the epoch was part of the id: epoch 0.
    expect(originOf('by-word:lines:2:41:flush:0')).toEqual({ topic: 'lines', partition: 2, position: { epoch: 0n, offset: 41n, phase: 1, index: 0 } });
    expect(originOf('order-created:0b6c')).toBeUndefined();
    expect(originOf(undefined)).toBeUndefined();
    expect(comparePositions({ epoch: 1n, offset: 41n, phase: 0, index: 9 }, { epoch: 1n, offset: 41n, phase: 1, index: 0 })).toBeLessThan(0);
    expect(comparePositions({ epoch: 1n, offset: 41n, phase: 1, index: 0 }, { epoch: 1n, offset: 42n, phase: 0, index: 0 })).toBeLessThan(0);
    expect(comparePositions({ epoch: 1n, offset: 900n, phase: 1, index: 5 }, { epoch: 2n, offset: 0n, phase: 0, index: 0 })).toBeLessThan(0);
  });

  it('admit what a later claim sends from offsets below the watermark: a reset rewound the upstream partition and bumped its epoch', () => {
    const marks = new OriginWatermarks({ 'lines:0': 'e4:49661:1:0' });
    marks.beginAttempt();
    expect(marks.admit(copy('lines', 0, 49661n, 0, 1, 4n))).toBe(false);
    expect(marks.admit(copy('lines', 0, 0n, 0, 0, 5n))).toBe(true);
    expect(marks.admit(copy('lines', 0, 1n, 0, 0, 5n))).toBe(true);
    // A re-send of the old claim's last output, after the new ones, is still a copy.
    expect(marks.admit(copy('lines', 0, 49661n, 0, 1, 4n))).toBe(false);
    expect(marks.attempted()).toEqual({ 'lines:0': 'e5:1:0:0' });
  });

  it('read watermarks stored before the epoch was part of them as epoch 0', () => {
    const marks = new OriginWatermarks({ 'lines:0': '5:0:1' });
    marks.beginAttempt();
    expect(marks.admit({ 'event-id': 'by-word:lines:0:5:1' })).toBe(false);
    expect(marks.admit(copy('lines', 0, 2n, 0, 0, 1n))).toBe(true);
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
    const marks = new OriginWatermarks({ 'lines:0': 'e3:5:0:1' });
    marks.beginAttempt();
    expect(marks.admit(copy('lines', 0, 5n, 1))).toBe(false);
    expect(marks.admit(copy('lines', 0, 6n, 0))).toBe(true);
    // The attempt failed (a stale reload): run again, 6:0 is new again.
    marks.beginAttempt();
    expect(marks.admit(copy('lines', 0, 6n, 0))).toBe(true);
    expect(marks.attempted()).toEqual({ 'lines:0': 'e3:6:0:0' });
    marks.committed();
    const restarted = new OriginWatermarks(marks.attempted());
    restarted.beginAttempt();
    expect(restarted.admit(copy('lines', 0, 6n, 0))).toBe(false);
    expect(restarted.admit(copy('lines', 0, 6n, 0, 1))).toBe(true);
  });
});
