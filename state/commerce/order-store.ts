import type { Sequelize } from 'sequelize';
import { type Executor, execute, selectRows, toSafeInteger } from '../sql.ts';

/** Where an order stands: stored by the source (pending), then decided by the processor. */
export type OrderStatus = 'pending' | 'confirmed' | 'rejected';

export interface NewOrder {
  orderId: string;
  productId: number;
  customerId: string | null;
  quantity: number;
  sourceId: string;
  /** Per-source sequence number: one writer per source, committed in order. */
  sourceSeq: number;
  /** When the order was made (epoch ms); the database's now() when absent. */
  createdAtMs?: number;
}

export interface StoredOrder extends NewOrder {
  status: OrderStatus;
  reason: string | null;
  createdAt: Date;
}

interface OrderRow {
  id: string;
  product_id: number;
  customer_id: string | null;
  quantity: number;
  source_id: string;
  source_seq: string;
  status: OrderStatus;
  reason: string | null;
  created_at: Date;
}

/**
 * Stores new orders with one multi-row INSERT over unnest'ed arrays (one bind parameter
 * per column, whatever the row count). A duplicate id or (source, seq) fails the whole call:
 * the source must never believe it stored an order it did not.
 */
export async function insertOrders(executor: Executor, orders: NewOrder[]): Promise<number> {
  if (orders.length === 0) return 0;
  return execute(
    executor,
    `INSERT INTO orders (id, product_id, customer_id, quantity, source_id, source_seq, created_at)
     SELECT id, product_id, customer_id, quantity, source_id, source_seq, COALESCE(to_timestamp(created_ms / 1000.0), now())
     FROM unnest($ids::uuid[], $productIds::int[], $customerIds::text[], $quantities::int[], $sourceIds::text[], $seqs::bigint[], $createdMs::float8[])
       AS o(id, product_id, customer_id, quantity, source_id, source_seq, created_ms)`,
    {
      ids: orders.map((o) => o.orderId),
      productIds: orders.map((o) => o.productId),
      customerIds: orders.map((o) => o.customerId),
      quantities: orders.map((o) => o.quantity),
      sourceIds: orders.map((o) => o.sourceId),
      seqs: orders.map((o) => o.sourceSeq),
      // Kept to the millisecond, so an OrderCreated re-published from the row is byte-identical.
      createdMs: orders.map((o) => o.createdAtMs ?? null),
    },
  );
}

/** Orders of one source after `afterSeq`, in seq order: what a restarted source must (re)publish. */
export async function readUnpublished(executor: Executor, sourceId: string, afterSeq: number, limit: number): Promise<StoredOrder[]> {
  const rows = await selectRows<OrderRow>(
    executor,
    `SELECT id, product_id, customer_id, quantity, source_id, source_seq, status, reason, created_at
     FROM orders WHERE source_id = $sourceId AND source_seq > $afterSeq::bigint
     ORDER BY source_seq LIMIT $limit::int`,
    { sourceId, afterSeq, limit },
  );
  return rows.map(toStoredOrder);
}

/** The source's publication watermark: every order with seq <= it is on the topic. 0 if none. */
export async function readPublishedSeq(executor: Executor, sourceId: string): Promise<number> {
  const [row] = await selectRows<{ published_seq: string }>(
    executor,
    'SELECT published_seq FROM order_source_progress WHERE source_id = $sourceId',
    { sourceId },
  );
  return row ? toSafeInteger(row.published_seq, 'published_seq') : 0;
}

/** Moves the watermark forward (never back: a late, smaller acknowledgement is ignored). */
export async function advancePublished(executor: Executor, sourceId: string, seq: number): Promise<number> {
  const [row] = await selectRows<{ published_seq: string }>(
    executor,
    `INSERT INTO order_source_progress AS p (source_id, published_seq) VALUES ($sourceId, $seq::bigint)
     ON CONFLICT (source_id) DO UPDATE
       SET published_seq = GREATEST(p.published_seq, EXCLUDED.published_seq), updated_at = now()
     RETURNING published_seq`,
    { sourceId, seq },
  );
  return toSafeInteger(row!.published_seq, 'published_seq');
}

/** The seq a restarted source continues from: one past the highest it stored (1 for a new source). */
export async function nextSeq(executor: Executor, sourceId: string): Promise<number> {
  const [row] = await selectRows<{ next: string }>(
    executor,
    'SELECT COALESCE(max(source_seq), 0) + 1 AS next FROM orders WHERE source_id = $sourceId',
    { sourceId },
  );
  return toSafeInteger(row!.next, 'source_seq');
}

/** Status counts, for reports and end-to-end checks. */
export async function countOrdersByStatus(sequelize: Sequelize): Promise<Record<OrderStatus, number>> {
  const rows = await selectRows<{ status: OrderStatus; count: string }>(sequelize, 'SELECT status, count(*) AS count FROM orders GROUP BY status');
  const counts: Record<OrderStatus, number> = { pending: 0, confirmed: 0, rejected: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}

function toStoredOrder(row: OrderRow): StoredOrder {
  return {
    orderId: row.id,
    productId: row.product_id,
    customerId: row.customer_id,
    quantity: row.quantity,
    sourceId: row.source_id,
    sourceSeq: toSafeInteger(row.source_seq, 'source_seq'),
    status: row.status,
    reason: row.reason,
    createdAt: row.created_at,
  };
}
