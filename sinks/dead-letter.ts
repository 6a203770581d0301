/**
 * Dead letters leave through the outbox like every other output, so a poison record's
 * offset advances in the same transaction that records it: it can be neither lost nor
 * written twice. The relay then publishes it to the dead-letter topic.
 */
import type { DeadLetter } from '../core/batch.ts';
import { withTraceHeaders } from '../core/trace-context.ts';
import type { OutboxMessage as OutboxRow } from '../state/outbox-store.ts';

export type { DeadLetter };

export const DLQ_HEADERS = {
  topic: 'dlq-original-topic',
  partition: 'dlq-original-partition',
  offset: 'dlq-original-offset',
  errorClass: 'dlq-error-class',
  message: 'dlq-error-message',
  node: 'dlq-node',
  timestamp: 'dlq-timestamp',
  /** Only when the key held a byte PostgreSQL text cannot (U+0000): the exact key bytes. */
  keyBase64: 'dlq-original-key-base64',
} as const;

/** Deterministic id: the same poison record always gives the same dead letter. */
export function deadLetterEventId(letter: Pick<DeadLetter, 'topic' | 'partition' | 'offset'>): string {
  return `dead-letter:${letter.topic}:${letter.partition}:${letter.offset}`;
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, so a key or message carrying one would make
 * the dead letter itself fail to commit, and stop the partition behind a poison record. It is
 * replaced (the original key bytes go in a header, base64).
 */
function storable(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

export function deadLetterRow(letter: DeadLetter, dlqTopic: string): OutboxRow {
  const key = letter.key === null ? null : letter.key.toString('utf8');
  const keyAltered = key !== null && storable(key) !== key;
  return {
    eventId: deadLetterEventId(letter),
    topic: dlqTopic,
    key: key === null ? null : storable(key),
    // The original bytes, untouched, so the record can be inspected and replayed as it was.
    payload: letter.value ?? Buffer.alloc(0),
    // The record's own trace headers too: the relay's publish of the dead letter then belongs to
    // the trace of whatever sent the record (an order's, say), where the failure is looked for.
    headers: withTraceHeaders({
      [DLQ_HEADERS.topic]: letter.topic,
      [DLQ_HEADERS.partition]: String(letter.partition),
      [DLQ_HEADERS.offset]: letter.offset.toString(),
      [DLQ_HEADERS.errorClass]: letter.errorClass,
      [DLQ_HEADERS.message]: storable(letter.message.slice(0, 1000)),
      [DLQ_HEADERS.node]: letter.node,
      ...(keyAltered ? { [DLQ_HEADERS.keyBase64]: letter.key!.toString('base64') } : {}),
      [DLQ_HEADERS.timestamp]: new Date(letter.timestamp).toISOString(),
      'event-id': deadLetterEventId(letter),
      'event-type': 'DeadLetter',
    }, letter.headers),
  };
}
