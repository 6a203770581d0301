import { spawnSync } from 'node:child_process';
import { tracingChannel } from 'node:diagnostics_channel';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { connectServices } from '../../../app/bootstrap.ts';
import { loadConfig } from '../../../core/config.ts';
import { ConfigError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import { type KafkaAdmin, ReplicationFactorError } from '../../../kafka/port.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, uniqueName } from '../../support/kafka.ts';
import { orderFlowTopics } from '../../support/order-flow-topics.ts';

/** Reads what the broker did, with a client of its own (not the adapters under test). */
class BrokerView {
  readonly admin = new Admin({ clientId: 'rf-view', bootstrapBrokers: brokersFromEnv() });

  async replicationFactor(topic: string): Promise<number> {
    const metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true });
    const partitions = metadata.topics.get(topic)!.partitions;
    return partitions[0]!.replicas.length;
  }

  async defaultReplicationFactor(): Promise<number> {
    const metadata = await this.admin.metadata({ topics: [] });
    const brokerId = [...metadata.brokers.keys()][0]!;
    const [described] = await this.admin.describeConfigs({ resources: [{ resourceType: ConfigResourceTypes.BROKER, resourceName: String(brokerId), configurationKeys: ['default.replication.factor'] }] });
    return Number(described!.configs.find((entry) => entry.name === 'default.replication.factor')!.value);
  }

  async brokerCount(): Promise<number> {
    return (await this.admin.metadata({ topics: [] })).brokers.size;
  }
}

describe.each(['platformatic', 'kafkajs'] as const)('topics created through the %s admin adapter', (kafkaClient) => {
  let admin: KafkaAdmin;
  let view: BrokerView;
  const created: string[] = [];

  beforeAll(async () => {
    admin = await createKafkaClient({ kafkaClient, kafkaBrokers: brokersFromEnv() }, silentLogger).admin();
    view = new BrokerView();
  });
  afterAll(async () => {
    await admin?.deleteTopics(created).catch(() => undefined);
    await admin?.close();
    await view?.admin.close();
  });

  it("get the broker's default replication factor when none is asked for, and -1 is what is sent", async () => {
    const topic = uniqueName(`rf-default-${kafkaClient}`);
    created.push(topic);
    const sent: unknown[] = [];
    const channel = tracingChannel('plt:kafka:admin:topics');
    const onStart = (message: unknown) => {
      const context = message as { operation?: string; options?: { replicas?: number } };
      if (context.operation === 'createTopics') sent.push(context.options?.replicas);
    };
    channel.start.subscribe(onStart);
    try {
      await admin.createTopics([{ topic, partitions: 2 }]);
    } finally {
      channel.start.unsubscribe(onStart);
    }
    expect(await view.replicationFactor(topic)).toBe(await view.defaultReplicationFactor());
    // What went over the wire (visible for @platformatic/kafka through its diagnostics channel).
    if (kafkaClient === 'platformatic') expect(sent).toEqual([-1]);
  });

  it('refuse more replicas than brokers with a ReplicationFactorError naming the topic and the factor', async () => {
    const topic = uniqueName(`rf-too-many-${kafkaClient}`);
    const replicationFactor = (await view.brokerCount()) + 2;
    const error = await admin.createTopics([{ topic, partitions: 1, replicationFactor }]).then(
      () => undefined,
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(ReplicationFactorError);
    expect((error as Error).message).toContain(`cannot create topic ${topic} with replication factor ${replicationFactor}: `);
    expect(await admin.listTopics()).not.toContain(topic);
  });
});

describe('REPLICATION_FACTOR', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase('replication_factor', { migrate: false });
  });
  afterAll(async () => {
    await db?.drop();
  });

  const topicsEnv = () => ({ ORDERS_TOPIC: uniqueName('rf-orders'), INVENTORY_TOPIC: uniqueName('rf-inventory'), DLQ_TOPIC: uniqueName('rf-dlq'), ...orderFlowTopics('rf') });

  it('is the factor of every topic the app creates (orders, inventory-updated, DLQ, commands, outcomes); -1 by default', async () => {
    const env = topicsEnv();
    const config = loadConfig({ ...process.env, ...env, DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(',') });
    expect(config.replicationFactor).toBe(-1);
    const services = await connectServices(config, silentLogger, { poolMax: 1 });
    const view = new BrokerView();
    try {
      const expected = await view.defaultReplicationFactor();
      for (const topic of Object.values(env)) expect({ topic, factor: await view.replicationFactor(topic) }).toEqual({ topic, factor: expected });
    } finally {
      await services.admin.deleteTopics(Object.values(env)).catch(() => undefined);
      await services.close();
      await view.admin.close();
    }
  });

  it('asking for more replicas than brokers is a ConfigError naming the setting', async () => {
    const config = loadConfig({ ...process.env, ...topicsEnv(), DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(','), REPLICATION_FACTOR: '3' });
    const error = await connectServices(config, silentLogger, { poolMax: 1 }).then(
      async (services) => {
        await services.close();
        return undefined;
      },
      (failure: unknown) => failure,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^invalid setting REPLICATION_FACTOR \(--replication-factor\): expected -1 \(the broker's default\) or at most the number of brokers; cannot create topic .* with replication factor 3: .*, got "3"$/);
  });

  it('on the command line: one line naming the setting, exit 2', () => {
    const result = spawnSync(process.execPath, ['app/cli.ts', 'run', '--role', 'relay', '--no-status', '--replication-factor', '3'], {
      env: { ...process.env, ...topicsEnv(), DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(','), LOG_FORMAT: 'json' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: invalid setting REPLICATION_FACTOR \(--replication-factor\): .*replication factor 3/);
  });
});
