/**
 * The processor role: joins the consumer group, runs the reference topology on every assigned
 * partition and commits each micro-batch through the transactional sink.
 */
import os from 'node:os';
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { KafkaClient } from '../../kafka/port.ts';
import { ORDER_DECISIONS_STORE } from '../../processors/inventory-processor.ts';
import { inventoryEffects } from '../../sinks/inventory-effects.ts';
import { TransactionalSink } from '../../sinks/transactional-sink.ts';
import { claimPartitions } from '../../state/offset-store.ts';
import { buildReferenceTopology } from '../reference-pipeline.ts';
import { StreamRuntime } from '../runtime/index.ts';
import { instrumentCommitter, type KstreamMetrics } from './metrics.ts';
import { postgresStores } from './postgres-stores.ts';

export interface ProcessorApp {
  runtime: StreamRuntime;
  replicaId: string;
  stop(): Promise<void>;
}

export function replicaName(): string {
  return process.env.REPLICA_ID ?? `${os.hostname()}-${process.pid}`;
}

export async function startProcessor(config: AppConfig, deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger; partitionCount: number; metrics?: KstreamMetrics }): Promise<ProcessorApp> {
  const replicaId = replicaName();
  const logger = deps.logger.child('processor', { replica: replicaId });
  const topology = buildReferenceTopology({
    ordersTopic: config.ordersTopic,
    inventoryTopic: config.inventoryTopic,
    stores: postgresStores(deps.sequelize, () => deps.partitionCount),
  });
  const sink = new TransactionalSink({
    sequelize: deps.sequelize,
    group: config.consumerGroup,
    dlqTopic: config.dlqTopic,
    effects: inventoryEffects({ inventoryTopic: config.inventoryTopic, decisionsStore: ORDER_DECISIONS_STORE }),
    logger,
  });
  const committer = deps.metrics ? instrumentCommitter(sink, deps.metrics, topology) : sink;
  const consumer = deps.kafka.groupConsumer({ groupId: config.consumerGroup, topics: [config.ordersTopic], clientId: replicaId, groupProtocol: config.kafkaGroupProtocol });
  const runtime = new StreamRuntime({
    topology,
    consumer,
    claimer: { claim: (partitions) => claimPartitions(deps.sequelize, config.consumerGroup, replicaId, partitions) },
    committer,
    config,
    logger,
    onFatal: (error) => logger.error('partition stopped', { error: error.message, ...error.context }),
  });
  await runtime.start();
  logger.info('processor started', { group: config.consumerGroup, topic: config.ordersTopic, client: deps.kafka.name });
  return {
    runtime,
    replicaId,
    stop: () => runtime.stop({ timeoutMs: config.shutdownTimeoutMs }),
  };
}
