import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { QueryTypes } from 'sequelize';
import type { StoreChange } from '../../../core/batch.ts';
import { StaleStateError } from '../../../core/errors.ts';
import type { RejectionReason } from '../../../processors/events.ts';
import type { OrderProgress } from '../../../processors/order-flow.ts';
import type { LineOutcome } from '../../../processors/outcome-events.ts';
import { ORDER_STATUS } from '../../../processors/reference-stores.ts';
import { advancePublished, countOrdersByStatus, insertOrders, type NewOrder, nextSeq, readPublishedSeq, readUnpublished } from '../../../state/commerce/order-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { tableStore } from '../../../state/table-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

/** Orders of 1, 2 and 3 lines in turn, each line of another product. */
function newOrders(sourceId: string, fromSeq: number, count: number): NewOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    orderId: randomUUID(),
    customerId: i % 2 === 0 ? `customer-${i}` : null,
    lines: Array.from({ length: 1 + (i % 3) }, (_, line) => ({ productId: ((i + 3 * line) % 10) + 1, quantity: 1 + ((i + line) % 3) })),
    sourceId,
    sourceSeq: fromSeq + i,
  }));
}


describe('order store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('orders');
  });
  afterAll(async () => {
    await db?.drop();
  });
  const linesOf = (orderIds: string[]) =>
    selectRows<{ order_id: string; line_no: number; product_id: number; quantity: number }>(
      db.sequelize,
      'SELECT order_id, line_no, product_id, quantity FROM order_lines WHERE order_id = ANY($ids::uuid[]) ORDER BY order_id, line_no',
      { ids: orderIds },
    );
  // Each test stores the orders it reads: none counts on what an earlier one left.
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE orders CASCADE');
  });

  it('inserts many orders in one call and reads them back in seq order, with their lines', async () => {
    const orders = newOrders('src-bulk', 1, 20_000);
    const started = performance.now();
    expect(await insertOrders(db.sequelize, orders)).toBe(20_000);
    process.stderr.write(`insertOrders of 20000 orders (40000 lines) took ${(performance.now() - started).toFixed(0)} ms\n`);
    const firstPage = await readUnpublished(db.sequelize, 'src-bulk', 0, 3);
    expect(firstPage.map(({ orderId, customerId, lines, sourceId, sourceSeq, status, reason }) => ({
      orderId, customerId, lines, sourceId, sourceSeq, status, reason,
    }))).toEqual(orders.slice(0, 3).map((o) => ({ ...o, status: 'pending', reason: null })));
    expect(firstPage.map((order) => order.lines.length)).toEqual([1, 2, 3]);
  });

  it('stores each line as order_lines (line_no in line order) and the lead line in the orders row', async () => {
    const [one, two, three] = newOrders('src-lines', 1, 3) as [NewOrder, NewOrder, NewOrder];
    // Out of product order: line order is the order of the array, not of the product ids.
    three.lines = [{ productId: 9, quantity: 4 }, { productId: 2, quantity: 1 }, { productId: 5, quantity: 7 }];
    await insertOrders(db.sequelize, [one, two, three]);
    expect((await linesOf([three.orderId])).map(({ line_no, product_id, quantity }) => [line_no, product_id, quantity])).toEqual([
      [0, 9, 4],
      [1, 2, 1],
      [2, 5, 7],
    ]);
    expect(await linesOf([one.orderId, two.orderId, three.orderId])).toHaveLength(6);
    const rows = await selectRows<{ id: string; product_id: number; quantity: number }>(db.sequelize, 'SELECT id, product_id, quantity FROM orders WHERE id = ANY($ids::uuid[])', {
      ids: [one.orderId, three.orderId],
    });
    expect(new Map(rows.map((row) => [row.id, [row.product_id, row.quantity]]))).toEqual(
      new Map([
        [one.orderId, [one.lines[0]!.productId, one.lines[0]!.quantity]],
        [three.orderId, [9, 4]],
      ]),
    );
    const [, , stored] = await readUnpublished(db.sequelize, 'src-lines', 0, 10);
    expect(stored!.lines).toEqual(three.lines);
  });

  it('fails the whole insert when an order repeats a product, and stores none of it, neither orders nor lines', async () => {
    const orders = newOrders('src-repeat', 1, 3);
    orders[2]!.lines = [{ productId: 4, quantity: 1 }, { productId: 4, quantity: 2 }];
    await expect(insertOrders(db.sequelize, orders)).rejects.toMatchObject({
      code: 'REQUEST_REFUSED',
      context: { sqlState: '23505', constraint: 'order_lines_product_once' },
    });
    expect(await nextSeq(db.sequelize, 'src-repeat')).toBe(1);
    expect(await linesOf(orders.map((order) => order.orderId))).toEqual([]);
    await expect(insertOrders(db.sequelize, [{ ...orders[0]!, lines: [] }])).rejects.toThrow(`order ${orders[0]!.orderId} has no lines`);
  });

  it('reads an order row written without lines (by hand) as the one line its row holds', async () => {
    const orderId = randomUUID();
    await db.sequelize.query(`INSERT INTO orders (id, product_id, quantity, source_id, source_seq) VALUES ('${orderId}', 8, 3, 'src-by-hand', 1)`);
    const [stored] = await readUnpublished(db.sequelize, 'src-by-hand', 0, 10);
    expect(stored).toMatchObject({ orderId, lines: [{ productId: 8, quantity: 3 }] });
  });

  it('keeps the creation time to the millisecond when given, so a re-published event is identical', async () => {
    const createdAtMs = Date.parse('2026-11-25T10:11:12.345Z');
    await insertOrders(db.sequelize, newOrders('src-time', 1, 1).map((order) => ({ ...order, createdAtMs })));
    const [stored] = await readUnpublished(db.sequelize, 'src-time', 0, 1);
    expect(stored!.createdAt.getTime()).toBe(createdAtMs);
  });

  it('fails the whole insert on a duplicate (source, seq) and stores none of it', async () => {
    await insertOrders(db.sequelize, newOrders('src-dup', 1, 2));
    await expect(insertOrders(db.sequelize, newOrders('src-dup', 2, 3))).rejects.toMatchObject({
      code: 'REQUEST_REFUSED',
      retriable: false,
      context: { sqlState: '23505', constraint: 'orders_source_seq_unique' },
      cause: { name: 'SequelizeUniqueConstraintError', parent: { constraint: 'orders_source_seq_unique' } },
    });
    expect(await nextSeq(db.sequelize, 'src-dup')).toBe(3);
  });

  /** Decisions as the intake's `order-status` store commits them: each from the pending order it read. */
  async function decide(orders: NewOrder[], decisions: Array<[string, 'confirmed' | 'rejected', RejectionReason?]>) {
    const store = tableStore(db.sequelize, ORDER_STATUS);
    const byId = new Map(orders.map((order) => [order.orderId, order]));
    const changes = decisions.map(([orderId, status, reason]): StoreChange<string, OrderProgress> => {
      const line = byId.get(orderId)!.lines[0]!;
      const lineResults: LineOutcome[] = [reason ? { ...line, outcome: 'refused', reason } : { ...line, outcome: 'reserved' }];
      return { key: orderId, before: { status: 'pending' }, after: { status, lineResults, ...(reason ? { reason } : {}) } };
    });
    await db.sequelize.transaction(async (transaction) => {
      const write = store.writeStatement(changes, { guard: 'true', partition: 0 });
      const [row] = await selectRows<{ result: unknown }>(transaction, `WITH ${write.ctes.join(',\n')} SELECT ${write.result} AS result`, write.bind);
      write.check(row!.result);
    });
  }
  const decided = async (orderIds: string[]) =>
    new Set([...(await tableStore(db.sequelize, ORDER_STATUS).load(orderIds))].filter(([, order]) => order.status !== 'pending').map(([orderId]) => orderId));

  it('decides pending orders once: a second decision of the same order is refused as stale', async () => {
    const orders = newOrders('src-decide', 1, 3);
    await insertOrders(db.sequelize, orders);
    const [a, b, c] = orders.map((o) => o.orderId) as [string, string, string];
    await decide(orders, [
      [a, 'confirmed'],
      [b, 'rejected', 'out_of_stock'],
    ]);
    expect(await decided([a, b, c])).toEqual(new Set([a, b]));
    const again = decide(orders, [
      [a, 'rejected', 'out_of_stock'],
      [c, 'rejected', 'unknown_product'],
    ]);
    await expect(again).rejects.toBeInstanceOf(StaleStateError);
    await expect(again).rejects.toMatchObject({ store: 'order-status', keys: [a] });
    await decide(orders, [[c, 'rejected', 'unknown_product']]);
    const rows = await db.sequelize.query<{ id: string; status: string; reason: string | null; decided: boolean }>(
      'SELECT id, status, reason, decided_at IS NOT NULL AS decided FROM orders WHERE id = ANY($ids::uuid[])',
      { bind: { ids: [a, b, c] }, type: QueryTypes.SELECT },
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(a)).toEqual({ id: a, status: 'confirmed', reason: null, decided: true });
    expect(byId.get(b)).toEqual({ id: b, status: 'rejected', reason: 'out_of_stock', decided: true });
    expect(byId.get(c)).toEqual({ id: c, status: 'rejected', reason: 'unknown_product', decided: true });
    expect(await decided([a, b, c, randomUUID()])).toEqual(new Set([a, b, c]));
  });

  it('refuses to decide one order twice in one call', async () => {
    const [order] = newOrders('src-twice', 1, 1);
    await insertOrders(db.sequelize, [order!]);
    const attempt = decide(
      [order!],
      [
        [order!.orderId, 'confirmed'],
        [order!.orderId, 'rejected', 'out_of_stock'],
      ],
    );
    await expect(attempt).rejects.toThrow(RangeError);
    expect(await decided([order!.orderId])).toEqual(new Set());
  });

  it('finds what a restarted source must publish: orders past the watermark, in seq order', async () => {
    const source = 'src-recover';
    expect(await nextSeq(db.sequelize, source)).toBe(1);
    expect(await readPublishedSeq(db.sequelize, source)).toBe(0);
    const orders = newOrders(source, 1, 10);
    await insertOrders(db.sequelize, orders);
    expect(await advancePublished(db.sequelize, source, 6)).toBe(6);
    // A late acknowledgement of an earlier send must not move the watermark back.
    expect(await advancePublished(db.sequelize, source, 4)).toBe(6);
    expect(await readPublishedSeq(db.sequelize, source)).toBe(6);

    // "Crash": start over from what the database says.
    const published = await readPublishedSeq(db.sequelize, source);
    const backlog = await readUnpublished(db.sequelize, source, published, 100);
    expect(backlog.map((o) => o.sourceSeq)).toEqual([7, 8, 9, 10]);
    expect(backlog.map((o) => o.orderId)).toEqual(orders.slice(6).map((o) => o.orderId));
    expect((await readUnpublished(db.sequelize, source, published, 2)).map((o) => o.sourceSeq)).toEqual([7, 8]);
    expect(await nextSeq(db.sequelize, source)).toBe(11);
    // Other sources are not affected.
    expect(await readUnpublished(db.sequelize, 'src-other', 0, 100)).toEqual([]);
  });

  it('counts orders by status', async () => {
    expect(await countOrdersByStatus(db.sequelize)).toEqual({ pending: 0, reserving: 0, confirmed: 0, rejected: 0, cancelled: 0 });
    const orders = newOrders('src-count', 1, 5);
    await insertOrders(db.sequelize, orders);
    const [a, b, c, d, e] = orders.map((o) => o.orderId) as [string, string, string, string, string];
    await decide(orders, [
      [a, 'confirmed'],
      [b, 'rejected', 'out_of_stock'],
      [c, 'rejected', 'unknown_product'],
    ]);
    // The order flow's other statuses: lines out for reservation, and cancelled.
    await db.sequelize.query(`UPDATE orders SET status = CASE id WHEN $1::uuid THEN 'reserving' ELSE 'cancelled' END WHERE id IN ($1::uuid, $2::uuid)`, { bind: [d, e] });
    expect(await countOrdersByStatus(db.sequelize)).toEqual({ pending: 0, reserving: 1, confirmed: 1, rejected: 2, cancelled: 1 });
  });
});
