/**
 * A database error caused by one record, on the real broker and PostgreSQL: a test-only
 * topology whose store writes each record's value into a table with a CHECK. One
 * record's value violates it, so every batch holding that record fails as a whole. The runtime
 * splits the batch until that record stands alone, dead-letters it (its offset advancing with
 * the dead letter), and commits every other record; the partition never stops. An error the
 * database raises whatever the batch holds (a missing table) is waited out instead: nothing is
 * dead-lettered, and processing resumes once the table exists.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { silentLogger } from '../../../core/logger.ts';
import type { KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { DLQ_HEADERS } from '../../../sinks/dead-letter.ts';
import { TransactionalSink } from '../../../sinks/transactional-sink.ts';
import { claimPartitions, readOffsets } from '../../../state/offset-store.ts';
import { fetchUnpublished } from '../../../state/outbox-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { type TableStore, tableStore } from '../../../state/table-store.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import { StreamRuntime } from '../../../topology/runtime/stream-runtime.ts';
import type { RuntimeEvent } from '../../../topology/runtime/types.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { uniqueName, waitFor } from '../../support/kafka.ts';
import { FAST_GROUP_TIMING, type Sequenced, sequencedCodec } from '../../support/runtime.ts';

const RECORDS = 200;
const BAD_SEQ = 137;
const GROUP_PREFIX = 'isolation';

interface Reading extends Sequenced {
  value: number;
}

/** Stores each record's value under its seq in store `readings`, which the sink writes to the table. */
function readingProcessor(): Processor<Reading, never> {
  return { process: (record, context) => context.getStateStore<number, { value: number }>('readings').put(record.value.seq, { value: record.value.value }) };
}

function readingsStore(sequelize: TestDatabase['sequelize'], table: string): TableStore<number, { value: number }> {
  return tableStore(sequelize, {
    name: 'readings',
    cacheAcrossBatches: false,
    table: { table, key: { column: 'seq', type: 'integer' }, value: { value: { column: 'value', type: 'integer' } }, writes: 'upsert' },
  });
}

function readingsTopology(topic: string, readings: TableStore<number, { value: number }>) {
  return new TopologyBuilder()
    .addSource('readings-source', { topics: [topic], codec: sequencedCodec })
    .addStateStore(readings)
    .addProcessor('reading', { supplier: readingProcessor, stores: ['readings'] }, 'readings-source')
    .build();
}

describe('a record the database refuses, on the real broker and PostgreSQL', () => {
  const broker = useBroker('platformatic');
  let db: TestDatabase;
  const runtimes: StreamRuntime[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('isolation');
  });
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.stop({ timeoutMs: 10_000 });
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function startRuntime(options: { client: KafkaClient; topic: string; group: string; table: string }) {
    const readings = readingsStore(db.sequelize, options.table);
    const sink = new TransactionalSink({ sequelize: db.sequelize, group: options.group, dlqTopic: `${options.topic}.dlq`, stores: [readings], logger: silentLogger });
    const events: RuntimeEvent[] = [];
    const fatal: unknown[] = [];
    const runtime = new StreamRuntime({
      topology: readingsTopology(options.topic, readings),
      consumer: options.client.groupConsumer({ groupId: options.group, topics: [options.topic], ...FAST_GROUP_TIMING }),
      claimer: { claim: (partitions) => claimPartitions(db.sequelize, options.group, 'replica-1', partitions) },
      committer: sink,
      config: { batchMaxRecords: 500, commitIntervalMs: 100, maxInflightPerPartition: 5_000, maxInflightTotal: 50_000 },
      logger: silentLogger,
      retry: { initialDelayMs: 20, maxDelayMs: 200 },
      onError: (error) => fatal.push(error),
      commitToKafka: false,
    });
    runtime.events$.subscribe((event) => events.push(event));
    await runtime.start();
    runtimes.push(runtime);
    return { runtime, events, fatal };
  }

  async function produceReadings(producer: KafkaProducer, topic: string, readingOf: (seq: number) => number): Promise<void> {
    await producer.send(
      Array.from({ length: RECORDS }, (_, seq) => ({ topic, partition: 0, key: 'k', value: Buffer.from(JSON.stringify({ p: 0, seq, value: readingOf(seq) }), 'utf8') })),
    );
  }

  const committedOffset = async (group: string, topic: string) => (await readOffsets(db.sequelize, group, topic)).find((row) => row.partition === 0)?.nextOffset;

  it('isolates and dead-letters the one record whose value violates a CHECK, and commits the rest of its batch', async () => {
    const topic = await broker.topics.create('isolation-check', 1);
    const group = uniqueName(GROUP_PREFIX);
    const table = 'readings_checked';
    await db.sequelize.query(`CREATE TABLE ${table} (seq int PRIMARY KEY, value int NOT NULL CONSTRAINT readings_value_non_negative CHECK (value >= 0))`);
    // Produced before the runtime starts, so they arrive together: one batch holds the bad record and its neighbours.
    await produceReadings(broker.producer, topic, (seq) => (seq === BAD_SEQ ? -1 : seq));
    const { events, fatal } = await startRuntime({ client: broker.client, topic, group, table });

    await waitFor(async () => (await committedOffset(group, topic)) === BigInt(RECORDS), { timeoutMs: 60_000, message: `offset ${RECORDS} committed` });
    const stored = await selectRows<{ seq: number }>(db.sequelize, `SELECT seq FROM ${table} ORDER BY seq`);
    expect(stored.map((row) => row.seq)).toEqual(Array.from({ length: RECORDS }, (_, seq) => seq).filter((seq) => seq !== BAD_SEQ));

    const deadLetters = (await fetchUnpublished(db.sequelize, 100)).filter((row) => row.topic === `${topic}.dlq`);
    expect(deadLetters).toHaveLength(1);
    expect(deadLetters[0]!.headers).toMatchObject({ [DLQ_HEADERS.offset]: String(BAD_SEQ), [DLQ_HEADERS.node]: 'commit', [DLQ_HEADERS.partition]: '0' });
    expect(deadLetters[0]!.headers[DLQ_HEADERS.message]).toMatch(/readings_value_non_negative/);
    expect(JSON.parse(deadLetters[0]!.payload.toString('utf8'))).toMatchObject({ seq: BAD_SEQ, value: -1 });
    // The records around it committed in batches of their own, not one by one.
    const commits = events.filter((event) => event.type === 'batch-committed');
    expect(commits.length).toBeLessThan(2 * Math.ceil(Math.log2(RECORDS)) + 2);
    expect(events.some((event) => event.type === 'partition-failed' || event.type === 'fenced')).toBe(false);
    expect(fatal).toEqual([]);
  });

  it('waits out an error no record causes (a missing table) without dead-lettering anything, and resumes once it is fixed', async () => {
    const topic = await broker.topics.create('isolation-missing', 1);
    const group = uniqueName(GROUP_PREFIX);
    const table = 'readings_created_late';
    await produceReadings(broker.producer, topic, (seq) => seq);
    const { events, fatal } = await startRuntime({ client: broker.client, topic, group, table });

    await waitFor(() => events.filter((event) => event.type === 'retry' && event.operation === 'commit').length >= 3, {
      timeoutMs: 30_000,
      message: 'commits retried while the table is missing',
    });
    expect((await committedOffset(group, topic)) ?? 0n).toBe(0n);
    await db.sequelize.query(`CREATE TABLE ${table} (seq int PRIMARY KEY, value int NOT NULL)`);

    await waitFor(async () => (await committedOffset(group, topic)) === BigInt(RECORDS), { timeoutMs: 30_000, message: `offset ${RECORDS} committed` });
    const [{ count }] = (await selectRows<{ count: string }>(db.sequelize, `SELECT count(*) AS count FROM ${table}`)) as [{ count: string }];
    expect(Number(count)).toBe(RECORDS);
    expect(events.filter((event) => event.type === 'dead-letter')).toEqual([]);
    expect(fatal).toEqual([]);
  });
});
