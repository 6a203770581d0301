/**
 * Well-formed records that must not move stock, and hand edits that must be seen, on the real
 * broker and PostgreSQL with the processor and relay as separate processes:
 * - a record whose key disagrees with its lead product, an OrderCreated for an order that is not
 *   stored (twice), one that contradicts its stored order, and a poison record whose key holds
 *   a NUL byte each become a dead letter; the partitions keep flowing and stock is unchanged
 *   by them;
 * - a product restocked by hand and a product inserted by hand while the processor runs are
 *   picked up at their next batch: orders for them are confirmed afterwards, nothing halts,
 *   and their InventoryUpdated versions have no gap.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { partitionForKey } from '../../../kafka/murmur2.ts';
import type { KafkaProducer, OutgoingMessage } from '../../../kafka/port.ts';
import { decodeInventoryUpdated, encodeEvent, eventHeaders, orderCreated, orderKey } from '../../../processors/events.ts';
import { DLQ_HEADERS } from '../../../sinks/dead-letter.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { selectRows } from '../../../state/sql.ts';
import { waitFor } from '../../support/kafka.ts';
import {
  createPipelineFixture,
  findOrderFlowViolations,
  orderRecord,
  type PipelineFixture,
  type RoleProcess,
  readTopic,
  storeOrders,
  type TestOrder,
  takeSnapshot,
  waitUntilCaughtUp,
} from '../../support/pipeline.ts';

const PARTITIONS = 3;
const PRODUCTS = 12;
const STOCK = 1000;

const partitionOf = (productId: number) => partitionForKey(String(productId), PARTITIONS);

/** An OrderCreated for `order` as given, keyed `key` (by default its own lead product). */
function rawOrder(topic: string, order: TestOrder, key = orderKey(order)): OutgoingMessage {
  const event = orderCreated({ ...order, customerId: 'customer-test' }, Date.now());
  return { topic, key, value: encodeEvent(event), headers: eventHeaders(event) };
}

async function statusesOf(fixture: PipelineFixture): Promise<Map<string, string>> {
  const rows = await selectRows<{ id: string; status: string; reason: string | null }>(fixture.db.sequelize, 'SELECT id, status, reason FROM orders');
  return new Map(rows.map((row) => [row.id, row.reason ? `${row.status}:${row.reason}` : row.status]));
}

function expectNoHalt(processor: RoleProcess): void {
  expect(processor.running).toBe(true);
  expect(processor.logged(/partition stopped|partition-failed/)).toEqual([]);
}

describe('records that must not move stock', () => {
  let fixture: PipelineFixture;
  let producer: KafkaProducer;

  beforeAll(async () => {
    fixture = await createPipelineFixture('eo-faults', { partitions: PARTITIONS });
    producer = await fixture.kafka.producer();
    await seed(fixture.db.sequelize, { products: PRODUCTS, stock: STOCK });
  });

  afterAll(async () => {
    await producer?.close();
    await fixture?.cleanup();
  });

  it('dead-letters a key mismatch, unstored and contradicting orders and a NUL-keyed poison record; the partitions keep flowing', () =>
    fixture.diagnose(
      (async () => {
        const { ordersTopic, dlqTopic } = fixture.names;
        const processor = fixture.spawnRole('processor');
        const relay = fixture.spawnRole('relay');

        const ids = Array.from({ length: PRODUCTS }, (_, index) => index + 1);
        const productA = 1;
        const productB = ids.find((id) => partitionOf(id) !== partitionOf(productA))!;
        const productC = ids.find((id) => id !== productB && partitionOf(id) === partitionOf(productB))!;
        let seq = 1;
        const [misKeyed] = await storeOrders(fixture, [{ lines: [{ productId: productA, quantity: 1 }] }], seq++);
        const unstored: TestOrder = { orderId: randomUUID(), lines: [{ productId: productC, quantity: 3 }] };
        const [contradicted] = await storeOrders(fixture, [{ lines: [{ productId: productC, quantity: 2 }] }], seq++);
        const after = await storeOrders(fixture, [{ lines: [{ productId: productB, quantity: 1 }] }, { lines: [{ productId: productC, quantity: 1 }] }], seq);
        const nulKey = `${productB}\u0000tail`;

        await producer.send([
          // Keyed by B, so it lands in B's partition, but it is an order for A.
          rawOrder(ordersTopic, misKeyed!, String(productB)),
          rawOrder(ordersTopic, unstored),
          rawOrder(ordersTopic, unstored),
          rawOrder(ordersTopic, { ...contradicted!, lines: [{ productId: productC, quantity: 5 }] }),
          { topic: ordersTopic, partition: partitionOf(productB), key: nulKey, value: Buffer.from('not json', 'utf8'), headers: { 'test-poison': 'nul-key' } },
          ...after.map((order) => orderRecord(ordersTopic, order)),
          // The true copies: applied now, exactly once.
          orderRecord(ordersTopic, misKeyed!),
          orderRecord(ordersTopic, contradicted!),
        ]);
        await waitUntilCaughtUp(fixture, 60_000);

        const letters = await readTopic(fixture, dlqTopic);
        const classes = letters.map((letter) => letter.headers[DLQ_HEADERS.errorClass]).sort();
        expect(classes).toEqual(['DecodeError', 'KeyMismatchError', 'OrderMismatchError', 'OrderNotStoredError', 'OrderNotStoredError']);
        const byClass = (errorClass: string) => letters.filter((letter) => letter.headers[DLQ_HEADERS.errorClass] === errorClass);
        expect(byClass('KeyMismatchError')[0]!.headers).toMatchObject({
          [DLQ_HEADERS.partition]: String(partitionOf(productB)),
          [DLQ_HEADERS.message]: expect.stringContaining(`record key "${productB}" disagrees with its value, which source "orders-source" keys as "${productA}"`),
        });
        expect(byClass('OrderNotStoredError').map((letter) => letter.headers[DLQ_HEADERS.message])).toEqual([
          expect.stringContaining(`order ${unstored.orderId} is not stored`),
          expect.stringContaining(`order ${unstored.orderId} is not stored`),
        ]);
        expect(byClass('OrderMismatchError')[0]!.headers[DLQ_HEADERS.message]).toMatch(/is stored with lines 2x\d+, but the record says 5x\d+/);
        // PostgreSQL text cannot hold U+0000: the dead letter keeps the exact key bytes in a header instead.
        const nul = byClass('DecodeError')[0]!;
        expect(nul.headers[DLQ_HEADERS.keyBase64]).toBe(Buffer.from(nulKey, 'utf8').toString('base64'));
        expect(nul.value?.toString('utf8')).toBe('not json');

        const statuses = await statusesOf(fixture);
        expect([misKeyed!, contradicted!, ...after].map((order) => statuses.get(order.orderId))).toEqual(['confirmed', 'confirmed', 'confirmed', 'confirmed']);
        expect(statuses.has(unstored.orderId)).toBe(false);
        const snapshot = await takeSnapshot(fixture, new Map(ids.map((id) => [id, STOCK])));
        expect(findOrderFlowViolations(snapshot)).toEqual([]);
        const stock = new Map(snapshot.inventory.map((row) => [row.productId, row.quantity]));
        // C: the later order (1) and the true copy (2); neither the unstored order twice (3+3) nor the contradicting copy (5).
        expect([stock.get(productA), stock.get(productB), stock.get(productC)]).toEqual([STOCK - 1, STOCK - 1, STOCK - 3]);

        expectNoHalt(processor);
        for (const role of [processor, relay]) expect((await role.interrupt()).code).toBe(0);
      })(),
    ), 120_000);
});

describe('hand edits of the catalogue while the processor runs', () => {
  let fixture: PipelineFixture;
  let producer: KafkaProducer;

  beforeAll(async () => {
    fixture = await createPipelineFixture('eo-edits', { partitions: PARTITIONS });
    producer = await fixture.kafka.producer();
    await seed(fixture.db.sequelize, { products: 4, stock: 10 });
  });

  afterAll(async () => {
    await producer?.close();
    await fixture?.cleanup();
  });

  it('picks up a restock and a new product at their next batch: orders for them are confirmed, nothing halts, versions have no gap', () =>
    fixture.diagnose(
      (async () => {
        const { ordersTopic } = fixture.names;
        const RESTOCKED = 2;
        const ADDED = 500;
        await fixture.db.sequelize.query(`UPDATE inventory SET quantity = 0 WHERE product_id = ${RESTOCKED}`);
        const processor = fixture.spawnRole('processor');
        const relay = fixture.spawnRole('relay');
        let seq = 1;
        const publish = async (productId: number, count: number) => {
          const orders = await storeOrders(fixture, Array.from({ length: count }, () => ({ lines: [{ productId, quantity: 1 }] })), seq);
          seq += count;
          await producer.send(orders.map((order) => orderRecord(ordersTopic, order)));
          return orders;
        };
        const decided = (orders: TestOrder[]) =>
          waitFor(
            async () => {
              const statuses = await statusesOf(fixture);
              const all = orders.map((order) => statuses.get(order.orderId));
              return all.every((status) => status !== 'pending') ? all : undefined;
            },
            { timeoutMs: 60_000, message: 'orders decided' },
          );

        // The processor caches both: product 2 with no stock, product 500 unknown.
        expect(await decided(await publish(RESTOCKED, 1))).toEqual(['rejected:out_of_stock']);
        expect(await decided(await publish(ADDED, 1))).toEqual(['rejected:unknown_product']);

        // The operator restocks one and adds the other, with plain SQL.
        await fixture.db.sequelize.query(`UPDATE inventory SET quantity = 3 WHERE product_id = ${RESTOCKED}`);
        await fixture.db.sequelize.query(`INSERT INTO products (id, name, price) VALUES (${ADDED}, 'Added by hand', 9.99)`);
        // The product's inventory row came with it (0 units, migration 0007): the operator stocks it.
        await fixture.db.sequelize.query(`UPDATE inventory SET quantity = 2 WHERE product_id = ${ADDED}`);

        expect(await decided(await publish(RESTOCKED, 4))).toEqual(['confirmed', 'confirmed', 'confirmed', 'rejected:out_of_stock']);
        expect(await decided(await publish(ADDED, 3))).toEqual(['confirmed', 'confirmed', 'rejected:out_of_stock']);
        await waitUntilCaughtUp(fixture, 60_000);

        const inventory = await selectRows<{ product_id: number; quantity: number; version: string }>(
          fixture.db.sequelize,
          `SELECT product_id, quantity, version FROM inventory WHERE product_id IN (${RESTOCKED}, ${ADDED}) ORDER BY product_id`,
        );
        const events = (await readTopic(fixture, fixture.names.inventoryTopic)).map((record) => decodeInventoryUpdated(record.value).payload);
        for (const row of inventory) {
          const mine = events.filter((event) => event.productId === row.product_id).sort((a, b) => a.version - b.version);
          const versions = [...new Set(mine.map((event) => event.version))];
          expect({ product: row.product_id, versions }).toEqual({ product: row.product_id, versions: versions.map((_, index) => index + 1) });
          expect(Number(row.version)).toBe(versions.length);
          // The last event tells the stock the database holds.
          expect(mine.at(-1)!.quantity).toBe(row.quantity);
        }
        expect(inventory.map((row) => [row.product_id, row.quantity])).toEqual([
          [RESTOCKED, 0],
          [ADDED, 0],
        ]);
        expect(processor.logged('state changed in the database since it was cached; reloading it and running the batch again').length).toBeGreaterThan(0);

        expectNoHalt(processor);
        for (const role of [processor, relay]) expect((await role.interrupt()).code).toBe(0);
      })(),
    ), 120_000);
});
