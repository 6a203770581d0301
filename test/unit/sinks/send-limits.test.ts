import { describe, expect, it } from '@jest/globals';
import { BATCH_OVERHEAD_BYTES, recordRoom, recordSizeBound, SAFETY_MARGIN_BYTES, splitBySize, TopicLimits } from '../../../sinks/send-limits.ts';

const message = (topic: string, bytes: number, id = 0) => ({ id, topic, key: 'k', payload: Buffer.alloc(bytes), headers: { 'event-id': `e-${id}` } });

describe('recordSizeBound', () => {
  it('bounds a record from above: key, value and headers plus every varint at its widest', () => {
    const bound = recordSizeBound({ topic: 't', key: 'key', payload: Buffer.alloc(100), headers: { h: 'value' } });
    // The exact v2 encoding of this record is 3 + 100 + 1 + 5 bytes plus about 10 of varints.
    expect(bound).toBeGreaterThanOrEqual(3 + 100 + 1 + 5 + 10);
    expect(bound).toBe(5 + 1 + 10 + 5 + 5 + 3 + 5 + 100 + 5 + (5 + 1 + 5 + 5));
  });

  it('counts multi-byte characters as bytes', () => {
    expect(recordSizeBound({ topic: 't', key: 'é', payload: Buffer.alloc(0), headers: {} })).toBe(recordSizeBound({ topic: 't', key: 'ab', payload: Buffer.alloc(0), headers: {} }));
  });
});

describe('splitBySize', () => {
  const room = recordRoom(10_000);

  it('keeps each send of a topic within the room, in order, and cuts as few sends as it can', () => {
    const rows = Array.from({ length: 10 }, (_, i) => message('t', 3000, i));
    const { sends, oversized } = splitBySize(rows, () => room);
    expect(oversized).toEqual([]);
    expect(sends.map((send) => send.map((row) => row.id))).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
    for (const send of sends) expect(send.reduce((sum, row) => sum + recordSizeBound(row), 0)).toBeLessThanOrEqual(room);
  });

  it('gives each topic its own room: rows of two topics share a send, each topic up to its own limit', () => {
    const rows = [message('small', 3000, 0), message('big', 3000, 1), message('small', 3000, 2), message('big', 3000, 3), message('small', 3000, 4)];
    const { sends } = splitBySize(rows, (topic) => (topic === 'small' ? recordRoom(5000) : recordRoom(1_000_000)));
    expect(sends.map((send) => send.map((row) => row.id))).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('sets aside a row too large on its own, and keeps the rows around it together', () => {
    const rows = [message('t', 100, 0), message('t', 20_000, 1), message('t', 100, 2)];
    const { sends, oversized } = splitBySize(rows, () => room);
    expect(oversized.map((row) => row.id)).toEqual([1]);
    expect(sends.map((send) => send.map((row) => row.id))).toEqual([[0, 2]]);
  });

  it('sends a single row near the limit that the broker accepts (20000-byte limit: 19900 bytes of value were accepted, 19930 refused)', () => {
    const limit = 20_000;
    const { sends } = splitBySize([{ topic: 't', key: 'k', payload: Buffer.alloc(limit - BATCH_OVERHEAD_BYTES - SAFETY_MARGIN_BYTES - 60), headers: { h: 'v' } }], () => recordRoom(limit));
    expect(sends).toHaveLength(1);
    expect(splitBySize([{ topic: 't', key: 'k', payload: Buffer.alloc(19_930), headers: { h: 'v' } }], () => recordRoom(limit)).oversized).toHaveLength(1);
  });
});

describe('TopicLimits', () => {
  it('reads each topic once, reads again after invalidate, and refreshes only stale readings before a park', async () => {
    const reads: string[] = [];
    let now = 0;
    let limit = 5000;
    const maxMessageBytes = async (topic: string) => {
      reads.push(topic);
      return limit;
    };
    const limits = new TopicLimits({ maxMessageBytes }, () => now);
    await limits.load(['a', 'b', 'a']);
    await limits.load(['a']);
    expect(reads).toEqual(['a', 'b']);
    expect(limits.limitOf('a')).toBe(5000);

    limit = 9000;
    limits.invalidate(['a']);
    await limits.load(['a', 'b']);
    expect(limits.limitOf('a')).toBe(9000);
    expect(limits.limitOf('b')).toBe(5000);

    expect(limits.invalidateStale(['b'])).toBe(false);
    now = 5000;
    expect(limits.invalidateStale(['b'])).toBe(true);
    await limits.load(['b']);
    expect(limits.limitOf('b')).toBe(9000);
    expect(() => limits.limitOf('c')).toThrow(/not loaded/);
  });
});
