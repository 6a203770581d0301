/**
 * The relay never stops and never shares the outbox: a leader whose lock session is killed stops
 * publishing before the new leader starts, and a failed send is retried, never the end of the relay.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { MultipleErrors, NetworkError } from '@platformatic/kafka';
import { QueryTypes } from 'sequelize';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer, OutgoingMessage } from '../../../kafka/port.ts';
import { DeadlineProducer } from '../../../kafka/send-deadline.ts';
import { OutboxRelay, type RelayOptions } from '../../../sinks/outbox-relay.ts';
import { appendOutbox, countParked, countUnpublished, type OutboxMessage } from '../../../state/outbox-store.ts';
import { DEFAULT_SESSION_SETTINGS } from '../../../state/pg-session.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { BatchCollector, brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';

describe('outbox relay: fenced leadership and retried failures', () => {
  let db: TestDatabase;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    // The session settings the app's roles run with: no statement or idle transaction waits forever.
    db = await createTestDatabase('relay_fencing', { session: DEFAULT_SESSION_SETTINGS });
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

  const newRelay = (options: Partial<RelayOptions>) => {
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer, admin, logger: silentLogger, idlePollMs: 10, standbyPollMs: 20, ...options });
    relays.push(relay);
    relay.start();
    return relay;
  };

  const versionRows = (topic: string, keys: string[], version: number): OutboxMessage[] =>
    keys.map((key) => ({ eventId: `${topic}:${key}:${version}`, topic, key, payload: Buffer.from(JSON.stringify({ key, version })), headers: {} }));

  async function versionsByKey(topic: string, partitions: number): Promise<Map<string, number[]>> {
    const onTopic = [...(await admin.highWatermarks(topic)).values()].reduce((sum, end) => sum + end, 0n);
    const reader = kafka.partitionReader();
    const collector = new BatchCollector();
    await reader.start(Array.from({ length: partitions }, (_, partition) => ({ topic, partition, offset: 0n })), collector.onBatch);
    try {
      await waitFor(() => BigInt(collector.records().length) >= onTopic, { message: `all ${onTopic} records of ${topic}` });
    } finally {
      await reader.close();
    }
    const versions = new Map<string, number[]>();
    for (const record of collector.records()) {
      const { key, version } = JSON.parse(record.value!.toString()) as { key: string; version: number };
      versions.set(key, [...(versions.get(key) ?? []), version]);
    }
    return versions;
  }

  it("stops the old leader at once when its lock session is killed: the two relays' sends never interleave", async () => {
    const topic = await topics.create('relay-fence', 3);
    const lockName = uniqueName('relay-lock');
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    let version = 0;
    let writing = true;
    // One writer, one transaction per version: rows of a key commit in version order, as a partition's commits do.
    const writer = (async () => {
      while (writing) {
        version++;
        await db.sequelize.transaction((transaction) => appendOutbox(transaction, versionRows(topic, keys, version)));
      }
    })();

    // Small pages, so the leader is always in the middle of publishing when its session goes.
    const first = newRelay({ lockName, batchSize: 6 });
    await waitFor(() => first.stats.published > 300, { message: 'the first relay to publish' });
    const second = newRelay({ lockName, batchSize: 6 });

    const [lock] = await db.sequelize.query<{ pid: number }>(
      "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
      { type: QueryTypes.SELECT },
    );
    await db.sequelize.query('SELECT pg_terminate_backend($pid)', { bind: { pid: lock!.pid } });

    await waitFor(() => second.stats.leader && !first.stats.leader, { message: 'the second relay to take over' });
    const publishedByFirst = first.stats.published;
    await waitFor(() => second.stats.published > 300, { message: 'the second relay to publish' });
    writing = false;
    await writer;
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the outbox to drain' });

    expect(first.stats.published).toBe(publishedByFirst); // it never sent again
    expect(first.stats.leader).toBe(false);
    const versions = await versionsByKey(topic, 3);
    const all = Array.from({ length: version }, (_, i) => i + 1);
    // Every version exactly once, in order: no send of the old leader landed among the new one's.
    expect(Object.fromEntries(versions)).toEqual(Object.fromEntries(keys.map((key) => [key, all])));
  });

  it('survives its PostgreSQL backends being terminated mid-run: every row published, and a re-send only repeats what was sent, in order', async () => {
    const topic = await topics.create('relay-backends', 3);
    const keys = ['a', 'b', 'c', 'd'];
    let version = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        // A commit cut off by the termination may or may not have landed: appending is idempotent, so write the version again.
        const rows = versionRows(topic, keys, version + 1);
        await db.sequelize.transaction((transaction) => appendOutbox(transaction, rows)).then(
          () => version++,
          () => undefined,
        );
      }
    })();
    const lockName = uniqueName('relay-lock');
    const relay = newRelay({ lockName, batchSize: 8, retry: { initialDelayMs: 10, maxDelayMs: 100 } });
    for (const atLeast of [200, 600]) {
      await waitFor(() => relay.stats.published > atLeast, { message: `${atLeast} rows published` });
      await db.sequelize.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()').catch(() => undefined);
    }
    await waitFor(() => relay.stats.published > 1000, { message: 'publishing to go on after the terminations' });
    writing = false;
    await writer;
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the outbox to drain' }).catch(async (error: unknown) => {
      // What the relay and the database were doing, should this ever stall again.
      const sessions = await db.sequelize.query("SELECT pid, state, wait_event_type, wait_event, left(query, 80) AS query FROM pg_stat_activity WHERE datname = current_database()", { type: QueryTypes.SELECT });
      throw new Error(`${(error as Error).message}; relay ${JSON.stringify(relay.stats)}; sessions ${JSON.stringify(sessions)}`);
    });

    // Its lock session was among the terminated: it took the lease again (and again).
    const [lease] = await db.sequelize.query<{ token: string }>('SELECT token FROM outbox_relay_leases WHERE name = $name', { bind: { name: lockName }, type: QueryTypes.SELECT });
    expect(Number(lease!.token)).toBeGreaterThanOrEqual(2);
    const all = Array.from({ length: version }, (_, i) => i + 1);
    for (const [key, versions] of await versionsByKey(topic, 3)) {
      // Keeping each version's last copy gives every version once, in order: re-sends repeat a suffix.
      const lastCopies = versions.filter((v, index) => versions.lastIndexOf(v) === index);
      expect({ key, lastCopies }).toEqual({ key, lastCopies: all });
    }
  });

  it('survives failed sends (a programmer error, a broker that went away) by backing off and retrying: nothing exits, nothing is parked', async () => {
    const topic = await topics.create('relay-retry', 1);
    // The first send throws a TypeError, the second what @platformatic/kafka throws when it gave up
    // on a broker that went away (MultipleErrors of NetworkErrors); after that the real broker.
    const failures: Error[] = [new TypeError('send is broken'), new MultipleErrors('Producing messages failed.', [new NetworkError('Connection closed'), new NetworkError('Connection refused')])];
    const thrown: Error[] = [];
    const flaky: KafkaProducer = {
      async send(messages: OutgoingMessage[]) {
        const failure = failures.shift();
        if (failure) {
          thrown.push(failure);
          throw failure;
        }
        await producer.send(messages);
      },
      close: () => Promise.resolve(),
    };
    await db.sequelize.transaction((transaction) => appendOutbox(transaction, [1, 2, 3].flatMap((v) => versionRows(topic, ['k'], v))));

    const relay = newRelay({ producer: flaky, lockName: uniqueName('relay-lock'), retry: { initialDelayMs: 10, maxDelayMs: 50 } });
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the rows to be published after the failures' });

    expect(thrown).toHaveLength(2);
    expect(relay.stats.retries).toBe(2);
    expect(relay.stats.lastError).toBeUndefined();
    expect(await countParked(db.sequelize)).toBe(0);
    expect(Object.fromEntries(await versionsByKey(topic, 1))).toEqual({ k: [1, 2, 3] });
  });

  it('publishes through a new producer when a send never settles (a client wedged on a dead broker)', async () => {
    const topic = await topics.create('relay-stuck', 1);
    let stuckSends = 0;
    let stuckClosed = false;
    const wedged: KafkaProducer = {
      send() {
        stuckSends++;
        return new Promise<void>(() => {});
      },
      async close() {
        stuckClosed = true;
      },
    };
    const made = [wedged, producer];
    const guarded = await DeadlineProducer.create({ create: async () => made.shift()!, timeoutMs: 300, logger: silentLogger });
    await db.sequelize.transaction((transaction) => appendOutbox(transaction, [1, 2, 3].flatMap((v) => versionRows(topic, ['k'], v))));

    const relay = newRelay({ producer: guarded, lockName: uniqueName('relay-lock'), retry: { initialDelayMs: 10, maxDelayMs: 50 } });
    await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the rows published through the new producer' });

    expect(stuckSends).toBe(1);
    expect(stuckClosed).toBe(true);
    expect(guarded.replacements).toBe(1);
    expect(relay.stats.lastError).toBeUndefined();
    expect(Object.fromEntries(await versionsByKey(topic, 1))).toEqual({ k: [1, 2, 3] });
  });
});
