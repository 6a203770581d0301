/** The relay role: publishes committed outbox rows (InventoryUpdated, dead letters) to Kafka. */
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import type { KafkaClient } from '../../kafka/port.ts';
import { OutboxRelay } from '../../sinks/outbox-relay.ts';

export async function startRelay(config: AppConfig, deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger }): Promise<{ relay: OutboxRelay; stop(): Promise<void> }> {
  const producer = await deps.kafka.producer({ clientId: 'outbox-relay' });
  // Its own admin client: the relay reads the topics' size limits with it.
  const admin = await deps.kafka.admin();
  const relay = new OutboxRelay({ sequelize: deps.sequelize, databaseUrl: config.databaseUrl, producer, admin, logger: deps.logger.child('relay') });
  relay.start();
  return {
    relay,
    stop: async () => {
      await relay.stop();
      await producer.close();
      await admin.close();
    },
  };
}
