/**
 * The names one run gives the pipeline (its consumer group and topics), as the app's settings
 * name them, and what the reference topology does with them: the topics its sources read (every
 * one must be consumed to its end before the run is quiet) and the internal topics it creates.
 * The verifier and the end-to-end test fixture both run the roles with these names.
 */
import { referenceTopology, type TopologyConfig } from '../app/processor-app.ts';
import { SETTINGS } from '../core/config.ts';
import { memoryStores } from '../processors/reference-pipeline.ts';
import { subtopologiesOf } from '../topology/subtopologies.ts';

export type PipelineNames = TopologyConfig & { dlqTopic: string };

/** Every name of a run: a Record, so the compiler finds one missing or misspelt. */
const NAME_KEYS: Record<keyof PipelineNames, true> = {
  consumerGroup: true,
  ordersTopic: true,
  inventoryTopic: true,
  dlqTopic: true,
  restockCommandsTopic: true,
  cancelCommandsTopic: true,
  ordersConfirmedTopic: true,
  ordersRejectedTopic: true,
  ordersCancelledTopic: true,
  inventoryRestockedTopic: true,
};

/** The names a configuration gives the pipeline (e.g. the app's defaults: loadConfig({}, {})). */
export function pipelineNamesOf(config: PipelineNames): PipelineNames {
  return Object.fromEntries(Object.keys(NAME_KEYS).map((key) => [key, config[key as keyof PipelineNames]])) as PipelineNames;
}

/** The settings a role process reads these names from (ORDERS_TOPIC, CONSUMER_GROUP, ...). */
export function namesEnv(names: PipelineNames): Record<string, string> {
  return Object.fromEntries(Object.entries(names).map(([key, value]) => [SETTINGS[key as keyof PipelineNames].env, value]));
}

/** Every topic the topology's sources read, in sub-topology order, internal topics included. */
export function consumedTopics(names: PipelineNames): string[] {
  return [...new Set(subtopologiesOf(referenceTopology(names, memoryStores())).flatMap((subtopology) => subtopology.sourceTopics))];
}

/** The repartition topics the processor creates for the group. */
export function internalTopics(names: PipelineNames): string[] {
  return referenceTopology(names, memoryStores()).repartitions.map((repartition) => repartition.topic);
}

/** Every topic the relay publishes to: the outcome topics, the changelog, the dead letters and the internal topics. */
export function publishedTopics(names: PipelineNames): string[] {
  return [names.inventoryTopic, names.ordersConfirmedTopic, names.ordersRejectedTopic, names.ordersCancelledTopic, names.inventoryRestockedTopic, names.dlqTopic, ...internalTopics(names)];
}
