/**
 * `npm run bench -- source [--step 5s] [--steady 15s] [--clients platformatic,kafkajs] [--cpu-prof]`
 *
 * The order source as users run it (`npm run loadtest`, a child process per measurement, on a
 * fresh database and a fresh 12-partition topic): per Kafka client, the highest sustained rate
 * (`--rate max`: achieved >= 95% of target with p99 <= 1 s) and the publish latency at 5k/s
 * and 20k/s. Latency is open-loop: from each order's intended send time to the broker's ack of
 * its batch, after its INSERT committed. Writes bench/results/source-<date>.json, appends a
 * summary to bench/results/source.md, and prints a JSON summary as its last stdout line.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine } from '../core/cli.ts';
import { type KafkaClientName, loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { parseDuration } from '../core/numbers.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { LoadtestReport } from '../loadtest/report.ts';
import { withDatabase } from '../state/database-url.ts';
import { dropDatabase, ensureDatabase } from '../state/db.ts';
import { measureCpu } from './support/machine-load.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const RESULTS = path.join(ROOT, 'bench', 'results');
const LOADTEST = path.join(ROOT, 'loadtest', 'cli.ts');
const TARGET_RATE = 100_000;

const USAGE = `Usage: npm run bench -- source [--step 5s] [--steady 15s] [--clients platformatic,kafkajs] [--cpu-prof]

Per Kafka client: the highest sustained order-source rate (--rate max, steps of --step), then
--steady runs at 5k/s and 20k/s. Results: bench/results/source-<date>.json and source.md;
the last stdout line is a JSON summary.
`;
const { flags } = parseCommandLine(
  process.argv.slice(2),
  { step: { type: 'string' }, steady: { type: 'string' }, clients: { type: 'string' }, 'cpu-prof': { type: 'boolean' } },
  USAGE,
);
const values = { step: flags.step ?? '5s', steady: flags.steady ?? '15s', clients: flags.clients ?? 'platformatic,kafkajs', 'cpu-prof': flags['cpu-prof'] === 'true' };
const stepMs = parseDuration(values.step);
const steadyMs = parseDuration(values.steady);
const clients = values.clients.split(',').map((c) => c.trim()) as KafkaClientName[];
if (!stepMs || !steadyMs || clients.some((c) => c !== 'platformatic' && c !== 'kafkajs')) {
  process.stderr.write('error: --step/--steady take durations (5s, 1m) and --clients a list of platformatic,kafkajs\n');
  process.exit(2);
}

const config = loadConfig();
const logger = createLogger({ level: config.logLevel, format: config.logFormat }).child('bench.source');
const suffix = `${Date.now().toString(36)}${process.pid}`;
const databaseUrl = withDatabase(config.databaseUrl, `bench_source_${suffix}`);
const topic = `bench-source-orders-${suffix}`;
const workDir = path.join(os.tmpdir(), `bench-source-${suffix}`);
mkdirSync(workDir, { recursive: true });

/** One `npm run loadtest` run; resolves to its JSON report. */
function loadtest(client: KafkaClientName, label: string, args: string[], cpuProf = false): Promise<LoadtestReport> {
  const jsonFile = path.join(workDir, `${client}-${label}.json`);
  const nodeArgs = cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(os.tmpdir(), 'bench-source-profiles')}`] : [];
  const argv = [...nodeArgs, LOADTEST, '--client', client, '--products', '1000', '--source-id', `bench-${client}`, '--json', jsonFile, ...args];
  logger.info(`loadtest ${label}`, { client, args: args.join(' ') });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, {
      env: { ...process.env, DATABASE_URL: databaseUrl, ORDERS_TOPIC: topic, LOG_LEVEL: 'warn', PARTITIONS: '12' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    child.on('exit', (code) => {
      // 3 = target missed: expected while searching and still a valid measurement.
      if (code === 0 || code === 3) resolve(JSON.parse(readFileSync(jsonFile, 'utf8')) as LoadtestReport);
      else reject(new Error(`loadtest ${label} (${client}) exited ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
}

interface ClientResult {
  client: KafkaClientName;
  maxSustained: number;
  maxSearch: LoadtestReport;
  machineCoresDuringSearch: number;
  otherCoresDuringSearch: number;
  at5k: LoadtestReport;
  at20k: LoadtestReport;
}

async function benchClient(client: KafkaClientName): Promise<ClientResult> {
  await loadtest(client, 'warmup', ['--rate', '5000', '--duration', '3s']);
  const cpu = measureCpu(`bench_source_${suffix}`);
  const maxSearch = await loadtest(client, 'max', ['--rate', 'max', '--duration', `${stepMs}ms`], values['cpu-prof']);
  const use = cpu();
  const at5k = await loadtest(client, '5k', ['--rate', '5000', '--duration', `${steadyMs}ms`]);
  const at20k = await loadtest(client, '20k', ['--rate', '20000', '--duration', `${steadyMs}ms`]);
  logger.info('client done', { client, maxSustained: maxSearch.achieved, p99At5k: at5k.latency.p99, p99At20k: at20k.latency.p99 });
  return {
    client,
    maxSustained: maxSearch.achieved,
    maxSearch,
    machineCoresDuringSearch: use.machineCores,
    otherCoresDuringSearch: use.byGroup.other ?? 0,
    at5k,
    at20k,
  };
}

async function cleanup(): Promise<void> {
  await dropDatabase(databaseUrl).catch((error: unknown) => logger.warn('could not drop the bench database', { error: String(error) }));
  const admin = await createKafkaClient(config, logger).admin();
  await admin.deleteTopics([topic]).catch(() => undefined);
  await admin.close();
  rmSync(workDir, { recursive: true, force: true });
}

function markdown(date: string, results: ClientResult[], machine: Record<string, string | number>): string {
  const rows = results.map(
    (r) =>
      `| ${r.client} | ${r.maxSustained.toLocaleString('en-US')}/s | ${r.maxSearch.latency.p99} ms | ${r.at5k.achieved}/s, p50 ${r.at5k.latency.p50} ms, p99 ${r.at5k.latency.p99} ms | ${r.at20k.achieved}/s, p50 ${r.at20k.latency.p50} ms, p99 ${r.at20k.latency.p99} ms | ${r.machineCoresDuringSearch} (${r.otherCoresDuringSearch} other) |`,
  );
  return [
    `\n## ${date}: order source (\`npm run bench -- source --step ${values.step} --steady ${values.steady}\`)\n`,
    `Machine: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, Node ${machine.node}; broker and PostgreSQL on the same machine.`,
    `Each order: ${config.orderLines.mean} lines on average (ORDER_LINES ${config.orderLines.spec}), stored with one multi-row INSERT of orders and order_lines per batch, then one producer send per batch (acks=all, idempotent); latency from intended send time (open loop) to ack.\n`,
    '| client | max sustained (>=95% of target, p99 <= 1 s) | p99 at max | at 5k/s | at 20k/s | machine cores busy during search |',
    '|---|---|---|---|---|---|',
    ...rows,
    `\nTarget: ${TARGET_RATE.toLocaleString('en-US')} orders/s from one process.\n`,
  ].join('\n');
}

async function main(): Promise<void> {
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: os.loadavg()[0]!.toFixed(2),
  };
  await ensureDatabase(databaseUrl);
  const results: ClientResult[] = [];
  try {
    for (const client of clients) results.push(await benchClient(client));
  } finally {
    await cleanup();
  }
  const date = new Date().toISOString().slice(0, 10);
  mkdirSync(RESULTS, { recursive: true });
  const jsonFile = path.join(RESULTS, `source-${date}.json`);
  writeFileSync(jsonFile, `${JSON.stringify({ date, machine, settings: { step: values.step, steady: values.steady }, targetRate: TARGET_RATE, results }, null, 2)}\n`);
  appendFileSync(path.join(RESULTS, 'source.md'), markdown(date, results, machine));
  logger.info('results written', { json: jsonFile, markdown: path.join(RESULTS, 'source.md') });
  const summary = Object.fromEntries(
    results.map((r) => [r.client, { maxSustained: r.maxSustained, p99At5kMs: r.at5k.latency.p99, p99At20kMs: r.at20k.latency.p99, achievedAt20k: r.at20k.achieved }]),
  );
  process.stdout.write(`${JSON.stringify({ source: summary, targetRate: TARGET_RATE, cores: machine.cores })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
