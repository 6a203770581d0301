/**
 * End-to-end latency of the order flow at a steady order rate: the whole pipeline as users run
 * it (`node app/cli.ts run --role all --rate R --lines SPEC --no-status`, a child process:
 * source, restocker, processor and relay in one Node process; or, with layout `split`, one child
 * per role) on a fresh seeded database and fresh topics of its own.
 *
 * Latency of an order = outbox.published_at of the row that holds its outcome event (OrderConfirmed
 * or OrderRejected; published_at is set by the relay once the broker acknowledged every record of
 * the row) − orders.created_at (the order source's INSERT, so the source's own batching counts too).
 * A row holds the events of one topic from one commit, so the outcome's row is the row of the
 * outcome's topic written by the transaction that decided the order: its created_at is that
 * transaction's now(), which is the order's decided_at. Should two commits of that topic start in
 * the same microsecond, the later publication of the two counts (the measure errs high, never low).
 * Both come from PostgreSQL's clock, so no clock skew. The relay keeps published rows for a while
 * (OutboxRelay's retentionMs, 10 minutes by default) before deleting them: the run and its
 * query end well within that (MAX_LATENCY_SECONDS), so every published outcome row is still
 * there; `unmatchedOrders` counts orders of the window without one, which would show a loss.
 * Orders of the first `warmupMs` (group join, JIT warm-up) and of the last second are left out.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Sequelize } from 'sequelize';
import { type AppConfig, SETTINGS } from '../../core/config.ts';
import { sleep } from '../../core/retry.ts';
import { countUnpublished } from '../../state/outbox-store.ts';
import { selectRows } from '../../state/sql.ts';
import { timeout } from './catch-up.ts';
import { orderOutcome, undecided } from './order-flow-progress.ts';

/** Measured seconds at most: warm-up, measurement and shutdown stay well inside the relay's 10-minute retention of published rows. */
export const MAX_LATENCY_SECONDS = 300;

export interface LatencyOptions {
  config: AppConfig;
  ratePerSecond: number;
  /** The --lines spec the source draws each order's line count from. */
  lines: string;
  warmupMs: number;
  durationMs: number;
  /** `all`: one process runs every role (the default deployment); `split`: one process per role. */
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
  /** The --lines spec of the source, and the mean lines of the measured orders. */
  lines: string;
  linesPerOrder: number;
  targetRate: number;
  /** Orders in the measured window divided by its length. */
  achievedRate: number;
  orders: number;
  /** Orders in the window that have a published outcome event. */
  measuredOrders: number;
  /** Orders in the window without one (undecided, unpublished, or pruned from the outbox). */
  unmatchedOrders: number;
  /** Of the measured: confirmed and rejected. */
  confirmed: number;
  rejected: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  /** The processor's share: orders.decided_at (start of the transaction that decided it) - orders.created_at. */
  toDecidedMs: { p50: number; p99: number };
  /** The relay's share: outbox.published_at - orders.decided_at (the deciding transaction's start). */
  relayMs: { p50: number; p99: number };
  unpublishedAfterStop: number;
  /** Orders still pending or reserving after the pipeline stopped. */
  undecidedAfterStop: number;
}

export const LATENCY_DEFINITION =
  'per order: outbox.published_at of the row holding its OrderConfirmed/OrderRejected event, the row of that topic written by the deciding transaction (relay, after broker ack) - orders.created_at (source INSERT); both PostgreSQL clock; first warm-up seconds and last second excluded';

export async function measureLatency(options: LatencyOptions, sequelize: Sequelize): Promise<LatencyResult> {
  const { config } = options;
  const source = ['--rate', String(options.ratePerSecond), '--lines', options.lines];
  const roles = options.layout === 'all' ? [['--role', 'all', ...source]] : [['--role', 'relay'], ['--role', 'processor'], ['--role', 'source', ...source]];
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
  const [stats] = await selectRows<Record<string, string | null>>(sequelize, LATENCY_SQL, {
    warmupMs: options.warmupMs,
    confirmedTopic: config.ordersConfirmedTopic,
    rejectedTopic: config.ordersRejectedTopic,
  });
  const outcome = await orderOutcome(sequelize);
  const number = (value: string | null | undefined) => (value === null || value === undefined ? Number.NaN : Math.round(Number(value) * 10) / 10);
  const inWindow = number(stats?.in_window);
  const measured = number(stats?.measured);
  return {
    definition: LATENCY_DEFINITION,
    layout: options.layout,
    commitIntervalMs: config.commitIntervalMs,
    lines: options.lines,
    linesPerOrder: Math.round(number(stats?.lines_per_order) * 100) / 100,
    targetRate: options.ratePerSecond,
    achievedRate: Math.round(inWindow / (number(stats?.window_ms) / 1000)),
    orders: Object.values(outcome).reduce((sum, count) => sum + count, 0),
    measuredOrders: measured,
    unmatchedOrders: inWindow - measured,
    confirmed: number(stats?.confirmed),
    rejected: number(stats?.rejected),
    p50: number(stats?.p50),
    p90: number(stats?.p90),
    p99: number(stats?.p99),
    p999: number(stats?.p999),
    max: number(stats?.max),
    toDecidedMs: { p50: number(stats?.decided_p50), p99: number(stats?.decided_p99) },
    relayMs: { p50: number(stats?.relay_p50), p99: number(stats?.relay_p99) },
    unpublishedAfterStop: await countUnpublished(sequelize),
    undecidedAfterStop: undecided(outcome),
  };
}

/** Each order of the window joined to the outbox row of its outcome event: its topic's row of the deciding transaction. */
const LATENCY_SQL = `
WITH window_bounds AS (
  SELECT min(created_at) + make_interval(secs => $warmupMs::int / 1000.0) AS from_at, max(created_at) - interval '1 second' AS to_at FROM orders
),
in_window AS (
  SELECT o.id, o.created_at, o.decided_at, o.status
  FROM orders o, window_bounds w
  WHERE o.created_at >= w.from_at AND o.created_at < w.to_at
),
outcome_rows AS (
  SELECT created_at, topic, max(published_at) AS published_at, bool_and(published_at IS NOT NULL) AS published
  FROM outbox WHERE topic IN ($confirmedTopic, $rejectedTopic) GROUP BY created_at, topic
),
latencies AS (
  SELECT extract(epoch FROM x.published_at - o.created_at) * 1000 AS ms,
         extract(epoch FROM o.decided_at - o.created_at) * 1000 AS to_decided_ms,
         extract(epoch FROM x.published_at - o.decided_at) * 1000 AS relay_ms,
         o.status = 'confirmed' AS confirmed
  FROM in_window o
  JOIN outcome_rows x ON x.created_at = o.decided_at AND x.topic = CASE o.status WHEN 'confirmed' THEN $confirmedTopic ELSE $rejectedTopic END
  WHERE o.status IN ('confirmed', 'rejected') AND x.published
)
SELECT (SELECT count(*) FROM in_window) AS in_window,
       (SELECT avg(lines) FROM (SELECT count(*) AS lines FROM order_lines l JOIN in_window o ON o.id = l.order_id GROUP BY l.order_id) AS per_order) AS lines_per_order,
       (SELECT extract(epoch FROM to_at - from_at) * 1000 FROM window_bounds) AS window_ms,
       count(*) AS measured,
       count(*) FILTER (WHERE confirmed) AS confirmed,
       count(*) FILTER (WHERE NOT confirmed) AS rejected,
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

/** The settings the children read from the environment: this run's database, topics, group and batching. */
const CHILD_SETTINGS = [
  'databaseUrl',
  'kafkaClient',
  'ordersTopic',
  'inventoryTopic',
  'dlqTopic',
  'restockCommandsTopic',
  'cancelCommandsTopic',
  'ordersConfirmedTopic',
  'ordersRejectedTopic',
  'ordersCancelledTopic',
  'inventoryRestockedTopic',
  'consumerGroup',
  'partitions',
  'batchMaxRecords',
  'commitIntervalMs',
  'maxInflightPerPartition',
  'maxInflightTotal',
] as const satisfies ReadonlyArray<keyof AppConfig>;

function spawnPipeline(options: LatencyOptions, roleArgs: string[], log: NodeJS.WritableStream): ChildProcess {
  const { config } = options;
  const cli = fileURLToPath(new URL('../../app/cli.ts', import.meta.url));
  const env = {
    ...process.env,
    ...Object.fromEntries(CHILD_SETTINGS.map((setting) => [SETTINGS[setting].env, String(config[setting])])),
    [SETTINGS.kafkaBrokers.env]: config.kafkaBrokers.join(','),
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
