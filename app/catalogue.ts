/**
 * What the operator's commands and the restocker read of the catalogue in PostgreSQL: whether a
 * product exists (the `products` table), and each product's stock (the `inventory` table, the
 * processor's store: what it decided so far).
 */
import type { Sequelize } from 'sequelize';
import { selectRows } from '../state/sql.ts';
import type { StockLevel } from './restock-plan.ts';

/** Enough of the catalogue to tell an operator which ids exist. */
export interface CatalogueSummary {
  count: number;
  /** The smallest ids, at most SHOWN_IDS of them. */
  firstIds: number[];
  lastId: number | undefined;
}

const SHOWN_IDS = 8;

export async function productExists(sequelize: Sequelize, productId: number): Promise<boolean> {
  const rows = await selectRows<{ found: number }>(sequelize, 'SELECT 1 AS found FROM products WHERE id = $id', { id: productId });
  return rows.length > 0;
}

export async function catalogueSummary(sequelize: Sequelize): Promise<CatalogueSummary> {
  const [totals] = await selectRows<{ count: number; last_id: number | null }>(sequelize, 'SELECT count(*)::int AS count, max(id) AS last_id FROM products');
  const first = await selectRows<{ id: number }>(sequelize, `SELECT id FROM products ORDER BY id LIMIT ${SHOWN_IDS}`);
  return { count: totals?.count ?? 0, firstIds: first.map((row) => row.id), lastId: totals?.last_id ?? undefined };
}

/** `product 99 does not exist (the catalogue has 4 products: 1, 2, 3, 4)`. Pure. */
export function describeMissingProduct(productId: number, catalogue: CatalogueSummary): string {
  if (catalogue.count === 0) return `product ${productId} does not exist (the catalogue is empty: npm run db:seed fills it)`;
  const ids = catalogue.count > catalogue.firstIds.length && catalogue.lastId !== undefined ? [...catalogue.firstIds, '...', catalogue.lastId] : catalogue.firstIds;
  return `product ${productId} does not exist (the catalogue has ${catalogue.count} product${catalogue.count === 1 ? '' : 's'}: ${ids.join(', ')})`;
}

/** Every catalogue product with its stock as the inventory table holds it now (0 where it has no row). */
export async function readStock(sequelize: Sequelize): Promise<StockLevel[]> {
  const rows = await selectRows<{ id: number; quantity: number }>(sequelize, 'SELECT p.id, COALESCE(i.quantity, 0) AS quantity FROM products p LEFT JOIN inventory i ON i.product_id = p.id ORDER BY p.id');
  return rows.map((row) => ({ productId: row.id, quantity: row.quantity }));
}
