import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { OutboxRelay, type RelayOptions } from '../../../sinks/outbox-relay.ts';
import { appendOutbox, countUnpublished, type OutboxMessage } from '../../../state/outbox-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { BatchCollector, brokersFromEnv, TopicPool, waitFor } from '../../support/kafka.ts';

/** Far longer than any wait below: a row published in time was woken by NOTIFY, not by the poll. */
const POLL_MS = 60_000;

describe('outbox relay: NOTIFY wake-up and pipelined publishing', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('relay_pipeline');
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

  const startRelay = (options: Partial<RelayOptions>) => {
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer, admin, logger: silentLogger, lockName: `relay-${Math.random()}`, ...options });
    relays.push(relay);
    relay.start();
    return relay;
  };

  const versioned = (topic: string, keys: string[], versions: number): OutboxMessage[] =>
    Array.from({ length: versions }, (_, i) => i + 1).flatMap((version) =>
      keys.map((key) => ({ eventId: `${topic}:${key}:${version}`, topic, key, payload: Buffer.from(JSON.stringify({ key, version })), headers: {} })),
    );

  async function readAll(topic: string, partitions: number, expected: number): Promise<Array<{ key: string; version: number }>> {
    const reader = kafka.partitionReader();
    const collector = new BatchCollector();
    await reader.start(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0n })), collector.onBatch);
    try {
      await waitFor(() => collector.records().length >= expected, { message: `${expected} records on ${topic}` });
      return collector.records().map((record) => JSON.parse(record.value!.toString()) as { key: string; version: number });
    } finally {
      await reader.close();
    }
  }

  it('publishes a committed row on its NOTIFY, without waiting for the poll interval', async () => {
    const topic = await topics.create('relay-notify', 1);
    await db.sequelize.query('TRUNCATE outbox');
    const relay = startRelay({ idlePollMs: POLL_MS });
    await waitFor(() => relay.stats.waiting, { message: 'the relay to wait on an empty outbox' });

    const committedAt = Date.now();
    await db.sequelize.transaction((transaction) => appendOutbox(transaction, versioned(topic, ['k'], 1)));
    await waitFor(() => relay.stats.published === 1, { timeoutMs: 10_000, message: 'the row to be published' });

    expect(Date.now() - committedAt).toBeLessThan(POLL_MS / 6);
    await relay.stop();
  });

  it('publishes many small batches ahead of their marks: each row once, in version order per key', async () => {
    const topic = await topics.create('relay-pipeline', 3);
    await db.sequelize.query('TRUNCATE outbox');
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const rows = versioned(topic, keys, 30);
    // Several transactions, so batches of 7 cut across them and across keys.
    for (let i = 0; i < rows.length; i += 40) await db.sequelize.transaction((transaction) => appendOutbox(transaction, rows.slice(i, i + 40)));

    const relay = startRelay({ idlePollMs: 10, batchSize: 7 });
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the outbox to drain' });
    await relay.stop();

    const onTopic = [...(await admin.highWatermarks(topic)).values()].reduce((sum, end) => sum + end, 0n);
    expect(onTopic).toBe(BigInt(rows.length)); // no row sent twice: a fetch ahead leaves out rows not yet marked
    const published = await readAll(topic, 3, rows.length);
    expect(relay.stats.published).toBe(rows.length);
    const versionsByKey = new Map<string, number[]>();
    for (const { key, version } of published) versionsByKey.set(key, [...(versionsByKey.get(key) ?? []), version]);
    const inOrder = Array.from({ length: 30 }, (_, i) => i + 1);
    expect(Object.fromEntries(versionsByKey)).toEqual(Object.fromEntries(keys.map((key) => [key, inOrder])));
  });
});
