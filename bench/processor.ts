/**
 * `npm run bench -- processor` (or `node bench/processor.ts`): how fast one processor replica
 * catches up on a large backlog with each Kafka client, how that compares with the naive
 * one-transaction-per-order baseline, and the end-to-end latency of the whole pipeline at a
 * steady 5,000 orders/s. Writes bench/results/processor-<date>.{json,md} and prints a JSON
 * summary as the last stdout line.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, runMain } from '../core/cli.ts';
import { type AppConfig, type KafkaClientName, loadConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { integerFlag } from '../core/numbers.ts';
import { createKafkaClient } from '../kafka/index.ts';
import { seed } from '../state/commerce/seed.ts';
import { withDatabase } from '../state/database-url.ts';
import { connectDatabase, ensureDatabase } from '../state/db.ts';
import { migrate } from '../state/migrator.ts';
import { selectRows } from '../state/sql.ts';
import { runNaiveBaseline } from './naive-baseline.ts';
import { buildBacklog } from './support/backlog.ts';
import { type CatchUpResult, measureCatchUp } from './support/catch-up.ts';
import { benchDatabaseName, cloneDatabase, DatabaseRegistry } from './support/databases.ts';
import { type LatencyResult, measureLatency } from './support/latency.ts';
import { evaluateTargets, kafkaVersion, machineInfo, type ProcessorBenchResult, summarize, writeResults } from './support/report.ts';

const USAGE = `Usage: node bench/processor.ts [options]   (or: npm run bench -- processor [options])

Options:
  --orders N                      backlog size for the catch-up runs (default 1000000)
  --clients LIST                  comma-separated: platformatic,kafkajs (default both)
  --products N                    catalogue size (default 1000)
  --baseline-orders N             naive baseline sample size (default 20000)
  --baseline-seconds S            ...or this long, whichever ends first (default 60)
  --skip-baseline                 no naive baseline run
  --skip-latency                  no end-to-end latency run
  --latency-rate R                orders/s of the latency run (default 5000)
  --latency-seconds S             measured seconds of the latency run (default 30, after 5 s warm-up)
  --latency-commit-interval-ms MS commit interval of the latency run (default COMMIT_INTERVAL_MS or 50, not
                                  --commit-interval-ms: a long interval buys throughput with latency)
  --latency-layout all|split      one process for source+processor+relay (default, as topology run), or one per role
  --batch-max-records N           processor micro-batch size (env BATCH_MAX_RECORDS)
  --commit-interval-ms MS         processor micro-batch time bound (env COMMIT_INTERVAL_MS)
  --max-inflight-per-partition N  (env MAX_INFLIGHT_PER_PARTITION)
  --max-inflight-total N          (env MAX_INFLIGHT_TOTAL)
  --pool-max N                    PostgreSQL pool size of the processor (default 10, as topology run)
  --profile                       CPU-profile the first catch-up run (<tmpdir>/processor-<date>.cpuprofile; top
                                  functions go into the results) and the latency run's processes (node --cpu-prof,
                                  into <tmpdir>/processor-latency-profiles/)
  --no-write                      do not write bench/results files (iteration)
`;

const FLAGS = {
  orders: { type: 'string' },
  clients: { type: 'string' },
  products: { type: 'string' },
  'baseline-orders': { type: 'string' },
  'baseline-seconds': { type: 'string' },
  'skip-baseline': { type: 'boolean' },
  'skip-latency': { type: 'boolean' },
  'latency-rate': { type: 'string' },
  'latency-seconds': { type: 'string' },
  'latency-layout': { type: 'string' },
  'latency-commit-interval-ms': { type: 'string' },
  'batch-max-records': { type: 'string' },
  'commit-interval-ms': { type: 'string' },
  'max-inflight-per-partition': { type: 'string' },
  'max-inflight-total': { type: 'string' },
  'pool-max': { type: 'string' },
  profile: { type: 'boolean' },
  'no-write': { type: 'boolean' },
} as const;

const CLIENTS: readonly KafkaClientName[] = ['platformatic', 'kafkajs'];
const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
const LATENCY_WARMUP_MS = 5_000;

interface BenchOptions {
  orders: number;
  clients: KafkaClientName[];
  products: number;
  baselineOrders: number;
  baselineSeconds: number;
  skipBaseline: boolean;
  skipLatency: boolean;
  latencyRate: number;
  latencySeconds: number;
  latencyLayout: 'all' | 'split';
  poolMax: number;
  profile: boolean;
  write: boolean;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { flags } = parseCommandLine(argv, FLAGS, USAGE);
  const options = parseOptions(flags);
  // Flags win over the environment, as everywhere in the project.
  const env = {
    ...process.env,
    ...(flags['max-inflight-per-partition'] ? { MAX_INFLIGHT_PER_PARTITION: flags['max-inflight-per-partition'] } : {}),
    ...(flags['max-inflight-total'] ? { MAX_INFLIGHT_TOTAL: flags['max-inflight-total'] } : {}),
  };
  const base = loadConfig(env, { 'batch-max-records': flags['batch-max-records'], 'commit-interval-ms': flags['commit-interval-ms'] });
  const latencyCommitIntervalMs = loadConfig(env, { 'commit-interval-ms': flags['latency-commit-interval-ms'] }).commitIntervalMs;
  const log = createLogger({ level: 'info', format: base.logFormat }).child('bench');
  const quiet = createLogger({ level: 'warn', format: base.logFormat });
  const run = randomBytes(3).toString('hex');
  const databases = new DatabaseRegistry();
  const kafka = createKafkaClient(base, quiet);
  const admin = await kafka.admin();
  const topics: string[] = [];
  const date = new Date().toISOString().slice(0, 10);
  try {
    const ordersTopic = `bench-orders-${run}`;
    topics.push(ordersTopic);
    const templateUrl = databases.add(withDatabase(base.databaseUrl, benchDatabaseName('processor_backlog')));
    const backlog = await prepareBacklog(templateUrl, ordersTopic, base, options, log);
    const configFor = (databaseUrl: string, label: string): AppConfig => ({
      ...base,
      databaseUrl,
      ordersTopic,
      inventoryTopic: `bench-inventory-${run}`,
      dlqTopic: `bench-dlq-${run}`,
      consumerGroup: `bench-${label}-${run}`,
    });

    const pipeline: CatchUpResult[] = [];
    for (const client of options.clients) {
      const databaseUrl = databases.add(await cloneDatabase(templateUrl, `processor_${client}`));
      log.info('catch-up run', { client, orders: options.orders });
      const result = await measureCatchUp(
        {
          client,
          config: { ...configFor(databaseUrl, client), kafkaClient: client },
          partitions: base.partitions,
          poolMax: options.poolMax,
          timeoutMs: 30 * 60_000,
          ...(options.profile && pipeline.length === 0 ? { profileFile: join(tmpdir(), `processor-${date}.cpuprofile`) } : {}),
        },
        quiet,
      );
      log.info('catch-up done', { ...result, hotFunctions: result.hotFunctions?.slice(0, 10) });
      pipeline.push(result);
      await databases.drop(databaseUrl);
    }

    let baseline: ProcessorBenchResult['baseline'];
    if (!options.skipBaseline) {
      const databaseUrl = databases.add(await cloneDatabase(templateUrl, 'processor_naive'));
      const client = options.clients[0] ?? 'platformatic';
      log.info('naive baseline run', { orders: options.baselineOrders, maxSeconds: options.baselineSeconds, client });
      const result = await runNaiveBaseline(
        {
          databaseUrl,
          kafkaBrokers: base.kafkaBrokers,
          client,
          topic: ordersTopic,
          group: `bench-naive-${run}`,
          sampleOrders: Math.min(options.baselineOrders, options.orders),
          maxDurationMs: options.baselineSeconds * 1000,
        },
        quiet,
      );
      baseline = { ...result, client, loadAverage1m: loadAverage() };
      log.info('naive baseline done', { ordersPerSecond: result.ordersPerSecond, orders: result.orders });
      await databases.drop(databaseUrl);
    }

    let latency: ProcessorBenchResult['latency'];
    if (!options.skipLatency) {
      const latencyConfig: AppConfig = {
        ...configFor(databases.add(withDatabase(base.databaseUrl, benchDatabaseName('processor_latency'))), 'latency'),
        ordersTopic: `bench-latency-orders-${run}`,
        inventoryTopic: `bench-latency-inventory-${run}`,
        dlqTopic: `bench-latency-dlq-${run}`,
        commitIntervalMs: latencyCommitIntervalMs,
      };
      topics.push(latencyConfig.ordersTopic, latencyConfig.inventoryTopic, latencyConfig.dlqTopic);
      latency = { ...(await runLatency(latencyConfig, options, log)), loadAverage1m: loadAverage() };
      await databases.drop(latencyConfig.databaseUrl);
    }

    const pgVersion = await serverVersion(base.databaseUrl);
    const partial = {
      date,
      command: `node bench/processor.ts ${argv.join(' ')}`.trim(),
      machine: machineInfo({ postgres: pgVersion, kafka: kafkaVersion(fileURLToPath(new URL('../.kafka/libs', import.meta.url))) }),
      settings: {
        orders: options.orders,
        products: options.products,
        partitions: base.partitions,
        batchMaxRecords: base.batchMaxRecords,
        commitIntervalMs: base.commitIntervalMs,
        maxInflightPerPartition: base.maxInflightPerPartition,
        maxInflightTotal: base.maxInflightTotal,
        poolMax: options.poolMax,
      },
      backlog,
      pipeline,
      ...(baseline ? { baseline } : {}),
      ...(latency ? { latency } : {}),
    };
    const result: ProcessorBenchResult = { ...partial, targets: evaluateTargets(partial) };
    if (options.write) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const files = writeResults(RESULTS_DIR, result);
      log.info('results written', files);
    }
    process.stdout.write(`${JSON.stringify(summarize(result))}\n`);
    return 0;
  } finally {
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.close();
    await databases.dropAll();
  }
}

async function prepareBacklog(templateUrl: string, topic: string, base: AppConfig, options: BenchOptions, log: Logger): Promise<{ orders: number; buildMs: number }> {
  await ensureDatabase(templateUrl);
  const sequelize = await connectDatabase(templateUrl, log.child('db'), { poolMax: 4 });
  try {
    await migrate(sequelize, createLogger({ level: 'warn' }));
    log.info('building the backlog', { orders: options.orders, products: options.products, topic, partitions: base.partitions });
    const kafka = createKafkaClient(base, log);
    const stats = await buildBacklog(
      { orders: options.orders, products: options.products, stock: 1_000_000_000, topic, partitions: base.partitions },
      { sequelize, kafka, logger: log },
    );
    log.info('backlog ready', { ...stats });
    return { orders: stats.orders, buildMs: stats.totalMs };
  } finally {
    // The template must have no open session when it is copied.
    await sequelize.close();
  }
}

async function runLatency(config: AppConfig, options: BenchOptions, log: Logger): Promise<LatencyResult> {
  await ensureDatabase(config.databaseUrl);
  const sequelize = await connectDatabase(config.databaseUrl, log.child('db'), { poolMax: 2 });
  try {
    await migrate(sequelize, createLogger({ level: 'warn' }));
    await seed(sequelize, { products: options.products, stock: 1_000_000_000 });
    const logFile = join(tmpdir(), `bench-latency-${Date.now()}.log`);
    log.info('latency run', { rate: options.latencyRate, seconds: options.latencySeconds, warmupSeconds: LATENCY_WARMUP_MS / 1000, childLog: logFile });
    const result = await measureLatency(
      { config, ratePerSecond: options.latencyRate, warmupMs: LATENCY_WARMUP_MS, durationMs: options.latencySeconds * 1000, layout: options.latencyLayout, logFile,
        ...(options.profile ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', join(tmpdir(), 'processor-latency-profiles')] } : {}) },
      sequelize,
    );
    log.info('latency done', { ...result, definition: undefined });
    return result;
  } finally {
    await sequelize.close();
  }
}

async function serverVersion(url: string): Promise<string> {
  const sequelize = await connectDatabase(url, createLogger({ level: 'warn' }), { poolMax: 1 });
  try {
    const [row] = await selectRows<{ server_version: string }>(sequelize, 'SHOW server_version');
    return row?.server_version ?? 'unknown';
  } finally {
    await sequelize.close();
  }
}

function parseOptions(flags: Record<string, string | undefined>): BenchOptions {
  const clients = (flags.clients ?? CLIENTS.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
  for (const client of clients) if (!(CLIENTS as readonly string[]).includes(client)) throw new ConfigError('--clients', `a list of ${CLIENTS.join('|')}`, flags.clients);
  return {
    orders: integerFlag(flags, 'orders', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1_000_000 }),
    clients: clients as KafkaClientName[],
    products: integerFlag(flags, 'products', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1000 }),
    baselineOrders: integerFlag(flags, 'baseline-orders', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 20_000 }),
    baselineSeconds: integerFlag(flags, 'baseline-seconds', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 60 }),
    skipBaseline: flags['skip-baseline'] === 'true',
    skipLatency: flags['skip-latency'] === 'true',
    latencyRate: integerFlag(flags, 'latency-rate', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 5000 }),
    latencySeconds: integerFlag(flags, 'latency-seconds', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 30 }),
    latencyLayout: layout(flags['latency-layout']),
    poolMax: integerFlag(flags, 'pool-max', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 10 }),
    profile: flags.profile === 'true',
    write: flags['no-write'] !== 'true',
  };
}

function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

function layout(raw: string | undefined): 'all' | 'split' {
  if (raw === undefined || raw === 'all' || raw === 'split') return raw ?? 'all';
  throw new ConfigError('--latency-layout', 'all or split', raw);
}


if (import.meta.main) await runMain(() => main());
