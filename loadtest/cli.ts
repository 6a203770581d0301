/**
 * `npm run loadtest -- --rate R --duration D ...`: the order source under load. See
 * LOADTEST_USAGE (loadtest/options.ts) for flags and exit codes, and
 * app/order-source/order-source.ts for the stored-and-published guarantee.
 */
import net from 'node:net';
import type { Sequelize } from 'sequelize';
import { createKafkaPublisher } from '../app/order-source/kafka-publisher.ts';
import { OrderSource } from '../app/order-source/order-source.ts';
import { createPostgresLedger } from '../app/order-source/postgres-ledger.ts';
import { acquireSourceLock, type SourceLock } from '../app/order-source/source-lock.ts';
import { checkWritable, parseCommandLine, runMain, writeOutputFile } from '../core/cli.ts';
import { type AppConfig, loadConfig } from '../core/config.ts';
import { ConfigError, errorMessage, ServiceUnavailableError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import { type KafkaAdmin, type KafkaClient, type KafkaProducer, ReplicationFactorError } from '../kafka/port.ts';
import { createOrderGenerator } from '../processors/order-generator.ts';
import { seed } from '../state/commerce/seed.ts';
import { connectDatabase } from '../state/db.ts';
import { migrate } from '../state/migrator.ts';
import { sessionSettingsOf } from '../state/pg-session.ts';
import { selectRows } from '../state/sql.ts';
import { renderHtmlReport } from './html-chart.ts';
import { driveLoad, type LoadOutcome } from './load-driver.ts';
import { LOADTEST_FLAGS, LOADTEST_USAGE, type LoadtestOptions, parseLoadtestOptions } from './options.ts';
import { formatProgressLine, formatSummaryTable } from './progress.ts';
import { type LoadtestReport, latencyFields, loadtestExitCode } from './report.ts';

/** Stock of each product the load generator seeds: plenty, so a long run is not all rejections. */
const SEEDED_STOCK = 1_000_000_000;

async function main(): Promise<number> {
  const { flags } = parseCommandLine(process.argv.slice(2), LOADTEST_FLAGS, LOADTEST_USAGE);
  const options = parseLoadtestOptions(flags);
  const config = loadConfig(process.env, flags);
  // Found out now, not after the run: the report goes there at the end.
  if (options.jsonFile) checkWritable(options.jsonFile, '--json');
  if (options.htmlFile) checkWritable(options.htmlFile, '--html');
  const logger = createLogger({ level: config.logLevel, format: config.logFormat }).child('loadtest');

  const resources: Array<() => Promise<unknown>> = [];
  const closeAll = async () => {
    for (const close of resources.reverse()) await close().catch(() => undefined);
  };
  try {
    await requireBroker(config.kafkaBrokers);
    const sequelize = await connectDatabase(config.databaseUrl, logger.child('db'), { poolMax: 6, session: sessionSettingsOf(config, 'kstream-loadtest') });
    resources.push(() => sequelize.close());
    await migrate(sequelize, logger);
    const productIds = await ensureCatalogue(sequelize, options.products, logger);

    const kafka = createKafkaClient(config, logger);
    const admin = await ensureOrdersTopic(kafka, config);
    resources.push(() => admin.close());
    const producer = await kafka.producer({ clientId: `order-source-${options.sourceId}` });
    resources.push(() => producer.close());

    const lock = await acquireSourceLock(config.databaseUrl, options.sourceId, logger, sessionSettingsOf(config, `kstream-source-lock-${options.sourceId}`));
    resources.push(() => lock.release());
    return await runLoad({ sequelize, producer, admin, lock, productIds, options, config, logger });
  } finally {
    await closeAll();
  }
}

interface Session {
  sequelize: Sequelize;
  producer: KafkaProducer;
  /** Reads the orders topic's size limit: the publisher's sends stay under it. */
  admin: KafkaAdmin;
  lock: SourceLock;
  productIds: number[];
  options: LoadtestOptions;
  config: AppConfig;
  logger: Logger;
}

async function runLoad({ sequelize, producer, admin, lock, productIds, options, config, logger }: Session): Promise<number> {
  const source = new OrderSource({
    ledger: createPostgresLedger(sequelize, options.sourceId),
    publisher: createKafkaPublisher(producer, config.ordersTopic, admin),
    generator: createOrderGenerator({
      productIds,
      popularity: options.skew === 0 ? { kind: 'uniform' } : { kind: 'zipf', skew: options.skew },
      seed: options.seed,
      lineCounts: config.orderLines,
    }),
    ownership: lock,
    logger: logger.child('source', { sourceId: options.sourceId }),
    maxBatch: options.maxBatch,
  });

  // First Ctrl-C: stop scheduling and drain. Second: stop retrying too; what is stored but
  // unpublished is published by the next start's recovery.
  const stop = new AbortController();
  const abort = new AbortController();
  const onSigint = () => {
    if (!stop.signal.aborted) {
      process.stderr.write('\nstopping: draining what is stored (Ctrl-C again to give up at once)\n');
      stop.abort();
    } else abort.abort();
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);

  const cpuBefore = process.cpuUsage();
  const startedAt = new Date().toISOString();
  const tty = process.stderr.isTTY === true;
  let outcome: LoadOutcome;
  let recovered: number;
  try {
    recovered = await source.recover({ abort: abort.signal });
    outcome = await driveLoad(
      source,
      options.rate === 'max'
        ? { kind: 'max', stepMs: options.durationMs! }
        : { kind: 'fixed', ratePerSecond: options.rate, ...(options.count === undefined ? { durationMs: options.durationMs! } : { count: options.count }) },
      {
        logger,
        control: { stop: stop.signal, abort: abort.signal },
        onProgress: (sample) => process.stderr.write(tty ? `\r${formatProgressLine(sample)}\x1b[K` : `${formatProgressLine(sample)}\n`),
      },
    );
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    if (tty) process.stderr.write('\n');
  }

  const cpu = process.cpuUsage(cpuBefore);
  const best = outcome.best;
  const counters = source.counters();
  const published = outcome.runs.reduce((sum, run) => sum + run.published, 0);
  const publishedLines = outcome.runs.reduce((sum, run) => sum + run.publishedLines, 0);
  const report: LoadtestReport = {
    target: options.rate,
    achieved: Math.round(best?.achievedRate ?? 0),
    count: published,
    lines: config.orderLines.spec,
    linesPerOrder: published === 0 ? 0 : Math.round((publishedLines / published) * 100) / 100,
    recovered,
    errors: counters.errors,
    latency: latencyFields(best?.latency ?? { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, min: 0, count: 0 }),
    client: config.kafkaClient,
    sourceId: options.sourceId,
    partitions: config.partitions,
    cpu: { userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) },
    rssPeakBytes: outcome.rssPeakBytes,
    durationMs: Math.round(outcome.elapsedMs),
    stopped: outcome.runs.some((run) => run.stopped),
    ...(options.rate === 'max' ? { steps: outcome.steps } : {}),
    startedAt,
  };
  process.stdout.write(
    `${formatSummaryTable({
      client: report.client,
      target: report.target,
      achieved: report.achieved,
      count: report.count,
      linesPerOrder: report.linesPerOrder,
      lines: report.lines,
      errors: report.errors,
      durationMs: report.durationMs,
      latency: best?.latency ?? { p50: 0, p90: 0, p99: 0, p999: 0, max: 0, min: 0, count: 0 },
      cpuUserMs: report.cpu.userMs,
      cpuSystemMs: report.cpu.systemMs,
      rssPeakBytes: report.rssPeakBytes,
      recovered,
    })}\n`,
  );
  if (options.jsonFile) writeOutputFile(options.jsonFile, `${JSON.stringify(report, null, 2)}\n`, '--json');
  if (options.htmlFile) {
    const summary: Record<string, string> = {
      client: report.client,
      target: report.target === 'max' ? 'max' : `${report.target}/s`,
      achieved: `${report.achieved}/s`,
      'lines per order': `${report.linesPerOrder} (--lines ${report.lines})`,
      published: String(report.count),
      errors: String(report.errors),
      'p50 / p99 / max': `${report.latency.p50} / ${report.latency.p99} / ${report.latency.max} ms`,
      started: startedAt,
    };
    writeOutputFile(options.htmlFile, renderHtmlReport(`Order source load test (${report.client})`, summary, outcome.timeline), '--html');
  }
  return loadtestExitCode(report);
}

/** Fails fast with one line when no broker answers, instead of a client retrying for minutes. */
async function requireBroker(brokers: string[]): Promise<void> {
  const answers = await Promise.all(brokers.map((broker) => canConnect(broker)));
  if (!answers.some(Boolean)) {
    throw new ServiceUnavailableError('Kafka', `no broker answers at ${brokers.join(',')} (npm run services:up starts one)`);
  }
}

function canConnect(hostPort: string, timeoutMs = 3000): Promise<boolean> {
  const index = hostPort.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostPort.slice(0, index), port: Number(hostPort.slice(index + 1)), timeout: timeoutMs });
    const finish = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => finish(true));
    socket.once('timeout', () => finish(false));
    socket.once('error', () => finish(false));
  });
}

/** Creates the orders topic if missing; returns the admin client, which the publisher keeps for the topic's size limit. */
async function ensureOrdersTopic(kafka: KafkaClient, config: AppConfig): Promise<KafkaAdmin> {
  let admin: KafkaAdmin | undefined;
  try {
    admin = await kafka.admin();
    await admin.createTopics([{ topic: config.ordersTopic, partitions: config.partitions, replicationFactor: config.replicationFactor }]);
    return admin;
  } catch (error) {
    await admin?.close().catch(() => undefined);
    if (error instanceof ReplicationFactorError) throw new ConfigError('REPLICATION_FACTOR', `-1 (the broker's default) or at most the number of brokers; ${error.message}`, String(error.replicationFactor));
    throw new ServiceUnavailableError('Kafka', `cannot create topic ${config.ordersTopic} at ${config.kafkaBrokers.join(',')}: ${errorMessage(error)}`, error);
  }
}

/** The product ids to order from; seeds products 1..N when `--products N` asks for more than there are. */
async function ensureCatalogue(sequelize: Sequelize, wanted: number | undefined, logger: Logger): Promise<number[]> {
  const listIds = async () => (await selectRows<{ id: number }>(sequelize, 'SELECT id FROM products ORDER BY id')).map((row) => row.id);
  let ids = await listIds();
  if (wanted !== undefined && ids.length < wanted) {
    const seeded = await seed(sequelize, { products: wanted, stock: SEEDED_STOCK });
    logger.info(`the catalogue had ${ids.length} products; seeded ${seeded.productsInserted} (ids 1..${wanted}) with ${SEEDED_STOCK} units each`);
    ids = await listIds();
  }
  if (ids.length === 0) {
    throw new ConfigError('--products', 'a number of products to seed, because the catalogue is empty', undefined);
  }
  // Under Zipf the first ids are the most popular; with --products N only 1..N take part.
  return wanted === undefined ? ids : ids.slice(0, wanted);
}

await runMain(main);
