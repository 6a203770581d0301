import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { QueryTypes } from 'sequelize';
import {
  advancePublished,
  countOrdersByStatus,
  decideOrders,
  findDecided,
  insertOrders,
  type NewOrder,
  nextSeq,
  readPublishedSeq,
  readUnpublished,
} from '../../../state/commerce/order-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

function newOrders(sourceId: string, fromSeq: number, count: number): NewOrder[] {
  return Array.from({ length: count }, (_, i) => ({
    orderId: randomUUID(),
    productId: (i % 4) + 1,
    customerId: i % 2 === 0 ? `customer-${i}` : null,
    quantity: 1 + (i % 3),
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
  // Each test stores the orders it reads: none counts on what an earlier one left.
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE orders');
  });

  it('inserts many orders in one call and reads them back in seq order', async () => {
    const orders = newOrders('src-bulk', 1, 20_000);
    const started = performance.now();
    expect(await insertOrders(db.sequelize, orders)).toBe(20_000);
    process.stderr.write(`insertOrders of 20000 rows took ${(performance.now() - started).toFixed(0)} ms\n`);
    const firstPage = await readUnpublished(db.sequelize, 'src-bulk', 0, 3);
    expect(firstPage.map(({ orderId, productId, customerId, quantity, sourceId, sourceSeq, status, reason }) => ({
      orderId, productId, customerId, quantity, sourceId, sourceSeq, status, reason,
    }))).toEqual(orders.slice(0, 3).map((o) => ({ ...o, status: 'pending', reason: null })));
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

  it('decides pending orders once: a second decision of the same order is ignored', async () => {
    const orders = newOrders('src-decide', 1, 3);
    await insertOrders(db.sequelize, orders);
    const [a, b, c] = orders.map((o) => o.orderId) as [string, string, string];
    const first = await db.sequelize.transaction((transaction) =>
      decideOrders(transaction, [
        { orderId: a, status: 'confirmed' },
        { orderId: b, status: 'rejected', reason: 'out_of_stock' },
      ]),
    );
    expect(first).toEqual(new Set([a, b]));
    const again = await db.sequelize.transaction((transaction) =>
      decideOrders(transaction, [
        { orderId: a, status: 'rejected', reason: 'out_of_stock' },
        { orderId: c, status: 'rejected', reason: 'unknown_product' },
      ]),
    );
    expect(again).toEqual(new Set([c]));
    const rows = await db.sequelize.query<{ id: string; status: string; reason: string | null; decided: boolean }>(
      'SELECT id, status, reason, decided_at IS NOT NULL AS decided FROM orders WHERE id = ANY($ids::uuid[])',
      { bind: { ids: [a, b, c] }, type: QueryTypes.SELECT },
    );
    const byId = new Map(rows.map((row) => [row.id, row]));
    expect(byId.get(a)).toEqual({ id: a, status: 'confirmed', reason: null, decided: true });
    expect(byId.get(b)).toEqual({ id: b, status: 'rejected', reason: 'out_of_stock', decided: true });
    expect(byId.get(c)).toEqual({ id: c, status: 'rejected', reason: 'unknown_product', decided: true });
    expect(await findDecided(db.sequelize, [a, b, c, randomUUID()])).toEqual(new Set([a, b, c]));
  });

  it('refuses to decide one order twice in one call', async () => {
    const [order] = newOrders('src-twice', 1, 1);
    await insertOrders(db.sequelize, [order!]);
    const attempt = db.sequelize.transaction((transaction) =>
      decideOrders(transaction, [
        { orderId: order!.orderId, status: 'confirmed' },
        { orderId: order!.orderId, status: 'rejected', reason: 'out_of_stock' },
      ]),
    );
    await expect(attempt).rejects.toThrow(RangeError);
    expect(await findDecided(db.sequelize, [order!.orderId])).toEqual(new Set());
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
    expect(await countOrdersByStatus(db.sequelize)).toEqual({ pending: 0, confirmed: 0, rejected: 0 });
    const orders = newOrders('src-count', 1, 5);
    await insertOrders(db.sequelize, orders);
    const [a, b, c] = orders.map((o) => o.orderId) as [string, string, string];
    await db.sequelize.transaction((transaction) =>
      decideOrders(transaction, [
        { orderId: a, status: 'confirmed' },
        { orderId: b, status: 'rejected', reason: 'out_of_stock' },
        { orderId: c, status: 'rejected', reason: 'unknown_product' },
      ]),
    );
    expect(await countOrdersByStatus(db.sequelize)).toEqual({ pending: 2, confirmed: 1, rejected: 2 });
  });
});
