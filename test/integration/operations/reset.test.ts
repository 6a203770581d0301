/**
 * `topology reset` on the real broker and PostgreSQL: rewrites stored offsets to the earliest,
 * latest, an explicit offset or a point in time, bumps every rewritten epoch, changes nothing
 * on a dry run, and refuses while the group has an active member (naming it).
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { formatResetReport, parseResetFlags, type ResetRequest, resetOffsets } from '../../../app/reset-command.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createKafkaClient } from '../../../kafka/index.ts';
import type { GroupConsumer, KafkaAdmin, KafkaClient, KafkaProducer } from '../../../kafka/port.ts';
import { claimPartitions, readOffsets } from '../../../state/offset-store.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv, TopicPool, uniqueName, waitFor } from '../../support/kafka.ts';

const CLI = fileURLToPath(new URL('../../../app/cli.ts', import.meta.url));

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('topology reset', () => {
  let client: KafkaClient;
  let admin: KafkaAdmin;
  let topics: TopicPool;
  let producer: KafkaProducer;
  let db: TestDatabase;
  let topic: string;
  /** Between the first 5 and the last 3 records of each partition. */
  let between: number;
  const consumers: GroupConsumer[] = [];

  beforeAll(async () => {
    client = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
    admin = await client.admin();
    topics = new TopicPool(admin);
    producer = await client.producer();
    db = await createTestDatabase('reset_command');
    topic = await topics.create('reset', 3);
    const produce = (from: number, count: number) =>
      producer.send([0, 1, 2].flatMap((partition) => Array.from({ length: count }, (_, i) => ({ topic, partition, key: `k${partition}`, value: `v${from + i}` }))));
    await produce(0, 5);
    between = Date.now() + 1;
    await waitFor(() => Date.now() > between + 5, { message: 'a later timestamp' });
    await produce(5, 3);
  });

  afterEach(async () => {
    for (const consumer of consumers.splice(0)) await consumer.close();
  });

  afterAll(async () => {
    await producer?.close();
    await topics?.cleanup();
    await admin?.close();
    await db?.drop();
  });

  /** A group whose partitions were claimed by `replica-a` and stand at offset 2, epoch 1. */
  async function claimedGroup(): Promise<string> {
    const group = uniqueName('reset-group');
    await claimPartitions(db.sequelize, group, 'replica-a', [0, 1, 2].map((partition) => ({ topic, partition })), 2n);
    return group;
  }

  const stored = async (group: string) =>
    (await readOffsets(db.sequelize, group, topic)).map(({ partition, nextOffset, epoch, owner }) => ({ partition, nextOffset, epoch, owner }));

  const request = (group: string, flags: Record<string, string>): ResetRequest => parseResetFlags({ group, topic, ...flags });

  it('--dry-run shows the before/after table and changes nothing', async () => {
    const group = await claimedGroup();
    const report = await resetOffsets({ sequelize: db.sequelize, admin }, request(group, { 'to-earliest': 'true', 'dry-run': 'true' }));
    expect(report.outcome).toBe('dry-run');
    if (report.outcome === 'refused') throw new Error('unexpected refusal');
    expect(report.partitions.map(({ partition, before, after, epochBefore, epochAfter }) => ({ partition, before, after, epochBefore, epochAfter }))).toEqual(
      [0, 1, 2].map((partition) => ({ partition, before: 2n, after: 0n, epochBefore: 1n, epochAfter: 2n })),
    );
    expect(formatResetReport(report)).toMatch(/^dry run: .*\(nothing changed\)\npartition +before +after +epoch/);
    expect(await stored(group)).toEqual([0, 1, 2].map((partition) => ({ partition, nextOffset: 2n, epoch: 1n, owner: 'replica-a' })));
  });

  it('--to-earliest and --to-latest rewrite the offsets, bump each epoch and clear the owner; --partitions limits it', async () => {
    const group = await claimedGroup();
    await resetOffsets({ sequelize: db.sequelize, admin }, request(group, { 'to-earliest': 'true' }));
    expect(await stored(group)).toEqual([0, 1, 2].map((partition) => ({ partition, nextOffset: 0n, epoch: 2n, owner: null })));

    await resetOffsets({ sequelize: db.sequelize, admin }, request(group, { 'to-latest': 'true', partitions: '1' }));
    expect(await stored(group)).toEqual([
      { partition: 0, nextOffset: 0n, epoch: 2n, owner: null },
      { partition: 1, nextOffset: 8n, epoch: 3n, owner: null },
      { partition: 2, nextOffset: 0n, epoch: 2n, owner: null },
    ]);
  });

  it('--to-offset sets the offset, clamped to the log; a partition without a row gets one', async () => {
    const group = uniqueName('reset-fresh');
    await resetOffsets({ sequelize: db.sequelize, admin }, request(group, { 'to-offset': '6', partitions: '0' }));
    await resetOffsets({ sequelize: db.sequelize, admin }, request(group, { 'to-offset': '100', partitions: '2' }));
    expect(await stored(group)).toEqual([
      { partition: 0, nextOffset: 6n, epoch: 1n, owner: null },
      { partition: 2, nextOffset: 8n, epoch: 1n, owner: null },
    ]);
  });

  it('--to-datetime finds the first record at or after that time; the log end when none is that recent', async () => {
    const group = await claimedGroup();
    await resetOffsets({ sequelize: db.sequelize, admin }, request(group, { 'to-datetime': new Date(between).toISOString() }));
    expect((await stored(group)).map((row) => row.nextOffset)).toEqual([5n, 5n, 5n]);
    await resetOffsets({ sequelize: db.sequelize, admin }, request(group, { 'to-datetime': new Date(Date.now() + 3_600_000).toISOString() }));
    expect((await stored(group)).map((row) => row.nextOffset)).toEqual([8n, 8n, 8n]);
  });

  it('refuses while the group has an active member and names it (exit 3); --force rewrites anyway; --json prints the table as JSON', async () => {
    const group = await claimedGroup();
    const consumer = client.groupConsumer({ groupId: group, topics: [topic], clientId: 'busy-replica', sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 });
    consumers.push(consumer);
    let assigned = false;
    await consumer.start({
      onAssigned: async () => {
        assigned = true;
        return [];
      },
      onRevoked: () => {},
      onBatch: () => {},
      onError: () => {},
    });
    await waitFor(() => assigned, { message: 'the member joined' });
    const env = { DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(','), KAFKA_CLIENT: 'kafkajs' };

    const refused = await runCli(['reset', '--group', group, '--topic', topic, '--to-earliest'], env);
    expect(refused.code).toBe(3);
    // kafkajs may add a Node warning of its own (TimeoutNegativeWarning); ours is one line.
    const ours = refused.stderr.split('\n').filter((line) => line.startsWith('error: '));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toMatch(/^error: refused: consumer group \S+ has 1 active member\(s\): busy-replica \(/);
    expect(await stored(group)).toEqual([0, 1, 2].map((partition) => ({ partition, nextOffset: 2n, epoch: 1n, owner: 'replica-a' })));

    const forced = await runCli(['reset', '--group', group, '--topic', topic, '--to-earliest', '--force', '--json'], env);
    expect(forced.code).toBe(0);
    const report = JSON.parse(forced.stdout) as { outcome: string; members: unknown[]; partitions: Array<{ partition: number; before: string; after: string; epochAfter: string }> };
    expect(report.outcome).toBe('rewritten');
    expect(report.members).toHaveLength(1);
    expect(report.partitions.map(({ partition, before, after, epochAfter }) => ({ partition, before, after, epochAfter }))).toEqual(
      [0, 1, 2].map((partition) => ({ partition, before: '2', after: '0', epochAfter: '2' })),
    );
    expect((await stored(group)).map((row) => row.epoch)).toEqual([2n, 2n, 2n]);
  });

  it('gives one line and exit 2 for bad flags, and lists exit codes in --help', async () => {
    const env = { DATABASE_URL: db.url, KAFKA_BROKERS: brokersFromEnv().join(',') };
    for (const args of [
      ['reset', '--topic', topic, '--to-earliest'],
      ['reset', '--group', 'g', '--topic', topic],
      ['reset', '--group', 'g', '--topic', topic, '--to-earliest', '--to-latest'],
      ['reset', '--group', 'g', '--topic', topic, '--to-offset', '-3'],
      ['reset', '--group', 'g', '--topic', topic, '--to-datetime', 'yesterday'],
      ['reset', '--group', 'g', '--topic', topic, '--to-latest', '--partitions', '0,x'],
      ['reset', '--group', 'g', '--topic', topic, '--to-latest', '--partitions', '7'],
      ['reset', '--group', 'g', '--topic', uniqueName('missing'), '--to-latest'],
    ]) {
      const result = await runCli(args, env);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(/^error: /);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    const help = await runCli(['reset', '--help'], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:\n {2}0 .*\n {2}1 .*\n {2}2 .*\n {2}3 /);
  });
});
