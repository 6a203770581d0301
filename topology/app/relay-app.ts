/** The relay role: publishes committed outbox rows (InventoryUpdated, dead letters) to Kafka. */
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { KafkaClient } from '../../kafka/port.ts';
import { OutboxRelay } from '../../sinks/outbox-relay.ts';

export async function startRelay(
  config: AppConfig,
  deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger },
): Promise<{ relay: OutboxRelay; stop(): Promise<void>; failed: Promise<never> }> {
  const producer = await deps.kafka.producer({ clientId: 'outbox-relay' });
  const relay = new OutboxRelay({ sequelize: deps.sequelize, databaseUrl: config.databaseUrl, producer, logger: deps.logger.child('relay') });
  // The loop ends by itself only on an error it cannot recover from: the role failed.
  const failed = relay.start().then(() => new Promise<never>(() => {}));
  failed.catch(() => {});
  return {
    relay,
    failed,
    stop: async () => {
      await relay.stop();
      await producer.close().catch(() => {});
    },
  };
}
