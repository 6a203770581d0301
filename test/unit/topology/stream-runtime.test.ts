import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { FencedError, ServiceUnavailableError, type StreamError } from '../../../core/errors.ts';
import { type Logger, silentLogger } from '../../../core/logger.ts';
import type { RetryPolicy } from '../../../core/retry.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import { type RuntimeDiagnostic, runtimeDiagnostics } from '../../../topology/runtime/diagnostics.ts';
import { StreamRuntime, type StreamRuntimeOptions } from '../../../topology/runtime/stream-runtime.ts';
import type { RuntimeConfig, RuntimeEvent } from '../../../topology/runtime/types.ts';
import { memoryLogger } from '../../support/memory-logger.ts';
import {
  ControlledCommitter,
  counterProcessor,
  FakeClaimer,
  FakeGroupConsumer,
  jsonCodec,
  memoryStoreSpec,
  record,
  upperCaseProcessor,
  useVirtualTime,
  type Word,
  waitFor,
  wordCountTopology,
} from './fixtures.ts';

const TOPIC = 'words';
const p0 = { topic: TOPIC, partition: 0 };
const p1 = { topic: TOPIC, partition: 1 };

function upperTopology() {
  return new TopologyBuilder()
    .addSource('words-source', { topics: [TOPIC], codec: jsonCodec })
    .addProcessor('upper', { supplier: upperCaseProcessor }, 'words-source')
    .addSink('upper-sink', { topic: 'upper', codec: jsonCodec }, 'upper')
    .build();
}

function counterTopology(store = memoryStoreSpec('counts')) {
  return new TopologyBuilder()
    .addStateStore(store)
    .addSource('words-source', { topics: [TOPIC], codec: jsonCodec })
    .addProcessor('counter', { supplier: counterProcessor, stores: ['counts'], prefetch: (value: Word) => ({ counts: [value.text] }) }, 'words-source')
    .addSink('counts-sink', { topic: 'counts', codec: jsonCodec }, 'counter')
    .build();
}

const words = (partition: number, from: number, count: number, text = 'w') =>
  Array.from({ length: count }, (_, index) => record(TOPIC, partition, from + index, text, { text }));

interface Harness {
  runtime: StreamRuntime;
  consumer: FakeGroupConsumer;
  claimer: FakeClaimer;
  committer: ControlledCommitter;
  events: RuntimeEvent[];
  fatal: StreamError[];
}

const running: Harness[] = [];

async function startRuntime(
  options: {
    config?: Partial<RuntimeConfig>;
    topology?: ReturnType<typeof upperTopology>;
    logger?: Logger;
    committer?: ControlledCommitter;
    claimer?: FakeClaimer;
    kafkaCommitIntervalMs?: number;
    retry?: Partial<RetryPolicy>;
    runtime?: Partial<StreamRuntimeOptions>;
  } = {},
): Promise<Harness> {
  const consumer = new FakeGroupConsumer();
  const claimer = options.claimer ?? new FakeClaimer();
  const committer = options.committer ?? new ControlledCommitter();
  const fatal: StreamError[] = [];
  const runtime = new StreamRuntime({
    topology: options.topology ?? upperTopology(),
    consumer,
    claimer,
    committer,
    config: { batchMaxRecords: 2, commitIntervalMs: 60_000, maxInflightPerPartition: 1_000, maxInflightTotal: 10_000, ...options.config },
    logger: options.logger ?? silentLogger,
    retry: { initialDelayMs: 1, maxDelayMs: 2, ...options.retry },
    onError: (error) => fatal.push(error),
    kafkaCommitIntervalMs: options.kafkaCommitIntervalMs ?? 20,
    ...options.runtime,
  });
  const events: RuntimeEvent[] = [];
  runtime.events$.subscribe((event) => events.push(event));
  await runtime.start();
  const harness = { runtime, consumer, claimer, committer, events, fatal };
  running.push(harness);
  return harness;
}

afterEach(async () => {
  jest.useRealTimers();
  for (const { runtime, committer } of running.splice(0)) {
    committer.autoRelease = true;
    for (const call of committer.pending()) call.release();
    await runtime.stop({ timeoutMs: 1_000 });
  }
});

describe('StreamRuntime', () => {
  it('claims partitions on assignment and resumes from the database offset', async () => {
    const { consumer, claimer, committer } = await startRuntime();
    committer.autoRelease = true;
    claimer.offsets.set('words[0]', 5n);

    expect(await consumer.assign([p0])).toEqual([{ topic: TOPIC, partition: 0, offset: 5n }]);
    consumer.deliver(TOPIC, 0, words(0, 3, 4)); // offsets 3..6: 3 and 4 are already committed
    await waitFor(() => committer.committed().length === 1, 'one commit');
    expect(committer.committed()[0]).toMatchObject({ firstOffset: 5n, lastOffset: 6n, expectedNextOffset: 5n, epoch: 1 });
    await waitFor(() => consumer.kafkaCommits.length === 1, 'informational Kafka commit');
    expect(consumer.kafkaCommits).toEqual([{ topic: TOPIC, partition: 0, offset: 7n }]);
  });

  it('publishes its events on the diagnostics channel, tagged with its id', async () => {
    const published: RuntimeDiagnostic[] = [];
    const unsubscribe = runtimeDiagnostics.subscribe((event) => published.push(event));
    try {
      const { consumer, committer } = await startRuntime({ runtime: { id: 'runtime-under-test' } });
      committer.autoRelease = true;
      await consumer.assign([p0]);
      consumer.deliver(TOPIC, 0, words(0, 0, 2)); // a full batch of two
      await waitFor(() => published.some((event) => event.type === 'batch-committed'), 'a committed batch on the channel');
      const mine = published.filter((event) => event.runtime === 'runtime-under-test').map((event) => event.type);
      expect(mine).toEqual(expect.arrayContaining(['rebalance', 'partition-assigned', 'batch-committed']));
      expect(mine.indexOf('rebalance')).toBeLessThan(mine.indexOf('batch-committed'));
    } finally {
      unsubscribe();
    }
  });

  it('tells Kafka the offsets now and then, not per batch: one commit with the latest offset of each partition', async () => {
    const { consumer, committer } = await startRuntime({ kafkaCommitIntervalMs: 200 });
    committer.autoRelease = true;
    await consumer.assign([p0, p1]);
    for (let offset = 0; offset < 10; offset += 2) {
      consumer.deliver(TOPIC, 0, words(0, offset, 2));
      consumer.deliver(TOPIC, 1, words(1, offset, 2));
    }
    await waitFor(() => committer.committed().length === 10, 'ten batch commits');
    const told = (partition: number) => consumer.kafkaCommits.some((commit) => commit.partition === partition && commit.offset === 10n);
    await waitFor(() => told(0) && told(1), 'the latest offsets told to Kafka');
    // Ten batches, yet only a commit or two per partition reached Kafka.
    expect(consumer.kafkaCommits.length).toBeLessThanOrEqual(4);
  });

  it('commits the batches of one partition one after another, in offset order', async () => {
    const elapse = useVirtualTime();
    const { consumer, committer } = await startRuntime();
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 6));

    for (let batch = 0; batch < 3; batch++) {
      await elapse(1_000);
      expect(committer.calls).toHaveLength(batch + 1); // commit n started; batch n+1 waits while batch n is unresolved
      committer.calls[batch]!.release();
    }
    await elapse(0);
    expect(committer.committed()).toHaveLength(3);
    expect(committer.calls.map((call) => call.batch.firstOffset)).toEqual([0n, 2n, 4n]);
    for (let index = 1; index < 3; index++) {
      expect(committer.calls[index]!.startedAt).toBeGreaterThan(committer.calls[index - 1]!.settledAt!);
    }
  });

  it('runs partitions in parallel: their commits overlap in time', async () => {
    const { consumer, committer } = await startRuntime();
    await consumer.assign([p0, p1]);
    consumer.deliver(TOPIC, 0, words(0, 0, 2));
    consumer.deliver(TOPIC, 1, words(1, 0, 2));

    await waitFor(() => committer.pending().length === 2, 'both partitions committing at once');
    expect(committer.pending().map((call) => call.batch.partition).sort()).toEqual([0, 1]);
  });

  it('pauses a partition above maxInflightPerPartition and resumes it below half', async () => {
    const { consumer, committer, events } = await startRuntime({ config: { maxInflightPerPartition: 4 } });
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 4));
    expect(consumer.paused.has('words[0]')).toBe(false);
    consumer.deliver(TOPIC, 0, words(0, 4, 1)); // 5 in flight
    expect(consumer.paused.has('words[0]')).toBe(true);
    expect(events).toContainEqual({ type: 'paused', topic: TOPIC, partition: 0, reason: 'partition' });

    await waitFor(() => committer.pending().length === 1, 'first commit');
    committer.pending()[0]!.release(); // 3 left in flight: not yet below half of 4
    await waitFor(() => committer.calls.length === 2, 'second commit');
    expect(consumer.paused.has('words[0]')).toBe(true);
    committer.pending()[0]!.release(); // 1 left: below half
    await waitFor(() => !consumer.paused.has('words[0]'), 'resume');
    expect(consumer.pauseCalls).toEqual([['words[0]']]);
    expect(consumer.resumeCalls).toEqual([['words[0]']]);
  });

  it('pauses every partition above maxInflightTotal and resumes them below half', async () => {
    const { runtime, consumer, committer, events } = await startRuntime({ config: { maxInflightTotal: 6 } });
    await consumer.assign([p0, p1]);
    consumer.deliver(TOPIC, 0, words(0, 0, 4));
    consumer.deliver(TOPIC, 1, words(1, 0, 3));
    expect([...consumer.paused].sort()).toEqual(['words[0]', 'words[1]']);
    expect(events.filter((event) => event.type === 'paused').map((event) => (event as { reason: string }).reason)).toEqual(['total', 'total']);
    expect(runtime.stats().inflightTotal).toBe(7);
    expect(runtime.stats().partitions.every((partition) => partition.paused)).toBe(true);

    committer.autoRelease = true;
    for (const call of committer.pending()) call.release();
    // p0 commits both its batches, p1 one: 1 record (p1's open batch) stays in flight.
    await waitFor(() => consumer.paused.size === 0, 'resume of all partitions');
    expect(runtime.stats().inflightTotal).toBe(1);
  });

  it('drops in-flight records and uncommitted store writes of a revoked partition', async () => {
    const elapse = useVirtualTime();
    const store = memoryStoreSpec('counts');
    const { consumer, committer, events, runtime } = await startRuntime({ topology: counterTopology(store) });
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 5, 'a'));
    await elapse(0);
    expect(committer.pending()).toHaveLength(1); // the first commit is held

    consumer.revoke([p0]);
    await elapse(0);
    expect(events).toContainEqual({ type: 'partition-revoked', topic: TOPIC, partition: 0, droppedRecords: 5 });
    expect(runtime.stats().partitions).toEqual([]);
    committer.pending()[0]!.release();
    await elapse(120_000); // past the commit interval (60 s), which would close the open batch
    expect(committer.calls).toHaveLength(1); // nothing after the revocation reaches the committer

    // Assigned again: the count restarts from the backend, not from the dropped batch.
    committer.autoRelease = true;
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 2, 'a'));
    await elapse(0);
    expect(committer.committed()).toHaveLength(2); // the commit after the reassignment
    expect(committer.calls[1]!.batch.storeChanges.get('counts')).toEqual([{ key: 'a', before: undefined, after: 2 }]);
    expect(committer.calls[1]!.batch.epoch).toBe(2);
  });

  it('drops a task whose partition is missing from a newly reported (eager) assignment', async () => {
    const { consumer, runtime, events, claimer } = await startRuntime();
    await consumer.assign([p0, p1]);
    await consumer.assign([p1], { replace: true });
    expect(events).toContainEqual(expect.objectContaining({ type: 'partition-revoked', partition: 0 }));
    expect(runtime.stats().partitions.map((partition) => [partition.partition, partition.epoch])).toEqual([[1, 2]]);
    expect(claimer.claims).toHaveLength(2);
    expect(runtime.stats().rebalances).toBe(2);
  });

  it('a fenced task that is still assigned waits, then claims again under a new epoch and restarts from the database offset', async () => {
    const { consumer, claimer, committer, events, runtime } = await startRuntime({ retry: { initialDelayMs: 50, maxDelayMs: 50, jitter: 0 }, runtime: { fencedReclaimDelayMs: 0 } });
    committer.failures.push(new FencedError(TOPIC, 0, 'epoch moved on'));
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 3));

    await waitFor(() => events.some((event) => event.type === 'fenced'), 'fenced event');
    expect(runtime.stats().partitions).toEqual([]);
    expect(runtime.stats().waiting).toEqual([expect.objectContaining({ topic: TOPIC, partition: 0, reason: expect.stringMatching(/fenced.*claiming it again/) })]);
    expect(consumer.paused.has('words[0]')).toBe(true);
    consumer.deliver(TOPIC, 0, words(0, 3, 2));
    expect(runtime.droppedUnowned).toBe(2);

    // Another owner committed up to 2 meanwhile: the new claim resumes there, and the consumer is told to seek.
    claimer.offsets.set('words[0]', 2n);
    await waitFor(() => runtime.stats().partitions.length === 1, 'claimed again');
    expect(claimer.claims).toHaveLength(2);
    expect(runtime.stats().partitions[0]).toMatchObject({ epoch: 2, committedOffset: 2n });
    expect(runtime.stats().waiting).toEqual([]);
    expect(consumer.seeks).toEqual([{ topic: TOPIC, partition: 0, offset: 2n }]);
    expect(consumer.paused.has('words[0]')).toBe(false);
    committer.autoRelease = true;
    consumer.deliver(TOPIC, 0, words(0, 2, 2));
    await waitFor(() => committer.committed().length === 1, 'commit under the new epoch');
    expect(committer.committed()[0]).toMatchObject({ epoch: 2, expectedNextOffset: 2n, nextOffset: 4n });
  });

  it('retries retriable commit errors with logged backoff, then succeeds', async () => {
    const logger = memoryLogger();
    const { consumer, committer, events } = await startRuntime({ logger });
    committer.autoRelease = true;
    committer.failures.push(new ServiceUnavailableError('postgres', 'connection reset'), new ServiceUnavailableError('postgres', 'connection reset'));
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 2));

    await waitFor(() => events.some((event) => event.type === 'batch-committed'), 'commit');
    expect(events.find((event) => event.type === 'batch-committed')).toMatchObject({ attempts: 3, nextOffset: 2n });
    expect(events.filter((event) => event.type === 'retry')).toHaveLength(2);
    const retryLines = logger.lines.filter((line) => line.message === 'commit failed, retrying');
    expect(retryLines).toHaveLength(2);
    expect(retryLines[0]!.fields).toMatchObject({ node: 'commit', topic: TOPIC, partition: 0, offset: 0n, attempt: 1 });
  });

  it('isolates the record behind a non-retriable commit failure instead of stopping the partition', async () => {
    const logger = memoryLogger();
    const { consumer, committer, events, fatal } = await startRuntime({ logger });
    committer.autoRelease = true;
    // The batch of two fails, then the first record alone: it is the one the database refuses.
    const refused = new Error('check constraint "stock_non_negative" violated');
    committer.failures.push(refused, refused);
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 2));

    await waitFor(() => committer.committed().length === 2, 'the dead letter and the rest committed');
    const [deadLetterBatch, rest] = committer.committed();
    expect(deadLetterBatch!.deadLetters.map((letter) => [letter.offset, letter.node, letter.message])).toEqual([[0n, 'commit', refused.message]]);
    expect(deadLetterBatch!.outputs).toEqual([]);
    expect(rest).toMatchObject({ firstOffset: 1n, nextOffset: 2n, deadLetters: [] });
    expect(fatal).toEqual([]);
    expect(events.some((event) => event.type === 'partition-failed')).toBe(false);
    expect(consumer.paused.has('words[0]')).toBe(false);
    expect(logger.lines.filter((line) => line.message === 'record isolated: its batch fails with it and commits without it')[0]!.fields).toMatchObject({ offset: 0n });
  });

  it('stop() pauses fetching, commits the records already received, and closes the consumer', async () => {
    const { consumer, committer, runtime } = await startRuntime({ config: { batchMaxRecords: 100 } });
    committer.autoRelease = true;
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 3));

    await runtime.stop({ timeoutMs: 2_000 });
    expect(consumer.pauseCalls).toEqual([['words[0]']]);
    expect(committer.committed().map((batch) => [batch.firstOffset, batch.records])).toEqual([[0n, 3]]);
    expect(consumer.closed).toBe(true);
  });

  it('stop() abandons a commit that does not finish within the timeout', async () => {
    const { consumer, committer, runtime } = await startRuntime();
    await consumer.assign([p0]);
    consumer.deliver(TOPIC, 0, words(0, 0, 2));
    await waitFor(() => committer.pending().length === 1, 'commit held');

    const startedAt = Date.now();
    await runtime.stop({ timeoutMs: 300 });
    expect(Date.now() - startedAt).toBeLessThan(600);
    expect(consumer.closed).toBe(true);
    expect(committer.committed()).toEqual([]);
  });

  it('runs a task per source topic partition, each with only the nodes its source reaches: a repartition splits them', async () => {
    const internal = 'wordcount-by-word-repartition';
    const { consumer, committer } = await startRuntime({ topology: wordCountTopology(), config: { batchMaxRecords: 1 } });
    committer.autoRelease = true;
    await consumer.assign([
      { topic: 'lines', partition: 0 },
      { topic: internal, partition: 0 },
      { topic: internal, partition: 1 },
    ]);
    consumer.deliver('lines', 0, [record('lines', 0, 0, 'line-1', { line: 'x y' })]);
    await waitFor(() => committer.committed().length === 1, 'the upstream commit');
    const upstream = committer.committed()[0]!;
    expect(upstream).toMatchObject({ topic: 'lines', partition: 0, storeChanges: new Map() });
    expect(upstream.outputs.map((output) => [output.topic, output.key])).toEqual([
      [internal, 'x'],
      [internal, 'y'],
    ]);

    // As the relay would publish them: to the partitions their keys hash to.
    consumer.deliver(internal, 1, [record(internal, 1, 0, 'x', { text: 'x' })]);
    consumer.deliver(internal, 0, [record(internal, 0, 0, 'y', { text: 'y' })]);
    await waitFor(() => committer.committed().length === 3, 'the downstream commits');
    const downstream = committer.committed().slice(1);
    expect(downstream.map((batch) => `${batch.topic}[${batch.partition}]@${batch.nextOffset}`).sort()).toEqual([`${internal}[0]@1`, `${internal}[1]@1`]);
    for (const batch of downstream) {
      expect(batch.outputs.map((output) => output.topic)).toEqual(['word-counts']);
      expect([...batch.storeChanges.keys()]).toEqual(['word-counts']);
    }
  });
});
