/**
 * The reference pipeline as a topology: the multi-line order flow in three sub-topologies.
 *
 *   0  orders ─► order-intake ─┬─► one-line order decided here: outcome topics, inventory-updated
 *                              └─► product-commands (repartition by product) ◄── restocks, releases
 *      product-commands ─► apply-product-commands ─► line-results (repartition by order), inventory-updated, inventory-restocked
 *   1  restock commands ─► restock-intake ─► product-commands
 *   2  line-results + cancel commands ─► order-saga ─► outcome topics; releases ─► product-commands
 *
 * Sub-topology 0 owns the stock: both of its processors share the `inventory` store, so a
 * product's stock is only ever changed at its partition, in the order commands arrive there.
 * Store backends are injected, built from the stores' table declarations (reference-stores.ts):
 * on PostgreSQL for the app, in memory for describe and the test driver.
 */
import { repartitionNodeNames, type StateStoreSpec, type Topology, TopologyBuilder } from '../topology/builder.ts';
import type { Processor } from '../topology/processor-api.ts';
import { MemoryStore } from '../topology/testing/memory-store.ts';
import { cancelOrderCodec, type LineResult, lineResultCodec, type ProductCommand, productCommandCodec, type RestockInventory, restockInventoryCodec } from './commands.ts';
import { inventoryUpdatedCodec, type OrderCreated, orderCreatedCodec, orderKey } from './events.ts';
import type { ProductStock } from './inventory.ts';
import type { OrderProgress } from './order-flow.ts';
import { createOrderIntake, ORDER_INTAKE_STORES, type OrderContents, orderIntakePrefetch } from './order-intake.ts';
import { createOrderSaga, ORDER_SAGA_STORE, type OrderSagaInput, orderSagaPrefetch } from './order-saga.ts';
import { inventoryRestockedCodec, orderCancelledCodec, orderConfirmedCodec, orderRejectedCodec } from './outcome-events.ts';
import { type AppliedRestock, createProductCommands, PRODUCT_COMMAND_STORES, productCommandPrefetch } from './product-commands.ts';
import { APPLIED_RESTOCKS, INVENTORY, ORDER_CONTENTS, ORDER_SAGAS, ORDER_STATUS } from './reference-stores.ts';

export const NODE_NAMES = {
  ordersSource: 'orders-source',
  orderIntake: 'order-intake',
  productCommands: 'product-commands',
  productCommandsSink: repartitionNodeNames('product-commands').sink,
  productCommandsSource: repartitionNodeNames('product-commands').source,
  applyProductCommands: 'apply-product-commands',
  lineResults: 'line-results',
  lineResultsSink: repartitionNodeNames('line-results').sink,
  lineResultsSource: repartitionNodeNames('line-results').source,
  restocksSource: 'restock-commands-source',
  restockIntake: 'restock-intake',
  restocksToProducts: 'restocks-to-product-commands',
  cancellationsSource: 'cancel-commands-source',
  orderSaga: 'order-saga',
  releasesToProducts: 'releases-to-product-commands',
  inventoryUpdated: 'inventory-updated-sink',
  inventoryRestocked: 'inventory-restocked-sink',
  /** The order outcome sinks of the intake (one-line orders) and of the saga: one set per sub-topology. */
  intakeConfirmed: 'intake-orders-confirmed-sink',
  intakeRejected: 'intake-orders-rejected-sink',
  intakeCancelled: 'intake-orders-cancelled-sink',
  sagaConfirmed: 'saga-orders-confirmed-sink',
  sagaRejected: 'saga-orders-rejected-sink',
  sagaCancelled: 'saga-orders-cancelled-sink',
} as const;

/** The backends of the pipeline's stores. */
export interface ReferenceStores {
  inventory: StateStoreSpec<number, ProductStock>;
  /** The orders' progress, as the intake sees it. */
  orderStatus: StateStoreSpec<string, OrderProgress>;
  /** The orders' stored lines (read only). */
  orderContents: StateStoreSpec<string, OrderContents>;
  appliedRestocks: StateStoreSpec<string, AppliedRestock>;
  /** The orders' progress, as the saga sees it (the same rows as orderStatus). */
  orderSagas: StateStoreSpec<string, OrderProgress>;
}

export interface ReferenceTopics {
  orders: string;
  inventoryUpdated: string;
  restockCommands: string;
  cancelCommands: string;
  ordersConfirmed: string;
  ordersRejected: string;
  ordersCancelled: string;
  inventoryRestocked: string;
}

export interface ReferencePipelineOptions {
  /** Names the internal topics; the app passes its consumer group. */
  applicationId: string;
  topics: ReferenceTopics;
  stores: ReferenceStores;
}

export function buildReferenceTopology(options: ReferencePipelineOptions): Topology {
  const { topics, stores } = options;
  const n = NODE_NAMES;
  return (
    new TopologyBuilder({ applicationId: options.applicationId })
      .addStateStore(stores.inventory)
      .addStateStore(stores.orderStatus)
      .addStateStore(stores.orderContents)
      .addStateStore(stores.appliedRestocks)
      .addStateStore(stores.orderSagas)
      // Sub-topology 0: the product's partition. Orders are keyed by their lead product.
      .addSource(n.ordersSource, { topics: [topics.orders], codec: orderCreatedCodec, keyOf: (order: OrderCreated) => orderKey(order.payload) })
      .addProcessor(
        n.orderIntake,
        {
          supplier: createOrderIntake({
            inventoryUpdated: n.inventoryUpdated,
            productCommands: n.productCommandsSink,
            confirmed: n.intakeConfirmed,
            rejected: n.intakeRejected,
            cancelled: n.intakeCancelled,
          }),
          stores: Object.values(ORDER_INTAKE_STORES),
          prefetch: (order: OrderCreated) => orderIntakePrefetch(order),
        },
        n.ordersSource,
      )
      .addRepartition(n.productCommands, { keyOf: (command: ProductCommand) => String(command.productId), codec: productCommandCodec }, n.orderIntake)
      .addProcessor(
        n.applyProductCommands,
        {
          supplier: createProductCommands({ inventoryUpdated: n.inventoryUpdated, lineResults: n.lineResultsSink, restocked: n.inventoryRestocked }),
          stores: Object.values(PRODUCT_COMMAND_STORES),
          prefetch: (command: ProductCommand) => productCommandPrefetch(command),
        },
        n.productCommandsSource,
      )
      .addRepartition(n.lineResults, { keyOf: (result: LineResult) => result.orderId, codec: lineResultCodec }, n.applyProductCommands)
      .addSink(n.inventoryUpdated, { topic: topics.inventoryUpdated, codec: inventoryUpdatedCodec }, n.orderIntake, n.applyProductCommands)
      .addSink(n.inventoryRestocked, { topic: topics.inventoryRestocked, codec: inventoryRestockedCodec }, n.applyProductCommands)
      .addSink(n.intakeConfirmed, { topic: topics.ordersConfirmed, codec: orderConfirmedCodec }, n.orderIntake)
      .addSink(n.intakeRejected, { topic: topics.ordersRejected, codec: orderRejectedCodec }, n.orderIntake)
      .addSink(n.intakeCancelled, { topic: topics.ordersCancelled, codec: orderCancelledCodec }, n.orderIntake)
      // Sub-topology 1: restocks from anyone, re-keyed onto the product's partition.
      .addSource(n.restocksSource, { topics: [topics.restockCommands], codec: restockInventoryCodec, keyOf: (command: RestockInventory) => String(command.payload.productId) })
      .addProcessor(n.restockIntake, { supplier: restockIntake }, n.restocksSource)
      .addSink(n.restocksToProducts, { repartition: n.productCommands }, n.restockIntake)
      // Sub-topology 2: the order's partition.
      .addSource(n.cancellationsSource, { topics: [topics.cancelCommands], codec: cancelOrderCodec, keyOf: (command) => command.payload.orderId })
      .addProcessor(
        n.orderSaga,
        {
          supplier: createOrderSaga({ productCommands: n.releasesToProducts, confirmed: n.sagaConfirmed, rejected: n.sagaRejected, cancelled: n.sagaCancelled }),
          stores: [ORDER_SAGA_STORE],
          prefetch: (input: OrderSagaInput) => orderSagaPrefetch(input),
        },
        n.lineResultsSource,
        n.cancellationsSource,
      )
      .addSink(n.releasesToProducts, { repartition: n.productCommands }, n.orderSaga)
      .addSink(n.sagaConfirmed, { topic: topics.ordersConfirmed, codec: orderConfirmedCodec }, n.orderSaga)
      .addSink(n.sagaRejected, { topic: topics.ordersRejected, codec: orderRejectedCodec }, n.orderSaga)
      .addSink(n.sagaCancelled, { topic: topics.ordersCancelled, codec: orderCancelledCodec }, n.orderSaga)
      .build()
  );
}

/** A restock command, re-keyed onto its product's partition as the command that partition applies. */
function restockIntake(): Processor<RestockInventory, ProductCommand> {
  return {
    process(record, context) {
      const { restockId, productId, quantity } = record.value.payload;
      context.forward({ key: String(productId), value: { kind: 'restock', restockId, productId, quantity } });
    },
  };
}

/** The stores in memory, empty: for describing the topology (the test driver runs every store on a fresh twin of its own). */
export function memoryStores(): ReferenceStores {
  return {
    inventory: new MemoryStore(INVENTORY),
    orderStatus: new MemoryStore(ORDER_STATUS),
    orderContents: new MemoryStore(ORDER_CONTENTS),
    appliedRestocks: new MemoryStore(APPLIED_RESTOCKS),
    orderSagas: new MemoryStore(ORDER_SAGAS),
  };
}
