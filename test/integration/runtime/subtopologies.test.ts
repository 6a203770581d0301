/**
 * Two sub-topologies joined by a repartition topic, end to end on the real broker and the real
 * PostgreSQL: lines are split into words upstream, re-keyed by word into the internal topic
 * (outbox rows committed with the upstream batch, published by the relay), and counted per word
 * downstream, each internal-topic partition under its own fenced offset. Every word is counted
 * exactly once, also across a fence of an internal-topic partition. And a sub-topology that
 * feeds itself through its own repartition (a countdown) takes every step exactly once, the
 * copies a relay sends again skipped by the watermark its task keeps of its own partition.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Codec } from '../../../core/codec.ts';
import { loadConfig } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import type { TableStoreSpec } from '../../../core/store-table.ts';
import type { ConsumedRecord } from '../../../kafka/port.ts';
import { OutboxRelay } from '../../../sinks/outbox-relay.ts';
import { claimPartitions, readOffsets } from '../../../state/offset-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { type TableStore, tableStore } from '../../../state/table-store.ts';
import { type ProcessorApp, startTopologyProcessor } from '../../../streams/processor.ts';
import { type Topology, TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import type { RuntimeEvent } from '../../../topology/runtime/types.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { uniqueName, waitFor } from '../../support/kafka.ts';
import { readTopic } from '../../support/pipeline.ts';

interface Line {
  line: string;
}
interface Word {
  text: string;
}
interface WordCount {
  word: string;
  count: number;
}

function json<T>(): Codec<T> {
  return { decode: (bytes) => JSON.parse(bytes!.toString('utf8')) as T, encode: (value) => Buffer.from(JSON.stringify(value), 'utf8') };
}

const splitWords = (): Processor<Line, Word> => ({
  process(record, context) {
    for (const text of record.value.line.split(' ')) context.forward({ key: record.key, value: { text } });
  },
});

const countWords = (): Processor<Word, WordCount> => ({
  process(record, context) {
    const counts = context.getStateStore<string, { count: number }>('word-counts');
    const count = (counts.get(record.value.text)?.count ?? 0) + 1;
    counts.put(record.value.text, { count });
    context.forward({ key: record.value.text, value: { word: record.value.text, count }, headers: { 'event-id': `word-count:${record.value.text}:${count}` } });
  },
});

/** The word counts' store, on table word_counts (one row per word, restored by partition). */
const WORD_COUNTS: TableStoreSpec<string, { count: number }> = {
  name: 'word-counts',
  table: {
    table: 'word_counts',
    key: { column: 'word', type: 'text' },
    value: { count: { column: 'count', type: 'integer' } },
    partitionColumn: 'partition',
    writes: 'upsert',
  },
};

function wordCountTopology(counts: TableStore<string, { count: number }>, options: { applicationId: string; linesTopic: string; countsTopic: string }): Topology {
  return new TopologyBuilder({ applicationId: options.applicationId })
    .addStateStore(counts)
    .addSource('lines-source', { topics: [options.linesTopic], codec: json<Line>() })
    .addProcessor('split-words', { supplier: splitWords }, 'lines-source')
    .addRepartition('by-word', { keyOf: (word: Word) => word.text, codec: json<Word>() }, 'split-words')
    .addProcessor('count-words', { supplier: countWords, stores: ['word-counts'], prefetch: (word: Word) => ({ 'word-counts': [word.text] }) }, 'by-word-repartition-source')
    .addSink('counts-sink', { topic: options.countsTopic, codec: json<WordCount>() }, 'count-words')
    .build();
}

interface Step {
  chain: string;
  n: number;
}

/** A step of a countdown: marks `<chain>:<n>` visited, and sends n - 1 round its own repartition until 0. */
const countDown = (): Processor<Step, Step> => ({
  process(record, context) {
    const visits = context.getStateStore<string, { visits: number }>('countdown-visits');
    const { chain, n } = record.value;
    visits.put(`${chain}:${n}`, { visits: (visits.get(`${chain}:${n}`)?.visits ?? 0) + 1 });
    if (n > 0) context.forward({ key: chain, value: { chain, n: n - 1 } });
  },
});

const COUNTDOWN_VISITS: TableStoreSpec<string, { visits: number }> = {
  name: 'countdown-visits',
  table: {
    table: 'countdown_visits',
    key: { column: 'step', type: 'text' },
    value: { visits: { column: 'visits', type: 'integer' } },
    partitionColumn: 'partition',
    writes: 'upsert',
  },
};

/** starts -> [countdown] -> count-down -> [countdown] -> count-down ... : the second sub-topology is its own upstream. */
function countdownTopology(visits: TableStore<string, { visits: number }>, options: { applicationId: string; startsTopic: string }): Topology {
  return new TopologyBuilder({ applicationId: options.applicationId })
    .addStateStore(visits)
    .addSource('starts-source', { topics: [options.startsTopic], codec: json<Step>() })
    .addRepartition('countdown', { keyOf: (step: Step) => step.chain, codec: json<Step>() }, 'starts-source')
    .addProcessor(
      'count-down',
      { supplier: countDown, stores: ['countdown-visits'], prefetch: (step: Step) => ({ 'countdown-visits': [`${step.chain}:${step.n}`] }) },
      'countdown-repartition-source',
    )
    .addSink('count-down-again', { repartition: 'countdown' }, 'count-down')
    .build();
}

const PARTITIONS = 3;
const WORDS = Array.from({ length: 24 }, (_, index) => `w${index}`);

/** Lines of three words each, over every line-topic partition; returns how often each word occurs. */
async function produceLines(broker: ReturnType<typeof useBroker>, topic: string, lines: number, firstLine: number): Promise<Map<string, number>> {
  const occurrences = new Map<string, number>();
  const messages = Array.from({ length: lines }, (_, index) => {
    const n = firstLine + index;
    const words = [WORDS[n % WORDS.length]!, WORDS[(n * 7 + 3) % WORDS.length]!, WORDS[(n * 5 + 1) % WORDS.length]!];
    for (const word of words) occurrences.set(word, (occurrences.get(word) ?? 0) + 1);
    return { topic, partition: n % PARTITIONS, key: `line-${n}`, value: Buffer.from(JSON.stringify({ line: words.join(' ') })) };
  });
  await broker.producer.send(messages);
  return occurrences;
}

describe('two sub-topologies joined by a repartition topic (real broker, real PostgreSQL)', () => {
  const broker = useBroker('platformatic');
  let db: TestDatabase;
  let internalTopic: string | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('subtopologies');
    await db.sequelize.query('CREATE TABLE word_counts (word TEXT PRIMARY KEY, count INTEGER NOT NULL, partition INTEGER)');
  });
  afterAll(async () => {
    if (internalTopic) await broker.admin.deleteTopics([internalTopic]).catch(() => {});
    await db?.drop();
  });

  it('re-keys records into the internal topic, counts them downstream under offsets fenced per internal partition, each once', async () => {
    const linesTopic = await broker.topics.create('subtop-lines', PARTITIONS);
    const countsTopic = await broker.topics.create('subtop-counts', PARTITIONS);
    const dlqTopic = await broker.topics.create('subtop-dlq', 1);
    const group = uniqueName('subtop');
    internalTopic = `${group}-by-word-repartition`;
    const config = loadConfig(
      { DATABASE_URL: db.url, KAFKA_BROKERS: broker.client.brokers.join(','), ORDERS_TOPIC: linesTopic, DLQ_TOPIC: dlqTopic, CONSUMER_GROUP: group, BATCH_MAX_RECORDS: '20' },
      {},
    );
    const wordCounts = tableStore(db.sequelize, WORD_COUNTS);
    const topology = wordCountTopology(wordCounts, { applicationId: group, linesTopic, countsTopic });
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer: broker.producer, admin: broker.admin, logger: silentLogger, lockName: `relay-${group}` });
    let processor: ProcessorApp | undefined;
    const events: RuntimeEvent[] = [];
    try {
      processor = await startTopologyProcessor(config, { sequelize: db.sequelize, kafka: broker.client, admin: broker.admin, logger: silentLogger, partitionCount: PARTITIONS }, { topology, stores: [wordCounts] });
      processor.runtime.events$.subscribe((event) => events.push(event));
      relay.start();
      // The internal topic was created with the lines topic's partition count.
      expect((await broker.admin.highWatermarks(internalTopic)).size).toBe(PARTITIONS);

      const expected = await produceLines(broker, linesTopic, 60, 0);
      const countsInDatabase = async () => new Map((await selectRows<{ word: string; count: number }>(db.sequelize, 'SELECT word, count FROM word_counts')).map((row) => [row.word, row.count]));
      const sameCounts = (actual: Map<string, number>, wanted: Map<string, number>) => actual.size === wanted.size && [...wanted].every(([word, count]) => actual.get(word) === count);
      await waitFor(async () => sameCounts(await countsInDatabase(), expected), { timeoutMs: 60_000, message: 'every word counted downstream' });

      // Upstream records were re-keyed by word: each word sits in one internal partition, keyed by itself.
      const internalRecords: ConsumedRecord[] = await readTopic({ kafka: broker.client, admin: broker.admin }, internalTopic);
      expect(internalRecords).toHaveLength(180);
      const partitionsOfWord = new Map<string, Set<number>>();
      for (const record of internalRecords) {
        const word = (JSON.parse(record.value!.toString('utf8')) as Word).text;
        expect(record.key?.toString('utf8')).toBe(word);
        expect(record.headers['event-id']).toMatch(new RegExp(`^by-word:${linesTopic}:\\d:e\\d+:\\d+:[0-2]$`));
        partitionsOfWord.set(word, (partitionsOfWord.get(word) ?? new Set()).add(record.partition));
      }
      expect([...partitionsOfWord.values()].every((partitions) => partitions.size === 1)).toBe(true);
      expect(new Set(internalRecords.map((record) => record.partition)).size).toBe(PARTITIONS);

      // The downstream sub-topology keeps an offset row of its own per internal partition, at the topic's end.
      const internalEnds = await broker.admin.highWatermarks(internalTopic);
      await waitFor(
        async () => {
          const offsets = await readOffsets(db.sequelize, group, internalTopic);
          return offsets.length === PARTITIONS && offsets.every((offset) => offset.nextOffset === internalEnds.get(offset.partition));
        },
        { timeoutMs: 30_000, message: 'the internal partitions\' offsets at the topic\'s end' },
      );
      expect((await readOffsets(db.sequelize, group, linesTopic)).map((offset) => offset.nextOffset)).toEqual([20n, 20n, 20n]);

      // Another owner claims internal partition 0: the running task there is fenced, claims it back, and nothing counts twice.
      const [intruder] = await claimPartitions(db.sequelize, group, 'intruder', [{ topic: internalTopic, partition: 0 }]);
      const more = await produceLines(broker, linesTopic, 60, 60);
      for (const [word, count] of more) expected.set(word, (expected.get(word) ?? 0) + count);
      await waitFor(() => events.some((event) => event.type === 'fenced' && event.topic === internalTopic && event.partition === 0), {
        timeoutMs: 30_000,
        message: 'the task of internal partition 0 fenced',
      });
      await waitFor(async () => sameCounts(await countsInDatabase(), expected), { timeoutMs: 60_000, message: 'every word of both waves counted once' });
      const reclaimed = (await readOffsets(db.sequelize, group, internalTopic)).find((offset) => offset.partition === 0)!;
      expect(reclaimed.epoch).toBeGreaterThan(BigInt(intruder!.epoch));
      expect(reclaimed.owner).toBe(processor.replicaId);
      expect(events.some((event) => event.type === 'fenced' && event.topic === linesTopic)).toBe(false);

      // The downstream output: one count per word occurrence, keyed by the word.
      const counts = await readTopic({ kafka: broker.client, admin: broker.admin }, countsTopic);
      expect(counts).toHaveLength(360);
      const highest = new Map<string, number>();
      for (const record of counts) {
        const value = JSON.parse(record.value!.toString('utf8')) as WordCount;
        expect(record.key?.toString('utf8')).toBe(value.word);
        highest.set(value.word, Math.max(highest.get(value.word) ?? 0, value.count));
      }
      expect(sameCounts(highest, expected)).toBe(true);
    } finally {
      await processor?.stop();
      await relay.stop();
    }
  }, 180_000);

  it('skips the copies of internal records a relay sends again, also after the downstream restarts', async () => {
    await db.sequelize.query('TRUNCATE word_counts');
    const linesTopic = await broker.topics.create('resend-lines', PARTITIONS);
    const countsTopic = await broker.topics.create('resend-counts', PARTITIONS);
    const dlqTopic = await broker.topics.create('resend-dlq', 1);
    const group = uniqueName('resend');
    const resendTopic = `${group}-by-word-repartition`;
    const config = loadConfig(
      { DATABASE_URL: db.url, KAFKA_BROKERS: broker.client.brokers.join(','), ORDERS_TOPIC: linesTopic, DLQ_TOPIC: dlqTopic, CONSUMER_GROUP: group, BATCH_MAX_RECORDS: '20' },
      {},
    );
    const wordCounts = tableStore(db.sequelize, WORD_COUNTS);
    const topology = wordCountTopology(wordCounts, { applicationId: group, linesTopic, countsTopic });
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer: broker.producer, admin: broker.admin, logger: silentLogger, lockName: `relay-${group}` });
    const deps = { sequelize: db.sequelize, kafka: broker.client, admin: broker.admin, logger: silentLogger, partitionCount: PARTITIONS };
    const countsInDatabase = async () => new Map((await selectRows<{ word: string; count: number }>(db.sequelize, 'SELECT word, count FROM word_counts')).map((row) => [row.word, row.count]));
    const sameCounts = (actual: Map<string, number>, wanted: Map<string, number>) => actual.size === wanted.size && [...wanted].every(([word, count]) => actual.get(word) === count);
    // What the relay does after it died between publishing and marking: the same records again, headers and all.
    const sendAgain = async (records: ConsumedRecord[]) =>
      broker.producer.send(records.map((record) => ({ topic: resendTopic, partition: record.partition, key: record.key, value: record.value!, headers: record.headers })));
    let processor = await startTopologyProcessor(config, deps, { topology, stores: [wordCounts] });
    try {
      relay.start();
      const expected = await produceLines(broker, linesTopic, 30, 0);
      await waitFor(async () => sameCounts(await countsInDatabase(), expected), { timeoutMs: 60_000, message: 'the first lines counted' });
      const published = await readTopic({ kafka: broker.client, admin: broker.admin }, resendTopic);
      expect(published).toHaveLength(90);

      // Copies, then new lines behind them: once the new ones are counted, the copies were read too.
      await sendAgain(published);
      for (const [word, count] of await produceLines(broker, linesTopic, 30, 30)) expected.set(word, (expected.get(word) ?? 0) + count);
      await waitFor(async () => sameCounts(await countsInDatabase(), expected), { timeoutMs: 60_000, message: 'the second lines counted, the copies not' });
      const skipped = () => processor.runtime.stats().partitions.reduce((sum, partition) => sum + (partition.topic === resendTopic ? partition.duplicatesIgnored : 0), 0);
      expect(skipped()).toBe(90);

      // A restarted processor reads the watermarks back from the offset rows: copies sent now are skipped as well.
      await processor.stop();
      processor = await startTopologyProcessor(config, deps, { topology, stores: [wordCounts] });
      await sendAgain(published);
      for (const [word, count] of await produceLines(broker, linesTopic, 30, 60)) expected.set(word, (expected.get(word) ?? 0) + count);
      await waitFor(async () => sameCounts(await countsInDatabase(), expected), { timeoutMs: 60_000, message: 'the third lines counted after the restart, the copies not' });
      expect(skipped()).toBe(90);
      const stored = await readOffsets(db.sequelize, group, resendTopic);
      expect(stored).toHaveLength(PARTITIONS);
    } finally {
      await processor.stop();
      await relay.stop();
      await broker.admin.deleteTopics([resendTopic]).catch(() => {});
    }
  }, 180_000);
  it('counts down through its own repartition, each step exactly once, skipping re-sent copies by its own partition\'s watermark, also after a restart', async () => {
    await db.sequelize.query('CREATE TABLE countdown_visits (step TEXT PRIMARY KEY, visits INTEGER NOT NULL, partition INTEGER)');
    const startsTopic = await broker.topics.create('countdown-starts', PARTITIONS);
    const dlqTopic = await broker.topics.create('countdown-dlq', 1);
    const group = uniqueName('countdown');
    const loopTopic = `${group}-countdown-repartition`;
    const config = loadConfig(
      { DATABASE_URL: db.url, KAFKA_BROKERS: broker.client.brokers.join(','), ORDERS_TOPIC: startsTopic, DLQ_TOPIC: dlqTopic, CONSUMER_GROUP: group, BATCH_MAX_RECORDS: '20' },
      {},
    );
    const visits = tableStore(db.sequelize, COUNTDOWN_VISITS);
    const topology = countdownTopology(visits, { applicationId: group, startsTopic });
    const relay = new OutboxRelay({ sequelize: db.sequelize, databaseUrl: db.url, producer: broker.producer, admin: broker.admin, logger: silentLogger, lockName: `relay-${group}` });
    const deps = { sequelize: db.sequelize, kafka: broker.client, admin: broker.admin, logger: silentLogger, partitionCount: PARTITIONS };
    const start = (chains: string[], n: number) =>
      broker.producer.send(chains.map((chain) => ({ topic: startsTopic, key: Buffer.from(chain), value: Buffer.from(JSON.stringify({ chain, n })) })));
    const visited = async () => selectRows<{ step: string; visits: number }>(db.sequelize, 'SELECT step, visits FROM countdown_visits ORDER BY step');
    /** Every step of every chain, visited once. */
    const expectedSteps = (chains: string[], n: number) => chains.flatMap((chain) => Array.from({ length: n + 1 }, (_, i) => `${chain}:${i}`));
    const allVisitedOnce = async (steps: string[]) => {
      const rows = await visited();
      return rows.length === steps.length && rows.every((row) => row.visits === 1) && steps.every((step) => rows.some((row) => row.step === step));
    };
    const sendAgain = async (records: ConsumedRecord[]) =>
      broker.producer.send(records.map((record) => ({ topic: loopTopic, partition: record.partition, key: record.key, value: record.value!, headers: record.headers })));
    const skipped = (app: ProcessorApp) => app.runtime.stats().partitions.reduce((sum, partition) => sum + (partition.topic === loopTopic ? partition.duplicatesIgnored : 0), 0);

    let processor = await startTopologyProcessor(config, deps, { topology, stores: [visits] });
    try {
      relay.start();
      const first = ['a', 'b', 'c', 'd', 'e', 'f'];
      await start(first, 15);
      const steps = expectedSteps(first, 15);
      await waitFor(() => allVisitedOnce(steps), { timeoutMs: 90_000, message: 'every step of the first chains taken once' });

      // Each step came back to the partition its chain hashes to, named after the step before it on that same partition.
      const published = await readTopic({ kafka: broker.client, admin: broker.admin }, loopTopic);
      expect(published).toHaveLength(steps.length);
      const fromItself = published.filter((record) => record.headers['event-id']!.startsWith(`countdown:${loopTopic}:${record.partition}:`));
      expect(fromItself).toHaveLength(steps.length - first.length);
      const watermarks = await selectRows<{ partition: number; origin_watermarks: Record<string, string> | null }>(
        db.sequelize,
        'SELECT partition, origin_watermarks FROM stream_offsets WHERE group_id = $group AND topic = $topic',
        { group, topic: loopTopic },
      );
      const looping = new Set(fromItself.map((record) => record.partition));
      for (const partition of looping) expect(Object.keys(watermarks.find((row) => row.partition === partition)!.origin_watermarks ?? {})).toContain(`${loopTopic}:${partition}`);

      // Copies of every step (a relay that died before marking), then new chains: the copies are skipped, every step still taken once.
      await sendAgain(published);
      const second = ['g', 'h', 'i'];
      await start(second, 10);
      steps.push(...expectedSteps(second, 10));
      await waitFor(() => skipped(processor) === published.length, { timeoutMs: 60_000, message: 'every copy skipped' });
      await waitFor(() => allVisitedOnce(steps), { timeoutMs: 90_000, message: 'every step of the second chains taken once, none of the first again' });

      // Restarted, the task reads its own partition's watermark back: copies sent now are skipped too.
      await processor.stop();
      processor = await startTopologyProcessor(config, deps, { topology, stores: [visits] });
      await sendAgain(published);
      await waitFor(() => skipped(processor) === published.length, { timeoutMs: 60_000, message: 'every copy skipped after the restart' });
      const third = ['j', 'k'];
      await start(third, 5);
      steps.push(...expectedSteps(third, 5));
      await waitFor(() => allVisitedOnce(steps), { timeoutMs: 90_000, message: 'every step taken once after the restart' });
    } finally {
      await processor.stop();
      await relay.stop();
      await broker.admin.deleteTopics([loopTopic]).catch(() => {});
    }
  }, 240_000);
});
