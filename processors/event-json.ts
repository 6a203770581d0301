/**
 * The JSON form every event of the pipeline shares: the envelope (`eventId`, `type`,
 * `schemaVersion`, `occurredAt`) around a `payload`, its Kafka headers, encoding, and the
 * envelope's schema (event-schema.ts) that every event type's schema is built on. Decoding
 * fails with errors that name the failing path, because a poison record's dead-letter headers
 * carry the error's class and message.
 */
import type { TSchema } from '@sinclair/typebox';
import { Type } from '@sinclair/typebox';
import { DecodeError, UnsupportedVersionError } from '../core/codec.ts';
import { compileContract, describe, firstSchemaError, integer, literal, nonEmptyString, PG_INTEGER_MAX, timestamp, uuid } from './event-schema.ts';

export { describe, PG_INTEGER_MAX };

export const CONTENT_TYPE_JSON = 'application/json';

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

// A batch stamps its events with one clock reading: the last conversion is kept, because
// toISOString was 2% of a catch-up's CPU.
let lastMs: number | undefined;
let lastIso = '';

export function isoTimestamp(at: Date | string | number): string {
  if (typeof at === 'number' && at === lastMs) return lastIso;
  const date = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(date.getTime())) throw new RangeError(`occurredAt is not a valid time: ${String(at)}`);
  const iso = date.toISOString();
  if (typeof at === 'number') {
    lastMs = at;
    lastIso = iso;
  }
  return iso;
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

/**
 * The schema of one version of an event: the envelope around `payload`. Unknown extra fields
 * are allowed (and the decoders drop them), so a producer may add optional fields without
 * breaking older consumers.
 */
export function eventSchema<P extends TSchema>(eventType: string, schemaVersion: number, payload: P, description: string) {
  return Type.Object(
    {
      schemaVersion: Type.Literal(schemaVersion),
      type: literal(eventType),
      eventId: nonEmptyString({ description: 'Deterministic: a copy of the same fact has the same id, so consumers can deduplicate.' }),
      occurredAt: timestamp({ description: 'When the fact happened (ISO-8601), not when it was published.' }),
      payload,
    },
    { title: `${eventType} v${schemaVersion}`, description },
  );
}

// The version is read before anything else because another version's payload may
// legitimately have another shape.
const versionHead = compileContract(
  Type.Object({ schemaVersion: integer({ minimum: Number.MIN_SAFE_INTEGER, what: 'an integer' }) }),
  'event',
);

/** The event's schema version, once the record is known to be an object with an integer version of `supported`. */
export function versionOf(json: unknown, eventType: string, supported: readonly number[]): number {
  // The usual case first, without a check of its own: the version's schema checks the rest.
  const version = typeof json === 'object' && json !== null ? (json as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof version === 'number' && supported.includes(version) && !Array.isArray(json)) return version;
  versionHead.assert(json);
  const schemaVersion = (json as { schemaVersion: number }).schemaVersion;
  throw new UnsupportedVersionError(eventType, schemaVersion, supported);
}

const uuidSchema = uuid();

/** A UUID typed by someone (a CLI flag), lower-cased; SchemaError naming `path` when it is not one. */
export function uuidAt(value: unknown, path: string): string {
  const error = firstSchemaError(uuidSchema, value, path);
  if (error) throw error;
  return (value as string).toLowerCase();
}
