import { redactUrl } from './redact.ts';

/**
 * One error base with a closed list of codes, each meaning one thing. `retriable` tells the
 * retry loop whether trying again can help; programmer errors are never retriable.
 */
export type ErrorCode =
  /** A setting or flag is missing or malformed (ConfigError). */
  | 'CONFIG_INVALID'
  /** The user asked for something that cannot be done as asked (UsageError). */
  | 'USAGE_INVALID'
  /** An object was used out of its lifecycle (a runtime started twice, metadata asked outside process()). */
  | 'ILLEGAL_STATE'
  /** A database or broker cannot be reached, or refuses whatever it is sent. */
  | 'SERVICE_UNAVAILABLE'
  /** A database or broker refused one request as it was made (a constraint, an invalid setting): the same request fails the same way. */
  | 'REQUEST_REFUSED'
  /** A transaction lost to a concurrent one (serialization failure, deadlock): running it again may succeed. */
  | 'TRANSACTION_CONFLICT'
  | 'TOPOLOGY_INVALID'
  | 'DECODE_FAILED'
  | 'SCHEMA_INVALID'
  /** Another owner holds the partition now (FencedError). */
  | 'FENCED'
  /** A store's cache no longer matches its backend (StaleStateError). */
  | 'STALE_STATE'
  /** A record cannot be processed as it is (a dead letter). */
  | 'RECORD_INVALID'
  /** A partition task stopped, or could not start, on an error no retry mended. */
  | 'TASK_FAILED'
  | 'SEND_REFUSED'
  /** A fetch position outside the partition's log. */
  | 'OFFSET_OUT_OF_RANGE'
  /** Another process holds the lock of a job only one may do. */
  | 'LOCK_HELD'
  /** The session holding such a lock ended. */
  | 'LOCK_LOST'
  /** Someone else wrote where this process is the only writer. */
  | 'OWNERSHIP_CONFLICT';

/** Where an error happened, in the names an operator searches logs for. */
export interface ErrorContext {
  topic?: string;
  partition?: number;
  offset?: bigint;
  node?: string;
  epoch?: number | bigint;
  store?: string;
  [detail: string]: unknown;
}

export class StreamError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, opts: { retriable?: boolean; context?: ErrorContext; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = opts.retriable ?? false;
    this.context = opts.context ?? {};
  }
}

/**
 * A setting is missing or malformed. The CLI prints `message` alone and exits 2. The value is
 * echoed back without any password in it (a malformed DATABASE_URL is the usual case). With a
 * `problem`, the message states it instead of what was expected, for a value whose fault is in
 * one of its parts: `invalid setting --lines "1:30,0:5": a line count must be an integer from 1 to 100, got "0"`.
 */
export class ConfigError extends StreamError {
  readonly setting: string;
  constructor(setting: string, expected: string, got: string | undefined, problem?: string) {
    const shown = got === undefined ? 'nothing' : JSON.stringify(redactUrl(got));
    super('CONFIG_INVALID', problem === undefined ? `invalid setting ${setting}: expected ${expected}, got ${shown}` : `invalid setting ${setting} ${shown}: ${problem}`);
    this.setting = setting;
  }
}

/**
 * The user asked for something that cannot be done as asked (a migration that does not exist,
 * a file that cannot be written): like ConfigError, one line and exit 2, but in its own words.
 */
export class UsageError extends StreamError {
  constructor(message: string, cause?: unknown) {
    super('USAGE_INVALID', message, { cause });
  }
}

/** A service (database, broker) cannot be reached. The CLI prints one line and exits 1. */
export class ServiceUnavailableError extends StreamError {
  constructor(service: string, detail: string, cause?: unknown, code: 'SERVICE_UNAVAILABLE' | 'LOCK_HELD' | 'LOCK_LOST' = 'SERVICE_UNAVAILABLE') {
    super(code, `${service} unavailable: ${detail}`, { retriable: true, cause });
  }
}

/** Another replica owns the partition now: the commit was rejected and must not be retried. */
export class FencedError extends StreamError {
  constructor(topic: string, partition: number, detail: string) {
    super('FENCED', `fenced on ${topic}[${partition}]: ${detail}`, { context: { topic, partition } });
  }
}

/**
 * A store's cached values no longer match its backend: something else wrote those keys since
 * they were loaded (an operator's hand edit, a product added while running). Not a fence: the
 * task still owns its partition. Retriable once the keys are reloaded: the task evicts `keys`,
 * reloads them and runs the batch again (with backoff); retrying the same batch as is cannot help.
 */
export class StaleStateError extends StreamError {
  readonly store: string;
  readonly keys: readonly unknown[];
  constructor(store: string, keys: readonly unknown[], message: string) {
    super('STALE_STATE', message, { retriable: true, context: { store, keys } });
    this.store = store;
    this.keys = keys;
  }
}

/**
 * A record's key disagrees with the key its value derives (the source's `keyOf`). Kept apart,
 * because two partitions would otherwise write the same key; the record becomes a dead letter.
 */
export class KeyMismatchError extends StreamError {
  readonly errorClass = 'KeyMismatchError';
  constructor(source: string, recordKey: string | null, derivedKey: string | null) {
    const shown = (key: string | null) => (key === null ? 'no key' : JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}...` : key));
    super(
      'RECORD_INVALID',
      `${recordKey === null ? 'a record without a key' : `record key ${shown(recordKey)}`} disagrees with its value, which source "${source}" keys as ${shown(derivedKey)}: a record keyed by something other than its value would be processed by a partition that does not own that key`,
      { context: { source, recordKey, derivedKey } },
    );
  }
}

/**
 * Whether trying the same operation again may succeed: what a StreamError says. Core knows no
 * driver: every adapter translates its library's errors into StreamErrors at its boundary
 * (kafka/<adapter>/errors.ts, state/pg-errors.ts), so an error that reaches a retry loop
 * untranslated is a programmer error (a TypeError, a RangeError) or one nobody foresaw, and
 * neither is retried.
 */
export function isRetriable(error: unknown): boolean {
  return error instanceof StreamError && error.retriable;
}

/**
 * Node's own socket errors (a refused, reset or timed-out connection, a name that does not
 * resolve), whichever client passed them through: the adapters judge them retriable.
 */
export function isSocketError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SOCKET_ERROR_CODES.has(code);
}

const SOCKET_ERROR_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND']);

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
