import type { Transaction } from 'sequelize';
import { StreamError } from '../core/errors.ts';
import { type Executor, execute, selectRows, toSafeInteger } from './sql.ts';

export interface StockLevel {
  quantity: number;
  /** Bumped by one with every InventoryUpdated event of the product. */
  version: number;
}

export interface InventoryChange {
  productId: number;
  /** Net change of the batch; deltas of one product must already be summed into one change. */
  delta: number;
  /** The version after this change: exactly one more than the stored one. */
  version: number;
}

export interface InventoryAfter extends StockLevel {
  productId: number;
}

/**
 * The in-memory stock of the processor disagrees with the database (another writer got
 * there first, or the cache is stale). Not retriable as is: reload the state first.
 */
export class StaleInventoryError extends StreamError {
  constructor(productIds: number[]) {
    const shown = productIds.slice(0, 10).join(', ') + (productIds.length > 10 ? ` and ${productIds.length - 10} more` : '');
    super('FENCED', `inventory version mismatch for product(s) ${shown}: state must be reloaded`, { context: { productIds } });
  }
}

interface StockRow {
  id: number;
  known: boolean;
  quantity: number | null;
  version: string | null;
}

/**
 * Stock of the given products. `null` marks a product that does not exist (the processor
 * rejects its orders as unknown_product); a product without an inventory row has 0 units.
 */
export async function loadStock(executor: Executor, productIds: number[]): Promise<Map<number, StockLevel | null>> {
  const rows = await selectRows<StockRow>(
    executor,
    `SELECT q.id, p.id IS NOT NULL AS known, i.quantity, i.version
     FROM unnest($ids::int[]) AS q(id)
     LEFT JOIN products p ON p.id = q.id
     LEFT JOIN inventory i ON i.product_id = q.id`,
    { ids: [...new Set(productIds)] },
  );
  return new Map(rows.map((row) => [row.id, row.known ? toStockLevel(row) : null]));
}

/** Stock of every known product; the caller keeps the keys of the partitions it owns. */
export async function loadAllStock(executor: Executor): Promise<Map<number, StockLevel>> {
  const rows = await selectRows<StockRow>(
    executor,
    `SELECT p.id, true AS known, i.quantity, i.version
     FROM products p LEFT JOIN inventory i ON i.product_id = p.id
     ORDER BY p.id`,
  );
  return new Map(rows.map((row) => [row.id, toStockLevel(row)]));
}

/**
 * Applies a batch's net changes in the caller's transaction, set-based whatever the batch
 * size. Products without a row get one (0 units, version 0) first; then one UPDATE adds the
 * deltas, taking the row locks in product-id order so concurrent batches cannot deadlock.
 * The version check makes a writer with stale state fail instead of overwriting; the
 * quantity CHECK makes an overdraw fail instead of going negative.
 * Returns the stored stock after the change, by product id.
 */
export async function applyInventoryChanges(transaction: Transaction, changes: InventoryChange[]): Promise<InventoryAfter[]> {
  if (changes.length === 0) return [];
  const sorted = [...changes].sort((a, b) => a.productId - b.productId);
  assertOnePerProduct(sorted);
  const bind = { ids: sorted.map((c) => c.productId), deltas: sorted.map((c) => c.delta), versions: sorted.map((c) => c.version) };
  // Not INSERT ... ON CONFLICT DO UPDATE with the delta as the proposed quantity: PostgreSQL
  // checks the proposed row against the CHECK before it looks for a conflict, so a negative
  // delta would fail even where the stored quantity covers it.
  await execute(
    transaction,
    `INSERT INTO inventory (product_id, quantity, version)
     SELECT id, 0, 0 FROM unnest($ids::int[]) AS id ORDER BY id
     ON CONFLICT (product_id) DO NOTHING`,
    bind,
  );
  const rows = await selectRows<{ product_id: number; quantity: number; version: string }>(
    transaction,
    `UPDATE inventory i SET quantity = i.quantity + c.delta, version = c.version, updated_at = now()
     FROM (SELECT product_id FROM inventory WHERE product_id = ANY($ids::int[]) ORDER BY product_id FOR UPDATE) AS locked,
          unnest($ids::int[], $deltas::int[], $versions::bigint[]) AS c(product_id, delta, version)
     WHERE i.product_id = locked.product_id AND c.product_id = i.product_id AND i.version + 1 = c.version
     RETURNING i.product_id, i.quantity, i.version`,
    bind,
  );
  if (rows.length !== sorted.length) {
    const written = new Set(rows.map((row) => row.product_id));
    throw new StaleInventoryError(sorted.filter((c) => !written.has(c.productId)).map((c) => c.productId));
  }
  return rows
    .map((row) => ({ productId: row.product_id, quantity: row.quantity, version: toSafeInteger(row.version, 'inventory.version') }))
    .sort((a, b) => a.productId - b.productId);
}

/** One row per target key: PostgreSQL would refuse (ON CONFLICT) or drop (UPDATE FROM) a second one. */
function assertOnePerProduct(sorted: InventoryChange[]): void {
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.productId === sorted[i - 1]!.productId) {
      throw new RangeError(`inventory changes must be summed per product: product ${sorted[i]!.productId} appears twice`);
    }
  }
}

function toStockLevel(row: StockRow): StockLevel {
  return { quantity: row.quantity ?? 0, version: row.version === null ? 0 : toSafeInteger(row.version, 'inventory.version') };
}
