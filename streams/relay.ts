/** The relay role of any topology: publishes committed outbox rows (outputs, repartitioned records, dead letters) to Kafka. */
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import type { KafkaClient } from '../kafka/port.ts';
import { DEFAULT_SEND_TIMEOUT_MS, DeadlineProducer } from '../kafka/send-deadline.ts';
import { OutboxRelay } from '../sinks/outbox-relay.ts';
import { sessionSettingsOf } from '../state/pg-session.ts';

export async function startRelay(
  config: AppConfig,
  deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger },
): Promise<{ relay: OutboxRelay; stop(): Promise<void>; failed: Promise<never> }> {
  const producer = await DeadlineProducer.create({
    create: () => deps.kafka.producer({ clientId: 'outbox-relay' }),
    timeoutMs: DEFAULT_SEND_TIMEOUT_MS,
    logger: deps.logger.child('relay'),
  });
  // Its own admin client: the relay reads the topics' size limits with it.
  const admin = await deps.kafka.admin();
  const relay = new OutboxRelay({
    sequelize: deps.sequelize,
    databaseUrl: config.databaseUrl,
    session: sessionSettingsOf(config, 'kstream-relay-lock'),
    producer,
    admin,
    logger: deps.logger.child('relay'),
  });
  let stopping = false;
  // The loop catches everything it meets; should it end anyway, the role failed and its supervisor starts another.
  const failed = relay.start().then(() => (stopping ? new Promise<never>(() => {}) : Promise.reject(new Error('the relay loop ended unexpectedly'))));
  failed.catch(() => {});
  return {
    relay,
    failed,
    stop: async () => {
      stopping = true;
      await relay.stop();
      await producer.close().catch(() => {});
      await admin.close().catch(() => {});
    },
  };
}
