import { describe, expect, it } from '@jest/globals';
import { decodeOrderCreated } from '../../../processors/events.ts';
import { buildPoisonRecords, POISON_HEADER, POISON_KINDS } from '../../../verify/poison.ts';

describe('buildPoisonRecords', () => {
  const records = buildPoisonRecords('orders', [1, 2, 3], 4, Date.UTC(2026, 11, 1));
  const byKind = new Map(records.map((record) => [record.kind, record]));

  it('makes one record of each kind, each tagged with a unique id for finding it on the topic', () => {
    expect(records.map((record) => record.kind)).toEqual([...POISON_KINDS]);
    expect(new Set(records.map((record) => record.message.headers![POISON_HEADER])).size).toBe(records.length);
    expect(records.every((record) => record.message.topic === 'orders' && record.id.startsWith('poison-4-'))).toBe(true);
  });

  it('makes the undecodable one fail to decode and the schema-invalid one fail the schema', () => {
    expect(() => decodeOrderCreated(byKind.get('undecodable')!.message.value as Buffer)).toThrow(/UTF-8/);
    expect(() => decodeOrderCreated(byKind.get('schema-invalid')!.message.value as Buffer)).toThrow(/payload.lines\[0\].quantity/);
  });

  it('makes the overflowing one well-formed JSON whose productId is one above the PostgreSQL integer range', () => {
    const overflow = byKind.get('product-id-overflow')!;
    expect(JSON.parse((overflow.message.value as Buffer).toString('utf8')).payload.lines[0].productId).toBe(2 ** 31);
    expect(overflow.message.key).toBe(String(2 ** 31));
    expect(() => decodeOrderCreated(overflow.message.value as Buffer)).toThrow(/payload.lines\[0\].productId must be at most 2147483647/);
  });

  it('makes the others valid OrderCreated that are wrong only in the way named', () => {
    const mismatch = byKind.get('key-mismatch')!;
    expect(decodeOrderCreated(mismatch.message.value as Buffer).payload.lines).toEqual([{ productId: 1, quantity: 1 }]);
    expect(mismatch.message.key).toBe('2');
    const ghost = byKind.get('unstored-order')!;
    const copy = byKind.get('unstored-order-copy')!;
    expect(decodeOrderCreated(ghost.message.value as Buffer).payload).toMatchObject({ orderId: ghost.orderId, lines: [{ productId: 3, quantity: 1 }] });
    expect(copy.orderId).toBe(ghost.orderId);
    expect(Buffer.compare(copy.message.value as Buffer, ghost.message.value as Buffer)).toBe(0);
  });
});
