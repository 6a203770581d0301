/**
 * The processor role: joins the consumer group, runs the reference topology on every assigned
 * partition and commits each micro-batch through the transactional sink.
 */
import os from 'node:os';
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { KafkaAdmin, KafkaClient, TopicPartition } from '../kafka/port.ts';
import { buildReferenceTopology } from '../processors/reference-pipeline.ts';
import { INVENTORY, ORDER_DECISIONS } from '../processors/reference-stores.ts';
import { TransactionalSink } from '../sinks/transactional-sink.ts';
import { claimPartitions, releasePartitions } from '../state/offset-store.ts';
import { tableStore } from '../state/table-store.ts';
import { StreamRuntime } from '../topology/runtime/index.ts';
import type { PartitionBounds } from '../topology/runtime/types.ts';
import { instrumentCommitter, type KstreamMetrics } from './metrics.ts';

export interface ProcessorApp {
  runtime: StreamRuntime;
  replicaId: string;
  stop(): Promise<void>;
  /** Rejects when the processor cannot go on by itself (its consumer stopped for good). */
  failed: Promise<never>;
}

export function replicaName(): string {
  return process.env.REPLICA_ID ?? `${os.hostname()}-${process.pid}`;
}

export async function startProcessor(config: AppConfig, deps: { sequelize: Sequelize; kafka: KafkaClient; admin?: KafkaAdmin; logger: Logger; metrics?: KstreamMetrics }): Promise<ProcessorApp> {
  const replicaId = replicaName();
  const logger = deps.logger.child('processor', { replica: replicaId });
  const stores = { inventory: tableStore(deps.sequelize, INVENTORY), decisions: tableStore(deps.sequelize, ORDER_DECISIONS) };
  const topology = buildReferenceTopology({ ordersTopic: config.ordersTopic, inventoryTopic: config.inventoryTopic, stores });
  const sink = new TransactionalSink({ sequelize: deps.sequelize, group: config.consumerGroup, dlqTopic: config.dlqTopic, stores: [stores.inventory, stores.decisions], logger });
  const committer = deps.metrics ? instrumentCommitter(sink, deps.metrics, topology) : sink;
  const consumer = deps.kafka.groupConsumer({ groupId: config.consumerGroup, topics: [config.ordersTopic], clientId: replicaId, groupProtocol: config.kafkaGroupProtocol });
  const runtime = new StreamRuntime({
    topology,
    consumer,
    claimer: {
      claim: (partitions) => claimPartitions(deps.sequelize, config.consumerGroup, replicaId, partitions),
      release: (claims) => releasePartitions(deps.sequelize, config.consumerGroup, replicaId, claims),
    },
    committer,
    config,
    logger,
    ...(deps.admin ? { partitionBounds: partitionBounds(deps.admin) } : {}),
    resetCommand: (tp) => resetCommandFor(config.consumerGroup, tp),
  });
  await runtime.start();
  logger.info('processor started', { group: config.consumerGroup, topic: config.ordersTopic, client: deps.kafka.name });
  return {
    runtime,
    replicaId,
    stop: () => runtime.stop({ timeoutMs: config.shutdownTimeoutMs }),
    failed: runtime.failed,
  };
}

/** The reset that makes a partition whose stored offset lies beyond the topic's end read what the topic holds now. */
export function resetCommandFor(group: string, tp: TopicPartition): string {
  return `npm run topology -- reset --group ${group} --topic ${tp.topic} --partitions ${tp.partition} --to-earliest --force`;
}

function partitionBounds(admin: KafkaAdmin): (partitions: TopicPartition[]) => Promise<PartitionBounds[]> {
  return async (partitions) => {
    const bounds: PartitionBounds[] = [];
    for (const topic of new Set(partitions.map((tp) => tp.topic))) {
      const [starts, ends] = await Promise.all([admin.listOffsets(topic, 'earliest'), admin.listOffsets(topic, 'latest')]);
      for (const tp of partitions.filter((candidate) => candidate.topic === topic)) {
        const logEndOffset = ends.get(tp.partition);
        if (logEndOffset !== undefined) bounds.push({ ...tp, logStartOffset: starts.get(tp.partition) ?? 0n, logEndOffset });
      }
    }
    return bounds;
  };
}
