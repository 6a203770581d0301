/**
 * Connects the services a role needs and makes sure the topics exist, turning "cannot reach"
 * into one clear line (ServiceUnavailableError) instead of a stack trace.
 */
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../core/config.ts';
import { ConfigError, errorMessage, ServiceUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import { type KafkaAdmin, type KafkaClient, ReplicationFactorError, type TopicSpec } from '../kafka/port.ts';
import { connectDatabase } from '../state/db.ts';
import { sessionSettingsOf } from '../state/pg-session.ts';

export interface Services {
  sequelize: Sequelize;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  /** Partitions of the orders topic. */
  partitionCount: number;
  close(): Promise<void>;
}

const KAFKA_TIMEOUT_MS = 15_000;

export async function connectServices(config: AppConfig, logger: Logger, options: { poolMax?: number } = {}): Promise<Services> {
  const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), {
    ...(options.poolMax === undefined ? {} : { poolMax: options.poolMax }),
    session: sessionSettingsOf(config),
  });
  const kafka = createKafkaClient(config, logger);
  let admin: KafkaAdmin | undefined;
  let partitionCount: number;
  try {
    admin = await withTimeout(kafka.admin(), KAFKA_TIMEOUT_MS);
    // An orders topic that exists keeps its partition count, and the topics keyed like it get the same.
    partitionCount = (await withTimeout(admin.partitionCount(config.ordersTopic), KAFKA_TIMEOUT_MS)) ?? config.partitions;
    await withTimeout(admin.createTopics(appTopics({ ...config, partitions: partitionCount })), KAFKA_TIMEOUT_MS);
  } catch (error) {
    await admin?.close().catch(() => {});
    await sequelize.close();
    if (error instanceof ReplicationFactorError) {
      throw new ConfigError('REPLICATION_FACTOR (--replication-factor)', `-1 (the broker's default) or at most the number of brokers; ${error.message}`, String(error.replicationFactor));
    }
    throw new ServiceUnavailableError('Kafka', `cannot reach ${config.kafkaBrokers.join(',')} (${errorMessage(error)})`, error);
  }
  if (partitionCount !== config.partitions) {
    logger.warn('the orders topic already exists with another partition count; using it', { topic: config.ordersTopic, partitions: partitionCount, configured: config.partitions });
  }
  return {
    sequelize,
    kafka,
    admin,
    partitionCount,
    close: async () => {
      await admin.close().catch(() => {});
      await sequelize.close().catch(() => {});
    },
  };
}

/**
 * Every topic the app creates, all with REPLICATION_FACTOR (default -1: the broker's
 * default.replication.factor, so a three-broker cluster configured for 3 gets 3, as with
 * Kafka Streams). Topics that exist are left as they are. The command and outcome topics have
 * as many partitions as the orders topic: they are keyed by the same ids (product, order).
 */
export function appTopics(config: Pick<AppConfig, AppTopicSetting | 'partitions' | 'replicationFactor'>): TopicSpec[] {
  const replicationFactor = config.replicationFactor;
  const keyed = (topic: string): TopicSpec => ({ topic, partitions: config.partitions, replicationFactor });
  return [
    keyed(config.ordersTopic),
    keyed(config.inventoryTopic),
    { topic: config.dlqTopic, partitions: 1, replicationFactor },
    keyed(config.restockCommandsTopic),
    keyed(config.cancelCommandsTopic),
    keyed(config.ordersConfirmedTopic),
    keyed(config.ordersRejectedTopic),
    keyed(config.ordersCancelledTopic),
    keyed(config.inventoryRestockedTopic),
  ];
}

type AppTopicSetting =
  | 'ordersTopic'
  | 'inventoryTopic'
  | 'dlqTopic'
  | 'restockCommandsTopic'
  | 'cancelCommandsTopic'
  | 'ordersConfirmedTopic'
  | 'ordersRejectedTopic'
  | 'ordersCancelledTopic'
  | 'inventoryRestockedTopic';

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
