/**
 * The relay's ordering promise under a failure in the middle of a drain: a failed send or mark is
 * retried before anything after it is marked, and a re-send repeats a suffix of what was sent, in
 * order. One failure is injected at the third send of a ten-send drain (the producer refuses it,
 * the broker writes it but the answer is lost, or PostgreSQL refuses its mark), with a real
 * broker and a real database around it. Each case runs with a row per record and with a row per
 * commit (a commit of four records, as the transactional sink writes them).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer, OutgoingMessage } from '../../../kafka/port.ts';
import { OutboxRelay } from '../../../sinks/outbox-relay.ts';
import { decodeFrame } from '../../../state/outbox-frame.ts';
import { appendOutbox, countUnpublished, type OutboxLayout, type OutboxMessage } from '../../../state/outbox-store.ts';
import { DEFAULT_SESSION_SETTINGS } from '../../../state/pg-session.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { BatchCollector, brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';

const KEYS = ['a', 'b', 'c', 'd'];
const VERSIONS = 10;
/** The send that fails: each send carries one version of every key (a page of KEYS.length rows). */
const FAILING_SEND = 3;

type Failure = 'refused before the broker' | 'written but unacknowledged' | 'mark refused by PostgreSQL';

interface SendCall {
  /** Event ids of the rows in this send, in order. */
  rows: string[];
  /** Event ids marked published when the send began, read on a connection of the test's own. */
  markedBefore: Set<string>;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Splits a key's versions into runs of consecutive versions: each re-send starts a new run. */
function ascendingRuns(versions: number[]): number[][] {
  const runs: number[][] = [];
  for (const version of versions) {
    const run = runs.at(-1);
    if (run !== undefined && version === run.at(-1)! + 1) run.push(version);
    else runs.push([version]);
  }
  return runs;
}

describe('outbox relay: a failure in the middle of a drain', () => {
  let db: TestDatabase;
  let observer: pg.Client;
  let kafka: KafkaClient;
  let admin: KafkaAdmin;
  let producer: KafkaProducer;
  let topics: TopicPool;
  const relays: OutboxRelay[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('relay_resend', { session: DEFAULT_SESSION_SETTINGS });
    observer = new pg.Client({ connectionString: db.url });
    await observer.connect();
    kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await kafka.admin();
    producer = await kafka.producer();
    topics = new TopicPool(admin);
  });
  afterEach(async () => {
    for (const relay of relays.splice(0)) await relay.stop();
    await db.sequelize.query('DROP TRIGGER IF EXISTS refuse_one_mark ON outbox');
    await db.sequelize.query('TRUNCATE outbox');
  });
  afterAll(async () => {
    await observer?.end();
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  const eventId = (topic: string, key: string, version: number) => `${topic}:${key}:${version}`;

  /** Event ids of the records of every row marked published. */
  async function markedRows(): Promise<Set<string>> {
    const { rows } = await observer.query<{ event_id: string; record_count: number; payload: Buffer }>('SELECT event_id, record_count, payload FROM outbox WHERE published_at IS NOT NULL');
    return new Set(rows.flatMap((row) => (row.record_count === 1 ? [row.event_id] : decodeFrame(row.payload).map((record) => record.eventId))));
  }

  /** Makes the first mark of `refusedEventId` fail in PostgreSQL; a sequence, because it counts even in a rolled-back transaction. */
  async function refuseFirstMarkOf(refusedEventId: string): Promise<void> {
    const sequence = uniqueName('mark_attempts').replaceAll('-', '_');
    await db.sequelize.query(`CREATE SEQUENCE ${sequence}`);
    await db.sequelize.query(`CREATE OR REPLACE FUNCTION refuse_one_mark() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.event_id = '${refusedEventId}' AND nextval('${sequence}') = 1 THEN RAISE EXCEPTION 'injected: mark of % refused', NEW.event_id; END IF;
        RETURN NEW;
      END $$`);
    await db.sequelize.query('CREATE TRIGGER refuse_one_mark BEFORE UPDATE OF published_at ON outbox FOR EACH ROW WHEN (NEW.published_at IS NOT NULL) EXECUTE FUNCTION refuse_one_mark()');
  }

  /** The real producer, recording every send and what was marked when it began; `failure` decides what send FAILING_SEND does. */
  function recordingProducer(topic: string, failure: Failure): { producer: KafkaProducer; calls: SendCall[] } {
    const calls: SendCall[] = [];
    const rowOf = (message: OutgoingMessage) => {
      const { key, version } = JSON.parse(message.value.toString()) as { key: string; version: number };
      return eventId(topic, key, version);
    };
    return {
      calls,
      producer: {
        async send(messages: OutgoingMessage[]) {
          calls.push({ rows: messages.map(rowOf), markedBefore: await markedRows() });
          if (calls.length === FAILING_SEND && failure === 'refused before the broker') throw new Error('injected: send refused');
          await producer.send(messages);
          if (calls.length === FAILING_SEND && failure === 'written but unacknowledged') throw new Error('injected: acknowledgement lost');
        },
        close: () => Promise.resolve(),
      },
    };
  }

  async function versionsByKey(topic: string): Promise<Map<string, number[]>> {
    const onTopic = [...(await admin.highWatermarks(topic)).values()].reduce((sum, end) => sum + end, 0n);
    const reader = kafka.partitionReader();
    const collector = new BatchCollector();
    await reader.start([0, 1, 2].map((partition) => ({ topic, partition, offset: 0n })), collector.onBatch);
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

  const failures: Failure[] = ['refused before the broker', 'written but unacknowledged', 'mark refused by PostgreSQL'];
  const layouts: OutboxLayout[] = ['row-per-record', 'row-per-topic'];
  it.each(failures.flatMap((failure) => layouts.map((layout) => [failure, layout] as const)))(
    'the third of ten sends %s (%s): nothing after it is marked before its retry, and each key gets every version in order, re-sends repeating a suffix',
    async (failure, layout) => {
      const topic = await topics.create('relay-resend', 3);
      // One transaction per version, keys in a fixed order: ids follow (version, key), as a partition's commits write them.
      for (const version of range(1, VERSIONS)) {
        const rows: OutboxMessage[] = KEYS.map((key) => ({ eventId: eventId(topic, key, version), topic, key, payload: Buffer.from(JSON.stringify({ key, version })), headers: {} }));
        await db.sequelize.transaction((transaction) => appendOutbox(transaction, rows, layout));
      }
      // A row of several records is named after its first record and how many follow it.
      const firstOfFailingSend = eventId(topic, KEYS[0]!, FAILING_SEND);
      if (failure === 'mark refused by PostgreSQL') await refuseFirstMarkOf(layout === 'row-per-record' ? firstOfFailingSend : `${firstOfFailingSend}+${KEYS.length - 1}`);
      const recording = recordingProducer(topic, failure);

      const relay = new OutboxRelay({
        sequelize: db.sequelize,
        databaseUrl: db.url,
        producer: recording.producer,
        admin,
        logger: silentLogger,
        batchSize: KEYS.length,
        idlePollMs: 10,
        lockName: uniqueName('relay-lock'),
        retry: { initialDelayMs: 10, maxDelayMs: 50 },
      });
      relays.push(relay);
      relay.start();
      await waitFor(async () => (await countUnpublished(db.sequelize)) === 0, { message: 'the outbox to drain after the failure' });
      expect(relay.stats.retries).toBe(1);

      const { calls } = recording;
      const sentBefore = (index: number) => new Set(calls.slice(0, index).flatMap((call) => call.rows));
      // The sends up to the failing one carry one version each, in order.
      expect(calls.slice(0, FAILING_SEND).map((call) => call.rows)).toEqual(range(1, FAILING_SEND).map((version) => KEYS.map((key) => eventId(topic, key, version))));
      // No send ever started with a row of its own, or of a later send, already marked.
      calls.forEach((call, index) => {
        expect([index, [...call.markedBefore].filter((row) => !sentBefore(index).has(row))]).toEqual([index, []]);
      });
      // The retry is the first send repeating a row; it begins with the failed send's rows...
      const retry = calls.findIndex((call, index) => call.rows.some((row) => sentBefore(index).has(row)));
      expect(calls[retry]!.rows).toEqual(calls[FAILING_SEND - 1]!.rows);
      // ...and what was marked by then is exactly what preceded the failed send: nothing at or after it.
      expect([...calls[retry]!.markedBefore].sort()).toEqual([...sentBefore(FAILING_SEND - 1)].sort());

      for (const [key, versions] of await versionsByKey(topic)) {
        const runs = ascendingRuns(versions);
        if (failure === 'refused before the broker') {
          // Nothing of the failed send reached the topic: every version once.
          expect({ key, runs }).toEqual({ key, runs: [range(1, VERSIONS)] });
        } else {
          // The failed send (and any sent after it before the failure was known) landed, then the retry
          // repeated from the failed send on: two runs, the second a suffix starting at the failed version.
          expect({ key, runs: runs.length, first: runs[0]![0], second: runs[1] }).toEqual({ key, runs: 2, first: 1, second: range(FAILING_SEND, VERSIONS) });
          expect(runs[0]).toEqual(range(1, runs[0]!.at(-1)!));
          expect(runs[0]!.at(-1)).toBeGreaterThanOrEqual(FAILING_SEND);
        }
      }
    },
  );
});
