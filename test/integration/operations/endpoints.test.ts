/**
 * The health and metrics endpoint of real `topology run` processes (real broker, real
 * PostgreSQL): /healthz, /readyz (ready with a partition, 503 without one) and /metrics after
 * traffic, and `--replicas N` serving replica i on METRICS_PORT + i. Two partitions: a third
 * member of the group has none.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NODE_NAMES } from '../../../processors/reference-pipeline.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { waitFor } from '../../support/kafka.ts';
import { committedTotal, createPipelineFixture, type PipelineFixture, type RoleProcess } from '../../support/pipeline.ts';
import { parseExposition, type Sample, sampleValue } from '../../unit/operations/scrape.ts';
import { freePorts } from './ports.ts';

interface Answer {
  status: number;
  body: string;
}

async function get(port: number, path: string): Promise<Answer> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

async function scrapeProcess(port: number): Promise<Sample[]> {
  const answer = await get(port, '/metrics');
  expect(answer.status).toBe(200);
  return parseExposition(answer.body);
}

/** /readyz of a process: 'ready', or the reason it gives for not being ready. */
async function readiness(port: number): Promise<string> {
  const answer = await get(port, '/readyz');
  const body = JSON.parse(answer.body) as { status: string; reason?: string };
  if (answer.status === 200 && body.status === 'ready') return 'ready';
  expect(answer.status).toBe(503);
  return body.reason ?? '(no reason)';
}

describe('health and metrics endpoint of a running pipeline', () => {
  let fixture: PipelineFixture;

  beforeAll(async () => {
    fixture = await createPipelineFixture('ops-endpoints', { partitions: 2 });
    await seed(fixture.db.sequelize, { products: 10, stock: 100 });
  });

  afterAll(async () => {
    await fixture?.cleanup();
  }, 30_000);

  let pipeline: RoleProcess;
  let pipelinePort: number;

  it('serves /healthz, /readyz and /metrics counting what the process consumed, produced and published', async () => {
    pipelinePort = await freePorts();
    pipeline = fixture.spawnRole('all', { name: 'all-1', args: ['--rate', '40', '--metrics-port', String(pipelinePort)] });

    await waitFor(async () => (await readiness(pipelinePort)) === 'ready', { timeoutMs: 60_000, intervalMs: 200, message: `/readyz 200; last lines:\n${pipeline.tail()}` });
    expect(await get(pipelinePort, '/healthz')).toEqual({ status: 200, body: '{"status":"alive"}\n' });

    const published = (samples: Sample[]) => sampleValue(samples, 'kstream_outbox_published_total') ?? 0;
    const samples = await waitFor(
      async () => {
        const current = await scrapeProcess(pipelinePort);
        const lagSeen = ['0', '1'].every((partition) => sampleValue(current, 'kstream_partition_lag', { topic: fixture.names.ordersTopic, partition }) !== undefined);
        return lagSeen && published(current) > 0 && (sampleValue(current, 'kstream_source_orders_published_total') ?? 0) > 0 ? current : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: 'lag, outbox and source metrics to be sampled' },
    );
    const committed = await committedTotal(fixture);

    const recordsIn = sampleValue(samples, 'kstream_records_in_total', { node: NODE_NAMES.ordersSource })!;
    expect(recordsIn).toBeGreaterThan(0);
    // Counted only after COMMIT: never more than the database holds as committed.
    expect(BigInt(recordsIn)).toBeLessThanOrEqual(committed);
    expect(sampleValue(samples, 'kstream_records_out_total', { node: NODE_NAMES.inventoryUpdated })).toBeGreaterThan(0);
    // A batch holds the records of one topic-partition: together the batches hold what every source node read.
    const readBySources = samples.filter((sample) => sample.name === 'kstream_records_in_total').reduce((sum, sample) => sum + sample.value, 0);
    expect(sampleValue(samples, 'kstream_batch_size_sum')).toBe(readBySources);
    expect(sampleValue(samples, 'kstream_commit_latency_seconds_count')).toBeGreaterThan(0);
    // Two partitions of each topic the topology reads: orders, the two command topics and the two internal ones.
    expect(sampleValue(samples, 'kstream_assigned_partitions')).toBe(10);
    expect(sampleValue(samples, 'kstream_rebalances_total')).toBeGreaterThanOrEqual(1);
    expect(sampleValue(samples, 'kstream_dead_letters_total')).toBe(0);
    expect(sampleValue(samples, 'kstream_outbox_backlog')).toBeGreaterThanOrEqual(0);
    expect(sampleValue(samples, 'kstream_outbox_parked')).toBe(0);
    expect(sampleValue(samples, 'kstream_outbox_relay_leader')).toBe(1);
    expect(sampleValue(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  }, 90_000);

  it('answers /readyz ready from every member that owns partitions, and the others take over the partitions of a stopped member', async () => {
    const members = [{ process: pipeline, port: pipelinePort }];
    for (const name of ['processor-2', 'processor-3']) {
      const port = await freePorts();
      members.push({ process: fixture.spawnRole('processor', { name, args: ['--metrics-port', String(port)] }), port });
    }
    for (const member of members.slice(1)) {
      await member.process.waitForLog('processor started');
      expect((await get(member.port, '/healthz')).status).toBe(200);
    }
    const assigned = async (list: typeof members) => {
      const counts = await Promise.all(list.map(async (member) => sampleValue(await scrapeProcess(member.port), 'kstream_assigned_partitions') ?? 0));
      return counts.reduce((sum, count) => sum + count, 0);
    };

    // Ten partitions, three members: each owns some and is ready; together they own all ten.
    await waitFor(async () => (await Promise.all(members.map((member) => readiness(member.port)))).every((answer) => answer === 'ready') && (await assigned(members)) === 10, {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'three ready members owning the ten partitions',
    });

    const [stopped, ...rest] = members.slice(1) as [(typeof members)[number], ...typeof members];
    expect((await stopped.process.interrupt()).code).toBe(0);
    const remaining = [members[0]!, ...rest];
    await waitFor(async () => (await assigned(remaining)) === 10 && (await Promise.all(remaining.map((member) => readiness(member.port)))).every((answer) => answer === 'ready'), {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: `the others to take ${stopped.process.name}'s partitions over`,
    });
    for (const member of rest) expect((await member.process.interrupt()).code).toBe(0);
  }, 120_000);

  it('serves replica i of --replicas N on METRICS_PORT + i', async () => {
    const base = await freePorts(3);
    const parent = fixture.spawnRole('processor', { name: 'replicas', args: ['--replicas', '2', '--metrics-port', String(base)] });

    await waitFor(async () => (await get(base, '/healthz')).status === 200, { timeoutMs: 60_000, intervalMs: 200, message: `the parent on ${base}` });
    for (const port of [base + 1, base + 2]) {
      const samples = await waitFor(async () => scrapeProcess(port), { timeoutMs: 60_000, intervalMs: 200, message: `a replica on port ${port}` });
      expect(sampleValue(samples, 'kstream_assigned_partitions')).toBeDefined();
    }
    await waitFor(async () => (await readiness(base + 1)) === 'ready' && (await readiness(base + 2)) === 'ready', {
      timeoutMs: 60_000,
      intervalMs: 200,
      message: 'both replicas to own a partition',
    });
    expect(await readiness(base)).toBe('ready');
    expect((await parent.interrupt()).code).toBe(0);
  }, 90_000);
});
