import type { Sequelize } from 'sequelize';
import { type Executor, execute, selectRows } from '../sql.ts';

/** The original project's catalogue. Only two products have stock, as there; the others hold 0 units. */
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
  /** Inventory rows the seed gave stock: those of the products it inserted that have any. */
  inventoryInserted: number;
}

/**
 * Inserts the seed rows that are missing and leaves existing rows alone (ON CONFLICT DO
 * NOTHING): re-seeding never duplicates, and never silently resets stock that a running
 * pipeline has already consumed. Every product gets its inventory row from a trigger (0 units,
 * migration 0007); the seed then gives stock to the products it inserted, and only to those.
 * To start over, roll back and migrate again.
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

/** Runs an INSERT ... RETURNING id and gives the ids it inserted. */
async function insertedIds(executor: Executor, insert: string, bind: Record<string, unknown>): Promise<number[]> {
  const [row] = await selectRows<{ ids: number[] }>(executor, `WITH inserted AS (${insert} RETURNING id) SELECT coalesce(array_agg(id), '{}') AS ids FROM inserted`, bind);
  return row!.ids;
}

async function seedDefaultCatalogue(executor: Executor): Promise<SeedResult> {
  const inserted = await insertedIds(
    executor,
    `INSERT INTO products (id, name, price)
     SELECT * FROM unnest($ids::int[], $names::text[], $prices::numeric[])
     ON CONFLICT (id) DO NOTHING`,
    { ids: DEFAULT_PRODUCTS.map((p) => p.id), names: DEFAULT_PRODUCTS.map((p) => p.name), prices: DEFAULT_PRODUCTS.map((p) => p.price) },
  );
  const inventoryInserted = await execute(
    executor,
    `UPDATE inventory i SET quantity = s.quantity
     FROM unnest($ids::int[], $quantities::int[]) AS s(product_id, quantity)
     WHERE i.product_id = s.product_id AND s.product_id = ANY($inserted::int[])`,
    { ids: DEFAULT_STOCK.map((s) => s.productId), quantities: DEFAULT_STOCK.map((s) => s.quantity), inserted },
  );
  return { productsInserted: inserted.length, inventoryInserted };
}

/** Set-based with generate_series: 100k products take well under a second. */
async function seedGenerated(executor: Executor, count: number, stock: number): Promise<SeedResult> {
  if (!Number.isSafeInteger(count) || count < 1) throw new RangeError(`products must be a positive integer, got ${count}`);
  if (!Number.isSafeInteger(stock) || stock < 0 || stock > 2_147_483_647) throw new RangeError(`stock must fit a non-negative INTEGER, got ${stock}`);
  const inserted = await insertedIds(
    executor,
    // Prices spread deterministically over 1.00..99.99 so runs are reproducible.
    `INSERT INTO products (id, name, price)
     SELECT g, 'Product ' || g, ((g::bigint * 7919) % 9900 + 100) / 100.0
     FROM generate_series(1, $count::int) AS g
     ON CONFLICT (id) DO NOTHING`,
    { count },
  );
  const inventoryInserted = await execute(executor, 'UPDATE inventory SET quantity = $stock::int WHERE product_id = ANY($inserted::int[])', { stock, inserted });
  return { productsInserted: inserted.length, inventoryInserted };
}
