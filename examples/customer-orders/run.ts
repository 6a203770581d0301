/**
 * `npm run example:customer-orders`: runs the customer-orders example against Kafka and
 * PostgreSQL — both of its sub-topologies and an outbox relay, in one process — until Ctrl-C.
 * It reads the shop's orders topic and needs the engine's tables (`npm run db:migrate`, or it
 * migrates itself); it creates its own tables and topics.
 */
import { exitCodesHelp, parseCommandLine, refusePositionals, runMain } from '../../core/cli.ts';
import { loadConfig } from '../../core/config.ts';
import { ConfigError, errorMessage } from '../../core/errors.ts';
import { createLogger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import { connectDatabase } from '../../state/db.ts';
import { migrate } from '../../state/migrator.ts';
import { sessionSettingsOf } from '../../state/pg-session.ts';
import { tableStore } from '../../state/table-store.ts';
import { startTopologyProcessor } from '../../streams/processor.ts';
import { startRelay } from '../../streams/relay.ts';
import { createExampleTables } from './schema.ts';
import { ORDER_COUNTS, ORDER_IDS } from './stores.ts';
import { buildCustomerOrdersTopology } from './topology.ts';

const USAGE = `Usage: npm run example:customer-orders -- [--counts-topic TOPIC] [--group GROUP] [--client platformatic|kafkajs]

Counts each customer's orders from the orders topic (ORDERS_TOPIC, default orders): re-keys
them by customer id through a repartition topic, counts them in PostgreSQL
(example_customer_order_counts) and publishes every new count to --counts-topic
(default customer-order-counts). Runs until Ctrl-C.

Options:
  --counts-topic TOPIC   where the counts go (default customer-order-counts)
  --group GROUP          consumer group and application id (CONSUMER_GROUP, default customer-orders)
  --client NAME          Kafka client (KAFKA_CLIENT, default platformatic)
  -h, --help             this help

Settings: DATABASE_URL, KAFKA_BROKERS, ORDERS_TOPIC, PARTITIONS, DLQ_TOPIC (default
customer-orders.dlq), BATCH_MAX_RECORDS, COMMIT_INTERVAL_MS, LOG_LEVEL (see the README).

${exitCodesHelp([[0, 'stopped by Ctrl-C or SIGTERM after a clean shutdown']])}`;

await runMain(async () => {
  const { positionals, flags } = parseCommandLine(
    process.argv.slice(2),
    { 'counts-topic': { type: 'string' }, group: { type: 'string' }, client: { type: 'string' } },
    USAGE,
  );
  refusePositionals(positionals);
  // The example's own group and dead-letter topic unless told otherwise: it runs beside the shop.
  const config = loadConfig({ CONSUMER_GROUP: 'customer-orders', DLQ_TOPIC: 'customer-orders.dlq', ...process.env }, flags);
  const countsTopic = flags['counts-topic'] ?? 'customer-order-counts';
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(countsTopic)) throw new ConfigError('--counts-topic', 'a Kafka topic name (1-249 characters of a-z A-Z 0-9 . _ -)', countsTopic);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat }).child('customer-orders');

  const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), { session: sessionSettingsOf(config, 'customer-orders') });
  await migrate(sequelize, logger.child('db'));
  await createExampleTables(sequelize);
  const kafka = createKafkaClient(config, logger);
  const admin = await kafka.admin();
  await admin.createTopics(
    [config.ordersTopic, countsTopic, config.dlqTopic].map((topic) => ({ topic, partitions: config.partitions, replicationFactor: config.replicationFactor })),
  );

  const orderIds = tableStore(sequelize, ORDER_IDS);
  const counts = tableStore(sequelize, ORDER_COUNTS);
  const topology = buildCustomerOrdersTopology({ applicationId: config.consumerGroup, ordersTopic: config.ordersTopic, countsTopic, stores: { orderIds, counts } });
  const relay = await startRelay(config, { sequelize, kafka, logger });
  const processor = await startTopologyProcessor(config, { sequelize, kafka, admin, logger }, { topology, stores: [orderIds, counts] });
  logger.info('customer-orders running', { ordersTopic: config.ordersTopic, countsTopic, group: config.consumerGroup });

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = async (why: string, code: number) => {
      if (stopping) {
        process.exit(130);
      }
      stopping = true;
      logger.info(`stopping: ${why}`);
      await processor.stop().catch((error: unknown) => logger.warn('processor did not stop cleanly', { error: errorMessage(error) }));
      await relay.stop().catch((error: unknown) => logger.warn('relay did not stop cleanly', { error: errorMessage(error) }));
      await admin.close().catch(() => {});
      await sequelize.close().catch(() => {});
      // A client library's timer may keep the loop alive after everything was closed.
      setTimeout(() => process.exit(code), 1000).unref();
      resolve(code);
    };
    process.on('SIGINT', () => void shutdown('SIGINT', 0));
    process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
    // The consumer stopped for good (it cannot go on by itself): exit 1, for a supervisor to start it again.
    processor.failed.catch((error: unknown) => void shutdown(`the processor failed: ${errorMessage(error)}`, 1));
    relay.failed.catch((error: unknown) => void shutdown(`the relay failed: ${errorMessage(error)}`, 1));
  });
});
