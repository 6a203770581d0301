import type { Sequelize } from 'sequelize';
import { type Executor, selectRows, toSafeInteger } from '../sql.ts';

/**
 * Where an order stands, as the orders table's CHECK allows (migration 0011): stored by the source
 * (pending), its lines out for reservation (reserving), then decided (confirmed or rejected) or
 * cancelled. The same set as the order flow's OrderStatus (processors/order-flow.ts), which this
 * layer may not import.
 */
export type OrderStatus = 'pending' | 'reserving' | 'confirmed' | 'rejected' | 'cancelled';

export interface NewOrder {
  orderId: string;
  customerId: string | null;
  /**
   * At least one, each of another product, in line order (line_no is the index). The first is
   * the lead line, which orders.product_id and orders.quantity hold as well.
   */
  lines: ReadonlyArray<{ productId: number; quantity: number }>;
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
  customer_id: string | null;
  /** The lines' product ids and quantities in line_no order. */
  product_ids: number[];
  quantities: number[];
  source_id: string;
  source_seq: string;
  status: OrderStatus;
  reason: string | null;
  created_at: Date;
}

/**
 * Stores new orders and their lines in ONE statement: an INSERT into orders and one into
 * order_lines, each over unnest'ed arrays (the lines flattened, one element per line), so there
 * is one bind parameter per column whatever the count of orders or lines. A duplicate id or
 * (source, seq), or a product twice in one order, fails the whole call: the source must never
 * believe it stored an order it did not. Returns the number of orders stored.
 */
export async function insertOrders(executor: Executor, orders: NewOrder[]): Promise<number> {
  if (orders.length === 0) return 0;
  const lines = { orderIds: [] as string[], lineNos: [] as number[], productIds: [] as number[], quantities: [] as number[] };
  for (const order of orders) {
    if (order.lines.length === 0) throw new RangeError(`order ${order.orderId} has no lines; an order has at least one`);
    order.lines.forEach((line, lineNo) => {
      lines.orderIds.push(order.orderId);
      lines.lineNos.push(lineNo);
      lines.productIds.push(line.productId);
      lines.quantities.push(line.quantity);
    });
  }
  // The lines' foreign key is checked at the end of the statement, when both INSERTs are done.
  const [row] = await selectRows<{ stored: number }>(
    executor,
    `WITH stored_orders AS (
       INSERT INTO orders (id, product_id, customer_id, quantity, source_id, source_seq, created_at)
       SELECT id, product_id, customer_id, quantity, source_id, source_seq, COALESCE(to_timestamp(created_ms / 1000.0), now())
       FROM unnest($ids::uuid[], $leadProductIds::int[], $customerIds::text[], $leadQuantities::int[], $sourceIds::text[], $seqs::bigint[], $createdMs::float8[])
         AS o(id, product_id, customer_id, quantity, source_id, source_seq, created_ms)
       RETURNING 1
     ), stored_lines AS (
       INSERT INTO order_lines (order_id, line_no, product_id, quantity)
       SELECT order_id, line_no, product_id, quantity
       FROM unnest($lineOrderIds::uuid[], $lineNos::smallint[], $lineProductIds::int[], $lineQuantities::int[]) AS l(order_id, line_no, product_id, quantity)
     )
     SELECT count(*)::int AS stored FROM stored_orders`,
    {
      ids: orders.map((o) => o.orderId),
      leadProductIds: orders.map((o) => o.lines[0]!.productId),
      customerIds: orders.map((o) => o.customerId),
      leadQuantities: orders.map((o) => o.lines[0]!.quantity),
      sourceIds: orders.map((o) => o.sourceId),
      seqs: orders.map((o) => o.sourceSeq),
      // Kept to the millisecond, so an OrderCreated re-published from the row is byte-identical.
      createdMs: orders.map((o) => o.createdAtMs ?? null),
      lineOrderIds: lines.orderIds,
      lineNos: lines.lineNos,
      lineProductIds: lines.productIds,
      lineQuantities: lines.quantities,
    },
  );
  return row!.stored;
}

/**
 * Orders of one source after `afterSeq`, in seq order, each with its lines in line_no order:
 * what a restarted source must (re)publish. An order row without lines (one written by hand,
 * not by a source) reads as the one line its row holds, as every order did before order_lines.
 */
export async function readUnpublished(executor: Executor, sourceId: string, afterSeq: number, limit: number): Promise<StoredOrder[]> {
  const rows = await selectRows<OrderRow>(
    executor,
    `SELECT o.id, o.customer_id, o.source_id, o.source_seq, o.status, o.reason, o.created_at,
            COALESCE(l.product_ids, ARRAY[o.product_id]) AS product_ids, COALESCE(l.quantities, ARRAY[o.quantity]) AS quantities
     FROM orders o
     CROSS JOIN LATERAL (
       SELECT array_agg(product_id ORDER BY line_no) AS product_ids, array_agg(quantity ORDER BY line_no) AS quantities
       FROM order_lines WHERE order_id = o.id
     ) l
     WHERE o.source_id = $sourceId AND o.source_seq > $afterSeq::bigint
     ORDER BY o.source_seq LIMIT $limit::int`,
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
  const counts: Record<OrderStatus, number> = { pending: 0, reserving: 0, confirmed: 0, rejected: 0, cancelled: 0 };
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}

function toStoredOrder(row: OrderRow): StoredOrder {
  return {
    orderId: row.id,
    customerId: row.customer_id,
    lines: row.product_ids.map((productId, index) => ({ productId, quantity: row.quantities[index]! })),
    sourceId: row.source_id,
    sourceSeq: toSafeInteger(row.source_seq, 'source_seq'),
    status: row.status,
    reason: row.reason,
    createdAt: row.created_at,
  };
}
