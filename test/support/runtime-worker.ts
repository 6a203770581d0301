/**
 * One replica for the two-process rebalance tests, run as its own process
 * (`node test/support/runtime-worker.ts`) so a test can SIGTERM, SIGKILL or SIGSTOP it. It
 * runs a StreamRuntime with the REAL PostgreSQL claimer and TransactionalSink: each batch
 * inserts one `processed` row per record through a table store (each processing gets a row of
 * its own, keyed by a fresh id, so a record processed twice shows up as two rows; the table is
 * test/integration/runtime/processed.ts's) in the same transaction as the fenced offset write.
 *
 * Settings come from the environment (see `readSettings`). It reports on stdout, one JSON
 * object a line: `ready`, `assigned`, `revoked`, `fenced`, `commit-state`, `stopped`;
 * logs go to stderr.
 */
import { randomUUID } from 'node:crypto';
import { type Codec, DecodeError } from '../../core/codec.ts';
import type { KafkaClientName } from '../../core/config.ts';
import { createLogger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import { TransactionalSink } from '../../sinks/transactional-sink.ts';
import { connectDatabase } from '../../state/db.ts';
import { claimPartitions } from '../../state/offset-store.ts';
import { tableStore } from '../../state/table-store.ts';
import { TopologyBuilder } from '../../topology/builder.ts';
import type { Processor } from '../../topology/processor-api.ts';
import { StreamRuntime } from '../../topology/runtime/stream-runtime.ts';
import type { CommittableBatch, Committer } from '../../topology/runtime/types.ts';
import { FAST_GROUP_TIMING } from './runtime.ts';

interface WorkerSettings {
  workerId: string;
  topic: string;
  group: string;
  databaseUrl: string;
  brokers: string[];
  client: KafkaClientName;
  /** Waited before each commit's transaction: widens the window a SIGSTOP can hit. */
  commitDelayMs: number;
  batchMaxRecords: number;
}

/** What the processor forwards: where the record came from. */
interface RecordOrigin {
  partition: number;
  offset: string;
}

function readSettings(env: NodeJS.ProcessEnv): WorkerSettings {
  const required = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`runtime-worker: ${name} is not set`);
    return value;
  };
  return {
    workerId: required('WORKER_ID'),
    topic: required('WORKER_TOPIC'),
    group: required('WORKER_GROUP'),
    databaseUrl: required('DATABASE_URL'),
    brokers: required('KAFKA_BROKERS').split(','),
    client: (env.KAFKA_CLIENT ?? 'platformatic') as KafkaClientName,
    commitDelayMs: Number(env.COMMIT_DELAY_MS ?? '0'),
    batchMaxRecords: Number(env.BATCH_MAX_RECORDS ?? '200'),
  };
}

function report(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...fields }, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))}\n`);
}

const originCodec: Codec<RecordOrigin> = {
  decode(bytes) {
    if (bytes === null) throw new DecodeError('value is null');
    return JSON.parse(bytes.toString('utf8')) as RecordOrigin;
  },
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
};

/** Accepts any value: the worker only cares about the record's position. */
const anyBytesCodec: Codec<null> = { decode: () => null, encode: () => Buffer.alloc(0) };

/** A `processed` row: which record, processed by which worker. */
interface Processed {
  topic: string;
  partition: number;
  offset: number;
  worker: string;
}

function originProcessor(workerId: string): () => Processor<null, RecordOrigin> {
  return () => ({
    process(record, context) {
      const { topic, partition, offset } = context.recordMetadata();
      context.getStateStore<string, Processed>('processed').put(randomUUID(), { topic, partition, offset: Number(offset), worker: workerId });
      // A deterministic event id, as the outbox requires.
      context.forward({ key: record.key, value: { partition, offset: String(offset) }, headers: { 'event-id': `${topic}/${partition}/${offset}` } });
    },
  });
}

/**
 * Delays each commit, and reports every change in how many commits wait and how many are
 * inside a transaction, so a test can freeze the process at a moment when none holds a lock.
 */
function delayingCommitter(sink: Committer, delayMs: number): Committer {
  if (delayMs <= 0) return sink;
  let waiting = 0;
  let inTransaction = 0;
  const changed = () => report('commit-state', { waiting, inTransaction });
  return {
    async commit(batch: CommittableBatch) {
      waiting++;
      changed();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      waiting--;
      inTransaction++;
      changed();
      try {
        await sink.commit(batch);
      } finally {
        inTransaction--;
        changed();
      }
    },
  };
}

async function main(): Promise<void> {
  const settings = readSettings(process.env);
  const logger = createLogger({ level: 'warn', format: 'json' }).child('worker', { worker: settings.workerId });
  const sequelize = await connectDatabase(settings.databaseUrl, logger, { poolMax: 16 });
  const kafka = createKafkaClient({ kafkaClient: settings.client, kafkaBrokers: settings.brokers }, logger);
  const processed = tableStore<string, Processed>(sequelize, {
    name: 'processed',
    cacheAcrossBatches: false,
    table: {
      table: 'processed',
      key: { column: 'id', type: 'uuid' },
      value: {
        topic: { column: 'topic', type: 'text' },
        partition: { column: 'partition', type: 'integer' },
        offset: { column: 'record_offset', type: 'bigint' },
        worker: { column: 'worker', type: 'text' },
      },
      writes: 'upsert',
    },
  });
  const topology = new TopologyBuilder()
    .addSource('records', { topics: [settings.topic], codec: anyBytesCodec })
    .addStateStore(processed)
    .addProcessor('origin', { supplier: originProcessor(settings.workerId), stores: ['processed'] }, 'records')
    .addSink('processed-sink', { topic: `${settings.topic}.processed`, codec: originCodec }, 'origin')
    .build();
  const sink = new TransactionalSink({ sequelize, group: settings.group, dlqTopic: `${settings.topic}.dlq`, stores: [processed], logger });
  const runtime = new StreamRuntime({
    topology,
    consumer: kafka.groupConsumer({ groupId: settings.group, topics: [settings.topic], clientId: settings.workerId, ...FAST_GROUP_TIMING }),
    claimer: { claim: (partitions) => claimPartitions(sequelize, settings.group, settings.workerId, partitions) },
    committer: delayingCommitter(sink, settings.commitDelayMs),
    config: { batchMaxRecords: settings.batchMaxRecords, commitIntervalMs: 50, maxInflightPerPartition: 2_000, maxInflightTotal: 20_000 },
    logger,
    commitToKafka: false,
  });
  runtime.events$.subscribe((event) => {
    if (event.type === 'partition-assigned') report('assigned', { partition: event.partition, epoch: event.epoch, nextOffset: event.nextOffset });
    else if (event.type === 'partition-revoked') report('revoked', { partition: event.partition });
    else if (event.type === 'fenced') report('fenced', { partition: event.partition, offset: event.offset, error: event.error });
  });

  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    void runtime
      .stop({ timeoutMs: 10_000 })
      .then(() => sequelize.close())
      .then(() => {
        report('stopped');
        process.exit(0);
      });
  });
  await runtime.start();
  report('ready');
}

main().catch((error: unknown) => {
  process.stderr.write(`runtime-worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
