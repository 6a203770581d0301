/**
 * Orders per customer, as a topology of two sub-topologies:
 *
 *   orders (keyed by product) -> key-by-customer -> [repartition by customer id]
 *     -> count-orders (stores: customer-order-ids, customer-order-counts) -> customer-order-counts topic
 *
 * The orders topic is keyed by product, so one customer's orders are spread over every
 * partition; counting them per customer needs them in one partition: the repartition re-keys
 * them by customer id into an internal topic, and the second sub-topology counts each
 * customer's orders in the partition that owns the customer.
 */

import type { StateStoreSpec } from '../../topology/builder.ts';
import { type Topology, TopologyBuilder } from '../../topology/builder.ts';
import type { Processor } from '../../topology/processor-api.ts';
import { type CustomerOrder, type CustomerOrderCount, customerOrderCodec, customerOrderCountCodec, type PlacedOrder, placedOrderCodec } from './events.ts';
import { COUNTS_STORE, type CountedOrder, ORDER_IDS_STORE, type OrderCount } from './stores.ts';

export const NODES = {
  source: 'orders-source',
  keyByCustomer: 'key-by-customer',
  repartition: 'orders-by-customer',
  /** The repartition's source in the second sub-topology (the builder names it). */
  repartitionSource: 'orders-by-customer-repartition-source',
  count: 'count-orders',
  sink: 'customer-order-counts-sink',
} as const;

/** Sends each order with a customer on to the customer's partition; guest orders stop here. */
export function keyByCustomer(): Processor<PlacedOrder, CustomerOrder> {
  return {
    process(record, context) {
      const { orderId, customerId } = record.value;
      if (customerId === null) return;
      context.forward({ key: customerId, value: { orderId, customerId } });
    },
  };
}

/**
 * Counts each order of a customer once: an order already counted (a duplicate of it on the
 * orders topic) is skipped. Emits the customer's new count, with an event id that names the
 * count, so a batch run again produces the same record.
 */
export function countOrders(): Processor<CustomerOrder, CustomerOrderCount> {
  return {
    process(record, context) {
      const { orderId, customerId } = record.value;
      const counted = context.getStateStore<string, CountedOrder>(ORDER_IDS_STORE);
      if (counted.get(orderId) !== undefined) return;
      counted.put(orderId, { customerId });
      const counts = context.getStateStore<string, OrderCount>(COUNTS_STORE);
      const orders = (counts.get(customerId)?.orders ?? 0) + 1;
      counts.put(customerId, { orders });
      context.forward({ key: customerId, value: { customerId, orders }, headers: { 'event-id': `customer-order-count:${customerId}:${orders}` } });
    },
  };
}

export interface CustomerOrdersOptions {
  /** Prefix of the internal topic's name (`<applicationId>-orders-by-customer-repartition`): the consumer group. */
  applicationId: string;
  ordersTopic: string;
  countsTopic: string;
  /** The backends of the two stores: tableStore(...) on PostgreSQL, MemoryStore(...) in memory. */
  stores: { orderIds: StateStoreSpec<string, CountedOrder>; counts: StateStoreSpec<string, OrderCount> };
}

export function buildCustomerOrdersTopology(options: CustomerOrdersOptions): Topology {
  return new TopologyBuilder({ applicationId: options.applicationId })
    .addSource(NODES.source, { topics: [options.ordersTopic], codec: placedOrderCodec })
    .addProcessor(NODES.keyByCustomer, { supplier: keyByCustomer }, NODES.source)
    .addRepartition(NODES.repartition, { keyOf: (order: CustomerOrder) => order.customerId, codec: customerOrderCodec }, NODES.keyByCustomer)
    .addStateStore(options.stores.orderIds)
    .addStateStore(options.stores.counts)
    .addProcessor(
      NODES.count,
      {
        supplier: countOrders,
        stores: [ORDER_IDS_STORE, COUNTS_STORE],
        prefetch: (order: CustomerOrder) => ({ [ORDER_IDS_STORE]: [order.orderId], [COUNTS_STORE]: [order.customerId] }),
      },
      NODES.repartitionSource,
    )
    .addSink(NODES.sink, { topic: options.countsTopic, codec: customerOrderCountCodec }, NODES.count)
    .build();
}
