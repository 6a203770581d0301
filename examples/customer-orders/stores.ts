/**
 * The example's two stores and the tables they map onto (created by schema.ts):
 * - `customer-order-ids`: every order counted, by order id, so a duplicate of an order on the
 *   topic (the order source publishes again what it is not sure it published) counts once;
 *   one row per order, so it is cached for one batch only;
 * - `customer-order-counts`: each customer's count, restored per partition on assignment.
 */
import type { TableStoreSpec } from '../../core/store-table.ts';

export const ORDER_IDS_STORE = 'customer-order-ids';
export const COUNTS_STORE = 'customer-order-counts';

export interface CountedOrder {
  customerId: string;
}

export interface OrderCount {
  orders: number;
}

export const ORDER_IDS: TableStoreSpec<string, CountedOrder> = {
  name: ORDER_IDS_STORE,
  cacheAcrossBatches: false,
  table: {
    table: 'example_customer_order_ids',
    key: { column: 'order_id', type: 'text' },
    value: { customerId: { column: 'customer_id', type: 'text' } },
    writes: 'upsert',
  },
};

export const ORDER_COUNTS: TableStoreSpec<string, OrderCount> = {
  name: COUNTS_STORE,
  table: {
    table: 'example_customer_order_counts',
    key: { column: 'customer_id', type: 'text' },
    value: { orders: { column: 'orders', type: 'bigint' } },
    partitionColumn: 'partition',
    writes: 'upsert',
    touch: { updated_at: 'now()' },
  },
};
