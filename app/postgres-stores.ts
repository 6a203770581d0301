/**
 * The reference pipeline's stores backed by PostgreSQL. The inventory store restores the
 * products of an assigned partition (those whose key hashes to it, Java-compatible murmur2)
 * and loads prefetch misses; the decisions store loads the stored orders, so an OrderCreated
 * that matches none is refused and a duplicate of one already decided is skipped.
 */
import type { Sequelize } from 'sequelize';
import { partitionForKey } from '../kafka/murmur2.ts';
import type { OrderState, ProductStock, RejectionReason } from '../processors/inventory.ts';
import type { ReferenceStores } from '../processors/reference-pipeline.ts';
import { loadAllStock, loadStock } from '../state/commerce/inventory-store.ts';
import { selectRows } from '../state/sql.ts';

export function postgresStores(sequelize: Sequelize, partitionCount: () => number): ReferenceStores {
  return {
    inventory: {
      async restore({ partition }) {
        const all = await loadAllStock(sequelize);
        const count = partitionCount();
        return [...all].filter(([productId]) => partitionForKey(String(productId), count) === partition);
      },
      async load(productIds) {
        const loaded = await loadStock(sequelize, productIds);
        // null = not in the catalogue: leave it out, the processor then rejects as unknown_product.
        return new Map([...loaded].flatMap(([id, stock]) => (stock === null ? [] : [[id, stock] as [number, ProductStock]])));
      },
    },
    decisions: {
      // Every stored order, pending ones included: the processor refuses an OrderCreated that
      // is not stored or contradicts what is, and skips one already decided.
      async load(orderIds) {
        const rows = await selectRows<{ id: string; product_id: number; quantity: number; status: 'pending' | 'confirmed' | 'rejected'; reason: string | null }>(
          sequelize,
          'SELECT id, product_id, quantity, status, reason FROM orders WHERE id = ANY($ids::uuid[])',
          { ids: orderIds },
        );
        return new Map(rows.map((row): [string, OrderState] => [row.id, orderState(row)]));
      },
    },
  };
}

function orderState(row: { product_id: number; quantity: number; status: 'pending' | 'confirmed' | 'rejected'; reason: string | null }): OrderState {
  const order = { productId: row.product_id, quantity: row.quantity };
  if (row.status === 'pending') return { ...order, status: 'pending' };
  if (row.status === 'confirmed') return { ...order, status: 'confirmed' };
  return { ...order, status: 'rejected', reason: (row.reason ?? 'out_of_stock') as RejectionReason };
}
