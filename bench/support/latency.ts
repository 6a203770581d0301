/**
 * End-to-end latency at a steady order rate: the whole pipeline as users run it
 * (`node app/cli.ts run --role all --rate R --no-status`, a child process: source,
 * processor and relay in one Node process; or, with layout `split`, one child per role) on a
 * fresh seeded database and fresh topics.
 *
 * Latency of an order = outbox.published_at of the InventoryUpdated row that carries its
 * decision (set by the relay after the broker acknowledged the row) − orders.created_at
 * (the order source's INSERT). Both timestamps come from PostgreSQL's clock, so no clock skew.
 * InventoryUpdated (v2) counts orders instead of listing them, so an order is matched to the
 * row of its product written by the transaction that decided it: outbox.created_at and
 * orders.decided_at are both that transaction's now(), and one product is committed by one
 * partition's serial transactions.
 * created_at is the INSERT transaction's start, so the source's own batching counts too.
 * Orders of the first `warmupMs` (group join, JIT warm-up) and of the last second are left out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Sequelize } from 'sequelize';
import type { AppConfig } from '../../core/config.ts';
import { sleep } from '../../core/retry.ts';
import { countUnpublished } from '../../state/outbox-store.ts';
import { selectRows } from '../../state/sql.ts';
import { timeout } from './catch-up.ts';

export interface LatencyOptions {
  config: AppConfig;
  ratePerSecond: number;
  warmupMs: number;
  durationMs: number;
  /** `all`: one process runs source, processor and relay (the default deployment); `split`: one process per role. */
  layout: 'all' | 'split';
  /** Extra Node flags for the children, e.g. `--cpu-prof --cpu-prof-dir DIR`. */
  nodeArgs?: string[];
  /** The children's stderr (their logs) goes here. */
  logFile: string;
}

export interface LatencyResult {
  definition: string;
  commitIntervalMs: number;
  layout: 'all' | 'split';
  targetRate: number;
  /** Orders in the measured window divided by its length. */
  achievedRate: number;
  orders: number;
  measuredOrders: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** The processor's share: orders.decided_at (the sink transaction's start) - orders.created_at. */
  toDecidedMs: { p50: number; p99: number };
  /** The relay's share: outbox.published_at - outbox.created_at (the sink transaction's start). */
  relayMs: { p50: number; p99: number };
  unpublishedAfterStop: number;
  pendingAfterStop: number;
}

export const LATENCY_DEFINITION =
  'per order: outbox.published_at of the InventoryUpdated row carrying its decision (relay, after broker ack) - orders.created_at (source INSERT); both PostgreSQL clock; first warm-up seconds and last second excluded';

export async function measureLatency(options: LatencyOptions, sequelize: Sequelize): Promise<LatencyResult> {
  const { config } = options;
  const roles = options.layout === 'all' ? [['--role', 'all', '--rate', String(options.ratePerSecond)]] : [['--role', 'relay'], ['--role', 'processor'], ['--role', 'source', '--rate', String(options.ratePerSecond)]];
  const log = createWriteStream(options.logFile);
  const children: ChildProcess[] = [];
  try {
    // Relay and processor first, so the source does not run ahead while they connect.
    for (const args of roles) children.push(spawnPipeline(options, args, log));
    await sleep(options.warmupMs + options.durationMs);
  } finally {
    // Source first (no new orders), then the processor (commits), then the relay (publishes).
    for (const child of children.reverse()) await stopChild(child, config.shutdownTimeoutMs + 15_000);
    log.end();
  }
  const [stats] = await selectRows<Record<string, string | null>>(sequelize, LATENCY_SQL, { topic: config.inventoryTopic, warmupMs: options.warmupMs });
  const [orders] = await selectRows<{ total: string; pending: string }>(sequelize, "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'pending') AS pending FROM orders");
  const number = (value: string | null | undefined) => (value === null || value === undefined ? Number.NaN : Math.round(Number(value) * 10) / 10);
  return {
    definition: LATENCY_DEFINITION,
    layout: options.layout,
    commitIntervalMs: config.commitIntervalMs,
    targetRate: options.ratePerSecond,
    achievedRate: Math.round(number(stats?.measured) / (number(stats?.window_ms) / 1000)),
    orders: Number(orders?.total ?? 0),
    measuredOrders: number(stats?.measured),
    p50: number(stats?.p50),
    p90: number(stats?.p90),
    p99: number(stats?.p99),
    p999: number(stats?.p999),
    max: number(stats?.max),
    toDecidedMs: { p50: number(stats?.decided_p50), p99: number(stats?.decided_p99) },
    relayMs: { p50: number(stats?.relay_p50), p99: number(stats?.relay_p99) },
    unpublishedAfterStop: await countUnpublished(sequelize),
    pendingAfterStop: Number(orders?.pending ?? 0),
  };
}

/** Each order joined to its product's outbox row of the transaction that decided it (same now()). */
const LATENCY_SQL = `
WITH window_bounds AS (
  SELECT min(created_at) + make_interval(secs => $warmupMs::int / 1000.0) AS from_at, max(created_at) - interval '1 second' AS to_at FROM orders
),
carried AS (
  SELECT x.published_at, x.created_at AS stored_at, (convert_from(x.payload, 'UTF8')::jsonb -> 'payload' ->> 'productId')::int AS product_id
  FROM outbox x
  WHERE x.topic = $topic AND x.published_at IS NOT NULL
),
latencies AS (
  SELECT extract(epoch FROM d.published_at - o.created_at) * 1000 AS ms,
         extract(epoch FROM o.decided_at - o.created_at) * 1000 AS to_decided_ms,
         extract(epoch FROM d.published_at - d.stored_at) * 1000 AS relay_ms
  FROM carried d JOIN orders o ON o.product_id = d.product_id AND o.decided_at = d.stored_at, window_bounds w
  WHERE o.created_at >= w.from_at AND o.created_at < w.to_at
)
SELECT count(*) AS measured,
       (SELECT extract(epoch FROM to_at - from_at) * 1000 FROM window_bounds) AS window_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY ms) AS p90,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
       percentile_cont(0.999) WITHIN GROUP (ORDER BY ms) AS p999,
       max(ms) AS max,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY to_decided_ms) AS decided_p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY to_decided_ms) AS decided_p99,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY relay_ms) AS relay_p50,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY relay_ms) AS relay_p99
FROM latencies`;

function spawnPipeline(options: LatencyOptions, roleArgs: string[], log: NodeJS.WritableStream): ChildProcess {
  const { config } = options;
  const cli = fileURLToPath(new URL('../../app/cli.ts', import.meta.url));
  const env = {
    ...process.env,
    DATABASE_URL: config.databaseUrl,
    KAFKA_BROKERS: config.kafkaBrokers.join(','),
    KAFKA_CLIENT: config.kafkaClient,
    ORDERS_TOPIC: config.ordersTopic,
    INVENTORY_TOPIC: config.inventoryTopic,
    DLQ_TOPIC: config.dlqTopic,
    CONSUMER_GROUP: config.consumerGroup,
    PARTITIONS: String(config.partitions),
    BATCH_MAX_RECORDS: String(config.batchMaxRecords),
    COMMIT_INTERVAL_MS: String(config.commitIntervalMs),
    MAX_INFLIGHT_PER_PARTITION: String(config.maxInflightPerPartition),
    MAX_INFLIGHT_TOTAL: String(config.maxInflightTotal),
    LOG_LEVEL: 'info',
    LOG_FORMAT: 'json',
  };
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), cli, 'run', ...roleArgs, '--no-status'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.pipe(log, { end: false });
  return child;
}

/** SIGINT = the graceful path: the child stops the source, commits, publishes the outbox and exits. */
async function stopChild(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null) throw new Error(`the pipeline exited early with code ${child.exitCode}`);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  try {
    const code = await Promise.race([exited, timeout(timeoutMs, 'pipeline shutdown')]);
    if (code !== 0) throw new Error(`the pipeline exited with code ${code}`);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
}
