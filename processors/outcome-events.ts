/**
 * The outcome events of the order flow, each on a topic of its own: OrderConfirmed,
 * OrderRejected and OrderCancelled (keyed by order id) and InventoryRestocked (keyed by product
 * id). They are facts, in the past tense, published once each: the pipeline decides an order
 * once, applies a cancellation or a restock once, and every event id is derived from what it
 * reports, so a consumer can de-duplicate a copy the relay sent twice:
 *
 * - `order-confirmed:<orderId>`, `order-rejected:<orderId>`: an order is decided once;
 * - `order-cancelled:<orderId>:<requestId>`: one outcome per cancellation request, also when the
 *   request changed nothing (an unknown, rejected or already cancelled order);
 * - `inventory-restocked:<restockId>`: a restock is applied once.
 */
import { type Codec, SchemaError } from '../core/codec.ts';
import {
  arrayAt,
  describe,
  type EventEnvelope,
  encodeEvent,
  envelopeOf,
  isoTimestamp,
  nonNegativePgInteger,
  objectAt,
  parseJson,
  positivePgInteger,
  uuidAt,
} from './event-json.ts';
import { type OrderLine, REJECTION_REASONS, type RejectionReason } from './events.ts';

export const OUTCOME_SCHEMA_VERSION = 1;

/** What became of one line of an order at its product's partition. */
export type LineOutcome = (OrderLine & { outcome: 'reserved' }) | (OrderLine & { outcome: 'refused'; reason: RejectionReason });

export interface OrderConfirmedPayload {
  orderId: string;
  /** Every line, each reserved: the stock they took stays taken. */
  lines: OrderLine[];
}

export interface OrderRejectedPayload {
  orderId: string;
  /** Every line with what happened to it; the reserved ones were released again. */
  lines: LineOutcome[];
}

/**
 * What a cancellation request achieved: `cancelled` (the order's reserved stock was released, or
 * it was cancelled before anything was reserved); the rest change nothing.
 */
export type CancellationResult = 'cancelled' | 'already_cancelled' | 'already_requested' | 'order_rejected' | 'unknown_order';
export const CANCELLATION_RESULTS: readonly CancellationResult[] = ['cancelled', 'already_cancelled', 'already_requested', 'order_rejected', 'unknown_order'];

export interface OrderCancelledPayload {
  orderId: string;
  /** The cancellation request this answers. */
  requestId: string;
  result: CancellationResult;
  /** The lines whose stock went back; empty unless `result` is `cancelled` after a reservation. */
  releasedLines: OrderLine[];
}

export interface InventoryRestockedPayload {
  restockId: string;
  productId: number;
  /** Units added. */
  quantity: number;
  /** The product's stock right after the restock. */
  stockAfter: number;
}

export type OrderConfirmed = EventEnvelope<'OrderConfirmed', OrderConfirmedPayload, typeof OUTCOME_SCHEMA_VERSION>;
export type OrderRejected = EventEnvelope<'OrderRejected', OrderRejectedPayload, typeof OUTCOME_SCHEMA_VERSION>;
export type OrderCancelled = EventEnvelope<'OrderCancelled', OrderCancelledPayload, typeof OUTCOME_SCHEMA_VERSION>;
export type InventoryRestocked = EventEnvelope<'InventoryRestocked', InventoryRestockedPayload, typeof OUTCOME_SCHEMA_VERSION>;
export type OrderOutcome = OrderConfirmed | OrderRejected | OrderCancelled;

function envelope<Type extends string, Payload>(type: Type, eventId: string, payload: Payload, occurredAt: Date | string | number) {
  return { eventId, type, schemaVersion: OUTCOME_SCHEMA_VERSION, occurredAt: isoTimestamp(occurredAt), payload } as const;
}

const orderLine = ({ productId, quantity }: OrderLine): OrderLine => ({ productId, quantity });

function lineOutcome(line: LineOutcome): LineOutcome {
  return line.outcome === 'reserved'
    ? { productId: line.productId, quantity: line.quantity, outcome: 'reserved' }
    : { productId: line.productId, quantity: line.quantity, outcome: 'refused', reason: line.reason };
}

export const orderConfirmedEventId = (orderId: string) => `order-confirmed:${orderId}`;
export const orderRejectedEventId = (orderId: string) => `order-rejected:${orderId}`;
export const orderCancelledEventId = (orderId: string, requestId: string) => `order-cancelled:${orderId}:${requestId}`;
export const inventoryRestockedEventId = (restockId: string) => `inventory-restocked:${restockId}`;

export function orderConfirmed(payload: OrderConfirmedPayload, occurredAt: Date | string | number): OrderConfirmed {
  return envelope('OrderConfirmed', orderConfirmedEventId(payload.orderId), { orderId: payload.orderId, lines: payload.lines.map(orderLine) }, occurredAt);
}

export function orderRejected(payload: OrderRejectedPayload, occurredAt: Date | string | number): OrderRejected {
  return envelope('OrderRejected', orderRejectedEventId(payload.orderId), { orderId: payload.orderId, lines: payload.lines.map(lineOutcome) }, occurredAt);
}

export function orderCancelled(payload: OrderCancelledPayload, occurredAt: Date | string | number): OrderCancelled {
  const { orderId, requestId, result } = payload;
  return envelope('OrderCancelled', orderCancelledEventId(orderId, requestId), { orderId, requestId, result, releasedLines: payload.releasedLines.map(orderLine) }, occurredAt);
}

export function inventoryRestocked(payload: InventoryRestockedPayload, occurredAt: Date | string | number): InventoryRestocked {
  const { restockId, productId, quantity, stockAfter } = payload;
  return envelope('InventoryRestocked', inventoryRestockedEventId(restockId), { restockId, productId, quantity, stockAfter }, occurredAt);
}

// ---------------------------------------------------------------------------------------
// Decoding: for consumers of the outcome topics (the verifier, tests, other services).

function orderLineAt(value: unknown, path: string): OrderLine {
  const line = objectAt(value, path);
  return { productId: positivePgInteger(line.productId, `${path}.productId`), quantity: positivePgInteger(line.quantity, `${path}.quantity`) };
}

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SchemaError(path, `${path} must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function lineOutcomeAt(value: unknown, path: string): LineOutcome {
  const line = orderLineAt(value, path);
  const entry = objectAt(value, path);
  const outcome = oneOf(entry.outcome, `${path}.outcome`, ['reserved', 'refused'] as const);
  return outcome === 'reserved' ? { ...line, outcome } : { ...line, outcome, reason: oneOf(entry.reason, `${path}.reason`, REJECTION_REASONS) };
}

function linesAt<T>(value: unknown, path: string, line: (value: unknown, path: string) => T, minimum: number): T[] {
  const lines = arrayAt(value, path);
  if (lines.length < minimum) throw new SchemaError(path, `${path} must have at least ${minimum} line${minimum === 1 ? '' : 's'}`);
  return lines.map((entry, i) => line(entry, `${path}[${i}]`));
}

function decoder<E extends EventEnvelope<string, unknown, number>>(type: E['type'], payloadOf: (payload: Record<string, unknown>) => E['payload']): Codec<E> {
  return {
    decode(bytes) {
      const { eventId, occurredAt, payload } = envelopeOf(parseJson(bytes, type), type, [OUTCOME_SCHEMA_VERSION]);
      return { eventId, type, schemaVersion: OUTCOME_SCHEMA_VERSION, occurredAt, payload: payloadOf(payload) } as E;
    },
    encode: encodeEvent,
  };
}

export const orderConfirmedCodec = decoder<OrderConfirmed>('OrderConfirmed', (payload) => ({
  orderId: uuidAt(payload.orderId, 'payload.orderId'),
  lines: linesAt(payload.lines, 'payload.lines', orderLineAt, 1),
}));

export const orderRejectedCodec = decoder<OrderRejected>('OrderRejected', (payload) => ({
  orderId: uuidAt(payload.orderId, 'payload.orderId'),
  lines: linesAt(payload.lines, 'payload.lines', lineOutcomeAt, 1),
}));

export const orderCancelledCodec = decoder<OrderCancelled>('OrderCancelled', (payload) => ({
  orderId: uuidAt(payload.orderId, 'payload.orderId'),
  requestId: uuidAt(payload.requestId, 'payload.requestId'),
  result: oneOf(payload.result, 'payload.result', CANCELLATION_RESULTS),
  releasedLines: linesAt(payload.releasedLines, 'payload.releasedLines', orderLineAt, 0),
}));

export const inventoryRestockedCodec = decoder<InventoryRestocked>('InventoryRestocked', (payload) => ({
  restockId: uuidAt(payload.restockId, 'payload.restockId'),
  productId: positivePgInteger(payload.productId, 'payload.productId'),
  quantity: positivePgInteger(payload.quantity, 'payload.quantity'),
  stockAfter: nonNegativePgInteger(payload.stockAfter, 'payload.stockAfter'),
}));
