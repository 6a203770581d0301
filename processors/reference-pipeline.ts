/**
 * The reference pipeline as a topology: orders in, the keyed inventory processor with its two
 * stores, InventoryUpdated out. Store backends are injected, built from the stores' table
 * declarations (reference-stores.ts): on PostgreSQL for the app, in memory for describe and the
 * test driver.
 */

import { type StateStoreSpec, type Topology, TopologyBuilder } from '../topology/builder.ts';
import { MemoryStore } from '../topology/testing/memory-store.ts';
import type { OrderCreated } from './events.ts';
import { inventoryUpdatedCodec, orderCreatedCodec, orderKey } from './events.ts';
import type { OrderState, ProductStock } from './inventory.ts';
import { createInventoryProcessor, INVENTORY_STORE, ORDER_DECISIONS_STORE, prefetchKeys } from './inventory-processor.ts';
import { INVENTORY, ORDER_DECISIONS } from './reference-stores.ts';

export const NODE_NAMES = {
  source: 'orders-source',
  processor: 'inventory-processor',
  sink: 'inventory-updated-sink',
} as const;

/** The backends of INVENTORY and ORDER_DECISIONS. */
export interface ReferenceStores {
  inventory: StateStoreSpec<number, ProductStock>;
  /** The stored orders (product, quantity, status), by order id: what an OrderCreated must match. */
  decisions: StateStoreSpec<string, OrderState>;
}

export interface ReferencePipelineOptions {
  /** Names internal topics; the app passes its consumer group. The pipeline has none today (one sub-topology). */
  applicationId?: string;
  ordersTopic: string;
  inventoryTopic: string;
  stores: ReferenceStores;
}

export function buildReferenceTopology(options: ReferencePipelineOptions): Topology {
  return new TopologyBuilder(options.applicationId === undefined ? {} : { applicationId: options.applicationId })
    // Orders are keyed by their lead product: a record keyed otherwise would land in a partition that does not own it.
    .addSource(NODE_NAMES.source, { topics: [options.ordersTopic], codec: orderCreatedCodec, keyOf: (order: OrderCreated) => orderKey(order.payload) })
    .addStateStore(options.stores.inventory)
    .addStateStore(options.stores.decisions)
    .addProcessor(
      NODE_NAMES.processor,
      { supplier: createInventoryProcessor, stores: [INVENTORY_STORE, ORDER_DECISIONS_STORE], prefetch: (order: OrderCreated) => prefetchKeys(order) },
      NODE_NAMES.source,
    )
    .addSink(NODE_NAMES.sink, { topic: options.inventoryTopic, codec: inventoryUpdatedCodec }, NODE_NAMES.processor)
    .build();
}

/**
 * The `order-decisions` entries of orders stored and not decided yet: what the order source writes
 * before it publishes (the orders row holds the lead line).
 */
export function pendingOrders(orders: Iterable<OrderCreated>): Array<[string, OrderState]> {
  return [...orders].map((order): [string, OrderState] => {
    const { productId, quantity } = order.payload.lines[0]!;
    return [order.payload.orderId, { productId, quantity, status: 'pending' }];
  });
}

/** The stores in memory, empty: for describing the topology (the test driver runs every store on a fresh twin of its own). */
export function memoryStores(): ReferenceStores {
  return { inventory: new MemoryStore(INVENTORY), decisions: new MemoryStore(ORDER_DECISIONS) };
}
