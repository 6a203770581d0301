/**
 * The reference pipeline's stores backed by PostgreSQL. The inventory store restores the
 * products of an assigned partition (those whose key hashes to it, Java-compatible murmur2)
 * and loads prefetch misses; the decisions store finds orders already decided, so a duplicate
 * OrderCreated is skipped.
 */
import type { Sequelize } from 'sequelize';
import { partitionForKey } from '../../kafka/murmur2.ts';
import type { OrderDecision, ProductStock } from '../../processors/inventory.ts';
import { loadAllStock, loadStock } from '../../state/inventory-store.ts';
import { selectRows } from '../../state/sql.ts';
import type { ReferenceStores } from '../reference-pipeline.ts';

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
      async load(orderIds) {
        const rows = await selectRows<{ id: string; status: 'confirmed' | 'rejected'; reason: string | null }>(
          sequelize,
          `SELECT id, status, reason FROM orders WHERE id = ANY($ids::uuid[]) AND status <> 'pending'`,
          { ids: orderIds },
        );
        return new Map(
          rows.map((row): [string, OrderDecision] => [
            row.id,
            row.status === 'rejected' ? { status: 'rejected', reason: (row.reason ?? 'out_of_stock') as 'out_of_stock' | 'unknown_product' } : { status: 'confirmed' },
          ]),
        );
      },
    },
  };
}
