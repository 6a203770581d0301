/**
 * Dead letters leave through the outbox like every other output, so a poison record's
 * offset advances in the same transaction that records it: it can be neither lost nor
 * written twice. The relay then publishes it to the dead-letter topic.
 *
 * Like Kafka Connect's dead-letter queue, a letter keeps every header of the original record
 * (its trace, its content type, a repartition's origin...) and adds its own `dlq-*` ones, so a
 * replay can send the record back as it was. The two headers the letter owns as an event of
 * its own, `event-id` and `event-type`, keep the original's values under
 * `dlq-original-event-id` / `dlq-original-event-type`.
 */
import type { DeadLetter } from '../core/batch.ts';
import type { OutboxMessage as OutboxRow } from '../state/outbox-store.ts';
import { originOf } from '../topology/runtime/repartition-origin.ts';

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
  /** Only when the original record had one: its `event-id` (the letter's own names the letter). */
  eventId: 'dlq-original-event-id',
  /** Only when the original record had one: its `event-type` (the letter's own is `DeadLetter`). */
  eventType: 'dlq-original-event-type',
} as const;

export const DEAD_LETTER_EVENT_TYPE = 'DeadLetter';

/**
 * Names a letter writes itself. An original record may carry some of them already (a record
 * replayed from, or copied off, a dead-letter topic): those are not kept, so a letter's
 * provenance is always its own, e.g. a stale `dlq-original-key-base64` cannot make a replay
 * refuse a key it could send, nor a stale `dlq-original-event-id` give a record an id it never had.
 */
const LETTER_OWNED = new Set<string>([...Object.values(DLQ_HEADERS), 'event-id', 'event-type']);

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

/**
 * The original record's headers as the letter keeps them: all but the names the letter owns,
 * with `event-id`/`event-type` renamed. Each name and value is made storable: the outbox keeps
 * headers in jsonb, and one U+0000 would make the whole batch fail to commit. (The client port
 * already hands headers over as UTF-8 text, so a binary header was not byte-exact before either.)
 */
export function keptHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  // No prototype: a header named `__proto__` is kept as a header like any other.
  const kept: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(headers)) {
    if (!LETTER_OWNED.has(name)) kept[storable(name)] = storable(value);
  }
  const eventId = headers['event-id'];
  const eventType = headers['event-type'];
  if (eventId !== undefined) kept[DLQ_HEADERS.eventId] = storable(eventId);
  if (eventType !== undefined) kept[DLQ_HEADERS.eventType] = storable(eventType);
  return kept;
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
    // The record's own headers first, its trace headers among them: the relay's publish of the
    // dead letter then belongs to the trace of whatever sent the record (an order's, say), where
    // the failure is looked for. The letter's own come last and win.
    headers: {
      ...keptHeaders(letter.headers),
      [DLQ_HEADERS.topic]: letter.topic,
      [DLQ_HEADERS.partition]: String(letter.partition),
      [DLQ_HEADERS.offset]: letter.offset.toString(),
      [DLQ_HEADERS.errorClass]: letter.errorClass,
      [DLQ_HEADERS.message]: storable(letter.message.slice(0, 1000)),
      [DLQ_HEADERS.node]: letter.node,
      ...(keyAltered ? { [DLQ_HEADERS.keyBase64]: letter.key!.toString('base64') } : {}),
      [DLQ_HEADERS.timestamp]: new Date(letter.timestamp).toISOString(),
      'event-id': deadLetterEventId(letter),
      'event-type': DEAD_LETTER_EVENT_TYPE,
    },
  };
}

/**
 * The headers of the record a letter holds, as a replay sends it back: the letter's `dlq-*`
 * headers and its own event id and type go, the original's event id and type come back under
 * their names. A letter written before letters kept the original headers has none of them, and
 * gives what it gave then: its non-`dlq-` headers but its own event id and type.
 *
 * Except a repartition's event id (topology/runtime/repartition-origin.ts): the task reading the
 * repartition took the record's position into its watermarks before the record failed, and would
 * skip the replay as a copy of a record it has read. The replay goes without it (the record then
 * counts as one produced by hand), the id kept under `dlq-original-event-id` for whoever looks.
 */
export function restoredHeaders(letterHeaders: Readonly<Record<string, string>>): Record<string, string> {
  const lettersOwn = letterHeaders['event-type'] === DEAD_LETTER_EVENT_TYPE;
  const restored: Record<string, string> = Object.create(null);
  for (const [name, value] of Object.entries(letterHeaders)) {
    if (name.startsWith('dlq-') || (lettersOwn && (name === 'event-id' || name === 'event-type'))) continue;
    restored[name] = value;
  }
  const eventId = letterHeaders[DLQ_HEADERS.eventId];
  const eventType = letterHeaders[DLQ_HEADERS.eventType];
  if (eventId !== undefined) restored[originOf(eventId) === undefined ? 'event-id' : DLQ_HEADERS.eventId] = eventId;
  if (eventType !== undefined) restored['event-type'] = eventType;
  return restored;
}
