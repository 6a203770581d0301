/**
 * The load generator's own flags, validated before anything connects: a bad value throws a
 * ConfigError naming the flag (the CLI prints it on one line and exits 2). Pure.
 * Connection settings and `--client` come from core/config.ts.
 */

import { parseSourceId } from '../app/order-source/source-id.ts';
import { DEFAULT_ORDER_LINES } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { durationFlag, integerFlag, parseDecimal, parseInteger } from '../core/numbers.ts';

export { parseSourceId };


export interface LoadtestOptions {
  /** Orders per second, or 'max' to search for the highest sustained rate. */
  rate: number | 'max';
  /** How long to offer load (a duration run); with `--rate max`, the length of each search step. */
  durationMs: number | undefined;
  /** How many orders to offer (a count run); takes precedence over a duration. */
  count: number | undefined;
  /** Make sure the catalogue has at least this many products (seeding them if not). */
  products: number | undefined;
  /** Zipf skew of product popularity; 0 is uniform. */
  skew: number;
  seed: number;
  sourceId: string;
  maxBatch: number;
  jsonFile: string | undefined;
  htmlFile: string | undefined;
}

export const LOADTEST_FLAGS = {
  rate: { type: 'string' },
  lines: { type: 'string' },
  duration: { type: 'string' },
  count: { type: 'string' },
  products: { type: 'string' },
  skew: { type: 'string' },
  client: { type: 'string' },
  partitions: { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
  seed: { type: 'string' },
  'source-id': { type: 'string' },
  'max-batch': { type: 'string' },
} as const;

export const DEFAULT_DURATION_MS = 30_000;
export const DEFAULT_RATE = 1_000;
/** With `--rate max` and no --duration: the length of each search step. */
export const DEFAULT_STEP_MS = 5_000;

type Flags = Record<string, string | undefined>;

function parseRate(raw: string | undefined): number | 'max' {
  if (raw === undefined) return DEFAULT_RATE;
  if (raw.trim() === 'max') return 'max';
  const value = parseDecimal(raw, { above: 0, max: 10_000_000 });
  if (value === undefined) {
    throw new ConfigError('--rate', 'a positive number of orders per second (at most 10000000) or "max"', raw);
  }
  return value;
}

export function parseLoadtestOptions(flags: Flags): LoadtestOptions {
  const rate = parseRate(flags.rate);
  const durationMs = durationFlag(flags, 'duration', { min: 1, max: 30 * 24 * 3_600_000 });
  const count = integerFlag(flags, 'count', { min: 1, max: Number.MAX_SAFE_INTEGER });
  if (rate === 'max' && count !== undefined) throw new ConfigError('--count', 'no --count with --rate max (use --duration for the step length)', flags.count);
  const products = integerFlag(flags, 'products', { min: 1, max: 10_000_000 });
  const skew = flags.skew === undefined ? 1 : parseDecimal(flags.skew, { min: 0, max: 10 });
  if (skew === undefined) throw new ConfigError('--skew', 'a number from 0 (uniform) to 10', flags.skew);
  const seed = flags.seed === undefined ? 1 : parseInteger(flags.seed, { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  if (seed === undefined) throw new ConfigError('--seed', 'an integer', flags.seed);
  const sourceId = parseSourceId(flags['source-id']);
  for (const name of ['json', 'html'] as const) {
    if (flags[name] !== undefined && flags[name]!.trim() === '') throw new ConfigError(`--${name}`, 'a file path', flags[name]);
  }
  return {
    rate,
    durationMs: count === undefined ? (durationMs ?? (rate === 'max' ? DEFAULT_STEP_MS : DEFAULT_DURATION_MS)) : undefined,
    count,
    products,
    skew,
    seed,
    sourceId,
    maxBatch: integerFlag(flags, 'max-batch', { min: 1, max: 10_000, fallback: 5000 }),
    jsonFile: flags.json,
    htmlFile: flags.html,
  };
}

export const LOADTEST_USAGE = `Usage: npm run loadtest -- [options]

Offers orders at a target rate on an open-loop clock: stores each batch in PostgreSQL, publishes
OrderCreated to the orders topic (key = the lead line's productId), and reports the publish latency measured
from each order's intended send time. Orders stored but unpublished by an earlier (killed) run
of the same source id are published first.

Options:
  --rate R|max        orders per second (default ${DEFAULT_RATE}); "max" searches for the highest
                      sustained rate (achieved >= 95% of target, p99 <= 1 s), stepping up
  --lines SPEC        lines per order (env ORDER_LINES, default ${DEFAULT_ORDER_LINES}, mean
                      2.4; 1 = one product per order): N always, A-B uniform, or N:W,... weighted;
                      each line another product, at most the catalogue's size
  --duration D        how long to run: 30s, 2m, 1h, 500ms (default 30s); with --rate max,
                      the length of each search step (default 5s)
  --count N           offer exactly N orders instead of running for a duration
  --products N        make sure the catalogue has N products (seeds the missing ones with stock)
  --skew S            Zipf skew of product popularity, 0 = uniform (default 1)
  --client NAME       platformatic | kafkajs (default: KAFKA_CLIENT or platformatic)
  --partitions N      partitions of the orders topic if it has to be created (default 12)
  --seed N            seed of the order generator (default 1)
  --source-id ID      this source's identity; one process per id at a time (default source-1)
  --max-batch N       largest batch per INSERT and per producer send (default 5000)
  --json FILE         write the report as JSON
  --html FILE         write a self-contained HTML chart of rate and latency over time
  -h, --help          this text

Environment: DATABASE_URL, KAFKA_BROKERS, KAFKA_CLIENT, ORDERS_TOPIC, PARTITIONS, ORDER_LINES, LOG_LEVEL.
Progress goes to stderr once a second; the table goes to stdout.
Exit codes: 0 target met without errors; 1 a service unreachable or a fatal error;
2 invalid flags; 3 errors happened or achieved < 95% of the target. Ctrl-C stops
scheduling, drains what is stored, and prints the table; a second Ctrl-C gives up at once.
`;
