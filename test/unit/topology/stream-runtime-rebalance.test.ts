/**
 * Rebalances never strand a partition: assignments and revocations are handled in order, a
 * claim that lands for a partition no longer assigned is released, and a partition that
 * cannot run (claim failing, offset beyond the topic's end, out-of-range fetch) waits, listed
 * in `stats().waiting`, and is claimed again for as long as it stays assigned.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { ServiceUnavailableError, type StreamError } from '../../../core/errors.ts';
import { ConsumerStoppedError, OffsetOutOfRangeError } from '../../../kafka/port.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import { StreamRuntime, type StreamRuntimeOptions } from '../../../topology/runtime/stream-runtime.ts';
import type { PartitionBounds, RuntimeEvent } from '../../../topology/runtime/types.ts';
import { memoryLogger } from '../../support/memory-logger.ts';
import { ControlledCommitter, FakeClaimer, FakeGroupConsumer, jsonCodec, record, upperCaseProcessor, useVirtualTime, waitFor } from './fixtures.ts';

const TOPIC = 'words';
const p0 = { topic: TOPIC, partition: 0 };
const p1 = { topic: TOPIC, partition: 1 };

interface Harness {
  runtime: StreamRuntime;
  consumer: FakeGroupConsumer;
  claimer: FakeClaimer;
  committer: ControlledCommitter;
  events: RuntimeEvent[];
  errors: StreamError[];
  logger: ReturnType<typeof memoryLogger>;
}

const running: Harness[] = [];

async function startRuntime(options: Partial<StreamRuntimeOptions> = {}): Promise<Harness> {
  const consumer = new FakeGroupConsumer();
  const claimer = new FakeClaimer();
  const committer = new ControlledCommitter({ autoRelease: true });
  const logger = memoryLogger();
  const errors: StreamError[] = [];
  const runtime = new StreamRuntime({
    topology: new TopologyBuilder()
      .addSource('words-source', { topics: [TOPIC], codec: jsonCodec })
      .addProcessor('upper', { supplier: upperCaseProcessor }, 'words-source')
      .addSink('upper-sink', { topic: 'upper', codec: jsonCodec }, 'upper')
      .build(),
    consumer,
    claimer,
    committer,
    config: { batchMaxRecords: 2, commitIntervalMs: 60_000, maxInflightPerPartition: 1_000, maxInflightTotal: 10_000 },
    logger,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    onError: (error) => errors.push(error),
    commitToKafka: false,
    ...options,
  });
  const events: RuntimeEvent[] = [];
  runtime.events$.subscribe((event) => events.push(event));
  await runtime.start();
  const harness = { runtime, consumer, claimer, committer, events, errors, logger };
  running.push(harness);
  return harness;
}

afterEach(async () => {
  jest.useRealTimers();
  for (const { runtime, claimer } of running.splice(0)) {
    claimer.hold = false;
    claimer.landClaims();
    await runtime.stop({ timeoutMs: 1_000 });
  }
});

const words = (partition: number, from: number, count: number) =>
  Array.from({ length: count }, (_, index) => record(TOPIC, partition, from + index, 'w', { text: 'w' }));

describe('StreamRuntime rebalances', () => {
  it('handles a revocation that arrives while the assignment\'s claim is in flight after that assignment: the claim is released, no task starts', async () => {
    const elapse = useVirtualTime();
    const { consumer, claimer, runtime, events } = await startRuntime();
    claimer.hold = true;
    const assigned = consumer.assign([p0]);
    await elapse(0);
    expect(claimer.heldClaims).toBe(1); // the claim is in flight
    // Assigned, not running yet: listed as waiting while its claim is in flight.
    expect(runtime.stats().waiting).toEqual([expect.objectContaining({ topic: TOPIC, partition: 0, reason: 'claiming it in the offset store' })]);
    consumer.revoke([p0]);
    await elapse(0); // the revocation arrived (queued behind the assignment) before the claim lands
    claimer.landClaims();

    expect(await assigned).toEqual([]);
    await elapse(1_000); // far past every retry delay: nothing starts it later either
    expect(runtime.stats().partitions).toEqual([]);
    expect(runtime.stats().waiting).toEqual([]);
    expect(claimer.released).toEqual([expect.objectContaining({ topic: TOPIC, partition: 0, epoch: 1 })]);
    expect(events.filter((event) => event.type === 'partition-assigned')).toEqual([]);
    consumer.deliver(TOPIC, 0, words(0, 0, 2));
    expect(runtime.droppedUnowned).toBe(2);
  });

  it('releases a claim that lands after its partition moved to another member (eager reassignment), and runs the partition that stayed', async () => {
    const { consumer, claimer, runtime } = await startRuntime();
    claimer.hold = true;
    const first = consumer.assign([p0, p1]);
    await waitFor(() => claimer.heldClaims === 1, 'claim in flight');
    // The group moved p0 elsewhere before the claim came back; the consumer already knows.
    consumer.assigned = [p1];
    claimer.landClaims();
    expect(await first).toEqual([{ topic: TOPIC, partition: 1, offset: 0n }]);
    expect(runtime.stats().partitions.map((partition) => partition.partition)).toEqual([1]);
    expect(claimer.released.map((claim) => claim.partition)).toEqual([0]);
  });

  it('handles assignments and revocations one at a time: an assignment queued behind a slow claim waits its turn', async () => {
    const elapse = useVirtualTime();
    const { consumer, claimer, runtime, events } = await startRuntime();
    claimer.hold = true;
    const first = consumer.assign([p0]);
    await elapse(0);
    expect(claimer.heldClaims).toBe(1); // the first claim is in flight
    consumer.revoke([p0]);
    const second = consumer.assign([p0]);
    await elapse(1_000);
    expect(claimer.claims).toHaveLength(1); // the second claim waits for the first rebalance to finish
    claimer.landClaims();
    await first;
    await elapse(0);
    expect(claimer.heldClaims).toBe(1); // the second claim is in flight
    claimer.landClaims();
    expect(await second).toEqual([{ topic: TOPIC, partition: 0, offset: 0n }]);
    expect(runtime.stats().partitions.map((partition) => [partition.partition, partition.epoch])).toEqual([[0, 2]]);
    const rebalanceEvents = events.filter((event) => event.type === 'partition-assigned' || event.type === 'partition-revoked');
    expect(rebalanceEvents.map((event) => (event.type === 'partition-assigned' ? `assigned@${event.epoch}` : 'revoked'))).toEqual(['assigned@1', 'revoked', 'assigned@2']);
  });

  it('retries a failing claim for as long as the partition stays assigned (more than the old 8 attempts), listing it as waiting, then starts it', async () => {
    const { consumer, claimer, runtime, errors } = await startRuntime();
    for (let attempt = 0; attempt < 12; attempt++) claimer.failures.push(new ServiceUnavailableError('PostgreSQL', 'connection refused'));
    claimer.offsets.set('words[0]', 4n);
    expect(await consumer.assign([p0])).toEqual([]);
    expect(runtime.stats().waiting).toEqual([expect.objectContaining({ topic: TOPIC, partition: 0, reason: expect.stringMatching(/^claim failed: PostgreSQL unavailable/) })]);
    expect(runtime.stats().waiting[0]!.needsOperator).toBeUndefined();

    await waitFor(() => runtime.stats().partitions.length === 1, 'claimed at last');
    expect(claimer.claims).toHaveLength(13);
    expect(runtime.stats().waiting).toEqual([]);
    expect(consumer.seeks).toEqual([{ topic: TOPIC, partition: 0, offset: 4n }]);
    expect(errors).toEqual([]);
  });

  it('stops retrying the claim of a partition once it is revoked', async () => {
    const elapse = useVirtualTime();
    const { consumer, claimer, runtime, events } = await startRuntime({ retry: { initialDelayMs: 20, maxDelayMs: 20 } });
    for (let attempt = 0; attempt < 1_000; attempt++) claimer.failures.push(new ServiceUnavailableError('PostgreSQL', 'down'));
    await consumer.assign([p0]);
    await elapse(20);
    expect(claimer.claims.length).toBeGreaterThanOrEqual(2); // a retry
    consumer.revoke([p0]);
    await elapse(0);
    expect(events.filter((event) => event.type === 'retry-cancelled')).toEqual([{ type: 'retry-cancelled', topic: TOPIC, partition: 0, reason: 'revoked' }]);
    const claims = claimer.claims.length;
    await elapse(1_000); // fifty retry delays
    expect(claimer.claims.length).toBe(claims);
    expect(runtime.stats().waiting).toEqual([]);
  });

  it('a database offset beyond the topic\'s end: one clear line, that partition waits, the others run; after a reset it proceeds by itself', async () => {
    let ends = new Map([
      [0, 120n],
      [1, 50n],
    ]);
    const bounds = async (partitions: { topic: string; partition: number }[]): Promise<PartitionBounds[]> =>
      partitions.map((tp) => ({ ...tp, logStartOffset: 0n, logEndOffset: ends.get(tp.partition)! }));
    const { consumer, claimer, runtime, logger, committer } = await startRuntime({
      partitionBounds: bounds,
      offsetCheckIntervalMs: 20,
      resetCommand: (tp) => `npm run topology -- reset --group g --topic ${tp.topic} --partitions ${tp.partition} --to-earliest`,
    });
    claimer.offsets.set('words[0]', 143_645n);
    claimer.offsets.set('words[1]', 10n);

    expect(await consumer.assign([p0, p1])).toEqual([{ topic: TOPIC, partition: 1, offset: 10n }]);
    expect(runtime.stats().partitions.map((partition) => partition.partition)).toEqual([1]);
    const [waiting] = runtime.stats().waiting;
    expect(waiting).toMatchObject({ topic: TOPIC, partition: 0, needsOperator: true });
    expect(waiting!.reason).toContain('database offset 143645 is beyond the end offset 120 of words partition 0');
    expect(consumer.paused.has('words[0]')).toBe(true);
    consumer.deliver(TOPIC, 1, words(1, 10, 2));
    await waitFor(() => committer.committed(1).length === 1, 'the other partition runs');

    await waitFor(() => claimer.claims.length >= 4, 'periodic re-checks');
    const lines = logger.lines.filter((line) => line.message.includes('beyond the end offset'));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.message).toBe(
      "words[0]: database offset 143645 is beyond the end offset 120 of words partition 0 (topic recreated or broker data wiped?); waiting, re-checked every 0 s. To continue run: npm run topology -- reset --group g --topic words --partitions 0 --to-earliest",
    );

    // The operator resets the offset: the next check claims it from there.
    claimer.offsets.set('words[0]', 0n);
    ends = new Map(ends);
    await waitFor(() => runtime.stats().partitions.length === 2, 'the partition proceeds');
    expect(runtime.stats().waiting).toEqual([]);
    expect(consumer.seeks).toEqual([{ topic: TOPIC, partition: 0, offset: 0n }]);
    expect(consumer.paused.has('words[0]')).toBe(false);
  });

  it('a database offset below the log start (retention) reads from the log start, with a warning', async () => {
    const { consumer, claimer, runtime, logger } = await startRuntime({
      partitionBounds: async (partitions) => partitions.map((tp) => ({ ...tp, logStartOffset: 40n, logEndOffset: 90n })),
    });
    claimer.offsets.set('words[0]', 10n);
    expect(await consumer.assign([p0])).toEqual([{ topic: TOPIC, partition: 0, offset: 40n }]);
    expect(runtime.stats().partitions[0]).toMatchObject({ committedOffset: 10n });
    expect(logger.lines.some((line) => line.level === 'warn' && line.message.startsWith('database offset below the log start'))).toBe(true);
  });

  it('an out-of-range fetch never kills anything: the partition waits and is checked again from its claim', async () => {
    let end = 1_000n;
    const { consumer, claimer, runtime, errors } = await startRuntime({
      partitionBounds: async (partitions) => partitions.map((tp) => ({ ...tp, logStartOffset: 0n, logEndOffset: end })),
      offsetCheckIntervalMs: 20,
    });
    claimer.offsets.set('words[0]', 500n);
    await consumer.assign([p0]);
    expect(runtime.stats().partitions).toHaveLength(1);

    end = 100n; // the topic was recreated under the running consumer
    consumer.handlers!.onError(new OffsetOutOfRangeError({ topic: TOPIC, partition: 0, offset: 500n, logStartOffset: 0n, logEndOffset: 100n }));
    expect(runtime.stats().partitions).toEqual([]);
    await waitFor(() => runtime.stats().waiting[0]?.reason.includes('beyond the end offset 100') === true, 'waiting beyond the end');
    expect(errors).toEqual([]);
    expect(runtime.stats().running).toBe(true);
  });

  it('a consumer error is reported, not fatal; only a consumer stopped for good fails the runtime (its owner replaces it)', async () => {
    const elapse = useVirtualTime();
    const { consumer, runtime, errors } = await startRuntime();
    let failure: unknown;
    runtime.failed.catch((error: unknown) => {
      failure = error;
    });
    await consumer.assign([p0]);
    consumer.handlers!.onError(new Error('Connection to 127.0.0.1:9092 failed.'));
    await elapse(1_000);
    expect(errors).toHaveLength(1);
    expect(failure).toBeUndefined();
    expect(runtime.stats().partitions).toHaveLength(1);

    consumer.handlers!.onError(new ConsumerStoppedError('kafkajs does not restart it after KafkaJSNonRetriableError'));
    await elapse(0);
    expect(failure).toBeInstanceOf(ConsumerStoppedError);
    expect(runtime.stats().running).toBe(true); // still running until its owner stops it
  });
});
