/**
 * Connects the services a role needs and makes sure the topics exist, turning "cannot reach"
 * into one clear line (ServiceUnavailableError) instead of a stack trace.
 */
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../../core/config.ts';
import { ServiceUnavailableError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient } from '../../kafka/port.ts';
import { connectDatabase } from '../../state/db.ts';

export interface Services {
  sequelize: Sequelize;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  /** Partitions of the orders topic. */
  partitionCount: number;
  close(): Promise<void>;
}

const KAFKA_TIMEOUT_MS = 15_000;
/**
 * Well below the group session timeout: by the time the group gives a frozen replica's
 * partitions to another member, the server has ended the frozen replica's open transaction,
 * so its row locks on stream_offsets cannot block the new owner's claim. Every transaction of
 * the roles is a few statements long; none waits on anything else while open.
 */
const IDLE_IN_TRANSACTION_TIMEOUT_MS = 5_000;

export async function connectServices(config: AppConfig, logger: Logger, options: { poolMax?: number } = {}): Promise<Services> {
  const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), {
    ...(options.poolMax === undefined ? {} : { poolMax: options.poolMax }),
    idleInTransactionTimeoutMs: IDLE_IN_TRANSACTION_TIMEOUT_MS,
  });
  const kafka = createKafkaClient(config, logger);
  let admin: KafkaAdmin;
  try {
    admin = await withTimeout(kafka.admin(), KAFKA_TIMEOUT_MS);
    await withTimeout(
      admin.createTopics([
        { topic: config.ordersTopic, partitions: config.partitions },
        { topic: config.inventoryTopic, partitions: config.partitions },
        { topic: config.dlqTopic, partitions: 1 },
      ]),
      KAFKA_TIMEOUT_MS,
    );
  } catch (error) {
    await sequelize.close();
    throw new ServiceUnavailableError('Kafka', `cannot reach ${config.kafkaBrokers.join(',')} (${errorMessage(error)})`, error);
  }
  const partitionCount = (await admin.partitionCount(config.ordersTopic)) ?? config.partitions;
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

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
