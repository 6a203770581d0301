/**
 * OutcomeWatch on the real broker, with both adapters: it reads from the end offsets taken when
 * it was made, so an answer produced before it starts reading is found, and one that was on
 * the topic before is not; other records, undecodable ones included, are passed over.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OutcomeWatch } from '../../../app/outcome-watch.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { encodeEvent, eventHeaders } from '../../../processors/event-json.ts';
import { inventoryRestocked, inventoryRestockedCodec } from '../../../processors/outcome-events.ts';
import { brokersFromEnv, TopicPool } from '../../support/kafka.ts';

const EARLIER = '0193a1b2-c3d4-7e5f-8a9b-000000000001';
const AWAITED = '0193a1b2-c3d4-7e5f-8a9b-000000000002';

describe.each(['platformatic', 'kafkajs'] as const)('OutcomeWatch (%s)', (kafkaClient) => {
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;

  beforeAll(async () => {
    kafka = createKafkaClient({ kafkaClient, kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    producer = await kafka.producer();
    topics = new TopicPool(admin);
  });
  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
  });

  const answer = (topic: string, restockId: string, productId: number) => {
    const event = inventoryRestocked({ restockId, productId, quantity: 5, stockAfter: 10 }, Date.now());
    return { topic, key: String(productId), value: encodeEvent(event), headers: eventHeaders(event) };
  };

  it('finds the answer produced after it was made but before it started reading, past other records', async () => {
    const topic = await topics.create('watch-found', 2);
    await producer.send([answer(topic, EARLIER, 1)]);
    const watch = await OutcomeWatch.from(admin, topic);
    // In one partition, so they come in this order: the awaited answer comes last.
    const { headers: _, ...headerless } = answer(topic, EARLIER, 2);
    await producer.send([
      { topic, partition: 0, key: '2', value: 'not json', headers: { 'event-id': `inventory-restocked:${AWAITED}` } },
      { ...headerless, partition: 0 },
      { ...answer(topic, AWAITED, 3), partition: 0 },
    ]);
    const found = await watch.find(kafka, { eventId: `inventory-restocked:${AWAITED}`, codec: inventoryRestockedCodec, timeoutMs: 60_000 });
    expect(found.event?.payload).toEqual({ restockId: AWAITED, productId: 3, quantity: 5, stockAfter: 10 });
  });

  it('does not take an answer that was on the topic before it was made', async () => {
    const topic = await topics.create('watch-earlier', 2);
    await producer.send([answer(topic, AWAITED, 1)]);
    const watch = await OutcomeWatch.from(admin, topic);
    const found = await watch.find(kafka, { eventId: `inventory-restocked:${AWAITED}`, codec: inventoryRestockedCodec, timeoutMs: 3_000 });
    expect(found).toEqual({ event: undefined, why: 'no answer within 3.0s' });
  });
});
