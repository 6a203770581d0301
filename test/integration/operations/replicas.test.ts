/**
 * Scale-out as an operator sees it, through `topology status --json`: three processor replicas
 * (separate OS processes) share the 12 partitions of every topic the topology reads under load;
 * one is SIGKILLed and the other two claim its partitions; a new replica joins and takes its
 * share; once the source stops, lag returns to 0 and every order was decided exactly once.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { StatusReport } from '../../../app/status.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, findOrderFlowViolations, type PipelineFixture, type RoleProcess, takeSnapshot, waitUntilCaughtUp } from '../../support/pipeline.ts';

const CLI = fileURLToPath(new URL('../../../app/cli.ts', import.meta.url));
const PARTITIONS = 12;
const PRODUCTS = 50;
const STOCK = 300;
/**
 * Orders/s per client. Both run at 500/s on a 2-core machine: the platformatic group used to churn
 * there until informational Kafka offset commits were throttled (stream-runtime, every 5 s).
 */
const SCENARIOS = [
  { client: 'kafkajs', rate: 500 },
  { client: 'platformatic', rate: 500 },
] as const;

function status(fixture: PipelineFixture): Promise<StatusReport> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [CLI, 'status', '--json', '--sample-ms', '0'],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...fixture.env({ LOG_LEVEL: 'error' }) }, timeout: 30_000 },
      (error, stdout, stderr) => (error ? reject(new Error(`status failed: ${error.message}\n${stderr}`)) : resolve(JSON.parse(stdout) as StatusReport)),
    );
  });
}

/** The owners of the partitions when every partition of every topic has one; undefined while some partition has none. */
function ownersOfAll(report: StatusReport): string[] | undefined {
  if (report.partitions.length !== PARTITIONS * report.topics.length || report.partitions.some((partition) => partition.owner === null)) return undefined;
  return [...new Set(report.partitions.map((partition) => partition.owner!))].sort();
}

describe.each(SCENARIOS)('processor replicas sharing the partitions (status --json), $client client at $rate orders/s', ({ client, rate }) => {
  let fixture: PipelineFixture;

  beforeAll(async () => {
    fixture = await createPipelineFixture(`ops-replicas-${client}`, { partitions: PARTITIONS });
    await seed(fixture.db.sequelize, { products: PRODUCTS, stock: STOCK });
  }, 60_000);

  afterAll(async () => {
    await fixture?.cleanup();
  }, 60_000);

  async function waitForOwners(replicas: RoleProcess[], message: string): Promise<StatusReport> {
    const expected = replicas.map((replica) => replica.name).sort();
    let last = '';
    return waitFor(
      async () => {
        const report = await status(fixture);
        last = JSON.stringify(report.partitions.map((partition) => [partition.topic, partition.partition, partition.owner]));
        const owners = ownersOfAll(report);
        return owners !== undefined && owners.join() === expected.join() ? report : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: `${message} (owners ${expected.join(', ')})` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; last partitions/owners: ${last}`);
    });
  }

  it('moves the partitions of a killed replica to the others and shares them with a new one, deciding every order once', async () => {
    fixture.spawnRole('relay', { name: 'relay-1' });
    const replicas = ['replica-a', 'replica-b', 'replica-c'].map((name) => fixture.spawnRole('processor', { name, env: { KAFKA_CLIENT: client } }));
    const source = fixture.spawnRole('source', { name: 'source-1', args: ['--rate', String(rate)] });

    const shared = await waitForOwners(replicas, 'three replicas to own all 12 partitions of every topic');
    expect(shared.replicas.map((replica) => replica.partitions.length).reduce((sum, count) => sum + count, 0)).toBe(PARTITIONS * shared.topics.length);

    const [survivorA, killed, survivorC] = replicas as [RoleProcess, RoleProcess, RoleProcess];
    const { ordersTopic } = fixture.names;
    const ordersPartition = (report: StatusReport, partition: number) => report.partitions.find((each) => each.topic === ordersTopic && each.partition === partition)!;
    const killedPartitions = shared.replicas.find((replica) => replica.replica === killed.name && replica.topic === ordersTopic)!.partitions;
    expect(killedPartitions.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    expect((await killed.kill9()).signal).toBe('SIGKILL');

    // Ownership moves only when a survivor claims in the database: status shows it, not the broker.
    const afterKill = await waitForOwners([survivorA, survivorC], 'the survivors to claim the killed replica\'s partitions');
    const failoverMs = Date.now() - killedAt;
    const committedAfterKill = new Map(killedPartitions.map((partition) => [partition, BigInt(ordersPartition(afterKill, partition).dbOffset)]));

    const newcomer = fixture.spawnRole('processor', { name: 'replica-d', env: { KAFKA_CLIENT: client } });
    const joinedAt = Date.now();
    await waitForOwners([survivorA, survivorC, newcomer], 'the new replica to take its share');
    const joinMs = Date.now() - joinedAt;

    // The killed replica's partitions keep flowing under their new owners while the source still runs.
    await waitFor(
      async () => {
        const report = await status(fixture);
        return killedPartitions.every((partition) => BigInt(ordersPartition(report, partition).dbOffset) > committedAfterKill.get(partition)!);
      },
      { timeoutMs: 60_000, intervalMs: 500, message: `commits on the killed replica's partitions ${killedPartitions.join(',')} after the failover` },
    );

    expect((await source.interrupt()).code).toBe(0);
    let lastLag = '';
    const drained = await waitFor(
      async () => {
        const report = await status(fixture);
        lastLag = JSON.stringify(report.partitions.filter((partition) => partition.lag !== '0').map((partition) => [partition.topic, partition.partition, partition.owner, partition.lag, partition.lastCommitAt]));
        return report.totalLag === '0' ? report : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, message: 'total lag 0 after the source stopped' },
    ).catch((error: unknown) => {
      const problems = [survivorA, survivorC, newcomer].flatMap((replica) => replica.lines.filter((line) => line.level === 'error' || line.level === 'warn').slice(-5).map((line) => `${replica.name}: ${JSON.stringify(line).slice(0, 300)}`));
      throw new Error(`${(error as Error).message}; lagging topic/partition/owner/lag/last commit: ${lastLag}\n${problems.join('\n')}`);
    });
    expect(drained.partitions.every((partition) => partition.lag === '0')).toBe(true);
    await waitUntilCaughtUp(fixture, 60_000);

    const snapshot = await takeSnapshot(fixture, new Map(Array.from({ length: PRODUCTS }, (_, index) => [index + 1, STOCK])));
    expect(findOrderFlowViolations(snapshot)).toEqual([]);
    const confirmed = snapshot.orders.filter((order) => order.status === 'confirmed').length;
    const rejected = snapshot.orders.filter((order) => order.status === 'rejected').length;
    expect(confirmed).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
    expect(snapshot.orders.length).toBeGreaterThan(1000);

    process.stderr.write(
      `[replicas ${client} ${rate}/s] ${snapshot.orders.length} orders (${confirmed} confirmed, ${rejected} rejected); failover after SIGKILL ${failoverMs} ms; new replica owning its share after ${joinMs} ms\n`,
    );
  }, 240_000);
});
