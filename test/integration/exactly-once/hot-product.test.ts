/**
 * One hot product, far more demand than stock: exactly the first Q orders (in offset order)
 * are confirmed, every later one is rejected out_of_stock, and the stock ends at 0.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { KafkaProducer } from '../../../kafka/port.ts';
import { decodeOrderCreated } from '../../../processors/events.ts';
import { seed } from '../../../state/commerce/seed.ts';
import { selectRows } from '../../../state/sql.ts';
import {
  createPipelineFixture,
  findOrderFlowViolations,
  type PipelineFixture,
  publishOrders,
  readTopic,
  storeOrders,
  takeSnapshot,
  waitUntilCaughtUp,
} from '../../support/pipeline.ts';

const STOCK = 25;
const ORDERS = 500;
const SENDS = 5;
const HOT_PRODUCT = 1;

describe('a hot product with far more orders than stock', () => {
  let fixture: PipelineFixture;
  let producer: KafkaProducer;

  beforeAll(async () => {
    fixture = await createPipelineFixture('eo-hot', { partitions: 3 });
    producer = await fixture.kafka.producer();
    await seed(fixture.db.sequelize, { products: 1, stock: STOCK });
  });

  afterAll(async () => {
    await producer?.close();
    await fixture?.cleanup();
  });

  it(`confirms exactly the first ${STOCK} of ${ORDERS} orders and rejects the rest out_of_stock`, () =>
    fixture.diagnose(
      (async () => {
        const processor = fixture.spawnRole('processor');
        const relay = fixture.spawnRole('relay');
        await processor.waitForLog('partition assigned');
        // Several sends while the processor runs, so the orders arrive over several micro-batches.
        const perSend = ORDERS / SENDS;
        for (let send = 0; send < SENDS; send++) {
          const orders = await storeOrders(
            fixture,
            Array.from({ length: perSend }, () => ({ lines: [{ productId: HOT_PRODUCT, quantity: 1 }] })),
            send * perSend + 1,
          );
          await publishOrders(producer, fixture.names.ordersTopic, orders);
        }
        await waitUntilCaughtUp(fixture, 60_000);

        const inOffsetOrder = (await readTopic(fixture, fixture.names.ordersTopic))
          .sort((a, b) => (a.offset < b.offset ? -1 : 1))
          .map((record) => decodeOrderCreated(record.value).payload.orderId);
        expect(inOffsetOrder).toHaveLength(ORDERS);
        const rows = await selectRows<{ id: string; status: string; reason: string | null }>(fixture.db.sequelize, 'SELECT id, status, reason FROM orders');
        const outcome = new Map(rows.map((row) => [row.id, row.reason ? `${row.status}:${row.reason}` : row.status]));
        const expected = inOffsetOrder.map((_, index) => (index < STOCK ? 'confirmed' : 'rejected:out_of_stock'));
        expect(inOffsetOrder.map((id) => outcome.get(id))).toEqual(expected);

        const snapshot = await takeSnapshot(fixture, new Map([[HOT_PRODUCT, STOCK]]));
        expect(findOrderFlowViolations(snapshot)).toEqual([]);
        expect(snapshot.inventory).toEqual([{ productId: HOT_PRODUCT, quantity: 0, version: expect.any(Number) }]);
        // Which orders were confirmed is checked against the table above; the events count them.
        const counted = (field: 'reserved' | 'refused') => snapshot.inventoryUpdates.reduce((sum, published) => sum + published.event[field], 0);
        expect({ confirmed: counted('reserved'), rejected: counted('refused') }).toEqual({ confirmed: STOCK, rejected: ORDERS - STOCK });

        for (const role of [processor, relay]) expect((await role.interrupt()).code).toBe(0);
      })(),
    ), 120_000);
});
