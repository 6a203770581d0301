/**
 * `topology run`: starts the roles of the pipeline in this process (source, processor, relay),
 * or N processor replicas as child processes in one consumer group, with a live status line
 * and graceful shutdown (first Ctrl-C drains and commits, a second one exits at once).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FlagSpec } from '../../core/cli.ts';
import { type AppConfig, loadConfig } from '../../core/config.ts';
import { ConfigError, errorMessage } from '../../core/errors.ts';
import { createLogger, type Logger } from '../../core/logger.ts';
import { countParked, countUnpublished } from '../../state/outbox-store.ts';
import { connectServices, type Services } from './bootstrap.ts';
import { startObservability } from './metrics.ts';
import { startProcessor } from './processor-app.ts';
import { startRelay } from './relay-app.ts';
import { startSource } from './source-app.ts';
import { startStatusLine } from './status-line.ts';

export const RUN_FLAGS: FlagSpec = {
  role: { type: 'string' },
  replicas: { type: 'string' },
  rate: { type: 'string' },
  client: { type: 'string' },
  'group-protocol': { type: 'string' },
  partitions: { type: 'string' },
  group: { type: 'string' },
  'batch-max-records': { type: 'string' },
  'commit-interval-ms': { type: 'string' },
  'metrics-port': { type: 'string' },
  'source-id': { type: 'string' },
  'no-status': { type: 'boolean' },
};

export const RUN_USAGE = `Usage: npm run topology -- run [options]

Runs the reference pipeline. Ctrl-C stops fetching, commits what is complete, publishes the
outbox and exits 0; a second Ctrl-C exits at once.

Options:
  --role all|source|processor|relay   which part to run (default all: the three in one process)
  --replicas N                        processor replicas, as child processes in one consumer group
                                      (1..partitions; another host running the same command joins the group)
  --rate R                            orders/s the source generates (default 50)
  --source-id ID                      the source's stable id (default source-1; one process per id)
  --client platformatic|kafkajs       Kafka client adapter (env KAFKA_CLIENT)
  --group-protocol classic|consumer   consumer-group protocol (env KAFKA_GROUP_PROTOCOL; consumer = KIP-848,
                                      incremental server-side assignment; platformatic only)
  --partitions N                      partitions of the topics it creates (env PARTITIONS, default 12)
  --group NAME                        consumer group (env CONSUMER_GROUP)
  --batch-max-records N               micro-batch size bound (env BATCH_MAX_RECORDS)
  --commit-interval-ms MS             micro-batch time bound (env COMMIT_INTERVAL_MS)
  --metrics-port PORT                 serve /metrics, /healthz, /readyz (env METRICS_PORT, 0 = off);
                                      replica i of --replicas gets PORT + i
  --no-status                         no live status line
  -h, --help                          this help
`;

type Role = 'all' | 'source' | 'processor' | 'relay';
const ROLES: readonly Role[] = ['all', 'source', 'processor', 'relay'];

interface Stoppable {
  name: string;
  stop(): Promise<void>;
}

export async function runCommand(flags: Record<string, string | undefined>): Promise<number> {
  const config = loadConfig(process.env, flags);
  const role = (flags.role ?? 'all') as Role;
  if (!ROLES.includes(role)) throw new ConfigError('--role', `one of ${ROLES.join('|')}`, flags.role);
  const replicas = parsePositive('--replicas', flags.replicas ?? '1', config.partitions);
  const rate = parsePositive('--rate', flags.rate ?? '50', 1_000_000);
  if (replicas > 1 && role !== 'processor' && role !== 'all') throw new ConfigError('--replicas', 'to be used with --role processor or all', flags.replicas);

  const logger = createLogger({ level: config.logLevel, format: config.logFormat });
  const services = await connectServices(config, logger);
  const observability =
    config.metricsPort > 0
      ? await startObservability({ port: config.metricsPort, logger }).catch(async (error: unknown) => {
          await services.close();
          throw error;
        })
      : undefined;
  const running: Stoppable[] = [];
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

  const startRoles = async () => {
    if (role === 'all' || role === 'source') {
      const source = await startSource(config, { ...services, logger }, { rate, sourceId: flags['source-id'] ?? 'source-1' });
      observability?.watchSource(source.source);
      running.push({ name: 'source', stop: source.stop });
    }
    if (role === 'all' || role === 'processor') {
      if (replicas > 1) {
        for (let index = 1; index <= replicas; index++) children.push(spawnReplica(index, { ...flags, 'metrics-port': config.metricsPort > 0 ? String(config.metricsPort + index) : '0' }, logger, () => stopping, (code) => {
          if (code !== 0) exitCode = 1;
        }));
      } else {
        const processor = await startProcessor(config, { sequelize: services.sequelize, kafka: services.kafka, logger, partitionCount: services.partitionCount, metrics: observability?.metrics });
        observability?.watchProcessor({ runtime: processor.runtime, highWatermarks: (topic) => services.admin.highWatermarks(topic) });
        processor.runtime.errors$.subscribe(() => {
          exitCode = 1;
        });
        running.push({ name: 'processor', stop: processor.stop });
      }
    }
    if (role === 'all' || role === 'relay') {
      const relay = await startRelay(config, { sequelize: services.sequelize, kafka: services.kafka, logger });
      running.push({ name: 'relay', stop: relay.stop });
      observability?.watchRelay({ relay: relay.relay, countUnpublished: () => countUnpublished(services.sequelize), countParked: () => countParked(services.sequelize) });
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

function parsePositive(flag: string, raw: string, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < 1 || value > max) throw new ConfigError(flag, `an integer from 1 to ${max}`, raw);
  return value;
}

function spawnReplica(index: number, flags: Record<string, string | undefined>, logger: Logger, stopping: () => boolean, onExit: (code: number | null) => void): ChildProcess {
  const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
  const args = [cli, 'run', '--role', 'processor', '--no-status'];
  for (const flag of ['client', 'partitions', 'group', 'group-protocol', 'batch-max-records', 'commit-interval-ms', 'metrics-port'] as const) {
    if (flags[flag] !== undefined) args.push(`--${flag}`, flags[flag]!);
  }
  const replicaId = `${process.env.REPLICA_PREFIX ?? 'replica'}-${index}-${process.pid}`;
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, REPLICA_ID: replicaId, TOPOLOGY_REPLICA: String(index) } });
  logger.info('started processor replica', { replica: replicaId, pid: child.pid });
  child.once('exit', (code, signal) => {
    if (!stopping()) logger.error('processor replica exited', { replica: replicaId, code, signal });
    onExit(code);
  });
  return child;
}

export type { AppConfig, Services };
