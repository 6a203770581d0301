import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { QueryTypes } from 'sequelize';
import { seed } from '../../../state/commerce/seed.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';

describe('seed', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('seed');
  });
  afterAll(async () => {
    await db?.drop();
  });
  beforeEach(async () => {
    await db.sequelize.query('TRUNCATE products RESTART IDENTITY CASCADE');
  });

  const products = () =>
    db.sequelize.query<{ id: number; name: string; price: string }>('SELECT id, name, price FROM products ORDER BY id', { type: QueryTypes.SELECT });
  const stock = () =>
    db.sequelize.query<{ product_id: number; quantity: number; version: string }>('SELECT product_id, quantity, version FROM inventory ORDER BY product_id', {
      type: QueryTypes.SELECT,
    });

  it('inserts the reference catalogue: four products, stock for two (the others hold 0 units)', async () => {
    expect(await seed(db.sequelize)).toEqual({ productsInserted: 4, inventoryInserted: 2 });
    expect(await products()).toEqual([
      { id: 1, name: 'Wireless Keyboard', price: '29.99' },
      { id: 2, name: 'USB-C Hub', price: '20.00' },
      { id: 3, name: 'Monitor Stand', price: '45.50' },
      { id: 4, name: 'Bluetooth Mouse', price: '15.25' },
    ]);
    // Every product has its inventory row (migration 0007): an absent row is an unknown product.
    expect(await stock()).toEqual([
      { product_id: 1, quantity: 0, version: '0' },
      { product_id: 2, quantity: 0, version: '0' },
      { product_id: 3, quantity: 1, version: '0' },
      { product_id: 4, quantity: 2, version: '0' },
    ]);
  });

  it('is idempotent and does not reset stock that was consumed', async () => {
    await seed(db.sequelize);
    await db.sequelize.query('UPDATE inventory SET quantity = 0 WHERE product_id = 3');
    expect(await seed(db.sequelize)).toEqual({ productsInserted: 0, inventoryInserted: 0 });
    expect(await products()).toHaveLength(4);
    expect((await stock()).find((row) => row.product_id === 3)?.quantity).toBe(0);
  });

  it('moves the id sequence past the seeded ids', async () => {
    await seed(db.sequelize);
    const [row] = await db.sequelize.query<{ id: number }>("INSERT INTO products (name, price) VALUES ('Added later', 1) RETURNING id", {
      type: QueryTypes.SELECT,
    });
    expect(row?.id).toBe(5);
  });

  it('generates N products with stock, set-based and deterministic', async () => {
    const started = performance.now();
    expect(await seed(db.sequelize, { products: 100_000, stock: 7 })).toEqual({ productsInserted: 100_000, inventoryInserted: 100_000 });
    const elapsedMs = performance.now() - started;
    process.stderr.write(`seed of 100000 products took ${elapsedMs.toFixed(0)} ms\n`);
    const [summary] = await db.sequelize.query<{ products: string; min_id: number; max_id: number; units: string; distinct_stock: string }>(
      `SELECT (SELECT count(*) FROM products) AS products, (SELECT min(id) FROM products) AS min_id, (SELECT max(id) FROM products) AS max_id,
              (SELECT sum(quantity) FROM inventory) AS units, (SELECT count(DISTINCT quantity) FROM inventory) AS distinct_stock`,
      { type: QueryTypes.SELECT },
    );
    expect(summary).toEqual({ products: '100000', min_id: 1, max_id: 100000, units: '700000', distinct_stock: '1' });
    const sample = await db.sequelize.query<{ id: number; name: string; price: string }>('SELECT id, name, price FROM products WHERE id IN (1, 100000) ORDER BY id', {
      type: QueryTypes.SELECT,
    });
    expect(sample).toEqual([
      { id: 1, name: 'Product 1', price: '80.19' },
      { id: 100000, name: 'Product 100000', price: '90.00' },
    ]);
  });

  it('gives generated products the default stock of 1,000,000', async () => {
    await seed(db.sequelize, { products: 3 });
    expect((await stock()).map((row) => row.quantity)).toEqual([1_000_000, 1_000_000, 1_000_000]);
  });
});
