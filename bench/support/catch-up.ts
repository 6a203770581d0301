/**
 * One catch-up measurement: the real processor (startProcessor: StreamRuntime + transactional
 * sink + PostgreSQL stores) started in this process on a copy of the backlog database, timed
 * from the call to startProcessor until its committed offsets reach the topic's high
 * watermarks on every partition.
 */
import os from 'node:os';
import { startProcessor } from '../../app/processor-app.ts';
import type { AppConfig, KafkaClientName } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import { countOrdersByStatus } from '../../state/commerce/order-store.ts';
import { databaseName } from '../../state/database-url.ts';
import { connectDatabase } from '../../state/db.ts';
import { type HotFunction, startCpuProfile } from './cpu-profile.ts';
import { type CpuUse, measureCpu } from './machine-load.ts';
import { remainingLag, waitFor } from './wait.ts';

export interface CatchUpOptions {
  client: KafkaClientName;
  /** Settings of the processor; databaseUrl, ordersTopic and consumerGroup name the backlog's copy. */
  config: AppConfig;
  partitions: number;
  poolMax: number;
  timeoutMs: number;
  /** Write a .cpuprofile of the catch-up phase here. */
  profileFile?: string;
}

export interface CatchUpResult {
  client: KafkaClientName;
  orders: number;
  /** From the startProcessor call until every partition's stored offset reached its high watermark. */
  elapsedMs: number;
  ordersPerSecond: number;
  /** From the first committed batch to the last: the rate once the group has formed. */
  steadyOrdersPerSecond: number;
  startupMs: number;
  batches: number;
  meanBatchRecords: number;
  pauses: number;
  cpu: CpuUse;
  /**
   * CPU time per order by group (µs), from the /proc split: unlike the wall-clock rate it does
   * not depend on what else the shared machine was doing.
   */
  cpuMicrosPerOrder: Record<string, number>;
  /**
   * What the CPU costs alone would allow on this machine with nothing else running: the
   * processor is one Node thread (1e6 / bench µs), and bench + its PostgreSQL backends + the
   * broker share the cores. An upper bound, not a measurement.
   */
  cpuBoundCeilingOrdersPerSecond: number;
  /** 1-minute load average at the end of the run (2 cores: above 2 means others were queuing for CPU). */
  loadAverage1m: number;
  outcome: { pending: number; confirmed: number; rejected: number };
  hotFunctions?: HotFunction[];
}

export async function measureCatchUp(options: CatchUpOptions, logger: Logger): Promise<CatchUpResult> {
  const { config } = options;
  const kafka = createKafkaClient({ kafkaClient: options.client, kafkaBrokers: config.kafkaBrokers }, logger);
  const admin = await kafka.admin();
  const highWatermarks = await admin.highWatermarks(config.ordersTopic);
  await admin.close();
  const orders = Number([...highWatermarks.values()].reduce((sum, high) => sum + high, 0n));
  const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), { poolMax: options.poolMax });
  try {
    const committed = new Map<number, bigint>();
    let batches = 0;
    let records = 0;
    let pauses = 0;
    let firstCommitAt: number | undefined;
    let lastCommitAt = 0;
    const profiler = options.profileFile ? await startCpuProfile() : undefined;
    const cpu = measureCpu(databaseName(config.databaseUrl));
    const startedAt = performance.now();
    const app = await startProcessor(config, { sequelize, kafka, logger });
    const caughtUp = new Promise<void>((resolve) => {
      app.runtime.events$.subscribe((event) => {
        if (event.type === 'paused') pauses++;
        if (event.type !== 'batch-committed') return;
        const now = performance.now();
        firstCommitAt ??= now;
        lastCommitAt = now;
        batches++;
        records += event.records;
        committed.set(event.partition, event.nextOffset);
        if ([...highWatermarks].every(([partition, high]) => (committed.get(partition) ?? 0n) >= high)) resolve();
      });
    });
    const failed = new Promise<never>((_, reject) => app.runtime.errors$.subscribe((error) => reject(error)));
    await Promise.race([caughtUp, failed, timeout(options.timeoutMs, 'catch-up')]);
    const elapsedMs = performance.now() - startedAt;
    const cpuUse = cpu();
    const hot = await profiler?.stop(options.profileFile!);
    await app.stop();
    // The database, not the events, is the truth: check it agrees.
    await waitFor(async () => ((await remainingLag(sequelize, config.consumerGroup, config.ordersTopic, highWatermarks)) === 0n), {
      timeoutMs: 10_000,
      message: 'stored offsets to match the high watermarks',
    });
    const outcome = await countOrdersByStatus(sequelize);
    if (outcome.pending !== 0) throw new Error(`catch-up left ${outcome.pending} orders pending`);
    const steadyMs = firstCommitAt === undefined ? elapsedMs : lastCommitAt - firstCommitAt;
    return {
      client: options.client,
      orders,
      elapsedMs: Math.round(elapsedMs),
      ordersPerSecond: Math.round(orders / (elapsedMs / 1000)),
      steadyOrdersPerSecond: Math.round(records / (steadyMs / 1000)),
      startupMs: Math.round((firstCommitAt ?? performance.now()) - startedAt),
      batches,
      meanBatchRecords: Math.round(records / Math.max(1, batches)),
      pauses,
      cpu: cpuUse,
      ...cpuCosts(cpuUse, elapsedMs, orders),
      loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
      outcome,
      ...(hot ? { hotFunctions: hot } : {}),
    };
  } finally {
    await sequelize.close();
  }
}

function cpuCosts(cpu: CpuUse, elapsedMs: number, orders: number): Pick<CatchUpResult, 'cpuMicrosPerOrder' | 'cpuBoundCeilingOrdersPerSecond'> {
  const micros = (cores: number | undefined) => Math.round((((cores ?? 0) * elapsedMs * 1000) / orders) * 10) / 10;
  const cpuMicrosPerOrder = Object.fromEntries(Object.entries(cpu.byGroup).map(([group, cores]) => [group, micros(cores)]));
  const node = cpuMicrosPerOrder.bench ?? micros(cpu.processCores);
  const pipeline = node + (cpuMicrosPerOrder['postgres-bench'] ?? 0) + (cpuMicrosPerOrder.kafka ?? 0);
  const ceiling = Math.min(1e6 / node, (cpu.cores * 1e6) / pipeline);
  return { cpuMicrosPerOrder, cpuBoundCeilingOrdersPerSecond: Math.round(ceiling) };
}

export function timeout(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms).unref());
}
