/**
 * The console's data against a real pipeline (real broker, real PostgreSQL): a poison record
 * appears in /api/dead-letters with its provenance and payload; replaying it twice sends it
 * back to its topic once (one outbox row, one record with dlq-replayed-from); then, with the
 * pipeline drained and `npm run console` serving on its own, an order and a product look-up
 * agree with the database and the topics.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { DeadLetterDetail, DeadLetterSummary } from '../../../app/console/dead-letters.ts';
import type { OrderView } from '../../../app/console/order-lookup.ts';
import type { ProductView } from '../../../app/console/product-lookup.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { parkRecords } from '../../../state/outbox-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, type PipelineFixture, RoleProcess, readTopic, waitUntilCaughtUp } from '../../support/pipeline.ts';
import { freePorts } from '../operations/ports.ts';

const CONSOLE_CLI = fileURLToPath(new URL('../../../app/console/cli.ts', import.meta.url));

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  return { status: response.status, body: (await response.json()) as T };
}

const post = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('the console over a pipeline\'s dead letters, orders and products', () => {
  let fixture: PipelineFixture;
  let pipeline: RoleProcess;
  let base: string;
  const poison = Buffer.from('{"not": "an OrderCreated"', 'utf8');

  beforeAll(async () => {
    fixture = await createPipelineFixture('console-data', { partitions: 2 });
    await seed(fixture.db.sequelize, { products: 10, stock: 50 });
    const port = await freePorts();
    pipeline = fixture.spawnRole('all', { args: ['--rate', '30', '--console-port', String(port)] });
    await fixture.diagnose(pipeline.waitForLog(/^console: open /));
    base = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await fixture?.cleanup();
  }, 30_000);

  let letter: DeadLetterSummary;

  it('lists a poison record among the dead letters, newest first, with where it came from and why', async () => {
    const producer = await fixture.kafka.producer();
    await producer.send([{ topic: fixture.names.ordersTopic, key: '3', value: poison, headers: { 'content-type': 'application/json', 'test-header': 'kept' } }]);
    await producer.close();
    letter = await fixture.diagnose(
      waitFor(
        async () => {
          const { status, body } = await json<{ topic: string; letters: DeadLetterSummary[] }>(`${base}/api/dead-letters`);
          expect({ status, topic: body.topic }).toEqual({ status: 200, topic: fixture.names.dlqTopic });
          return body.letters.find((each) => each.originalTopic === fixture.names.ordersTopic);
        },
        { timeoutMs: 60_000, intervalMs: 250, message: 'the poison record in /api/dead-letters' },
      ),
    );
    expect(letter).toEqual({
      partition: 0,
      offset: expect.stringMatching(/^\d+$/),
      timestamp: expect.any(String),
      key: '3',
      headers: expect.objectContaining({ 'dlq-original-topic': fixture.names.ordersTopic, 'event-type': 'DeadLetter' }),
      originalTopic: fixture.names.ordersTopic,
      originalPartition: expect.any(Number),
      originalOffset: expect.stringMatching(/^\d+$/),
      errorClass: 'DecodeError',
      errorMessage: expect.any(String),
      size: poison.length,
      replayedAt: null,
    });
  });

  it('shows one letter with its payload as text and base64; a letter the topic does not hold is a 404', async () => {
    const detail = await json<DeadLetterDetail>(`${base}/api/dead-letters/${letter.partition}/${letter.offset}`);
    expect(detail).toEqual({ status: 200, body: { ...letter, payload: { text: poison.toString('utf8'), base64: poison.toString('base64') } } });
    const missing = await json<{ error: string }>(`${base}/api/dead-letters/0/999999`);
    expect(missing).toEqual({ status: 404, body: { error: `no dead letter at ${fixture.names.dlqTopic} partition 0 offset 999999` } });
    expect((await json(`${base}/api/dead-letters/0/x`)).status).toBe(400);
    expect((await json(`${base}/api/dead-letters?limit=0`)).status).toBe(400);
  });

  it('replays a letter once however often it is asked: one outbox row, one record on its topic, marked as replayed', async () => {
    const selection = { letters: [{ partition: letter.partition, offset: letter.offset }] };
    const [first, second] = await Promise.all([json(`${base}/api/dead-letters/replay`, post(selection)), json(`${base}/api/dead-letters/replay`, post(selection))]);
    expect([first, second].map((answer) => answer.body).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual([
      { replayed: 0, alreadyReplayed: 1 },
      { replayed: 1, alreadyReplayed: 0 },
    ]);
    expect(await json(`${base}/api/dead-letters/replay`, post(selection))).toEqual({ status: 200, body: { replayed: 0, alreadyReplayed: 1 } });

    const eventId = `replay:${fixture.names.dlqTopic}:${letter.partition}:${letter.offset}`;
    const rows = await selectRows<{ topic: string; key: string; published: boolean }>(fixture.db.sequelize, 'SELECT topic, key, published_at IS NOT NULL AS published FROM outbox WHERE event_id = $eventId', { eventId });
    expect(rows.map(({ topic, key }) => ({ topic, key }))).toEqual([{ topic: fixture.names.ordersTopic, key: '3' }]);
    await waitFor(async () => (await selectRows<{ published: boolean }>(fixture.db.sequelize, 'SELECT published_at IS NOT NULL AS published FROM outbox WHERE event_id = $eventId', { eventId }))[0]?.published, {
      timeoutMs: 30_000,
      message: 'the relay published the replayed record',
    });
    const replayed = (await readTopic(fixture, fixture.names.ordersTopic)).filter((record) => record.headers['dlq-replayed-from'] !== undefined);
    expect(replayed.map((record) => ({ key: record.key?.toString(), value: record.value?.toString(), from: record.headers['dlq-replayed-from'], kept: record.headers['test-header'], type: record.headers['event-type'] }))).toEqual([
      // The original record's headers were not kept by the dead letter (sinks/dead-letter.ts); the DeadLetter's own event headers are not replayed.
      { key: '3', value: poison.toString('utf8'), from: `${fixture.names.dlqTopic}:${letter.partition}:${letter.offset}`, kept: undefined, type: undefined },
    ]);
    expect(new Date(replayed[0]!.headers['dlq-replayed-at']!).getTime()).toBeGreaterThan(0);

    // Still poison: it is dead-lettered again, as a new letter of its new offset; the first shows when it was replayed.
    const letters = await waitFor(
      async () => {
        const { body } = await json<{ letters: DeadLetterSummary[] }>(`${base}/api/dead-letters`);
        return body.letters.some((each) => each.originalOffset === replayed[0]!.offset.toString() && each.originalPartition === replayed[0]!.partition) ? body.letters : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, message: 'the replayed record dead-lettered again' },
    );
    expect(letters[0]!.originalOffset).toBe(replayed[0]!.offset.toString());
    expect(letters.find((each) => each.offset === letter.offset)!.replayedAt).toEqual(expect.any(String));
  });

  it('refuses a replay of a letter the topic does not hold, and replays nothing of that selection', async () => {
    const answer = await json(`${base}/api/dead-letters/replay`, post({ letters: [{ partition: 0, offset: '999999' }] }));
    expect(answer).toEqual({ status: 404, body: { error: `no dead letter at ${fixture.names.dlqTopic} partition 0 offset 999999` } });
    expect((await json(`${base}/api/dead-letters/replay`, post({ letters: [] }))).status).toBe(400);
    const counted = await selectRows<{ count: string }>(fixture.db.sequelize, 'SELECT count(*) AS count FROM dead_letter_replays');
    expect(counted).toEqual([{ count: '1' }]);
  });

  describe('with no new orders, every record processed, and `npm run console` on its own', () => {
    let standalone: RoleProcess;

    beforeAll(async () => {
      // No source from here on: a processor and a relay finish what is on the topics, so the numbers stand still.
      expect((await pipeline.interrupt()).code).toBe(0);
      fixture.spawnRole('processor');
      fixture.spawnRole('relay');
      await fixture.diagnose(waitUntilCaughtUp(fixture, 90_000));
      const port = await freePorts();
      const child = spawn(process.execPath, [CONSOLE_CLI, '--port', String(port), '--interval-ms', '500'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...fixture.env() } });
      standalone = new RoleProcess('console', child);
      const line = await standalone.waitForLog(/^console: open /);
      base = String(line.url).replace(/\/$/, '');
    }, 150_000);
    afterAll(async () => {
      if (standalone?.running) await standalone.interrupt();
    });

    it('looks up an order: its row, its lines with their outcome, its OrderCreated and its outcome event', async () => {
      const [decided] = await selectRows<{ id: string; status: string }>(fixture.db.sequelize, "SELECT id, status FROM orders WHERE status IN ('confirmed', 'rejected') ORDER BY created_at LIMIT 1");
      const lines = await selectRows<{ product_id: number; quantity: number }>(fixture.db.sequelize, 'SELECT product_id, quantity FROM order_lines WHERE order_id = $id ORDER BY line_no', { id: decided!.id });
      const { status, body } = await json<OrderView>(`${base}/api/orders/${decided!.id}`);
      expect(status).toBe(200);
      expect(body.order).toEqual(expect.objectContaining({ id: decided!.id, status: decided!.status, customerId: expect.any(String), decidedAt: expect.any(String) }));
      expect(body.lines.map(({ productId, quantity }) => ({ productId, quantity }))).toEqual(lines.map((line) => ({ productId: line.product_id, quantity: line.quantity })));
      expect(body.lines.every((line) => line.status === 'reserved' || line.status === 'refused')).toBe(true);
      const outcomeType = decided!.status === 'confirmed' ? 'OrderConfirmed' : 'OrderRejected';
      const outcomeTopic = decided!.status === 'confirmed' ? fixture.names.ordersConfirmedTopic : fixture.names.ordersRejectedTopic;
      expect(body.events.map(({ topic, type, eventId }) => ({ topic, type, eventId }))).toEqual([
        { topic: fixture.names.ordersTopic, type: 'OrderCreated', eventId: `order-created:${decided!.id}` },
        { topic: outcomeTopic, type: outcomeType, eventId: `${decided!.status === 'confirmed' ? 'order-confirmed' : 'order-rejected'}:${decided!.id}` },
      ]);

      expect(await json(`${base}/api/orders/00000000-0000-4000-8000-000000000000`)).toEqual({ status: 404, body: { error: 'no order 00000000-0000-4000-8000-000000000000' } });
      expect((await json(`${base}/api/orders/not-an-id`)).status).toBe(400);
    });

    it('looks up a product: its stock, and its InventoryUpdated history newest first, the newest agreeing with the stock', async () => {
      const [busiest] = await selectRows<{ product_id: number; quantity: number; version: string }>(fixture.db.sequelize, 'SELECT product_id, quantity, version FROM inventory ORDER BY version DESC LIMIT 1');
      const { status, body } = await json<ProductView>(`${base}/api/products/${busiest!.product_id}`);
      expect(status).toBe(200);
      expect(body.product).toEqual({ id: busiest!.product_id, name: expect.any(String), price: expect.any(String) });
      expect(body.stock).toEqual({ quantity: busiest!.quantity, version: Number(busiest!.version) });
      expect(body.history.length).toBe(Math.min(50, Number(busiest!.version)));
      expect(body.history[0]).toEqual(expect.objectContaining({ version: Number(busiest!.version), quantity: busiest!.quantity, occurredAt: expect.any(String) }));
      expect(body.history.map((entry) => entry.version)).toEqual(body.history.map((_, index) => Number(busiest!.version) - index));

      expect(await json(`${base}/api/products/999999`)).toEqual({ status: 404, body: { error: 'no product 999999' } });
      expect((await json(`${base}/api/products/0`)).status).toBe(400);
    });

    it('lists the parked outbox rows with their error, and retries them: the relay publishes them', async () => {
      await parkRecords(fixture.db.sequelize, [{ record: { eventId: 'console-parked-1', topic: fixture.names.dlqTopic, key: 'parked', payload: Buffer.from('{}'), headers: {} }, error: 'too large for the topic' }]);
      const parked = await json<{ rows: Array<{ id: string }> }>(`${base}/api/outbox/parked`);
      expect(parked).toEqual({ status: 200, body: { rows: [{ id: expect.stringMatching(/^\d+$/), topic: fixture.names.dlqTopic, key: 'parked', eventId: 'console-parked-1', records: 1, parkedAt: expect.any(String), error: 'too large for the topic' }] } });
      await waitFor(async () => ((await json<{ outbox: { parked: number } }>(`${base}/api/snapshot`)).body.outbox.parked === 1), 'the snapshot counts the parked row');
      expect(await json(`${base}/api/outbox/retry`, post({ ids: [parked.body.rows[0]!.id] }))).toEqual({ status: 200, body: { retried: 1 } });
      expect(await json(`${base}/api/outbox/retry`, post({ ids: [parked.body.rows[0]!.id] }))).toEqual({ status: 200, body: { retried: 0 } });
      await waitFor(async () => (await selectRows<{ published: boolean }>(fixture.db.sequelize, "SELECT published_at IS NOT NULL AS published FROM outbox WHERE event_id = 'console-parked-1'"))[0]?.published, {
        timeoutMs: 30_000,
        message: 'the relay published the retried row',
      });
      expect(await json(`${base}/api/outbox/parked`)).toEqual({ status: 200, body: { rows: [] } });
      expect((await json(`${base}/api/outbox/retry`, post({ ids: ['x'] }))).status).toBe(400);
    });

    it('stops on Ctrl-C with exit 0', async () => {
      expect((await standalone.interrupt()).code).toBe(0);
    });
  });
});
