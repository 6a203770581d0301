/**
 * `npm run bench -- processor` (or `node bench/processor.ts`): how fast one processor replica
 * catches up on a large backlog of the order flow with each Kafka client, for every shape of
 * order asked for (`--lines`, default single-line and three lines: one backlog per shape, the
 * same orders count over the same products), how that compares with the naive
 * one-transaction-per-order baseline (single-line), and the end-to-end latency of the whole
 * pipeline, order stored to outcome event published, at a steady 2,000 orders/s of the source's
 * default lines mix. Writes bench/results/processor-<date>.{json,md} and prints a JSON summary as
 * the last stdout line.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { appTopics } from '../app/bootstrap.ts';
import { referenceTopology } from '../app/processor-app.ts';
import { parseCommandLine, runMain } from '../core/cli.ts';
import { type AppConfig, DEFAULT_ORDER_LINES, type KafkaClientName, loadConfig, readSetting, SETTINGS } from '../core/config.ts';
import type { CountDistribution } from '../core/count-distribution.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { integerFlag } from '../core/numbers.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { KafkaAdmin } from '../kafka/port.ts';
import { memoryStores } from '../processors/reference-pipeline.ts';
import { seed } from '../state/commerce/seed.ts';
import { withDatabase } from '../state/database-url.ts';
import { connectDatabase, ensureDatabase } from '../state/db.ts';
import { migrate } from '../state/migrator.ts';
import { selectRows } from '../state/sql.ts';
import { runNaiveBaseline } from './naive-baseline.ts';
import { buildBacklog } from './support/backlog.ts';
import { type CatchUpResult, type LinesShape, measureCatchUp } from './support/catch-up.ts';
import { benchDatabaseName, cloneDatabase, DatabaseRegistry } from './support/databases.ts';
import { type LatencyResult, MAX_LATENCY_SECONDS, measureLatency } from './support/latency.ts';
import { takeRepeated } from './support/repeated-flag.ts';
import { type BacklogShape, evaluateTargets, kafkaVersion, machineInfo, type ProcessorBenchResult, summarize, writeResults } from './support/report.ts';

const USAGE = `Usage: node bench/processor.ts [options]   (or: npm run bench -- processor [options])

Options:
  --orders N                      backlog size for the catch-up runs, every shape (default 1000000)
  --lines SPEC                    lines per order of a backlog: N, A-B or N:W,N:W,... (as topology run's --lines);
                                  repeat it for several shapes, each run with every client (default: --lines 1 --lines 3)
  --clients LIST                  comma-separated: platformatic,kafkajs (default both)
  --products N                    catalogue size (default 1000)
  --baseline-orders N             naive baseline sample size (default 20000; on the single-line backlog)
  --baseline-seconds S            ...or this long, whichever ends first (default 60)
  --skip-baseline                 no naive baseline run
  --skip-latency                  no end-to-end latency run
  --latency-rate R                orders/s of the latency run (default 2000)
  --latency-lines SPEC            lines per order of the latency run (default ${DEFAULT_ORDER_LINES}, the source's mix)
  --latency-seconds S             measured seconds of the latency run (default 30, after 5 s warm-up; at most ${MAX_LATENCY_SECONDS})
  --latency-commit-interval-ms MS commit interval of the latency run (default COMMIT_INTERVAL_MS or 50, not
                                  --commit-interval-ms: a long interval buys throughput with latency)
  --latency-layout all|split      one process for every role (default, as topology run), or one per role
  --batch-max-records N           processor micro-batch size (env BATCH_MAX_RECORDS)
  --commit-interval-ms MS         processor micro-batch time bound (env COMMIT_INTERVAL_MS)
  --max-inflight-per-partition N  (env MAX_INFLIGHT_PER_PARTITION)
  --max-inflight-total N          (env MAX_INFLIGHT_TOTAL)
  --pool-max N                    PostgreSQL pool size of the processor and relay (default 10, as topology run)
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
  'latency-lines': { type: 'string' },
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
const DEFAULT_SHAPES = ['1', '3'];
const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
const LATENCY_WARMUP_MS = 5_000;

interface BenchOptions {
  orders: number;
  shapes: CountDistribution[];
  clients: KafkaClientName[];
  products: number;
  baselineOrders: number;
  baselineSeconds: number;
  skipBaseline: boolean;
  skipLatency: boolean;
  latencyRate: number;
  latencyLines: string;
  latencySeconds: number;
  latencyLayout: 'all' | 'split';
  poolMax: number;
  profile: boolean;
  write: boolean;
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { values: lines, rest } = takeRepeated(argv, 'lines');
  const { flags } = parseCommandLine(rest, FLAGS, USAGE);
  const options = parseOptions(flags, lines);
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
  const topics = new Set<string>();
  const date = new Date().toISOString().slice(0, 10);
  /** A run's settings: its database and topics of its own (the orders topic is its backlog's), the topics created. */
  const configFor = async (databaseUrl: string, label: string, ordersTopic = `bench-${label}-orders-${run}`): Promise<AppConfig> => {
    const config = runConfig(base, { databaseUrl, ordersTopic, label: `${label}-${run}` });
    await createRunTopics(admin, config, topics);
    return config;
  };
  /** Deletes a finished run's topics but its backlog's orders topic (they hold a record or more per order: disk). */
  const dropRunTopics = async (config: AppConfig, keep: string) => {
    const names = runTopics(config).filter((topic) => topic !== keep);
    await admin.deleteTopics(names).catch(() => undefined);
    for (const topic of names) topics.delete(topic);
  };
  try {
    const backlogs: BacklogShape[] = [];
    const pipeline: CatchUpResult[] = [];
    let baseline: ProcessorBenchResult['baseline'];
    for (const [index, distribution] of options.shapes.entries()) {
      const lines: LinesShape = { spec: distribution.spec, mean: distribution.mean };
      const shape = `shape${index + 1}`;
      const ordersTopic = `bench-${shape}-orders-${run}`;
      topics.add(ordersTopic);
      const templateUrl = databases.add(withDatabase(base.databaseUrl, benchDatabaseName(`processor_backlog_${shape}`)));
      const backlog = await prepareBacklog(templateUrl, ordersTopic, base, options, distribution, log);
      backlogs.push(backlog);
      for (const client of options.clients) {
        const databaseUrl = databases.add(await cloneDatabase(templateUrl, `processor_${client}_${shape}`));
        const config = { ...(await configFor(databaseUrl, `${client}-${shape}`, ordersTopic)), kafkaClient: client };
        log.info('catch-up run', { client, lines: lines.spec, orders: options.orders });
        const result = await measureCatchUp(
          {
            client,
            config,
            backlog: { lines, totalLines: backlog.totalLines },
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
        await dropRunTopics(config, ordersTopic);
      }
      // The baseline decides an order by its lead line, as the original project did: a single-line backlog only.
      if (!options.skipBaseline && baseline === undefined && lines.mean === 1) {
        baseline = await runBaseline(databases, templateUrl, ordersTopic, base, options, run, log);
      }
      await databases.drop(templateUrl);
      // The next shape's backlog needs the disk this one's topic holds.
      await admin.deleteTopics([ordersTopic]).catch(() => undefined);
      topics.delete(ordersTopic);
    }
    if (!options.skipBaseline && baseline === undefined) log.warn('no naive baseline: it runs on a single-line backlog (--lines 1) and none was asked for');

    let latency: ProcessorBenchResult['latency'];
    if (!options.skipLatency) {
      const databaseUrl = databases.add(withDatabase(base.databaseUrl, benchDatabaseName('processor_latency')));
      const latencyConfig: AppConfig = { ...(await configFor(databaseUrl, 'latency')), commitIntervalMs: latencyCommitIntervalMs };
      latency = { ...(await runLatency(latencyConfig, options, log)), loadAverage1m: loadAverage() };
      await databases.drop(latencyConfig.databaseUrl);
    }

    // The maintenance database: the configured one need not exist (the bench works in databases of its own).
    const pgVersion = await serverVersion(withDatabase(base.databaseUrl, 'postgres'));
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
      backlogs,
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
    await admin.deleteTopics([...topics]).catch(() => undefined);
    await admin.close();
    await databases.dropAll();
  }
}

/** The settings of one run: its database, its backlog's orders topic, and every other topic and the group its own. */
function runConfig(base: AppConfig, { databaseUrl, ordersTopic, label }: { databaseUrl: string; ordersTopic: string; label: string }): AppConfig {
  const topic = (name: string) => `bench-${label}-${name}`;
  return {
    ...base,
    databaseUrl,
    ordersTopic,
    inventoryTopic: topic('inventory'),
    dlqTopic: topic('dlq'),
    restockCommandsTopic: topic('restock-commands'),
    cancelCommandsTopic: topic('cancel-commands'),
    ordersConfirmedTopic: topic('orders-confirmed'),
    ordersRejectedTopic: topic('orders-rejected'),
    ordersCancelledTopic: topic('orders-cancelled'),
    inventoryRestockedTopic: topic('inventory-restocked'),
    consumerGroup: `bench-${label}`,
  };
}

/** Every topic of a run: those `topology run` creates and the processor's internal ones. */
function runTopics(config: AppConfig): string[] {
  return [...appTopics(config).map((spec) => spec.topic), ...referenceTopology(config, memoryStores()).repartitions.map((repartition) => repartition.topic)];
}

/** Creates the run's topics (as `topology run` does; the processor adds its internal ones) and records every one for deletion. */
async function createRunTopics(admin: KafkaAdmin, config: AppConfig, topics: Set<string>): Promise<void> {
  await admin.createTopics(appTopics(config));
  for (const topic of runTopics(config)) topics.add(topic);
}

async function prepareBacklog(templateUrl: string, topic: string, base: AppConfig, options: BenchOptions, lines: CountDistribution, log: Logger): Promise<BacklogShape> {
  await ensureDatabase(templateUrl);
  const sequelize = await connectDatabase(templateUrl, log.child('db'), { poolMax: 4 });
  try {
    await migrate(sequelize, createLogger({ level: 'warn' }));
    log.info('building the backlog', { orders: options.orders, lines: lines.spec, products: options.products, topic, partitions: base.partitions });
    const kafka = createKafkaClient(base, log);
    const stats = await buildBacklog(
      { orders: options.orders, products: options.products, stock: 1_000_000_000, lines, topic, partitions: base.partitions },
      { sequelize, kafka, logger: log },
    );
    log.info('backlog ready', { ...stats });
    return { lines: { spec: lines.spec, mean: lines.mean }, orders: stats.orders, totalLines: stats.lines, buildMs: stats.totalMs };
  } finally {
    // The template must have no open session when it is copied.
    await sequelize.close();
  }
}

async function runBaseline(databases: DatabaseRegistry, templateUrl: string, topic: string, base: AppConfig, options: BenchOptions, run: string, log: Logger): Promise<NonNullable<ProcessorBenchResult['baseline']>> {
  const databaseUrl = databases.add(await cloneDatabase(templateUrl, 'processor_naive'));
  const client = options.clients[0] ?? 'platformatic';
  log.info('naive baseline run', { orders: options.baselineOrders, maxSeconds: options.baselineSeconds, client });
  const result = await runNaiveBaseline(
    {
      databaseUrl,
      kafkaBrokers: base.kafkaBrokers,
      client,
      topic,
      group: `bench-naive-${run}`,
      sampleOrders: Math.min(options.baselineOrders, options.orders),
      maxDurationMs: options.baselineSeconds * 1000,
    },
    createLogger({ level: 'warn', format: base.logFormat }),
  );
  log.info('naive baseline done', { ordersPerSecond: result.ordersPerSecond, orders: result.orders });
  await databases.drop(databaseUrl);
  return { ...result, client, loadAverage1m: loadAverage() };
}

async function runLatency(config: AppConfig, options: BenchOptions, log: Logger): Promise<LatencyResult> {
  await ensureDatabase(config.databaseUrl);
  const sequelize = await connectDatabase(config.databaseUrl, log.child('db'), { poolMax: 2 });
  try {
    await migrate(sequelize, createLogger({ level: 'warn' }));
    await seed(sequelize, { products: options.products, stock: 1_000_000_000 });
    const logFile = join(tmpdir(), `bench-latency-${Date.now()}.log`);
    log.info('latency run', { rate: options.latencyRate, lines: options.latencyLines, seconds: options.latencySeconds, warmupSeconds: LATENCY_WARMUP_MS / 1000, childLog: logFile });
    const result = await measureLatency(
      { config, ratePerSecond: options.latencyRate, lines: options.latencyLines, warmupMs: LATENCY_WARMUP_MS, durationMs: options.latencySeconds * 1000, layout: options.latencyLayout, logFile,
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

function parseOptions(flags: Record<string, string | undefined>, lines: string[]): BenchOptions {
  const clients = (flags.clients ?? CLIENTS.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
  for (const client of clients) if (!(CLIENTS as readonly string[]).includes(client)) throw new ConfigError('--clients', `a list of ${CLIENTS.join('|')}`, flags.clients);
  const shapes = (lines.length > 0 ? lines : DEFAULT_SHAPES).map((spec) => linesSpec(spec));
  const latencyLines = linesSpec(flags['latency-lines'] ?? DEFAULT_ORDER_LINES, 'latency-lines').spec;
  return {
    orders: integerFlag(flags, 'orders', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1_000_000 }),
    shapes,
    clients: clients as KafkaClientName[],
    products: integerFlag(flags, 'products', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1000 }),
    baselineOrders: integerFlag(flags, 'baseline-orders', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 20_000 }),
    baselineSeconds: integerFlag(flags, 'baseline-seconds', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 60 }),
    skipBaseline: flags['skip-baseline'] === 'true',
    skipLatency: flags['skip-latency'] === 'true',
    latencyRate: integerFlag(flags, 'latency-rate', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 2000 }),
    latencyLines,
    latencySeconds: integerFlag(flags, 'latency-seconds', { min: 1, max: MAX_LATENCY_SECONDS, fallback: 30 }),
    latencyLayout: layout(flags['latency-layout']),
    poolMax: integerFlag(flags, 'pool-max', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 10 }),
    profile: flags.profile === 'true',
    write: flags['no-write'] !== 'true',
  };
}

/** A lines spec, checked as topology run checks its --lines; a bad one is refused naming `flag`. */
function linesSpec(raw: string, flag = 'lines'): CountDistribution {
  return readSetting({ ...SETTINGS.orderLines, flag }, {}, { [flag]: raw });
}

function loadAverage(): number {
  return Math.round(os.loadavg()[0]! * 100) / 100;
}

function layout(raw: string | undefined): 'all' | 'split' {
  if (raw === undefined || raw === 'all' || raw === 'split') return raw ?? 'all';
  throw new ConfigError('--latency-layout', 'all or split', raw);
}


if (import.meta.main) await runMain(() => main());
