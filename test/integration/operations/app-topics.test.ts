import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { connectServices } from '../../../app/bootstrap.ts';
import { loadConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin } from '../../../kafka/port.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, uniqueName } from '../../support/kafka.ts';
import { orderFlowTopics } from '../../support/order-flow-topics.ts';

/** The settings of every topic the app creates at startup, each with a name of this test's own. */
const topicsEnv = () => ({ ORDERS_TOPIC: uniqueName('at-orders'), INVENTORY_TOPIC: uniqueName('at-inventory'), DLQ_TOPIC: uniqueName('at-dlq'), ...orderFlowTopics('at') });

describe('the topics the app creates at startup', () => {
  let db: TestDatabase;
  let admin: KafkaAdmin;
  const created: string[] = [];
  beforeAll(async () => {
    db = await createTestDatabase('app_topics', { migrate: false });
    admin = await createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger).admin();
  });
  afterAll(async () => {
    await admin?.deleteTopics(created).catch(() => undefined);
    await admin?.close();
    await db?.drop();
  });

  async function start(topics: ReturnType<typeof topicsEnv>, partitions: number) {
    created.push(...Object.values(topics));
    const env = { ...process.env, ...topics, PARTITIONS: String(partitions), DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(',') };
    const services = await connectServices(loadConfig(env), silentLogger, { poolMax: 1 });
    await services.close();
  }

  const partitionsOf = async (env: ReturnType<typeof topicsEnv>) => Object.fromEntries(await Promise.all(Object.entries(env).map(async ([setting, topic]) => [setting, await admin.partitionCount(topic)])));

  it('are the orders, inventory, DLQ, command and outcome topics, each keyed one with PARTITIONS partitions', async () => {
    const env = topicsEnv();
    await start(env, 3);
    expect(await partitionsOf(env)).toEqual({
      ORDERS_TOPIC: 3,
      INVENTORY_TOPIC: 3,
      DLQ_TOPIC: 1,
      RESTOCK_COMMANDS_TOPIC: 3,
      CANCEL_COMMANDS_TOPIC: 3,
      ORDERS_CONFIRMED_TOPIC: 3,
      ORDERS_REJECTED_TOPIC: 3,
      ORDERS_CANCELLED_TOPIC: 3,
      INVENTORY_RESTOCKED_TOPIC: 3,
    });
  });

  it('an orders topic that exists keeps its partition count, and the topics keyed like it get the same', async () => {
    const env = topicsEnv();
    created.push(env.ORDERS_TOPIC);
    await admin.createTopics([{ topic: env.ORDERS_TOPIC, partitions: 2 }]);
    await start(env, 5);
    const counts = await partitionsOf(env);
    expect(counts).toEqual({ ...Object.fromEntries(Object.keys(env).map((setting) => [setting, 2])), DLQ_TOPIC: 1 });
  });
});
