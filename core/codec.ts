/**
 * How a topology turns record bytes into values and back, and the errors a decoder fails with.
 * A decoder's error names the problem, because a poison record's dead-letter headers carry
 * its error class and message.
 */
import { StreamError } from './errors.ts';

export interface Codec<T> {
  decode(bytes: Buffer | null): T;
  encode(value: T): Buffer;
}

// ---------------------------------------------------------------------------------------
// Errors. `errorClass` is spelled out (not read from `constructor.name`) so a bundler or a
// rename can never change what dead-letter headers and dashboards match on.

export type EventErrorClass = 'DecodeError' | 'SchemaError' | 'UnsupportedVersionError';

/** The value is not a UTF-8 JSON document at all (or is null, a tombstone). */
export class DecodeError extends StreamError {
  readonly errorClass: EventErrorClass = 'DecodeError';
  constructor(message: string, cause?: unknown) {
    super('DECODE_FAILED', message, { cause });
  }
}

/** The JSON does not have the shape of the event: `path` names the offending field (`payload.quantity`). */
export class SchemaError extends StreamError {
  readonly errorClass: EventErrorClass = 'SchemaError';
  readonly path: string;
  constructor(path: string, message: string) {
    super('SCHEMA_INVALID', message, { context: { path } });
    this.path = path;
  }
}

/** A well-formed envelope of a schema version this code does not know. */
export class UnsupportedVersionError extends StreamError {
  readonly errorClass: EventErrorClass = 'UnsupportedVersionError';
  readonly schemaVersion: number;
  constructor(eventType: string, schemaVersion: number, supported: readonly number[]) {
    super('SCHEMA_INVALID', `unsupported schemaVersion ${schemaVersion} for ${eventType} (supported: ${supported.join(', ')})`, {
      context: { schemaVersion },
    });
    this.schemaVersion = schemaVersion;
  }
}

export type EventError = DecodeError | SchemaError | UnsupportedVersionError;

export function isEventError(error: unknown): error is EventError {
  return error instanceof DecodeError || error instanceof SchemaError || error instanceof UnsupportedVersionError;
}
