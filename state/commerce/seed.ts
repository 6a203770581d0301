import type { Sequelize } from 'sequelize';
import { type Executor, execute } from '../sql.ts';

/** The original project's catalogue. Only two products have a stock row, as there. */
export const DEFAULT_PRODUCTS: ReadonlyArray<{ id: number; name: string; price: string }> = [
  { id: 1, name: 'Wireless Keyboard', price: '29.99' },
  { id: 2, name: 'USB-C Hub', price: '20.00' },
  { id: 3, name: 'Monitor Stand', price: '45.50' },
  { id: 4, name: 'Bluetooth Mouse', price: '15.25' },
];
export const DEFAULT_STOCK: ReadonlyArray<{ productId: number; quantity: number }> = [
  { productId: 3, quantity: 1 },
  { productId: 4, quantity: 2 },
];

export const DEFAULT_GENERATED_STOCK = 1_000_000;

export interface SeedOptions {
  /** Generate this many products (ids 1..N, "Product N") instead of the default catalogue. */
  products?: number;
  /** Units of stock for each generated product. */
  stock?: number;
}

export interface SeedResult {
  productsInserted: number;
  inventoryInserted: number;
}

/**
 * Inserts the seed rows that are missing and leaves existing rows alone (ON CONFLICT DO
 * NOTHING): re-seeding never duplicates, and never silently resets stock that a running
 * pipeline has already consumed. To start over, roll back and migrate again.
 */
export async function seed(sequelize: Sequelize, options: SeedOptions = {}): Promise<SeedResult> {
  return sequelize.transaction(async (transaction) => {
    const result =
      options.products === undefined
        ? await seedDefaultCatalogue(transaction)
        : await seedGenerated(transaction, options.products, options.stock ?? DEFAULT_GENERATED_STOCK);
    // Explicit ids bypass the SERIAL sequence; move it past them so later inserts do not collide.
    await execute(transaction, "SELECT setval(pg_get_serial_sequence('products', 'id'), GREATEST((SELECT max(id) FROM products), 1))");
    return result;
  });
}

async function seedDefaultCatalogue(executor: Executor): Promise<SeedResult> {
  const productsInserted = await execute(
    executor,
    `INSERT INTO products (id, name, price)
     SELECT * FROM unnest($ids::int[], $names::text[], $prices::numeric[])
     ON CONFLICT (id) DO NOTHING`,
    { ids: DEFAULT_PRODUCTS.map((p) => p.id), names: DEFAULT_PRODUCTS.map((p) => p.name), prices: DEFAULT_PRODUCTS.map((p) => p.price) },
  );
  const inventoryInserted = await execute(
    executor,
    `INSERT INTO inventory (product_id, quantity)
     SELECT * FROM unnest($ids::int[], $quantities::int[])
     ON CONFLICT (product_id) DO NOTHING`,
    { ids: DEFAULT_STOCK.map((s) => s.productId), quantities: DEFAULT_STOCK.map((s) => s.quantity) },
  );
  return { productsInserted, inventoryInserted };
}

/** Set-based with generate_series: 100k products take well under a second. */
async function seedGenerated(executor: Executor, count: number, stock: number): Promise<SeedResult> {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`products must be a positive integer, got ${count}`);
  if (!Number.isSafeInteger(stock) || stock < 0 || stock > 2_147_483_647) throw new RangeError(`stock must fit a non-negative INTEGER, got ${stock}`);
  const productsInserted = await execute(
    executor,
    // Prices spread deterministically over 1.00..99.99 so runs are reproducible.
    `INSERT INTO products (id, name, price)
     SELECT g, 'Product ' || g, ((g::bigint * 7919) % 9900 + 100) / 100.0
     FROM generate_series(1, $count::int) AS g
     ON CONFLICT (id) DO NOTHING`,
    { count },
  );
  const inventoryInserted = await execute(
    executor,
    `INSERT INTO inventory (product_id, quantity)
     SELECT g, $stock::int FROM generate_series(1, $count::int) AS g
     ON CONFLICT (product_id) DO NOTHING`,
    { count, stock },
  );
  return { productsInserted, inventoryInserted };
}
