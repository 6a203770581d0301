/**
 * The order flow's topology run by the TopologyTestDriver: the real execution path (decode,
 * prefetch, micro-batches, repartitions through internal topics, commit) with no broker and no
 * database. Orders, restocks and cancellations go in; outcome events and stock come out.
 */
import { describe, expect, it } from '@jest/globals';
import { cancelOrder, restockInventory } from '../../../processors/commands.ts';
import { type InventoryUpdated, type OrderCreated, orderCreated, orderKey } from '../../../processors/events.ts';
import type { ProductStock } from '../../../processors/inventory.ts';
import type { OrderProgress } from '../../../processors/order-flow.ts';
import type { InventoryRestocked, OrderCancelled, OrderConfirmed, OrderRejected } from '../../../processors/outcome-events.ts';
import { buildReferenceTopology, memoryStores } from '../../../processors/reference-pipeline.ts';
import { TopologyTestDriver } from '../../../topology/testing/test-driver.ts';
import { DRIVER_TOPICS as TOPICS } from '../../support/driver-topics.ts';


const KEYBOARD = 1;
const MONITOR_STAND = 3;
const MOUSE = 4;
const UNKNOWN = 99;

let sequence = 0;
const uuid = (n: number, prefix = '01928f4e-5b6a-7c3d-8e9f-') => `${prefix}${n.toString(16).padStart(12, '0')}`;

function order(...lines: Array<[productId: number, quantity: number]>): OrderCreated {
  sequence++;
  return orderCreated({ orderId: uuid(sequence), customerId: `customer-${sequence}`, lines: lines.map(([productId, quantity]) => ({ productId, quantity })) }, 0);
}

function driver(stock: Record<number, number>, options: { partitions?: number; batchMaxRecords?: number } = {}) {
  const topology = buildReferenceTopology({ applicationId: 'shop', topics: TOPICS, stores: memoryStores() });
  const inventory = Object.entries(stock).map(([productId, quantity]): [number, ProductStock] => [Number(productId), { quantity, version: 0 }]);
  return new TopologyTestDriver(topology, { partitions: options.partitions ?? 1, batchMaxRecords: options.batchMaxRecords ?? 1, initialState: { inventory } });
}

/** As the order source does: stores the order (its row and its lines), then publishes it keyed by its lead product. */
async function place(test: TopologyTestDriver, event: OrderCreated) {
  const { orderId, lines } = event.payload;
  if (!test.getStateStore('order-status').has(orderId)) {
    test.writeStore('order-status', orderId, { status: 'pending' });
    test.writeStore('order-contents', orderId, { lines });
  }
  await test.pipeInput(TOPICS.orders, orderKey(event.payload), event);
}

async function restock(test: TopologyTestDriver, productId: number, quantity: number, restockId = uuid(++sequence, '0190aaaa-0000-7000-8000-')) {
  await test.pipeInput(TOPICS.restockCommands, String(productId), restockInventory({ restockId, productId, quantity, requestedBy: 'test' }, 0));
  return restockId;
}

async function cancel(test: TopologyTestDriver, orderId: string, requestId = uuid(++sequence, '0190cccc-0000-7000-8000-')) {
  await test.pipeInput(TOPICS.cancelCommands, orderId, cancelOrder({ requestId, orderId, requestedBy: 'test' }, 0));
  return requestId;
}

const stockOf = (test: TopologyTestDriver, productId: number) => test.getStateStore<number, ProductStock>('inventory').get(productId)?.quantity;
const statusOf = (test: TopologyTestDriver, event: OrderCreated) => test.getStateStore<string, OrderProgress>('order-status').get(event.payload.orderId)?.status;
const values = <T>(test: TopologyTestDriver, topic: string) => test.readOutput<T>(topic).map((record) => record.value);

describe('the order flow through the test driver', () => {
  it('decides a one-line order where its product lives: confirmed while stock lasts, then rejected', async () => {
    const test = driver({ [MOUSE]: 2 });
    const first = order([MOUSE, 2]);
    const second = order([MOUSE, 1]);
    await place(test, first);
    await place(test, second);
    expect([statusOf(test, first), statusOf(test, second)]).toEqual(['confirmed', 'rejected']);
    expect(values<OrderConfirmed>(test, TOPICS.ordersConfirmed).map((event) => [event.eventId, event.payload.lines])).toEqual([
      [`order-confirmed:${first.payload.orderId}`, [{ productId: MOUSE, quantity: 2 }]],
    ]);
    expect(values<OrderRejected>(test, TOPICS.ordersRejected).map((event) => event.payload.lines)).toEqual([[{ productId: MOUSE, quantity: 1, outcome: 'refused', reason: 'out_of_stock' }]]);
    expect(stockOf(test, MOUSE)).toBe(0);
    expect(values<InventoryUpdated>(test, TOPICS.inventoryUpdated).map((event) => [event.payload.quantity, event.payload.delta, event.payload.version])).toEqual([
      [0, -2, 1],
      [0, 0, 2],
    ]);
  });

  it('confirms a multi-line order once every line is reserved at its product', async () => {
    const test = driver({ [KEYBOARD]: 5, [MONITOR_STAND]: 1, [MOUSE]: 3 }, { partitions: 3 });
    const event = order([KEYBOARD, 2], [MONITOR_STAND, 1], [MOUSE, 3]);
    await place(test, event);
    expect(statusOf(test, event)).toBe('confirmed');
    expect([stockOf(test, KEYBOARD), stockOf(test, MONITOR_STAND), stockOf(test, MOUSE)]).toEqual([3, 0, 0]);
    expect(values<OrderConfirmed>(test, TOPICS.ordersConfirmed).map((e) => e.payload.lines.length)).toEqual([3]);
    expect(values(test, TOPICS.ordersRejected)).toEqual([]);
  });

  it('rejects a multi-line order with a refused line, names each line, and puts the reserved stock back', async () => {
    const test = driver({ [KEYBOARD]: 5, [MONITOR_STAND]: 0 }, { partitions: 2 });
    const event = order([KEYBOARD, 2], [MONITOR_STAND, 1], [UNKNOWN, 1]);
    await place(test, event);
    expect(statusOf(test, event)).toBe('rejected');
    const [rejected] = values<OrderRejected>(test, TOPICS.ordersRejected);
    expect(new Map(rejected!.payload.lines.map((line) => [line.productId, line.outcome === 'refused' ? line.reason : 'reserved']))).toEqual(
      new Map<number, string>([
        [KEYBOARD, 'reserved'],
        [MONITOR_STAND, 'out_of_stock'],
        [UNKNOWN, 'unknown_product'],
      ]),
    );
    expect(stockOf(test, KEYBOARD)).toBe(5);
    expect(values(test, TOPICS.ordersConfirmed)).toEqual([]);
  });

  it('keeps a one-line order to the old rule: accepted if and only if the stock suffices at its turn', async () => {
    const test = driver({ [MONITOR_STAND]: 1 });
    const [a, b] = [order([MONITOR_STAND, 1]), order([MONITOR_STAND, 1])];
    await place(test, a);
    await restock(test, MONITOR_STAND, 1);
    await place(test, b);
    expect([statusOf(test, a), statusOf(test, b)]).toEqual(['confirmed', 'confirmed']);
  });

  it('applies a restock once per id and publishes InventoryRestocked', async () => {
    const test = driver({ [MOUSE]: 1 });
    const id = await restock(test, MOUSE, 10);
    await restock(test, MOUSE, 10, id);
    expect(stockOf(test, MOUSE)).toBe(11);
    expect(values<InventoryRestocked>(test, TOPICS.inventoryRestocked).map((event) => [event.eventId, event.payload.stockAfter])).toEqual([[`inventory-restocked:${id}`, 11]]);
    expect(values<InventoryUpdated>(test, TOPICS.inventoryUpdated).map((event) => [event.payload.delta, event.payload.restocked])).toEqual([[10, 1]]);
  });

  it('dead-letters a restock of a product without stock row, applying nothing', async () => {
    const test = driver({ [MOUSE]: 1 });
    await restock(test, UNKNOWN, 5);
    expect(test.deadLetters().map((letter) => [letter.errorClass, letter.node])).toEqual([['StockCommandRefusedError', 'apply-product-commands']]);
    expect(values(test, TOPICS.inventoryRestocked)).toEqual([]);
  });

  it('cancels a confirmed order once, releasing its stock; a second request says already cancelled', async () => {
    const test = driver({ [KEYBOARD]: 3, [MOUSE]: 3 }, { partitions: 2 });
    const event = order([KEYBOARD, 1], [MOUSE, 2]);
    await place(test, event);
    expect([stockOf(test, KEYBOARD), stockOf(test, MOUSE)]).toEqual([2, 1]);
    const first = await cancel(test, event.payload.orderId);
    const second = await cancel(test, event.payload.orderId);
    expect(statusOf(test, event)).toBe('cancelled');
    expect([stockOf(test, KEYBOARD), stockOf(test, MOUSE)]).toEqual([3, 3]);
    expect(values<OrderCancelled>(test, TOPICS.ordersCancelled).map((e) => [e.eventId, e.payload.result, e.payload.releasedLines.length])).toEqual([
      [`order-cancelled:${event.payload.orderId}:${first}`, 'cancelled', 2],
      [`order-cancelled:${event.payload.orderId}:${second}`, 'already_cancelled', 0],
    ]);
  });

  it('answers a cancellation of an unknown or a rejected order without changing anything', async () => {
    const test = driver({ [MOUSE]: 0 });
    const rejected = order([MOUSE, 1]);
    await place(test, rejected);
    await cancel(test, rejected.payload.orderId);
    await cancel(test, uuid(999_999));
    expect(values<OrderCancelled>(test, TOPICS.ordersCancelled).map((e) => e.payload.result)).toEqual(['order_rejected', 'unknown_order']);
    expect(statusOf(test, rejected)).toBe('rejected');
  });

  it('cancels an order whose cancellation arrives before it, without ever taking its stock', async () => {
    const test = driver({ [MOUSE]: 5 });
    const event = order([MOUSE, 2]);
    test.writeStore('order-status', event.payload.orderId, { status: 'pending' });
    test.writeStore('order-contents', event.payload.orderId, { lines: event.payload.lines });
    await cancel(test, event.payload.orderId);
    await place(test, event);
    expect(statusOf(test, event)).toBe('cancelled');
    expect(stockOf(test, MOUSE)).toBe(5);
    expect(values(test, TOPICS.ordersConfirmed)).toEqual([]);
    expect(values<OrderCancelled>(test, TOPICS.ordersCancelled).map((e) => e.payload.result)).toEqual(['cancelled']);
  });

  it('applies a copy of an OrderCreated once', async () => {
    const test = driver({ [KEYBOARD]: 5, [MOUSE]: 5 }, { partitions: 2 });
    const event = order([KEYBOARD, 1], [MOUSE, 1]);
    await place(test, event);
    await place(test, event);
    expect([stockOf(test, KEYBOARD), stockOf(test, MOUSE)]).toEqual([4, 4]);
    expect(values(test, TOPICS.ordersConfirmed)).toHaveLength(1);
  });

  it('dead-letters an OrderCreated that is not stored or contradicts its stored lines', async () => {
    const test = driver({ [MOUSE]: 5 });
    const unstored = order([MOUSE, 1]);
    await test.pipeInput(TOPICS.orders, orderKey(unstored.payload), unstored);
    const stored = order([MOUSE, 1]);
    test.writeStore('order-status', stored.payload.orderId, { status: 'pending' });
    test.writeStore('order-contents', stored.payload.orderId, { lines: [{ productId: MOUSE, quantity: 3 }] });
    await test.pipeInput(TOPICS.orders, orderKey(stored.payload), stored);
    expect(test.deadLetters().map((letter) => letter.errorClass)).toEqual(['OrderNotStoredError', 'OrderMismatchError']);
    expect(test.deadLetters()[1]!.message).toMatch(/stored with lines 3x4, but the record says 1x4/);
    expect(stockOf(test, MOUSE)).toBe(5);
  });
});
