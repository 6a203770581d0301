/**
 * One verifier run, start to end: private services, migrated and seeded database, the roles as
 * processes, load with the fault schedule, quiescence, snapshot, checks. Interruptible: `abort`
 * ends the waits, and the caller's workspace stops whatever was started.
 */
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/logger.ts';
import { formatDuration } from '../core/numbers.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { KafkaProducer } from '../kafka/port.ts';
import { seed } from '../state/commerce/seed.ts';
import { connectDatabase, ensureDatabase } from '../state/db.ts';
import { migrate } from '../state/migrator.ts';
import { checkRecoveries, type FaultOutcome, runChecks, type UnexpectedExit, type VerifySnapshot } from './checks.ts';
import { CommandLoad } from './command-load.ts';
import { describeTarget, executeFault, type FaultTargets } from './faults.ts';
import { Monitor } from './monitor.ts';
import { defaultStock, type VerifyOptions } from './options.ts';
import { deadLetteredRestockIds } from './order-commands.ts';
import { type OrderFlowReading, takeOrderFlowSnapshot } from './order-flow-snapshot.ts';
import { consumedTopics, namesEnv, type PipelineNames, pipelineNamesOf, publishedTopics } from './pipeline-topics.ts';
import type { PoisonRecord } from './poison.ts';
import { componentsOf, measureRecovery, type Sample } from './recovery.ts';
import { countTotals, progressLine, type VerifyResult } from './report.ts';
import { SupervisedRole } from './roles.ts';
import { planFaults } from './schedule.ts';
import { startKafka } from './services/kafka.ts';
import { startPostgres } from './services/postgres.ts';
import type { Workspace } from './services/workspace.ts';
import { type RunSnapshot, readStock, takeRunSnapshot } from './snapshot.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const DATABASE = 'kstream';
/** The app's own names: every run has a broker of its own. */
/** The app's default names: the verifier runs on services of its own, where nothing else uses them. */
const NAMES: PipelineNames = pipelineNamesOf(loadConfig({}, {}));
const SOURCE_ID = 'verify-source';
/** Pause between two rounds of restocks and cancellations. */
const COMMANDS_EVERY_MS = 3_000;
const RECOVERY_BOUND_MS = 15_000;
/** How long after a fault's service came back the verifier waits for processing to resume before it gives up on it. */
const RECOVERY_WINDOW_MS = 60_000;
const ROLE_START_TIMEOUT_MS = 120_000;
const PROGRESS_EVERY_MS = 5_000;

export interface RunContext {
  options: VerifyOptions;
  workspace: Workspace;
  signal: AbortSignal;
  /** Progress lines (stderr). */
  say(line: string): void;
}

export async function runVerification({ options, workspace, signal, say }: RunContext): Promise<VerifyResult> {
  const begin = Date.now();
  let loadStart: number | undefined;
  const clock = () => (loadStart === undefined ? 0 : Date.now() - loadStart);
  const since = () => formatDuration(Date.now() - begin);
  const used = new Set<number>();
  // Registered first, so it runs last at close: after the roles and services stopped and flushed their logs.
  const logsDir = path.join(ROOT, '.data', 'verify', new Date().toISOString().replaceAll(':', '-'));
  let keep = true;
  workspace.onClose('keep the logs of a failed run', () => {
    if (keep) keepLogs(workspace, logsDir);
  });

  say(`starting private PostgreSQL and ${options.brokers === 1 ? 'a Kafka broker' : 'three Kafka brokers'} in ${workspace.dir}`);
  const [postgres, kafka] = await Promise.all([startPostgres(workspace, used), startKafka(workspace, used, options.brokers)]);
  const databaseUrl = postgres.url(DATABASE);
  say(`PostgreSQL on port ${postgres.port}, Kafka on ${kafka.brokers.join(',')} (${since()})`);
  // Registered after PostgreSQL's stop, so it runs before it: the logs of a failed run come with its database.
  workspace.onClose('dump the database of a failed run', async () => {
    if (keep) await postgres.dump(DATABASE, 'dump.sql');
  });

  const stock = options.stock ?? defaultStock(options);
  await ensureDatabase(databaseUrl);
  const sequelize = await connectDatabase(databaseUrl, silentLogger, { poolMax: 3 });
  try {
    await migrate(sequelize, silentLogger);
    await seed(sequelize, { products: options.products, stock });
  } finally {
    await sequelize.close();
  }
  const initialStock = await readStock(databaseUrl);
  const productIds = [...initialStock.keys()];
  say(`database migrated and seeded: ${options.products} products with ${stock} units each`);

  const unexpectedExits: UnexpectedExit[] = [];
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    KAFKA_BROKERS: kafka.brokers.join(','),
    KAFKA_CLIENT: options.client,
    ...namesEnv(NAMES),
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    // A SIGKILLed processor holds its partitions until its session expires: the broker's floor,
    // as a pipeline expected to fail over fast would set it (the private broker does the same for `consumer`).
    KAFKA_SESSION_TIMEOUT_MS: '6000',
  };
  const role = (name: string, which: 'source' | 'processor' | 'relay', args: string[] = []) =>
    new SupervisedRole(
      { name, role: which, args, env },
      {
        workspace,
        clock,
        restartDelayMs: options.roleRestartDelayMs,
        onUnexpectedExit: (exit) => {
          unexpectedExits.push(exit);
          say(`${exit.role} exited by itself (code ${exit.code}, signal ${exit.signal}); last lines:\n  ${exit.lastLines.slice(-5).join('\n  ')}`);
        },
      },
    );
  const relay = role('relay', 'relay');
  const processors = Array.from({ length: options.processorReplicas }, (_, index) => role(`processor-${index + 1}`, 'processor'));
  const source = role('source', 'source', ['--rate', String(options.rate), '--lines', options.lines.spec, '--source-id', SOURCE_ID]);
  const roles = [source, ...processors, relay];
  // Newest first at close: the source stops before the processors, they before the relay; the logs close last.
  workspace.onClose('close role logs', async () => {
    await Promise.all(roles.map((each) => each.closeLog()));
  });
  workspace.onClose('stop the relay', () => relay.stop(5_000));
  workspace.onClose('stop the processors', async () => {
    await Promise.all(processors.map((processor) => processor.stop(5_000)));
  });
  workspace.onClose('stop the source', () => source.stop(5_000));

  // The relay starts first and creates the topics through the application's own code, so the
  // replication factor it picks (and so a three-broker run) is what gets verified.
  relay.start();
  await relay.waitForLine(/running; Ctrl-C to stop/, ROLE_START_TIMEOUT_MS);
  for (const processor of processors) processor.start();
  await Promise.all(processors.map((processor) => processor.waitForLine(/processor started/, ROLE_START_TIMEOUT_MS)));
  source.start();
  await source.waitForLine(/source started/, ROLE_START_TIMEOUT_MS);
  loadStart = Date.now();
  say(`pipeline running: source at ${options.rate}/s (--lines ${options.lines.spec}), ${processors.length} processor replicas, relay (${since()} after start)`);

  const monitor = new Monitor({ databaseUrl, brokers: kafka.brokers, group: NAMES.consumerGroup, consumedTopics: consumedTopics(NAMES), publishedTopics: publishedTopics(NAMES) }, clock);
  workspace.onClose('stop the monitor', () => monitor.stop());
  monitor.start();

  const commands = new CommandLoad({
    databaseUrl,
    kafka: createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: kafka.brokers }, silentLogger),
    restockCommandsTopic: NAMES.restockCommandsTopic,
    cancelCommandsTopic: NAMES.cancelCommandsTopic,
    productIds,
    sourceId: SOURCE_ID,
    seed: options.seed,
    everyMs: COMMANDS_EVERY_MS,
    mix: { maxRestockQuantity: Math.max(1, Math.round(stock / 4)) },
  });
  workspace.onClose('stop the commands', () => commands.stop());
  commands.start();

  const plan = planFaults({ ...options, faults: options.faults });
  const poison: PoisonRecord[] = [];
  let producer: KafkaProducer | undefined;
  workspace.onClose('close the poison producer', async () => {
    await producer?.close().catch(() => {});
  });
  const targets: FaultTargets = {
    kafka,
    postgres,
    database: DATABASE,
    source,
    relay,
    processors,
    ordersTopic: NAMES.ordersTopic,
    productIds,
    poison,
    clock,
    producer: async () => {
      producer ??= await createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: kafka.brokers }, silentLogger).producer({ clientId: 'verify-poison' });
      return producer;
    },
  };
  const outcomes: FaultOutcome[] = plan.map((fault) => ({ kind: fault.kind, target: describeTarget(fault, targets), plannedAtMs: fault.atMs, startedAtMs: undefined, backAtMs: undefined, recoveryMs: undefined, detail: '', error: undefined }));
  let phase = 'load';
  let done = 0;
  let running = false;
  const progress = setInterval(() => {
    const next = plan[done];
    const upcoming = next === undefined ? undefined : running ? `now ${next.kind}` : `next ${next.kind} at ${formatDuration(Math.max(next.atMs, clock()))}`;
    say(progressLine(monitor.latest, { elapsedMs: clock(), durationMs: options.durationMs, phase, faultsDone: done, faultsTotal: plan.length, next: upcoming }));
  }, PROGRESS_EVERY_MS);
  workspace.onClose('stop the progress line', () => clearInterval(progress));

  for (const [index, fault] of plan.entries()) {
    await sleepUntil(() => clock() >= fault.atMs, signal);
    if (signal.aborted) break;
    const outcome = outcomes[index]!;
    running = true;
    say(`fault ${index + 1}/${plan.length}: ${fault.kind}${outcome.target ? ` (${outcome.target})` : ''} at ${formatDuration(clock())}`);
    try {
      const execution = await executeFault(fault, targets, index);
      Object.assign(outcome, { startedAtMs: execution.startedAtMs, backAtMs: execution.backAtMs, detail: execution.detail });
      const components = componentsOf(fault.kind);
      let recovery = measureRecovery(monitor.samples, { ...execution, components });
      // The window opens when the fault is over (for a three-broker kill that is after the restart, though recovery counts from the kill).
      const windowFrom = clock();
      await sleepUntil(() => {
        recovery = measureRecovery(monitor.samples, { ...execution, components });
        return recovery.recoveryMs !== undefined || clock() - windowFrom > RECOVERY_WINDOW_MS;
      }, signal);
      outcome.recoveryMs = recovery.recoveryMs;
      outcome.detail = `${execution.detail}; resumed: ${recovery.detail}`;
      say(`  ${outcome.detail}`);
    } catch (error) {
      outcome.startedAtMs ??= clock();
      outcome.error = (error as Error).message;
      say(`  fault failed: ${outcome.error}`);
    }
    done++;
    running = false;
  }
  await sleepUntil(() => clock() >= options.durationMs, signal);
  if (signal.aborted) throw new Error('interrupted');
  const loadMs = clock();

  phase = 'settling';
  say(`load done after ${formatDuration(loadMs)}: stopping the commands and the source, waiting until every partition is consumed and the outbox is empty`);
  await commands.stop();
  await source.stop(30_000);
  const settleStart = Date.now();
  let unsettled: string | undefined = 'not checked';
  let reading: { run: RunSnapshot; orderFlow: OrderFlowReading } | undefined;
  while (!signal.aborted && reading === undefined) {
    const quiet = await waitUntilQuiet(monitor, settleStart, options.settleTimeoutMs, signal);
    unsettled = quiet.unsettled;
    if (signal.aborted) break;
    const read = { run: await takeRunSnapshot(databaseUrl, kafka.brokers, NAMES), orderFlow: await takeOrderFlowSnapshot(databaseUrl, kafka.brokers, NAMES) };
    // A reading counts only if nothing moved while it was taken: quiet before and the same after.
    const moved = quiet.sample === undefined ? undefined : movedSince(quiet.sample, await monitor.sample());
    if (moved === undefined || Date.now() - settleStart > options.settleTimeoutMs) reading = read;
    else say(`the pipeline moved while it was being read back (${moved}); waiting for quiet again`);
  }
  clearInterval(progress);
  if (signal.aborted || reading === undefined) throw new Error('interrupted');
  say(unsettled === undefined ? `quiet after ${formatDuration(Date.now() - settleStart)}; read back the database and the topics` : unsettled);

  const run = reading.run;
  const { undecodable, ...orderFlowState } = reading.orderFlow;
  const snapshot: VerifySnapshot = {
    orderFlow: {
      initialStock,
      restocksSent: commands.restocksSent,
      cancellationsSent: commands.cancellationsSent,
      deadLetteredRestockIds: deadLetteredRestockIds(run.dlqRecords),
      ...orderFlowState,
    },
    undecodable,
    ordersTopic: NAMES.ordersTopic,
    orderRecords: run.orderRecords,
    dlqRecords: run.dlqRecords,
    poison,
    outbox: run.outbox,
    unsettled,
    unexpectedExits,
  };
  const checks = runChecks(snapshot);
  checks.push(checkRecoveries(outcomes, RECOVERY_BOUND_MS));
  const ok = checks.every((each) => each.ok);

  const result: VerifyResult = {
    ok,
    settings: {
      duration: formatDuration(options.durationMs),
      rate: options.rate,
      lines: options.lines.spec,
      seed: options.seed,
      faults: options.faults.length === 0 ? 'none' : options.faults.join(','),
      brokers: options.brokers,
      replicas: options.processorReplicas,
      outage: formatDuration(options.brokerOutageMs),
      products: options.products,
      stock,
      client: options.client,
    },
    loadMs,
    totals: countTotals(snapshot, commands.unconfirmed),
    checks,
    faults: outcomes,
    cleanupProblems: [],
  };
  keep = !ok || options.keepLogs;
  if (keep) result.settings.logs = path.relative(ROOT, logsDir);
  return result;
}

/** Lag and outbox backlog, or undefined when there is none (and both services answered). */
export function unsettledReason(sample: Sample): string | undefined {
  if (!sample.offsets || !sample.highWatermarks || sample.unpublishedOutbox === undefined) return 'the database or the broker did not answer';
  const lagging = [...sample.highWatermarks]
    .filter(([partition, mark]) => (sample.offsets!.get(partition) ?? 0n) < mark)
    .map(([partition, mark]) => `${partition}: ${sample.offsets!.get(partition) ?? 0n}/${mark}`);
  const parts: string[] = [];
  if (lagging.length > 0) parts.push(`partitions behind (stored/end) ${lagging.join(', ')}`);
  if (sample.unpublishedOutbox > 0) parts.push(`${sample.unpublishedOutbox} outbox rows unpublished`);
  return parts.length === 0 ? undefined : parts.join('; ');
}

/** Samples until two in a row show no lag and an empty outbox, or the settle timeout passes (then `unsettled` says why). */
async function waitUntilQuiet(monitor: Monitor, since: number, timeoutMs: number, signal: AbortSignal): Promise<{ unsettled: string | undefined; sample: Sample | undefined }> {
  let quietSamples = 0;
  while (!signal.aborted) {
    const sample = await monitor.sample();
    const reason = unsettledReason(sample);
    quietSamples = reason === undefined ? quietSamples + 1 : 0;
    if (quietSamples >= 2) return { unsettled: undefined, sample };
    if (Date.now() - since > timeoutMs) return { unsettled: `not quiet ${formatDuration(timeoutMs)} after the load: ${reason}`, sample: undefined };
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return { unsettled: 'interrupted', sample: undefined };
}

/** What changed between two samples of a quiet pipeline (offsets, high watermarks, published records, outbox), or undefined if nothing did. */
export function movedSince(before: Sample, after: Sample): string | undefined {
  const changed: string[] = [];
  const differing = (a: Map<string, bigint> | undefined, b: Map<string, bigint> | undefined) =>
    [...new Set([...(a?.keys() ?? []), ...(b?.keys() ?? [])])].filter((partition) => a?.get(partition) !== b?.get(partition));
  const offsets = differing(before.offsets, after.offsets);
  if (offsets.length > 0) changed.push(`offsets of ${offsets.join(', ')}`);
  const marks = differing(before.highWatermarks, after.highWatermarks);
  if (marks.length > 0) changed.push(`end offsets of ${marks.join(', ')}`);
  if (before.publishedEvents !== after.publishedEvents) changed.push(`published records ${before.publishedEvents ?? '?'} -> ${after.publishedEvents ?? '?'}`);
  if (after.unpublishedOutbox !== 0) changed.push(`${after.unpublishedOutbox ?? '?'} outbox rows unpublished`);
  return changed.length === 0 ? undefined : changed.join('; ');
}

/** A failed run (or one with --keep-logs) keeps the role, broker and PostgreSQL logs and a dump of the database (pg/dump.sql) in .data/verify/<time>/ (git-ignored). */
function keepLogs(workspace: Workspace, target: string): void {
  mkdirSync(target, { recursive: true });
  // The logs, not the brokers' and the cluster's data folders.
  cpSync(workspace.dir, target, { recursive: true, filter: (from) => path.basename(from) !== 'data' });
}

async function sleepUntil(condition: () => boolean, signal: AbortSignal): Promise<void> {
  while (!condition() && !signal.aborted) await new Promise((resolve) => setTimeout(resolve, 250));
}
