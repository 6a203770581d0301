/**
 * Safe rebalance between two real processes: worker A drains part of a backlog, worker B
 * joins the same group (partitions move), production goes on, then A leaves — gracefully
 * (SIGTERM) or by crashing (SIGKILL). Every record must be processed exactly once, and the
 * database offsets must end at the high watermarks.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { KafkaClientName } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { readOffsets } from '../../../state/offset-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';
import { produceSequenced, WorkerProcess } from '../../support/runtime.ts';
import { countProcessed, exactlyOnceReport, PROCESSED_TABLE_DDL } from './processed.ts';

const CLIENT: KafkaClientName = 'platformatic';
const PARTITIONS = 6;

describe(`two runtime processes in one group (${CLIENT})`, () => {
  let client: KafkaClient;
  let admin: KafkaAdmin;
  let topics: TopicPool;
  let producer: KafkaProducer;
  let db: TestDatabase;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    client = createKafkaClient({ kafkaClient: CLIENT, kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await client.admin();
    topics = new TopicPool(admin);
    producer = await client.producer();
    db = await createTestDatabase('runtime_rebalance');
    await db.sequelize.query(PROCESSED_TABLE_DDL);
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.kill();
    await db.sequelize.query('TRUNCATE processed');
  });

  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  function startWorker(id: string, topic: string, group: string): WorkerProcess {
    const worker = new WorkerProcess({
      WORKER_ID: id,
      WORKER_TOPIC: topic,
      WORKER_GROUP: group,
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      KAFKA_CLIENT: CLIENT,
      // Slow enough that A is still busy when B joins and when A is stopped.
      COMMIT_DELAY_MS: '100',
      BATCH_MAX_RECORDS: '50',
    });
    workers.push(worker);
    return worker;
  }

  it.each(['SIGTERM', 'SIGKILL'] as const)('processes every record exactly once when the first process leaves by %s', async (signal) => {
    const topic = await topics.create('runtime-rebalance', PARTITIONS);
    const group = uniqueName('runtime-rebalance-group');
    let produced = await produceSequenced(producer, topic, { partitions: PARTITIONS, perPartition: 3_000 });

    const workerA = startWorker('worker-a', topic, group);
    await workerA.waitForReport((report) => report.event === 'ready', { message: 'ready' });
    await waitFor(async () => (await countProcessed(db.sequelize)) >= 2_000, { timeoutMs: 30_000, message: 'A to process part of the backlog' });

    const workerB = startWorker('worker-b', topic, group);
    await workerB.waitForReport((report) => report.event === 'assigned', { message: 'a partition after the rebalance' });
    produced += await produceSequenced(producer, topic, { partitions: PARTITIONS, perPartition: 1_000, firstSeq: 3_000 });
    await waitFor(async () => (await countProcessed(db.sequelize, 'worker-b')) >= 500, { timeoutMs: 30_000, message: 'B to process records' });

    // A leaves in mid-stream: it still owns partitions with records left to process.
    const highWatermarksAtStop = await admin.highWatermarks(topic);
    const unfinishedOfA = (await readOffsets(db.sequelize, group, topic)).filter(
      (offset) => offset.owner === 'worker-a' && offset.nextOffset < highWatermarksAtStop.get(offset.partition)!,
    );
    expect(unfinishedOfA.length).toBeGreaterThan(0);
    const producing = produceSequenced(producer, topic, { partitions: PARTITIONS, perPartition: 500, firstSeq: 4_000 });
    workerA.signal(signal);
    expect(await workerA.exited).toBe(signal === 'SIGTERM' ? 0 : null);
    if (signal === 'SIGTERM') expect(workerA.reports.some((report) => report.event === 'stopped')).toBe(true);
    produced += await producing;

    const highWatermarks = await admin.highWatermarks(topic);
    await waitFor(
      async () => {
        const offsets = await readOffsets(db.sequelize, group, topic);
        return offsets.length === PARTITIONS && offsets.every((offset) => offset.nextOffset === highWatermarks.get(offset.partition));
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'stored offsets to reach the high watermarks' },
    );

    expect(await exactlyOnceReport(db.sequelize, topic, highWatermarks)).toEqual({ duplicates: [], gaps: [], total: produced });
    // Both processes did real work, and B took over partitions A had owned.
    expect(await countProcessed(db.sequelize, 'worker-a')).toBeGreaterThan(0);
    expect(await countProcessed(db.sequelize, 'worker-b')).toBeGreaterThan(0);
    // A partition whose last records A committed before leaving has nothing left for B to commit:
    // B's claim (after the group rebalanced) is what makes it B's, so await it rather than read once.
    const offsets = await waitFor(
      async () => {
        const stored = await readOffsets(db.sequelize, group, topic);
        return stored.every((offset) => offset.owner === 'worker-b') ? stored : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250, message: 'B to own every partition' },
    );
    for (const taken of unfinishedOfA) {
      expect(offsets.find((offset) => offset.partition === taken.partition)!.epoch).toBeGreaterThan(taken.epoch);
    }
    expect(workerB.running).toBe(true);
  });
});
