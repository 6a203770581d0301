/**
 * Prometheus metrics of a pipeline process (prom-client), and the watchers that feed them:
 * - what a batch carried (records in per source node, out per sink, dead letters, batch size)
 *   is counted from the batch itself once its transaction COMMITTED, so a rolled-back or
 *   fenced attempt never counts and a retried one counts once;
 * - how the runtime behaved (commit latency, retries, rebalances, halts) comes from its events;
 * - lag per partition is the broker's high watermark − this replica's committed offset, polled.
 * Each process owns one registry; health.ts serves it.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { partitionLag } from '../core/partitions.ts';
import { relayDiagnostics } from '../sinks/outbox-relay.ts';
import type { Topology } from '../topology/builder.ts';
import { runtimeDiagnostics } from '../topology/runtime/diagnostics.ts';
import type { CommittableBatch, Committer, RuntimeStats } from '../topology/runtime/types.ts';
import {
  assessProcessorLiveness,
  assessProcessorReadiness,
  combineLiveness,
  combineReadiness,
  type Endpoint,
  type Liveness,
  type LivenessCheck,
  type PartitionProgress,
  type Readiness,
  type ReadinessCheck,
  serveHealthAndMetrics,
} from './health.ts';
import { sourceDiagnostics } from './order-source/order-source.ts';

type MetricType = 'counter' | 'gauge' | 'histogram';

interface MetricSpec {
  name: string;
  type: MetricType;
  help: string;
  labelNames: readonly string[];
}

/** Every metric a pipeline process exports (besides Node's default process_* and nodejs_* ones). */
export const METRICS = {
  recordsIn: { name: 'kstream_records_in_total', type: 'counter', help: 'Records consumed by a source node, counted when their batch committed.', labelNames: ['node'] },
  recordsOut: { name: 'kstream_records_out_total', type: 'counter', help: 'Records a sink node produced (node="dead-letters" for the dead-letter sink), counted when their batch committed.', labelNames: ['node'] },
  batchSize: { name: 'kstream_batch_size', type: 'histogram', help: 'Records per committed micro-batch.', labelNames: [] },
  commitLatency: { name: 'kstream_commit_latency_seconds', type: 'histogram', help: 'Time from a micro-batch closing to its transaction committing, retries included.', labelNames: [] },
  partitionLag: { name: 'kstream_partition_lag', type: 'gauge', help: "High watermark minus this replica's committed (database) offset, per owned partition.", labelNames: ['topic', 'partition'] },
  assignedPartitions: { name: 'kstream_assigned_partitions', type: 'gauge', help: 'Partitions this replica processes now.', labelNames: [] },
  deadLetters: { name: 'kstream_dead_letters_total', type: 'counter', help: 'Poison records committed to the dead-letter topic.', labelNames: [] },
  rebalances: { name: 'kstream_rebalances_total', type: 'counter', help: 'Assignment changes (assigned or revoked callbacks) this replica went through.', labelNames: [] },
  retries: { name: 'kstream_retries_total', type: 'counter', help: 'Retried operations after a transient failure (commit, load, publish).', labelNames: ['operation'] },
  partitionHalts: { name: 'kstream_partition_halts_total', type: 'counter', help: 'Partitions stopped on this replica: fenced by a newer owner, or failed.', labelNames: ['reason'] },
  outboxBacklog: { name: 'kstream_outbox_backlog', type: 'gauge', help: 'Outbox records committed and not yet published, parked ones included (relay process).', labelNames: [] },
  outboxParked: { name: 'kstream_outbox_parked', type: 'gauge', help: 'Outbox rows the relay parked because the broker cannot accept them (topology outbox --parked).', labelNames: [] },
  outboxPublished: { name: 'kstream_outbox_published_total', type: 'counter', help: 'Outbox records the relay published.', labelNames: [] },
  relayLeader: { name: 'kstream_outbox_relay_leader', type: 'gauge', help: '1 while this relay holds the publishing lock, 0 as a standby.', labelNames: [] },
  sourceOrdersStored: { name: 'kstream_source_orders_stored_total', type: 'counter', help: 'Orders the order source stored.', labelNames: [] },
  sourceOrdersPublished: { name: 'kstream_source_orders_published_total', type: 'counter', help: 'Orders the order source published to the orders topic.', labelNames: [] },
} as const satisfies Record<string, MetricSpec>;

/** The exported metric names, for the README and dashboards. */
export const METRIC_NAMES: readonly string[] = Object.values(METRICS).map((spec) => spec.name);

/** The sink label of dead letters in kstream_records_out_total. */
export const DEAD_LETTER_NODE = 'dead-letters';

const BATCH_SIZE_BUCKETS = [1, 5, 10, 50, 100, 250, 500, 1000, 2000, 5000, 10_000];
const COMMIT_LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface KstreamMetrics {
  readonly registry: Registry;
  readonly recordsIn: Counter<'node'>;
  readonly recordsOut: Counter<'node'>;
  readonly batchSize: Histogram;
  readonly commitLatency: Histogram;
  readonly partitionLag: Gauge<'topic' | 'partition'>;
  readonly assignedPartitions: Gauge;
  readonly deadLetters: Counter;
  readonly rebalances: Counter;
  readonly retries: Counter<'operation'>;
  readonly partitionHalts: Counter<'reason'>;
  readonly outboxBacklog: Gauge;
  readonly outboxParked: Gauge;
  readonly outboxPublished: Counter;
  readonly relayLeader: Gauge;
  readonly sourceOrdersStored: Counter;
  readonly sourceOrdersPublished: Counter;
}

/** A fresh registry with every kstream_ metric; `defaultMetrics` adds Node's process metrics. */
export function createMetrics(options: { registry?: Registry; defaultMetrics?: boolean } = {}): KstreamMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const counter = <L extends string>(spec: MetricSpec) => new Counter<L>({ name: spec.name, help: spec.help, labelNames: spec.labelNames as L[], registers });
  const gauge = <L extends string>(spec: MetricSpec) => new Gauge<L>({ name: spec.name, help: spec.help, labelNames: spec.labelNames as L[], registers });
  return {
    registry,
    recordsIn: counter(METRICS.recordsIn),
    recordsOut: counter(METRICS.recordsOut),
    batchSize: new Histogram({ name: METRICS.batchSize.name, help: METRICS.batchSize.help, buckets: BATCH_SIZE_BUCKETS, registers }),
    commitLatency: new Histogram({ name: METRICS.commitLatency.name, help: METRICS.commitLatency.help, buckets: COMMIT_LATENCY_BUCKETS, registers }),
    partitionLag: gauge(METRICS.partitionLag),
    assignedPartitions: gauge(METRICS.assignedPartitions),
    deadLetters: counter(METRICS.deadLetters),
    rebalances: counter(METRICS.rebalances),
    retries: counter(METRICS.retries),
    partitionHalts: counter(METRICS.partitionHalts),
    outboxBacklog: gauge(METRICS.outboxBacklog),
    outboxParked: gauge(METRICS.outboxParked),
    outboxPublished: counter(METRICS.outboxPublished),
    relayLeader: gauge(METRICS.relayLeader),
    sourceOrdersStored: counter(METRICS.sourceOrdersStored),
    sourceOrdersPublished: counter(METRICS.sourceOrdersPublished),
  };
}

/** Wraps the committer so what a batch carried is counted after, and only after, its COMMIT. */
export function instrumentCommitter(committer: Committer, metrics: KstreamMetrics, topology: Pick<Topology, 'sourceByTopic'>): Committer {
  return {
    async commit(batch: CommittableBatch): Promise<void> {
      await committer.commit(batch);
      metrics.recordsIn.inc({ node: topology.sourceByTopic.get(batch.topic)?.name ?? batch.topic }, batch.records);
      metrics.batchSize.observe(batch.records);
      for (const [sink, count] of countBy(batch.outputs, (output) => output.sink)) metrics.recordsOut.inc({ node: sink }, count);
      if (batch.deadLetters.length > 0) {
        metrics.recordsOut.inc({ node: DEAD_LETTER_NODE }, batch.deadLetters.length);
        metrics.deadLetters.inc(batch.deadLetters.length);
      }
    },
  };
}

/** What the processor watcher needs of a StreamRuntime: its state now (its events come through the diagnostics channel). */
export interface WatchedRuntime {
  stats(): RuntimeStats;
}

export interface ProcessorWatchOptions {
  runtime: WatchedRuntime;
  metrics: KstreamMetrics;
  /** The broker's log end offsets of a topic (KafkaAdmin.highWatermarks). */
  highWatermarks(topic: string): Promise<Map<number, bigint>>;
  logger: Logger;
  /** How often lag is polled; 0 = only when `sample()` is called (tests). Default 5000. */
  pollMs?: number;
  stuckAfterMs?: number;
  /** HALTED_LIVENESS_TIMEOUT_MS. */
  haltedAfterMs?: number;
  now?: () => number;
}

export interface ProcessorWatch {
  /** Computed from the runtime's state now (never remembered from an event). */
  readiness(): Readiness;
  liveness(): Liveness;
  /** Polls the high watermarks once and updates lag, assignment and rebalance metrics. */
  sample(): Promise<void>;
  stop(): void;
}

interface TrackedPartition {
  lag: bigint | undefined;
  lastProgressAt: number;
}

export function watchProcessor(options: ProcessorWatchOptions): ProcessorWatch {
  const { runtime, metrics, logger } = options;
  const now = options.now ?? Date.now;
  const tracked = new Map<string, TrackedPartition>();

  const track = (topic: string, partition: number): TrackedPartition => {
    const key = `${topic}-${partition}`;
    let entry = tracked.get(key);
    if (entry === undefined) {
      entry = { lag: undefined, lastProgressAt: now() };
      tracked.set(key, entry);
    }
    return entry;
  };
  const forget = (topic: string, partition: number) => {
    tracked.delete(`${topic}-${partition}`);
    metrics.partitionLag.remove({ topic, partition: String(partition) });
  };
  // Every runtime of the process (a restarted role's new runtime included) publishes here.
  const unsubscribe = runtimeDiagnostics.subscribe((event) => {
    switch (event.type) {
      case 'rebalance':
        metrics.rebalances.inc();
        break;
      case 'batch-committed':
        metrics.commitLatency.observe(event.durationMs / 1000);
        track(event.topic, event.partition).lastProgressAt = now();
        break;
      case 'partition-assigned':
        track(event.topic, event.partition).lastProgressAt = now();
        break;
      case 'partition-revoked':
        forget(event.topic, event.partition);
        break;
      case 'retry':
        metrics.retries.inc({ operation: event.operation });
        break;
      case 'fenced':
        // Not a readiness failure: the partition moved to a newer owner, which is normal in a rebalance.
        metrics.partitionHalts.inc({ reason: 'fenced' });
        forget(event.topic, event.partition);
        break;
      case 'partition-failed':
        // What it waits for now shows in stats().waiting; the event only counts.
        metrics.partitionHalts.inc({ reason: 'failed' });
        forget(event.topic, event.partition);
        break;
    }
  });

  const sample = async () => {
    const owned = runtime.stats().partitions;
    metrics.assignedPartitions.set(owned.length);
    const topics = [...new Set(owned.map((p) => p.topic))];
    const watermarks = new Map(await Promise.all(topics.map(async (topic) => [topic, await options.highWatermarks(topic)] as const)));
    const ownedKeys = new Set<string>();
    for (const stats of owned) {
      const key = `${stats.topic}-${stats.partition}`;
      ownedKeys.add(key);
      const highWatermark = watermarks.get(stats.topic)?.get(stats.partition);
      if (highWatermark === undefined) continue;
      const lag = partitionLag(highWatermark, stats.committedOffset);
      const entry = track(stats.topic, stats.partition);
      // Falling behind after being caught up starts the stuck clock now, not at the last (idle-time) commit.
      if (lag > 0n && (entry.lag === undefined || entry.lag === 0n)) entry.lastProgressAt = now();
      entry.lag = lag;
      metrics.partitionLag.set({ topic: stats.topic, partition: String(stats.partition) }, Number(lag));
    }
    for (const key of [...tracked.keys()].filter((candidate) => !ownedKeys.has(candidate))) {
      const separator = key.lastIndexOf('-');
      forget(key.slice(0, separator), Number(key.slice(separator + 1)));
    }
  };

  const poller = periodically(sample, options.pollMs ?? 5000, logger, 'lag poll failed; keeping the last values');

  return {
    sample,
    readiness: () => {
      const stats = runtime.stats();
      const partitions: PartitionProgress[] = stats.partitions.map((p) => ({ topic: p.topic, partition: p.partition, ...track(p.topic, p.partition) }));
      return assessProcessorReadiness({ running: stats.running, partitions, waiting: stats.waiting, now: now(), stuckAfterMs: options.stuckAfterMs });
    },
    liveness: () => assessProcessorLiveness({ waiting: runtime.stats().waiting, now: now(), haltedAfterMs: options.haltedAfterMs }),
    stop: () => {
      poller.stop();
      unsubscribe();
    },
  };
}

export interface RelayWatchOptions {
  metrics: KstreamMetrics;
  /** Unpublished outbox rows (state/outbox-store countUnpublished). */
  countUnpublished(): Promise<number>;
  /** Parked outbox rows (state/outbox-store countParked). */
  countParked(): Promise<number>;
  logger: Logger;
  pollMs?: number;
}

export function watchRelay(options: RelayWatchOptions): { sample(): Promise<void>; stop(): void } {
  const { metrics } = options;
  // Counted as the relay publishes them; only the outbox table's size is polled.
  const unsubscribe = relayDiagnostics.subscribe((event) => {
    switch (event.type) {
      case 'published':
        metrics.outboxPublished.inc(event.rows);
        break;
      case 'retry':
        metrics.retries.inc({ operation: 'publish' });
        break;
      case 'leadership':
        metrics.relayLeader.set(event.leader ? 1 : 0);
        break;
    }
  });
  const sample = async () => {
    metrics.outboxBacklog.set(await options.countUnpublished());
    metrics.outboxParked.set(await options.countParked());
  };
  const poller = periodically(sample, options.pollMs ?? 5000, options.logger, 'outbox poll failed; keeping the last values');
  return {
    sample,
    stop: () => {
      poller.stop();
      unsubscribe();
    },
  };
}

/** Counts the order source's stored and published orders as it publishes them on its channel. */
export function watchSource(options: { metrics: KstreamMetrics }): { stop(): void } {
  const unsubscribe = sourceDiagnostics.subscribe((event) => {
    if (event.type === 'stored') options.metrics.sourceOrdersStored.inc(event.orders);
    else options.metrics.sourceOrdersPublished.inc(event.orders);
  });
  return { stop: unsubscribe };
}

/**
 * One process's observability: its metrics, its HTTP endpoint, and the watchers of the roles
 * it runs. The endpoint comes up first, so /healthz answers during startup; /readyz says
 * "starting" until `markStarted()`, then combines the processors' readiness (a source or relay
 * process is ready once started); /healthz combines the processors' liveness.
 */
export interface Observability {
  readonly metrics: KstreamMetrics;
  readonly port: number;
  watchProcessor(options: Omit<ProcessorWatchOptions, 'metrics' | 'logger'>): ProcessorWatch;
  watchRelay(options: Omit<RelayWatchOptions, 'metrics' | 'logger'>): void;
  watchSource(): void;
  /** Every role of the process has started: readiness now depends on the watchers alone. */
  markStarted(): void;
  stop(): Promise<void>;
}

export interface ObservabilityOptions {
  port: number;
  /** METRICS_HOST; default 127.0.0.1. */
  host?: string;
  /** HALTED_LIVENESS_TIMEOUT_MS, for every processor watched. */
  haltedAfterMs?: number;
  logger: Logger;
  pollMs?: number;
}

export async function startObservability(options: ObservabilityOptions): Promise<Observability> {
  const logger = options.logger.child('metrics');
  const metrics = createMetrics({ defaultMetrics: true });
  let started = false;
  const checks: ReadinessCheck[] = [() => (started ? { ready: true } : { ready: false, reason: 'starting' })];
  const livenessChecks: LivenessCheck[] = [];
  const watchers: Array<{ stop(): void }> = [];
  const endpoint: Endpoint = await serveHealthAndMetrics({
    port: options.port,
    host: options.host,
    registry: metrics.registry,
    readiness: () => combineReadiness(checks),
    liveness: () => combineLiveness(livenessChecks),
    logger,
  });
  const { pollMs, haltedAfterMs } = options;
  return {
    metrics,
    port: endpoint.port,
    watchProcessor: (watch) => {
      const watcher = watchProcessor({ pollMs, haltedAfterMs, ...watch, metrics, logger });
      watchers.push(watcher);
      checks.push(() => watcher.readiness());
      livenessChecks.push(() => watcher.liveness());
      return watcher;
    },
    watchRelay: (watch) => {
      watchers.push(watchRelay({ pollMs, ...watch, metrics, logger }));
    },
    watchSource: () => {
      watchers.push(watchSource({ metrics }));
    },
    markStarted: () => {
      started = true;
    },
    stop: async () => {
      for (const watcher of watchers.splice(0)) watcher.stop();
      await endpoint.close();
    },
  };
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  return counts;
}

function periodically(sample: () => Promise<void>, pollMs: number, logger: Logger, failure: string): { sample(): Promise<void>; stop(): void } {
  let busy = false;
  const tick = async () => {
    if (busy) return;
    busy = true;
    try {
      await sample();
    } catch (error) {
      logger.warn(failure, { error: errorMessage(error) });
    } finally {
      busy = false;
    }
  };
  const timer = pollMs > 0 ? setInterval(tick, pollMs) : undefined;
  timer?.unref();
  if (pollMs > 0) void tick();
  return { sample, stop: () => clearInterval(timer) };
}
