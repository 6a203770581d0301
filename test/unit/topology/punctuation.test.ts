import { afterEach, describe, expect, it } from '@jest/globals';
import { VirtualTimeScheduler } from 'rxjs';
import type { Codec } from '../../../core/codec.ts';
import { StaleStateError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { type Topology, TopologyBuilder } from '../../../topology/builder.ts';
import type { Cancellable, Processor, ProcessorContext, PunctuationType } from '../../../topology/processor-api.ts';
import { PartitionTask } from '../../../topology/runtime/partition-task.ts';
import { TopologyTestDriver, type TopologyTestDriverOptions } from '../../../topology/testing/test-driver.ts';
import { memoryLogger } from '../../support/memory-logger.ts';
import { ControlledCommitter, jsonCodec, memoryStoreSpec, record, type Word, waitFor } from './fixtures.ts';

type Output = { seen: string } | { punctuated: number; count: number };

interface PunctuatingOptions {
  type: PunctuationType;
  intervalMs: number;
  /** Runs inside the punctuator, after it wrote and forwarded (throw to make it fail). */
  after?: (time: number, cancellable: Cancellable, context: ProcessorContext<Output>) => void;
}

/**
 * Counts records per key in store `counts` and forwards `{ seen }`; its punctuator stores and
 * forwards the total count it sees, so what a punctuation saw is in its output and in the store.
 */
function punctuatingProcessor(options: PunctuatingOptions): () => Processor<Word, Output> {
  return () => ({
    init(context) {
      const counts = context.getStateStore<string, number>('counts');
      const cancellable: Cancellable = context.schedule(options.intervalMs, options.type, (time) => {
        const count = counts.get('total') ?? 0;
        counts.put(`punctuated@${time}`, count);
        context.forward({ key: 'summary', value: { punctuated: time, count }, headers: { 'event-id': `summary-${time}` } });
        options.after?.(time, cancellable, context);
      });
    },
    process(input, context) {
      const counts = context.getStateStore<string, number>('counts');
      counts.put('total', (counts.get('total') ?? 0) + 1);
      context.forward({ key: input.key, value: { seen: input.value.text } });
    },
  });
}

function topologyWith(options: PunctuatingOptions): Topology {
  return new TopologyBuilder()
    .addStateStore(memoryStoreSpec('counts'))
    .addSource('words-source', { topics: ['words'], codec: jsonCodec })
    .addProcessor('summarize', { supplier: punctuatingProcessor(options), stores: ['counts'], prefetch: () => ({ counts: ['total'] }) }, 'words-source')
    .addSink('out-sink', { topic: 'out', codec: jsonCodec }, 'summarize')
    .build();
}

const drivers: TopologyTestDriver[] = [];
function driverFor(options: PunctuatingOptions, driverOptions?: TopologyTestDriverOptions): TopologyTestDriver {
  const driver = new TopologyTestDriver(topologyWith(options), driverOptions);
  drivers.push(driver);
  return driver;
}
afterEach(async () => {
  await Promise.all(drivers.splice(0).map((driver) => driver.close()));
});

const values = (driver: TopologyTestDriver) => driver.readOutput<Output>('out').map((output) => output.value);

describe('stream-time punctuation', () => {
  it('fires at the first record, then at each record that takes stream time intervalMs past its last firing, right after it', async () => {
    const driver = driverFor({ type: 'stream-time', intervalMs: 1_000 });
    for (const [text, timestamp] of [['a', 100], ['b', 600], ['c', 1_099], ['d', 1_100], ['late', 300], ['e', 2_099], ['f', 2_100]] as const) {
      await driver.pipeInput('words', 'k', { text }, { timestamp });
    }
    expect(values(driver)).toEqual([
      { seen: 'a' },
      { punctuated: 100, count: 1 },
      { seen: 'b' },
      { seen: 'c' },
      { seen: 'd' },
      { punctuated: 1_100, count: 4 },
      { seen: 'late' },
      { seen: 'e' },
      { seen: 'f' },
      { punctuated: 2_100, count: 7 },
    ]);
    // Inside the batch of the record that fired it.
    expect(driver.commits().map((batch) => [batch.firstOffset, batch.records, batch.outputs.length])).toEqual([
      [0n, 1, 2],
      [1n, 1, 1],
      [2n, 1, 1],
      [3n, 1, 2],
      [4n, 1, 1],
      [5n, 1, 1],
      [6n, 1, 2],
    ]);
    expect(driver.getStateStore('counts').get('punctuated@1100')).toBe(4);
  });

  it('does not move with virtual time, nor with a dead-lettered record', async () => {
    const driver = driverFor({ type: 'stream-time', intervalMs: 1_000 });
    await driver.pipeInput('words', 'k', { text: 'a' }, { timestamp: 0 });
    await driver.advanceTime(10_000);
    await driver.pipeInput('words', 'k', Buffer.from('not json'), { timestamp: 5_000 });
    await driver.pipeInput('words', 'k', { text: 'b' }, { timestamp: 999 });
    expect(values(driver)).toEqual([{ seen: 'a' }, { punctuated: 0, count: 1 }, { seen: 'b' }]);
    expect(driver.deadLetters().map((letter) => letter.offset)).toEqual([1n]);
  });

  it('stops when cancelled, and the cancellation holds for the processors built afresh when a batch runs again', async () => {
    const driver = driverFor({ type: 'stream-time', intervalMs: 10, after: (time, cancellable) => time >= 10 && cancellable.cancel() });
    await driver.pipeInput('words', 'a', { text: 'a' }, { timestamp: 0 });
    await driver.pipeInput('words', 'b', { text: 'b' }, { timestamp: 10 });
    // Another writer changes the total: the next commit is stale and runs on rebuilt processors.
    driver.writeStore('counts', 'total', 100);
    await driver.pipeInput('words', 'c', { text: 'c' }, { timestamp: 20 });
    await driver.pipeInput('words', 'd', { text: 'd' }, { timestamp: 30 });
    expect(values(driver)).toEqual([{ seen: 'a' }, { punctuated: 0, count: 1 }, { seen: 'b' }, { punctuated: 10, count: 2 }, { seen: 'c' }, { seen: 'd' }]);
    expect(driver.getStateStore('counts').get('total')).toBe(102);
  });

  it('is rolled back with a batch that fails and fires the same way when its parts run again', async () => {
    // The database refuses the batch that holds `bad`: it is split, and `bad` dead-lettered alone.
    const driver = driverFor(
      { type: 'stream-time', intervalMs: 15 },
      {
        batchMaxRecords: 3,
        checkCommit: (batch) => {
          if (batch.outputs.some((output) => output.value.toString().includes('"bad"'))) throw new TypeError('the database refuses bad');
        },
      },
    );
    await driver.pipeInput('words', 'k', { text: 'a' }, { timestamp: 0 });
    await driver.pipeInput('words', 'k', { text: 'bad' }, { timestamp: 10 });
    await driver.pipeInput('words', 'k', { text: 'c' }, { timestamp: 20 });
    expect(values(driver)).toEqual([{ seen: 'a' }, { punctuated: 0, count: 1 }, { seen: 'c' }, { punctuated: 20, count: 2 }]);
    expect(driver.deadLetters().map((letter) => letter.offset)).toEqual([1n]);
    expect(driver.commits().map((batch) => [batch.firstOffset, batch.records])).toEqual([
      [0n, 1],
      [1n, 1],
      [2n, 1],
    ]);
  });
});

describe('wall-clock punctuation', () => {
  it('fires on virtual time with no records, and commits its writes and outputs as batches of zero records', async () => {
    const driver = driverFor({ type: 'wall-clock', intervalMs: 1_000 });
    await driver.advanceTime(2_500);
    expect(values(driver)).toEqual([
      { punctuated: 1_000, count: 0 },
      { punctuated: 2_000, count: 0 },
    ]);
    expect(driver.commits().map((batch) => [batch.firstOffset, batch.lastOffset, batch.nextOffset, batch.expectedNextOffset, batch.records])).toEqual([
      [0n, -1n, 0n, 0n, 0],
      [0n, -1n, 0n, 0n, 0],
    ]);
    expect(driver.committedOffset('words')).toBe(0n);
    expect([...driver.getStateStore('counts')]).toEqual([
      ['punctuated@1000', 0],
      ['punctuated@2000', 0],
    ]);

    await driver.pipeInput('words', 'k', { text: 'a' });
    await driver.advanceTime(1_000);
    expect(values(driver)).toEqual([{ seen: 'a' }, { punctuated: 3_000, count: 1 }]);
    expect(driver.commits().at(-1)).toMatchObject({ firstOffset: 1n, nextOffset: 1n, expectedNextOffset: 1n, records: 0 });
  });

  it('runs in its place among the records of the open batch, and skips firings while its tick waits', async () => {
    const driver = driverFor({ type: 'wall-clock', intervalMs: 300 }, { batchMaxRecords: 100, commitIntervalMs: 500 });
    await driver.pipeInput('words', 'k', { text: 'a' });
    await driver.advanceTime(100);
    await driver.pipeInput('words', 'k', { text: 'b' });
    await driver.advanceTime(250);
    await driver.pipeInput('words', 'k', { text: 'c' });
    // The batch opened at 0 closes at 500; the tick of 600 waits in the next one until 1 100, so 900's is skipped (and
    // 1 200's: the batch of 1 100 waits for the one of 500 to commit, as virtual time moves on at once).
    await driver.advanceTime(950);
    expect(values(driver)).toEqual([{ seen: 'a' }, { seen: 'b' }, { punctuated: 300, count: 2 }, { seen: 'c' }, { punctuated: 600, count: 3 }]);
    expect(driver.commits().map((batch) => [batch.firstOffset, batch.nextOffset, batch.records, batch.outputs.length])).toEqual([
      [0n, 3n, 3, 4],
      [3n, 3n, 0, 1],
    ]);
  });

  it('stops when cancelled', async () => {
    const driver = driverFor({ type: 'wall-clock', intervalMs: 100, after: (time, cancellable) => time >= 200 && cancellable.cancel() });
    await driver.advanceTime(100);
    await driver.advanceTime(100);
    await driver.advanceTime(1_000);
    expect(values(driver)).toEqual([
      { punctuated: 100, count: 0 },
      { punctuated: 200, count: 0 },
    ]);
    expect(driver.commits()).toHaveLength(2);
  });

  it('is rolled back when its commit is found stale, and runs again on the reloaded state', async () => {
    const driver = driverFor({ type: 'wall-clock', intervalMs: 1_000 }, { initialState: { counts: [['total', 1]] } });
    await driver.pipeInput('words', 'k', { text: 'a' });
    // Another writer stores the key the punctuation will write: its first attempt, computed from
    // "absent", is stale; the rerun writes over the reloaded value.
    driver.writeStore('counts', 'punctuated@1000', 7);
    await driver.advanceTime(1_000);
    expect(values(driver)).toEqual([{ seen: 'a' }, { punctuated: 1_000, count: 2 }]);
    expect(driver.commits().at(-1)!.storeChanges.get('counts')).toEqual([{ key: 'punctuated@1000', before: 7, after: 2 }]);
    expect(driver.getStateStore('counts').get('punctuated@1000')).toBe(2);
  });

  it('keeps running when its punctuator throws: the failure is logged and what it wrote is dropped', async () => {
    const logger = memoryLogger();
    const driver = driverFor(
      {
        type: 'wall-clock',
        intervalMs: 100,
        after: (time) => {
          if (time === 200) throw new RangeError('punctuator fails at 200');
        },
      },
      { logger },
    );
    for (let step = 0; step < 3; step++) await driver.advanceTime(100);
    await driver.pipeInput('words', 'k', { text: 'a' });
    expect(values(driver)).toEqual([{ punctuated: 100, count: 0 }, { punctuated: 300, count: 0 }, { seen: 'a' }]);
    expect(driver.getStateStore('counts').has('punctuated@200')).toBe(false);
    // The failed punctuation left nothing to commit: no transaction for it.
    expect(driver.commits().map((batch) => [batch.records, batch.outputs.length])).toEqual([
      [0, 1],
      [0, 1],
      [1, 1],
    ]);
    expect(logger.lines.filter((line) => line.level === 'warn')).toEqual([
      expect.objectContaining({ message: 'punctuator failed; what it wrote is dropped', fields: expect.objectContaining({ node: 'summarize', schedule: 'summarize#0', time: 200, error: 'punctuator fails at 200' }) }),
    ]);
  });
});

describe('schedule()', () => {
  it('is refused outside init(): the record that calls it is a dead letter', async () => {
    const topology = new TopologyBuilder()
      .addSource('words-source', { topics: ['words'], codec: jsonCodec })
      .addProcessor('late', { supplier: (): Processor<Word, Word> => ({ process: (_, context) => void context.schedule(10, 'wall-clock', () => {}) }) }, 'words-source')
      .build();
    const driver = new TopologyTestDriver(topology);
    drivers.push(driver);
    await driver.pipeInput('words', 'k', { text: 'a' });
    expect(driver.deadLetters()).toEqual([expect.objectContaining({ node: 'late', errorClass: 'StreamError', message: expect.stringContaining('schedule() outside init()') })]);
  });

  it('names a punctuation forwarded to a repartition after its offset, schedule and time', async () => {
    const eventIds: string[] = [];
    const topology = new TopologyBuilder({ applicationId: 'app' })
      .addSource('words-source', { topics: ['words'], codec: jsonCodec })
      .addProcessor(
        'ticker',
        {
          supplier: (): Processor<Word, Word> => ({
            init: (context) => void context.schedule(1_000, 'wall-clock', () => context.forward({ key: null, value: { text: 'tick' } })),
            process: () => {},
          }),
        },
        'words-source',
      )
      .addRepartition('by-text', { keyOf: (word: Word) => word.text, codec: jsonCodec as Codec<Word> }, 'ticker')
      .addProcessor('collect', { supplier: (): Processor<Word, never> => ({ process: (input) => void eventIds.push(input.headers['event-id']!) }) }, 'by-text-repartition-source')
      .build();
    const driver = new TopologyTestDriver(topology);
    drivers.push(driver);
    await driver.advanceTime(2_000);
    expect(eventIds).toEqual(['by-text:words:0:0:wall-clock:ticker#0:1000:0', 'by-text:words:0:0:wall-clock:ticker#0:2000:0']);
  });
});

describe('PartitionTask punctuation', () => {
  async function taskWith(committer: ControlledCommitter, scheduler: VirtualTimeScheduler, after?: PunctuatingOptions['after']) {
    const task = await PartitionTask.create({
      topology: topologyWith({ type: 'wall-clock', intervalMs: 100, ...(after ? { after } : {}) }),
      claim: { topic: 'words', partition: 0, nextOffset: 5n, epoch: 3 },
      committer,
      batchMaxRecords: 10,
      commitIntervalMs: 10,
      scheduler,
      logger: silentLogger,
      retry: { initialDelayMs: 1 },
    });
    task.committed$.subscribe();
    return task;
  }
  const advance = (scheduler: VirtualTimeScheduler, to: number) => {
    scheduler.maxFrames = to;
    scheduler.flush();
    scheduler.frame = to;
  };
  const word = (offset: number, text: string) => record('words', 0, offset, text, { text });

  it('never runs a wall-clock punctuation while a batch is committing: it waits and commits from the offset that batch leaves', async () => {
    const committer = new ControlledCommitter();
    const scheduler = new VirtualTimeScheduler();
    const fired: number[] = [];
    const task = await taskWith(committer, scheduler, (time) => fired.push(time));

    task.push([word(5, 'a'), word(6, 'b')]);
    advance(scheduler, 10);
    await waitForCalls(committer, 1);
    advance(scheduler, 250);
    expect(fired).toEqual([]);

    committer.calls[0]!.release();
    await waitForCalls(committer, 2);
    expect(fired).toEqual([100]);
    expect(committer.calls[1]!.batch).toMatchObject({ epoch: 3, firstOffset: 7n, lastOffset: 6n, nextOffset: 7n, expectedNextOffset: 7n, records: 0, deadLetters: [] });
    committer.calls[1]!.release();
    await task.whenIdle();
    expect(task.stats(false)).toMatchObject({ committedOffset: 7n, batchesCommitted: 2, received: 2, processed: 2, inflight: 0 });
    await task.stop();
  });

  it('rolls a punctuation back with a stale commit and runs it again on the reloaded state', async () => {
    const committer = new ControlledCommitter({ autoRelease: true });
    const scheduler = new VirtualTimeScheduler();
    const fired: number[] = [];
    const task = await taskWith(committer, scheduler, (time) => fired.push(time));
    committer.failures.push(new StaleStateError('counts', ['punctuated@100'], 'changed meanwhile'));
    advance(scheduler, 110);
    await task.whenIdle();
    expect(fired).toEqual([100, 100]);
    expect(committer.committed().map((batch) => batch.storeChanges.get('counts'))).toEqual([[{ key: 'punctuated@100', before: undefined, after: 0 }]]);
    await task.stop();
  });

  it('stops its timers when it stops', async () => {
    const committer = new ControlledCommitter({ autoRelease: true });
    const scheduler = new VirtualTimeScheduler();
    const fired: number[] = [];
    const task = await taskWith(committer, scheduler, (time) => fired.push(time));
    advance(scheduler, 110);
    await task.whenIdle();
    await task.stop();
    advance(scheduler, 1_000);
    expect(fired).toEqual([100]);
    expect(scheduler.actions).toEqual([]);
  });
});

async function waitForCalls(committer: ControlledCommitter, calls: number): Promise<void> {
  await waitFor(() => committer.calls.length >= calls, `${calls} commit calls`);
}
