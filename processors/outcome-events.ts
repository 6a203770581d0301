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
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { Codec } from '../core/codec.ts';
import { type EventEnvelope, encodeEvent, eventSchema, isoTimestamp, parseJson, versionOf } from './event-json.ts';
import { arrayOf, compileContract, literal, nonNegativePgInteger, oneOf, positivePgInteger, uuid } from './event-schema.ts';
import { ORDER_LINE_SCHEMA, type OrderLine, REJECTION_REASONS, type RejectionReason } from './events.ts';

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

const lineCount = (minimum: number) => (_length: number) => `must have at least ${minimum} line${minimum === 1 ? '' : 's'}`;
const decidedOrder = uuid({ description: 'The order; also the record key. Decoded in lower case.' });

const LINE_OUTCOME_SCHEMA = Type.Union([
  Type.Object({ ...ORDER_LINE_SCHEMA.properties, outcome: literal('reserved') }),
  Type.Object({ ...ORDER_LINE_SCHEMA.properties, outcome: literal('refused'), reason: oneOf(REJECTION_REASONS) }),
]);

export const ORDER_CONFIRMED_SCHEMA = eventSchema(
  'OrderConfirmed',
  OUTCOME_SCHEMA_VERSION,
  Type.Object({
    orderId: decidedOrder,
    lines: arrayOf(ORDER_LINE_SCHEMA, { minItems: 1, count: lineCount(1), description: 'Every line, each reserved: the stock they took stays taken.' }),
  }),
  'An order whose every line was reserved.',
);

export const ORDER_REJECTED_SCHEMA = eventSchema(
  'OrderRejected',
  OUTCOME_SCHEMA_VERSION,
  Type.Object({
    orderId: decidedOrder,
    lines: arrayOf(LINE_OUTCOME_SCHEMA, { minItems: 1, count: lineCount(1), description: 'Every line with what happened to it; the reserved ones were released again.' }),
  }),
  'An order with at least one refused line.',
);

export const ORDER_CANCELLED_SCHEMA = eventSchema(
  'OrderCancelled',
  OUTCOME_SCHEMA_VERSION,
  Type.Object({
    orderId: decidedOrder,
    requestId: uuid({ description: 'The CancelOrder this answers. Decoded in lower case.' }),
    result: oneOf(CANCELLATION_RESULTS, { description: 'cancelled: its reserved stock was released (or nothing was reserved yet); the rest changed nothing.' }),
    releasedLines: arrayOf(ORDER_LINE_SCHEMA, { description: 'The lines whose stock went back; empty unless result is cancelled after a reservation.' }),
  }),
  'The answer to one cancellation request.',
);

export const INVENTORY_RESTOCKED_SCHEMA = eventSchema(
  'InventoryRestocked',
  OUTCOME_SCHEMA_VERSION,
  Type.Object({
    restockId: uuid({ description: 'The RestockInventory applied. Decoded in lower case.' }),
    productId: positivePgInteger('The product; also the record key.'),
    quantity: positivePgInteger('Units added.'),
    stockAfter: nonNegativePgInteger("The product's stock right after the restock."),
  }),
  'A restock applied (once per restockId).',
);

const copyLine = ({ productId, quantity }: OrderLine): OrderLine => ({ productId, quantity });

function decoder<E extends EventEnvelope<string, unknown, number>, Payload>(type: E['type'], schema: TSchema, payloadOf: (payload: Payload) => E['payload']): Codec<E> {
  const contract = compileContract(schema, 'event');
  return {
    decode(bytes) {
      const json = parseJson(bytes, type);
      versionOf(json, type, [OUTCOME_SCHEMA_VERSION]);
      contract.assert(json);
      const { eventId, occurredAt, payload } = json as { eventId: string; occurredAt: string; payload: Payload };
      return { eventId, type, schemaVersion: OUTCOME_SCHEMA_VERSION, occurredAt, payload: payloadOf(payload) } as E;
    },
    encode: encodeEvent,
  };
}

export const orderConfirmedCodec = decoder<OrderConfirmed, Static<typeof ORDER_CONFIRMED_SCHEMA>['payload']>('OrderConfirmed', ORDER_CONFIRMED_SCHEMA, (payload) => ({
  orderId: payload.orderId.toLowerCase(),
  lines: payload.lines.map(copyLine),
}));

export const orderRejectedCodec = decoder<OrderRejected, Static<typeof ORDER_REJECTED_SCHEMA>['payload']>('OrderRejected', ORDER_REJECTED_SCHEMA, (payload) => ({
  orderId: payload.orderId.toLowerCase(),
  lines: payload.lines.map(lineOutcome),
}));

export const orderCancelledCodec = decoder<OrderCancelled, Static<typeof ORDER_CANCELLED_SCHEMA>['payload']>('OrderCancelled', ORDER_CANCELLED_SCHEMA, (payload) => ({
  orderId: payload.orderId.toLowerCase(),
  requestId: payload.requestId.toLowerCase(),
  result: payload.result,
  releasedLines: payload.releasedLines.map(copyLine),
}));

export const inventoryRestockedCodec = decoder<InventoryRestocked, Static<typeof INVENTORY_RESTOCKED_SCHEMA>['payload']>('InventoryRestocked', INVENTORY_RESTOCKED_SCHEMA, (payload) => ({
  restockId: payload.restockId.toLowerCase(),
  productId: payload.productId,
  quantity: payload.quantity,
  stockAfter: payload.stockAfter,
}));
