/**
 * The source role of `topology run`: generates orders over the catalogue at a steady rate until
 * stopped, storing and publishing each (see topology/order-source for the guarantee).
 */
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../../core/config.ts';
import { ServiceUnavailableError, errorMessage } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { KafkaClient } from '../../kafka/port.ts';
import { createOrderGenerator } from '../../processors/order-generator.ts';
import { sessionSettingsOf } from '../../state/pg-session.ts';
import { selectRows } from '../../state/sql.ts';
import { createKafkaPublisher } from '../order-source/kafka-publisher.ts';
import { OrderSource } from '../order-source/order-source.ts';
import { createPostgresLedger } from '../order-source/postgres-ledger.ts';
import { acquireSourceLock } from '../order-source/source-lock.ts';

export async function startSource(
  config: AppConfig,
  deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger },
  options: { rate: number; sourceId: string },
): Promise<{ source: OrderSource; stop(): Promise<void> }> {
  const logger = deps.logger.child('source', { sourceId: options.sourceId });
  const productIds = (await selectRows<{ id: number }>(deps.sequelize, 'SELECT id FROM products ORDER BY id')).map((row) => row.id);
  if (productIds.length === 0) throw new ServiceUnavailableError('catalogue', 'no products in the database: run npm run db:seed first');
  const lock = await acquireSourceLock(config.databaseUrl, options.sourceId, logger, sessionSettingsOf(config, `kstream-source-lock-${options.sourceId}`));
  const producer = await deps.kafka.producer({ clientId: `order-source-${options.sourceId}` });
  const source = new OrderSource({
    ledger: createPostgresLedger(deps.sequelize, options.sourceId),
    publisher: createKafkaPublisher(producer, config.ordersTopic),
    generator: createOrderGenerator({ productIds, popularity: { kind: 'zipf', skew: 1.1 }, seed: Date.now() }),
    ownership: lock,
    logger,
  });
  const stop = new AbortController();
  const recovered = await source.recover();
  logger.info('source started', { rate: options.rate, products: productIds.length, recovered });
  // A day at a time: `run` needs a finite plan; the loop ends only when stopped.
  const loop = (async () => {
    while (!stop.signal.aborted) await source.run({ ratePerSecond: options.rate, durationMs: 86_400_000 }, { stop: stop.signal });
  })().catch((error: unknown) => logger.error('source stopped on an error', { error: errorMessage(error) }));
  return {
    source,
    stop: async () => {
      stop.abort();
      await loop;
      await producer.close();
      await lock.release();
    },
  };
}
