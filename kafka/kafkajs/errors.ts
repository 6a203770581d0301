/**
 * kafkajs's errors in the port's terms: every method of this adapter rejects with a StreamError
 * (kafka/port.ts), `retriable` as kafkajs's own flags say, kafkajs's error as `cause`. Nothing
 * above the port needs to know how this library reports a failure.
 *
 * kafkajs marks its errors `retriable` and retries those itself; once its retries run out it
 * throws KafkaJSNumberOfRetriesExceeded, flagged not retriable (kafkajs will not try again), yet
 * what failed was retriable: a later attempt of ours may succeed, as it may after KafkaJSTimeout
 * (a wait for leaders or a lock that ran out). Topic creation throws a KafkaJSAggregateError (not
 * an AggregateError) of one error per refused topic: retriable only when every one of them is.
 */
import { type ErrorContext, errorMessage, isSocketError, StreamError } from '../../core/errors.ts';

/** Errors kafkajs flags not retriable because it stopped trying, not because trying cannot help. */
const GAVE_UP = new Set(['KafkaJSNumberOfRetriesExceeded', 'KafkaJSTimeout', 'KafkaJSLockTimeout']);

/** The StreamError for what kafkajs threw or reported; a StreamError passes through as is. */
export function translateKafkajsError(error: unknown, context: ErrorContext = {}): StreamError {
  if (error instanceof StreamError) return error;
  const retriable = isRetriableForKafkajs(error);
  return new StreamError(retriable ? 'SERVICE_UNAVAILABLE' : 'REQUEST_REFUSED', `Kafka: ${describe(error)}`, { retriable, cause: error, context });
}

/** Runs one call into kafkajs; whatever it rejects with is translated. */
export async function translating<T>(context: ErrorContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateKafkajsError(error, context);
  }
}

function isRetriableForKafkajs(error: unknown): boolean {
  const candidate = error as { name?: unknown; retriable?: unknown; errors?: unknown } | null;
  if (candidate === null || typeof candidate !== 'object') return false;
  if (candidate.name === 'KafkaJSAggregateError' && Array.isArray(candidate.errors)) return candidate.errors.length > 0 && candidate.errors.every(isRetriableForKafkajs);
  if (typeof candidate.name === 'string' && GAVE_UP.has(candidate.name)) return true;
  return candidate.retriable === true || isSocketError(error);
}

/** kafkajs's message and, for an aggregate, its first nested error's ("Topic creation errors" alone says little). */
function describe(error: unknown): string {
  const first = (error as { errors?: unknown } | null)?.errors;
  return Array.isArray(first) && first.length > 0 ? `${errorMessage(error)} (${errorMessage(first[0])})` : errorMessage(error);
}
