/**
 * The broker fixture of runtime tests: Jest hooks, so it lives apart from test/support/runtime.ts,
 * which worker processes outside Jest import too.
 */
import { afterAll, afterEach, beforeAll } from '@jest/globals';
import type { KafkaClientName } from '../../core/config.ts';
import { silentLogger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../kafka/port.ts';
import { brokersFromEnv, TopicPool } from './kafka.ts';
import type { RunningRuntime } from './runtime.ts';

/** What a runtime test on the real broker works with; filled in by `useBroker`'s beforeAll. */
export interface BrokerFixture {
  client: KafkaClient;
  admin: KafkaAdmin;
  topics: TopicPool;
  producer: KafkaProducer;
  /** Runtimes a test started: stopped after each test. */
  running: RunningRuntime[];
}

/**
 * Registers the hooks of a describe block that runs runtimes on the real broker with one
 * client: connects before all tests, stops the tests' runtimes after each, deletes the topics
 * and closes the clients after all. Read the fields inside tests, once beforeAll has run.
 */
export function useBroker(clientName: KafkaClientName): BrokerFixture {
  const fixture = { running: [] as RunningRuntime[] } as BrokerFixture;
  beforeAll(async () => {
    fixture.client = createKafkaClient({ kafkaClient: clientName, kafkaBrokers: brokersFromEnv() }, silentLogger);
    fixture.admin = await fixture.client.admin();
    fixture.topics = new TopicPool(fixture.admin);
    fixture.producer = await fixture.client.producer();
  });
  afterEach(async () => {
    for (const runtime of fixture.running.splice(0)) await runtime.stop();
  });
  afterAll(async () => {
    await fixture.producer?.close();
    await fixture.topics?.cleanup();
    await fixture.admin?.close();
  });
  return fixture;
}
