import { describe, expect, it } from '@jest/globals';
import { parseLetterPosition, parseLimit, payloadOf, rangesAround, summarize } from '../../../app/console/dead-letters.ts';
import { sseMessage } from '../../../app/console/event-stream.ts';
import { HttpError } from '../../../app/console/http-server.ts';
import { parseOrderId, traceIdOf } from '../../../app/console/order-lookup.ts';
import { parseRetryBody } from '../../../app/console/outbox-api.ts';
import { parseProductId } from '../../../app/console/product-lookup.ts';
import { originalHeaders, parseReplayBody, replayEventId, replayMessage } from '../../../app/console/replay.ts';
import { tailRanges } from '../../../app/console/topic-reader.ts';
import type { ConsumedRecord } from '../../../kafka/port.ts';
import { deadLetterRow } from '../../../sinks/dead-letter.ts';

/** What the relay publishes for a dead letter (sinks/dead-letter.ts), as a record of the DLQ topic. */
function letterRecord(overrides: Partial<ConsumedRecord> = {}): ConsumedRecord {
  const row = deadLetterRow(
    { topic: 'orders', partition: 4, offset: 1234n, key: Buffer.from('7'), value: Buffer.from('{"bad"'), headers: { 'content-type': 'application/json' }, errorClass: 'DecodeError', message: 'Unexpected end of JSON input', node: 'orders-source', timestamp: Date.UTC(2026, 11, 3) },
    'orders.dlq',
  );
  return { topic: 'orders.dlq', partition: 0, offset: 41n, key: row.key === null ? null : Buffer.from(row.key), value: row.payload, headers: row.headers, timestamp: Date.UTC(2026, 11, 3, 1), ...overrides };
}

/** The HttpError `work` throws: its status and message. */
function refusal(work: () => unknown): { status: number; message: string } {
  try {
    work();
  } catch (error) {
    if (error instanceof HttpError) return { status: error.status, message: error.message };
    throw error;
  }
  throw new Error('did not throw');
}

describe('console request parsing and shaping', () => {
  it('limit: 1..1000, 100 when absent', () => {
    expect(parseLimit(null)).toBe(100);
    expect(parseLimit('7')).toBe(7);
    for (const bad of ['0', '1001', '-1', '1.5', 'ten', '']) expect(refusal(() => parseLimit(bad)).status).toBe(400);
  });

  it('a letter position: a partition number and a 64-bit offset as a decimal string', () => {
    expect(parseLetterPosition('2', '9223372036854775807')).toEqual({ partition: 2, offset: 9223372036854775807n });
    expect(parseLetterPosition(2, '0')).toEqual({ partition: 2, offset: 0n });
    expect(refusal(() => parseLetterPosition('2', '9223372036854775808'))).toEqual({ status: 400, message: 'offset: expected an offset as a decimal string, got "9223372036854775808"' });
    expect(refusal(() => parseLetterPosition('-1', '3')).status).toBe(400);
    expect(refusal(() => parseLetterPosition('1', 3)).status).toBe(400);
  });

  it('a replay selection: each letter once; an empty or malformed one is refused', () => {
    expect(parseReplayBody({ letters: [{ partition: 0, offset: '5' }, { partition: 0, offset: '5' }, { partition: 1, offset: '5' }] })).toEqual([
      { partition: 0, offset: 5n },
      { partition: 1, offset: 5n },
    ]);
    expect(refusal(() => parseReplayBody({ letters: [] })).status).toBe(400);
    expect(refusal(() => parseReplayBody(null)).status).toBe(400);
    expect(refusal(() => parseReplayBody({ letters: [{ partition: 0 }] })).status).toBe(400);
  });

  it('a retry: outbox row ids as decimal strings', () => {
    expect(parseRetryBody({ ids: ['3', '12', '3'] })).toEqual([3n, 12n]);
    expect(refusal(() => parseRetryBody({ ids: [3] })).status).toBe(400);
    expect(refusal(() => parseRetryBody({ ids: [] })).status).toBe(400);
  });

  it('an order id is a UUID (lower-cased); a product id an integer of PostgreSQL', () => {
    expect(parseOrderId('0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B')).toBe('0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b');
    expect(refusal(() => parseOrderId('42')).status).toBe(400);
    expect(parseProductId('42')).toBe(42);
    for (const bad of ['0', '2147483648', '4.2', 'x', '']) expect(refusal(() => parseProductId(bad)).status).toBe(400);
  });

  it('the trace id of a W3C traceparent, or null', () => {
    expect(traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('00-00000000000000000000000000000000-00f067aa0ba902b7-01')).toBeNull();
    expect(traceIdOf('garbage')).toBeNull();
    expect(traceIdOf(null)).toBeNull();
  });

  it('a dead letter\'s summary: its provenance headers, size and replay time', () => {
    const record = letterRecord();
    expect(summarize(record, new Date('2026-12-03T10:00:00.000Z'))).toEqual({
      partition: 0,
      offset: '41',
      timestamp: '2026-12-03T01:00:00.000Z',
      key: '7',
      headers: record.headers,
      originalTopic: 'orders',
      originalPartition: 4,
      originalOffset: '1234',
      errorClass: 'DecodeError',
      errorMessage: 'Unexpected end of JSON input',
      size: 6,
      replayedAt: '2026-12-03T10:00:00.000Z',
    });
    expect(summarize(record, undefined).replayedAt).toBeNull();
  });

  it('a payload as text only when it is valid UTF-8, always as base64', () => {
    expect(payloadOf(Buffer.from('{"a":1}'))).toEqual({ text: '{"a":1}', base64: Buffer.from('{"a":1}').toString('base64') });
    expect(payloadOf(Buffer.from([0xff, 0xfe, 0x00]))).toEqual({ text: null, base64: '//4A' });
    expect(payloadOf(null)).toEqual({ text: '', base64: '' });
  });

  it('the replayed record: the original topic, key and bytes, the non-dlq headers, and where and when it was replayed from', () => {
    const at = new Date('2026-12-03T12:00:00.000Z');
    const message = replayMessage('orders.dlq', letterRecord({ headers: { ...letterRecord().headers, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } }), at);
    expect(message).toEqual({
      eventId: 'replay:orders.dlq:0:41',
      topic: 'orders',
      key: '7',
      payload: Buffer.from('{"bad"'),
      headers: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', 'dlq-replayed-from': 'orders.dlq:0:41', 'dlq-replayed-at': '2026-12-03T12:00:00.000Z' },
    });
    expect(replayEventId('orders.dlq', { partition: 0, offset: 41n })).toBe(message.eventId);
    // Only the DeadLetter's own event headers go: a record that is no dead letter keeps its event id and type.
    expect(originalHeaders({ 'event-id': 'x', 'event-type': 'OrderCreated', 'dlq-node': 'n' })).toEqual({ 'event-id': 'x', 'event-type': 'OrderCreated' });
  });

  it('refuses to replay a letter without an original topic, or whose key the outbox cannot hold', () => {
    const headers = letterRecord().headers;
    const { 'dlq-original-topic': _topic, ...withoutTopic } = headers;
    expect(refusal(() => replayMessage('orders.dlq', letterRecord({ headers: withoutTopic }), new Date())).status).toBe(422);
    expect(refusal(() => replayMessage('orders.dlq', letterRecord({ headers: { ...headers, 'dlq-original-key-base64': 'AA==' } }), new Date())).status).toBe(422);
  });

  it('ranges: the tail of each partition within its bounds; letters close together read as one range', () => {
    expect(tailRanges(new Map([[0, { start: 0n, end: 30n }], [1, { start: 95n, end: 120n }], [2, { start: 0n, end: 0n }]]), 100)).toEqual([
      { partition: 0, from: 0n, to: 30n },
      { partition: 1, from: 95n, to: 120n },
      { partition: 2, from: 0n, to: 0n },
    ]);
    expect(tailRanges(new Map([[0, { start: 0n, end: 1000n }]]), 100)).toEqual([{ partition: 0, from: 900n, to: 1000n }]);
    expect(rangesAround([{ partition: 0, offset: 10n }, { partition: 0, offset: 3n }, { partition: 0, offset: 2000n }, { partition: 1, offset: 5n }], 500n)).toEqual([
      { partition: 0, from: 3n, to: 11n },
      { partition: 0, from: 2000n, to: 2001n },
      { partition: 1, from: 5n, to: 6n },
    ]);
  });

  it('an SSE message: the event name and its JSON on one data line', () => {
    expect(sseMessage('snapshot', { a: 'x\ny' })).toBe('event: snapshot\ndata: {"a":"x\\ny"}\n\n');
  });
});
