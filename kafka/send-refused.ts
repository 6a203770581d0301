/**
 * A broker's refusal of the records themselves (or of their topic), as opposed to a fault of the
 * way to it: sending the same records again cannot succeed. Each adapter turns its client's
 * error shape into this, so the relay can park what can never be sent and never mistake a broker
 * outage for a bad record.
 */
import { StreamError } from '../core/errors.ts';

/** Broker error codes that refuse the records or their topic; a retry of those records fails the same way. */
export const REFUSAL_CODES: ReadonlySet<string> = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
]);

const TOO_LARGE_CODES: ReadonlySet<string> = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

export class SendRefusedError extends StreamError {
  /** The broker's error code, e.g. MESSAGE_TOO_LARGE. */
  readonly reason: string;
  /** Refused for size: the topic's limit may have changed, so it is worth reading again. */
  readonly tooLarge: boolean;

  constructor(reason: string, detail: string, cause?: unknown) {
    super('SEND_REFUSED', `the broker refused the records: ${reason}${detail ? ` (${detail})` : ''}`, { retriable: false, cause, context: { reason } });
    this.reason = reason;
    this.tooLarge = TOO_LARGE_CODES.has(reason);
  }
}

/**
 * The refusal inside a client's error, if any: `codeOf` reads the broker error code from one of the
 * client's error objects (only errors the client marked not retriable). Nested errors (an
 * AggregateError's `errors`, a wrapper's `cause`) are searched too; any refusal among them makes
 * the whole send a refusal, and the relay finds the records it is about by splitting the send.
 */
export function refusalIn(error: unknown, codeOf: (error: object) => string | undefined, depth = 0): SendRefusedError | undefined {
  if (error === null || typeof error !== 'object' || depth > 8) return undefined;
  const code = codeOf(error);
  if (code !== undefined && REFUSAL_CODES.has(code)) {
    const detail = (error as { serverErrorMessage?: unknown }).serverErrorMessage ?? (error as { message?: unknown }).message;
    return new SendRefusedError(code, typeof detail === 'string' ? detail : '', error);
  }
  const nested = [...(error instanceof AggregateError ? error.errors : []), (error as { cause?: unknown }).cause];
  for (const inner of nested) {
    const refusal = refusalIn(inner, codeOf, depth + 1);
    if (refusal) return refusal;
  }
  return undefined;
}
