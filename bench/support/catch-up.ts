/**
 * One catch-up measurement of the order flow: the real processor (startProcessor: StreamRuntime +
 * transactional sink + PostgreSQL stores, every sub-topology) and the outbox relay that carries
 * its internal hops (product-commands, line-results) started in this process, as `topology run`
 * runs them, on a copy of the backlog database.
 *
 * Timed from the call to startProcessor until the flow is caught up (order-flow-progress.ts):
 * every order of the backlog decided and every sub-topology's stored offsets at its topics' high
 * watermarks. That is polled only once the orders topic itself is consumed (seen from the
 * runtime's commit events, no query), and the end is the last commit seen when a poll found it
 * done (a caught-up flow commits nothing more), so the polling interval does not add to the
 * time. Outcome events still in the outbox then are the relay's backlog, not the flow's: they
 * are reported, not waited for.
 */
import os from 'node:os';
import { startProcessor } from '../../app/processor-app.ts';
import type { AppConfig, KafkaClientName } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import { tpKey } from '../../kafka/port.ts';
import { databaseName } from '../../state/database-url.ts';
import { connectDatabase } from '../../state/db.ts';
import { countUnpublished } from '../../state/outbox-store.ts';
import type { ProcessorApp } from '../../streams/processor.ts';
import { startRelay } from '../../streams/relay.ts';
import { type HotFunction, startCpuProfile } from './cpu-profile.ts';
import { type CpuUse, measureCpu } from './machine-load.ts';
import { type OrderOutcome, orderFlowProgress, orderOutcome, undecided } from './order-flow-progress.ts';
import { waitFor } from './wait.ts';

/** A backlog's lines per order: the --lines spec and its mean. */
export interface LinesShape {
  spec: string;
  mean: number;
}

export interface CatchUpOptions {
  client: KafkaClientName;
  /** Settings of the processor; databaseUrl, the topics and consumerGroup name the backlog's copy and this run's own topics. */
  config: AppConfig;
  /** The backlog: its lines per order, and how many lines its orders have together. */
  backlog: { lines: LinesShape; totalLines: number };
  partitions: number;
  poolMax: number;
  timeoutMs: number;
  /** How often the flow's progress is polled once the orders topic is consumed (default 250 ms; the end is taken from the commits, not the poll). */
  pollMs?: number;
  /** Write a .cpuprofile of the catch-up phase here. */
  profileFile?: string;
}

export interface CatchUpResult {
  client: KafkaClientName;
  /** The backlog's lines per order. */
  lines: LinesShape;
  orders: number;
  /** Lines of the backlog's orders together. */
  totalLines: number;
  linesPerOrder: number;
  /** From the startProcessor call until the flow was caught up (see the module comment). */
  elapsedMs: number;
  ordersPerSecond: number;
  linesPerSecond: number;
  /** Orders over the time from the first committed batch to the last: the rate once the group has formed. */
  steadyOrdersPerSecond: number;
  startupMs: number;
  /** From the last order's commit on the orders topic to the end: the internal hops' tail. */
  tailMs: number;
  /** Committed batches and their mean size, every topic the topology reads. */
  batches: number;
  meanBatchRecords: number;
  /** Records committed per topic the topology reads (the orders topic, its internal topics). */
  recordsByTopic: Record<string, number>;
  pauses: number;
  cpu: CpuUse;
  /**
   * CPU time per order by group (µs), from the /proc split: unlike the wall-clock rate it does
   * not depend on what else the shared machine was doing. `bench` is this process: processor
   * and relay.
   */
  cpuMicrosPerOrder: Record<string, number>;
  /**
   * What the CPU costs alone would allow on this machine with nothing else running: the
   * processor and relay are one Node thread (1e6 / bench µs), and bench + its PostgreSQL backends + the
   * broker share the cores. An upper bound, not a measurement.
   */
  cpuBoundCeilingOrdersPerSecond: number;
  /** 1-minute load average at the end of the run (2 cores: above 2 means others were queuing for CPU). */
  loadAverage1m: number;
  outcome: OrderOutcome;
  /** Outbox rows not yet published when the flow was caught up (outcome events, InventoryUpdated). */
  outboxBacklogAtEnd: number;
  hotFunctions?: HotFunction[];
}

export async function measureCatchUp(options: CatchUpOptions, logger: Logger): Promise<CatchUpResult> {
  const { config } = options;
  const kafka = createKafkaClient({ kafkaClient: options.client, kafkaBrokers: config.kafkaBrokers }, logger);
  const admin = await kafka.admin();
  const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), { poolMax: options.poolMax });
  try {
    const highWatermarks = await admin.highWatermarks(config.ordersTopic);
    const orders = Number([...highWatermarks.values()].reduce((sum, high) => sum + high, 0n));
    const progress = orderFlowProgress({ sequelize, admin, config });
    const committed = new Map<string, bigint>();
    const recordsByTopic: Record<string, number> = {};
    let batches = 0;
    let pauses = 0;
    let firstCommitAt: number | undefined;
    let lastCommitAt = 0;
    let ordersConsumedAt = 0;
    const relay = await startRelay(config, { sequelize, kafka, logger });
    let app: ProcessorApp | undefined;
    try {
      const profiler = options.profileFile ? await startCpuProfile() : undefined;
      const cpu = measureCpu(databaseName(config.databaseUrl));
      const startedAt = performance.now();
      app = await startProcessor(config, { sequelize, kafka, admin, logger, partitionCount: options.partitions });
      const { runtime } = app;
      const ordersConsumed = new Promise<void>((resolve) => {
        runtime.events$.subscribe((event) => {
          if (event.type === 'paused') pauses++;
          if (event.type !== 'batch-committed') return;
          const now = performance.now();
          firstCommitAt ??= now;
          lastCommitAt = now;
          batches++;
          recordsByTopic[event.topic] = (recordsByTopic[event.topic] ?? 0) + event.records;
          committed.set(tpKey(event), event.nextOffset);
          if (ordersConsumedAt === 0 && [...highWatermarks].every(([partition, high]) => (committed.get(tpKey({ topic: config.ordersTopic, partition })) ?? 0n) >= high)) {
            ordersConsumedAt = now;
            resolve();
          }
        });
      });
      const failed = new Promise<never>((_, reject) => {
        runtime.errors$.subscribe((error) => reject(error));
        app?.failed.catch(reject);
        relay.failed.catch(reject);
      });
      const caughtUp = async () => {
        await ordersConsumed;
        await waitFor(() => progress.caughtUp(), { timeoutMs: options.timeoutMs, intervalMs: options.pollMs ?? 250, message: 'the order flow to catch up' });
        // A caught-up flow commits nothing more, so the last commit is when it got there.
        return lastCommitAt;
      };
      const endedAt = await Promise.race([caughtUp(), failed, timeout(options.timeoutMs, 'catch-up')]);
      const elapsedMs = endedAt - startedAt;
      const cpuUse = cpu();
      const hot = await profiler?.stop(options.profileFile!);
      const outboxBacklogAtEnd = await countUnpublished(sequelize);
      const outcome = await orderOutcome(sequelize);
      if (undecided(outcome) !== 0) throw new Error(`catch-up left ${undecided(outcome)} orders undecided`);
      const records = Object.values(recordsByTopic).reduce((sum, count) => sum + count, 0);
      const steadyMs = firstCommitAt === undefined ? elapsedMs : endedAt - firstCommitAt;
      return {
        client: options.client,
        lines: options.backlog.lines,
        orders,
        totalLines: options.backlog.totalLines,
        linesPerOrder: Math.round((options.backlog.totalLines / Math.max(1, orders)) * 100) / 100,
        elapsedMs: Math.round(elapsedMs),
        ordersPerSecond: Math.round(orders / (elapsedMs / 1000)),
        linesPerSecond: Math.round(options.backlog.totalLines / (elapsedMs / 1000)),
        steadyOrdersPerSecond: Math.round(orders / (steadyMs / 1000)),
        startupMs: Math.round((firstCommitAt ?? endedAt) - startedAt),
        tailMs: Math.round(Math.max(0, endedAt - ordersConsumedAt)),
        batches,
        meanBatchRecords: Math.round(records / Math.max(1, batches)),
        recordsByTopic,
        pauses,
        cpu: cpuUse,
        ...cpuCosts(cpuUse, orders),
        loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
        outcome,
        outboxBacklogAtEnd,
        ...(hot ? { hotFunctions: hot } : {}),
      };
    } finally {
      await app?.stop();
      await relay.stop();
    }
  } finally {
    await admin.close();
    await sequelize.close();
  }
}

/** CPU per order over the whole measured phase (the polls that found the flow done included). */
function cpuCosts(cpu: CpuUse, orders: number): Pick<CatchUpResult, 'cpuMicrosPerOrder' | 'cpuBoundCeilingOrdersPerSecond'> {
  const micros = (cores: number | undefined) => Math.round((((cores ?? 0) * cpu.wallMs * 1000) / orders) * 10) / 10;
  const cpuMicrosPerOrder = Object.fromEntries(Object.entries(cpu.byGroup).map(([group, cores]) => [group, micros(cores)]));
  const node = cpuMicrosPerOrder.bench ?? micros(cpu.processCores);
  const pipeline = node + (cpuMicrosPerOrder['postgres-bench'] ?? 0) + (cpuMicrosPerOrder.kafka ?? 0);
  const ceiling = Math.min(1e6 / node, (cpu.cores * 1e6) / pipeline);
  return { cpuMicrosPerOrder, cpuBoundCeilingOrdersPerSecond: Math.round(ceiling) };
}

export function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms).unref());
}
