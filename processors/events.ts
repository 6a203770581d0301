/**
 * The event contracts of the pipeline: OrderCreated and InventoryUpdated, in the JSON envelope
 * of event-json.ts (`eventId`, `type`, `schemaVersion`, `occurredAt` around a `payload`), with
 * decoders that check them against TypeBox schemas (event-schema.ts) and fail with errors that name the problem,
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
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { type Codec, SchemaError } from '../core/codec.ts';
import { type EventEnvelope, encodeEvent, eventSchema, isoTimestamp, parseJson, versionOf } from './event-json.ts';
import {
  arrayOf,
  type Contract,
  compileContract,
  integer,
  nonEmptyString,
  nonNegativeInteger,
  nonNegativePgInteger,
  offset,
  oneOf,
  PG_INTEGER_MAX,
  pgText,
  positiveInteger,
  positivePgInteger,
  uuid,
} from './event-schema.ts';

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

// ---------------------------------------------------------------------------------------
// Schemas (event-schema.ts): one per readable version, the properties in the order a failure is
// looked for. The AsyncAPI document (event-catalogue.ts) publishes the current ones.

/** A line's product and quantity, each checked against its integer column (order_lines.product_id, order_lines.quantity). */
export const ORDER_LINE_SCHEMA = Type.Object({
  productId: positivePgInteger('The product (products.id).'),
  quantity: positivePgInteger('Units of it.'),
});

const orderIdentity = {
  // Each field is checked against the column it is stored in (orders.id uuid, orders.customer_id text).
  orderId: uuid({ description: 'The order (orders.id); the order source uses UUIDv7. Decoded in lower case.' }),
  customerId: pgText({ description: 'Who ordered (orders.customer_id).' }),
};

const ORDER_CREATED_V1 = eventSchema(
  'OrderCreated',
  1,
  Type.Object({ ...orderIdentity, ...ORDER_LINE_SCHEMA.properties }),
  'An order of one product (version 1); read as a one-line order.',
);

export const ORDER_CREATED_SCHEMA = eventSchema(
  'OrderCreated',
  ORDER_CREATED_SCHEMA_VERSION,
  Type.Object({
    ...orderIdentity,
    lines: arrayOf(ORDER_LINE_SCHEMA, {
      minItems: 1,
      maxItems: ORDER_MAX_LINES,
      count: (length) => `must have 1 to ${ORDER_MAX_LINES} lines, got ${length}`,
      description: 'The lines in order, no product twice; the first is the lead line, whose product is the key.',
    }),
  }),
  'An order stored by the order source, published once it is stored.',
);

const orderCreatedContracts = new Map<number, Contract<TSchema>>([
  [1, compileContract(ORDER_CREATED_V1, 'event')],
  [2, compileContract(ORDER_CREATED_SCHEMA, 'event')],
]);

/** Version 2's lines, copied without unknown fields: no product twice (order_lines holds a product once per order). */
function distinctLines(lines: readonly OrderLine[], path: string): OrderLine[] {
  const lineOfProduct = new Map<number, number>();
  return lines.map(({ productId, quantity }, index) => {
    const earlier = lineOfProduct.get(productId);
    if (earlier !== undefined) throw new SchemaError(path, `${path} must not repeat product ${productId} (lines ${earlier} and ${index})`);
    lineOfProduct.set(productId, index);
    return { productId, quantity };
  });
}

type OrderCreatedJson = Static<typeof ORDER_CREATED_SCHEMA>;
type OrderCreatedV1Json = Static<typeof ORDER_CREATED_V1>;

/**
 * Parses and validates an OrderCreated of any readable version and returns it in the current
 * (version 2) shape: a version-1 event's productId and quantity become its one line. The event
 * id does not change between versions, so deduplication across them still works. Throws
 * DecodeError, SchemaError or UnsupportedVersionError.
 */
export function decodeOrderCreated(bytes: Buffer | null): OrderCreated {
  const json = parseJson(bytes, 'OrderCreated');
  const schemaVersion = versionOf(json, 'OrderCreated', ORDER_CREATED_READABLE_VERSIONS);
  orderCreatedContracts.get(schemaVersion)!.assert(json);
  const event = json as OrderCreatedJson | OrderCreatedV1Json;
  const { payload } = event;
  return {
    eventId: event.eventId,
    type: 'OrderCreated',
    schemaVersion: ORDER_CREATED_SCHEMA_VERSION,
    occurredAt: event.occurredAt,
    payload: {
      orderId: payload.orderId.toLowerCase(),
      customerId: payload.customerId,
      lines: 'lines' in payload ? distinctLines(payload.lines, 'payload.lines') : [{ productId: (payload as OrderCreatedV1Json['payload']).productId, quantity: (payload as OrderCreatedV1Json['payload']).quantity }],
    },
  };
}

const SOURCE_SCHEMA = Type.Object(
  {
    fromOffset: offset({ description: 'The first record behind the moves.' }),
    toOffset: offset({ description: 'The last record behind the moves; not below fromOffset.' }),
    topic: nonEmptyString(),
    partition: nonNegativeInteger(),
  },
  { description: "The offsets of the first and last record behind the moves, in the batch's topic-partition (decimal strings: Kafka offsets are 64-bit)." },
);

const stockFields = {
  productId: positivePgInteger('The product; also the record key.'),
  quantity: nonNegativePgInteger('Stock after the batch.'),
  version: positiveInteger('Per product, +1 with each InventoryUpdated.'),
};

/** Before version 3 stock only went down; version 3 also counts releases and restocks, which give stock back. */
function deltaSchema(schemaVersion: number) {
  const what = `an integer of at least -${PG_INTEGER_MAX}`;
  return schemaVersion < 3
    ? integer({ minimum: -PG_INTEGER_MAX, maximum: 0, what, above: 'negative or 0' })
    : integer({ minimum: -PG_INTEGER_MAX, maximum: PG_INTEGER_MAX, what, above: `at most ${PG_INTEGER_MAX}`, description: 'Change of stock in the batch: reservations take, releases and restocks give back.' });
}

const INVENTORY_UPDATED_V1 = eventSchema(
  'InventoryUpdated',
  1,
  Type.Object({
    delta: deltaSchema(1),
    ...stockFields,
    acceptedOrderIds: Type.Array(nonEmptyString()),
    rejectedOrders: Type.Array(Type.Object({ reason: oneOf(REJECTION_REASONS), orderId: nonEmptyString() })),
    source: SOURCE_SCHEMA,
  }),
  'Version 1: listed every decided order (read as lines reserved and refused).',
);

const INVENTORY_UPDATED_V2 = eventSchema(
  'InventoryUpdated',
  2,
  Type.Object({ delta: deltaSchema(2), ...stockFields, ordersConfirmed: nonNegativeInteger(), ordersRejected: nonNegativeInteger(), source: SOURCE_SCHEMA }),
  'Version 2: counted confirmed and rejected orders (read as lines reserved and refused).',
);

export const INVENTORY_UPDATED_SCHEMA = eventSchema(
  'InventoryUpdated',
  INVENTORY_UPDATED_SCHEMA_VERSION,
  Type.Object({
    delta: deltaSchema(3),
    ...stockFields,
    reserved: nonNegativeInteger('Order lines of the product the batch reserved.'),
    refused: nonNegativeInteger('Order lines it refused (out of stock).'),
    released: nonNegativeInteger('Lines reserved earlier that it released (their order was rejected or cancelled).'),
    restocked: nonNegativeInteger('Restocks it applied.'),
    source: SOURCE_SCHEMA,
  }),
  "The inventory table's changelog: per product per committed batch, the stock after it and the moves behind it.",
);

const inventoryUpdatedContracts = new Map<number, Contract<TSchema>>([
  [1, compileContract(INVENTORY_UPDATED_V1, 'event')],
  [2, compileContract(INVENTORY_UPDATED_V2, 'event')],
  [3, compileContract(INVENTORY_UPDATED_SCHEMA, 'event')],
]);

type InventoryUpdatedJson = Static<typeof INVENTORY_UPDATED_SCHEMA>['payload'] | Static<typeof INVENTORY_UPDATED_V2>['payload'] | Static<typeof INVENTORY_UPDATED_V1>['payload'];

type MoveCounts = Pick<InventoryUpdatedPayload, 'reserved' | 'refused' | 'released' | 'restocked'>;

/**
 * The move counts of a payload: version 3 carries them; version 2 counted confirmed and
 * rejected orders (one line each: reserved and refused); version 1 listed the orders (the lists
 * are validated as they always were, by the schema), counted here. Before version 3 nothing was
 * released or restocked.
 */
function moveCountsOf(payload: InventoryUpdatedJson): MoveCounts {
  if ('reserved' in payload) return { reserved: payload.reserved, refused: payload.refused, released: payload.released, restocked: payload.restocked };
  if ('ordersConfirmed' in payload) return { reserved: payload.ordersConfirmed, refused: payload.ordersRejected, released: 0, restocked: 0 };
  return { reserved: payload.acceptedOrderIds.length, refused: payload.rejectedOrders.length, released: 0, restocked: 0 };
}

function sourceOf(source: EventSource, path: string): EventSource {
  const { topic, partition, fromOffset, toOffset } = source;
  if (BigInt(fromOffset) > BigInt(toOffset)) {
    throw new SchemaError(`${path}.toOffset`, `${path}.toOffset must not be below fromOffset, got ${toOffset} < ${fromOffset}`);
  }
  return { topic, partition, fromOffset, toOffset };
}

/**
 * Parses and validates an InventoryUpdated of any readable version and returns it in the
 * current (version 3) shape: older versions' order counts or lists become move counts. The event id does
 * not change between versions, so deduplication across them still works. Throws DecodeError,
 * SchemaError or UnsupportedVersionError.
 */
export function decodeInventoryUpdated(bytes: Buffer | null): InventoryUpdated {
  const json = parseJson(bytes, 'InventoryUpdated');
  const schemaVersion = versionOf(json, 'InventoryUpdated', INVENTORY_UPDATED_READABLE_VERSIONS);
  inventoryUpdatedContracts.get(schemaVersion)!.assert(json);
  const event = json as { eventId: string; occurredAt: string; payload: InventoryUpdatedJson };
  const { payload } = event;
  return {
    eventId: event.eventId,
    type: 'InventoryUpdated',
    schemaVersion: INVENTORY_UPDATED_SCHEMA_VERSION,
    occurredAt: event.occurredAt,
    payload: {
      productId: payload.productId,
      quantity: payload.quantity,
      delta: payload.delta,
      version: payload.version,
      ...moveCountsOf(payload),
      source: sourceOf(payload.source, 'payload.source'),
    },
  };
}

export const orderCreatedCodec: Codec<OrderCreated> = { decode: decodeOrderCreated, encode: encodeEvent };
export const inventoryUpdatedCodec: Codec<InventoryUpdated> = { decode: decodeInventoryUpdated, encode: encodeEvent };
