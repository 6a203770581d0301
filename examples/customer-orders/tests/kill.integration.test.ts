/**
 * The customer-orders example under kill -9 (real broker, real PostgreSQL): its runner — both
 * sub-topologies and the outbox relay in one process — is killed at random points while orders
 * keep arriving, some of them twice. After it catches up, every customer's count is exactly the
 * number of distinct orders they placed, although killed relays sent repartitioned records
 * again, and the counts topic holds each count once (copies are identical events).
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { countUnpublished } from '../../../state/outbox-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { RoleProcess } from '../../../test/support/child-process.ts';
import { createTestDatabase, type TestDatabase } from '../../../test/support/database.ts';
import { brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../../test/support/kafka.ts';
import { readTopic } from '../../../test/support/pipeline.ts';
import { type CustomerOrderCount, customerOrderCountCodec, type PlacedOrder, placedOrderCodec } from '../events.ts';

const RUNNER = fileURLToPath(new URL('../run.ts', import.meta.url));
const PARTITIONS = 3;
const CUSTOMERS = 25;
const WAVES = 24;
const ORDERS_PER_WAVE = 60;
const KILLS = 3;

describe('customer-orders example: exactly-once counts under kill -9', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;
  const runners: RoleProcess[] = [];
  let internalTopic: string | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('example_kill');
    kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    producer = await kafka.producer();
    topics = new TopicPool(admin);
  });
  afterAll(async () => {
    await Promise.all(runners.filter((runner) => runner.running).map((runner) => runner.kill9()));
    await producer?.close();
    if (internalTopic) await admin?.deleteTopics([internalTopic]).catch(() => {});
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  it('counts every order once per customer across kills of the processor and the relay', async () => {
    const ordersTopic = await topics.create('example-orders', PARTITIONS);
    const countsTopic = await topics.create('example-counts', PARTITIONS);
    const dlqTopic = await topics.create('example-dlq', 1);
    const group = uniqueName('customer-orders');
    internalTopic = `${group}-orders-by-customer-repartition`;
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      ORDERS_TOPIC: ordersTopic,
      DLQ_TOPIC: dlqTopic,
      CONSUMER_GROUP: group,
      PARTITIONS: String(PARTITIONS),
      BATCH_MAX_RECORDS: '40',
      COMMIT_INTERVAL_MS: '20',
      LOG_FORMAT: 'json',
    };
    const startRunner = () => {
      const child = spawn(process.execPath, [RUNNER, '--counts-topic', countsTopic], { stdio: ['ignore', 'pipe', 'pipe'], env });
      const runner = new RoleProcess(`runner-${runners.length + 1}`, child);
      runners.push(runner);
      return runner;
    };
    const counted = async () => {
      const [row] = await selectRows<{ total: string | null }>(db.sequelize, 'SELECT sum(orders)::text AS total FROM example_customer_order_counts').catch(() => [{ total: null }]);
      return Number(row?.total ?? 0);
    };

    // Orders keyed by product (as the shop's are), every 8th a guest's, every 5th published twice.
    const placed = new Map<string, string>();
    let sent = 0;
    const produceWave = async (wave: number) => {
      const orders: Array<{ key: string; order: PlacedOrder }> = [];
      for (let i = 0; i < ORDERS_PER_WAVE; i++) {
        const n = wave * ORDERS_PER_WAVE + i;
        const order: PlacedOrder = { orderId: randomUUID(), customerId: n % 8 === 0 ? null : `customer-${n % CUSTOMERS}` };
        if (order.customerId !== null) placed.set(order.orderId, order.customerId);
        orders.push({ key: String(1 + (n % 17)), order });
        if (n % 5 === 0) orders.push({ key: String(1 + ((n + 3) % 17)), order });
      }
      await producer.send(orders.map(({ key, order }) => ({ topic: ordersTopic, key, value: placedOrderCodec.encode(order) })));
      sent += orders.length;
    };

    let runner = startRunner();
    await runner.waitForLog('customer-orders running');
    const killedAt: number[] = [];
    for (let wave = 0; wave < WAVES; wave++) {
      await produceWave(wave);
      // Kills spread over the run, each once the runner has counted a little more since it started.
      if (wave % Math.floor(WAVES / (KILLS + 1)) === Math.floor(WAVES / (KILLS + 1)) - 1 && killedAt.length < KILLS) {
        const target = (killedAt.at(-1) ?? 0) + 20 + Math.floor(Math.random() * 60);
        await waitFor(async () => (await counted()) >= target, { timeoutMs: 60_000, intervalMs: 20, message: `${runner.name} to count ${target} orders` });
        expect((await runner.kill9()).signal).toBe('SIGKILL');
        killedAt.push(await counted());
        runner = startRunner();
      }
    }
    expect(killedAt).toHaveLength(KILLS);

    const perCustomer = new Map<string, number>();
    for (const customerId of placed.values()) perCustomer.set(customerId, (perCustomer.get(customerId) ?? 0) + 1);
    await waitFor(async () => (await counted()) === placed.size, { timeoutMs: 90_000, message: `all ${placed.size} distinct orders counted; last lines:\n${runner.tail()}` });
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { timeoutMs: 30_000, message: 'the outbox to drain' });
    expect((await runner.interrupt()).code).toBe(0);

    // The database: each customer's count is the number of distinct orders they placed, each order recorded once.
    const rows = await selectRows<{ customer_id: string; orders: string }>(db.sequelize, 'SELECT customer_id, orders::text FROM example_customer_order_counts');
    expect(new Map(rows.map((row) => [row.customer_id, Number(row.orders)]))).toEqual(perCustomer);
    const [ids] = await selectRows<{ count: string }>(db.sequelize, 'SELECT count(*)::text AS count FROM example_customer_order_ids');
    expect(Number(ids!.count)).toBe(placed.size);

    // The counts topic: per customer every count 1..n exactly once by event id, copies identical.
    const published = await readTopic({ kafka, admin }, countsTopic);
    const byEventId = new Map<string, CustomerOrderCount>();
    for (const record of published) {
      const value = customerOrderCountCodec.decode(record.value);
      const eventId = record.headers['event-id']!;
      const earlier = byEventId.get(eventId);
      if (earlier) expect(value).toEqual(earlier);
      byEventId.set(eventId, value);
    }
    const countsOf = new Map<string, number[]>();
    for (const { customerId, orders } of byEventId.values()) countsOf.set(customerId, [...(countsOf.get(customerId) ?? []), orders]);
    for (const [customerId, total] of perCustomer) {
      expect({ customerId, counts: [...(countsOf.get(customerId) ?? [])].sort((a, b) => a - b) }).toEqual({ customerId, counts: Array.from({ length: total }, (_, i) => i + 1) });
    }
    expect(sent).toBeGreaterThan(placed.size);
  }, 300_000);
});
