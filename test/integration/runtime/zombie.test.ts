/**
 * A zombie replica cannot commit: worker A is frozen (SIGSTOP) between processing a batch
 * and committing it, its partitions move to worker B, B commits, and when A is thawed
 * (SIGCONT) its late commit fails with FencedError and changes nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { KafkaClientName } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { readOffsets, type StoredOffset } from '../../../state/offset-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';
import { produceSequenced, WorkerProcess, type WorkerReport } from '../../support/runtime.ts';
import { exactlyOnceReport, PROCESSED_TABLE_DDL } from './processed.ts';

const CLIENT: KafkaClientName = 'platformatic';
const PARTITIONS = 3;
/** Long enough that a frozen A is almost surely waiting to commit, not inside a transaction. */
const ZOMBIE_COMMIT_DELAY_MS = 2_000;

describe(`a frozen runtime process that lost its partitions (${CLIENT})`, () => {
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
    db = await createTestDatabase('runtime_zombie');
    await db.sequelize.query(PROCESSED_TABLE_DDL);
  });

  afterEach(async () => {
    for (const worker of workers.splice(0)) await worker.kill();
  });

  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  function startWorker(id: string, topic: string, group: string, commitDelayMs: number): WorkerProcess {
    const worker = new WorkerProcess({
      WORKER_ID: id,
      WORKER_TOPIC: topic,
      WORKER_GROUP: group,
      DATABASE_URL: db.url,
      KAFKA_BROKERS: brokersFromEnv().join(','),
      KAFKA_CLIENT: CLIENT,
      COMMIT_DELAY_MS: String(commitDelayMs),
      BATCH_MAX_RECORDS: '50',
    });
    workers.push(worker);
    return worker;
  }

  const offsetsOf = (group: string, topic: string): Promise<StoredOffset[]> => readOffsets(db.sequelize, group, topic);

  it('rejects the late commit of a thawed zombie with FencedError and keeps every record processed exactly once', async () => {
    const topic = await topics.create('runtime-zombie', PARTITIONS);
    const group = uniqueName('runtime-zombie-group');
    const produced = await produceSequenced(producer, topic, { partitions: PARTITIONS, perPartition: 2_000 });

    const workerA = startWorker('worker-a', topic, group, ZOMBIE_COMMIT_DELAY_MS);
    await workerA.waitForReport((report) => report.event === 'ready', { message: 'ready' });
    await waitFor(async () => (await offsetsOf(group, topic)).some((offset) => offset.nextOffset > 0n), { message: 'A to commit a batch' });

    // Freeze A while its commits wait to start and none holds a row lock.
    const seen = workerA.reports.length;
    await waitFor(() => isWaitingOutsideTransactions(workerA.reports.slice(seen).at(-1)), { message: 'A waiting to commit' });
    workerA.signal('SIGSTOP');
    const frozenAt = await offsetsOf(group, topic);
    expect(frozenAt.every((offset) => offset.owner === 'worker-a')).toBe(true);

    // A misses its heartbeats, the group drops it, and B claims everything (the epochs move on).
    const workerB = startWorker('worker-b', topic, group, 0);
    await waitFor(
      async () => {
        const offsets = await offsetsOf(group, topic);
        return offsets.length === PARTITIONS && offsets.every((offset) => offset.owner === 'worker-b' && offset.epoch > epochOf(frozenAt, offset.partition));
      },
      { timeoutMs: 40_000, intervalMs: 250, message: 'B to claim every partition' },
    );
    await waitFor(
      async () => (await offsetsOf(group, topic)).every((offset) => offset.nextOffset > nextOffsetOf(frozenAt, offset.partition)),
      { timeoutMs: 20_000, message: 'B to commit past where A stopped' },
    );

    workerA.signal('SIGCONT');
    const fenced = await workerA.waitForReport((report) => report.event === 'fenced', { timeoutMs: 20_000, message: 'a fenced commit' });
    expect(fenced.error).toMatch(/epoch \d+ is stale/);

    workerA.signal('SIGTERM');
    await workerA.exited;
    const highWatermarks = await admin.highWatermarks(topic);
    await waitFor(
      async () => (await offsetsOf(group, topic)).every((offset) => offset.nextOffset === highWatermarks.get(offset.partition)),
      { timeoutMs: 40_000, intervalMs: 250, message: 'stored offsets to reach the high watermarks' },
    );
    expect(workerB.running).toBe(true);

    expect(await exactlyOnceReport(db.sequelize, topic, highWatermarks)).toEqual({ duplicates: [], gaps: [], total: produced });
    // The batch A failed to commit was processed by B instead, and A's attempt left no row.
    const [fencedRecord] = await selectRows<{ worker: string }>(
      db.sequelize,
      'SELECT worker FROM processed WHERE topic = $topic AND partition = $partition AND record_offset = $offset::bigint',
      { topic, partition: fenced.partition, offset: fenced.offset },
    );
    expect(fencedRecord?.worker).toBe('worker-b');
  });
});

function isWaitingOutsideTransactions(report: WorkerReport | undefined): boolean {
  return report?.event === 'commit-state' && report.inTransaction === 0 && Number(report.waiting) > 0;
}

function epochOf(offsets: StoredOffset[], partition: number): bigint {
  return offsets.find((offset) => offset.partition === partition)?.epoch ?? 0n;
}

function nextOffsetOf(offsets: StoredOffset[], partition: number): bigint {
  return offsets.find((offset) => offset.partition === partition)?.nextOffset ?? 0n;
}
