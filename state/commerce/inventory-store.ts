import type { Transaction } from 'sequelize';
import { StaleStateError } from '../../core/errors.ts';
import { type BindParams, type Executor, selectRows, toSafeInteger } from '../sql.ts';

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
  /**
   * The quantity the change was computed from. When given, the row must still hold it (0 for
   * a product without a row), or the change is reported stale.
   */
  quantityBefore?: number;
}

export interface InventoryAfter extends StockLevel {
  productId: number;
}

/**
 * The stock the batch was computed from is not the stored one any more: someone else wrote the
 * row since it was cached (an operator restocked by hand, a row was inserted). Not a fence: the
 * caller still owns its partition. Retriable after the products are reloaded.
 */
export class StaleInventoryError extends StaleStateError {
  readonly productIds: number[];
  constructor(productIds: number[], store = 'inventory') {
    const shown = productIds.slice(0, 10).join(', ') + (productIds.length > 10 ? ` and ${productIds.length - 10} more` : '');
    super(store, productIds, `inventory mismatch for product(s) ${shown}: changed in the database since it was loaded; reload it and run the batch again`);
    this.productIds = productIds;
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
 * Applies a batch's net changes in the caller's transaction, in one statement whatever the
 * batch size. Existing rows are locked in product-id order (so concurrent batches cannot
 * deadlock) and get the deltas added; products without a row get one holding the delta (a
 * missing row counts as 0 units, version 0). The version and quantity checks make a writer with
 * stale state fail instead of overwriting; the quantity CHECK makes an overdraw fail instead of
 * going negative. Returns the stored stock after the change, by product id.
 */
export async function applyInventoryChanges(transaction: Transaction, changes: InventoryChange[]): Promise<InventoryAfter[]> {
  if (changes.length === 0) return [];
  const apply = inventoryChangesCtes('inventory', changes);
  const [row] = await selectRows<{ after: unknown }>(transaction, `WITH ${apply.ctes.join(',\n')} SELECT ${apply.after} AS after`, apply.bind);
  return apply.readAfter(row!.after);
}

/**
 * `applyInventoryChanges` as CTEs of a statement that does more in the same round trip; it
 * locks and writes only where `guard` (an SQL condition) holds. Select `after`, and pass its
 * value to `readAfter`, which throws StaleInventoryError unless every change was applied.
 */
export function inventoryChangesCtes(
  name: string,
  changes: InventoryChange[],
  guard = 'true',
  store = 'inventory',
): { ctes: string[]; bind: BindParams; after: string; readAfter(value: unknown): InventoryAfter[] } {
  const sorted = [...changes].sort((a, b) => a.productId - b.productId);
  assertOnePerProduct(sorted);
  // Why a compare-and-set on the quantity (and the version), not a revision column kept by a
  // trigger: the quantity is what an operator edits by hand (a restock), and it is also all
  // the processor decides on. A batch that read the quantity the row still holds decided
  // right, whatever else happened to the row; one that read another is stale, so nothing is
  // written and the caller reloads and runs the batch again. Every change carries the quantity
  // it started from already (the event's quantity minus its delta): no trigger, no migration,
  // no extra value carried through the processor, and the version stays the event version.
  // An edit that leaves the quantity as it was changes no decision, so it need not be seen.
  // Separate UPDATE and INSERT, not INSERT ... ON CONFLICT DO UPDATE with the delta as the
  // proposed quantity: PostgreSQL checks the proposed row against the CHECK before it looks
  // for a conflict, so a negative delta would fail even where the stored quantity covers it.
  // Both see the statement's snapshot: a row another transaction commits meanwhile is neither
  // updated nor inserted (ON CONFLICT skips it), and so reported as stale.
  return {
    ctes: [
      `${name}_change AS (
        SELECT * FROM unnest($inventoryIds::int[], $inventoryDeltas::int[], $inventoryVersions::bigint[], $inventoryBefore::int[])
          AS c(product_id, delta, version, quantity_before))`,
      `${name}_locked AS (
        SELECT product_id FROM inventory WHERE product_id = ANY($inventoryIds::int[]) AND ${guard}
        ORDER BY product_id FOR UPDATE)`,
      `${name}_updated AS (
        UPDATE inventory i SET quantity = i.quantity + c.delta, version = c.version, updated_at = now()
        FROM ${name}_locked l, ${name}_change c
        WHERE i.product_id = l.product_id AND c.product_id = i.product_id AND i.version + 1 = c.version
          AND (c.quantity_before IS NULL OR i.quantity = c.quantity_before)
        RETURNING i.product_id, i.quantity, i.version)`,
      `${name}_created AS (
        INSERT INTO inventory (product_id, quantity, version)
        SELECT c.product_id, c.delta, c.version FROM ${name}_change c
        WHERE c.version = 1 AND coalesce(c.quantity_before, 0) = 0 AND ${guard} AND NOT EXISTS (SELECT FROM inventory i WHERE i.product_id = c.product_id)
        ORDER BY c.product_id
        ON CONFLICT (product_id) DO NOTHING
        RETURNING product_id, quantity, version)`,
    ],
    bind: {
      inventoryIds: sorted.map((c) => c.productId),
      inventoryDeltas: sorted.map((c) => c.delta),
      inventoryVersions: sorted.map((c) => c.version),
      inventoryBefore: sorted.map((c) => c.quantityBefore ?? null),
    },
    after: `(SELECT coalesce(json_agg(json_build_array(product_id, quantity, version) ORDER BY product_id), '[]'::json)
             FROM (SELECT * FROM ${name}_updated UNION ALL SELECT * FROM ${name}_created) AS written)`,
    readAfter: (value) => {
      const rows = (value as Array<[number, number, number]>).map(([productId, quantity, version]) => ({ productId, quantity, version: toSafeInteger(version, 'inventory.version') }));
      // The stored quantity after the write must be the one the batch computed: the caller's
      // cache is then equal to the database. A product missing or off is stale.
      const after = new Map(rows.map((row) => [row.productId, row]));
      const stale = sorted.filter((c) => {
        const row = after.get(c.productId);
        return row === undefined || (c.quantityBefore !== undefined && row.quantity !== c.quantityBefore + c.delta);
      });
      if (stale.length > 0) throw new StaleInventoryError(stale.map((c) => c.productId), store);
      return rows;
    },
  };
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
