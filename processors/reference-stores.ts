/**
 * How the reference pipeline's stores map onto its tables. The engine knows no table: the app
 * builds the PostgreSQL backends from these (state/table-store.ts), describe and the test driver
 * their in-memory twins.
 */
import type { StoreTable, TableStoreSpec } from '../core/store-table.ts';
import type { ProductStock } from './inventory.ts';
import type { OrderProgress } from './order-flow.ts';
import { ORDER_INTAKE_STORES, type OrderContents } from './order-intake.ts';
import { ORDER_SAGA_STORE } from './order-saga.ts';
import { type AppliedRestock, PRODUCT_COMMAND_STORES } from './product-commands.ts';

/**
 * productId -> stock: exactly the inventory table, since every product has its row (migration
 * 0007); an absent row is an unknown product. A task restores the rows its partition wrote and
 * loads the others (a product no order has touched yet) when an order first needs them.
 */
export const INVENTORY: TableStoreSpec<number, ProductStock> = {
  name: ORDER_INTAKE_STORES.inventory,
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
 * orderId -> the order's progress: its row in `orders`. The order source creates the rows; the
 * flow only moves them on, and a step applies only to an order still as the batch read it, so a
 * redelivered record never moves an order twice. One entry per order: cached for a batch only,
 * so memory does not grow with the order count.
 */
const ORDERS_TABLE: StoreTable<string, OrderProgress> = {
  table: 'orders',
  key: { column: 'id', type: 'uuid' },
  value: {
    status: { column: 'status', type: 'text' },
    reason: { column: 'reason', type: 'text' },
    lineResults: { column: 'line_results', type: 'jsonb' },
    cancelRequest: { column: 'cancel_request', type: 'uuid' },
  },
  writes: 'update',
  // Every write of the flow is a step of the order; the last one, its decision, leaves decided_at as when it was decided.
  touch: { decided_at: 'now()', updated_at: 'now()' },
};

/** The orders as the intake moves them (sub-topology 0). */
export const ORDER_STATUS: TableStoreSpec<string, OrderProgress> = { name: ORDER_INTAKE_STORES.status, cacheAcrossBatches: false, table: ORDERS_TABLE };

/** The same rows as the saga moves them (sub-topology 2): a store belongs to one sub-topology. */
export const ORDER_SAGAS: TableStoreSpec<string, OrderProgress> = { name: ORDER_SAGA_STORE, cacheAcrossBatches: false, table: ORDERS_TABLE };

/** orderId -> its lines, from the `order_contents` view over `order_lines`: what an OrderCreated must match. */
export const ORDER_CONTENTS: TableStoreSpec<string, OrderContents> = {
  name: ORDER_INTAKE_STORES.contents,
  cacheAcrossBatches: false,
  table: { table: 'order_contents', key: { column: 'id', type: 'uuid' }, value: { lines: { column: 'lines', type: 'jsonb' } }, writes: 'none' },
};

/** restockId -> the restock applied: a restock is applied once per id. */
export const APPLIED_RESTOCKS: TableStoreSpec<string, AppliedRestock> = {
  name: PRODUCT_COMMAND_STORES.restocks,
  cacheAcrossBatches: false,
  table: {
    table: 'restocks',
    key: { column: 'restock_id', type: 'uuid' },
    value: { productId: { column: 'product_id', type: 'integer' }, quantity: { column: 'quantity', type: 'integer' } },
    writes: 'upsert',
  },
};
