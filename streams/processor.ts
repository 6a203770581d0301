/**
 * The engine's front door for a processor: joins the consumer group on every source topic of a
 * topology (its internal topics included, created first), runs a task per assigned partition,
 * and commits each micro-batch through the transactional sink with the topology's store writers.
 * Knows no pipeline: an app passes its topology and the backends of its stores.
 */
import os from 'node:os';
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../core/config.ts';
import { StreamError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { KafkaAdmin, KafkaClient, TopicPartition, TopicSpec } from '../kafka/port.ts';
import { TransactionalSink } from '../sinks/transactional-sink.ts';
import { claimPartitions, releasePartitions } from '../state/offset-store.ts';
import type { StoreWriter } from '../state/table-store.ts';
import { sourceTopics, type Topology } from '../topology/builder.ts';
import { StreamRuntime } from '../topology/runtime/index.ts';
import type { Committer, PartitionBounds } from '../topology/runtime/types.ts';

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

export interface ProcessorDeps {
  sequelize: Sequelize;
  kafka: KafkaClient;
  admin?: KafkaAdmin;
  logger: Logger;
  /** Partitions of the orders topic as it exists: internal topics get as many (default: the configured count). */
  partitionCount?: number;
  /** Wraps the committer, e.g. to count what each committed batch carried (app/metrics.ts instrumentCommitter). */
  instrument?: (committer: Committer, topology: Topology) => Committer;
}

/** What a processor runs: a topology and the backends that write its stores' changes. */
export interface ProcessorTopology {
  topology: Topology;
  stores: readonly StoreWriter[];
}

/** Joins the consumer group and runs the topology, each micro-batch committed through the transactional sink. */
export async function startTopologyProcessor(config: AppConfig, deps: ProcessorDeps, { topology, stores }: ProcessorTopology): Promise<ProcessorApp> {
  const replicaId = replicaName();
  const logger = deps.logger.child('processor', { replica: replicaId });
  const sink = new TransactionalSink({ sequelize: deps.sequelize, group: config.consumerGroup, dlqTopic: config.dlqTopic, stores, logger });
  const internal = internalTopics(topology, { partitions: deps.partitionCount ?? config.partitions, replicationFactor: config.replicationFactor });
  if (internal.length > 0) {
    if (!deps.admin) throw new StreamError('CONFIG_INVALID', `the topology has internal topics (${internal.map((spec) => spec.topic).join(', ')}): creating them needs the Kafka admin client`);
    await deps.admin.createTopics(internal);
  }
  const committer = deps.instrument ? deps.instrument(sink, topology) : sink;
  const topics = sourceTopics(topology);
  const consumer = deps.kafka.groupConsumer({
    groupId: config.consumerGroup,
    topics,
    clientId: replicaId,
    groupProtocol: config.kafkaGroupProtocol,
    sessionTimeoutMs: config.kafkaSessionTimeoutMs,
    fetchMaxBytes: config.fetchMaxBytes,
  });
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
  logger.info('processor started', { group: config.consumerGroup, topics, client: deps.kafka.name });
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

/**
 * The internal topics of a topology (its repartition topics), with the orders topic's partition
 * count unless a repartition names its own, and the same replication factor as the app's topics.
 */
export function internalTopics(topology: Pick<Topology, 'repartitions'>, options: { partitions: number; replicationFactor: number }): TopicSpec[] {
  return topology.repartitions.map((repartition) => ({
    topic: repartition.topic,
    partitions: repartition.partitions ?? options.partitions,
    replicationFactor: options.replicationFactor,
  }));
}
