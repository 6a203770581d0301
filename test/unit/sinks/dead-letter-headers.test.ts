/**
 * A dead letter keeps every header of the record it holds (sinks/dead-letter.ts), and a replay
 * gives them back: the round trip a replayed record's consumers rely on (its event id for their
 * deduplication, its traceparent for its trace).
 */
import { describe, expect, it } from '@jest/globals';
import { type DeadLetter, deadLetterRow, restoredHeaders } from '../../../sinks/dead-letter.ts';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function letter(headers: Record<string, string>): DeadLetter {
  return { topic: 'orders', partition: 1, offset: 9n, key: Buffer.from('7'), value: Buffer.from('{"bad"'), headers, errorClass: 'DecodeError', message: 'm', node: 'orders-source', timestamp: Date.UTC(2026, 11, 3) };
}

const original = { 'event-id': 'order-created:1', 'event-type': 'OrderCreated', 'content-type': 'application/json', traceparent: TRACEPARENT, tracestate: 'vendor=1' };

describe('deadLetterRow headers', () => {
  it("keeps every header of the original record, its event id and type under dlq-original-*, the letter's own event id and type in their place", () => {
    expect(deadLetterRow(letter(original), 'orders.dlq').headers).toEqual({
      'content-type': 'application/json',
      traceparent: TRACEPARENT,
      tracestate: 'vendor=1',
      'dlq-original-event-id': 'order-created:1',
      'dlq-original-event-type': 'OrderCreated',
      'dlq-original-topic': 'orders',
      'dlq-original-partition': '1',
      'dlq-original-offset': '9',
      'dlq-error-class': 'DecodeError',
      'dlq-error-message': 'm',
      'dlq-node': 'orders-source',
      'dlq-timestamp': '2026-12-03T00:00:00.000Z',
      'event-id': 'dead-letter:orders:1:9',
      'event-type': 'DeadLetter',
    });
  });

  it('adds no dlq-original-event-id or -type when the original had none', () => {
    const headers = deadLetterRow(letter({ 'test-header': 'kept' }), 'orders.dlq').headers;
    expect(headers['test-header']).toBe('kept');
    expect(Object.keys(headers).filter((name) => name.startsWith('dlq-original-event'))).toEqual([]);
  });

  it("writes its own provenance over a record's stale dlq- headers (a record copied off a dead-letter topic), and keeps its other dlq- headers", () => {
    const stale = { 'dlq-original-topic': 'elsewhere', 'dlq-original-key-base64': 'AA==', 'dlq-original-event-id': 'never-this', 'dlq-replayed-from': 'orders.dlq:0:3' };
    const headers = deadLetterRow(letter(stale), 'orders.dlq').headers;
    expect(headers).toMatchObject({ 'dlq-original-topic': 'orders', 'dlq-replayed-from': 'orders.dlq:0:3' });
    expect(headers['dlq-original-key-base64']).toBeUndefined();
    expect(headers['dlq-original-event-id']).toBeUndefined();
  });

  it('stores header names and values holding U+0000 (which jsonb refuses) with a replacement', () => {
    const headers = deadLetterRow(letter({ 'x-bin\u0000': 'a\u0000b', 'event-id': 'id\u0000' }), 'orders.dlq').headers;
    expect(headers).toMatchObject({ 'x-bin\uFFFD': 'a\uFFFDb', 'dlq-original-event-id': 'id\uFFFD' });
    expect(JSON.stringify(headers)).not.toContain('\\u0000');
  });

  it('keeps a header named __proto__ as a header', () => {
    const headers = deadLetterRow(letter(JSON.parse('{"__proto__": "x"}')), 'orders.dlq').headers;
    expect(Object.entries(headers)).toContainEqual(['__proto__', 'x']);
  });
});

describe('restoredHeaders', () => {
  it("gives the original record's headers back under their own names, without the letter's dlq- and own event headers", () => {
    expect(restoredHeaders(deadLetterRow(letter(original), 'orders.dlq').headers)).toEqual(original);
  });

  it('restores a letter written before letters kept the original headers as then: its non-dlq headers without its own event id and type', () => {
    const older = { 'dlq-original-topic': 'orders', 'dlq-original-partition': '1', 'dlq-original-offset': '9', 'dlq-node': 'n', 'event-id': 'dead-letter:orders:1:9', 'event-type': 'DeadLetter', traceparent: TRACEPARENT };
    expect(restoredHeaders(older)).toEqual({ traceparent: TRACEPARENT });
    // Only the DeadLetter's own event headers go: a record that is no dead letter keeps its event id and type.
    expect(restoredHeaders({ 'event-id': 'x', 'event-type': 'OrderCreated', 'dlq-node': 'n' })).toEqual({ 'event-id': 'x', 'event-type': 'OrderCreated' });
  });

  it("does not give back a repartition's event id, which the reading task would skip as a record it has read, but keeps it in sight", () => {
    const repartitioned = { 'event-id': 'inventory-repartition:orders:3:e2:1500:0', 'event-type': 'OrderLineRequested', traceparent: TRACEPARENT };
    expect(restoredHeaders(deadLetterRow(letter(repartitioned), 'orders.dlq').headers)).toEqual({
      'event-type': 'OrderLineRequested',
      traceparent: TRACEPARENT,
      'dlq-original-event-id': 'inventory-repartition:orders:3:e2:1500:0',
    });
  });
});
