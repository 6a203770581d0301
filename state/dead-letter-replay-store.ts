/**
 * Which dead letters were replayed, and when (table dead_letter_replays, migration 0013). A
 * replay records its letters and writes their outbox rows in ONE transaction: recording a
 * letter that is already there inserts nothing, and only the letters newly recorded get an
 * outbox row, so however often a letter is replayed its record is published once.
 */
import type { Transaction } from 'sequelize';
import { appendOutbox, type OutboxMessage } from './outbox-store.ts';
import { type Executor, selectRows } from './sql.ts';

/** A record of a dead-letter topic. */
export interface LetterPosition {
  partition: number;
  offset: bigint;
}

const letterKey = (letter: LetterPosition) => `${letter.partition}:${letter.offset}`;

/** When each of these letters was replayed; letters never replayed are absent. */
export async function replayTimes(executor: Executor, dlqTopic: string, letters: readonly LetterPosition[]): Promise<Map<string, Date>> {
  if (letters.length === 0) return new Map();
  const rows = await selectRows<{ dlq_partition: number; dlq_offset: string; replayed_at: Date }>(
    executor,
    `SELECT r.dlq_partition, r.dlq_offset, r.replayed_at FROM dead_letter_replays r
     JOIN unnest($partitions::int[], $offsets::bigint[]) AS wanted (p, o) ON r.dlq_partition = wanted.p AND r.dlq_offset = wanted.o
     WHERE r.dlq_topic = $dlqTopic`,
    { dlqTopic, partitions: letters.map((letter) => letter.partition), offsets: letters.map((letter) => letter.offset.toString()) },
  );
  return new Map(rows.map((row) => [letterKey({ partition: Number(row.dlq_partition), offset: BigInt(row.dlq_offset) }), row.replayed_at]));
}

/** `partition:offset`, the key of replayTimes' map. */
export { letterKey };

/**
 * In the caller's transaction: records the letters not recorded yet (a concurrent replay of the
 * same letter waits on its row and then records nothing) and appends the outbox rows of exactly
 * those, one row per record. `message` builds a letter's outbox row. Returns the letters recorded now.
 */
export async function recordReplays<L extends LetterPosition>(transaction: Transaction, dlqTopic: string, letters: readonly L[], replayedAt: Date, message: (letter: L) => OutboxMessage): Promise<L[]> {
  if (letters.length === 0) return [];
  const rows = await selectRows<{ dlq_partition: number; dlq_offset: string }>(
    transaction,
    `INSERT INTO dead_letter_replays (dlq_topic, dlq_partition, dlq_offset, replayed_at)
     SELECT $dlqTopic, p, o, $replayedAt FROM unnest($partitions::int[], $offsets::bigint[]) AS wanted (p, o)
     ON CONFLICT DO NOTHING
     RETURNING dlq_partition, dlq_offset`,
    { dlqTopic, replayedAt, partitions: letters.map((letter) => letter.partition), offsets: letters.map((letter) => letter.offset.toString()) },
  );
  const recorded = new Set(rows.map((row) => letterKey({ partition: Number(row.dlq_partition), offset: BigInt(row.dlq_offset) })));
  const replayed = letters.filter((letter) => recorded.has(letterKey(letter)));
  // One row per record, named after its letter: the outbox's own event-id guard is a second lock on "once".
  await appendOutbox(transaction, replayed.map(message), 'row-per-record');
  return replayed;
}
