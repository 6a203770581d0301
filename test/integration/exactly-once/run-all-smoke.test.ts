/**
 * End-to-end smoke test of `topology run --role all` (source, processor and relay in one
 * process) on the original catalogue: orders flow, InventoryUpdated events with valid
 * envelopes and headers reach the topic, and Ctrl-C exits 0 within the shutdown bound
 * having published the outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CONTENT_TYPE_JSON, decodeInventoryUpdated } from '../../../processors/events.ts';
import { DEFAULT_PRODUCTS, seed } from '../../../state/commerce/seed.ts';
import { countUnpublished } from '../../../state/outbox-store.ts';
import { selectRows } from '../../../state/sql.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, type PipelineFixture, readTopic } from '../../support/pipeline.ts';

const SHUTDOWN_TIMEOUT_MS = 5_000;

describe('topology run --role all', () => {
  let fixture: PipelineFixture;

  beforeAll(async () => {
    fixture = await createPipelineFixture('eo-smoke', { partitions: 4 });
    await seed(fixture.db.sequelize);
  });

  afterAll(async () => {
    await fixture?.cleanup();
  });

  it('runs the whole pipeline in one process and shuts down cleanly on SIGINT', () =>
    fixture.diagnose(
      (async () => {
        const pipeline = fixture.spawnRole('all', { args: ['--rate', '100'], env: { SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) } });
        await pipeline.waitForLog('running; Ctrl-C to stop');
        // With 3 units in stock, the first hundred decisions may all be rejections: wait for both outcomes.
        const bothOutcomesDecided = async () => {
          const [row] = await selectRows<{ decided: string; confirmed: string; rejected: string }>(
            fixture.db.sequelize,
            "SELECT count(*) FILTER (WHERE status <> 'pending') AS decided, count(*) FILTER (WHERE status = 'confirmed') AS confirmed, count(*) FILTER (WHERE status = 'rejected' AND reason = 'out_of_stock') AS rejected FROM orders",
          );
          return Number(row!.decided) >= 100 && Number(row!.confirmed) > 0 && Number(row!.rejected) > 0;
        };
        await waitFor(bothOutcomesDecided, { timeoutMs: 60_000, message: '100 decided orders, one of them confirmed and one rejected for want of stock' });
        await waitFor(async () => [...(await fixture.admin.highWatermarks(fixture.names.inventoryTopic)).values()].some((end) => end > 0n), {
          timeoutMs: 30_000,
          message: 'InventoryUpdated on the topic',
        });

        const interruptedAt = Date.now();
        const exit = await pipeline.interrupt(SHUTDOWN_TIMEOUT_MS + 10_000);
        const shutdownMs = Date.now() - interruptedAt;
        expect(exit).toEqual({ code: 0, signal: null });
        expect(shutdownMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
        expect(pipeline.logged('shutdown took longer')).toEqual([]);
        // "commits what is complete, publishes the outbox": nothing committed is left behind unpublished.
        expect(await countUnpublished(fixture.db.sequelize)).toBe(0);

        const rows = await selectRows<{ status: string; reason: string | null }>(fixture.db.sequelize, 'SELECT status, reason FROM orders');
        const outcomes = new Set(rows.map((row) => (row.reason ? `${row.status}:${row.reason}` : row.status)));
        // Products 1 and 2 of the catalogue have no stock row (0 units); 3 and 4 have 1 and 2 units.
        expect(outcomes).toContain('confirmed');
        expect(outcomes).toContain('rejected:out_of_stock');
        // Orders still in flight at Ctrl-C stay pending, or reserving when their lines are out (the next start decides them); nothing else appears.
        expect([...outcomes].filter((outcome) => !['confirmed', 'rejected:out_of_stock', 'pending', 'reserving'].includes(outcome))).toEqual([]);
        const [confirmed] = await selectRows<{ units: string }>(
          fixture.db.sequelize,
          "SELECT coalesce(sum(l.quantity), 0) AS units FROM orders o JOIN order_lines l ON l.order_id = o.id WHERE o.status = 'confirmed'",
        );
        expect(Number(confirmed!.units)).toBeLessThanOrEqual(3);

        const records = await readTopic(fixture, fixture.names.inventoryTopic);
        expect(records.length).toBeGreaterThan(0);
        const catalogue = new Set(DEFAULT_PRODUCTS.map((product) => product.id));
        for (const record of records) {
          const event = decodeInventoryUpdated(record.value);
          expect(record.headers).toMatchObject({ 'event-type': 'InventoryUpdated', 'event-id': event.eventId, 'content-type': CONTENT_TYPE_JSON });
          expect(event.eventId).toBe(`inventory-updated:${event.payload.productId}:${event.payload.version}`);
          expect(record.key?.toString('utf8')).toBe(String(event.payload.productId));
          expect(catalogue.has(event.payload.productId)).toBe(true);
          // Moved by the orders themselves (one-line orders) or by the product commands (multi-line orders' lines, releases).
          expect([fixture.names.ordersTopic, `${fixture.names.consumerGroup}-product-commands-repartition`]).toContain(event.payload.source.topic);
        }
      })(),
    ), 120_000);
});
