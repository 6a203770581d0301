/**
 * The event contracts of the pipeline: OrderCreated and InventoryUpdated, in the JSON envelope
 * of event-json.ts (`eventId`, `type`, `schemaVersion`, `occurredAt` around a `payload`), with
 * decoders that validate by hand (no schema library) and fail with errors that name the problem,
 * because a poison record's dead-letter headers carry the error class and message.
 *
 * The payload is nested under `payload` (not flattened into the envelope) so a payload field
 * can never collide with an envelope field, and a decoder can check the envelope (and its
 * version) before it reads a payload whose shape depends on that version.
 *
 * Event ids are deterministic so consumers can deduplicate: a plain readable prefix form
 * (`order-created:<orderId>`, `inventory-updated:<productId>:<version>`) rather than a hashed
 * UUIDv5, because it is just as unique and an operator can read it off a header.
 *
 * Each event type has its own schema version, and each decoder reads every version it lists
 * as readable, returning the current shape, so a topic written by an older release stays
 * readable. InventoryUpdated is at 3: version 1 listed every decided order's id, so one event
 * grew with the batch (78 KB for a hot product) past what the broker accepts in one request;
 * version 2 carries counts and the offset range, so its size is bounded whatever the batch
 * size; version 3 counts every kind of stock move (lines reserved, refused and released,
 * restocks), so its delta may be positive. OrderCreated is at 2: version 1 had one product and quantity, version 2 has lines (a
 * version-1 event reads as a one-line order).
 */
import { type Codec, SchemaError } from '../core/codec.ts';
import {
  arrayAt,
  describe,
  type EventEnvelope,
  encodeEvent,
  envelopeOf,
  integerAt,
  isoTimestamp,
  type JsonObject,
  nonNegativeInteger,
  nonNegativePgInteger,
  objectAt,
  offsetAt,
  PG_INTEGER_MAX,
  parseJson,
  pgTextAt,
  positiveInteger,
  positivePgInteger,
  stringAt,
  uuidAt,
} from './event-json.ts';

export { CONTENT_TYPE_JSON, type EventEnvelope, type EventHeaders, encodeEvent, eventHeaders, PG_INTEGER_MAX } from './event-json.ts';

export const ORDER_CREATED_SCHEMA_VERSION = 2;
/** Every OrderCreated version the decoder reads; a version-1 event (one product) becomes a one-line order. */
export const ORDER_CREATED_READABLE_VERSIONS: readonly number[] = [1, 2];
export const INVENTORY_UPDATED_SCHEMA_VERSION = 3;
/** Every InventoryUpdated version the decoder reads; older ones are mapped to the current shape. */
export const INVENTORY_UPDATED_READABLE_VERSIONS: readonly number[] = [1, 2, 3];

/** The most lines one order may have: it bounds the size of an OrderCreated (about 5 KB at most). */
export const ORDER_MAX_LINES = 100;

/** One product of an order and how many of it. */
export interface OrderLine {
  /** A positive integer, at most PG_INTEGER_MAX; no product twice in one order. */
  productId: number;
  /** A positive integer, at most PG_INTEGER_MAX. */
  quantity: number;
}

export interface OrderCreatedPayload {
  /** A UUID (the order source uses v7), lower case. */
  orderId: string;
  /** Non-empty, without U+0000 (PostgreSQL text cannot hold it). */
  customerId: string;
  /**
   * 1..ORDER_MAX_LINES lines, each of another product, in the order's line order. The first is
   * the lead line: its product is the record's key (orderKey).
   */
  lines: OrderLine[];
}

export type RejectionReason = 'out_of_stock' | 'unknown_product';
export const REJECTION_REASONS: readonly RejectionReason[] = ['out_of_stock', 'unknown_product'];

/** A per-order outcome (InventoryUpdated version 1 listed them; version 2 only counts them). */
export interface RejectedOrder {
  orderId: string;
  reason: RejectionReason;
}

/** Where the orders behind an InventoryUpdated came from. Offsets are decimal strings (64-bit in Kafka). */
export interface EventSource {
  topic: string;
  partition: number;
  fromOffset: string;
  toOffset: string;
}

/**
 * Version 3: a fixed set of numbers and the source range, so the event's size does not depend
 * on how many records the batch applied. Which orders were confirmed is in the `orders` table
 * and on the outcome topics (outcome-events.ts).
 */
export interface InventoryUpdatedPayload {
  productId: number;
  /** Stock after the batch. */
  quantity: number;
  /** Change of stock in the batch: reservations take, releases and restocks give back. */
  delta: number;
  /** Per product, +1 with each InventoryUpdated. */
  version: number;
  /** How many order lines of the product the batch reserved. */
  reserved: number;
  /** How many it refused (always out of stock: an unknown product has no stock and no event). */
  refused: number;
  /** How many lines reserved earlier it released (their order was rejected or cancelled). */
  released: number;
  /** How many restocks it applied. */
  restocked: number;
  /** The offsets of the first and last record behind the moves, in the batch's topic-partition. */
  source: EventSource;
}

export type OrderCreated = EventEnvelope<'OrderCreated', OrderCreatedPayload, typeof ORDER_CREATED_SCHEMA_VERSION>;
export type InventoryUpdated = EventEnvelope<'InventoryUpdated', InventoryUpdatedPayload, typeof INVENTORY_UPDATED_SCHEMA_VERSION>;

// ---------------------------------------------------------------------------------------
// Ids, constructors, headers, encoding.

export function orderCreatedEventId(orderId: string): string {
  return `order-created:${orderId}`;
}

export function inventoryUpdatedEventId(productId: number, version: number): string {
  return `inventory-updated:${productId}:${version}`;
}


/**
 * The Kafka key of an OrderCreated: the product of its lead line (the first). A version-1 event's
 * only product is its lead line, so its key, and the partition it lands on, are unchanged.
 */
export function orderKey(order: { readonly lines: readonly OrderLine[] }): string {
  return String(order.lines[0]!.productId);
}

/** Builds an OrderCreated; `occurredAt` should be the order's stored creation time so a re-publish is identical. */
export function orderCreated(order: OrderCreatedPayload, occurredAt: Date | string | number): OrderCreated {
  return {
    eventId: orderCreatedEventId(order.orderId),
    type: 'OrderCreated',
    schemaVersion: ORDER_CREATED_SCHEMA_VERSION,
    occurredAt: isoTimestamp(occurredAt),
    payload: {
      orderId: order.orderId,
      customerId: order.customerId,
      lines: order.lines.map((line) => ({ productId: line.productId, quantity: line.quantity })),
    },
  };
}

/** Like InventoryUpdatedPayload, but offsets may be given as the bigints Kafka clients use. */
export interface InventoryUpdatedInput extends Omit<InventoryUpdatedPayload, 'source'> {
  source: { topic: string; partition: number; fromOffset: bigint | string; toOffset: bigint | string };
}

export function inventoryUpdated(update: InventoryUpdatedInput, occurredAt: Date | string | number): InventoryUpdated {
  return {
    eventId: inventoryUpdatedEventId(update.productId, update.version),
    type: 'InventoryUpdated',
    schemaVersion: INVENTORY_UPDATED_SCHEMA_VERSION,
    occurredAt: isoTimestamp(occurredAt),
    payload: {
      productId: update.productId,
      quantity: update.quantity,
      delta: update.delta,
      version: update.version,
      reserved: update.reserved,
      refused: update.refused,
      released: update.released,
      restocked: update.restocked,
      source: {
        topic: update.source.topic,
        partition: update.source.partition,
        fromOffset: String(update.source.fromOffset),
        toOffset: String(update.source.toOffset),
      },
    },
  };
}

/** A line's product and quantity, each checked against its integer column (order_lines.product_id, order_lines.quantity). */
function orderLineAt(value: unknown, path: string): OrderLine {
  const line = objectAt(value, path);
  return { productId: positivePgInteger(line.productId, `${path}.productId`), quantity: positivePgInteger(line.quantity, `${path}.quantity`) };
}

/** Version 2's lines: 1..ORDER_MAX_LINES, no product twice (order_lines holds a product once per order). */
function orderLinesAt(value: unknown, path: string): OrderLine[] {
  const entries = arrayAt(value, path);
  if (entries.length === 0 || entries.length > ORDER_MAX_LINES) {
    throw new SchemaError(path, `${path} must have 1 to ${ORDER_MAX_LINES} lines, got ${entries.length}`);
  }
  const lineOfProduct = new Map<number, number>();
  return entries.map((entry, index) => {
    const line = orderLineAt(entry, `${path}[${index}]`);
    const earlier = lineOfProduct.get(line.productId);
    if (earlier !== undefined) throw new SchemaError(path, `${path} must not repeat product ${line.productId} (lines ${earlier} and ${index})`);
    lineOfProduct.set(line.productId, index);
    return line;
  });
}

/**
 * Parses and validates an OrderCreated of any readable version and returns it in the current
 * (version 2) shape: a version-1 event's productId and quantity become its one line. The event
 * id does not change between versions, so deduplication across them still works. Throws
 * DecodeError, SchemaError or UnsupportedVersionError.
 */
export function decodeOrderCreated(bytes: Buffer | null): OrderCreated {
  const { schemaVersion, eventId, occurredAt, payload } = envelopeOf(parseJson(bytes, 'OrderCreated'), 'OrderCreated', ORDER_CREATED_READABLE_VERSIONS);
  return {
    eventId,
    type: 'OrderCreated',
    schemaVersion: ORDER_CREATED_SCHEMA_VERSION,
    occurredAt,
    payload: {
      // Each field is checked against the column it is stored in (orders.id uuid, orders.customer_id text).
      orderId: uuidAt(payload.orderId, 'payload.orderId'),
      customerId: pgTextAt(payload.customerId, 'payload.customerId'),
      lines: schemaVersion >= 2 ? orderLinesAt(payload.lines, 'payload.lines') : [orderLineAt(payload, 'payload')],
    },
  };
}

function rejectedOrderAt(value: unknown, path: string): RejectedOrder {
  const entry = objectAt(value, path);
  const reason = entry.reason;
  if (typeof reason !== 'string' || !(REJECTION_REASONS as readonly string[]).includes(reason)) {
    throw new SchemaError(`${path}.reason`, `${path}.reason must be one of ${REJECTION_REASONS.join(', ')}, got ${describe(reason)}`);
  }
  return { orderId: stringAt(entry.orderId, `${path}.orderId`), reason: reason as RejectionReason };
}

function sourceAt(value: unknown, path: string): EventSource {
  const source = objectAt(value, path);
  const fromOffset = offsetAt(source.fromOffset, `${path}.fromOffset`);
  const toOffset = offsetAt(source.toOffset, `${path}.toOffset`);
  if (BigInt(fromOffset) > BigInt(toOffset)) {
    throw new SchemaError(`${path}.toOffset`, `${path}.toOffset must not be below fromOffset, got ${toOffset} < ${fromOffset}`);
  }
  return {
    topic: stringAt(source.topic, `${path}.topic`),
    partition: nonNegativeInteger(source.partition, `${path}.partition`),
    fromOffset,
    toOffset,
  };
}

type MoveCounts = Pick<InventoryUpdatedPayload, 'reserved' | 'refused' | 'released' | 'restocked'>;

/**
 * The move counts of a payload: version 3 carries them; version 2 counted confirmed and
 * rejected orders (one line each: reserved and refused); version 1 listed the orders, and the
 * lists are validated as they always were, then counted. Before version 3 nothing was released
 * or restocked.
 */
function moveCountsAt(payload: JsonObject, schemaVersion: number): MoveCounts {
  if (schemaVersion >= 3) {
    return {
      reserved: nonNegativeInteger(payload.reserved, 'payload.reserved'),
      refused: nonNegativeInteger(payload.refused, 'payload.refused'),
      released: nonNegativeInteger(payload.released, 'payload.released'),
      restocked: nonNegativeInteger(payload.restocked, 'payload.restocked'),
    };
  }
  if (schemaVersion === 2) {
    return {
      reserved: nonNegativeInteger(payload.ordersConfirmed, 'payload.ordersConfirmed'),
      refused: nonNegativeInteger(payload.ordersRejected, 'payload.ordersRejected'),
      released: 0,
      restocked: 0,
    };
  }
  const accepted = arrayAt(payload.acceptedOrderIds, 'payload.acceptedOrderIds');
  for (const [i, id] of accepted.entries()) stringAt(id, `payload.acceptedOrderIds[${i}]`);
  const rejected = arrayAt(payload.rejectedOrders, 'payload.rejectedOrders');
  for (const [i, entry] of rejected.entries()) rejectedOrderAt(entry, `payload.rejectedOrders[${i}]`);
  return { reserved: accepted.length, refused: rejected.length, released: 0, restocked: 0 };
}

/**
 * Parses and validates an InventoryUpdated of any readable version and returns it in the
 * current (version 3) shape: older versions' order counts or lists become move counts. The event id does
 * not change between versions, so deduplication across them still works. Throws DecodeError,
 * SchemaError or UnsupportedVersionError.
 */
export function decodeInventoryUpdated(bytes: Buffer | null): InventoryUpdated {
  const { schemaVersion, eventId, occurredAt, payload } = envelopeOf(
    parseJson(bytes, 'InventoryUpdated'),
    'InventoryUpdated',
    INVENTORY_UPDATED_READABLE_VERSIONS,
  );
  const delta = integerAt(payload.delta, 'payload.delta', -PG_INTEGER_MAX, 'an integer of at least -2147483647');
  // Before version 3 stock only went down.
  if (schemaVersion < 3 && delta > 0) throw new SchemaError('payload.delta', `payload.delta must be negative or 0, got ${delta}`);
  if (delta > PG_INTEGER_MAX) throw new SchemaError('payload.delta', `payload.delta must be at most ${PG_INTEGER_MAX}, got ${delta}`);
  return {
    eventId,
    type: 'InventoryUpdated',
    schemaVersion: INVENTORY_UPDATED_SCHEMA_VERSION,
    occurredAt,
    payload: {
      productId: positivePgInteger(payload.productId, 'payload.productId'),
      quantity: nonNegativePgInteger(payload.quantity, 'payload.quantity'),
      delta,
      version: positiveInteger(payload.version, 'payload.version'),
      ...moveCountsAt(payload, schemaVersion),
      source: sourceAt(payload.source, 'payload.source'),
    },
  };
}

export const orderCreatedCodec: Codec<OrderCreated> = { decode: decodeOrderCreated, encode: encodeEvent };
export const inventoryUpdatedCodec: Codec<InventoryUpdated> = { decode: decodeInventoryUpdated, encode: encodeEvent };
