/**
 * The reference pipeline as a topology: orders in, the keyed inventory processor with its two
 * stores, InventoryUpdated out. Store backends are injected, so the same topology runs on
 * PostgreSQL (topology/app) and in memory (describe, the test driver).
 */

import { type StateStoreSpec, type Topology, TopologyBuilder } from '../topology/builder.ts';
import type { OrderCreated } from './events.ts';
import { inventoryUpdatedCodec, orderCreatedCodec } from './events.ts';
import type { OrderState, ProductStock } from './inventory.ts';
import { createInventoryProcessor, INVENTORY_STORE, ORDER_DECISIONS_STORE, prefetchKeys } from './inventory-processor.ts';

export const NODE_NAMES = {
  source: 'orders-source',
  processor: 'inventory-processor',
  sink: 'inventory-updated-sink',
} as const;

export interface ReferenceStores {
  inventory: Omit<StateStoreSpec<number, ProductStock>, 'name'>;
  /** The stored orders (product, quantity, status), by order id: what an OrderCreated must match. */
  decisions: Omit<StateStoreSpec<string, OrderState>, 'name'>;
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
    // Orders are keyed by product: a record keyed otherwise would land in a partition that does not own its product.
    .addSource(NODE_NAMES.source, { topics: [options.ordersTopic], codec: orderCreatedCodec, keyOf: (order: OrderCreated) => String(order.payload.productId) })
    .addStateStore({ name: INVENTORY_STORE, ...options.stores.inventory })
    // One entry per order: cached for a batch only, so memory does not grow with the order count.
    .addStateStore({ name: ORDER_DECISIONS_STORE, cacheAcrossBatches: false, ...options.stores.decisions })
    .addProcessor(
      NODE_NAMES.processor,
      { supplier: createInventoryProcessor, stores: [INVENTORY_STORE, ORDER_DECISIONS_STORE], prefetch: (order: OrderCreated) => prefetchKeys(order) },
      NODE_NAMES.source,
    )
    .addSink(NODE_NAMES.sink, { topic: options.inventoryTopic, codec: inventoryUpdatedCodec }, NODE_NAMES.processor)
    .build();
}

/** The `order-decisions` entries of orders stored and not decided yet: what the order source writes before it publishes. */
export function pendingOrders(orders: Iterable<OrderCreated>): Array<[string, OrderState]> {
  return [...orders].map((order): [string, OrderState] => [order.payload.orderId, { productId: order.payload.productId, quantity: order.payload.quantity, status: 'pending' }]);
}

/** In-memory store backends: for describing the topology and for the test driver. */
export function memoryStores(catalogue: Iterable<[number, ProductStock]> = [], stored: Iterable<[string, OrderState]> = []): ReferenceStores {
  const stock = new Map(catalogue);
  const decisions = new Map(stored);
  const pick = <K, V>(source: Map<K, V>, keys: K[]) => new Map(keys.flatMap((key) => (source.has(key) ? [[key, source.get(key)!] as [K, V]] : [])));
  return {
    inventory: { load: async (keys) => pick(stock, keys) },
    decisions: { load: async (keys) => pick(decisions, keys) },
  };
}
