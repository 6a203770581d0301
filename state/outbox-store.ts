import type { Sequelize, Transaction } from 'sequelize';
import { decodeFrame, encodeFrame } from './outbox-frame.ts';
import { type BindParams, type Executor, execute, inTransaction, selectRows } from './sql.ts';

export interface OutboxMessage {
  /** Deterministic, so a replayed batch appends nothing and consumers can deduplicate. */
  eventId: string;
  topic: string;
  key: string | null;
  /** The exact bytes to publish. */
  payload: Buffer;
  headers: Record<string, string>;
}

/**
 * One record of a pending outbox row. A row holds one record, or several of one topic
 * (state/outbox-frame.ts); `id` is the row's, so the records of one row share it and are marked
 * published together.
 */
export interface OutboxRecord extends OutboxMessage {
  id: bigint;
  createdAt: Date;
  /** How many records the row holds (this one among them). */
  recordsInRow: number;
}

interface Row {
  id: string;
  event_id: string;
  topic: string;
  key: string | null;
  payload: Buffer;
  headers: Record<string, string>;
  created_at: Date;
  record_count: number;
}

/** The channel every outbox write notifies on COMMIT, so a listening relay wakes at once instead of on its next poll. */
export const OUTBOX_CHANNEL = 'outbox';

/**
 * Appends events in the caller's transaction: one row per topic (its records in the order given),
 * a row of one record in the plain layout. A row whose event id is already present is skipped (a
 * row of several records is named after its first record and its count). Returns the records
 * added. Adding any also notifies OUTBOX_CHANNEL (PostgreSQL delivers it on COMMIT only).
 */
export async function appendOutbox(transaction: Transaction, messages: OutboxMessage[], layout: OutboxLayout = 'row-per-topic'): Promise<number> {
  if (messages.length === 0) return 0;
  const append = outboxAppendCtes('appended', messages, 'true', layout);
  const [row] = await selectRows<{ added: string }>(transaction, `WITH ${append.ctes.join(',\n')} SELECT ${append.added} AS added`, append.bind);
  return Number(row!.added);
}

/**
 * How messages become rows: one row per topic (what commits write), or one row per record (the
 * layout of rows written before rows held several, which tests of the relay's ordering use).
 */
export type OutboxLayout = 'row-per-topic' | 'row-per-record';

/** The rows `messages` become: one per topic, in the order each topic first appears (or one per message). */
export function outboxRows(messages: readonly OutboxMessage[], layout: OutboxLayout = 'row-per-topic'): Array<OutboxMessage & { recordCount: number }> {
  if (layout === 'row-per-record') return messages.map((message) => ({ ...message, recordCount: 1 }));
  const byTopic = new Map<string, OutboxMessage[]>();
  for (const message of messages) {
    const group = byTopic.get(message.topic);
    if (group) group.push(message);
    else byTopic.set(message.topic, [message]);
  }
  return [...byTopic.values()].map((group) => {
    if (group.length === 1) return { ...group[0]!, recordCount: 1 };
    return { eventId: `${group[0]!.eventId}+${group.length - 1}`, topic: group[0]!.topic, key: null, payload: encodeFrame(group), headers: {}, recordCount: group.length };
  });
}

/**
 * `appendOutbox` as CTEs of a statement that does more in the same round trip. It inserts only
 * where `guard` (an SQL condition) holds. `added` is the expression to SELECT: the records added
 * (a bigint); selecting it is what runs the notification.
 */
export function outboxAppendCtes(name: string, messages: readonly OutboxMessage[], guard = 'true', layout: OutboxLayout = 'row-per-topic'): { ctes: string[]; bind: BindParams; added: string } {
  const rows = outboxRows(messages, layout);
  // Each payload is a bind parameter of its own: the driver sends a Buffer as binary, while a
  // bytea[] parameter goes as text, every payload hex-encoded, escaped and measured (a tenth of
  // the processor's CPU in a catch-up profile). A commit writes one row per topic, so few of them.
  const payloads: BindParams = {};
  rows.forEach((row, i) => {
    payloads[`outboxPayload${i}`] = row.payload;
  });
  const payloadArray = `ARRAY[${rows.map((_, i) => `$outboxPayload${i}::bytea`).join(', ')}]::bytea[]`;
  return {
    ctes: [
      `${name} AS (
        INSERT INTO outbox (event_id, topic, key, payload, headers, record_count)
        SELECT * FROM unnest($outboxEventIds::text[], $outboxTopics::text[], $outboxKeys::text[], ${payloadArray}, $outboxHeaders::jsonb[], $outboxRecordCounts::int[])
        WHERE ${guard}
        ON CONFLICT (event_id) DO NOTHING
        RETURNING record_count)`,
      `${name}_notified AS (
        SELECT added, CASE WHEN added > 0 THEN pg_notify('${OUTBOX_CHANNEL}', '') END AS notified
        FROM (SELECT coalesce(sum(record_count), 0) AS added FROM ${name}) AS counted)`,
    ],
    bind: {
      outboxEventIds: rows.map((m) => m.eventId),
      outboxTopics: rows.map((m) => m.topic),
      outboxKeys: rows.map((m) => m.key),
      ...payloads,
      outboxHeaders: rows.map((m) => JSON.stringify(m.headers)),
      outboxRecordCounts: rows.map((m) => m.recordCount),
    },
    added: `(SELECT added FROM ${name}_notified)`,
  };
}

/**
 * The oldest pending rows (neither published nor parked), in id order. Deliberately NOT "id > last
 * id seen": ids are taken at INSERT but become visible at COMMIT, so a smaller id can appear after
 * a larger one and a high-water mark would skip it forever. Asking for "published_at IS NULL" each
 * time (cheap, thanks to the partial index) cannot miss a row. `excludeIds` leaves out rows
 * already on their way to the broker but not yet marked (a relay that fetches ahead), through a
 * hashed subplan: `id <> ALL(array)` compares every row scanned with every id left out, which took
 * 100+ ms a page with a few thousand ids under a generic plan. `maxBytes` bounds the payload bytes
 * of the page (its first row always comes, however large), so a backlog of large rows is not read
 * into memory a whole batch at a time. `limit` counts records, not rows, and a row comes whole
 * (its first row always comes, however many records it holds).
 *
 * The page is read in the pending index's id order, and only that way: the outbox fills faster
 * than autovacuum analyzes it, and on statistics that say it is nearly empty the planner sorted
 * every pending row instead (a bitmap scan, then an external sort: 66-210 ms a page at 100,000
 * pending rows, against 3 ms through the index). So the fetch runs in a transaction of its own
 * with sorts, bitmap and sequential scans off.
 *
 * Returns the records of those rows, in row order and each row's order.
 */
export async function fetchUnpublished(sequelize: Sequelize, limit: number, excludeIds: readonly bigint[] = [], maxBytes = Number.MAX_SAFE_INTEGER): Promise<OutboxRecord[]> {
  const rows = await inTransaction(sequelize, async (transaction) => {
    await selectRows(transaction, "SELECT set_config('enable_sort', 'off', true), set_config('enable_bitmapscan', 'off', true), set_config('enable_seqscan', 'off', true)");
    return selectRows<Row>(
      transaction,
      `SELECT id, event_id, topic, key, payload, headers, created_at, record_count FROM (
         SELECT *, sum(octet_length(payload)) OVER (ORDER BY id) - octet_length(payload) AS bytes_before,
                sum(record_count) OVER (ORDER BY id) - record_count AS records_before
         FROM (
           SELECT id, event_id, topic, key, payload, headers, created_at, record_count FROM outbox
           WHERE published_at IS NULL AND parked_at IS NULL AND id NOT IN (SELECT unnest($excludeIds::bigint[]))
           ORDER BY id LIMIT $limit::int
         ) AS pending
       ) AS page
       WHERE bytes_before < $maxBytes::bigint AND records_before < $limit::int ORDER BY id`,
      { limit, excludeIds, maxBytes },
    );
  });
  return rows.flatMap(recordsOf);
}

function recordsOf(row: Row): OutboxRecord[] {
  const id = BigInt(row.id);
  const recordsInRow = Number(row.record_count);
  if (recordsInRow === 1) return [{ id, eventId: row.event_id, topic: row.topic, key: row.key, payload: row.payload, headers: row.headers, createdAt: row.created_at, recordsInRow }];
  const records = decodeFrame(row.payload);
  if (records.length !== recordsInRow) throw new RangeError(`outbox row ${row.id} says it holds ${recordsInRow} records and holds ${records.length}`);
  return records.map((record) => ({ ...record, id, topic: row.topic, createdAt: row.created_at, recordsInRow }));
}

/** Marks rows as sent (after the broker acknowledged them). Returns how many changed. */
export async function markPublished(executor: Executor, ids: bigint[]): Promise<number> {
  if (ids.length === 0) return 0;
  return execute(executor, 'UPDATE outbox SET published_at = now() WHERE id = ANY($ids::bigint[]) AND published_at IS NULL', { ids });
}

/** Records not published yet, parked ones included (they are not published either). */
export async function countUnpublished(executor: Executor): Promise<number> {
  const [row] = await selectRows<{ count: string }>(executor, 'SELECT coalesce(sum(record_count), 0) AS count FROM outbox WHERE published_at IS NULL');
  return Number(row!.count);
}

/** Sets rows of one record aside that the broker can never accept, each with its reason; they no longer block the rows behind them. */
export async function parkRows(executor: Executor, rows: ReadonlyArray<{ id: bigint; error: string }>): Promise<number> {
  if (rows.length === 0) return 0;
  return execute(
    executor,
    `UPDATE outbox SET parked_at = now(), park_error = parked.error
     FROM unnest($ids::bigint[], $errors::text[]) AS parked (id, error)
     WHERE outbox.id = parked.id AND outbox.published_at IS NULL AND outbox.parked_at IS NULL`,
    { ids: rows.map((row) => row.id), errors: rows.map((row) => row.error) },
  );
}

/**
 * Sets records aside that came in rows of several (the rest of whose records go on): each becomes
 * a parked row of its own, named after its event id, so parking one again (after a re-send of its
 * row) adds nothing. Returns the rows added.
 */
export async function parkRecords(executor: Executor, records: ReadonlyArray<{ record: OutboxMessage; error: string }>): Promise<number> {
  if (records.length === 0) return 0;
  return execute(
    executor,
    `INSERT INTO outbox (event_id, topic, key, payload, headers, parked_at, park_error)
     SELECT event_id, topic, key, payload, headers, now(), error
     FROM unnest($eventIds::text[], $topics::text[], $keys::text[], $payloads::bytea[], $headers::jsonb[], $errors::text[]) AS parked (event_id, topic, key, payload, headers, error)
     ON CONFLICT (event_id) DO NOTHING`,
    {
      eventIds: records.map(({ record }) => record.eventId),
      topics: records.map(({ record }) => record.topic),
      keys: records.map(({ record }) => record.key),
      payloads: records.map(({ record }) => record.payload),
      headers: records.map(({ record }) => JSON.stringify(record.headers)),
      errors: records.map(({ error }) => error),
    },
  );
}

export async function countParked(executor: Executor): Promise<number> {
  const [row] = await selectRows<{ count: string }>(executor, 'SELECT count(*) AS count FROM outbox WHERE published_at IS NULL AND parked_at IS NOT NULL');
  return Number(row!.count);
}

export interface ParkedRow {
  id: bigint;
  eventId: string;
  topic: string;
  key: string | null;
  /** Payload bytes (headers and record overhead come on top). */
  bytes: number;
  error: string;
  parkedAt: Date;
  createdAt: Date;
}

/** Parked rows in id order. */
export async function listParked(executor: Executor, limit = 10_000): Promise<ParkedRow[]> {
  const rows = await selectRows<{ id: string; event_id: string; topic: string; key: string | null; bytes: number; park_error: string | null; parked_at: Date; created_at: Date }>(
    executor,
    `SELECT id, event_id, topic, key, octet_length(payload) AS bytes, park_error, parked_at, created_at FROM outbox
     WHERE published_at IS NULL AND parked_at IS NOT NULL ORDER BY id LIMIT $limit::int`,
    { limit },
  );
  return rows.map((row) => ({
    id: BigInt(row.id),
    eventId: row.event_id,
    topic: row.topic,
    key: row.key,
    bytes: Number(row.bytes),
    error: row.park_error ?? '',
    parkedAt: row.parked_at,
    createdAt: row.created_at,
  }));
}

/**
 * Makes parked rows pending again (`ids`, or every parked row for 'all'), so the relay tries them
 * once more; notifies OUTBOX_CHANNEL so a waiting relay looks at once. Returns the ids unparked.
 */
export async function unparkRows(executor: Executor, ids: readonly bigint[] | 'all'): Promise<bigint[]> {
  const rows = await selectRows<{ id: string }>(
    executor,
    `WITH unparked AS (
       UPDATE outbox SET parked_at = NULL, park_error = NULL
       WHERE published_at IS NULL AND parked_at IS NOT NULL AND ($all OR id = ANY($ids::bigint[]))
       RETURNING id)
     SELECT id, pg_notify('${OUTBOX_CHANNEL}', '') FROM unparked ORDER BY id`,
    { all: ids === 'all', ids: ids === 'all' ? [] : [...ids] },
  );
  return rows.map((row) => BigInt(row.id));
}

/** Housekeeping: published rows older than `before` are no longer needed. Returns rows deleted. */
export async function deletePublishedBefore(executor: Executor, before: Date): Promise<number> {
  return execute(executor, 'DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $before', { before });
}
