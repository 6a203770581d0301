/**
 * The processor role of the reference pipeline: its topology on its stores in PostgreSQL, run by
 * the engine's processor (streams/processor.ts).
 */
import type { AppConfig } from '../core/config.ts';
import { buildReferenceTopology, type ReferenceStores } from '../processors/reference-pipeline.ts';
import { INVENTORY, ORDER_DECISIONS } from '../processors/reference-stores.ts';
import { tableStore } from '../state/table-store.ts';
import { type ProcessorApp, type ProcessorDeps, startTopologyProcessor } from '../streams/processor.ts';
import type { Topology } from '../topology/builder.ts';

/** The reference pipeline as this app configures it; the consumer group is its application id, as in Kafka Streams. */
export function referenceTopology(config: Pick<AppConfig, 'consumerGroup' | 'ordersTopic' | 'inventoryTopic'>, stores: ReferenceStores): Topology {
  return buildReferenceTopology({ applicationId: config.consumerGroup, ordersTopic: config.ordersTopic, inventoryTopic: config.inventoryTopic, stores });
}

/** The reference pipeline on its stores in PostgreSQL. */
export function startProcessor(config: AppConfig, deps: ProcessorDeps): Promise<ProcessorApp> {
  const stores = { inventory: tableStore(deps.sequelize, INVENTORY), decisions: tableStore(deps.sequelize, ORDER_DECISIONS) };
  return startTopologyProcessor(config, deps, { topology: referenceTopology(config, stores), stores: [stores.inventory, stores.decisions] });
}

