/** The verifier's command line, validated before anything starts (a bad value: one line, exit 2). */
import type { FlagSpec } from '../core/cli.ts';
import { DEFAULT_ORDER_LINES } from '../core/config.ts';
import { type CountDistribution, isCountDistribution, parseCountDistribution } from '../core/count-distribution.ts';
import { ConfigError } from '../core/errors.ts';
import { durationFlag, integerFlag } from '../core/numbers.ts';
import { ORDER_MAX_LINES } from '../processors/events.ts';
import { defaultBrokerOutageMs, FAULT_KINDS, type FaultKind, FULL_BROKER_OUTAGE_MS, parseFaultList } from './schedule.ts';

export interface VerifyOptions {
  durationMs: number;
  rate: number;
  /** How many lines the source gives each order. */
  lines: CountDistribution;
  seed: number;
  faults: FaultKind[];
  brokers: 1 | 3;
  processorReplicas: number;
  brokerOutageMs: number;
  roleRestartDelayMs: number;
  products: number;
  /** Units of stock per product; undefined = sized so that the popular products sell out. */
  stock: number | undefined;
  settleTimeoutMs: number;
  client: 'platformatic' | 'kafkajs';
  json: boolean;
  /** Keep the logs and the database dump of a passing run too. */
  keepLogs: boolean;
}

export const FLAGS: FlagSpec = {
  duration: { type: 'string' },
  rate: { type: 'string' },
  lines: { type: 'string' },
  seed: { type: 'string' },
  faults: { type: 'string' },
  brokers: { type: 'string' },
  replicas: { type: 'string' },
  outage: { type: 'string' },
  'restart-delay': { type: 'string' },
  products: { type: 'string' },
  stock: { type: 'string' },
  'settle-timeout': { type: 'string' },
  client: { type: 'string' },
  json: { type: 'boolean' },
  'keep-logs': { type: 'boolean' },
};

export const USAGE = `Usage: npm run verify -- [options]

The built-in exactly-once verifier. It starts PRIVATE services in a temporary folder (a
PostgreSQL cluster with initdb/pg_ctl as the postgres user, and an Apache Kafka 4.1 KRaft
broker from .kafka/libs, or three of them), so it never touches the ones you use. It runs the
whole pipeline as separate processes (the order source, --replicas processor replicas, the outbox relay)
under load of multi-line orders (--lines), sends restocks of a few products every few seconds
(now and then one of a product that does not exist) and cancellations (of the newest and of
earlier orders, some twice, some of order ids nobody stored), injects faults on a schedule drawn
from --seed, stops the commands and the source, waits until every topic the topology reads is
consumed and the outbox is empty, and checks:

  - per product, stock = initial + restocked - the quantities of the lines of confirmed orders,
    never negative; InventoryUpdated versions 1..n per product with no gap (duplicates only as
    identical events), replaying to the stock, its counts adding up to the orders and restocks
  - every stored order decided exactly once (confirmed, rejected or cancelled; none pending or
    reserving), its OrderConfirmed or OrderRejected published exactly once with its lines
  - every cancellation sent answered by exactly one OrderCancelled, applied at most once, its
    result one the order's status explains; every restock sent applied once and reported once
    as InventoryRestocked, or, for an unknown product, a dead letter
  - every stored order published exactly once as OrderCreated (one event id) with its stored
    lines, and no OrderCreated for an order that is not stored, except the poison records
  - every poison record in the dead-letter topic (matched by original topic/partition/offset)
  - nothing left in the outbox unpublished (parked rows must carry a reason)
  - no role process exited by itself; after every fault processing resumed (committed
    offsets, stored orders, published events moved again) within 15 s of the service coming back

Options:
  --duration D          load duration: 90 (seconds), 30s, 5m, 1m30s (default 60s). The load goes on
                        past D until the last fault has recovered, so every fault hits a running pipeline
  --rate R              orders per second of the source (default 100)
  --lines SPEC          lines per order: N always, A-B uniform, or N:W,N:W,... weighted
                        (default ${DEFAULT_ORDER_LINES}, mean 2.4)
  --seed N              seeds the fault order, times and targets (default 1)
  --faults LIST         comma-separated, or all, or none (default all):
                          processor-kill  SIGKILL one processor replica, start it again after --restart-delay
                          relay-kill      SIGKILL the relay, likewise
                          source-kill     SIGKILL the order source, likewise
                          broker-kill     SIGKILL a broker (with --brokers 3: one of the three), restart it after --outage
                          broker-pause    SIGSTOP a broker for half of --outage, then SIGCONT
                          pg-restart      pg_ctl restart -m fast
                          pg-backends     pg_terminate_backend on every application backend
                          poison          produce undecodable, schema-invalid, out-of-range (productId > 2^31-1),
                                          key/payload-mismatched and unstored-order records to the orders topic
                        a kind may be repeated (processor-kill,processor-kill)
  --brokers 1|3         one broker, or three (default.replication.factor=3, min.insync.replicas=2) (default 1);
                        with three, a broker-kill is always part of the schedule
  --replicas N          processor replicas, one process each (default 2)
  --outage D            how long a killed broker stays down; a pause lasts half of it. Default: the full
                        ${FULL_BROKER_OUTAGE_MS / 1000}s (and 30s pause) from a 5m run on; shorter runs scale it down in proportion,
                        to no less than 12s (a 60s run: 12s kill, 6s pause)
  --restart-delay D     how long a killed role stays down before it is started again (default 1s)
  --products N          catalogue size (default 20; zipf popularity)
  --stock Q             units per product (default: about 5% of the run's ordered units, so the popular
                        products sell out and both confirmations and rejections happen; each restock
                        adds up to a quarter of it)
  --settle-timeout D    bound on the wait for quiescence after the load (default 120s)
  --client platformatic|kafkajs   the Kafka client the roles use (default platformatic)
  --json                print the result as JSON on stdout (progress still goes to stderr; npm run -s verify
                        -- --json keeps npm's own lines off stdout)
  --keep-logs           keep the logs and the database dump of a passing run too (a failed run always
                        keeps them, in .data/verify/<time>/)
  -h, --help            this help

Exit codes: 0 every check held; 1 a check failed (or the services could not be started);
2 bad usage; 130 interrupted (Ctrl-C), after stopping everything it started.

For CI: npm run verify -- --duration 60s --rate 100 --faults all --seed 1
`;

const MAX_INT = 2_147_483_647;

export function parseVerifyOptions(flags: Record<string, string | undefined>, positionals: string[] = []): VerifyOptions {
  if (positionals.length > 0) throw new ConfigError('arguments', 'options only (see --help)', positionals.join(' '));
  const durationMs = durationFlag(flags, 'duration', { min: 5_000, max: 24 * 3_600_000, fallback: 60_000 });
  const faults = flags.faults === undefined ? [...FAULT_KINDS] : parseFaultList(flags.faults);
  if (faults === undefined) throw new ConfigError('--faults', `all, none, or a comma-separated list of ${FAULT_KINDS.join('|')}`, flags.faults);
  const brokers = integerFlag(flags, 'brokers', { min: 1, max: 3, fallback: 1 });
  if (brokers !== 1 && brokers !== 3) throw new ConfigError('--brokers', '1 or 3', flags.brokers);
  // The point of three brokers is to lose one mid-run: the kill is part of such a run whatever the list says.
  if (brokers === 3 && !faults.includes('broker-kill')) faults.push('broker-kill');
  const lines = parseCountDistribution(flags.lines ?? DEFAULT_ORDER_LINES, { min: 1, max: ORDER_MAX_LINES, noun: 'line count' });
  if (!isCountDistribution(lines)) throw new ConfigError('--lines', 'N, A-B or N:W,N:W,...', flags.lines, lines.problem);
  const client = flags.client ?? 'platformatic';
  if (client !== 'platformatic' && client !== 'kafkajs') throw new ConfigError('--client', 'platformatic or kafkajs', flags.client);
  return {
    durationMs,
    rate: integerFlag(flags, 'rate', { min: 1, max: 100_000, fallback: 100 }),
    lines,
    seed: integerFlag(flags, 'seed', { min: 0, max: MAX_INT, fallback: 1 }),
    faults,
    brokers,
    processorReplicas: integerFlag(flags, 'replicas', { min: 1, max: 12, fallback: 2 }),
    brokerOutageMs: durationFlag(flags, 'outage', { min: 1_000, max: 600_000, fallback: defaultBrokerOutageMs(durationMs) }),
    roleRestartDelayMs: durationFlag(flags, 'restart-delay', { min: 0, max: 600_000, fallback: 1_000 }),
    products: integerFlag(flags, 'products', { min: 1, max: 100_000, fallback: 20 }),
    stock: integerFlag(flags, 'stock', { min: 0, max: MAX_INT }),
    settleTimeoutMs: durationFlag(flags, 'settle-timeout', { min: 1_000, max: 3_600_000, fallback: 120_000 }),
    client,
    json: flags.json === 'true',
    keepLogs: flags['keep-logs'] === 'true',
  };
}

/** About 5% of the units the run will order (2 per line on average): the head of the zipf curve sells out, the tail does not. */
export function defaultStock(options: Pick<VerifyOptions, 'rate' | 'durationMs' | 'lines'>): number {
  return Math.max(10, Math.round(0.05 * 2 * options.lines.mean * options.rate * (options.durationMs / 1000)));
}
