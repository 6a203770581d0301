/**
 * takeOrderFlowSnapshot reads back what a run of the order flow leaves behind, on the real
 * PostgreSQL and the real broker, with no pipeline: rows and events written by hand, a small
 * consistent world (two products, a confirmed, a rejected and a cancelled order, one restock)
 * that the invariants accept once the reading is joined with what the run sent.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AnyEvent } from '../../../processors/event-json.ts';
import { encodeEvent, inventoryUpdated } from '../../../processors/events.ts';
import { inventoryRestocked, orderCancelled, orderConfirmed, orderRejected } from '../../../processors/outcome-events.ts';
import type { InventoryUpdate } from '../../../verify/inventory-update.ts';
import { findOrderFlowViolations, type Published } from '../../../verify/order-flow-invariants.ts';
import { type OrderFlowTopics, takeOrderFlowSnapshot } from '../../../verify/order-flow-snapshot.ts';
import { useBroker } from '../../support/broker-fixture.ts';
import { createTestDatabase, type TestDatabase } from '../../support/database.ts';
import { brokersFromEnv } from '../../support/kafka.ts';

const A = '00000000-0000-4000-8000-000000000001';
const B = '00000000-0000-4000-8000-000000000002';
const C = '00000000-0000-4000-8000-000000000003';
const R1 = '00000000-0000-4000-9000-000000000001';
const S1 = '00000000-0000-4000-a000-000000000001';

const at = (second: number) => `2026-01-01T00:00:0${second}.000Z`;

function inventoryUpdate(productId: number, version: number, quantity: number, delta: number, counts: Partial<InventoryUpdate>): InventoryUpdate {
  return { productId, version, quantity, delta, reserved: 0, refused: 0, released: 0, restocked: 0, ...counts, source: { topic: 'lines', partition: 0, fromOffset: '0', toOffset: '0' } };
}

/** InventoryUpdated version 3 in its envelope, as the pipeline publishes it. */
function inventoryUpdatedBytes(update: InventoryUpdate): string {
  return encodeEvent(inventoryUpdated(update, at(1))).toString('utf8');
}

describe('takeOrderFlowSnapshot', () => {
  const broker = useBroker('platformatic');
  let db: TestDatabase;
  let topics: OrderFlowTopics;

  beforeAll(async () => {
    db = await createTestDatabase('order_flow_snapshot');
    topics = {
      inventoryTopic: await broker.topics.create('inventory-updated', 1),
      ordersConfirmedTopic: await broker.topics.create('order-confirmed', 1),
      ordersRejectedTopic: await broker.topics.create('order-rejected', 1),
      ordersCancelledTopic: await broker.topics.create('order-cancelled', 1),
      inventoryRestockedTopic: await broker.topics.create('inventory-restocked', 1),
    };
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reads the orders with their lines, the stock, the restocks and the five topics, and lists what does not decode', async () => {
    await db.sequelize.query(`INSERT INTO products (id, name, price) VALUES (1, 'One', 1.00), (2, 'Two', 2.00)`);
    await db.sequelize.query('UPDATE inventory SET quantity = 7, version = 2');
    await db.sequelize.query(
      `INSERT INTO orders (id, product_id, quantity, status, reason, cancel_request, source_id, source_seq) VALUES
         ('${A}', 2, 2, 'confirmed', NULL, NULL, 's', 1), ('${B}', 2, 9, 'rejected', 'out_of_stock', NULL, 's', 2), ('${C}', 1, 1, 'cancelled', NULL, '${R1}', 's', 3)`,
    );
    // A's lines stored lead line first: the snapshot keeps line order, not product order.
    await db.sequelize.query(`INSERT INTO order_lines (order_id, line_no, product_id, quantity) VALUES ('${A}', 1, 1, 3), ('${A}', 0, 2, 2), ('${B}', 0, 2, 9), ('${C}', 0, 1, 1)`);
    await db.sequelize.query(`INSERT INTO restocks (restock_id, product_id, quantity) VALUES ('${S1}', 2, 4)`);

    const confirmed = [published(orderConfirmed({ orderId: A, lines: [{ productId: 1, quantity: 3 }, { productId: 2, quantity: 2 }] }, at(1)), A), published(orderConfirmed({ orderId: C, lines: [{ productId: 1, quantity: 1 }] }, at(1)), C)];
    const rejected = [published(orderRejected({ orderId: B, lines: [{ productId: 2, quantity: 9, outcome: 'refused', reason: 'out_of_stock' }] }, at(1)), B)];
    const cancelled = [published(orderCancelled({ orderId: C, requestId: R1, result: 'cancelled', releasedLines: [{ productId: 1, quantity: 1 }] }, at(2)), C)];
    const restocked = [published(inventoryRestocked({ restockId: S1, productId: 2, quantity: 4, stockAfter: 7 }, at(2)), '2')];
    const updates = [
      inventoryUpdate(1, 1, 6, -4, { reserved: 2 }),
      inventoryUpdate(1, 2, 7, 1, { released: 1 }),
      inventoryUpdate(2, 1, 3, -2, { reserved: 1, refused: 1 }),
      inventoryUpdate(2, 2, 7, 4, { restocked: 1 }),
    ].map((update): Published<InventoryUpdate> => ({ key: String(update.productId), value: inventoryUpdatedBytes(update), event: update }));

    await broker.producer.send([
      ...updates.map(({ key, value }) => ({ topic: topics.inventoryTopic, key, value })),
      // Version 2, which the order flow's checks cannot read: listed, not thrown.
      { topic: topics.inventoryTopic, key: '1', value: JSON.stringify({ eventId: 'inventory-updated:1:3', type: 'InventoryUpdated', schemaVersion: 4, occurredAt: at(3), payload: {} }) },
      ...[...confirmed, { key: A, value: 'not json' }].map(({ key, value }) => ({ topic: topics.ordersConfirmedTopic, key, value })),
      ...rejected.map(({ key, value }) => ({ topic: topics.ordersRejectedTopic, key, value })),
      ...cancelled.map(({ key, value }) => ({ topic: topics.ordersCancelledTopic, key, value })),
      ...restocked.map(({ key, value }) => ({ topic: topics.inventoryRestockedTopic, key, value })),
    ]);

    const reading = await takeOrderFlowSnapshot(db.url, brokersFromEnv(), topics);

    expect(reading.orders).toEqual([
      { id: A, status: 'confirmed', reason: null, cancelRequest: null, lines: [{ productId: 2, quantity: 2 }, { productId: 1, quantity: 3 }] },
      { id: B, status: 'rejected', reason: 'out_of_stock', cancelRequest: null, lines: [{ productId: 2, quantity: 9 }] },
      { id: C, status: 'cancelled', reason: null, cancelRequest: R1, lines: [{ productId: 1, quantity: 1 }] },
    ]);
    expect(reading.inventory).toEqual([
      { productId: 1, quantity: 7, version: 2 },
      { productId: 2, quantity: 7, version: 2 },
    ]);
    expect(reading.restocks).toEqual([{ restockId: S1, productId: 2, quantity: 4 }]);
    expect(reading.inventoryUpdates).toEqual(updates);
    expect(reading.confirmed).toEqual(confirmed);
    expect(reading.rejected).toEqual(rejected);
    expect(reading.cancelled).toEqual(cancelled);
    expect(reading.restocked).toEqual(restocked);
    expect(reading.undecodable).toEqual([
      expect.stringMatching(new RegExp(`^${topics.inventoryTopic}\\[0\\]@4 is not an InventoryUpdated: unsupported schemaVersion 4`)),
      expect.stringMatching(new RegExp(`^${topics.ordersConfirmedTopic}\\[0\\]@2 is not an OrderConfirmed: record value is not valid JSON`)),
    ]);

    const run = { initialStock: new Map([[1, 10], [2, 5]]), restocksSent: [{ restockId: S1, productId: 2, quantity: 4 }], cancellationsSent: [{ requestId: R1, orderId: C }], deadLetteredRestockIds: new Set<string>() };
    expect(findOrderFlowViolations({ ...run, ...reading })).toEqual([]);
  });
});

function published<E extends AnyEvent>(event: E, key: string): Published<E> {
  return { key, value: encodeEvent(event).toString('utf8'), event };
}
