/**
 * Task groups on the real broker and the real PostgreSQL: two source topics of one sub-topology
 * whose processors update the same rows of one table-backed store. Their tasks of one partition
 * number share the store's cache and take turns, so with hot keys on both topics no commit finds
 * its cache stale (no reload, no rerun), and every record is applied once.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Codec } from '../../../core/codec.ts';
import { loadConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { TableStoreSpec } from '../../../core/store-table.ts';
import { selectRows } from '../../../state/sql.ts';
import { tableStore } from '../../../state/table-store.ts';
import { type ProcessorApp, startTopologyProcessor } from '../../../streams/processor.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import type { RuntimeEvent } from '../../../topology/runtime/types.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { uniqueName, waitFor } from '../../support/kafka.ts';

interface Tally {
  credits: number;
  debits: number;
}
interface Movement {
  account: string;
}

const json: Codec<Movement> = { decode: (bytes) => JSON.parse(bytes!.toString('utf8')) as Movement, encode: (value) => Buffer.from(JSON.stringify(value), 'utf8') };

/** Counts one movement of its kind on the account's row: both kinds write the same rows. */
const tallying = (kind: keyof Tally) => (): Processor<Movement, never> => ({
  process(record, context) {
    const tallies = context.getStateStore<string, Tally>('tallies');
    const tally = tallies.get(record.value.account) ?? { credits: 0, debits: 0 };
    tallies.put(record.value.account, { ...tally, [kind]: tally[kind] + 1 });
  },
});

const TALLIES: TableStoreSpec<string, Tally> = {
  name: 'tallies',
  table: {
    table: 'tallies',
    key: { column: 'account', type: 'text' },
    value: { credits: { column: 'credits', type: 'integer' }, debits: { column: 'debits', type: 'integer' } },
    partitionColumn: 'partition',
    writes: 'upsert',
  },
};

const PARTITIONS = 2;
const ACCOUNTS = ['a0', 'a1', 'a2', 'a3'];
const PER_TOPIC = 300;

describe('task groups (real broker, real PostgreSQL)', () => {
  const broker = useBroker('platformatic');
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('task-groups');
    await db.sequelize.query('CREATE TABLE tallies (account TEXT PRIMARY KEY, credits INTEGER NOT NULL, debits INTEGER NOT NULL, partition INTEGER)');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('runs two topics feeding one store on one partition without a stale-state rerun, each record applied once', async () => {
    const creditsTopic = await broker.topics.create('groups-credits', PARTITIONS);
    const debitsTopic = await broker.topics.create('groups-debits', PARTITIONS);
    const dlqTopic = await broker.topics.create('groups-dlq', 1);
    const group = uniqueName('groups');
    const config = loadConfig({ DATABASE_URL: db.url, KAFKA_BROKERS: broker.client.brokers.join(','), ORDERS_TOPIC: creditsTopic, DLQ_TOPIC: dlqTopic, CONSUMER_GROUP: group, BATCH_MAX_RECORDS: '10' }, {});
    const tallies = tableStore(db.sequelize, TALLIES);
    const prefetch = (movement: Movement) => ({ tallies: [movement.account] });
    const topology = new TopologyBuilder({ applicationId: group })
      .addStateStore(tallies)
      .addSource('credits-source', { topics: [creditsTopic], codec: json })
      .addSource('debits-source', { topics: [debitsTopic], codec: json })
      .addProcessor('credit', { supplier: tallying('credits'), stores: ['tallies'], prefetch }, 'credits-source')
      .addProcessor('debit', { supplier: tallying('debits'), stores: ['tallies'], prefetch }, 'debits-source')
      .build();
    let processor: ProcessorApp | undefined;
    const events: RuntimeEvent[] = [];
    try {
      processor = await startTopologyProcessor(config, { sequelize: db.sequelize, kafka: broker.client, admin: broker.admin, logger: silentLogger, partitionCount: PARTITIONS }, { topology, stores: [tallies] });
      processor.runtime.events$.subscribe((event) => events.push(event));
      await waitFor(() => processor!.runtime.stats().partitions.length === 2 * PARTITIONS, { timeoutMs: 30_000, message: 'every partition of both topics running' });

      // Both topics in turns of small sends, on the same few accounts: the tasks of a partition
      // number are busy at the same time, on the same rows.
      const account = (n: number) => ACCOUNTS[n % ACCOUNTS.length]!;
      for (let from = 0; from < PER_TOPIC; from += 30) {
        const movements = Array.from({ length: 30 }, (_, index) => from + index);
        await broker.producer.send(
          movements.flatMap((n) => [creditsTopic, debitsTopic].map((topic) => ({ topic, partition: n % PARTITIONS, key: account(n), value: json.encode({ account: account(n) }) }))),
        );
      }
      const talliesInDatabase = async () => selectRows<{ account: string } & Tally>(db.sequelize, 'SELECT account, credits, debits FROM tallies ORDER BY account');
      const perAccount = PER_TOPIC / ACCOUNTS.length;
      await waitFor(async () => (await talliesInDatabase()).every((row) => row.credits === perAccount && row.debits === perAccount) && (await talliesInDatabase()).length === ACCOUNTS.length, {
        timeoutMs: 60_000,
        message: 'every movement counted',
      });

      expect(await talliesInDatabase()).toEqual(ACCOUNTS.map((name) => ({ account: name, credits: perAccount, debits: perAccount })));
      expect(events.filter((event) => event.type === 'retry' && event.operation === 'reload')).toEqual([]);
      // Several batches per task: the two topics' batches did alternate on the shared rows.
      const committed = events.filter((event) => event.type === 'batch-committed');
      expect(new Set(committed.map((event) => `${event.topic}[${event.partition}]`)).size).toBe(2 * PARTITIONS);
      expect(committed.length).toBeGreaterThan(4 * PARTITIONS);
    } finally {
      await processor?.stop();
    }
  });
});
