/**
 * The orders topic is recreated (or the broker's data wiped) while the database keeps its
 * offsets; the operator runs the reset the processor names. The records read again from offset 0
 * must go through the repartitions like any others: their outputs are new to the downstream
 * watermarks (which saw offsets far above 0 of that partition) and their event ids differ from
 * the outbox rows still kept for the old ones. Multi-line orders, so every order crosses the
 * product-commands and line-results repartitions.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseResetFlags, resetOffsets } from '../../../app/reset-command.ts';
import type { KafkaProducer } from '../../../kafka/port.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { selectRows } from '../../../state/sql.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, type PipelineFixture, publishOrders, storeOrders, type TestOrder } from '../../support/pipeline.ts';

const PARTITIONS = 3;
const PRODUCTS = 6;
const STOCK = 1_000_000;
const ORDERS_PER_ROUND = 150;

/** Three-line orders over the catalogue, each line another product. */
const threeLineOrders = (count: number, round: number) =>
  Array.from({ length: count }, (_, i) => ({
    lines: [0, 1, 2].map((line) => ({ productId: ((i + round + line * 2) % PRODUCTS) + 1, quantity: line + 1 })),
  }));

describe('a recreated orders topic, after the reset the processor names', () => {
  let fixture: PipelineFixture;
  let producer: KafkaProducer;

  beforeAll(async () => {
    fixture = await createPipelineFixture('eo-reset', { partitions: PARTITIONS });
    producer = await fixture.kafka.producer();
    await seed(fixture.db.sequelize, { products: PRODUCTS, stock: STOCK });
  });

  afterAll(async () => {
    await producer?.close();
    await fixture?.cleanup();
  });

  const undecided = async (orders: TestOrder[]) =>
    Number(
      (await selectRows<{ count: string }>(fixture.db.sequelize, `SELECT count(*) AS count FROM orders WHERE id = ANY($ids::uuid[]) AND status IN ('pending', 'reserving')`, { ids: orders.map((order) => order.orderId) }))[0]!
        .count,
    );

  it('decides the orders published after the reset: multi-line orders cross the repartitions again, and stock moves by exactly the confirmed lines', () =>
    fixture.diagnose(
      (async () => {
        const { ordersTopic, consumerGroup } = fixture.names;
        const relay = fixture.spawnRole('relay');
        let processor = fixture.spawnRole('processor');
        const before = await storeOrders(fixture, threeLineOrders(ORDERS_PER_ROUND, 0), 1);
        await publishOrders(producer, ordersTopic, before);
        await waitFor(async () => (await undecided(before)) === 0, { timeoutMs: 60_000, message: 'the first orders decided' });
        expect((await processor.interrupt()).code).toBe(0);

        // The broker loses the topic; the database keeps offsets and downstream watermarks far above 0.
        await fixture.admin.deleteTopics([ordersTopic]);
        await waitFor(async () => !(await fixture.admin.listTopics()).includes(ordersTopic), { timeoutMs: 30_000, message: 'orders topic deleted' });
        await fixture.admin.createTopics([{ topic: ordersTopic, partitions: PARTITIONS }]);
        const report = await resetOffsets({ sequelize: fixture.db.sequelize, admin: fixture.admin }, parseResetFlags({ group: consumerGroup, topic: ordersTopic, 'to-earliest': 'true' }));
        expect(report.outcome).toBe('rewritten');

        processor = fixture.spawnRole('processor');
        const after = await storeOrders(fixture, threeLineOrders(ORDERS_PER_ROUND, 1), ORDERS_PER_ROUND + 1);
        await publishOrders(producer, ordersTopic, after);
        await waitFor(async () => (await undecided(after)) === 0, { timeoutMs: 60_000, message: 'the orders published after the reset decided' });

        // Exactly the confirmed orders' lines left the stock: none of the orders read again was applied twice or lost a line.
        const moved = await selectRows<{ product_id: number; quantity: number; confirmed_units: string }>(
          fixture.db.sequelize,
          `SELECT i.product_id, i.quantity, coalesce(sum(l.quantity) FILTER (WHERE o.status = 'confirmed'), 0) AS confirmed_units
           FROM inventory i LEFT JOIN order_lines l ON l.product_id = i.product_id LEFT JOIN orders o ON o.id = l.order_id
           GROUP BY i.product_id, i.quantity ORDER BY i.product_id`,
        );
        expect(moved.map((row) => row.quantity)).toEqual(moved.map((row) => STOCK - Number(row.confirmed_units)));
        const statuses = await selectRows<{ status: string; count: string }>(fixture.db.sequelize, 'SELECT status, count(*) AS count FROM orders GROUP BY status');
        expect(statuses.map((row) => [row.status, Number(row.count)])).toEqual([['confirmed', 2 * ORDERS_PER_ROUND]]);

        for (const role of [processor, relay]) expect((await role.interrupt()).code).toBe(0);
      })(),
    ), 180_000);
});
