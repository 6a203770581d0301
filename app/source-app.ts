/**
 * The source role of `topology run`: generates orders over the catalogue at a steady rate until
 * stopped, storing and publishing each (see app/order-source for the guarantee).
 */
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../core/config.ts';
import { errorMessage, ServiceUnavailableError } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../kafka/port.ts';
import { DEFAULT_SEND_TIMEOUT_MS, DeadlineProducer } from '../kafka/send-deadline.ts';
import { createOrderGenerator, largestOrder, type OrderGeneratorOptions } from '../processors/order-generator.ts';
import { sessionSettingsOf } from '../state/pg-session.ts';
import { selectRows } from '../state/sql.ts';
import { checkLargestOrderFits, createKafkaPublisher } from './order-source/kafka-publisher.ts';
import { OrderSource } from './order-source/order-source.ts';
import { createPostgresLedger } from './order-source/postgres-ledger.ts';
import { acquireSourceLock } from './order-source/source-lock.ts';

export async function startSource(
  config: AppConfig,
  deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger },
  options: { rate: number; sourceId: string },
): Promise<{ source: OrderSource; stop(): Promise<void>; failed: Promise<never> }> {
  const logger = deps.logger.child('source', { sourceId: options.sourceId });
  const productIds = (await selectRows<{ id: number }>(deps.sequelize, 'SELECT id FROM products ORDER BY id')).map((row) => row.id);
  if (productIds.length === 0) throw new ServiceUnavailableError('catalogue', 'no products in the database: run npm run db:seed first');
  const lock = await acquireSourceLock(config.databaseUrl, options.sourceId, logger, sessionSettingsOf(config, `kstream-source-lock-${options.sourceId}`));
  let producer: KafkaProducer | undefined;
  let admin: KafkaAdmin | undefined;
  let source: OrderSource;
  let recovered: number;
  try {
    admin = await deps.kafka.admin();
    const orders: OrderGeneratorOptions = { productIds, popularity: { kind: 'zipf', skew: 1.1 }, seed: Date.now(), lineCounts: config.orderLines };
    await checkLargestOrderFits(admin, config.ordersTopic, largestOrder(orders), config.orderLines.spec);
    producer = await DeadlineProducer.create({
      create: () => deps.kafka.producer({ clientId: `order-source-${options.sourceId}` }),
      timeoutMs: DEFAULT_SEND_TIMEOUT_MS,
      logger,
    });
    source = new OrderSource({
      ledger: createPostgresLedger(deps.sequelize, options.sourceId),
      publisher: createKafkaPublisher(producer, config.ordersTopic, admin),
      generator: createOrderGenerator(orders),
      ownership: lock,
      logger,
    });
    recovered = await source.recover();
  } catch (error) {
    // A failed start must not keep the source's lock: the next start would wait for it.
    await producer?.close().catch(() => {});
    await admin?.close().catch(() => {});
    await lock.release().catch(() => {});
    throw error;
  }
  const started = producer;
  const startedAdmin = admin;
  const stop = new AbortController();
  logger.info('source started', { rate: options.rate, lines: config.orderLines.spec, products: productIds.length, recovered });
  // A day at a time: `run` needs a finite plan; the loop ends only when stopped. After a failed
  // run the source cannot run again (it may have orders stored and not yet published): the
  // role fails, and its supervisor starts a new one, whose recovery publishes them.
  const loop = (async () => {
    while (!stop.signal.aborted) await source.run({ ratePerSecond: options.rate, durationMs: 86_400_000 }, { stop: stop.signal });
  })();
  const failed = loop.then(
    () => new Promise<never>(() => {}),
    (error: unknown) => {
      logger.error('source stopped on an error', { error: errorMessage(error) });
      throw error;
    },
  );
  failed.catch(() => {});
  return {
    source,
    failed,
    stop: async () => {
      stop.abort();
      await loop.catch(() => {});
      await started.close().catch((error: unknown) => logger.warn('source producer did not close cleanly', { error: errorMessage(error) }));
      await startedAdmin.close().catch(() => {});
      await lock.release();
    },
  };
}
