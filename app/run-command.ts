/**
 * `topology run`: starts the roles of the pipeline in this process (source, processor, relay),
 * or N processor replicas as child processes in one consumer group, with a live status line
 * and graceful shutdown (first Ctrl-C drains and commits, a second one exits at once).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { exitCodesHelp, type FlagSpec } from '../core/cli.ts';
import { type AppConfig, DEFAULT_ORDER_LINES, loadConfig } from '../core/config.ts';
import { ConfigError, errorMessage } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { integerFlag } from '../core/numbers.ts';
import { backoffDelay, RETRY_POLICIES } from '../core/retry.ts';
import { describeTracing, readTracingSettings, startTracing } from '../core/tracing.ts';
import { countParked, countUnpublished } from '../state/outbox-store.ts';
import { startRelay } from '../streams/relay.ts';
import type { Topology } from '../topology/builder.ts';
import type { Committer } from '../topology/runtime/types.ts';
import { connectServices, type Services } from './bootstrap.ts';
import { startConsole } from './console/console-app.ts';
import { instrumentCommitter, startObservability } from './metrics.ts';
import { parseSourceId } from './order-source/source-id.ts';
import { startProcessor } from './processor-app.ts';
import { startRestocker } from './restocker.ts';
import { RuntimeView } from './role-views.ts';
import { startSource } from './source-app.ts';
import { startStatusLine } from './status-line.ts';
import { type RoleHandle, RoleSupervisor } from './supervisor.ts';

export const RUN_FLAGS: FlagSpec = {
  role: { type: 'string' },
  replicas: { type: 'string' },
  rate: { type: 'string' },
  lines: { type: 'string' },
  client: { type: 'string' },
  'group-protocol': { type: 'string' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  group: { type: 'string' },
  'batch-max-records': { type: 'string' },
  'commit-interval-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'source-id': { type: 'string' },
  'restock-interval': { type: 'string' },
  'restock-quantity': { type: 'string' },
  'restock-below': { type: 'string' },
  'no-status': { type: 'boolean' },
  'console-port': { type: 'string' },
};

export const RUN_USAGE = `Usage: npm run topology -- run [options]

Runs the reference pipeline. A role that fails (or cannot start, e.g. while Kafka or PostgreSQL
is down) is restarted inside the process with backoff (1 s doubling to 30 s), each restart
logged. Ctrl-C stops fetching, commits what is complete, publishes the outbox and exits 0; a
second Ctrl-C exits at once.

Options:
  --role all|source|processor|relay|restocker
                                      which part to run (default all: every one in one process;
                                      source runs the restocker beside the order source)
  --replicas N                        processor replicas, as child processes in one consumer group
                                      (1..partitions; another host running the same command joins the group)
  --rate R                            orders/s the source generates (default 50)
  --lines N|A-B|N:W,...               lines per order the source draws (env ORDER_LINES; default
                                      ${DEFAULT_ORDER_LINES}, mean 2.4; 1 = the original one product
                                      per order): N always, A-B uniform, N:W,N:W,... weighted
  --source-id ID                      the source's stable id (default source-1; one process per id)
  --restock-interval DURATION         the restocker looks at the stock this often (env RESTOCK_INTERVAL,
                                      default 5s; 0 or off: no periodic restocks)
  --restock-below N                   it restocks each product whose stock is below N (env RESTOCK_BELOW,
                                      default 100)...
  --restock-quantity N                ...by N units, one RestockInventory per product (env RESTOCK_QUANTITY,
                                      default 200); not again while earlier restocks wait to be applied
  --client platformatic|kafkajs       Kafka client adapter (env KAFKA_CLIENT)
  --group-protocol classic|consumer   consumer-group protocol (env KAFKA_GROUP_PROTOCOL; consumer = KIP-848,
                                      incremental server-side assignment; platformatic only)
  --partitions N                      partitions of the topics it creates (env PARTITIONS, default 12)
  --replication-factor N              replication factor of the topics it creates (env REPLICATION_FACTOR;
                                      default -1: the broker's default.replication.factor)
  --group NAME                        consumer group (env CONSUMER_GROUP)
  --batch-max-records N               micro-batch size bound (env BATCH_MAX_RECORDS)
  --commit-interval-ms MS             micro-batch time bound (env COMMIT_INTERVAL_MS)
  --metrics-port PORT                 serve /metrics, /healthz, /readyz (env METRICS_PORT, 0 = off);
                                      replica i of --replicas gets PORT + i
  --no-status                         no live status line
  --console-port PORT                 serve the operator's console on http://127.0.0.1:PORT/ (the URL is
                                      logged at start; npm run console serves it on its own)
  -h, --help                          this help

Environment: every setting of the README's Configuration table (DATABASE_URL, KAFKA_BROKERS,
METRICS_HOST, HALTED_LIVENESS_TIMEOUT_MS, PG_STATEMENT_TIMEOUT_MS, ...).
Tracing is off unless OTEL_EXPORTER_OTLP_ENDPOINT (an OTLP/HTTP collector, e.g.
http://127.0.0.1:4318) is set; spans then carry service.name OTEL_SERVICE_NAME (default
kstream-commerce-<role>), and one trace follows each order from the source to its outcome.

${exitCodesHelp([
  [0, 'stopped by Ctrl-C or SIGTERM after a clean shutdown'],
  [1, 'a service is unavailable at start, a role failed or did not stop cleanly, a replica\n      exited with an error, or the shutdown took longer than SHUTDOWN_TIMEOUT_MS'],
  [130, 'a second Ctrl-C or SIGTERM: exited at once, without finishing the shutdown'],
])}`;

type Role = 'all' | 'source' | 'processor' | 'relay' | 'restocker';
const ROLES: readonly Role[] = ['all', 'source', 'processor', 'relay', 'restocker'];

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export async function runCommand(flags: Record<string, string | undefined>): Promise<number> {
  const config = loadConfig(process.env, flags);
  const role = (flags.role ?? 'all') as Role;
  if (!ROLES.includes(role)) throw new ConfigError('--role', `one of ${ROLES.join('|')}`, flags.role);
  const replicas = integerFlag(flags, 'replicas', { min: 1, max: config.partitions, fallback: 1 });
  const rate = integerFlag(flags, 'rate', { min: 1, max: 1_000_000, fallback: 50 });
  if (replicas > 1 && role !== 'processor' && role !== 'all') throw new ConfigError('--replicas', 'to be used with --role processor or all', flags.replicas);
  const sourceId = parseSourceId(flags['source-id']);
  const consolePort = integerFlag(flags, 'console-port', { min: 1, max: 65_535 });
  const restocks = (role === 'all' || role === 'source' || role === 'restocker') && config.restockIntervalMs > 0;
  if (role === 'restocker' && !restocks) throw new ConfigError('--role', 'restocker only with a restock interval (RESTOCK_INTERVAL, --restock-interval) other than 0/off', 'restocker');

  // Read before anything connects: a bad endpoint is a bad setting, not a failed role.
  const tracingSettings = readTracingSettings(role);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const tracing = startTracing(tracingSettings);
  if (tracing.enabled) logger.info('tracing on', { export: describeTracing(tracingSettings) });
  const services = await connectServices(config, logger).catch(async (error: unknown) => {
    await tracing.shutdown();
    throw error;
  });
  const observability =
    config.metricsPort > 0
      ? await startObservability({ port: config.metricsPort, host: config.metricsHost, haltedAfterMs: config.haltedLivenessTimeoutMs, logger }).catch(async (error: unknown) => {
          await services.close();
          await tracing.shutdown();
          throw error;
        })
      : undefined;
  const running: Stoppable[] = [];
  if (consolePort !== undefined) {
    // Before the roles, so a port in use fails the start at once; stopped first, before the roles drain.
    const consoleServer = await startConsole(config, services, { port: consolePort, logger }).catch(async (error: unknown) => {
      await observability?.stop();
      await services.close();
      await tracing.shutdown();
      throw error;
    });
    logger.info(`console: open ${consoleServer.url}`, { url: consoleServer.url });
    running.push({ name: 'console', stop: () => consoleServer.stop() });
  }
  const children: ChildProcess[] = [];
  let stopping = false;
  let exitCode = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  // A signal during startup waits for the roles being started, so none is left running.
  let startup: Promise<unknown> = Promise.resolve();
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    await startup.catch(() => {});
    logger.info('shutting down: stop fetching, commit what is complete, publish the outbox', { reason });
    const deadline = setTimeout(() => {
      logger.error('shutdown took longer than SHUTDOWN_TIMEOUT_MS; exiting now', { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000);
    deadline.unref();
    for (const child of children) child.kill('SIGTERM');
    // Source first (no new orders), then the processor (commits), then the relay (publishes them).
    for (const part of running) {
      try {
        await part.stop();
        logger.info(`${part.name} stopped`);
      } catch (error) {
        exitCode = 1;
        logger.error(`${part.name} did not stop cleanly`, { error: errorMessage(error) });
      }
    }
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await observability?.stop();
    await services.close();
    // Last: the spans of the final commits and publishes are exported before the process exits.
    await tracing.shutdown().catch((error: unknown) => logger.warn('could not export the last spans', { error: errorMessage(error) }));
    resolveDone();
  };

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`\nsecond ${signal}: exiting now\n`);
      for (const child of children) child.kill('SIGKILL');
      process.exit(130);
    }
    void shutdown(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // Every role runs under a supervisor: one that fails (or cannot start) is restarted with
  // backoff inside the process; only bad configuration ends it (exit 2).
  const supervise = <H extends RoleHandle>(name: string, start: () => Promise<H>, onStarted?: (handle: H) => void) =>
    RoleSupervisor.start({
      name,
      start,
      logger,
      ...(onStarted ? { onStarted } : {}),
      onConfigError: () => {
        exitCode = 2;
        void shutdown(`${name}: bad configuration`);
      },
    });
  const startRoles = async () => {
    if (role === 'all' || role === 'source') {
      observability?.watchSource();
      const source = await supervise('source', () => startSource(config, { ...services, logger }, { rate, sourceId }));
      running.push({ name: 'source', stop: () => source.stop() });
    }
    if (restocks) {
      const policy = { below: config.restockBelow, quantity: config.restockQuantity };
      const restocker = await supervise('restocker', () =>
        startRestocker({ ...services, logger }, { topic: config.restockCommandsTopic, group: config.consumerGroup, policy, intervalMs: config.restockIntervalMs }),
      );
      running.push({ name: 'restocker', stop: () => restocker.stop() });
    }
    if (role === 'all' || role === 'processor') {
      if (replicas > 1) {
        // A replica that exits on its own is a role that failed: started again with backoff.
        const launch = (index: number, restarts: number): ChildProcess => {
          const replicaFlags = { ...flags, 'metrics-port': config.metricsPort > 0 ? String(config.metricsPort + index) : '0' };
          return spawnReplica(index, replicaFlags, logger, () => stopping, (code) => {
            if (stopping) {
              if (code !== 0) exitCode = 1;
              return;
            }
            if (code === 2) {
              exitCode = 2;
              void shutdown(`processor replica ${index}: bad configuration`);
              return;
            }
            const delayMs = backoffDelay(RETRY_POLICIES.restart, restarts + 1);
            logger.error(`processor replica ${index} exited; restarting it in ${delayMs} ms`, { replica: index, code, restart: restarts + 1, delayMs });
            setTimeout(() => {
              if (!stopping) children[index - 1] = launch(index, restarts + 1);
            }, delayMs).unref();
          });
        };
        for (let index = 1; index <= replicas; index++) children.push(launch(index, 0));
      } else {
        const view = new RuntimeView();
        observability?.watchProcessor({ runtime: view, highWatermarks: (topic) => services.admin.highWatermarks(topic) });
        const metrics = observability?.metrics;
        const start = () =>
          startProcessor(config, { sequelize: services.sequelize, kafka: services.kafka, admin: services.admin, logger, partitionCount: services.partitionCount, ...(metrics ? { instrument: (committer: Committer, topology: Topology) => instrumentCommitter(committer, metrics, topology) } : {}) });
        const processor = await supervise('processor', start, (handle) => view.follow(handle.runtime));
        running.push({ name: 'processor', stop: () => processor.stop() });
      }
    }
    if (role === 'all' || role === 'relay') {
      observability?.watchRelay({ countUnpublished: () => countUnpublished(services.sequelize), countParked: () => countParked(services.sequelize) });
      const relay = await supervise('relay', () => startRelay(config, { sequelize: services.sequelize, kafka: services.kafka, logger }));
      running.push({ name: 'relay', stop: () => relay.stop() });
    }
  };
  startup = startRoles();
  try {
    await startup;
  } catch (error) {
    startup = Promise.resolve();
    await shutdown('start failed');
    throw error;
  }
  if (stopping) {
    await done;
    return exitCode;
  }
  observability?.markStarted();

  const showStatus = !flags['no-status'] && process.env.TOPOLOGY_REPLICA === undefined;
  const statusLine = showStatus ? startStatusLine(config, services, logger) : undefined;
  if (statusLine) running.unshift({ name: 'status line', stop: statusLine.stop });
  logger.info('running; Ctrl-C to stop', { role, replicas, client: config.kafkaClient, partitions: services.partitionCount });
  await done;
  // Everything is stopped and closed, but a client library may leave a timer behind that keeps
  // the process alive (@platformatic/kafka re-arms a 30 s heartbeat-stall timer when close() cuts
  // a rejoin short), which would end in the shutdown deadline's exit 1. Exit with our own code.
  setTimeout(() => process.exit(exitCode), 1000).unref();
  return exitCode;
}

function spawnReplica(index: number, flags: Record<string, string | undefined>, logger: Logger, stopping: () => boolean, onExit: (code: number | null) => void): ChildProcess {
  const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
  const args = [cli, 'run', '--role', 'processor', '--no-status'];
  for (const flag of ['client', 'partitions', 'replication-factor', 'group', 'group-protocol', 'batch-max-records', 'commit-interval-ms', 'metrics-port'] as const) {
    if (flags[flag] !== undefined) args.push(`--${flag}`, flags[flag]!);
  }
  const replicaId = `${process.env.REPLICA_PREFIX ?? 'replica'}-${index}-${process.pid}`;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, REPLICA_ID: replicaId, TOPOLOGY_REPLICA: String(index) } });
  logger.info('started processor replica', { replica: replicaId, pid: child.pid });
  child.once('exit', (code, signal) => {
    if (!stopping()) logger.warn('processor replica exited', { replica: replicaId, code, signal });
    onExit(code);
  });
  return child;
}

export type { AppConfig, Services };
