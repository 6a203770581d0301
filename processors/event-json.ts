/**
 * The JSON form every event of the pipeline shares: the envelope (`eventId`, `type`,
 * `schemaVersion`, `occurredAt`) around a `payload`, its Kafka headers, encoding, and the field
 * readers decoders are built from. They validate by hand and fail with errors that name the
 * failing path, because a poison record's dead-letter headers carry the error's class and message.
 *
 * Decoding also refuses values the database cannot hold: ids and quantities live in
 * PostgreSQL `integer` columns and order ids in a `uuid` column, and a value outside them
 * would make the batch's SQL fail (and halt the partition) instead of dead-lettering the one
 * record that carries it.
 */
import { DecodeError, SchemaError, UnsupportedVersionError } from '../core/codec.ts';

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

/** Any event in the envelope. */
export type AnyEvent = EventEnvelope<string, unknown, number>;

export function isoTimestamp(at: Date | string | number): string {
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RangeError(`occurredAt is not a valid time: ${String(at)}`);
  return date.toISOString();
}

export interface EventHeaders {
  'event-type': string;
  'event-id': string;
  'content-type': string;
  [name: string]: string;
}

export function eventHeaders(event: AnyEvent): EventHeaders {
  return { 'event-type': event.type, 'event-id': event.eventId, 'content-type': CONTENT_TYPE_JSON };
}

export function encodeEvent(event: AnyEvent): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

// ---------------------------------------------------------------------------------------
// Decoding.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes -> parsed JSON, or DecodeError. */
export function parseJson(bytes: Buffer | null, eventType: string): unknown {
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

export type JsonObject = Record<string, unknown>;

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === 'object') return 'an object';
  return String(value);
}

export function objectAt(value: unknown, path: string): JsonObject {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SchemaError(path, `${path} must be an object, got ${describe(value)}`);
  }
  return value as JsonObject;
}

export function stringAt(value: unknown, path: string): string {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (typeof value !== 'string' || value.length === 0) {
    throw new SchemaError(path, `${path} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function integerAt(value: unknown, path: string, min: number, what: string): number {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new SchemaError(path, `${path} must be ${what}, got ${describe(value)}`);
  }
  return value;
}

/** A value of a PostgreSQL `integer` column: above the bound, the batch's SQL cast would fail. */
export function pgIntegerAt(value: unknown, path: string, min: number, what: string): number {
  const number = integerAt(value, path, min, what);
  if (number > PG_INTEGER_MAX) throw new SchemaError(path, `${path} must be at most ${PG_INTEGER_MAX} (a PostgreSQL integer), got ${number}`);
  return number;
}

export const positiveInteger = (value: unknown, path: string) => integerAt(value, path, 1, 'a positive integer');
export const nonNegativeInteger = (value: unknown, path: string) => integerAt(value, path, 0, 'a non-negative integer');
export const positivePgInteger = (value: unknown, path: string) => pgIntegerAt(value, path, 1, 'a positive integer');
export const nonNegativePgInteger = (value: unknown, path: string) => pgIntegerAt(value, path, 0, 'a non-negative integer');

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any RFC 9562 layout (not only v7: other order sources may use v4); lower-cased so ids compare as one. */
export function uuidAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (!UUID.test(text)) throw new SchemaError(path, `${path} must be a UUID, got ${describe(text)}`);
  return text.toLowerCase();
}

/** Text stored in a PostgreSQL `text` column, which cannot hold U+0000. */
export function pgTextAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (text.includes('\u0000')) throw new SchemaError(path, `${path} must not contain U+0000 (PostgreSQL text cannot hold it)`);
  return text;
}

const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

export function timestampAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (!ISO_TIMESTAMP.test(text) || Number.isNaN(Date.parse(text))) {
    throw new SchemaError(path, `${path} must be an ISO-8601 timestamp, got ${describe(text)}`);
  }
  return text;
}

const OFFSET = /^(0|[1-9]\d{0,18})$/;

export function offsetAt(value: unknown, path: string): string {
  const text = stringAt(value, path);
  if (!OFFSET.test(text)) throw new SchemaError(path, `${path} must be a non-negative decimal offset string, got ${describe(text)}`);
  return text;
}

export function arrayAt(value: unknown, path: string): unknown[] {
  if (value === undefined) throw new SchemaError(path, `${path} is missing`);
  if (!Array.isArray(value)) throw new SchemaError(path, `${path} must be an array, got ${describe(value)}`);
  return value;
}

/**
 * Checks the envelope; the version is checked before the payload because another version's
 * payload may legitimately have another shape. Unknown extra fields are ignored (and dropped),
 * so a producer may add optional fields without breaking older consumers.
 */
export function envelopeOf<Type extends string>(
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
