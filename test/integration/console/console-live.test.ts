/**
 * The console inside a real `topology run --console-port` (real broker, real PostgreSQL): the
 * page and its modules, the topology, a snapshot whose every node has a rate, and the SSE
 * stream whose numbers move while orders flow.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Snapshot } from '../../../app/console/snapshot.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, type PipelineFixture, type RoleProcess } from '../../support/pipeline.ts';
import { freePorts } from '../operations/ports.ts';
import { readEvents } from './sse.ts';

describe('the console beside a running pipeline', () => {
  let fixture: PipelineFixture;
  let pipeline: RoleProcess;
  let base: string;

  beforeAll(async () => {
    fixture = await createPipelineFixture('console-live', { partitions: 2 });
    await seed(fixture.db.sequelize, { products: 10, stock: 100_000 });
    const port = await freePorts();
    pipeline = fixture.spawnRole('all', { args: ['--rate', '40', '--console-port', String(port)] });
    const line = await fixture.diagnose(pipeline.waitForLog(/^console: open /));
    expect(line.url).toBe(`http://127.0.0.1:${port}/`);
    base = String(line.url).replace(/\/$/, '');
  });
  afterAll(async () => {
    await fixture?.cleanup();
  }, 30_000);

  it('serves the page and its vendor modules from this machine', async () => {
    const page = await fetch(`${base}/`);
    expect({ status: page.status, type: page.headers.get('content-type') }).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    const preact = await fetch(`${base}/vendor/preact.mjs`);
    expect({ status: preact.status, type: preact.headers.get('content-type') }).toEqual({ status: 200, type: 'text/javascript; charset=utf-8' });
    const missing = await fetch(`${base}/vendor/nothing.mjs`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'no such page: /vendor/nothing.mjs' });
  });

  it('GET /api/topology: the group and the description `describe --format json` prints', async () => {
    const body = (await (await fetch(`${base}/api/topology`)).json()) as { group: string; description: { subtopologies: Array<{ id: number; nodes: Array<{ name: string }> }> } };
    expect(body.group).toBe(fixture.names.consumerGroup);
    expect(body.description.subtopologies.map((subtopology) => subtopology.id)).toEqual([0, 1, 2]);
    expect(body.description.subtopologies.flatMap((subtopology) => subtopology.nodes.map((node) => node.name))).toContain('order-intake');
  });

  it('GET /api/snapshot: every node of the graph, every partition of the orders topic, the outbox and the dead letters', async () => {
    const topology = (await (await fetch(`${base}/api/topology`)).json()) as { description: { subtopologies: Array<{ nodes: Array<{ name: string }> }> } };
    const snapshot = (await (await fetch(`${base}/api/snapshot`)).json()) as Snapshot;
    expect(snapshot.group).toBe(fixture.names.consumerGroup);
    expect(Object.keys(snapshot.nodes).sort()).toEqual(topology.description.subtopologies.flatMap((subtopology) => subtopology.nodes.map((node) => node.name)).sort());
    expect(snapshot.subtopologies.map((subtopology) => subtopology.id)).toEqual([0, 1, 2]);
    expect(snapshot.partitions.filter((partition) => partition.topic === fixture.names.ordersTopic).map((partition) => partition.partition)).toEqual([0, 1]);
    expect(snapshot.outbox).toEqual({ backlog: expect.any(Number), parked: 0 });
    expect(snapshot.deadLetters).toEqual({ count: expect.stringMatching(/^\d+$/) });
    expect(new Date(snapshot.at).toISOString()).toBe(snapshot.at);
  });

  it('GET /api/events: a snapshot at once, then more whose offsets and rates move while orders flow', async () => {
    const snapshots = await readEvents(`${base}/api/events`, (events) => {
      const last = events.at(-1);
      return events.length >= 3 && last !== undefined && (last.nodes['orders-source']?.recordsPerSecond ?? 0) > 0;
    });
    const dbOffsets = (snapshot: Snapshot) => snapshot.partitions.filter((partition) => partition.topic === fixture.names.ordersTopic).reduce((sum, partition) => sum + BigInt(partition.dbOffset), 0n);
    expect(dbOffsets(snapshots.at(-1)!)).toBeGreaterThan(dbOffsets(snapshots[0]!));
    const last = snapshots.at(-1)!;
    // The order intake's rate is its sub-topology's input rate, the source's.
    expect(last.nodes['order-intake']?.recordsPerSecond).toBeGreaterThan(0);
    expect(last.subtopologies.find((subtopology) => subtopology.topics.includes(fixture.names.ordersTopic))!.recordsPerSecond).toBeGreaterThan(0);
    await waitFor(async () => {
      const snapshot = (await (await fetch(`${base}/api/snapshot`)).json()) as Snapshot;
      return (snapshot.nodes['inventory-updated-sink']?.recordsPerSecond ?? 0) > 0;
    }, { timeoutMs: 30_000, message: 'the InventoryUpdated sink has a rate' });
  });

  it('answers an unknown endpoint and a wrong method with a JSON error', async () => {
    const unknown = await fetch(`${base}/api/nothing`);
    expect({ status: unknown.status, body: await unknown.json() }).toEqual({ status: 404, body: { error: 'no such endpoint: /api/nothing' } });
    const wrong = await fetch(`${base}/api/snapshot`, { method: 'POST' });
    expect({ status: wrong.status, body: await wrong.json() }).toEqual({ status: 405, body: { error: 'POST not allowed on /api/snapshot (allowed: GET)' } });
  });

  it('stops with the pipeline on Ctrl-C', async () => {
    const exit = await pipeline.interrupt();
    expect(exit.code).toBe(0);
    await expect(fetch(`${base}/api/snapshot`)).rejects.toThrow();
  });
});
