/**
 * The catch-up bench's end condition on the real broker and PostgreSQL: the order flow is caught
 * up only when no order is pending or reserving AND every sub-topology's stored offsets reached
 * its topics' high watermarks, the internal repartition topics included.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { orderFlowProgress, orderOutcome } from '../../../bench/support/order-flow-progress.ts';
import { type AppConfig, loadConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { insertOrders } from '../../../state/commerce/order-store.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { rewriteOffsets } from '../../../state/offset-store.ts';
import { execute } from '../../../state/sql.ts';
import { repartitionTopicName } from '../../../topology/builder.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, TopicPool, uniqueName } from '../../support/kafka.ts';

const ORDER_ID = '019ad8f2-61c4-7b3e-9a0d-5c2f8e4b1a77';

describe('the order flow caught up (bench)', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;
  let config: AppConfig;
  const internalTopics: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('flow_progress');
    kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    producer = await kafka.producer();
    topics = new TopicPool(admin);
    const group = uniqueName('flow-progress-group');
    config = {
      ...loadConfig({ ...process.env }),
      consumerGroup: group,
      ordersTopic: await topics.create('flow-progress-orders', 1),
      restockCommandsTopic: await topics.create('flow-progress-restocks', 1),
      cancelCommandsTopic: await topics.create('flow-progress-cancels', 1),
      dlqTopic: await topics.create('flow-progress-dlq', 1),
    };
    for (const repartition of ['product-commands', 'line-results']) {
      const topic = repartitionTopicName(group, repartition);
      internalTopics.push(topic);
      await admin.createTopics([{ topic, partitions: 1 }]);
    }
    await seed(db.sequelize, { products: 3, stock: 10 });
  });
  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    if (internalTopics.length > 0) await admin?.deleteTopics(internalTopics);
    await admin?.close();
    await db?.drop();
  });

  const produceTo = (topic: string) => producer.send([{ topic, key: '1', value: Buffer.from('{}') }]);
  const consumeAll = async (topic: string) => {
    const ends = await admin.highWatermarks(topic);
    await rewriteOffsets(db.sequelize, config.consumerGroup, [...ends].map(([partition, nextOffset]) => ({ topic, partition, nextOffset })));
  };
  const setStatus = (status: string) => execute(db.sequelize, 'UPDATE orders SET status = $status WHERE id = $id', { status, id: ORDER_ID });

  it('waits for every order to be decided and every topic the topology reads to be consumed', async () => {
    const progress = orderFlowProgress({ sequelize: db.sequelize, admin, config });
    expect(progress.subtopologies.flatMap((subtopology) => subtopology.topics)).toEqual(
      expect.arrayContaining([config.ordersTopic, repartitionTopicName(config.consumerGroup, 'product-commands'), repartitionTopicName(config.consumerGroup, 'line-results')]),
    );
    await insertOrders(db.sequelize, [{ orderId: ORDER_ID, customerId: 'c', lines: [{ productId: 1, quantity: 1 }, { productId: 2, quantity: 1 }], sourceId: 'bench', sourceSeq: 1 }]);
    // Nothing on any topic, but the order is pending.
    expect(await progress.caughtUp()).toBe(false);

    await produceTo(config.ordersTopic);
    await setStatus('reserving');
    expect(await progress.caughtUp()).toBe(false);
    await consumeAll(config.ordersTopic);
    // The orders topic is consumed, the order is still reserving.
    expect(await progress.caughtUp()).toBe(false);

    await setStatus('confirmed');
    expect(await progress.caughtUp()).toBe(true);

    // A record on an internal topic (a late line result) not consumed yet: not caught up.
    await produceTo(repartitionTopicName(config.consumerGroup, 'line-results'));
    expect(await progress.lag()).toBe(1n);
    expect(await progress.caughtUp()).toBe(false);
    await consumeAll(repartitionTopicName(config.consumerGroup, 'line-results'));
    expect(await progress.caughtUp()).toBe(true);

    expect(await orderOutcome(db.sequelize)).toEqual({ pending: 0, reserving: 0, confirmed: 1, rejected: 0, cancelled: 0 });
  });
});
