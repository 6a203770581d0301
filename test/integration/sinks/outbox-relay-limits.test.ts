/**
 * The relay drains any backlog: sends are cut under each topic's size limit (read from the broker),
 * and a row the broker can never accept is parked and shown by `topology outbox`, never blocking
 * the rows behind it.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Admin, ConfigResourceTypes } from '@platformatic/kafka';
import { QueryTypes } from 'sequelize';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer, OutgoingMessage } from '../../../kafka/port.ts';
import { OutboxRelay, type RelayOptions } from '../../../sinks/outbox-relay.ts';
import { appendOutbox, countParked, countUnpublished, type OutboxLayout, type OutboxMessage } from '../../../state/outbox-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { BatchCollector, brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('outbox relay: size limits and parked rows', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('relay_limits');
    kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    producer = await kafka.producer();
    topics = new TopicPool(admin);
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await db.sequelize.query('TRUNCATE outbox');
  });
  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  const startRelay = (options: Partial<RelayOptions> = {}) => {
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer, admin, logger: silentLogger, idlePollMs: 20, lockName: uniqueName('relay'), ...options });
    relays.push(relay);
    relay.start();
    return relay;
  };

  /** Row i carries "i:" then filler up to `bytes` payload bytes; `key` null for no key. */
  const row = (topic: string, i: number, bytes: number, key: string | null = 'k'): OutboxMessage => {
    const label = Buffer.from(`${i}:`);
    return { eventId: `${topic}:${i}`, topic, key, payload: Buffer.concat([label, Buffer.alloc(Math.max(0, bytes - label.length), 'x')]), headers: { 'event-id': `${topic}:${i}` } };
  };
  /** One row of all the messages (as a commit writes them) unless told one row per message. */
  const append = (messages: OutboxMessage[], layout?: OutboxLayout) => db.sequelize.transaction((transaction) => appendOutbox(transaction, messages, layout));
  const pending = async () => {
    const [result] = await db.sequelize.query<{ count: string }>('SELECT count(*) AS count FROM outbox WHERE published_at IS NULL AND parked_at IS NULL', { type: QueryTypes.SELECT });
    return Number(result!.count);
  };

  /** The labels (row numbers) on a one-partition topic, in offset order, once `expected` are there; and that no more are. */
  async function labelsOn(topic: string, expected: number): Promise<number[]> {
    const reader = kafka.partitionReader();
    const collector = new BatchCollector();
    await reader.start([{ topic, partition: 0, offset: 0n }], collector.onBatch);
    try {
      await waitFor(() => collector.records().length >= expected, { message: `${expected} records on ${topic}` });
    } finally {
      await reader.close();
    }
    expect(await admin.highWatermarks(topic)).toEqual(new Map([[0, BigInt(expected)]]));
    return collector.records().map((record) => Number(record.value!.subarray(0, 12).toString().split(':')[0]));
  }

  function cli(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(process.execPath, ['app/cli.ts', 'outbox', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: db.url, LOG_FORMAT: 'json' }, timeout: 60_000 }, (error, stdout, stderr) =>
        resolve({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  async function setTopicLimit(topic: string, bytes: number): Promise<void> {
    const client = new Admin({ clientId: uniqueName('alter'), bootstrapBrokers: brokersFromEnv() });
    try {
      await client.alterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [{ name: 'max.message.bytes', value: String(bytes) }] }] });
    } finally {
      await client.close();
    }
    await waitFor(async () => (await admin.maxMessageBytes(topic)) === bytes, { message: `${topic}'s new limit to show` });
  }

  it('publishes a backlog far above 1 MB (one row of 20 records of 200 KB) to a topic with default limits: every record, in order', async () => {
    const topic = await topics.create('relay-backlog', 1);
    // One transaction, so the relay meets them as one backlog (as after a relay outage).
    await append(Array.from({ length: 20 }, (_, i) => row(topic, i, 200_000)));

    const relay = startRelay();
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { timeoutMs: 60_000, message: 'the backlog to drain' });

    expect(await labelsOn(topic, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(relay.stats.batches).toBeGreaterThanOrEqual(4); // 4 MB in sends under 1 MB
    expect(relay.stats.parked).toBe(0);
  });

  it("cuts sends under a topic's own max.message.bytes, read from the broker: no send is ever refused", async () => {
    const topic = await topics.create('relay-small-limit', 1, { config: { 'max.message.bytes': '50000' } });
    await append(Array.from({ length: 20 }, (_, i) => row(topic, i, 10_000)));
    const sends: number[] = [];
    const refusals: unknown[] = [];
    const watched: KafkaProducer = {
      async send(messages: OutgoingMessage[]) {
        sends.push(messages.reduce((sum, message) => sum + message.value.length, 0));
        await producer.send(messages).catch((error: unknown) => {
          refusals.push(error);
          throw error;
        });
      },
      close: () => Promise.resolve(),
    };

    startRelay({ producer: watched });
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the rows to drain' });

    expect(refusals).toEqual([]);
    expect(Math.max(...sends)).toBeLessThanOrEqual(50_000);
    expect(sends.length).toBeGreaterThanOrEqual(5); // 200 KB in sends of at most four 10 KB rows
    expect(await labelsOn(topic, 20)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it.each<OutboxLayout>(['row-per-record', 'row-per-topic'])('parks a record above the limit on its own and publishes the records behind it; `outbox --parked` lists it and `--retry` publishes it once the limit is raised (%s)', async (layout) => {
    const topic = await topics.create('relay-park', 1, { config: { 'max.message.bytes': '20000' } });
    await append([row(topic, 0, 1000), row(topic, 1, 1000), row(topic, 2, 30_000), row(topic, 3, 1000), row(topic, 4, 1000)], layout);

    const relay = startRelay();
    await waitFor(async () => (await pending()) === 0, { message: 'every row published or parked' });
    expect(await labelsOn(topic, 4)).toEqual([0, 1, 3, 4]);
    expect(await countParked(db.sequelize)).toBe(1);
    expect(relay.stats.parked).toBe(1);

    const listed = await cli(['--parked', '--json']);
    expect(listed.code).toBe(0);
    const parked = JSON.parse(listed.stdout) as Array<{ id: string; topic: string; key: string; bytes: number; error: string; parkedAt: string }>;
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ topic, key: 'k', bytes: 30_000 });
    expect(parked[0]!.error).toMatch(/max\.message\.bytes 20000/);
    expect(Number.isNaN(Date.parse(parked[0]!.parkedAt))).toBe(false);
    const table = await cli(['--parked']);
    expect(table.stdout).toMatch(new RegExp(`^${parked[0]!.id} +${topic} `, 'm'));

    await setTopicLimit(topic, 100_000);
    const retried = await cli(['--retry', '--id', parked[0]!.id]);
    expect(retried).toMatchObject({ code: 0, stdout: `retrying 1 parked row(s): ${parked[0]!.id}\n` });
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the retried row to be published' });
    expect(await labelsOn(topic, 5)).toEqual([0, 1, 3, 4, 2]);

    expect(await cli(['--parked'])).toMatchObject({ code: 0, stdout: 'no parked outbox rows\n' });
    const again = await cli(['--retry', '--id', parked[0]!.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not parked/);
  });

  it.each<OutboxLayout>(['row-per-record', 'row-per-topic'])('parks only the culprit of a refused send: a keyless record among keyed ones on a compacted topic (%s)', async (layout) => {
    const topic = await topics.create('relay-refused', 1, { config: { 'cleanup.policy': 'compact' } });
    await append(Array.from({ length: 10 }, (_, i) => row(topic, i, 100, i === 5 ? null : `k${i}`)), layout);

    const relay = startRelay();
    await waitFor(async () => (await pending()) === 0, { message: 'every row published or parked' });

    expect(await labelsOn(topic, 9)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9]);
    const [parked] = await db.sequelize.query<{ event_id: string; park_error: string }>('SELECT event_id, park_error FROM outbox WHERE parked_at IS NOT NULL', { type: QueryTypes.SELECT });
    expect(parked).toMatchObject({ event_id: `${topic}:5` });
    expect(parked!.park_error).toMatch(/INVALID_RECORD/);
    expect(relay.stats.parked).toBe(1);
  });

  it('refuses bad usage of `outbox` with exit 2 before connecting, and documents its exit codes', async () => {
    for (const args of [[], ['--parked', '--retry'], ['--retry'], ['--retry', '--id', '1', '--all'], ['--retry', '--id', 'x'], ['--retry', '--id', ''], ['--parked', '--all']]) {
      const run = await cli(args);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes: 0 done; 1 PostgreSQL unreachable/);
  });
});
