/**
 * @platformatic/kafka's errors in the port's terms: every method of this adapter rejects with a
 * StreamError (kafka/port.ts), `retriable` as the library's own flags say, the library's error
 * as `cause`. Nothing above the port needs to know how this library reports a failure.
 *
 * The library marks each of its errors with `canRetry`. After its own retries it gives up with
 * MultipleErrors (an AggregateError) holding every attempt's error, and it reports a response's
 * per-partition errors as a ResponseError (a MultipleErrors) of ProtocolErrors: trying again can
 * help only when every nested error says so. An empty aggregate tells nothing: not retriable.
 */
import { type ErrorContext, errorMessage, isSocketError, StreamError } from '../../core/errors.ts';

/** The StreamError for what the library threw or reported; a StreamError passes through as is. */
export function translatePlatformaticError(error: unknown, context: ErrorContext = {}): StreamError {
  if (error instanceof StreamError) return error;
  const retriable = canRetry(error);
  return new StreamError(retriable ? 'SERVICE_UNAVAILABLE' : 'REQUEST_REFUSED', `Kafka: ${describe(error)}`, { retriable, cause: error, context });
}

/** Runs one call into the library; whatever it rejects with is translated. */
export async function translating<T>(context: ErrorContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translatePlatformaticError(error, context);
  }
}

/** The library's outermost message ("Listing topics failed.") and, when it has one, the first root cause's. */
function describe(error: unknown): string {
  let root = error;
  for (let depth = 0; depth < 8; depth++) {
    const inner = root instanceof AggregateError ? root.errors[0] : (root as { cause?: unknown } | null)?.cause;
    if (inner === undefined || inner === null) break;
    root = inner;
  }
  return root === error ? errorMessage(error) : `${errorMessage(error)} (${errorMessage(root)})`;
}

function canRetry(error: unknown): boolean {
  if (error instanceof AggregateError) return error.errors.length > 0 && error.errors.every(canRetry);
  return (error as { canRetry?: unknown } | null)?.canRetry === true || isSocketError(error);
}
