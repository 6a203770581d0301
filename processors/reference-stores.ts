/**
 * How the reference pipeline's stores map onto its tables. The engine knows no table: the app
 * builds the PostgreSQL backends from these (state/table-store.ts), describe and the test driver
 * their in-memory twins.
 */
import type { TableStoreSpec } from '../core/store-table.ts';
import type { OrderState, ProductStock } from './inventory.ts';
import { INVENTORY_STORE, ORDER_DECISIONS_STORE } from './inventory-processor.ts';

/**
 * productId -> stock: exactly the inventory table, since every product has its row (migration
 * 0007); an absent row is an unknown product. A task restores the rows its partition wrote and
 * loads the others (a product no order has touched yet) when an order first needs them.
 */
export const INVENTORY: TableStoreSpec<number, ProductStock> = {
  name: INVENTORY_STORE,
  table: {
    table: 'inventory',
    key: { column: 'product_id', type: 'integer' },
    value: { quantity: { column: 'quantity', type: 'integer' }, version: { column: 'version', type: 'bigint' } },
    partitionColumn: 'partition',
    writes: 'upsert',
    touch: { updated_at: 'now()' },
  },
};

/**
 * orderId -> the stored order and its decision. The order source creates the rows; the
 * processor only decides them, and a decision applies only to an order still as the batch read
 * it (pending), so a redelivered order is never decided twice.
 */
export const ORDER_DECISIONS: TableStoreSpec<string, OrderState> = {
  name: ORDER_DECISIONS_STORE,
  // One entry per order: cached for a batch only, so memory does not grow with the order count.
  cacheAcrossBatches: false,
  table: {
    table: 'orders',
    key: { column: 'id', type: 'uuid' },
    value: {
      productId: { column: 'product_id', type: 'integer' },
      quantity: { column: 'quantity', type: 'integer' },
      status: { column: 'status', type: 'text' },
      reason: { column: 'reason', type: 'text' },
    },
    writes: 'update',
    touch: { decided_at: 'now()', updated_at: 'now()' },
  },
};
