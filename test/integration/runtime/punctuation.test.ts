/**
 * A wall-clock punctuator on the real broker and the real PostgreSQL: records only count into a
 * store; the punctuator, firing on the task's clock, reports the count once it has held still
 * for one interval, as an output that goes through the outbox and the relay. So its last report
 * comes from an idle task, and commits as a batch of zero records under the real offset fence.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { TableStoreSpec } from '../../../core/store-table.ts';
import { OutboxRelay } from '../../../sinks/outbox-relay.ts';
import { readOffsets } from '../../../state/offset-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { tableStore } from '../../../state/table-store.ts';
import { type ProcessorApp, startTopologyProcessor } from '../../../streams/processor.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import type { BatchCommittedEvent, RuntimeEvent } from '../../../topology/runtime/types.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { uniqueName, waitFor } from '../../support/kafka.ts';
import { readTopic } from '../../support/pipeline.ts';

interface Summary {
  seen: number;
}

const TALLIES: TableStoreSpec<string, { count: number }> = {
  name: 'tallies',
  table: { table: 'tallies', key: { column: 'name', type: 'text' }, value: { count: { column: 'count', type: 'integer' } }, partitionColumn: 'partition', writes: 'upsert' },
};

/**
 * Counts records in `seen`. Every 200 ms: notes the count in `observed` if it moved since the
 * last firing, else reports it if it differs from `reported`.
 */
const tally = (): Processor<unknown, Summary> => ({
  init(context) {
    const tallies = context.getStateStore<string, { count: number }>('tallies');
    context.schedule(200, 'wall-clock', () => {
      const seen = tallies.get('seen')?.count ?? 0;
      if (seen !== (tallies.get('observed')?.count ?? 0)) {
        tallies.put('observed', { count: seen });
        return;
      }
      if (seen === (tallies.get('reported')?.count ?? 0)) return;
      tallies.put('reported', { count: seen });
      context.forward({ key: 'summary', value: { seen }, headers: { 'event-id': `summary:${seen}` } });
    });
  },
  process(_, context) {
    const tallies = context.getStateStore<string, { count: number }>('tallies');
    tallies.put('seen', { count: (tallies.get('seen')?.count ?? 0) + 1 });
  },
});

describe('a wall-clock punctuator (real broker, real PostgreSQL)', () => {
  const broker = useBroker('platformatic');
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('punctuation');
    await db.sequelize.query('CREATE TABLE tallies (name TEXT PRIMARY KEY, count INTEGER NOT NULL, partition INTEGER)');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reports through the outbox from an idle task, in a batch of zero records that leaves the offset where it is', async () => {
    const inputTopic = await broker.topics.create('punct-in', 1);
    const summaryTopic = await broker.topics.create('punct-summary', 1);
    const dlqTopic = await broker.topics.create('punct-dlq', 1);
    const group = uniqueName('punct');
    const config = loadConfig({ DATABASE_URL: db.url, KAFKA_BROKERS: broker.client.brokers.join(','), ORDERS_TOPIC: inputTopic, DLQ_TOPIC: dlqTopic, CONSUMER_GROUP: group }, {});
    const tallies = tableStore(db.sequelize, TALLIES);
    const topology = new TopologyBuilder({ applicationId: group })
      .addStateStore(tallies)
      .addSource('in-source', { topics: [inputTopic], codec: { decode: (bytes) => bytes, encode: (value) => value as Buffer } })
      .addProcessor('tally', { supplier: tally, stores: ['tallies'] }, 'in-source')
      .addSink('summary-sink', { topic: summaryTopic, codec: { decode: (bytes) => JSON.parse(bytes!.toString('utf8')), encode: (value) => Buffer.from(JSON.stringify(value)) } }, 'tally')
      .build();
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer: broker.producer, admin: broker.admin, logger: silentLogger, lockName: `relay-${group}` });
    let processor: ProcessorApp | undefined;
    const events: RuntimeEvent[] = [];
    try {
      processor = await startTopologyProcessor(config, { sequelize: db.sequelize, kafka: broker.client, admin: broker.admin, logger: silentLogger, partitionCount: 1 }, { topology, stores: [tallies] });
      processor.runtime.events$.subscribe((event) => events.push(event));
      relay.start();

      await broker.producer.send(Array.from({ length: 10 }, (_, index) => ({ topic: inputTopic, partition: 0, key: `k${index}`, value: Buffer.from(String(index)) })));
      const summaries = async () => (await readTopic({ kafka: broker.client, admin: broker.admin }, summaryTopic)).map((record) => JSON.parse(record.value!.toString('utf8')) as Summary);
      await waitFor(async () => (await summaries()).some((summary) => summary.seen === 10), { timeoutMs: 30_000, message: 'the summary of all 10 records published' });

      const tallied = new Map((await selectRows<{ name: string; count: number }>(db.sequelize, 'SELECT name, count FROM tallies')).map((row) => [row.name, row.count]));
      expect(tallied).toEqual(new Map([['seen', 10], ['observed', 10], ['reported', 10]]));
      expect((await readOffsets(db.sequelize, group, inputTopic)).map((offset) => offset.nextOffset)).toEqual([10n]);
      const published = await summaries();
      // Each count reported once, rising to 10.
      expect(published.map((summary) => summary.seen)).toEqual([...new Set(published.map((summary) => summary.seen))].sort((a, b) => a - b));
      // The report of 10 came from a firing after the count held still: the last batch, and one of ticks alone.
      const committed = events.filter((event): event is BatchCommittedEvent => event.type === 'batch-committed');
      expect(committed.at(-1)).toMatchObject({ records: 0, outputs: 1, firstOffset: 10n, nextOffset: 10n });
    } finally {
      await processor?.stop();
      await relay.stop();
    }
  }, 90_000);
});
