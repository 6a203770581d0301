import type { Sequelize } from 'sequelize';
import { advancePublished, insertOrders, nextSeq, readPublishedSeq, readUnpublished } from '../../state/commerce/order-store.ts';
import type { OrderLedger, SourceOrder } from './ports.ts';

/** The OrderLedger of one source id, on the orders and order_source_progress tables. */
export function createPostgresLedger(sequelize: Sequelize, sourceId: string): OrderLedger {
  return {
    nextSeq: () => nextSeq(sequelize, sourceId),
    publishedSeq: () => readPublishedSeq(sequelize, sourceId),
    async insert(orders) {
      // One statement is one implicit transaction: the batch commits whole or not at all.
      await insertOrders(
        sequelize,
        orders.map((order) => ({
          orderId: order.orderId,
          customerId: order.customerId,
          lines: order.lines,
          sourceId,
          sourceSeq: order.seq,
          createdAtMs: order.createdAtMs,
        })),
      );
    },
    async readUnpublished(afterSeq, limit) {
      const rows = await readUnpublished(sequelize, sourceId, afterSeq, limit);
      return rows.map(
        // Lines in line_no order, the order they were stored in: a re-published OrderCreated is byte-identical.
        (row): SourceOrder => ({
          seq: row.sourceSeq,
          orderId: row.orderId,
          customerId: row.customerId ?? 'unknown',
          lines: row.lines.map(({ productId, quantity }) => ({ productId, quantity })),
          createdAtMs: row.createdAt.getTime(),
        }),
      );
    },
    async advancePublished(seq) {
      await advancePublished(sequelize, sourceId, seq);
    },
  };
}
