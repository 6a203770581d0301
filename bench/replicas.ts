/**
 * `npm run bench -- replicas` (or `node bench/replicas.ts`): scale-out and rebalancing of the
 * inventory processor, each replica its own `app/cli.ts run --role processor` process.
 *
 * 1. Catch-up throughput on one backlog with 1, 2 and 3 replicas (fresh group and a fresh copy
 *    of the backlog database per run).
 * 2. The rebalance pause, per group protocol, while a source feeds a steady stream: a replica
 *    JOINING (how long the partitions that stay with the first replica stop committing, and how
 *    long until the moved ones commit under the newcomer), a graceful stop (SIGTERM) and a crash
 *    (SIGKILL) of one of two replicas (time from the signal until every partition it owned
 *    commits again under the survivor). Commits are observed by polling stream_offsets.
 *
 * Writes bench/results/replicas-<date>.{json,md}; prints a JSON summary as the last stdout line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, type WriteStream, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sequelize } from 'sequelize';
import { parseCommandLine, runMain } from '../core/cli.ts';
import { type AppConfig, type KafkaGroupProtocol, loadConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { integerFlag } from '../core/numbers.ts';
import { sleep } from '../core/retry.ts';
import { createKafkaClient } from '../kafka/index.ts';
import { seed } from '../state/commerce/seed.ts';
import { databaseName, withDatabase } from '../state/database-url.ts';
import { connectDatabase, ensureDatabase } from '../state/db.ts';
import { migrate } from '../state/migrator.ts';
import { selectRows } from '../state/sql.ts';
import { buildBacklog } from './support/backlog.ts';
import { benchDatabaseName, cloneDatabase, DatabaseRegistry } from './support/databases.ts';
import { type CpuUse, measureCpu } from './support/machine-load.ts';
import { machineInfo } from './support/report.ts';
import { remainingLag, waitFor } from './support/wait.ts';

const USAGE = `Usage: node bench/replicas.ts [options]   (or: npm run bench -- replicas [options])

Options:
  --orders N            backlog size of the throughput runs (default 300000)
  --products N          catalogue size (default 1000)
  --replicas LIST       replica counts of the throughput runs (default 1,2,3)
  --protocols LIST      group protocols of the rebalance runs: classic,consumer (default both)
  --rate R              orders/s of the source during the rebalance runs (default 2000)
  --skip-throughput     only the rebalance runs
  --skip-rebalance      only the throughput runs
  --no-write            do not write bench/results files
`;

const FLAGS = {
  orders: { type: 'string' },
  products: { type: 'string' },
  replicas: { type: 'string' },
  protocols: { type: 'string' },
  rate: { type: 'string' },
  'skip-throughput': { type: 'boolean' },
  'skip-rebalance': { type: 'boolean' },
  'no-write': { type: 'boolean' },
} as const;

const PROTOCOLS: readonly KafkaGroupProtocol[] = ['classic', 'consumer'];
const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
const CLI = fileURLToPath(new URL('../app/cli.ts', import.meta.url));
const POLL_MS = 50;
/** Long enough for a KIP-848 session to expire (the broker's default is 45 s) and be reassigned. */
const FAILOVER_TIMEOUT_MS = 120_000;
/** Steady commits observed just before a replica joins: the baseline its commit gaps are compared with. */
const BASELINE_WINDOW_MS = 5_000;

interface BenchOptions {
  orders: number;
  products: number;
  replicaCounts: number[];
  protocols: KafkaGroupProtocol[];
  rate: number;
  throughput: boolean;
  rebalance: boolean;
  write: boolean;
}

export interface ThroughputResult {
  replicas: number;
  orders: number;
  /** From spawning the replicas until every partition's stored offset reached its high watermark. */
  elapsedMs: number;
  ordersPerSecond: number;
  /** From the first committed batch on: the rate once the group has formed. */
  steadyOrdersPerSecond: number;
  firstCommitMs: number;
  cpu: CpuUse;
}

export interface FailoverResult {
  signal: 'SIGTERM' | 'SIGKILL';
  partitionsMoved: number;
  /** From the signal until every partition the stopped replica owned committed again under another. */
  pauseMs: number;
  perPartitionMs: number[];
}

export interface JoinResult {
  /** Partitions that stayed with the first replica. */
  keptPartitions: number;
  movedPartitions: number;
  /** Longest time a kept partition went without a commit, from the newcomer's spawn until the group settled. */
  keptMaxGapMs: number;
  /** The same measure over the steady seconds just before the newcomer started: the normal commit rhythm. */
  steadyMaxGapMs: number;
  /** From spawning the newcomer (process start-up included) until its last moved partition committed. */
  movedFirstCommitMs: number;
}

export interface RebalanceResult {
  protocol: KafkaGroupProtocol;
  rate: number;
  join: JoinResult;
  graceful: FailoverResult;
  crash: FailoverResult;
}

export interface ReplicasBenchResult {
  date: string;
  command: string;
  machine: Record<string, string | number>;
  settings: { orders: number; products: number; partitions: number; rate: number; batchMaxRecords: number; commitIntervalMs: number; client: string; pollMs: number };
  throughput: ThroughputResult[];
  rebalance: RebalanceResult[];
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { flags } = parseCommandLine(argv, FLAGS, USAGE);
  const options = parseOptions(flags);
  const base: AppConfig = { ...loadConfig(process.env, {}), kafkaClient: 'platformatic' };
  const log = createLogger({ level: 'info', format: base.logFormat }).child('bench');
  const run = randomBytes(3).toString('hex');
  const date = new Date().toISOString().slice(0, 10);
  const databases = new DatabaseRegistry();
  const kafka = createKafkaClient(base, createLogger({ level: 'warn', format: base.logFormat }));
  const admin = await kafka.admin();
  const topics: string[] = [];
  const childLog = createWriteStream(join(tmpdir(), `bench-replicas-${run}.log`));
  log.info('child process logs', { file: childLog.path });
  try {
    const throughput: ThroughputResult[] = [];
    if (options.throughput) {
      const ordersTopic = `bench-replicas-orders-${run}`;
      topics.push(ordersTopic, `bench-replicas-inventory-${run}`, `bench-replicas-dlq-${run}`);
      const templateUrl = databases.add(withDatabase(base.databaseUrl, benchDatabaseName('replicas_backlog')));
      await prepareBacklog(templateUrl, ordersTopic, base, options, log);
      const highWatermarks = await admin.highWatermarks(ordersTopic);
      for (const replicas of options.replicaCounts) {
        const databaseUrl = databases.add(await cloneDatabase(templateUrl, `replicas_${replicas}`));
        const config: AppConfig = {
          ...base,
          databaseUrl,
          ordersTopic,
          inventoryTopic: `bench-replicas-inventory-${run}`,
          dlqTopic: `bench-replicas-dlq-${run}`,
          consumerGroup: `bench-replicas-${replicas}-${run}`,
        };
        log.info('catch-up run', { replicas, orders: options.orders });
        const result = await measureThroughput(config, replicas, options.orders, highWatermarks, childLog);
        log.info('catch-up done', { ...result, cpu: result.cpu.byGroup });
        throughput.push(result);
        await databases.drop(databaseUrl);
      }
    }

    const rebalance: RebalanceResult[] = [];
    if (options.rebalance) {
      for (const protocol of options.protocols) {
        const config: AppConfig = {
          ...base,
          kafkaGroupProtocol: protocol,
          databaseUrl: databases.add(withDatabase(base.databaseUrl, benchDatabaseName(`replicas_live_${protocol}`))),
          ordersTopic: `bench-replicas-live-${protocol}-${run}`,
          inventoryTopic: `bench-replicas-live-inventory-${protocol}-${run}`,
          dlqTopic: `bench-replicas-live-dlq-${protocol}-${run}`,
          consumerGroup: `bench-replicas-live-${protocol}-${run}`,
        };
        topics.push(config.ordersTopic, config.inventoryTopic, config.dlqTopic);
        log.info('rebalance run', { protocol, rate: options.rate });
        const result = await measureRebalance(config, options, childLog, log);
        log.info('rebalance done', { ...result });
        rebalance.push(result);
        await databases.drop(config.databaseUrl);
      }
    }

    const result: ReplicasBenchResult = {
      date,
      command: `npm run bench -- replicas ${argv.join(' ')}`.trim(),
      machine: machineInfo({ layout: 'each replica, the source, the Kafka broker and PostgreSQL on this one machine' }),
      settings: {
        orders: options.orders,
        products: options.products,
        partitions: base.partitions,
        rate: options.rate,
        batchMaxRecords: base.batchMaxRecords,
        commitIntervalMs: base.commitIntervalMs,
        client: base.kafkaClient,
        pollMs: POLL_MS,
      },
      throughput,
      rebalance,
    };
    if (options.write) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const json = join(RESULTS_DIR, `replicas-${date}.json`);
      const markdown = join(RESULTS_DIR, `replicas-${date}.md`);
      writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(markdown, renderMarkdown(result));
      log.info('results written', { json, markdown });
    }
    process.stdout.write(`${JSON.stringify(summarize(result))}\n`);
    return 0;
  } finally {
    childLog.end();
    await admin.deleteTopics(topics).catch(() => undefined);
    await admin.close();
    await databases.dropAll();
  }
}

async function prepareBacklog(templateUrl: string, topic: string, base: AppConfig, options: BenchOptions, log: Logger): Promise<void> {
  await ensureDatabase(templateUrl);
  const sequelize = await connectDatabase(templateUrl, log.child('db'), { poolMax: 4 });
  try {
    await migrate(sequelize, createLogger({ level: 'warn' }));
    log.info('building the backlog', { orders: options.orders, products: options.products, topic, partitions: base.partitions });
    const stats = await buildBacklog(
      { orders: options.orders, products: options.products, stock: 1_000_000_000, topic, partitions: base.partitions },
      { sequelize, kafka: createKafkaClient(base, log), logger: log },
    );
    log.info('backlog ready', { ...stats });
  } finally {
    // The template must have no open session when it is copied.
    await sequelize.close();
  }
}

async function measureThroughput(config: AppConfig, replicas: number, orders: number, highWatermarks: Map<number, bigint>, childLog: WriteStream): Promise<ThroughputResult> {
  const sequelize = await connectDatabase(config.databaseUrl, createLogger({ level: 'warn' }), { poolMax: 2 });
  const fleet = new Fleet(config, childLog);
  try {
    const cpu = measureCpu(databaseName(config.databaseUrl));
    const startedAt = performance.now();
    for (let index = 1; index <= replicas; index++) fleet.spawn('processor', `r${index}`);
    const firstCommitAt = await waitFor(async () => ((await committedPartitions(sequelize, config)) > 0 ? performance.now() : undefined), {
      timeoutMs: 120_000,
      message: 'the first commit',
    });
    await waitFor(async () => ((await remainingLag(sequelize, config.consumerGroup, config.ordersTopic, highWatermarks)) === 0n ? true : undefined), {
      timeoutMs: 30 * 60_000,
      intervalMs: 100,
      message: 'the replicas to catch up',
    });
    const finishedAt = performance.now();
    const load = cpu();
    const elapsedMs = Math.round(finishedAt - startedAt);
    return {
      replicas,
      orders,
      elapsedMs,
      ordersPerSecond: Math.round(orders / (elapsedMs / 1000)),
      steadyOrdersPerSecond: Math.round(orders / ((finishedAt - firstCommitAt) / 1000)),
      firstCommitMs: Math.round(firstCommitAt - startedAt),
      cpu: load,
    };
  } finally {
    await fleet.stopAll();
    await sequelize.close();
  }
}

async function committedPartitions(sequelize: Sequelize, config: AppConfig): Promise<number> {
  const [row] = await selectRows<{ count: string }>(sequelize, 'SELECT count(*) AS count FROM stream_offsets WHERE group_id = $group AND topic = $topic', {
    group: config.consumerGroup,
    topic: config.ordersTopic,
  });
  return Number(row?.count ?? 0);
}

async function measureRebalance(config: AppConfig, options: BenchOptions, childLog: WriteStream, log: Logger): Promise<RebalanceResult> {
  await ensureDatabase(config.databaseUrl);
  const sequelize = await connectDatabase(config.databaseUrl, createLogger({ level: 'warn' }), { poolMax: 2 });
  const fleet = new Fleet(config, childLog);
  const watch = new CommitWatch(sequelize, config);
  try {
    await migrate(sequelize, createLogger({ level: 'warn' }));
    await seed(sequelize, { products: options.products, stock: 1_000_000_000 });
    // The first replica creates the topics and forms the group before the source starts.
    fleet.spawn('processor', 'r1');
    watch.start();
    fleet.spawn('source', 'source', ['--rate', String(options.rate)]);

    log.info('measuring a replica joining', { protocol: config.kafkaGroupProtocol });
    const join = await measureJoin(fleet, watch, 'r1', 'r2', config.partitions);
    log.info('join measured', { ...join });
    await watch.steady(config.partitions, 60_000);
    const graceful = await measureFailover(fleet, watch, 'r2', 'SIGTERM');
    log.info('graceful stop measured', { ...graceful, perPartitionMs: undefined });

    await measureJoin(fleet, watch, 'r1', 'r3', config.partitions);
    await watch.steady(config.partitions, 60_000);
    const crash = await measureFailover(fleet, watch, 'r3', 'SIGKILL');
    log.info('crash measured', { ...crash, perPartitionMs: undefined });
    return { protocol: config.kafkaGroupProtocol, rate: options.rate, join, graceful, crash };
  } finally {
    await watch.stop();
    await fleet.stopAll();
    await sequelize.close();
  }
}

async function measureJoin(fleet: Fleet, watch: CommitWatch, incumbent: string, newcomer: string, partitions: number): Promise<JoinResult> {
  await watch.steady(partitions, 60_000);
  // A measurement window, not a wait for a condition: the baseline rhythm of steady commits.
  await sleep(BASELINE_WINDOW_MS);
  const spawnedAt = Date.now();
  fleet.spawn('processor', newcomer);
  // Settled: the newcomer commits its fair share, and every partition committed since the spawn.
  await waitFor(
    async () => {
      const owners = watch.owners();
      const mine = [...owners.values()].filter((owner) => owner === newcomer).length;
      return mine >= Math.floor(partitions / 2) && watch.allCommittedSince(spawnedAt, partitions) ? true : undefined;
    },
    { timeoutMs: FAILOVER_TIMEOUT_MS, message: `${newcomer} to take its share of the partitions` },
  );
  const settledAt = Date.now() + 1_000;
  await sleep(1_000);
  const owners = watch.owners();
  const kept = [...owners].filter(([, owner]) => owner === incumbent).map(([partition]) => partition);
  const moved = [...owners].filter(([, owner]) => owner === newcomer).map(([partition]) => partition);
  return {
    keptPartitions: kept.length,
    movedPartitions: moved.length,
    keptMaxGapMs: watch.maxGap(kept, spawnedAt, settledAt),
    steadyMaxGapMs: watch.maxGap(kept, spawnedAt - BASELINE_WINDOW_MS, spawnedAt),
    movedFirstCommitMs: Math.max(...moved.map((partition) => (watch.firstCommitBy(partition, newcomer, spawnedAt) ?? Number.NaN) - spawnedAt)),
  };
}

async function measureFailover(fleet: Fleet, watch: CommitWatch, victim: string, signal: 'SIGTERM' | 'SIGKILL'): Promise<FailoverResult> {
  const owned = [...watch.owners()].filter(([, owner]) => owner === victim).map(([partition]) => partition);
  const signalledAt = Date.now();
  fleet.signal(victim, signal);
  const times = await waitFor(
    async () => {
      const firsts = owned.map((partition) => watch.firstCommitNotBy(partition, victim, signalledAt));
      return firsts.every((at) => at !== undefined) ? firsts.map((at) => (at as number) - signalledAt) : undefined;
    },
    { timeoutMs: FAILOVER_TIMEOUT_MS, message: `the partitions of ${victim} to commit again after ${signal}` },
  );
  await fleet.waitExit(victim, 30_000);
  return { signal, partitionsMoved: owned.length, pauseMs: Math.max(...times), perPartitionMs: times };
}

interface Commit {
  at: number;
  nextOffset: bigint;
  owner: string | null;
}

/** Polls stream_offsets and keeps, per partition, every observed change of its next offset. */
export class CommitWatch {
  readonly #sequelize: Sequelize;
  readonly #config: AppConfig;
  readonly commits = new Map<number, Commit[]>();
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(sequelize: Sequelize, config: AppConfig) {
    this.#sequelize = sequelize;
    this.#config = config;
  }

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      while (this.#running) {
        await this.#poll().catch(() => undefined);
        await sleep(POLL_MS);
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  async steady(partitions: number, timeoutMs: number): Promise<void> {
    await waitFor(async () => (this.allCommittedSince(Date.now() - 1_000, partitions) ? true : undefined), { timeoutMs, message: 'every partition to commit steadily' });
  }

  owners(): Map<number, string | null> {
    return new Map([...this.commits].map(([partition, list]) => [partition, list.at(-1)?.owner ?? null]));
  }

  allCommittedSince(since: number, partitions: number): boolean {
    let count = 0;
    for (const list of this.commits.values()) if ((list.at(-1)?.at ?? 0) > since) count++;
    return count === partitions;
  }

  firstCommitBy(partition: number, owner: string, after: number): number | undefined {
    return this.commits.get(partition)?.find((commit) => commit.at > after && commit.owner === owner)?.at;
  }

  firstCommitNotBy(partition: number, owner: string, after: number): number | undefined {
    return this.commits.get(partition)?.find((commit) => commit.at > after && commit.owner !== owner)?.at;
  }

  /** Longest interval without a commit on any of `partitions` within [from, to]. */
  maxGap(partitions: number[], from: number, to: number): number {
    return Math.max(0, ...partitions.map((partition) => longestGap((this.commits.get(partition) ?? []).map((commit) => commit.at), from, to)));
  }

  async #poll(): Promise<void> {
    const rows = await selectRows<{ partition: number; next_offset: string; owner: string | null }>(
      this.#sequelize,
      'SELECT partition, next_offset, owner FROM stream_offsets WHERE group_id = $group AND topic = $topic',
      { group: this.#config.consumerGroup, topic: this.#config.ordersTopic },
    );
    const at = Date.now();
    for (const row of rows) {
      const list = this.commits.get(row.partition) ?? [];
      const nextOffset = BigInt(row.next_offset);
      if (list.at(-1)?.nextOffset !== nextOffset) list.push({ at, nextOffset, owner: row.owner });
      this.commits.set(row.partition, list);
    }
  }
}

/** Longest interval in [from, to] between two consecutive times of `times` (sorted), or the window's edges. */
export function longestGap(times: number[], from: number, to: number): number {
  const inside = times.filter((at) => at >= from && at <= to);
  const points = [from, ...inside, to];
  let longest = 0;
  for (let i = 1; i < points.length; i++) longest = Math.max(longest, points[i]! - points[i - 1]!);
  return Math.round(longest);
}

/** The bench's child processes: `app/cli.ts run --role <role>`, one per named member. */
class Fleet {
  readonly #config: AppConfig;
  readonly #log: WriteStream;
  readonly #children = new Map<string, ChildProcess>();

  constructor(config: AppConfig, log: WriteStream) {
    this.#config = config;
    this.#log = log;
  }

  spawn(role: 'processor' | 'source', name: string, args: string[] = []): void {
    const config = this.#config;
    const env = {
      ...process.env,
      DATABASE_URL: config.databaseUrl,
      KAFKA_BROKERS: config.kafkaBrokers.join(','),
      KAFKA_CLIENT: config.kafkaClient,
      KAFKA_GROUP_PROTOCOL: config.kafkaGroupProtocol,
      ORDERS_TOPIC: config.ordersTopic,
      INVENTORY_TOPIC: config.inventoryTopic,
      DLQ_TOPIC: config.dlqTopic,
      CONSUMER_GROUP: config.consumerGroup,
      PARTITIONS: String(config.partitions),
      REPLICA_ID: name,
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    };
    const child = spawn(process.execPath, [CLI, 'run', '--role', role, '--no-status', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.pipe(this.#log, { end: false });
    this.#children.set(name, child);
  }

  signal(name: string, signal: NodeJS.Signals): void {
    this.#children.get(name)?.kill(signal);
  }

  async waitExit(name: string, timeoutMs: number): Promise<void> {
    const child = this.#children.get(name);
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      const timer = sleep(timeoutMs).then(() => child.kill('SIGKILL'));
      await Promise.race([exited, timer]);
    }
    this.#children.delete(name);
  }

  /** Source first (no new orders), then the processors. */
  async stopAll(): Promise<void> {
    const names = [...this.#children.keys()].sort((a, b) => (a === 'source' ? -1 : b === 'source' ? 1 : 0));
    for (const name of names) {
      this.signal(name, 'SIGTERM');
      await this.waitExit(name, this.#config.shutdownTimeoutMs + 10_000);
    }
  }
}

export function summarize(result: ReplicasBenchResult): Record<string, unknown> {
  return {
    throughput: Object.fromEntries(result.throughput.map((run) => [`${run.replicas}`, run.ordersPerSecond])),
    rebalance: Object.fromEntries(
      result.rebalance.map((run) => [
        run.protocol,
        { joinKeptMaxGapMs: run.join.keptMaxGapMs, joinSteadyMaxGapMs: run.join.steadyMaxGapMs, gracefulPauseMs: run.graceful.pauseMs, crashPauseMs: run.crash.pauseMs },
      ]),
    ),
  };
}

export function renderMarkdown(result: ReplicasBenchResult): string {
  const lines = [
    `# Processor replicas: scale-out and rebalancing (${result.date})`,
    '',
    `Command: \`${result.command}\``,
    '',
    `Machine: ${result.machine.cores} cores (${result.machine.cpu}), ${result.machine.memoryGb} GB, ${result.machine.os}, Node ${result.machine.node}. ` +
      'The Kafka broker, PostgreSQL, the source and every replica run on this same machine.',
    '',
    `Settings: ${result.settings.partitions} partitions, ${result.settings.products} products, client ${result.settings.client}, ` +
      `BATCH_MAX_RECORDS ${result.settings.batchMaxRecords}, COMMIT_INTERVAL_MS ${result.settings.commitIntervalMs}; commits observed by polling stream_offsets every ${result.settings.pollMs} ms.`,
    '',
    '## Catch-up throughput',
    '',
    `Backlog of ${result.settings.orders} orders; each run on a fresh copy of the backlog database with a fresh consumer group; each replica its own process.`,
    '',
    '| replicas | elapsed (s) | orders/s (from spawn) | orders/s (from first commit) | first commit (ms) | CPU cores busy (machine) | by group |',
    '|---:|---:|---:|---:|---:|---:|---|',
    ...result.throughput.map(
      (run) =>
        `| ${run.replicas} | ${(run.elapsedMs / 1000).toFixed(1)} | ${run.ordersPerSecond} | ${run.steadyOrdersPerSecond} | ${run.firstCommitMs} | ${run.cpu.machineCores} of ${run.cpu.cores} | ${Object.entries(run.cpu.byGroup).map(([group, cores]) => `${group} ${cores}`).join(', ')} |`,
    ),
    '',
    `Read with care: this machine has ${result.machine.cores} cores, shared by every replica, the broker and PostgreSQL. ` +
      'More replicas compete for the same cores, so the numbers show what scale-out costs or gains on one small host, not on a cluster ' +
      'where each replica has its own cores. The "CPU cores busy" column shows the machine saturated in every run; ' +
      '"other" is mostly the replica processes.',
    '',
    '## Rebalance pause',
    '',
    `Source at ${result.settings.rate} orders/s. "join": a second replica starts next to the first; kept = partitions that stay with the first. ` +
      '"graceful"/"crash": one of two replicas gets SIGTERM/SIGKILL; pause = from the signal until every partition it owned committed again under the other.',
    '',
    '| protocol | join: kept partitions, longest commit gap (ms) | same, steady state before (ms) | join: newcomer\'s moved partitions all committing (ms from spawn) | graceful stop pause (ms) | crash pause (ms) |',
    '|---|---:|---:|---:|---:|---:|',
    ...result.rebalance.map(
      (run) =>
        `| ${run.protocol} | ${run.join.keptMaxGapMs} (${run.join.keptPartitions} kept) | ${run.join.steadyMaxGapMs} | ${run.join.movedFirstCommitMs} (${run.join.movedPartitions} moved) | ${run.graceful.pauseMs} | ${run.crash.pauseMs} |`,
    ),
    '',
    'Notes:',
    '- The crash pause is bounded below by the group session timeout: 10 s for `classic` (this project\'s default), and the broker\'s ' +
      '`group.consumer.session.timeout.ms` for `consumer` (KIP-848; 45 s by default, and the client cannot lower it).',
    '- Under KIP-848 the broker hands partitions over through heartbeats (`group.consumer.heartbeat.interval.ms`, 5 s by default), ' +
      'so moved partitions take a few seconds, but partitions that do not move are never stopped.',
    '- With `classic` the kept partitions do not stop either in this project: the @platformatic/kafka adapter fetches through its own ' +
      'PartitionFetcher, independent of the membership client, and only reports partitions that really moved. The classic barrier ' +
      '(every member rejoins) shows in how the moved partitions and a stopped member\'s partitions are handed over, not in the kept ones.',
    '- The newcomer\'s time includes starting a Node process and connecting to PostgreSQL and Kafka (on the same 2 busy cores).',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

function parseOptions(flags: Record<string, string | undefined>): BenchOptions {
  const protocols = (flags.protocols ?? PROTOCOLS.join(',')).split(',').map((name) => name.trim()).filter(Boolean);
  for (const protocol of protocols) if (!(PROTOCOLS as readonly string[]).includes(protocol)) throw new ConfigError('--protocols', `a list of ${PROTOCOLS.join('|')}`, flags.protocols);
  const replicaCounts = (flags.replicas ?? '1,2,3').split(',').map((raw) => Number(raw.trim()));
  if (replicaCounts.some((count) => !Number.isSafeInteger(count) || count < 1)) throw new ConfigError('--replicas', 'a list of positive integers', flags.replicas);
  return {
    orders: integerFlag(flags, 'orders', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 300_000 }),
    products: integerFlag(flags, 'products', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1000 }),
    replicaCounts,
    protocols: protocols as KafkaGroupProtocol[],
    rate: integerFlag(flags, 'rate', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 2000 }),
    throughput: flags['skip-throughput'] !== 'true',
    rebalance: flags['skip-rebalance'] !== 'true',
    write: flags['no-write'] !== 'true',
  };
}


if (import.meta.main) await runMain(() => main());
