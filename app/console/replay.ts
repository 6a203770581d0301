/**
 * POST /api/dead-letters/replay: sends dead letters back to the topic they came from, exactly
 * once. The letters are read from the dead-letter topic first; then ONE PostgreSQL transaction
 * records them in dead_letter_replays and writes an outbox row for each letter recorded now
 * (state/dead-letter-replay-store.ts); the running relay publishes the rows. A letter replayed
 * before is counted in `alreadyReplayed` and written nowhere.
 *
 * The replayed record is the original one: its key, its bytes, its headers (those the dead
 * letter kept that are not the dead letter's own), plus `dlq-replayed-from` naming the letter
 * and `dlq-replayed-at`. If it is still poison, it becomes a new dead letter with a new offset.
 */
import type { ConsumedRecord } from '../../kafka/port.ts';
import { DLQ_HEADERS } from '../../sinks/dead-letter.ts';
import { recordReplays } from '../../state/dead-letter-replay-store.ts';
import type { OutboxMessage } from '../../state/outbox-store.ts';
import { inTransaction } from '../../state/sql.ts';
import { type DeadLetterDeps, parseLetterPosition, readDeadLetters } from './dead-letters.ts';
import { HttpError } from './http-server.ts';

export const REPLAYED_FROM_HEADER = 'dlq-replayed-from';
export const REPLAYED_AT_HEADER = 'dlq-replayed-at';
const MAX_LETTERS = 1000;

/** `{ letters: [{ partition, offset }] }`, each letter once. Pure. */
export function parseReplayBody(body: unknown): Array<{ partition: number; offset: bigint }> {
  const letters = (body as { letters?: unknown } | null)?.letters;
  if (!Array.isArray(letters) || letters.length === 0 || letters.length > MAX_LETTERS) {
    throw new HttpError(400, `expected { "letters": [{ "partition": 0, "offset": "12" }, ...] } with 1 to ${MAX_LETTERS} letters`);
  }
  const unique = new Map<string, { partition: number; offset: bigint }>();
  for (const letter of letters) {
    const position = parseLetterPosition((letter as { partition?: unknown } | null)?.partition, (letter as { offset?: unknown } | null)?.offset);
    unique.set(`${position.partition}:${position.offset}`, position);
  }
  return [...unique.values()];
}

export function replayEventId(dlqTopic: string, letter: { partition: number; offset: bigint }): string {
  return `replay:${dlqTopic}:${letter.partition}:${letter.offset}`;
}

/** The outbox row that sends a letter's record back to its original topic. Pure. */
export function replayMessage(dlqTopic: string, record: ConsumedRecord, replayedAt: Date): OutboxMessage {
  const originalTopic = record.headers[DLQ_HEADERS.topic];
  if (!originalTopic) throw new HttpError(422, `dead letter ${record.partition}:${record.offset} names no original topic (header ${DLQ_HEADERS.topic})`);
  if (record.headers[DLQ_HEADERS.keyBase64] !== undefined) {
    // Its key held U+0000, which the outbox's text key cannot hold: replaying it would change the key, and so its partition.
    throw new HttpError(422, `dead letter ${record.partition}:${record.offset} has a key with a U+0000 byte, which the outbox cannot store; it cannot be replayed as it was`);
  }
  return {
    eventId: replayEventId(dlqTopic, record),
    topic: originalTopic,
    key: record.key === null ? null : record.key.toString('utf8'),
    payload: record.value ?? Buffer.alloc(0),
    headers: {
      ...originalHeaders(record.headers),
      [REPLAYED_FROM_HEADER]: `${dlqTopic}:${record.partition}:${record.offset}`,
      [REPLAYED_AT_HEADER]: replayedAt.toISOString(),
    },
  };
}

/**
 * The headers of the original record the dead letter carries: not its `dlq-` provenance, and not
 * the event id and type the dead letter was given as an event of its own (a DeadLetter).
 */
export function originalHeaders(headers: Record<string, string>): Record<string, string> {
  const deadLettersOwn = headers['event-type'] === 'DeadLetter';
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('dlq-') && !(deadLettersOwn && (name === 'event-id' || name === 'event-type'))));
}

export async function replayDeadLetters(deps: DeadLetterDeps, letters: ReadonlyArray<{ partition: number; offset: bigint }>): Promise<{ replayed: number; alreadyReplayed: number }> {
  // Every letter is read (and refused if missing) before anything is written: a selection replays whole or not at all.
  const records = await readDeadLetters(deps, letters);
  const replayedAt = new Date();
  const messages = new Map(records.map((record) => [`${record.partition}:${record.offset}`, replayMessage(deps.dlqTopic, record, replayedAt)]));
  const replayed = await inTransaction(deps.sequelize, (transaction) => recordReplays(transaction, deps.dlqTopic, records, replayedAt, (record) => messages.get(`${record.partition}:${record.offset}`)!));
  return { replayed: replayed.length, alreadyReplayed: letters.length - replayed.length };
}
