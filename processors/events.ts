/**
 * The event contracts of the pipeline: JSON events with an envelope (`eventId`, `type`,
 * `schemaVersion`, `occurredAt`) around a `payload`, their Kafka headers, and decoders that
 * validate by hand (no schema library) and fail with errors that name the problem, because
 * a poison record's dead-letter headers carry the error class and message.
 *
 * The payload is nested under `payload` (not flattened into the envelope) so a payload field
 * can never collide with an envelope field, and a decoder can check the envelope (and its
 * version) before it reads a payload whose shape depends on that version.
 *
 * Event ids are deterministic so consumers can deduplicate: a plain readable prefix form
 * (`order-created:<orderId>`, `inventory-updated:<productId>:<version>`) rather than a hashed
 * UUIDv5, because it is just as unique and an operator can read it off a header.
 *
 * Each event type has its own schema version. InventoryUpdated is at 2: version 1 listed
 * every decided order's id, so one event grew with the batch (78 KB for a hot product) past
 * what the broker accepts in one request; version 2 carries counts and the offset range, so
 * its size is bounded whatever the batch size. The decoder still reads version 1 (as counts),
 * so a topic written by an older release stays readable.
 *
 * Decoding also refuses values the database cannot hold: ids and quantities live in
 * PostgreSQL `integer` columns and order ids in a `uuid` column, and a value outside them
 * would make the batch's SQL fail (and halt the partition) instead of dead-lettering the one
 * record that carries it.
 */
import { type Codec, DecodeError, SchemaError, UnsupportedVersionError } from '../core/codec.ts';

export const ORDER_CREATED_SCHEMA_VERSION = 1;
export const INVENTORY_UPDATED_SCHEMA_VERSION = 2;
/** Every InventoryUpdated version the decoder reads; older ones are mapped to the current shape. */
export const INVENTORY_UPDATED_READABLE_VERSIONS: readonly number[] = [1, 2];
export const CONTENT_TYPE_JSON = 'application/json';

/**
 * The largest value of a PostgreSQL `integer` (int4): products.id, inventory.product_id,
 * inventory.quantity, orders.product_id and orders.quantity are of that type.
 */
export const PG_INTEGER_MAX = 2_147_483_647;

export interface EventEnvelope<Type extends string, Payload, Version extends number> {
  eventId: string;
  type: Type;
  schemaVersion: Version;
  /** ISO-8601 timestamp of when the fact happened (not when it was published). */
  occurredAt: string;
  payload: Payload;
}

export interface OrderCreatedPayload {
  /** A UUID (the order source uses v7), lower case. */
  orderId: string;
  /** A positive integer, at most PG_INTEGER_MAX. */
  productId: number;
  /** A positive integer, at most PG_INTEGER_MAX. */
  quantity: number;
  /** Non-empty, without U+0000 (PostgreSQL text cannot hold it). */
  customerId: string;
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
 * Version 2: a fixed set of numbers and the source range, so the event's size does not depend
 * on how many orders the batch decided. Which orders were confirmed is in the `orders` table;
 * per-order outcome events are a later contract of their own.
 */
export interface InventoryUpdatedPayload {
  productId: number;
  /** Stock after the batch. */
  quantity: number;
  /** Change of stock in the batch: negative, or 0 when every order was rejected. */
  delta: number;
  /** Per product, +1 with each InventoryUpdated. */
  version: number;
  /** How many of the product's orders in the batch were confirmed. */
  ordersConfirmed: number;
  /** How many were rejected (always out of stock: an unknown product has no stock and no event). */
  ordersRejected: number;
  /** The offsets of the product's first and last decided order in the batch. */
  source: EventSource;
}

export type OrderCreated = EventEnvelope<'OrderCreated', OrderCreatedPayload, typeof ORDER_CREATED_SCHEMA_VERSION>;
export type InventoryUpdated = EventEnvelope<'InventoryUpdated', InventoryUpdatedPayload, typeof INVENTORY_UPDATED_SCHEMA_VERSION>;
export type PipelineEvent = OrderCreated | InventoryUpdated;

// ---------------------------------------------------------------------------------------
// Ids, constructors, headers, encoding.

export function orderCreatedEventId(orderId: string): string {
  return `order-created:${orderId}`;
}

export function inventoryUpdatedEventId(productId: number, version: number): string {
  return `inventory-updated:${productId}:${version}`;
}

function isoTimestamp(at: Date | string | number): string {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RangeError(`occurredAt is not a valid time: ${String(at)}`);
  return date.toISOString();
}

/** Builds an OrderCreated; `occurredAt` should be the order's stored creation time so a re-publish is identical. */
export function orderCreated(order: OrderCreatedPayload, occurredAt: Date | string | number): OrderCreated {
  return {
    eventId: orderCreatedEventId(order.orderId),
    type: 'OrderCreated',
    schemaVersion: ORDER_CREATED_SCHEMA_VERSION,
    occurredAt: isoTimestamp(occurredAt),
    payload: { orderId: order.orderId, productId: order.productId, quantity: order.quantity, customerId: order.customerId },
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
      ordersConfirmed: update.ordersConfirmed,
      ordersRejected: update.ordersRejected,
      source: {
        topic: update.source.topic,
        partition: update.source.partition,
        fromOffset: String(update.source.fromOffset),
        toOffset: String(update.source.toOffset),
      },
    },
  };
}

export interface EventHeaders {
  'event-type': string;
  'event-id': string;
  'content-type': string;
  [name: string]: string;
}

export function eventHeaders(event: PipelineEvent): EventHeaders {
  return { 'event-type': event.type, 'event-id': event.eventId, 'content-type': CONTENT_TYPE_JSON };
}

export function encodeEvent(event: PipelineEvent): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

// ---------------------------------------------------------------------------------------
// Decoding.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes -> parsed JSON, or DecodeError. */
function parseJson(bytes: Buffer | null, eventType: string): unknown {
  if (bytes === null || bytes === undefined) {
    throw new DecodeError(`record value is null, expected a ${eventType} JSON event`);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch (error) {
    throw new DecodeError(`record value is not valid UTF-8 (${bytes.length} bytes)`, error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DecodeError(`record value is not valid JSON: ${(error as Error).message}`, error);
  }
}

type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

function objectAt(value: unknown, path: string): JsonObject {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SchemaError(path, `${path} must be an object, got ${describe(value)}`);
  }
  return value as JsonObject;
}

function stringAt(value: unknown, path: string): string {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (typeof value !== 'string' || value.length === 0) {
    throw new SchemaError(path, `${path} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

function integerAt(value: unknown, path: string, min: number, what: string): number {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new SchemaError(path, `${path} must be ${what}, got ${describe(value)}`);
  }
  return value;
}

/** A value of a PostgreSQL `integer` column: above the bound, the batch's SQL cast would fail. */
function pgIntegerAt(value: unknown, path: string, min: number, what: string): number {
  const number = integerAt(value, path, min, what);
  if (number > PG_INTEGER_MAX) throw new SchemaError(path, `${path} must be at most ${PG_INTEGER_MAX} (a PostgreSQL integer), got ${number}`);
  return number;
}

const positiveInteger = (value: unknown, path: string) => integerAt(value, path, 1, 'a positive integer');
const nonNegativeInteger = (value: unknown, path: string) => integerAt(value, path, 0, 'a non-negative integer');
const positivePgInteger = (value: unknown, path: string) => pgIntegerAt(value, path, 1, 'a positive integer');
const nonNegativePgInteger = (value: unknown, path: string) => pgIntegerAt(value, path, 0, 'a non-negative integer');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any RFC 9562 layout (not only v7: other order sources may use v4); lower-cased so ids compare as one. */
function uuidAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (!UUID.test(text)) throw new SchemaError(path, `${path} must be a UUID, got ${describe(text)}`);
  return text.toLowerCase();
}

/** Text stored in a PostgreSQL `text` column, which cannot hold U+0000. */
function pgTextAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (text.includes('\u0000')) throw new SchemaError(path, `${path} must not contain U+0000 (PostgreSQL text cannot hold it)`);
  return text;
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

function timestampAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (!ISO_TIMESTAMP.test(text) || Number.isNaN(Date.parse(text))) {
    throw new SchemaError(path, `${path} must be an ISO-8601 timestamp, got ${describe(text)}`);
  }
  return text;
}

const OFFSET = /^(0|[1-9]\d{0,18})$/;

function offsetAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (!OFFSET.test(text)) throw new SchemaError(path, `${path} must be a non-negative decimal offset string, got ${describe(text)}`);
  return text;
}

function arrayAt(value: unknown, path: string): unknown[] {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (!Array.isArray(value)) throw new SchemaError(path, `${path} must be an array, got ${describe(value)}`);
  return value;
}

/**
 * Checks the envelope; the version is checked before the payload because another version's
 * payload may legitimately have another shape. Unknown extra fields are ignored (and dropped),
 * so a producer may add optional fields without breaking older consumers.
 */
function envelopeOf<Type extends string>(
  json: unknown,
  eventType: Type,
  supported: readonly number[],
): { schemaVersion: number; eventId: string; occurredAt: string; payload: JsonObject } {
  const root = objectAt(json, 'event');
  const schemaVersion = integerAt(root.schemaVersion, 'schemaVersion', Number.MIN_SAFE_INTEGER, 'an integer');
  if (!supported.includes(schemaVersion)) throw new UnsupportedVersionError(eventType, schemaVersion, supported);
  const type = stringAt(root.type, 'type');
  if (type !== eventType) throw new SchemaError('type', `type must be ${JSON.stringify(eventType)}, got ${describe(type)}`);
  return {
    schemaVersion,
    eventId: stringAt(root.eventId, 'eventId'),
    occurredAt: timestampAt(root.occurredAt, 'occurredAt'),
    payload: objectAt(root.payload, 'payload'),
  };
}

/** Parses and validates an OrderCreated; throws DecodeError, SchemaError or UnsupportedVersionError. */
export function decodeOrderCreated(bytes: Buffer | null): OrderCreated {
  const { eventId, occurredAt, payload } = envelopeOf(parseJson(bytes, 'OrderCreated'), 'OrderCreated', [ORDER_CREATED_SCHEMA_VERSION]);
  return {
    eventId,
    type: 'OrderCreated',
    schemaVersion: ORDER_CREATED_SCHEMA_VERSION,
    occurredAt,
    payload: {
      // Each field is checked against the column it is stored in (orders.id uuid,
      // orders.product_id and orders.quantity integer, orders.customer_id text).
      orderId: uuidAt(payload.orderId, 'payload.orderId'),
      productId: positivePgInteger(payload.productId, 'payload.productId'),
      quantity: positivePgInteger(payload.quantity, 'payload.quantity'),
      customerId: pgTextAt(payload.customerId, 'payload.customerId'),
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

/**
 * The order counts of a payload: version 2 carries them; version 1 listed the orders, and the
 * lists are validated as they always were, then counted.
 */
function orderCountsAt(payload: JsonObject, schemaVersion: number): { ordersConfirmed: number; ordersRejected: number } {
  if (schemaVersion >= 2) {
    return {
      ordersConfirmed: nonNegativeInteger(payload.ordersConfirmed, 'payload.ordersConfirmed'),
      ordersRejected: nonNegativeInteger(payload.ordersRejected, 'payload.ordersRejected'),
    };
  }
  const accepted = arrayAt(payload.acceptedOrderIds, 'payload.acceptedOrderIds');
  for (const [i, id] of accepted.entries()) stringAt(id, `payload.acceptedOrderIds[${i}]`);
  const rejected = arrayAt(payload.rejectedOrders, 'payload.rejectedOrders');
  for (const [i, entry] of rejected.entries()) rejectedOrderAt(entry, `payload.rejectedOrders[${i}]`);
  return { ordersConfirmed: accepted.length, ordersRejected: rejected.length };
}

/**
 * Parses and validates an InventoryUpdated of any readable version and returns it in the
 * current (version 2) shape: a version-1 event's order lists become counts. The event id does
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
  if (delta > 0) throw new SchemaError('payload.delta', `payload.delta must be negative or 0, got ${delta}`);
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
      ...orderCountsAt(payload, schemaVersion),
      source: sourceAt(payload.source, 'payload.source'),
    },
  };
}

export const orderCreatedCodec: Codec<OrderCreated> = { decode: decodeOrderCreated, encode: encodeEvent };
export const inventoryUpdatedCodec: Codec<InventoryUpdated> = { decode: decodeInventoryUpdated, encode: encodeEvent };
