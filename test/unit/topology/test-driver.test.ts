import { afterEach, describe, expect, it } from '@jest/globals';
import { type Topology, TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import { TopologyTestDriver, type TopologyTestDriverOptions } from '../../../topology/testing/test-driver.ts';
import type { Codec } from '../../../core/codec.ts';
import type { TableStoreSpec } from '../../../core/store-table.ts';
import { MemoryStore } from '../../../topology/testing/memory-store.ts';
import {
  counterProcessor,
  jsonCodec,
  memoryStoreSpec,
  splitWordsProcessor,
  throwOnBoomProcessor,
  upperCaseProcessor,
  type Word,
  wordCountProcessor,
  wordCountTopology,
} from './fixtures.ts';

function upperTopology(): Topology {
  return new TopologyBuilder()
    .addSource('words-source', { topics: ['words'], codec: jsonCodec })
    .addProcessor('upper', { supplier: upperCaseProcessor }, 'words-source')
    .addSink('upper-sink', { topic: 'upper', codec: jsonCodec }, 'upper')
    .build();
}

function counterTopology(): Topology {
  return new TopologyBuilder()
    .addStateStore(memoryStoreSpec('counts'))
    .addSource('words-source', { topics: ['words'], codec: jsonCodec })
    .addProcessor('guard', { supplier: throwOnBoomProcessor, stores: ['counts'] }, 'words-source')
    .addProcessor('counter', { supplier: counterProcessor, stores: ['counts'] }, 'guard')
    .addSink('counts-sink', { topic: 'counts', codec: jsonCodec }, 'counter')
    .build();
}

const drivers: TopologyTestDriver[] = [];
function driverFor(topology: Topology, options?: TopologyTestDriverOptions): TopologyTestDriver {
  const driver = new TopologyTestDriver(topology, options);
  drivers.push(driver);
  return driver;
}
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

describe('TopologyTestDriver', () => {
  it('runs records through the processors to the sink', async () => {
    const driver = driverFor(upperTopology());
    await driver.pipeInput('words', 'k1', { text: 'hello' });
    await driver.pipeInput('words', 'k2', { text: 'world' });
    expect(driver.readOutput('upper').map((output) => [output.key, output.value])).toEqual([
      ['k1', { text: 'HELLO' }],
      ['k2', { text: 'WORLD' }],
    ]);
    expect(driver.readOutput('upper')).toEqual([]);
  });

  it('keeps offset order within each partition and separate state per key', async () => {
    const driver = driverFor(counterTopology(), { partitions: 2, batchMaxRecords: 100 });
    const inputs: Array<[string, number]> = [
      ['a', 0],
      ['b', 1],
      ['a', 0],
      ['b', 1],
      ['a', 0],
      ['c', 1],
    ];
    for (const [key, partition] of inputs) await driver.pipeInput('words', key, { text: key }, { partition });
    await driver.flush();

    const outputs = driver.readOutput<{ key: string; count: number; offset: string }>('counts');
    const byPartition = (partition: number) => outputs.filter((output) => output.partition === partition).map((output) => output.value);
    expect(byPartition(0)).toEqual([
      { key: 'a', count: 1, offset: '0' },
      { key: 'a', count: 2, offset: '1' },
      { key: 'a', count: 3, offset: '2' },
    ]);
    expect(byPartition(1)).toEqual([
      { key: 'b', count: 1, offset: '0' },
      { key: 'b', count: 2, offset: '1' },
      { key: 'c', count: 1, offset: '2' },
    ]);
    expect([...driver.getStateStore<string, number>('counts')].filter(([key]) => !key.startsWith('seen:')).sort()).toEqual([
      ['a', 3],
      ['b', 2],
      ['c', 1],
    ]);
  });

  it('closes a micro-batch at batchMaxRecords', async () => {
    const driver = driverFor(upperTopology(), { batchMaxRecords: 3, commitIntervalMs: 60_000 });
    await driver.pipeInput('words', 'k', { text: 'a' });
    await driver.pipeInput('words', 'k', { text: 'b' });
    expect(driver.commits()).toHaveLength(0);
    expect(driver.readOutput('upper')).toHaveLength(0);

    await driver.pipeInput('words', 'k', { text: 'c' });
    expect(driver.commits().map((batch) => [batch.firstOffset, batch.lastOffset, batch.nextOffset, batch.records])).toEqual([[0n, 2n, 3n, 3]]);
    expect(driver.readOutput('upper').map((output) => output.value)).toEqual([{ text: 'A' }, { text: 'B' }, { text: 'C' }]);
    expect(driver.committedOffset('words')).toBe(3n);
  });

  it('closes a micro-batch commitIntervalMs (virtual) after its first record', async () => {
    const driver = driverFor(upperTopology(), { batchMaxRecords: 100, commitIntervalMs: 1_000 });
    await driver.pipeInput('words', 'k', { text: 'first' });
    await driver.advanceTime(600);
    await driver.pipeInput('words', 'k', { text: 'second' });
    await driver.advanceTime(399);
    expect(driver.commits()).toHaveLength(0);

    await driver.advanceTime(1);
    expect(driver.now).toBe(1_000);
    expect(driver.commits().map((batch) => batch.records)).toEqual([2]);

    await driver.pipeInput('words', 'k', { text: 'third' });
    await driver.advanceTime(999);
    expect(driver.commits()).toHaveLength(1);
    await driver.advanceTime(1);
    expect(driver.commits().map((batch) => [batch.firstOffset, batch.records])).toEqual([
      [0n, 2],
      [2n, 1],
    ]);
  });

  it('flush() closes the open batch at once', async () => {
    const driver = driverFor(upperTopology(), { batchMaxRecords: 100, commitIntervalMs: 60_000 });
    await driver.pipeInput('words', 'k', { text: 'x' });
    expect(driver.readOutput('upper')).toHaveLength(0);
    await driver.flush();
    expect(driver.readOutput('upper').map((output) => output.value)).toEqual([{ text: 'X' }]);
  });

  it('dead-letters a record whose processor throws, keeps none of its writes, and goes on', async () => {
    const driver = driverFor(counterTopology(), { batchMaxRecords: 3 });
    await driver.pipeInput('words', 'a', { text: 'ok' });
    await driver.pipeInput('words', 'b', { text: 'boom' });
    await driver.pipeInput('words', 'a', { text: 'ok' });

    expect(driver.readOutput('counts').map((output) => output.value)).toEqual([
      { key: 'a', count: 1, offset: '0' },
      { key: 'a', count: 2, offset: '2' },
    ]);
    const [deadLetter, ...rest] = driver.deadLetters();
    expect(rest).toEqual([]);
    expect(deadLetter).toMatchObject({
      topic: 'words',
      partition: 0,
      offset: 1n,
      errorClass: 'TypeError',
      message: 'cannot handle boom',
      node: 'guard',
    });
    expect(deadLetter!.key?.toString()).toBe('b');
    expect(JSON.parse(deadLetter!.value!.toString())).toEqual({ text: 'boom' });
    // guard marked "b" as seen before throwing: that write must not be committed.
    expect(driver.getStateStore('counts').has('seen:b')).toBe(false);
    expect(driver.getStateStore('counts').get('seen:a')).toBe(1);
    expect(driver.commits()[0]!.nextOffset).toBe(3n);
  });

  it('dead-letters undecodable input at the source node and goes on', async () => {
    const driver = driverFor(upperTopology());
    await driver.pipeInput('words', 'k', Buffer.from('{not json'));
    await driver.pipeInput('words', 'k', null);
    await driver.pipeInput('words', 'k', { text: 'fine' });

    expect(driver.deadLetters().map((deadLetter) => [deadLetter.offset, deadLetter.node, deadLetter.errorClass])).toEqual([
      [0n, 'words-source', 'DecodeError'],
      [1n, 'words-source', 'DecodeError'],
    ]);
    expect(driver.deadLetters()[0]!.value?.toString()).toBe('{not json');
    expect(driver.readOutput('upper').map((output) => output.value)).toEqual([{ text: 'FINE' }]);
    expect(driver.committedOffset('words')).toBe(3n);
  });

  it('shows only committed state and starts from initialState', async () => {
    const driver = driverFor(counterTopology(), { batchMaxRecords: 2, initialState: { counts: [['a', 10]] } });
    await driver.pipeInput('words', 'a', { text: 'a' });
    expect(driver.getStateStore('counts').get('a')).toBe(10);
    await driver.pipeInput('words', 'a', { text: 'a' });
    expect(driver.getStateStore('counts').get('a')).toBe(12);
  });

  it('calls processor flush at the end of each batch, before the commit', async () => {
    const summing = (): Processor<{ n: number }, { sum: number }> => {
      let sum = 0;
      return {
        process: (record) => {
          sum += record.value.n;
        },
        flush: (context) => {
          context.forward({ key: null, value: { sum } });
          sum = 0;
        },
      };
    };
    const topology = new TopologyBuilder()
      .addSource('numbers-source', { topics: ['numbers'], codec: jsonCodec })
      .addProcessor('sum', { supplier: summing }, 'numbers-source')
      .addSink('sums-sink', { topic: 'sums', codec: jsonCodec }, 'sum')
      .build();
    const driver = driverFor(topology, { batchMaxRecords: 2 });
    for (const n of [1, 2, 3, 4]) await driver.pipeInput('numbers', null, { n });
    expect(driver.readOutput('sums').map((output) => output.value)).toEqual([{ sum: 3 }, { sum: 7 }]);
  });

  it('dead-letters the record a failing flush cannot take, found by splitting the batch, and commits the rest', async () => {
    // Aggregates per batch; its flush fails whenever the batch held a "boom" (as a sum that overflows would).
    const failingFlush = (): Processor<Word, Word> => {
      let texts: string[] = [];
      return {
        init: () => {
          texts = [];
        },
        process: (record) => {
          texts.push(record.value.text);
        },
        flush: (context) => {
          if (texts.includes('boom')) throw new RangeError('aggregate overflow');
          if (texts.length > 0) context.forward({ key: null, value: { text: texts.join(',') } });
          texts = [];
        },
      };
    };
    const topology = new TopologyBuilder()
      .addSource('words-source', { topics: ['words'], codec: jsonCodec })
      .addProcessor('aggregate', { supplier: failingFlush }, 'words-source')
      .addSink('aggregate-sink', { topic: 'aggregates', codec: jsonCodec }, 'aggregate')
      .build();
    const driver = driverFor(topology, { batchMaxRecords: 4 });
    for (const text of ['a', 'b', 'boom', 'c']) await driver.pipeInput('words', 'k', { text });

    expect(driver.deadLetters().map((letter) => [letter.offset, letter.node, letter.errorClass, letter.message])).toEqual([[2n, 'aggregate', 'RangeError', 'aggregate overflow']]);
    expect(driver.readOutput<Word>('aggregates').map((output) => output.value.text)).toEqual(['a,b', 'c']);
    expect(driver.committedOffset('words')).toBe(4n);
  });

  it('checks every record key against the source keyOf: a mismatch, a missing key or a failing keyOf is a dead letter', async () => {
    const topology = new TopologyBuilder()
      .addSource('words-source', {
        topics: ['words'],
        codec: jsonCodec,
        keyOf: (value) => {
          const { text } = value as Word;
          if (text === 'throw') throw new TypeError('no key for this value');
          return text;
        },
      })
      .addProcessor('upper', { supplier: upperCaseProcessor }, 'words-source')
      .addSink('upper-sink', { topic: 'upper', codec: jsonCodec }, 'upper')
      .build();
    const driver = driverFor(topology);
    await driver.pipeInput('words', 'a', { text: 'a' });
    await driver.pipeInput('words', 'b', { text: 'a' });
    await driver.pipeInput('words', null, { text: 'a' });
    await driver.pipeInput('words', 'throw', { text: 'throw' });
    await driver.pipeInput('words', 'c', { text: 'c' });
    expect(driver.deadLetters().map((letter) => [letter.offset, letter.errorClass, letter.node])).toEqual([
      [1n, 'KeyMismatchError', 'words-source'],
      [2n, 'KeyMismatchError', 'words-source'],
      [3n, 'TypeError', 'words-source'],
    ]);
    expect(driver.deadLetters()[1]!.message).toMatch(/a record without a key disagrees with its value, which source "words-source" keys as "a"/);
    expect(driver.readOutput<Word>('upper').map((output) => output.value.text)).toEqual(['A', 'C']);
  });

  it('forwards to several named children: each gets only what is sent to it by name', async () => {
    const router = (): Processor<Word, Word> => ({
      process(record, context) {
        context.forward({ key: record.key, value: { text: record.value.text.toUpperCase() } }, 'upper-sink');
        context.forward({ key: record.key, value: { text: record.value.text.toLowerCase() } }, 'lower-sink');
        if (record.value.text.startsWith('!')) context.forward({ key: record.key, value: record.value }, 'audit-sink');
      },
    });
    const driver = driverFor(
      new TopologyBuilder()
        .addSource('words-source', { topics: ['words'], codec: jsonCodec })
        .addProcessor('router', { supplier: router }, 'words-source')
        .addSink('upper-sink', { topic: 'upper', codec: jsonCodec }, 'router')
        .addSink('lower-sink', { topic: 'lower', codec: jsonCodec }, 'router')
        .addSink('audit-sink', { topic: 'audit', codec: jsonCodec }, 'router')
        .build(),
    );
    await driver.pipeInput('words', 'k', { text: 'Hi' });
    await driver.pipeInput('words', 'k', { text: '!Alarm' });
    expect(driver.readOutput<Word>('upper').map((output) => output.value.text)).toEqual(['HI', '!ALARM']);
    expect(driver.readOutput<Word>('lower').map((output) => output.value.text)).toEqual(['hi', '!alarm']);
    expect(driver.readOutput<Word>('audit').map((output) => output.value.text)).toEqual(['!Alarm']);
  });

  it('lets processors read a read-only store, and dead-letters a record whose processor changes it, with the TypeError', async () => {
    const rates: TableStoreSpec<string, { rate: number }> = {
      name: 'rates',
      table: { table: 'rates_view', key: { column: 'code', type: 'text' }, value: { rate: { column: 'rate', type: 'integer' } }, writes: 'none' },
    };
    interface Price {
      code: string;
      amount: number;
      overwrite?: boolean;
    }
    const pricing = (): Processor<Price, { total: number }> => ({
      process(record, context) {
        const store = context.getStateStore<string, { rate: number }>('rates');
        const rate = store.get(record.value.code)?.rate ?? 0;
        if (record.value.overwrite) store.put(record.value.code, { rate: 0 });
        context.forward({ key: record.key, value: { total: rate * record.value.amount } });
      },
    });
    const topology = new TopologyBuilder()
      .addStateStore(new MemoryStore(rates))
      .addSource('prices-source', { topics: ['prices'], codec: jsonCodec })
      .addProcessor('pricing', { supplier: pricing, stores: ['rates'], prefetch: (price: Price) => ({ rates: [price.code] }) }, 'prices-source')
      .addSink('totals-sink', { topic: 'totals', codec: jsonCodec }, 'pricing')
      .build();
    const driver = driverFor(topology, { initialState: { rates: [['eur', { rate: 3 }]] } });
    await driver.pipeInput('prices', 'p1', { code: 'eur', amount: 2 });
    await driver.pipeInput('prices', 'p2', { code: 'eur', amount: 5, overwrite: true });
    await driver.pipeInput('prices', 'p3', { code: 'eur', amount: 1 });
    expect(driver.readOutput<{ total: number }>('totals').map((output) => output.value.total)).toEqual([6, 3]);
    expect(driver.deadLetters().map((letter) => [letter.offset, letter.errorClass, letter.message])).toEqual([
      [1n, 'TypeError', `store "rates" is read-only (writes: 'none'), but the batch changes key eur: its processors may only read it`],
    ]);
    expect(driver.getStateStore('rates').get('eur')).toEqual({ rate: 3 });
  });

  it('shares the rows of one table between the stores declared over it, as PostgreSQL would', async () => {
    const table = { table: 'balances', key: { column: 'id', type: 'text' }, value: { amount: { column: 'amount', type: 'integer' } }, writes: 'upsert' } as const;
    const writer: TableStoreSpec<string, { amount: number }> = { name: 'balances-written', table };
    const reader: TableStoreSpec<string, { amount: number }> = { name: 'balances-read', table: { ...table } };
    const deposit = (): Processor<{ amount: number }, never> => ({
      process(record, context) {
        const store = context.getStateStore<string, { amount: number }>('balances-written');
        store.put(record.key!, { amount: (store.get(record.key!)?.amount ?? 0) + record.value.amount });
      },
    });
    const report = (): Processor<{ id: string }, { amount: number | null }> => ({
      process(record, context) {
        context.forward({ key: record.value.id, value: { amount: context.getStateStore<string, { amount: number }>('balances-read').get(record.value.id)?.amount ?? null } });
      },
    });
    const topology = new TopologyBuilder()
      .addStateStore(new MemoryStore(writer))
      .addStateStore(new MemoryStore(reader))
      .addSource('deposits-source', { topics: ['deposits'], codec: jsonCodec })
      .addProcessor('deposit', { supplier: deposit, stores: ['balances-written'], prefetch: () => ({ 'balances-written': ['a'] }) }, 'deposits-source')
      .addSource('queries-source', { topics: ['queries'], codec: jsonCodec })
      .addProcessor('report', { supplier: report, stores: ['balances-read'], prefetch: (query: { id: string }) => ({ 'balances-read': [query.id] }) }, 'queries-source')
      .addSink('reports-sink', { topic: 'reports', codec: jsonCodec }, 'report')
      .build();
    const driver = driverFor(topology);
    await driver.pipeInput('deposits', 'a', { amount: 5 });
    await driver.pipeInput('queries', 'a', { id: 'a' });
    expect(driver.readOutput<{ amount: number | null }>('reports').map((output) => output.value.amount)).toEqual([5]);
    expect(driver.getStateStore('balances-read').get('a')).toEqual({ amount: 5 });

    const otherwise = new TopologyBuilder()
      .addStateStore(new MemoryStore(writer))
      .addStateStore(new MemoryStore<string, { amount: number }>({ name: 'balances-read', table: { ...table, value: { amount: { column: 'total', type: 'integer' } } } }))
      .addSource('deposits-source', { topics: ['deposits'], codec: jsonCodec })
      .addProcessor('deposit', { supplier: deposit, stores: ['balances-written', 'balances-read'] }, 'deposits-source')
      .build();
    expect(() => new TopologyTestDriver(otherwise)).toThrow('stores "balances-written" and "balances-read" map table "balances" differently');
  });

  describe('through a repartition topic', () => {
    const internal = 'wordcount-by-word-repartition';

    it('re-keys records into the internal topic and runs them through the next sub-topology, one partition per key', async () => {
      const driver = driverFor(wordCountTopology(), { partitions: 3 });
      await driver.pipeInput('lines', 'line-1', { line: 'to be or not to be' }, { partition: 0 });
      await driver.pipeInput('lines', 'line-2', { line: 'be quick' }, { partition: 1 });

      const counts = driver.readOutput<{ word: string; count: number }>('word-counts');
      const countsOf = (word: string) => counts.filter((output) => output.value.word === word);
      expect(countsOf('be').map((output) => output.value.count)).toEqual([1, 2, 3]);
      expect(countsOf('to').map((output) => output.value.count)).toEqual([1, 2]);
      // Re-keyed: the count of a word is keyed by the word and stays in the one partition its key hashes to.
      for (const word of ['to', 'be', 'or', 'not', 'quick']) {
        expect(new Set(countsOf(word).map((output) => `${output.key}@${output.partition}`)).size).toBe(1);
        expect(countsOf(word)[0]!.key).toBe(word);
      }
      expect(new Set(counts.map((output) => output.partition)).size).toBeGreaterThan(1);
      expect([...driver.getStateStore<string, number>('word-counts')].sort()).toEqual([
        ['be', 3],
        ['not', 1],
        ['or', 1],
        ['quick', 1],
        ['to', 2],
      ]);

      // The upstream commit carried the re-keyed records, each with an event id naming its origin.
      const upstream = driver.commits().find((batch) => batch.topic === 'lines' && batch.partition === 0)!;
      expect(upstream.outputs.map((output) => [output.topic, output.key, output.headers['event-id']])).toEqual([
        [internal, 'to', 'by-word:lines:0:e1:0:0'],
        [internal, 'be', 'by-word:lines:0:e1:0:1'],
        [internal, 'or', 'by-word:lines:0:e1:0:2'],
        [internal, 'not', 'by-word:lines:0:e1:0:3'],
        [internal, 'to', 'by-word:lines:0:e1:0:4'],
        [internal, 'be', 'by-word:lines:0:e1:0:5'],
      ]);
      // The downstream sub-topology committed offsets of its own, per internal-topic partition.
      const downstreamRecords = [0, 1, 2].reduce((sum, partition) => sum + Number(driver.committedOffset(internal, partition) ?? 0n), 0);
      expect(downstreamRecords).toBe(8);
      expect(() => driver.readOutput(internal)).toThrow(/internal: its records go on to "by-word-repartition-source"/);
    });

    it('takes records from a second writer keyed and named like the first, and skips copies per upstream partition', async () => {
      const topology = new TopologyBuilder({ applicationId: 'wordcount' })
        .addStateStore(memoryStoreSpec('word-counts'))
        .addSource('lines-source', { topics: ['lines'], codec: jsonCodec })
        .addProcessor('split-words', { supplier: splitWordsProcessor }, 'lines-source')
        .addRepartition('by-word', { keyOf: (word: Word) => word.text, codec: jsonCodec as Codec<Word> }, 'split-words')
        .addSource('titles-source', { topics: ['titles'], codec: jsonCodec })
        .addProcessor('split-titles', { supplier: splitWordsProcessor }, 'titles-source')
        .addSink('titles-into-by-word', { repartition: 'by-word' }, 'split-titles')
        .addProcessor('count-words', { supplier: wordCountProcessor, stores: ['word-counts'] }, 'by-word-repartition-source')
        .addSink('counts-sink', { topic: 'word-counts', codec: jsonCodec }, 'count-words')
        .build();
      const driver = driverFor(topology);
      const countsOf = () => driver.readOutput<{ word: string; count: number }>('word-counts').map((output) => `${output.key}=${output.value.count}`);
      for (const line of ['a b', 'c', 'd']) await driver.pipeInput('lines', `line-${line}`, { line });
      expect(countsOf()).toEqual(['a=1', 'b=1', 'c=1', 'd=1']);

      // The second writer's record comes after the first's from offset 2: each upstream partition has its own watermark.
      await driver.pipeInput('titles', 'title-1', { line: 'a' });
      expect(countsOf()).toEqual(['a=2']);
      const titles = driver.commits().find((batch) => batch.topic === 'titles')!;
      expect(titles.outputs.map((output) => [output.sink, output.topic, output.key, output.headers['event-id']])).toEqual([['titles-into-by-word', internal, 'a', 'by-word:titles:0:e1:0:0']]);
      expect(driver.commits().at(-1)!.originWatermarks).toEqual({ 'lines:0': 'e1:2:0:0', 'titles:0': 'e1:0:0:0' });

      // A copy of it (a relay's re-send) is skipped; the next position of that partition is not.
      await driver.pipeInput(internal, 'a', { text: 'a' }, { headers: { 'event-id': 'by-word:titles:0:e1:0:0' } });
      expect(countsOf()).toEqual([]);
      await driver.pipeInput(internal, 'a', { text: 'a' }, { headers: { 'event-id': 'by-word:titles:0:e1:1:0' } });
      expect(countsOf()).toEqual(['a=3']);
    });

    it('gives the internal topic the repartition\'s own partition count, and flush() drives batches downstream too', async () => {
      const driver = driverFor(wordCountTopology({ partitions: 2 }), { batchMaxRecords: 100 });
      await driver.pipeInput('lines', null, { line: 'a b c d e f a' });
      expect(driver.readOutput('word-counts')).toEqual([]);
      await driver.flush();

      const counts = driver.readOutput<{ word: string; count: number }>('word-counts');
      expect(counts.map((output) => `${output.value.word}=${output.value.count}`).sort()).toEqual(['a=1', 'a=2', 'b=1', 'c=1', 'd=1', 'e=1', 'f=1']);
      expect(new Set(counts.map((output) => output.partition))).toEqual(new Set([0, 1]));
      expect(driver.committedOffset(internal, 0)! + driver.committedOffset(internal, 1)!).toBe(7n);
    });
  });
  describe('round a loop of repartitions', () => {
    interface Step {
      chain: string;
      n: number;
    }
    const countdownTopic = 'app-countdown-repartition';
    /** Counts `n` down to 0 through its own repartition, one step per record, each step visited once (store "visits"). */
    const countDown = ({ endless = false } = {}) => (): Processor<Step, Step> => ({
      process(record, context) {
        const visits = context.getStateStore<string, number>('visits');
        const { chain, n } = record.value;
        visits.put(`${chain}:${n}`, (visits.get(`${chain}:${n}`) ?? 0) + 1);
        context.forward({ key: chain, value: { chain, n }, headers: { 'event-id': `step:${chain}:${n}` } }, 'steps-sink');
        if (n > 0 || endless) context.forward({ key: chain, value: { chain, n: endless ? n : n - 1 } }, 'count-down-again');
      },
    });
    const countdownTopology = (options: { endless?: boolean } = {}) =>
      new TopologyBuilder({ applicationId: 'app' })
        .addStateStore(memoryStoreSpec('visits'))
        .addSource('starts-source', { topics: ['starts'], codec: jsonCodec })
        .addRepartition('countdown', { keyOf: (step: Step) => step.chain, codec: jsonCodec as Codec<Step> }, 'starts-source')
        .addProcessor('count-down', { supplier: countDown(options), stores: ['visits'] }, 'countdown-repartition-source')
        .addSink('count-down-again', { repartition: 'countdown' }, 'count-down')
        .addSink('steps-sink', { topic: 'steps', codec: jsonCodec }, 'count-down')
        .build();
    const stepsOf = (driver: TopologyTestDriver, chain: string) =>
      driver
        .readOutput<Step>('steps')
        .filter((output) => output.value.chain === chain)
        .map((output) => output.value.n);

    it('routes a sub-topology\'s output back into it until nothing is left, before pipeInput resolves', async () => {
      const driver = driverFor(countdownTopology(), { partitions: 2 });
      await driver.pipeInput('starts', 'a', { chain: 'a', n: 30 });
      expect(stepsOf(driver, 'a')).toEqual(Array.from({ length: 31 }, (_, i) => 30 - i));
      await driver.pipeInput('starts', 'b', { chain: 'b', n: 3 });
      expect(stepsOf(driver, 'b')).toEqual([3, 2, 1, 0]);
      const visits = driver.getStateStore<string, number>('visits');
      expect(visits.size).toBe(35);
      expect([...visits.values()].every((count) => count === 1)).toBe(true);
      // The task reading the internal topic is its own upstream: its watermark names its own topic-partition.
      const last = driver.commits().at(-1)!;
      expect(last.topic).toBe(countdownTopic);
      expect(Object.keys(last.originWatermarks ?? {})).toContain(`${countdownTopic}:${last.partition}`);
    });

    it('flush() goes round the loop too when batches close only on flush', async () => {
      const driver = driverFor(countdownTopology(), { batchMaxRecords: 100, commitIntervalMs: 60_000 });
      await driver.pipeInput('starts', 'a', { chain: 'a', n: 12 });
      expect(stepsOf(driver, 'a')).toEqual([]);
      await driver.flush();
      expect(stepsOf(driver, 'a')).toEqual(Array.from({ length: 13 }, (_, i) => 12 - i));
      expect(driver.committedOffset(countdownTopic)).toBe(13n);
    });

    it('fails the call with a clear error, instead of hanging, when the loop never ends', async () => {
      const driver = driverFor(countdownTopology({ endless: true }), { maxRoutingRounds: 50 });
      const piped = driver.pipeInput('starts', 'a', { chain: 'a', n: 1 });
      await expect(piped).rejects.toMatchObject({ code: 'TOPOLOGY_INVALID', context: { rounds: 50, topics: [countdownTopic] } });
      await expect(piped).rejects.toThrow(`repartition outputs still coming after 50 rounds of routing (to ${countdownTopic}): a loop of repartitions that never ends?`);
      expect(driver.getStateStore('visits').get('a:1')).toBe(50);
    });

    it('counts the rounds of one flush() together, however many times it closes batches', async () => {
      const driver = driverFor(countdownTopology({ endless: true }), { batchMaxRecords: 100, commitIntervalMs: 60_000, maxRoutingRounds: 20 });
      await driver.pipeInput('starts', 'a', { chain: 'a', n: 1 });
      await expect(driver.flush()).rejects.toThrow(/after 20 rounds of routing/);
    });

    it('gives up after 10,000 rounds by default', async () => {
      const driver = driverFor(countdownTopology({ endless: true }));
      await expect(driver.pipeInput('starts', 'a', { chain: 'a', n: 1 })).rejects.toThrow(/after 10000 rounds of routing/);
      expect(driver.getStateStore('visits').get('a:1')).toBe(10_000);
    }, 60_000);
  });
});
