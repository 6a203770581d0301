/**
 * Poison records for the `poison` fault: records no processor can apply, produced straight to
 * the orders topic. Each carries a `verify-poison-id` header, so the checks find it on the topic
 * (its partition and offset) and then look for its dead letter by the provenance headers.
 */
import { randomUUID } from 'node:crypto';
import type { OutgoingMessage } from '../kafka/port.ts';
import { encodeEvent, eventHeaders, orderCreated, orderKey } from '../processors/events.ts';

export const POISON_HEADER = 'verify-poison-id';

export const POISON_KINDS = ['undecodable', 'schema-invalid', 'product-id-overflow', 'key-mismatch', 'unstored-order', 'unstored-order-copy'] as const;
export type PoisonKind = (typeof POISON_KINDS)[number];

export interface PoisonRecord {
  id: string;
  kind: PoisonKind;
  /** The order id the record claims, when it has one: such an order must not be in `orders`. */
  orderId: string | undefined;
  message: OutgoingMessage;
}

/** Largest value of PostgreSQL's INTEGER, the type of product ids. */
const MAX_INT4 = 2_147_483_647;

/**
 * One record of each kind. `productIds` is the catalogue: the well-formed ones name real
 * products, so only the thing under test is wrong with them. `round` keeps ids unique when
 * the fault runs more than once.
 */
export function buildPoisonRecords(topic: string, productIds: readonly number[], round: number, nowMs: number): PoisonRecord[] {
  const first = productIds[0] ?? 1;
  const last = productIds[productIds.length - 1] ?? 1;
  const other = productIds.find((id) => id !== first) ?? first + 1;
  const unstored = randomUUID();
  const event = (orderId: string, productId: number) => orderCreated({ orderId, customerId: 'verify-poison', lines: [{ productId, quantity: 1 }] }, nowMs);
  const records: Array<{ kind: PoisonKind; orderId?: string; key: string; value: Buffer; headers?: Record<string, string> }> = [
    // Not UTF-8 at all.
    { kind: 'undecodable', key: String(first), value: Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x00, 0x7b]) },
    // JSON with the envelope of an OrderCreated and a negative quantity.
    {
      kind: 'schema-invalid',
      key: String(first),
      value: Buffer.from(JSON.stringify({ ...event(randomUUID(), first), payload: { orderId: randomUUID(), customerId: 'verify-poison', lines: [{ productId: first, quantity: -3 }] } })),
    },
    // Valid by the schema (a safe integer), out of range for the database.
    (() => {
      const orderId = randomUUID();
      const overflow = event(orderId, MAX_INT4 + 1);
      return { kind: 'product-id-overflow' as const, orderId, key: orderKey(overflow.payload), value: encodeEvent(overflow), headers: eventHeaders(overflow) };
    })(),
    // Keyed (and so partitioned) as another product than the one it names.
    (() => {
      const orderId = randomUUID();
      const mismatched = event(orderId, first);
      return { kind: 'key-mismatch' as const, orderId, key: String(other), value: encodeEvent(mismatched), headers: eventHeaders(mismatched) };
    })(),
    // A well-formed OrderCreated whose order was never stored, and a second copy of it.
    ...(['unstored-order', 'unstored-order-copy'] as const).map((kind) => {
      const ghost = event(unstored, last);
      return { kind, orderId: unstored, key: orderKey(ghost.payload), value: encodeEvent(ghost), headers: eventHeaders(ghost) };
    }),
  ];
  return records.map((record, index) => {
    const id = `poison-${round}-${index}-${record.kind}`;
    return {
      id,
      kind: record.kind,
      orderId: record.orderId,
      message: { topic, key: record.key, value: record.value, headers: { ...(record.headers ?? {}), [POISON_HEADER]: id } },
    };
  });
}
