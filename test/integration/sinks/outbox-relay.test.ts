import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { OutboxRelay } from '../../../sinks/outbox-relay.ts';
import { appendOutbox, countUnpublished } from '../../../state/outbox-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { BatchCollector, brokersFromEnv, TopicPool, waitFor } from '../../support/kafka.ts';

describe('outbox relay', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('relay');
    kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    producer = await kafka.producer();
    topics = new TopicPool(admin);
  });
  afterAll(async () => {
    for (const relay of relays) await relay.stop();
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  const newRelay = () => {
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer, admin, logger: silentLogger, idlePollMs: 10 });
    relays.push(relay);
    return relay;
  };

  it('publishes committed rows in per-key version order, marks them, and only the leader publishes', async () => {
    const topic = await topics.create('relay', 3);
    const rows = [1, 2, 3, 4, 5].flatMap((version) =>
      ['7', '8'].map((key) => ({
        eventId: `inventory-updated:${key}:${version}`,
        topic,
        key,
        payload: Buffer.from(JSON.stringify({ key, version })),
        headers: { 'event-id': `inventory-updated:${key}:${version}` },
      })),
    );
    await db.sequelize.transaction((transaction) => appendOutbox(transaction, rows));

    const leader = newRelay();
    leader.start();
    await waitFor(() => leader.stats.leader, { message: 'the first relay to lead' });
    const standby = newRelay();
    standby.start();

    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the outbox to drain' });
    expect(standby.stats.leader).toBe(false);
    expect(standby.stats.published).toBe(0);

    const reader = kafka.partitionReader();
    const collector = new BatchCollector();
    await reader.start([0, 1, 2].map((partition) => ({ topic, partition, offset: 0n })), collector.onBatch);
    await waitFor(() => collector.records().length >= rows.length, { message: 'all rows on the topic' });
    await reader.close();

    const versionsByKey = new Map<string, number[]>();
    for (const record of collector.records()) {
      const { key, version } = JSON.parse(record.value!.toString()) as { key: string; version: number };
      expect(record.key?.toString()).toBe(key);
      versionsByKey.set(key, [...(versionsByKey.get(key) ?? []), version]);
    }
    expect(Object.fromEntries(versionsByKey)).toEqual({ '7': [1, 2, 3, 4, 5], '8': [1, 2, 3, 4, 5] });
  });
});
