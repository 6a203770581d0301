/**
 * The source role under its supervisor: a send error the source cannot retry (as a broker's
 * MESSAGE_TOO_LARGE) used to stop it for good. Now the role fails, is restarted with backoff,
 * and the new instance's recovery publishes what the failed one stored: in the end every stored
 * order is on the topic. Real PostgreSQL and broker; only the producer is wrapped to fail.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startSource } from '../../../app/source-app.ts';
import { RoleSupervisor } from '../../../app/supervisor.ts';
import { loadConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { readPublishedSeq } from '../../../state/commerce/order-store.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, TopicPool, waitFor } from '../../support/kafka.ts';
import { memoryLogger } from '../../support/memory-logger.ts';
import { auditTopic, readWholeTopic, storedOrders } from './topic-audit.ts';

const PARTITIONS = 3;

/** The real client, except that the first producer it makes refuses its sends after the first few. */
function producerFailingOnce(client: KafkaClient, okSends: number): KafkaClient & { failures: number } {
  let producers = 0;
  const wrapped = {
    name: client.name,
    brokers: client.brokers,
    failures: 0,
    groupConsumer: client.groupConsumer.bind(client),
    partitionReader: client.partitionReader.bind(client),
    admin: client.admin.bind(client),
    async producer(options?: { clientId?: string }): Promise<KafkaProducer> {
      const inner = await client.producer(options);
      if (++producers > 1) return inner;
      let sends = 0;
      return {
        send: async (messages) => {
          if (++sends > okSends) {
            wrapped.failures++;
            throw new Error('[MESSAGE_TOO_LARGE] the request included a message larger than the max message size the server will accept');
          }
          await inner.send(messages);
        },
        close: () => inner.close(),
      };
    },
  };
  return wrapped;
}

describe('the source role under supervision', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let topics: TopicPool;

  beforeAll(async () => {
    db = await createTestDatabase('source_supervision');
    await seed(db.sequelize, { products: 10, stock: 1_000 });
    kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    topics = new TopicPool(admin);
  });

  afterAll(async () => {
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  it('restarts a source stopped by a send error it cannot retry, and publishes every stored order', async () => {
    const topic = await topics.create('supervised-orders', PARTITIONS);
    const config = loadConfig({ DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(','), ORDERS_TOPIC: topic }, {});
    const flaky = producerFailingOnce(kafka, 3);
    const logger = memoryLogger();
    const supervisor = await RoleSupervisor.start({
      name: 'source',
      logger,
      policy: { initialDelayMs: 100, maxDelayMs: 200 },
      start: () => startSource(config, { sequelize: db.sequelize, kafka: flaky, logger }, { rate: 200, sourceId: 'supervised' }),
    });
    try {
      await waitFor(() => flaky.failures > 0, { message: 'the send error' });
      await waitFor(() => supervisor.restarts === 1 && supervisor.current !== undefined, { message: 'the source restarted' });
      const before = (await storedOrders(db.sequelize)).length;
      await waitFor(async () => (await storedOrders(db.sequelize)).length > before + 50, { message: 'the restarted source storing orders' });
    } finally {
      await supervisor.stop();
    }
    expect(logger.lines.some((line) => line.level === 'error' && line.message.startsWith('source failed; restarting it in'))).toBe(true);
    const stored = await storedOrders(db.sequelize);
    expect(await readPublishedSeq(db.sequelize, 'supervised')).toBe(Number(stored.at(-1)!.source_seq));
    auditTopic(stored, await readWholeTopic(kafka, topic), PARTITIONS);
  });

  it('refuses to start, in one line naming the setting, when its largest order would not fit in its topic; fits once the lines do', async () => {
    // 1,200 bytes leave 627 for records: a one-line order takes about 450, ten lines about 710.
    const topic = await topics.create('small-orders', 1, { config: { 'max.message.bytes': '1200' } });
    const config = (lines: string) => loadConfig({ DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(','), ORDERS_TOPIC: topic, ORDER_LINES: lines }, {});
    const start = (lines: string) => startSource(config(lines), { sequelize: db.sequelize, kafka, logger: silentLogger }, { rate: 50, sourceId: 'small' });
    await expect(start('1:50,100:1')).rejects.toBeInstanceOf(ConfigError);
    await expect(start('1:50,100:1')).rejects.toThrow(/^invalid setting max\.message\.bytes of topic \S+: expected at least \d+ bytes, for its largest order \(10 lines, --lines 1:50,100:1\), got "1200"$/);
    // The failed start let go of the source's lock: a source whose orders fit starts at once.
    const fitting = await start('1');
    try {
      await waitFor(async () => (await readPublishedSeq(db.sequelize, 'small')) > 0, { message: 'the fitting source publishing' });
    } finally {
      await fitting.stop();
    }
  });
});
