/**
 * `npm run bench -- memory` (or `node bench/memory.ts`): does a processor's memory stay flat
 * while it drains a large backlog? Produces N small records to a fresh topic, then drains them
 * through the engine as `run` wires it (source -> forward -> sink): every micro-batch committed
 * by the real transactional sink (offset fence and outbox rows in one PostgreSQL transaction, in
 * a database of its own) and the outbox relay publishing to `<topic>.out`, both in one process.
 * RSS and heap are sampled every second; the drain is done when every record is committed and
 * the outbox is empty. The drain runs in a child process of its own, so the producer's buffers
 * and garbage do not blur the numbers.
 * Writes bench/results/memory-<date>.{json,md} and prints a JSON summary as the last stdout line.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCommandLine, runMain } from '../core/cli.ts';
import type { Codec } from '../core/codec.ts';
import { type AppConfig, type KafkaClientName, loadConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { createLogger, type Logger } from '../core/logger.ts';
import { integerFlag } from '../core/numbers.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { KafkaClient, OutgoingMessage } from '../kafka/port.ts';
import { startTopologyProcessor } from '../streams/processor.ts';
import { startRelay } from '../streams/relay.ts';
import { withDatabase } from '../state/database-url.ts';
import { connectDatabase, dropDatabase, ensureDatabase } from '../state/db.ts';
import { countUnpublished } from '../state/outbox-store.ts';
import { type Topology, TopologyBuilder } from '../topology/builder.ts';
import type { Processor } from '../topology/processor-api.ts';
import type { CommittableBatch, Committer } from '../topology/runtime/types.ts';
import { benchDatabaseName } from './support/databases.ts';

/** The runtime settings the drain reads from the environment (the results' command line writes them when set). */
const RUNTIME_ENV = ['BATCH_MAX_RECORDS', 'COMMIT_INTERVAL_MS', 'MAX_INFLIGHT_PER_PARTITION', 'MAX_INFLIGHT_TOTAL', 'FETCH_MAX_BYTES'] as const;

const USAGE = `Usage: node bench/memory.ts [options]   (or: npm run bench -- memory [options])

Options:
  --records N          backlog size (default 10000000)
  --partitions N       partitions of the bench topic (default 12)
  --client NAME        platformatic | kafkajs (default KAFKA_CLIENT, else platformatic)
  --node-options=FLAGS Node/V8 flags of the drain process, as NODE_OPTIONS would give them to a
                       deployed processor, e.g. --node-options="--max-old-space-size=96 --max-semi-space-size=8"
                       (default: none, V8 sizes its heap itself)
  --no-write           do not write bench/results files
  --drain-topic TOPIC  (internal) drain an existing backlog and print the samples as JSON
Runtime settings come from the environment as for \`npm run topology\`
(${RUNTIME_ENV.join(', ')}).
`;

const FLAGS = {
  records: { type: 'string' },
  partitions: { type: 'string' },
  client: { type: 'string' },
  'node-options': { type: 'string' },
  'no-write': { type: 'boolean' },
  'drain-topic': { type: 'string' },
} as const;

const RESULTS_DIR = fileURLToPath(new URL('./results', import.meta.url));
const SAMPLE_INTERVAL_MS = 1_000;
/** Messages per producer request, and requests in flight at once. */
const PRODUCE_CHUNK = 20_000;
const PRODUCE_CONCURRENCY = 4;
const MB = 1024 * 1024;

interface MemoryBenchOptions {
  records: number;
  partitions: number;
  client: KafkaClientName;
  /** Flags of the drain process (the producing parent runs without them). */
  nodeOptions: string;
  write: boolean;
}

export interface MemorySample {
  /** Seconds since the drain started. */
  t: number;
  committed: number;
  inflight: number;
  /** Records in the outbox not published yet (-1: the database did not answer in time). */
  unpublished: number;
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

export interface DrainPoint {
  progress: number;
  t: number;
  rssMb: number;
  heapUsedMb: number;
}

export interface MemorySummary {
  records: number;
  partitions: number;
  client: KafkaClientName;
  produceSeconds: number;
  producedPerSecond: number;
  drainSeconds: number;
  drainedPerSecond: number;
  peakRssMb: number;
  peakHeapUsedMb: number;
  /** RSS and heap when 10%, 50% and 90% of the backlog had committed. */
  atProgress: DrainPoint[];
  /** RSS at 90% minus RSS at 10% of the drain: ~0 when memory is flat. */
  rssGrowthMb: number;
  heapGrowthMb: number;
  target: MemoryTarget;
}

/** The bar a drain is held to: a bounded peak, and no growth while it runs. */
export const MEMORY_TARGET = { peakRssMb: 200, flatGrowthMb: 10 } as const;

export interface MemoryTarget {
  peakRssMb: number;
  /** RSS at 90% of the drain minus RSS at 10% at most this: flat. */
  flatGrowthMb: number;
  peakMet: boolean;
  flatMet: boolean;
  met: boolean;
}

export function evaluateMemoryTarget(summary: Pick<MemorySummary, 'peakRssMb' | 'rssGrowthMb' | 'atProgress'>): MemoryTarget {
  const peakMet = summary.peakRssMb <= MEMORY_TARGET.peakRssMb;
  // Without samples at 10% and 90% nothing says the RSS stayed flat.
  const flatMet = summary.atProgress.length >= 2 && summary.rssGrowthMb <= MEMORY_TARGET.flatGrowthMb;
  return { ...MEMORY_TARGET, peakMet, flatMet, met: peakMet && flatMet };
}

export interface MemoryBenchResult {
  date: string;
  command: string;
  machine: Record<string, string | number>;
  settings: Pick<AppConfig, 'batchMaxRecords' | 'commitIntervalMs' | 'maxInflightPerPartition' | 'maxInflightTotal' | 'fetchMaxBytes'> & { nodeOptions: string };
  summary: MemorySummary;
  samples: MemorySample[];
}

/** Passes the bytes through untouched: the bench measures the runtime, not JSON. */
const bytesCodec: Codec<Buffer> = {
  decode: (bytes) => bytes ?? Buffer.alloc(0),
  encode: (value) => value,
};

function forwardProcessor(): Processor<Buffer, Buffer> {
  return {
    process: (record, context) => {
      // The outbox needs a deterministic id per output: the input record's position.
      const { topic, partition, offset } = context.recordMetadata();
      context.forward({ key: record.key, value: record.value, headers: { 'event-id': `${topic}/${partition}/${offset}` } });
    },
  };
}

function benchTopology(topic: string): Topology {
  return new TopologyBuilder()
    .addSource('records', { topics: [topic], codec: bytesCodec })
    .addProcessor('forward', { supplier: forwardProcessor }, 'records')
    .addSink('out', { topic: `${topic}.out`, codec: bytesCodec }, 'forward')
    .build();
}

/** Counts the records of every batch the real committer made durable. */
function countingCommits(committer: Committer, count: (records: number) => void): Committer {
  return {
    async commit(batch: CommittableBatch): Promise<void> {
      await committer.commit(batch);
      count(batch.records);
    },
  };
}

/** Produces `records` small records round-robin over the partitions, several requests in flight. */
async function produceBacklog(kafka: KafkaClient, topic: string, options: MemoryBenchOptions, logger: Logger): Promise<number> {
  const producer = await kafka.producer({ clientId: 'bench-memory-producer' });
  const startedAt = performance.now();
  let next = 0;
  let lastLog = startedAt;
  const worker = async (): Promise<void> => {
    while (next < options.records) {
      const from = next;
      const count = Math.min(PRODUCE_CHUNK, options.records - from);
      next += count;
      const messages: OutgoingMessage[] = new Array(count);
      for (let index = 0; index < count; index++) {
        const seq = from + index;
        messages[index] = { topic, partition: seq % options.partitions, key: null, value: `r${seq}` };
      }
      await producer.send(messages);
      if (performance.now() - lastLog > 5_000) {
        lastLog = performance.now();
        logger.info('producing', { produced: next, perSecond: Math.round(next / ((lastLog - startedAt) / 1000)) });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: PRODUCE_CONCURRENCY }, worker));
  } finally {
    await producer.close();
  }
  return (performance.now() - startedAt) / 1000;
}

function sampleMemory(t: number, committed: number, inflight: number, unpublished: number): MemorySample {
  const usage = process.memoryUsage();
  const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10;
  return {
    t: Math.round(t * 10) / 10,
    committed,
    inflight,
    unpublished,
    rssMb: mb(usage.rss),
    heapUsedMb: mb(usage.heapUsed),
    heapTotalMb: mb(usage.heapTotal),
    externalMb: mb(usage.external),
    arrayBuffersMb: mb(usage.arrayBuffers),
  };
}

/** The first sample at or past each fraction of the backlog committed. */
export function drainPoints(samples: readonly MemorySample[], records: number, fractions: readonly number[] = [0.1, 0.5, 0.9]): DrainPoint[] {
  return fractions.flatMap((progress) => {
    const sample = samples.find((candidate) => candidate.committed >= progress * records);
    return sample ? [{ progress, t: sample.t, rssMb: sample.rssMb, heapUsedMb: sample.heapUsedMb }] : [];
  });
}

export function summarize(
  samples: readonly MemorySample[],
  run: { records: number; partitions: number; client: KafkaClientName; produceSeconds: number; drainSeconds: number },
): MemorySummary {
  const atProgress = drainPoints(samples, run.records);
  const first = atProgress[0];
  const last = atProgress.at(-1);
  const round = (value: number) => Math.round(value * 10) / 10;
  const summary = {
    ...run,
    produceSeconds: round(run.produceSeconds),
    producedPerSecond: Math.round(run.records / run.produceSeconds),
    drainSeconds: round(run.drainSeconds),
    drainedPerSecond: Math.round(run.records / run.drainSeconds),
    peakRssMb: Math.max(...samples.map((sample) => sample.rssMb)),
    peakHeapUsedMb: Math.max(...samples.map((sample) => sample.heapUsedMb)),
    atProgress,
    rssGrowthMb: first && last ? round(last.rssMb - first.rssMb) : 0,
    heapGrowthMb: first && last ? round(last.heapUsedMb - first.heapUsedMb) : 0,
  };
  return { ...summary, target: evaluateMemoryTarget(summary) };
}

interface DrainResult {
  samples: MemorySample[];
  drainSeconds: number;
}

/** Drains into the database DATABASE_URL names, migrated by the parent (withDrainDatabase). */
async function drain(kafka: KafkaClient, topic: string, config: AppConfig, options: MemoryBenchOptions, logger: Logger): Promise<DrainResult> {
  const { databaseUrl } = config;
  const sequelize = await connectDatabase(databaseUrl, logger.child('db'), { poolMax: 10 });
  const admin = await kafka.admin();
  const run: AppConfig = { ...config, consumerGroup: `${topic}-group` };
  let committed = 0;
  let unpublished = -1;
  const samples: MemorySample[] = [];
  let processor: Awaited<ReturnType<typeof startTopologyProcessor>> | undefined;
  let relay: Awaited<ReturnType<typeof startRelay>> | undefined;
  const startedAt = performance.now();
  const take = () => samples.push(sampleMemory((performance.now() - startedAt) / 1000, committed, processor?.runtime.stats().inflightTotal ?? 0, unpublished));
  // The outbox count comes from its own query, every second; the sample takes the latest answer.
  // Done means an empty outbox counted after the last record was committed, not a count that
  // started before the last commit and came back after it.
  let drained = false;
  const countOutbox = async () => {
    const committedBefore = committed;
    unpublished = await countUnpublished(sequelize).catch(() => -1);
    if (committedBefore >= options.records && unpublished === 0) drained = true;
  };
  let sampler: NodeJS.Timeout | undefined;
  try {
    take();
    sampler = setInterval(() => {
      void countOutbox();
      take();
      const sample = samples.at(-1)!;
      if (samples.length % 10 === 0) logger.info('draining', { committed: sample.committed, unpublished: sample.unpublished, rssMb: sample.rssMb, heapUsedMb: sample.heapUsedMb });
    }, SAMPLE_INTERVAL_MS);
    processor = await startTopologyProcessor(
      run,
      { sequelize, kafka, admin, logger, instrument: (committer) => countingCommits(committer, (records) => (committed += records)) },
      { topology: benchTopology(topic), stores: [] },
    );
    relay = await startRelay(run, { sequelize, kafka, logger });
    await new Promise<void>((resolve, reject) => {
      processor!.failed.catch(reject);
      relay!.failed.catch(reject);
      const check = setInterval(() => {
        if (!drained) return;
        clearInterval(check);
        resolve();
      }, 20);
    });
    const drainSeconds = (performance.now() - startedAt) / 1000;
    take();
    return { samples, drainSeconds };
  } finally {
    if (sampler) clearInterval(sampler);
    await processor?.stop().catch((error: unknown) => logger.warn('processor stop failed', { error: String(error) }));
    await relay?.stop().catch((error: unknown) => logger.warn('relay stop failed', { error: String(error) }));
    await admin.close().catch(() => {});
    await sequelize.close();
  }
}

/**
 * The drain's database, created and migrated here rather than in the drain process: the
 * migration tooling then stays out of the process whose memory is measured, and the database
 * is dropped even when that process dies.
 */
async function withDrainDatabase<T>(config: AppConfig, logger: Logger, use: (databaseUrl: string) => Promise<T>): Promise<T> {
  const databaseUrl = withDatabase(config.databaseUrl, benchDatabaseName('memory'));
  await ensureDatabase(databaseUrl);
  try {
    const sequelize = await connectDatabase(databaseUrl, logger.child('db'), { poolMax: 1 });
    try {
      // Imported here: a static import would load the migration tooling into the drain process too.
      const { migrate } = await import('../state/migrator.ts');
      await migrate(sequelize, createLogger({ level: 'warn' }));
    } finally {
      await sequelize.close();
    }
    return await use(databaseUrl);
  } finally {
    await dropDatabase(databaseUrl).catch((error: unknown) => logger.warn('could not drop the bench database', { error: String(error) }));
  }
}

function formatMarkdown(result: MemoryBenchResult): string {
  const { summary } = result;
  const lines = [
    `# Memory benchmark — ${result.date}`,
    '',
    `\`${result.command}\` on ${result.machine.cpus} × ${result.machine.cpuModel}, ${result.machine.memoryGb} GB, Node ${result.machine.node}; broker and PostgreSQL on the same machine; load average ${result.machine.loadAverage1m ?? '?'} (1 min) when the drain ended.`,
    '',
    `A backlog of ${summary.records.toLocaleString('en-US')} small records over ${summary.partitions} partitions, drained by a StreamRuntime`,
    `(${summary.client}, source -> forward -> sink, the transactional sink and the outbox relay in one process) with batchMaxRecords=${result.settings.batchMaxRecords},`,
    `maxInflightPerPartition=${result.settings.maxInflightPerPartition}, maxInflightTotal=${result.settings.maxInflightTotal}, fetchMaxBytes=${result.settings.fetchMaxBytes},`,
    `drain process flags: ${result.settings.nodeOptions === '' ? 'none (V8 sizes its heap itself)' : `\`${result.settings.nodeOptions}\``}. RSS and heap sampled every second.`,
    '',
    '| | value |',
    '|---|---|',
    `| produced | ${summary.produceSeconds} s (${summary.producedPerSecond.toLocaleString('en-US')} records/s) |`,
    `| drained | ${summary.drainSeconds} s (${summary.drainedPerSecond.toLocaleString('en-US')} records/s) |`,
    `| peak RSS | ${summary.peakRssMb} MB |`,
    `| peak heap used | ${summary.peakHeapUsedMb} MB |`,
    `| RSS growth 10% -> 90% | ${summary.rssGrowthMb} MB |`,
    `| heap growth 10% -> 90% | ${summary.heapGrowthMb} MB |`,
    '',
    `Target: peak RSS ≤ ${summary.target.peakRssMb} MB (${summary.target.peakMet ? 'met' : '**not met**'}), flat: RSS growth from 10% to 90% of the drain ≤ ${summary.target.flatGrowthMb} MB (${summary.target.flatMet ? 'met' : '**not met**'}).`,
    '',
    'Progress counts committed records; the relay publishes behind the commits, and the drain ends when the outbox is empty.',
    '',
    '| drain progress | at (s) | RSS (MB) | heap used (MB) |',
    '|---|---|---|---|',
    ...summary.atProgress.map((point) => `| ${Math.round(point.progress * 100)}% | ${point.t} | ${point.rssMb} | ${point.heapUsedMb} |`),
    '',
    `Samples: memory-${result.date}.json (${result.samples.length} samples).`,
    '',
  ];
  return lines.join('\n');
}

function parseOptions(flags: Record<string, string | undefined>, env: NodeJS.ProcessEnv): MemoryBenchOptions {
  const client = flags.client ?? env.KAFKA_CLIENT ?? 'platformatic';
  if (client !== 'platformatic' && client !== 'kafkajs') throw new ConfigError('--client', 'platformatic | kafkajs', client);
  return {
    records: integerFlag(flags, 'records', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 10_000_000 }),
    partitions: integerFlag(flags, 'partitions', { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 12 }),
    client,
    nodeOptions: flags['node-options']?.trim() ?? '',
    write: flags['no-write'] !== 'true',
  };
}


/** This run as a command to paste into a shell: its runtime settings, then its arguments, quoted where needed. */
export function commandLine(argv: string[], env: NodeJS.ProcessEnv): string {
  const quote = (word: string) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`);
  const settings = [...RUNTIME_ENV, 'KAFKA_CLIENT'].flatMap((name) => (env[name] === undefined ? [] : [`${name}=${quote(env[name]!)}`]));
  return [...settings, 'node', 'bench/memory.ts', ...argv.map(quote)].join(' ');
}

/** Runs the drain phase in a fresh process and returns what it measured. */
function drainInChild(topic: string, databaseUrl: string, options: MemoryBenchOptions): Promise<DrainResult> {
  const args = [fileURLToPath(import.meta.url), '--drain-topic', topic, '--records', String(options.records), '--partitions', String(options.partitions), '--client', options.client];
  // The drain's flags are its own: NODE_OPTIONS of the bench's own process does not reach it.
  const env = { ...process.env, NODE_OPTIONS: options.nodeOptions, DATABASE_URL: databaseUrl };
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = stdout.trim().split('\n').at(-1);
      if (code !== 0 || !last) return reject(new Error(`drain process exited with ${code}`));
      resolve(JSON.parse(last) as DrainResult);
    });
  });
}

export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  const { flags } = parseCommandLine(argv, FLAGS, USAGE);
  const options = parseOptions(flags, process.env);
  const config = loadConfig(process.env);
  const logger = createLogger({ level: config.logLevel, format: config.logFormat }).child('bench.memory');
  const kafka = createKafkaClient({ kafkaClient: options.client, kafkaBrokers: config.kafkaBrokers }, logger.child('kafka'));
  const drainTopic = flags['drain-topic'];
  if (drainTopic) {
    const drained = await drain(kafka, drainTopic, config, options, logger.child('runtime'));
    process.stdout.write(`${JSON.stringify(drained)}\n`);
    return 0;
  }
  const admin = await kafka.admin();
  const topic = `bench-memory-${Date.now().toString(36)}`;
  try {
    await admin.createTopics([
      { topic, partitions: options.partitions },
      { topic: `${topic}.out`, partitions: options.partitions },
    ]);
    logger.info('producing the backlog', { topic, records: options.records, partitions: options.partitions });
    const produceSeconds = await produceBacklog(kafka, topic, options, logger);
    logger.info('draining the backlog', { produceSeconds: Math.round(produceSeconds) });
    const { samples, drainSeconds } = await withDrainDatabase(config, logger, (databaseUrl) => drainInChild(topic, databaseUrl, options));
    const summary = summarize(samples, { records: options.records, partitions: options.partitions, client: options.client, produceSeconds, drainSeconds });
    const date = new Date().toISOString().slice(0, 10);
    const result: MemoryBenchResult = {
      date,
      command: commandLine(argv, process.env),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(os.totalmem() / 1024 ** 3),
        node: process.versions.node,
        platform: `${os.platform()} ${os.release()}`,
        // At the end of the drain: the load of the machine while it ran (the bench fills both cores itself).
        loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100,
      },
      settings: {
        batchMaxRecords: config.batchMaxRecords,
        commitIntervalMs: config.commitIntervalMs,
        maxInflightPerPartition: config.maxInflightPerPartition,
        maxInflightTotal: config.maxInflightTotal,
        fetchMaxBytes: config.fetchMaxBytes,
        nodeOptions: options.nodeOptions,
      },
      summary,
      samples,
    };
    if (options.write) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      writeFileSync(path.join(RESULTS_DIR, `memory-${date}.json`), `${JSON.stringify(result, null, 2)}\n`);
      writeFileSync(path.join(RESULTS_DIR, `memory-${date}.md`), formatMarkdown(result));
    }
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } finally {
    await admin.deleteTopics([topic, `${topic}.out`]).catch((error: unknown) => logger.warn('could not delete the bench topic', { topic, error: String(error) }));
    await admin.close();
  }
}

if (import.meta.main) await runMain(() => main());
