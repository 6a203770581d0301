/**
 * Commands: what someone asks of the pipeline, as opposed to the facts it reports
 * (outcome-events.ts). Two come from outside, each on a topic of its own that any producer may
 * write to, in the same JSON envelope as every event:
 *
 * - RestockInventory (keyed by product id): add units to a product's stock. Its `restockId`
 *   makes it idempotent: a copy with an id already applied changes nothing.
 * - CancelOrder (keyed by order id): cancel an order; its `requestId` names the outcome event.
 *
 * Two more travel only on the topology's internal topics, without the envelope (they are the
 * engine's records between two of its own stages, like Kafka Streams' repartition records):
 *
 * - a ProductCommand (to the product's partition): reserve one line of an order, release a line
 *   reserved earlier, or apply a restock;
 * - a LineResult (to the order's partition): what the product's partition did with a line.
 *
 * Internal topics are still decoded with checks: a record written there by hand becomes a dead
 * letter, not a crash.
 */
import { type Codec, SchemaError } from '../core/codec.ts';
import {
  describe,
  type EventEnvelope,
  encodeEvent,
  envelopeOf,
  isoTimestamp,
  objectAt,
  parseJson,
  pgTextAt,
  positiveInteger,
  positivePgInteger,
  uuidAt,
} from './event-json.ts';
import { REJECTION_REASONS, type RejectionReason } from './events.ts';

export const COMMAND_SCHEMA_VERSION = 1;

export interface RestockInventoryPayload {
  /** A UUID chosen by whoever asks; the restock is applied once per id. */
  restockId: string;
  productId: number;
  /** Units to add: a positive PostgreSQL integer. */
  quantity: number;
  /** Who asked (free text, for the audit trail). */
  requestedBy: string;
}

export interface CancelOrderPayload {
  /** A UUID chosen by whoever asks: the outcome event's id names it. */
  requestId: string;
  orderId: string;
  requestedBy: string;
}

export type RestockInventory = EventEnvelope<'RestockInventory', RestockInventoryPayload, typeof COMMAND_SCHEMA_VERSION>;
export type CancelOrder = EventEnvelope<'CancelOrder', CancelOrderPayload, typeof COMMAND_SCHEMA_VERSION>;

export function restockInventory(payload: RestockInventoryPayload, occurredAt: Date | string | number): RestockInventory {
  const { restockId, productId, quantity, requestedBy } = payload;
  return {
    eventId: `restock-inventory:${restockId}`,
    type: 'RestockInventory',
    schemaVersion: COMMAND_SCHEMA_VERSION,
    occurredAt: isoTimestamp(occurredAt),
    payload: { restockId, productId, quantity, requestedBy },
  };
}

export function cancelOrder(payload: CancelOrderPayload, occurredAt: Date | string | number): CancelOrder {
  const { requestId, orderId, requestedBy } = payload;
  return {
    eventId: `cancel-order:${requestId}`,
    type: 'CancelOrder',
    schemaVersion: COMMAND_SCHEMA_VERSION,
    occurredAt: isoTimestamp(occurredAt),
    payload: { requestId, orderId, requestedBy },
  };
}

export const restockInventoryCodec: Codec<RestockInventory> = {
  decode(bytes) {
    const { eventId, occurredAt, payload } = envelopeOf(parseJson(bytes, 'RestockInventory'), 'RestockInventory', [COMMAND_SCHEMA_VERSION]);
    return {
      eventId,
      type: 'RestockInventory',
      schemaVersion: COMMAND_SCHEMA_VERSION,
      occurredAt,
      payload: {
        restockId: uuidAt(payload.restockId, 'payload.restockId'),
        productId: positivePgInteger(payload.productId, 'payload.productId'),
        quantity: positivePgInteger(payload.quantity, 'payload.quantity'),
        requestedBy: pgTextAt(payload.requestedBy, 'payload.requestedBy'),
      },
    };
  },
  encode: encodeEvent,
};

export const cancelOrderCodec: Codec<CancelOrder> = {
  decode(bytes) {
    const { eventId, occurredAt, payload } = envelopeOf(parseJson(bytes, 'CancelOrder'), 'CancelOrder', [COMMAND_SCHEMA_VERSION]);
    return {
      eventId,
      type: 'CancelOrder',
      schemaVersion: COMMAND_SCHEMA_VERSION,
      occurredAt,
      payload: {
        requestId: uuidAt(payload.requestId, 'payload.requestId'),
        orderId: uuidAt(payload.orderId, 'payload.orderId'),
        requestedBy: pgTextAt(payload.requestedBy, 'payload.requestedBy'),
      },
    };
  },
  encode: encodeEvent,
};

// ---------------------------------------------------------------------------------------
// Internal records.

/** Why a line's stock goes back. */
export type ReleaseCause = 'order_rejected' | 'order_cancelled';
const RELEASE_CAUSES: readonly ReleaseCause[] = ['order_rejected', 'order_cancelled'];

export type ProductCommand =
  | { kind: 'reserve'; orderId: string; productId: number; quantity: number; lineCount: number }
  | { kind: 'release'; orderId: string; productId: number; quantity: number; cause: ReleaseCause }
  | { kind: 'restock'; restockId: string; productId: number; quantity: number };

export type LineResult = { orderId: string; productId: number; quantity: number; lineCount: number } & (
  | { outcome: 'reserved' }
  | { outcome: 'refused'; reason: RejectionReason }
);

function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new SchemaError(path, `${path} must be one of ${allowed.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

function jsonRecord(bytes: Buffer | null, what: string): Record<string, unknown> {
  return objectAt(parseJson(bytes, what), what);
}

function decodeProductCommand(bytes: Buffer | null): ProductCommand {
  const record = jsonRecord(bytes, 'product command');
  const kind = oneOf(record.kind, 'kind', ['reserve', 'release', 'restock'] as const);
  const productId = positivePgInteger(record.productId, 'productId');
  const quantity = positivePgInteger(record.quantity, 'quantity');
  switch (kind) {
    case 'reserve':
      return { kind, orderId: uuidAt(record.orderId, 'orderId'), productId, quantity, lineCount: positiveInteger(record.lineCount, 'lineCount') };
    case 'release':
      return { kind, orderId: uuidAt(record.orderId, 'orderId'), productId, quantity, cause: oneOf(record.cause, 'cause', RELEASE_CAUSES) };
    case 'restock':
      return { kind, restockId: uuidAt(record.restockId, 'restockId'), productId, quantity };
  }
}

function decodeLineResult(bytes: Buffer | null): LineResult {
  const record = jsonRecord(bytes, 'line result');
  const line = {
    orderId: uuidAt(record.orderId, 'orderId'),
    productId: positivePgInteger(record.productId, 'productId'),
    quantity: positivePgInteger(record.quantity, 'quantity'),
    lineCount: positiveInteger(record.lineCount, 'lineCount'),
  };
  const outcome = oneOf(record.outcome, 'outcome', ['reserved', 'refused'] as const);
  return outcome === 'reserved' ? { ...line, outcome } : { ...line, outcome, reason: oneOf(record.reason, 'reason', REJECTION_REASONS) };
}

const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

export const productCommandCodec: Codec<ProductCommand> = { decode: decodeProductCommand, encode: encodeJson };
export const lineResultCodec: Codec<LineResult> = { decode: decodeLineResult, encode: encodeJson };
