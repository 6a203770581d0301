import { describe, expect, it } from '@jest/globals';
import { measureRecovery, type Sample, stalledPartitions } from '../../../verify/recovery.ts';

/** A sample at `atMs` seconds with offsets and high watermarks per partition (named by their index: the monitor names them `orders[3]`). */
function at(seconds: number, offsets: number[], marks: number[], extra: Partial<Sample> = {}): Sample {
  return {
    atMs: seconds * 1000,
    offsets: new Map(offsets.map((offset, partition) => [String(partition), BigInt(offset)])),
    highWatermarks: new Map(marks.map((mark, partition) => [String(partition), BigInt(mark)])),
    ...extra,
  };
}

describe('measureRecovery', () => {
  it('is the time from the service coming back until every partition with work committed again', () => {
    const samples = [at(0, [10, 10], [12, 12]), at(5, [10, 10], [15, 15]), at(6, [11, 10], [16, 16]), at(8, [12, 13], [17, 17])];
    expect(measureRecovery(samples, { startedAtMs: 1_000, backAtMs: 5_000, components: ['processor'] })).toEqual({ recoveryMs: 3_000, detail: 'processor 3.0s' });
  });

  it('counts a caught-up partition as resumed without new commits', () => {
    const samples = [at(0, [10, 5], [12, 5]), at(3, [12, 5], [12, 5])];
    expect(measureRecovery(samples, { startedAtMs: 0, backAtMs: 1_000, components: ['processor'] }).recoveryMs).toBe(2_000);
  });

  it('names the partitions that never moved again', () => {
    const samples = [at(0, [10, 10], [12, 12]), at(3, [12, 10], [14, 14]), at(6, [14, 10], [16, 16])];
    expect(measureRecovery(samples, { startedAtMs: 0, backAtMs: 1_000, components: ['processor'] })).toEqual({ recoveryMs: undefined, detail: 'processor partitions 1 committed nothing since' });
  });

  it('leaves out partitions that were already stuck before the fault, and says so', () => {
    // Partition 1 is behind and does not move for the 12 s before the fault: not this fault's doing.
    const samples = [at(0, [0, 3], [1, 9]), at(12, [5, 3], [6, 9]), at(14, [5, 3], [7, 9]), at(16, [7, 3], [8, 9])];
    expect(stalledPartitions(samples, 13_000)).toEqual(new Set(['1']));
    expect(measureRecovery(samples, { startedAtMs: 13_000, backAtMs: 14_000, components: ['processor'] })).toEqual({
      recoveryMs: 2_000,
      detail: 'processor 2.0s (partitions 1 were stuck before the fault)',
    });
  });

  it('needs the source to store and the relay to publish again, and reports the slowest component', () => {
    const samples = [
      { atMs: 0, storedOrders: 100, publishedEvents: 50, unpublishedOutbox: 4 },
      { atMs: 2_000, storedOrders: 100, publishedEvents: 50, unpublishedOutbox: 9 },
      { atMs: 3_000, storedOrders: 130, publishedEvents: 50, unpublishedOutbox: 9 },
      { atMs: 9_000, storedOrders: 160, publishedEvents: 51, unpublishedOutbox: 2 },
    ];
    expect(measureRecovery(samples, { startedAtMs: 500, backAtMs: 1_000, components: ['source', 'relay'] })).toEqual({ recoveryMs: 8_000, detail: 'source 2.0s, relay 8.0s' });
    expect(measureRecovery(samples.slice(0, 3), { startedAtMs: 500, backAtMs: 1_000, components: ['source', 'relay'] })).toEqual({
      recoveryMs: undefined,
      detail: 'relay published nothing since (outbox backlog 9), source 2.0s',
    });
  });

  it('compares only with samples taken after the service came back: a commit just before the fault does not count', () => {
    // Partition 0 committed between the sample at 0 s and the fault; nothing moves after it.
    const samples = [at(0, [1], [9]), { atMs: 2_000 }, at(4, [5], [9]), at(5, [5], [10])];
    expect(measureRecovery(samples, { startedAtMs: 1_000, backAtMs: 1_500, components: ['processor'] }).recoveryMs).toBeUndefined();
    samples.push(at(7, [6], [10]));
    expect(measureRecovery(samples, { startedAtMs: 1_000, backAtMs: 1_500, components: ['processor'] }).recoveryMs).toBe(5_500);
  });
});

describe('measureRecovery after poison', () => {
  it('needs every partition consumed past what was on the topic when the poison had been produced', () => {
    const samples = [at(0, [10, 10], [10, 10]), at(2, [11, 10], [12, 13]), at(3, [12, 12], [13, 14]), at(4, [13, 13], [14, 15])];
    expect(measureRecovery(samples, { startedAtMs: 1_000, backAtMs: 1_000, components: ['consumed-past'] })).toEqual({ recoveryMs: 3_000, detail: 'consumed-past 3.0s' });
  });

  it('names the partition halted on a poison record', () => {
    const samples = [at(0, [10, 10], [10, 10]), at(2, [11, 10], [12, 13]), at(3, [12, 10], [13, 14]), at(4, [13, 10], [14, 15])];
    expect(measureRecovery(samples, { startedAtMs: 1_000, backAtMs: 1_000, components: ['consumed-past'] }).detail).toBe(
      'consumed-past partitions 1 never got past the records on the topic when the fault ended',
    );
  });
});
