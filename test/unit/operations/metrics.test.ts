import { describe, expect, it } from '@jest/globals';
import { createMetrics, DEAD_LETTER_NODE, instrumentCommitter, METRIC_NAMES, METRICS, watchProcessor, watchRelay, watchSource } from '../../../app/metrics.ts';
import { sourceDiagnostics } from '../../../app/order-source/order-source.ts';
import { silentLogger } from '../../../core/logger.ts';
import { relayDiagnostics } from '../../../sinks/outbox-relay.ts';
import { runtimeDiagnostics } from '../../../topology/runtime/diagnostics.ts';
import type { CommittableBatch, PartitionStats, RuntimeEvent, RuntimeStats } from '../../../topology/runtime/types.ts';
import { sampleValue, scrape } from './scrape.ts';

const TOPIC = 'orders';
const topology = { sourceByTopic: new Map([[TOPIC, { name: 'orders-source' }]]) } as never;

function batch(overrides: Partial<CommittableBatch> = {}): CommittableBatch {
  return {
    topic: TOPIC,
    partition: 0,
    epoch: 1,
    firstOffset: 0n,
    lastOffset: 9n,
    nextOffset: 10n,
    expectedNextOffset: 0n,
    records: 10,
    outputs: [
      { sink: 'inventory-sink', topic: 'inventory-updated', key: '1', value: Buffer.from('{}'), headers: {} },
      { sink: 'inventory-sink', topic: 'inventory-updated', key: '2', value: Buffer.from('{}'), headers: {} },
      { sink: 'audit-sink', topic: 'audit', key: null, value: Buffer.from('{}'), headers: {} },
    ],
    storeChanges: new Map(),
    deadLetters: [
      { topic: TOPIC, partition: 0, offset: 3n, key: null, value: null, headers: {}, errorClass: 'DecodeError', message: 'bad', node: 'orders-source', timestamp: 0 },
    ],
    ...overrides,
  };
}

/** A stand-in for StreamRuntime: events published by the test on the runtime channel, stats set by the test. */
function fakeRuntime() {
  const state: RuntimeStats = { partitions: [], waiting: [], inflightTotal: 0, rebalances: 0, running: true };
  return {
    emit: (event: RuntimeEvent) => runtimeDiagnostics.publish({ ...event, runtime: 'fake' }),
    state,
    runtime: { stats: () => state },
    own(partition: number, committedOffset: bigint) {
      state.partitions = [...state.partitions.filter((p) => p.partition !== partition), partitionStats(partition, committedOffset)];
    },
  };
}

function partitionStats(partition: number, committedOffset: bigint): PartitionStats {
  return { topic: TOPIC, partition, epoch: 1, received: 0, processed: 0, inflight: 0, committedOffset, batchesCommitted: 0, deadLetters: 0, duplicatesIgnored: 0, paused: false };
}

describe('metric names', () => {
  it('are all kstream_-prefixed, unique, and every one is exposed by a fresh registry', async () => {
    expect(METRIC_NAMES.every((name) => name.startsWith('kstream_'))).toBe(true);
    expect(new Set(METRIC_NAMES).size).toBe(METRIC_NAMES.length);
    const text = await createMetrics().registry.metrics();
    for (const name of METRIC_NAMES) expect(text).toContain(`# TYPE ${name} `);
  });

  it('names the ones the operations docs promise', () => {
    expect(METRIC_NAMES).toEqual(
      expect.arrayContaining([
        'kstream_records_in_total',
        'kstream_records_out_total',
        'kstream_batch_size',
        'kstream_commit_latency_seconds',
        'kstream_partition_lag',
        'kstream_dead_letters_total',
        'kstream_rebalances_total',
        'kstream_outbox_backlog',
        'kstream_retries_total',
      ]),
    );
    expect(METRICS.partitionLag.labelNames).toEqual(['topic', 'partition']);
  });
});

describe('instrumentCommitter', () => {
  it('counts records in per source node, out per sink, dead letters and batch size after the commit', async () => {
    const metrics = createMetrics();
    const committed: CommittableBatch[] = [];
    const committer = instrumentCommitter({ commit: async (b) => void committed.push(b) }, metrics, topology);

    await committer.commit(batch());
    await committer.commit(batch({ records: 4, outputs: [], deadLetters: [] }));

    expect(committed).toHaveLength(2);
    const samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_records_in_total', { node: 'orders-source' })).toBe(14);
    expect(sampleValue(samples, 'kstream_records_out_total', { node: 'inventory-sink' })).toBe(2);
    expect(sampleValue(samples, 'kstream_records_out_total', { node: 'audit-sink' })).toBe(1);
    expect(sampleValue(samples, 'kstream_records_out_total', { node: DEAD_LETTER_NODE })).toBe(1);
    expect(sampleValue(samples, 'kstream_dead_letters_total')).toBe(1);
    expect(sampleValue(samples, 'kstream_batch_size_count')).toBe(2);
    expect(sampleValue(samples, 'kstream_batch_size_sum')).toBe(14);
    expect(sampleValue(samples, 'kstream_batch_size_bucket', { le: '5' })).toBe(1);
  });

  it('counts nothing when the commit fails (rolled back or fenced), and passes the error on', async () => {
    const metrics = createMetrics();
    const committer = instrumentCommitter({ commit: () => Promise.reject(new Error('fenced')) }, metrics, topology);

    await expect(committer.commit(batch())).rejects.toThrow('fenced');

    const samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_records_in_total', { node: 'orders-source' })).toBeUndefined();
    expect(sampleValue(samples, 'kstream_dead_letters_total')).toBe(0);
    expect(sampleValue(samples, 'kstream_batch_size_count')).toBe(0);
  });
});

describe('watchProcessor', () => {
  function setup(watermarks: Map<number, bigint>) {
    const metrics = createMetrics();
    const fake = fakeRuntime();
    let clock = 1_000_000;
    const watch = watchProcessor({
      runtime: fake.runtime,
      metrics,
      highWatermarks: async () => watermarks,
      logger: silentLogger,
      pollMs: 0,
      stuckAfterMs: 30_000,
      now: () => clock,
    });
    return { metrics, fake, watch, advance: (ms: number) => (clock += ms), now: () => clock };
  }

  it('observes commit latency in seconds and counts retries per operation', async () => {
    const { metrics, fake, watch } = setup(new Map());
    fake.emit({ type: 'batch-committed', topic: TOPIC, partition: 0, firstOffset: 0n, nextOffset: 5n, records: 5, outputs: 1, deadLetters: 0, attempts: 1, durationMs: 20 });
    fake.emit({ type: 'batch-committed', topic: TOPIC, partition: 0, firstOffset: 5n, nextOffset: 6n, records: 1, outputs: 1, deadLetters: 0, attempts: 2, durationMs: 400 });
    const retry = { type: 'retry', topic: TOPIC, partition: 0, attempt: 1, delayMs: 100, offset: 5n, error: 'db down' } as const;
    fake.emit({ ...retry, operation: 'commit' });
    fake.emit({ ...retry, operation: 'commit' });
    fake.emit({ ...retry, operation: 'load' });

    const samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_commit_latency_seconds_count')).toBe(2);
    expect(sampleValue(samples, 'kstream_commit_latency_seconds_sum')).toBeCloseTo(0.42);
    expect(sampleValue(samples, 'kstream_commit_latency_seconds_bucket', { le: '0.025' })).toBe(1);
    expect(sampleValue(samples, 'kstream_retries_total', { operation: 'commit' })).toBe(2);
    expect(sampleValue(samples, 'kstream_retries_total', { operation: 'load' })).toBe(1);
    watch.stop();
  });

  it("counts the runtime's rebalances once each, and halts by reason", async () => {
    const { metrics, fake, watch } = setup(new Map());
    fake.emit({ type: 'rebalance', assigned: 1, revoked: 0 });
    fake.emit({ type: 'rebalance', assigned: 1, revoked: 0 });
    fake.emit({ type: 'partition-assigned', topic: TOPIC, partition: 0, nextOffset: 0n, epoch: 1 });
    fake.emit({ type: 'partition-assigned', topic: TOPIC, partition: 1, nextOffset: 0n, epoch: 1 });
    fake.emit({ type: 'rebalance', assigned: 0, revoked: 1 });
    await watch.sample();
    await watch.sample();
    fake.emit({ type: 'fenced', topic: TOPIC, partition: 1, offset: 0n, error: 'newer owner' });

    const samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_rebalances_total')).toBe(3);
    expect(sampleValue(samples, 'kstream_partition_halts_total', { reason: 'fenced' })).toBe(1);
    watch.stop();
  });

  it('sets lag per owned partition from the high watermarks, and drops the series of a revoked partition', async () => {
    const { metrics, fake, watch } = setup(new Map([[0, 100n], [1, 50n], [2, 7n]]));
    fake.own(0, 40n);
    fake.own(1, 50n);
    await watch.sample();

    let samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_partition_lag', { topic: TOPIC, partition: '0' })).toBe(60);
    expect(sampleValue(samples, 'kstream_partition_lag', { topic: TOPIC, partition: '1' })).toBe(0);
    expect(sampleValue(samples, 'kstream_partition_lag', { topic: TOPIC, partition: '2' })).toBeUndefined();
    expect(sampleValue(samples, 'kstream_assigned_partitions')).toBe(2);

    fake.state.partitions = fake.state.partitions.filter((p) => p.partition !== 0);
    fake.emit({ type: 'partition-revoked', topic: TOPIC, partition: 0, droppedRecords: 0 });
    samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_partition_lag', { topic: TOPIC, partition: '0' })).toBeUndefined();
    expect(sampleValue(samples, 'kstream_partition_lag', { topic: TOPIC, partition: '1' })).toBe(0);
    watch.stop();
  });

  it('is not ready without partitions, ready with them, and not ready once a lagging partition has not committed for 30 s', async () => {
    const watermarks = new Map([[0, 10n]]);
    const { fake, watch, advance } = setup(watermarks);
    expect(watch.readiness()).toEqual({ ready: false, reason: 'no partitions assigned' });

    fake.own(0, 10n);
    fake.emit({ type: 'partition-assigned', topic: TOPIC, partition: 0, nextOffset: 10n, epoch: 1 });
    await watch.sample();
    expect(watch.readiness().ready).toBe(true);

    // Caught up and idle for a long time: still ready. Then records arrive: the stuck clock starts now.
    advance(120_000);
    watermarks.set(0, 25n);
    await watch.sample();
    expect(watch.readiness().ready).toBe(true);

    advance(30_001);
    await watch.sample();
    const stuck = watch.readiness();
    expect(stuck.ready).toBe(false);
    expect(stuck.ready === false && stuck.reason).toContain('orders-0');

    fake.own(0, 25n);
    fake.emit({ type: 'batch-committed', topic: TOPIC, partition: 0, firstOffset: 10n, nextOffset: 25n, records: 15, outputs: 0, deadLetters: 0, attempts: 1, durationMs: 5 });
    await watch.sample();
    expect(watch.readiness().ready).toBe(true);
    watch.stop();
  });

  it('computes readiness from the current state: a failure event is not remembered once the partitions run again', async () => {
    const { fake, watch } = setup(new Map([[0, 0n], [1, 0n]]));
    fake.own(0, 0n);
    fake.own(1, 0n);
    await watch.sample();
    // A transient failure: the runtime reports it, and by the next look the partition runs again.
    fake.emit({ type: 'partition-failed', topic: TOPIC, partition: 1, node: 'inventory-processor', offset: 7n, error: new Error('fetch failed') });
    fake.emit({ type: 'consumer-error', error: new Error('connection reset') });
    expect(watch.readiness()).toEqual({ ready: true, details: { partitions: 2 } });
  });

  it('is not ready while a partition waits, naming it and why, and ready again as soon as it runs, with no new assignment', () => {
    const { fake, watch, now, advance } = setup(new Map([[0, 0n]]));
    fake.own(0, 0n);
    fake.state.waiting = [{ topic: TOPIC, partition: 1, reason: 'halted after a failure; re-claiming', since: now() }];
    advance(1_500);
    const waiting = watch.readiness();
    expect(waiting).toEqual({
      ready: false,
      reason: 'partitions waiting: orders-1 (halted after a failure; re-claiming)',
      details: { waiting: [{ topic: TOPIC, partition: 1, reason: 'halted after a failure; re-claiming', waitingMs: 1_500 }] },
    });
    fake.state.waiting = [];
    fake.own(1, 0n);
    expect(watch.readiness().ready).toBe(true);
    watch.stop();
  });

  it('stays alive while partitions wait briefly, fails liveness past the bound, and ignores partitions only an operator can unblock', () => {
    const metrics = createMetrics();
    const fake = fakeRuntime();
    let clock = 5_000_000;
    const watch = watchProcessor({ runtime: fake.runtime, metrics, highWatermarks: async () => new Map(), logger: silentLogger, pollMs: 0, haltedAfterMs: 60_000, now: () => clock });
    fake.state.waiting = [
      { topic: TOPIC, partition: 2, reason: 'database offset 900 beyond the end 10', since: clock, needsOperator: true } as RuntimeStats['waiting'][number],
      { topic: TOPIC, partition: 3, reason: 'claim failed; retrying', since: clock },
    ];
    clock += 60_000;
    expect(watch.liveness()).toEqual({ alive: true });
    clock += 1;
    const dead = watch.liveness();
    expect(dead.alive).toBe(false);
    expect(dead.alive === false && dead.reason).toBe('partitions halted for more than 60 s (HALTED_LIVENESS_TIMEOUT_MS): orders-3 (claim failed; retrying)');
    fake.state.waiting = [];
    expect(watch.liveness()).toEqual({ alive: true });
    watch.stop();
  });

  it('is not ready once the runtime stops', () => {
    const { fake, watch } = setup(new Map());
    fake.own(0, 0n);
    fake.state.running = false;
    expect(watch.readiness()).toEqual({ ready: false, reason: 'the runtime is not running' });
    watch.stop();
  });
});

describe('watchRelay and watchSource', () => {
  it('exports the outbox backlog, parked rows, what the relay published, and its leadership', async () => {
    const metrics = createMetrics();
    let backlog = 12;
    let parked = 2;
    const watch = watchRelay({ metrics, countUnpublished: async () => backlog, countParked: async () => parked, logger: silentLogger, pollMs: 0 });

    await watch.sample();
    let samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_outbox_backlog')).toBe(12);
    expect(sampleValue(samples, 'kstream_outbox_parked')).toBe(2);
    expect(sampleValue(samples, 'kstream_outbox_relay_leader')).toBe(0);

    relayDiagnostics.publish({ type: 'leadership', lockName: 'outbox-relay', leader: true });
    relayDiagnostics.publish({ type: 'published', lockName: 'outbox-relay', rows: 8 });
    relayDiagnostics.publish({ type: 'retry', lockName: 'outbox-relay', error: 'broker down' });
    relayDiagnostics.publish({ type: 'published', lockName: 'outbox-relay', rows: 4 });
    backlog = 0;
    parked = 0;
    await watch.sample();
    await watch.sample();
    samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_outbox_backlog')).toBe(0);
    expect(sampleValue(samples, 'kstream_outbox_parked')).toBe(0);
    expect(sampleValue(samples, 'kstream_outbox_published_total')).toBe(12);
    expect(sampleValue(samples, 'kstream_retries_total', { operation: 'publish' })).toBe(1);
    expect(sampleValue(samples, 'kstream_outbox_relay_leader')).toBe(1);
    watch.stop();
  });

  it("exports the source's stored and published orders as counters", async () => {
    const metrics = createMetrics();
    const watch = watchSource({ metrics });
    sourceDiagnostics.publish({ type: 'stored', orders: 5 });
    sourceDiagnostics.publish({ type: 'published', orders: 3 });
    sourceDiagnostics.publish({ type: 'stored', orders: 4 });
    sourceDiagnostics.publish({ type: 'published', orders: 6 });
    const samples = await scrape(metrics.registry);
    expect(sampleValue(samples, 'kstream_source_orders_stored_total')).toBe(9);
    expect(sampleValue(samples, 'kstream_source_orders_published_total')).toBe(9);
    watch.stop();
  });
});
