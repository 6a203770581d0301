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
 * Internal topics are still decoded with checks (TypeBox schemas, event-schema.ts): a record
 * written there by hand becomes a dead letter, not a crash.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Codec } from '../core/codec.ts';
import { type EventEnvelope, encodeEvent, eventSchema, isoTimestamp, parseJson, versionOf } from './event-json.ts';
import { compileContract, literal, oneOf, pgText, positiveInteger, positivePgInteger, uuid } from './event-schema.ts';
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

export const RESTOCK_INVENTORY_SCHEMA = eventSchema(
  'RestockInventory',
  COMMAND_SCHEMA_VERSION,
  Type.Object({
    restockId: uuid({ description: 'Chosen by whoever asks; the restock is applied once per id. Decoded in lower case.' }),
    productId: positivePgInteger('The product; also the record key.'),
    quantity: positivePgInteger('Units to add.'),
    requestedBy: pgText({ description: 'Who asked (free text, for the audit trail).' }),
  }),
  "Add units to a product's stock, once per restockId.",
);

export const CANCEL_ORDER_SCHEMA = eventSchema(
  'CancelOrder',
  COMMAND_SCHEMA_VERSION,
  Type.Object({
    requestId: uuid({ description: 'Chosen by whoever asks: the OrderCancelled answering it names it. Decoded in lower case.' }),
    orderId: uuid({ description: 'The order to cancel; also the record key. Decoded in lower case.' }),
    requestedBy: pgText({ description: 'Who asked (free text, for the audit trail).' }),
  }),
  'Cancel an order; every request gets exactly one OrderCancelled.',
);

const restockContract = compileContract(RESTOCK_INVENTORY_SCHEMA, 'event');
const cancelContract = compileContract(CANCEL_ORDER_SCHEMA, 'event');

export const restockInventoryCodec: Codec<RestockInventory> = {
  decode(bytes) {
    const json = parseJson(bytes, 'RestockInventory');
    versionOf(json, 'RestockInventory', [COMMAND_SCHEMA_VERSION]);
    restockContract.assert(json);
    const { eventId, occurredAt, payload } = json as Static<typeof RESTOCK_INVENTORY_SCHEMA>;
    return {
      eventId,
      type: 'RestockInventory',
      schemaVersion: COMMAND_SCHEMA_VERSION,
      occurredAt,
      payload: { restockId: payload.restockId.toLowerCase(), productId: payload.productId, quantity: payload.quantity, requestedBy: payload.requestedBy },
    };
  },
  encode: encodeEvent,
};

export const cancelOrderCodec: Codec<CancelOrder> = {
  decode(bytes) {
    const json = parseJson(bytes, 'CancelOrder');
    versionOf(json, 'CancelOrder', [COMMAND_SCHEMA_VERSION]);
    cancelContract.assert(json);
    const { eventId, occurredAt, payload } = json as Static<typeof CANCEL_ORDER_SCHEMA>;
    return {
      eventId,
      type: 'CancelOrder',
      schemaVersion: COMMAND_SCHEMA_VERSION,
      occurredAt,
      payload: { requestId: payload.requestId.toLowerCase(), orderId: payload.orderId.toLowerCase(), requestedBy: payload.requestedBy },
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

const commandLine = {
  productId: positivePgInteger('The product; also the record key.'),
  quantity: positivePgInteger('Units of it.'),
};
const orderOfLine = uuid({ description: 'The order the line belongs to.' });

/** The variants are told apart by `kind`; a failure is looked for in kind, productId, quantity, then the variant's own fields. */
export const PRODUCT_COMMAND_SCHEMA = Type.Union(
  [
    Type.Object({ kind: literal('reserve'), ...commandLine, orderId: orderOfLine, lineCount: positiveInteger('How many lines the order has.') }),
    Type.Object({ kind: literal('release'), ...commandLine, orderId: orderOfLine, cause: oneOf(RELEASE_CAUSES) }),
    Type.Object({ kind: literal('restock'), ...commandLine, restockId: uuid({ description: 'The RestockInventory applied.' }) }),
  ],
  { title: 'ProductCommand', description: "Reserve a line of an order, release a line reserved earlier, or apply a restock, at the product's partition." },
);

const lineResultFields = {
  orderId: uuid({ description: 'The order; also the record key.' }),
  ...commandLine,
  lineCount: positiveInteger('How many lines the order has: the last to report decides the order.'),
};

export const LINE_RESULT_SCHEMA = Type.Union(
  [
    Type.Object({ ...lineResultFields, outcome: literal('reserved') }),
    Type.Object({ ...lineResultFields, outcome: literal('refused'), reason: oneOf(REJECTION_REASONS) }),
  ],
  { title: 'LineResult', description: "What the product's partition did with a line of an order, sent to the order's partition." },
);

const productCommandContract = compileContract(PRODUCT_COMMAND_SCHEMA, 'product command');
const lineResultContract = compileContract(LINE_RESULT_SCHEMA, 'line result');

function decodeProductCommand(bytes: Buffer | null): ProductCommand {
  const record = parseJson(bytes, 'product command');
  productCommandContract.assert(record);
  const command = record as Static<typeof PRODUCT_COMMAND_SCHEMA>;
  const { productId, quantity } = command;
  switch (command.kind) {
    case 'reserve':
      return { kind: 'reserve', orderId: command.orderId.toLowerCase(), productId, quantity, lineCount: command.lineCount };
    case 'release':
      return { kind: 'release', orderId: command.orderId.toLowerCase(), productId, quantity, cause: command.cause };
    case 'restock':
      return { kind: 'restock', restockId: command.restockId.toLowerCase(), productId, quantity };
  }
}

function decodeLineResult(bytes: Buffer | null): LineResult {
  const record = parseJson(bytes, 'line result');
  lineResultContract.assert(record);
  const result = record as Static<typeof LINE_RESULT_SCHEMA>;
  const line = { orderId: result.orderId.toLowerCase(), productId: result.productId, quantity: result.quantity, lineCount: result.lineCount };
  return result.outcome === 'reserved' ? { ...line, outcome: 'reserved' } : { ...line, outcome: 'refused', reason: result.reason };
}

const encodeJson = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');

export const productCommandCodec: Codec<ProductCommand> = { decode: decodeProductCommand, encode: encodeJson };
export const lineResultCodec: Codec<LineResult> = { decode: decodeLineResult, encode: encodeJson };
