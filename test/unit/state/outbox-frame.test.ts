import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { decodeFrame, encodeFrame, type FramedRecord } from '../../../state/outbox-frame.ts';
import { type OutboxMessage, outboxRows } from '../../../state/outbox-store.ts';

const record = fc.record({
  eventId: fc.string({ minLength: 1 }),
  key: fc.option(fc.string(), { nil: null }),
  headers: fc.dictionary(fc.string(), fc.string()),
  payload: fc.uint8Array().map((bytes) => Buffer.from(bytes)),
});

describe('outbox frame', () => {
  it('decodes what it encodes: every record, in order, keys, headers and exact bytes', () => {
    fc.assert(
      fc.property(fc.array(record, { maxLength: 20 }), (records: FramedRecord[]) => {
        expect(decodeFrame(encodeFrame(records))).toEqual(records);
      }),
      { numRuns: 2000 },
    );
  });

  it('tells a null key from an empty one, and keeps non-ASCII text', () => {
    const records: FramedRecord[] = [
      { eventId: 'a', key: null, headers: {}, payload: Buffer.from('x') },
      { eventId: 'b', key: '', headers: { 'trace-état': 'ü' }, payload: Buffer.alloc(0) },
    ];
    expect(decodeFrame(encodeFrame(records))).toEqual(records);
  });

  it('refuses a truncated frame instead of inventing records', () => {
    const frame = encodeFrame([{ eventId: 'a', key: 'k', headers: { h: 'v' }, payload: Buffer.from('payload') }]);
    for (const length of [3, 10, frame.length - 1]) expect(() => decodeFrame(frame.subarray(0, length))).toThrow(/truncated/);
  });
});

describe('outboxRows', () => {
  const message = (eventId: string, topic: string): OutboxMessage => ({ eventId, topic, key: eventId, payload: Buffer.from(eventId), headers: { 'event-id': eventId } });

  it('writes one row per topic, its records in the order given, and a lone record as it is', () => {
    const rows = outboxRows([message('a1', 'a'), message('b1', 'b'), message('a2', 'a'), message('a3', 'a')]);
    expect(rows.map((row) => [row.topic, row.eventId, row.recordCount])).toEqual([
      ['a', 'a1+2', 3],
      ['b', 'b1', 1],
    ]);
    expect(decodeFrame(rows[0]!.payload).map((record) => record.eventId)).toEqual(['a1', 'a2', 'a3']);
    expect(rows[1]).toMatchObject({ key: 'b1', payload: Buffer.from('b1'), headers: { 'event-id': 'b1' } });
  });
});
