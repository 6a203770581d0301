import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { QueryTypes } from 'sequelize';
import { applyInventoryChanges, loadAllStock, loadStock, StaleInventoryError } from '../../../state/commerce/inventory-store.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

describe('inventory store', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('inventory');
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE products RESTART IDENTITY CASCADE');
    await seed(db.sequelize); // products 1..4; stock: 3 -> 1 unit, 4 -> 2 units
  });

  const stored = () =>
    db.sequelize.query<{ product_id: number; quantity: number; version: string }>('SELECT product_id, quantity, version FROM inventory ORDER BY product_id', {
      type: QueryTypes.SELECT,
    });

  it('loads stock: unknown products as null, products without a row as 0 units at version 0', async () => {
    const stock = await loadStock(db.sequelize, [4, 1, 999, 3, 4]);
    expect([...stock.entries()].sort(([a], [b]) => a - b)).toEqual([
      [1, { quantity: 0, version: 0 }],
      [3, { quantity: 1, version: 0 }],
      [4, { quantity: 2, version: 0 }],
      [999, null],
    ]);
  });

  it('loads the stock of every product', async () => {
    expect([...(await loadAllStock(db.sequelize)).entries()]).toEqual([
      [1, { quantity: 0, version: 0 }],
      [2, { quantity: 0, version: 0 }],
      [3, { quantity: 1, version: 0 }],
      [4, { quantity: 2, version: 0 }],
    ]);
  });

  it('applies several products\' net changes in one call, creating missing rows', async () => {
    const after = await db.sequelize.transaction((transaction) =>
      applyInventoryChanges(transaction, [
        { productId: 4, delta: -2, version: 1 },
        { productId: 1, delta: 5, version: 1 },
        { productId: 3, delta: -1, version: 1 },
      ]),
    );
    expect(after).toEqual([
      { productId: 1, quantity: 5, version: 1 },
      { productId: 3, quantity: 0, version: 1 },
      { productId: 4, quantity: 0, version: 1 },
    ]);
    expect(await stored()).toEqual([
      { product_id: 1, quantity: 5, version: '1' },
      { product_id: 3, quantity: 0, version: '1' },
      { product_id: 4, quantity: 0, version: '1' },
    ]);
    expect((await loadStock(db.sequelize, [1])).get(1)).toEqual({ quantity: 5, version: 1 });
  });

  it('refuses an overdraw through the CHECK, and the batch changes nothing', async () => {
    const attempt = db.sequelize.transaction((transaction) =>
      applyInventoryChanges(transaction, [
        { productId: 3, delta: -1, version: 1 },
        { productId: 4, delta: -3, version: 1 },
      ]),
    );
    await expect(attempt).rejects.toThrow(/inventory_quantity_non_negative/);
    expect(await stored()).toEqual([
      { product_id: 3, quantity: 1, version: '0' },
      { product_id: 4, quantity: 2, version: '0' },
    ]);
  });

  it('refuses a change from stale state (version not one past the stored one)', async () => {
    await db.sequelize.transaction((transaction) => applyInventoryChanges(transaction, [{ productId: 4, delta: -1, version: 1 }]));
    const stale = db.sequelize.transaction((transaction) =>
      applyInventoryChanges(transaction, [
        { productId: 3, delta: -1, version: 1 },
        { productId: 4, delta: -1, version: 1 },
      ]),
    );
    await expect(stale).rejects.toThrow(StaleInventoryError);
    await expect(stale).rejects.toThrow(/product\(s\) 4:/);
    expect(await stored()).toEqual([
      { product_id: 3, quantity: 1, version: '0' },
      { product_id: 4, quantity: 1, version: '1' },
    ]);
  });

  it('refuses two changes of one product: deltas must be summed first', async () => {
    const attempt = db.sequelize.transaction((transaction) =>
      applyInventoryChanges(transaction, [
        { productId: 4, delta: -1, version: 1 },
        { productId: 4, delta: -1, version: 1 },
      ]),
    );
    await expect(attempt).rejects.toThrow(RangeError);
  });

  it('does nothing for an empty batch', async () => {
    expect(await db.sequelize.transaction((transaction) => applyInventoryChanges(transaction, []))).toEqual([]);
  });
});
