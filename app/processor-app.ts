/**
 * The processor role of the reference pipeline: its topology on its stores in PostgreSQL, run by
 * the engine's processor (streams/processor.ts).
 */
import type { AppConfig } from '../core/config.ts';
import { buildReferenceTopology, type ReferenceStores, type ReferenceTopics } from '../processors/reference-pipeline.ts';
import { APPLIED_RESTOCKS, INVENTORY, ORDER_CONTENTS, ORDER_SAGAS, ORDER_STATUS } from '../processors/reference-stores.ts';
import { tableStore } from '../state/table-store.ts';
import { type ProcessorApp, type ProcessorDeps, startTopologyProcessor } from '../streams/processor.ts';
import type { Topology } from '../topology/builder.ts';

export type TopologyConfig = Pick<
  AppConfig,
  | 'consumerGroup'
  | 'ordersTopic'
  | 'inventoryTopic'
  | 'restockCommandsTopic'
  | 'cancelCommandsTopic'
  | 'ordersConfirmedTopic'
  | 'ordersRejectedTopic'
  | 'ordersCancelledTopic'
  | 'inventoryRestockedTopic'
>;

/** The pipeline's topics as this app names them. */
export function referenceTopics(config: TopologyConfig): ReferenceTopics {
  return {
    orders: config.ordersTopic,
    inventoryUpdated: config.inventoryTopic,
    restockCommands: config.restockCommandsTopic,
    cancelCommands: config.cancelCommandsTopic,
    ordersConfirmed: config.ordersConfirmedTopic,
    ordersRejected: config.ordersRejectedTopic,
    ordersCancelled: config.ordersCancelledTopic,
    inventoryRestocked: config.inventoryRestockedTopic,
  };
}

/** The reference pipeline as this app configures it; the consumer group is its application id, as in Kafka Streams. */
export function referenceTopology(config: TopologyConfig, stores: ReferenceStores): Topology {
  return buildReferenceTopology({ applicationId: config.consumerGroup, topics: referenceTopics(config), stores });
}

/** The reference pipeline on its stores in PostgreSQL. */
export function startProcessor(config: AppConfig, deps: ProcessorDeps): Promise<ProcessorApp> {
  const stores = {
    inventory: tableStore(deps.sequelize, INVENTORY),
    orderStatus: tableStore(deps.sequelize, ORDER_STATUS),
    orderContents: tableStore(deps.sequelize, ORDER_CONTENTS),
    appliedRestocks: tableStore(deps.sequelize, APPLIED_RESTOCKS),
    orderSagas: tableStore(deps.sequelize, ORDER_SAGAS),
  };
  return startTopologyProcessor(config, deps, { topology: referenceTopology(config, stores), stores: Object.values(stores) });
}
