import type { Transaction } from 'sequelize';
import { type Executor, execute, selectRows } from './sql.ts';

export interface OutboxMessage {
  /** Deterministic, so a replayed batch appends nothing and consumers can deduplicate. */
  eventId: string;
  topic: string;
  key: string | null;
  /** The exact bytes to publish. */
  payload: Buffer;
  headers: Record<string, string>;
}

export interface OutboxRow extends OutboxMessage {
  id: bigint;
  createdAt: Date;
}

interface Row {
  id: string;
  event_id: string;
  topic: string;
  key: string | null;
  payload: Buffer;
  headers: Record<string, string>;
  created_at: Date;
}

/** Appends events in the caller's transaction; an event id already present is skipped. Returns rows added. */
export async function appendOutbox(transaction: Transaction, messages: OutboxMessage[]): Promise<number> {
  if (messages.length === 0) return 0;
  return execute(
    transaction,
    `INSERT INTO outbox (event_id, topic, key, payload, headers)
     SELECT * FROM unnest($eventIds::text[], $topics::text[], $keys::text[], $payloads::bytea[], $headers::jsonb[])
     ON CONFLICT (event_id) DO NOTHING`,
    {
      eventIds: messages.map((m) => m.eventId),
      topics: messages.map((m) => m.topic),
      keys: messages.map((m) => m.key),
      payloads: messages.map((m) => m.payload),
      headers: messages.map((m) => JSON.stringify(m.headers)),
    },
  );
}

/**
 * The oldest unpublished rows, in id order. Deliberately NOT "id > last id seen": ids are
 * taken at INSERT but become visible at COMMIT, so a smaller id can appear after a larger
 * one and a high-water mark would skip it forever. Asking for "published_at IS NULL" each
 * time (cheap, thanks to the partial index) cannot miss a row.
 */
export async function fetchUnpublished(executor: Executor, limit: number): Promise<OutboxRow[]> {
  const rows = await selectRows<Row>(
    executor,
    `SELECT id, event_id, topic, key, payload, headers, created_at FROM outbox
     WHERE published_at IS NULL ORDER BY id LIMIT $limit::int`,
    { limit },
  );
  return rows.map((row) => ({
    id: BigInt(row.id),
    eventId: row.event_id,
    topic: row.topic,
    key: row.key,
    payload: row.payload,
    headers: row.headers,
    createdAt: row.created_at,
  }));
}

/** Marks rows as sent (after the broker acknowledged them). Returns how many changed. */
export async function markPublished(executor: Executor, ids: bigint[]): Promise<number> {
  if (ids.length === 0) return 0;
  return execute(executor, 'UPDATE outbox SET published_at = now() WHERE id = ANY($ids::bigint[]) AND published_at IS NULL', { ids });
}

export async function countUnpublished(executor: Executor): Promise<number> {
  const [row] = await selectRows<{ count: string }>(executor, 'SELECT count(*) AS count FROM outbox WHERE published_at IS NULL');
  return Number(row!.count);
}

/** Housekeeping: published rows older than `before` are no longer needed. Returns rows deleted. */
export async function deletePublishedBefore(executor: Executor, before: Date): Promise<number> {
  return execute(executor, 'DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < $before', { before });
}
