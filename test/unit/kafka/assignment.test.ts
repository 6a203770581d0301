import { describe, expect, it } from '@jest/globals';
import { AssignmentTracker } from '../../../kafka/assignment.ts';

const tp = (partition: number, topic = 'orders') => ({ topic, partition });

describe('AssignmentTracker', () => {
  it('reports added and revoked partitions and keeps retained ones', () => {
    const tracker = new AssignmentTracker();
    const first = tracker.assign([tp(0), tp(1), tp(2)]);
    expect(first.added).toEqual([tp(0), tp(1), tp(2)]);
    expect(first.revoked).toEqual([]);
    tracker.start(first.round, [{ ...tp(0), offset: 5n }, { ...tp(1), offset: 0n }, { ...tp(2), offset: 0n }]);

    const second = tracker.assign([tp(0), tp(3)]);
    expect(second.added).toEqual([tp(3)]);
    expect(second.revoked).toEqual([tp(1), tp(2)]);
    expect(tracker.assignment()).toEqual([tp(0), tp(3)]);
    expect(tracker.position(tp(0))).toBe(5n);
  });

  it('does not fetch a partition before its start offset is known', () => {
    const tracker = new AssignmentTracker();
    const change = tracker.assign([tp(0)]);
    expect(tracker.fetchPositions()).toEqual([]);
    expect(tracker.admit(tp(0), 0n)).toEqual({ action: 'drop' });
    tracker.start(change.round, [{ ...tp(0), offset: 7n }]);
    expect(tracker.fetchPositions()).toEqual([{ ...tp(0), offset: 7n }]);
  });

  it('ignores a start that arrives after the partition was revoked and re-assigned', () => {
    const tracker = new AssignmentTracker();
    const old = tracker.assign([tp(0)]);
    tracker.assign([]);
    const current = tracker.assign([tp(0)]);
    expect(tracker.start(old.round, [{ ...tp(0), offset: 1n }])).toEqual([]);
    expect(tracker.position(tp(0))).toBeUndefined();
    expect(tracker.start(current.round, [{ ...tp(0), offset: 9n }])).toEqual([{ ...tp(0), offset: 9n }]);
    expect(tracker.unstarted(current.round)).toEqual([]);
  });

  it('lists partitions onAssigned gave no offset for', () => {
    const tracker = new AssignmentTracker();
    const change = tracker.assign([tp(0), tp(1)]);
    tracker.start(change.round, [{ ...tp(1), offset: 0n }, { ...tp(7), offset: 0n }]);
    expect(tracker.unstarted(change.round)).toEqual([tp(0)]);
  });

  it('delivers only from the position, and asks for a re-seek when a fetch began past it', () => {
    const tracker = new AssignmentTracker();
    tracker.start(tracker.assign([tp(0)]).round, [{ ...tp(0), offset: 10n }]);
    expect(tracker.admit(tp(0), 4n)).toEqual({ action: 'deliver', from: 10n });
    expect(tracker.admit(tp(0), 10n)).toEqual({ action: 'deliver', from: 10n });
    expect(tracker.admit(tp(0), 11n)).toEqual({ action: 'reseek', to: 10n });
    expect(tracker.admit(tp(1), 0n)).toEqual({ action: 'drop' });
  });

  it('moves the position forward only', () => {
    const tracker = new AssignmentTracker();
    tracker.start(tracker.assign([tp(0)]).round, [{ ...tp(0), offset: 10n }]);
    tracker.advance(tp(0), 15n);
    tracker.advance(tp(0), 12n);
    expect(tracker.position(tp(0))).toBe(15n);
  });

  it('stops fetching and delivering a paused partition until it is resumed', () => {
    const tracker = new AssignmentTracker();
    tracker.start(tracker.assign([tp(0), tp(1)]).round, [{ ...tp(0), offset: 0n }, { ...tp(1), offset: 0n }]);
    expect(tracker.pause([tp(0), tp(5)])).toEqual([tp(0)]);
    expect(tracker.fetchPositions()).toEqual([{ ...tp(1), offset: 0n }]);
    expect(tracker.admit(tp(0), 0n)).toEqual({ action: 'drop' });
    expect(tracker.isFetchable(tp(0))).toBe(false);
    expect(tracker.resume([tp(0)])).toEqual([tp(0)]);
    expect(tracker.isFetchable(tp(0))).toBe(true);
  });

  it('keeps a retained partition paused across a rebalance, and forgets the pause of a revoked one', () => {
    const tracker = new AssignmentTracker();
    const round = tracker.assign([tp(0), tp(1)]).round;
    tracker.start(round, [{ ...tp(0), offset: 0n }, { ...tp(1), offset: 0n }]);
    tracker.pause([tp(0), tp(1)]);
    tracker.assign([tp(0)]);
    expect(tracker.isFetchable(tp(0))).toBe(false);
    const readded = tracker.assign([tp(0), tp(1)]);
    tracker.start(readded.round, [{ ...tp(1), offset: 3n }]);
    expect(tracker.isFetchable(tp(1))).toBe(true);
  });

  it('rejects a negative start offset', () => {
    const tracker = new AssignmentTracker();
    const change = tracker.assign([tp(0)]);
    expect(() => tracker.start(change.round, [{ ...tp(0), offset: -1n }])).toThrow(RangeError);
  });
});
