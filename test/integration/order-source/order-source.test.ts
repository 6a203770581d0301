import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createKafkaPublisher } from '../../../app/order-source/kafka-publisher.ts';
import { OrderSource } from '../../../app/order-source/order-source.ts';
import { createPostgresLedger } from '../../../app/order-source/postgres-ledger.ts';
import { acquireSourceLock, SourceLockHeldError, SourceLockLostError } from '../../../app/order-source/source-lock.ts';
import { DEFAULT_ORDER_LINES, readSetting, SETTINGS } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { createOrderGenerator } from '../../../processors/order-generator.ts';
import { readPublishedSeq } from '../../../state/commerce/order-store.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { DEFAULT_SESSION_SETTINGS } from '../../../state/pg-session.ts';
import { selectRows } from '../../../state/sql.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, TopicPool, waitFor } from '../../support/kafka.ts';
import { auditTopic, readWholeTopic, storedOrders } from './topic-audit.ts';

const PARTITIONS = 6;
const DEFAULT_LINES = readSetting(SETTINGS.orderLines, { ORDER_LINES: DEFAULT_ORDER_LINES });

describe('order source on PostgreSQL and Kafka', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let topics: TopicPool;
  let producer: KafkaProducer;

  beforeAll(async () => {
    db = await createTestDatabase('order_source');
    await seed(db.sequelize, { products: 40, stock: 1_000 });
    kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    topics = new TopicPool(admin);
    producer = await kafka.producer();
  });

  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  it('stores every order with its lines and publishes it under its event id, keyed and partitioned by its lead product', async () => {
    const topic = await topics.create('orders', PARTITIONS);
    const sourceId = 'it-source';
    const lock = await acquireSourceLock(db.url, sourceId, silentLogger);
    try {
      const source = new OrderSource({
        ledger: createPostgresLedger(db.sequelize, sourceId),
        publisher: createKafkaPublisher(producer, topic, admin),
        generator: createOrderGenerator({ productIds: Array.from({ length: 40 }, (_, i) => i + 1), popularity: { kind: 'zipf', skew: 1 }, seed: 7, lineCounts: DEFAULT_LINES }),
        ownership: lock,
        logger: silentLogger,
        maxBatch: 500,
      });
      expect(await source.recover()).toBe(0);
      const result = await source.run({ ratePerSecond: 20_000, count: 3_000 });
      expect(result).toMatchObject({ stored: 3_000, published: 3_000, errors: 0 });
      expect(result.publishedLines / result.published).toBeCloseTo(2.4, 0);

      const stored = await storedOrders(db.sequelize);
      expect(stored).toHaveLength(3_000);
      expect(stored.map((order) => Number(order.source_seq))).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
      const records = await readWholeTopic(kafka, topic);
      // Every order on the topic once at least, each copy the same bytes (auditTopic throws
      // otherwise): publishing is at-least-once. One CI run of this fault-free test found 3
      // identical copies on a loaded machine, so their count is not asserted.
      auditTopic(stored, records, PARTITIONS);
      expect(await readPublishedSeq(db.sequelize, sourceId)).toBe(3_000);
    } finally {
      await lock.release();
    }
  }, 60_000);

  it("publishes a batch far above the topic's max.message.bytes in sends under it: every order once, none refused", async () => {
    // 2,000 five-line orders on 2 partitions are about 800 KB: one send would be refused (MESSAGE_TOO_LARGE) on every retry.
    const topic = await topics.create('orders-small-limit', 2, { config: { 'max.message.bytes': '65536' } });
    const sourceId = 'small-limit-source';
    const lock = await acquireSourceLock(db.url, sourceId, silentLogger);
    try {
      const sends: number[] = [];
      const counting: Pick<KafkaProducer, 'send'> = {
        send: (messages) => {
          sends.push(messages.length);
          return producer.send(messages);
        },
      };
      const source = new OrderSource({
        ledger: createPostgresLedger(db.sequelize, sourceId),
        publisher: createKafkaPublisher(counting, topic, admin),
        generator: createOrderGenerator({ productIds: Array.from({ length: 40 }, (_, i) => i + 1), popularity: { kind: 'uniform' }, seed: 11, lineCounts: readSetting(SETTINGS.orderLines, { ORDER_LINES: '5' }) }),
        ownership: lock,
        logger: silentLogger,
        maxBatch: 2_000,
      });
      await source.recover();
      const result = await source.run({ ratePerSecond: 1_000_000, count: 2_000 });
      expect(result).toMatchObject({ stored: 2_000, published: 2_000, errors: 0 });
      expect(sends.length).toBeGreaterThan(10);
      const stored = await storedOrders(db.sequelize, sourceId);
      expect(stored).toHaveLength(2_000);
      // Every stored order on the topic once, with its stored lines, and nothing else (auditTopic throws otherwise).
      expect(auditTopic(stored, await readWholeTopic(kafka, topic), 2).duplicates).toBe(0);
    } finally {
      await lock.release();
    }
  }, 60_000);

  it('lets only one process run a source id at a time', async () => {
    const first = await acquireSourceLock(db.url, 'locked-source', silentLogger);
    try {
      await expect(acquireSourceLock(db.url, 'locked-source', silentLogger)).rejects.toBeInstanceOf(SourceLockHeldError);
      const other = await acquireSourceLock(db.url, 'other-source', silentLogger);
      await other.release();
    } finally {
      await first.release();
    }
    const again = await acquireSourceLock(db.url, 'locked-source', silentLogger);
    await again.release();
  });

  it('stops storing at once, and fails with a clear error, when its lock session is lost', async () => {
    const topic = await topics.create('orders-lost-lock', PARTITIONS);
    const sourceId = 'lost-lock-source';
    const applicationName = `lock-${process.pid}`;
    const lock = await acquireSourceLock(db.url, sourceId, silentLogger, { ...DEFAULT_SESSION_SETTINGS, applicationName });
    const source = new OrderSource({
      ledger: createPostgresLedger(db.sequelize, sourceId),
      publisher: createKafkaPublisher(producer, topic, admin),
      generator: createOrderGenerator({ productIds: [1, 2, 3], popularity: { kind: 'uniform' }, seed: 3 }),
      ownership: lock,
      logger: silentLogger,
      maxBatch: 50,
    });
    await source.recover();
    const run = source.run({ ratePerSecond: 500, durationMs: 60_000 });
    run.catch(() => undefined);
    const stored = async () => Number((await selectRows<{ n: string }>(db.sequelize, 'SELECT count(*) AS n FROM orders WHERE source_id = $id', { id: sourceId }))[0]!.n);
    await waitFor(async () => (await stored()) > 0, { timeoutMs: 10_000 });

    // The lock's session dies (a server restart or pg_terminate_backend looks the same to it).
    await selectRows(db.sequelize, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $app', { app: applicationName });
    const startedAt = Date.now();
    const error = await run.then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(SourceLockLostError);
    expect((error as Error).message).toMatch(/^order source "lost-lock-source" unavailable: lost its advisory lock session .*the role must be restarted$/);
    await expect(lock.ensureHeld()).rejects.toBeInstanceOf(SourceLockLostError);

    // Nothing is stored after the failure, and a second run refuses to start.
    // Whatever the run had in flight has ended once no other session of this database is inside a transaction.
    const inTransaction = async () =>
      Number(
        (await selectRows<{ n: string }>(db.sequelize, 'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL'))[0]!.n,
      );
    const atFailure = await stored();
    await waitFor(async () => (await inTransaction()) === 0, { message: 'no transaction of the failed run left open' });
    expect(await stored()).toBe(atFailure);
    await expect(source.run({ ratePerSecond: 500, durationMs: 1_000 })).rejects.toThrow('restart the process');
    await lock.release();
  }, 60_000);
});
