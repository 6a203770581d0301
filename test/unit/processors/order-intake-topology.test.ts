/**
 * One-line orders at the order intake of the reference topology, run by the TopologyTestDriver:
 * the real execution path (decode, prefetch, micro-batch, flush, commit) with no broker and no
 * database. Multi-line orders, restocks and cancellations: order-flow-topology.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import type { OrderCreated } from '../../../processors/events.ts';
import { type InventoryUpdated, orderCreated, orderKey } from '../../../processors/events.ts';
import type { ProductStock } from '../../../processors/inventory.ts';
import type { OrderProgress } from '../../../processors/order-flow.ts';
import type { OrderContents } from '../../../processors/order-intake.ts';
import { buildReferenceTopology, memoryStores } from '../../../processors/reference-pipeline.ts';
import { TopologyTestDriver } from '../../../topology/testing/test-driver.ts';
import { DRIVER_TOPICS as TOPICS } from '../../support/driver-topics.ts';

const WIRELESS_KEYBOARD = 1;
const MONITOR_STAND = 3;
const BLUETOOTH_MOUSE = 4;
// The original project's catalogue: four products, stock for two of them.
const CATALOGUE: Array<[number, ProductStock]> = [
  [1, { quantity: 0, version: 0 }],
  [2, { quantity: 0, version: 0 }],
  [MONITOR_STAND, { quantity: 1, version: 0 }],
  [BLUETOOTH_MOUSE, { quantity: 2, version: 0 }],
];

let sequence = 0;
function order(productId: number, quantity = 1) {
  sequence++;
  return orderCreated({ orderId: `01928f4e-5b6a-7c3d-8e9f-${sequence.toString(16).padStart(12, '0')}`, customerId: `customer-${sequence}`, lines: [{ productId, quantity }] }, 0);
}

function driver(options: { batchMaxRecords?: number; commitIntervalMs?: number } = {}) {
  const topology = buildReferenceTopology({ applicationId: 'shop', topics: TOPICS, stores: memoryStores() });
  return new TopologyTestDriver(topology, { ...options, initialState: { inventory: CATALOGUE } });
}

const pendingOrders = (events: OrderCreated[]): Array<[string, OrderProgress]> => events.map((event) => [event.payload.orderId, { status: 'pending' }]);
const orderContents = (events: OrderCreated[]): Array<[string, OrderContents]> => events.map((event) => [event.payload.orderId, { lines: event.payload.lines }]);

/** As the order source does: the order's row, pending, and its lines. */
function store(test: TopologyTestDriver, event: OrderCreated) {
  test.writeStore('order-status', ...pendingOrders([event])[0]!);
  test.writeStore('order-contents', ...orderContents([event])[0]!);
}

/** As the order source does: stores the order (unless it is stored already), then publishes it keyed by its lead product. */
async function publish(test: TopologyTestDriver, event: OrderCreated, key = orderKey(event.payload)) {
  if (!test.getStateStore('order-status').has(event.payload.orderId)) store(test, event);
  await test.pipeInput('orders', key, event, { partition: 0 });
}

describe('reference topology through the test driver', () => {
  it('decides orders in offset order against stock and emits InventoryUpdated per product per batch', async () => {
    const test = driver();
    const orders = [order(MONITOR_STAND), order(MONITOR_STAND), order(BLUETOOTH_MOUSE, 2), order(WIRELESS_KEYBOARD), order(99)];
    for (const event of orders) await publish(test, event);

    const updates = test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload);
    expect(updates.map((u) => [u.productId, u.quantity, u.delta, u.version, u.reserved, u.refused])).toEqual([
      [MONITOR_STAND, 0, -1, 1, 1, 0],
      [MONITOR_STAND, 0, 0, 2, 0, 1],
      [BLUETOOTH_MOUSE, 0, -2, 1, 1, 0],
      [WIRELESS_KEYBOARD, 0, 0, 1, 0, 1],
    ]);
    const decisions = test.getStateStore<string, { status: string; reason?: string }>('order-status');
    expect(orders.map((o) => decisions.get(o.payload.orderId))).toMatchObject([
      { status: 'confirmed' },
      { status: 'rejected', reason: 'out_of_stock' },
      { status: 'confirmed' },
      { status: 'rejected', reason: 'out_of_stock' },
      { status: 'rejected', reason: 'unknown_product' },
    ]);
    expect(test.getStateStore<number, ProductStock>('inventory').get(MONITOR_STAND)).toEqual({ quantity: 0, version: 2 });
  });

  it('sees an operator restock of a cached product: the commit finds it stale, and the batch runs again on the new stock', async () => {
    const test = driver();
    await publish(test, order(MONITOR_STAND));
    // The only unit is sold and cached as 0; then restocked by hand, the version left as it was.
    test.writeStore('inventory', MONITOR_STAND, { quantity: 5, version: 1 });
    const next = order(MONITOR_STAND, 2);
    await publish(test, next);
    expect(test.getStateStore('order-status').get(next.payload.orderId)).toMatchObject({ status: 'confirmed' });
    expect(test.getStateStore<number, ProductStock>('inventory').get(MONITOR_STAND)).toEqual({ quantity: 3, version: 2 });
    expect(test.readOutput<InventoryUpdated>('inventory-updated').map((record) => [record.value.payload.quantity, record.value.payload.delta])).toEqual([
      [0, -1],
      [3, -2],
    ]);
  });

  it('closes a micro-batch by time: one InventoryUpdated for the whole batch', async () => {
    const test = driver({ batchMaxRecords: 100, commitIntervalMs: 50 });
    await publish(test, order(BLUETOOTH_MOUSE));
    await publish(test, order(BLUETOOTH_MOUSE));
    await publish(test, order(BLUETOOTH_MOUSE));
    expect(test.readOutput('inventory-updated')).toEqual([]);
    await test.advanceTime(50);
    const [update, ...rest] = test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload);
    expect(rest).toEqual([]);
    expect(update).toMatchObject({ productId: BLUETOOTH_MOUSE, quantity: 0, delta: -2, version: 1 });
    expect(update!.source).toEqual({ topic: 'orders', partition: 0, fromOffset: '0', toOffset: '2' });
  });

  it('applies a duplicate OrderCreated once, even in a later batch', async () => {
    const test = driver();
    const event = order(BLUETOOTH_MOUSE);
    await publish(test, event);
    await publish(test, event);
    expect(test.getStateStore<number, ProductStock>('inventory').get(BLUETOOTH_MOUSE)).toEqual({ quantity: 1, version: 1 });
    expect(test.readOutput('inventory-updated')).toHaveLength(1);
  });

  it('commits one InventoryUpdated under 16 KB for a batch of 20,000 orders of one product, beside one outcome per order', async () => {
    const orders = 20_000;
    const topology = buildReferenceTopology({ applicationId: 'shop', topics: TOPICS, stores: memoryStores() });
    const test = new TopologyTestDriver(topology, { batchMaxRecords: orders, initialState: { inventory: [[BLUETOOTH_MOUSE, { quantity: orders, version: 0 }]] } });
    for (let i = 0; i < orders; i++) await publish(test, order(BLUETOOTH_MOUSE));
    const outputs = test.commits().flatMap((batch) => batch.outputs);
    const updates = outputs.filter((output) => output.topic === 'inventory-updated');
    expect(updates.map((output) => output.value.length < 16 * 1024)).toEqual([true]);
    expect(outputs.filter((output) => output.topic === 'orders-confirmed')).toHaveLength(orders);
    expect(test.readOutput<InventoryUpdated>('inventory-updated')[0]!.value.payload).toMatchObject({ reserved: orders, delta: -orders });
  });

  it('dead-letters orders whose ids or quantity the database cannot hold, naming the field', async () => {
    const test = driver();
    const raw = (patch: Record<string, unknown>, line: Record<string, unknown> = {}) => {
      const event = order(MONITOR_STAND);
      return Buffer.from(JSON.stringify({ ...event, payload: { ...event.payload, ...patch, lines: [{ ...event.payload.lines[0], ...line }] } }));
    };
    await test.pipeInput('orders', String(2 ** 31), raw({}, { productId: 2 ** 31 }), { partition: 0 });
    await test.pipeInput('orders', '3', raw({}, { quantity: 2 ** 31 }), { partition: 0 });
    await test.pipeInput('orders', '3', raw({ orderId: 'order-17' }), { partition: 0 });
    await publish(test, order(MONITOR_STAND));
    expect(test.deadLetters().map((letter) => [letter.offset, letter.errorClass, letter.message])).toEqual([
      [0n, 'SchemaError', expect.stringContaining('payload.lines[0].productId must be at most 2147483647')],
      [1n, 'SchemaError', expect.stringContaining('payload.lines[0].quantity must be at most 2147483647')],
      [2n, 'SchemaError', expect.stringContaining('payload.orderId must be a UUID')],
    ]);
    expect(test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload.reserved)).toEqual([1]);
    expect(test.committedOffset('orders', 0)).toBe(4n);
  });

  it('sends poison records to the dead-letter path and keeps the partition flowing', async () => {
    const test = driver();
    await test.pipeInput('orders', '3', Buffer.from('not json'), { partition: 0 });
    await test.pipeInput('orders', '3', Buffer.from(JSON.stringify({ ...order(MONITOR_STAND), schemaVersion: 99 })), { partition: 0 });
    await test.pipeInput('orders', '3', Buffer.from(JSON.stringify(order(MONITOR_STAND, 0))), { partition: 0 });
    await publish(test, order(MONITOR_STAND));
    expect(test.deadLetters().map((letter) => [letter.offset, letter.errorClass])).toEqual([
      [0n, 'DecodeError'],
      [1n, 'UnsupportedVersionError'],
      [2n, 'SchemaError'],
    ]);
    expect(test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload.reserved)).toEqual([1]);
    expect(test.committedOffset('orders', 0)).toBe(4n);
  });

  it('dead-letters a record whose key disagrees with its lead product, and processes the next one', async () => {
    const test = driver();
    const mismatched = order(BLUETOOTH_MOUSE);
    await publish(test, mismatched, String(MONITOR_STAND));
    await publish(test, order(BLUETOOTH_MOUSE));
    expect(test.deadLetters().map((letter) => [letter.offset, letter.errorClass, letter.node])).toEqual([[0n, 'KeyMismatchError', 'orders-source']]);
    expect(test.deadLetters()[0]!.message).toMatch(/record key "3" disagrees with its value, which source "orders-source" keys as "4"/);
    // Never applied: its order stays pending, only the second order moved stock.
    expect(test.getStateStore('order-status').get(mismatched.payload.orderId)).toMatchObject({ status: 'pending' });
    expect(test.getStateStore<number, ProductStock>('inventory').get(BLUETOOTH_MOUSE)).toEqual({ quantity: 1, version: 1 });
    expect(test.committedOffset('orders', 0)).toBe(2n);
  });

  it('dead-letters an OrderCreated whose order is not stored, every copy of it, without moving stock', async () => {
    const test = driver({ batchMaxRecords: 10 });
    const unstored = order(BLUETOOTH_MOUSE);
    await test.pipeInput('orders', '4', unstored, { partition: 0 });
    await test.pipeInput('orders', '4', unstored, { partition: 0 });
    await publish(test, order(BLUETOOTH_MOUSE));
    await test.flush();
    expect(test.deadLetters().map((letter) => [letter.offset, letter.errorClass, letter.node])).toEqual([
      [0n, 'OrderNotStoredError', 'order-intake'],
      [1n, 'OrderNotStoredError', 'order-intake'],
    ]);
    expect(test.deadLetters()[0]!.message).toMatch(new RegExp(`order ${unstored.payload.orderId} is not stored`));
    const updates = test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload);
    // Only the stored order was counted.
    expect(updates.map((u) => [u.quantity, u.delta, u.reserved, u.refused])).toEqual([[1, -1, 1, 0]]);
    expect(test.getStateStore('order-status').has(unstored.payload.orderId)).toBe(false);
  });

  it('dead-letters an OrderCreated that contradicts its stored order (other product or quantity)', async () => {
    const test = driver();
    const stored = order(BLUETOOTH_MOUSE, 1);
    store(test, stored);
    const otherQuantity = { ...stored, payload: { ...stored.payload, lines: [{ productId: BLUETOOTH_MOUSE, quantity: 2 }] } };
    const otherProduct = { ...stored, payload: { ...stored.payload, lines: [{ productId: MONITOR_STAND, quantity: 1 }] } };
    await test.pipeInput('orders', '4', otherQuantity, { partition: 0 });
    await test.pipeInput('orders', '3', otherProduct, { partition: 0 });
    expect(test.deadLetters().map((letter) => [letter.offset, letter.errorClass])).toEqual([
      [0n, 'OrderMismatchError'],
      [1n, 'OrderMismatchError'],
    ]);
    expect(test.deadLetters()[0]!.message).toMatch(/stored with lines 1x4, but the record says 2x4/);
    expect(test.readOutput('inventory-updated')).toEqual([]);
    expect(test.getStateStore('order-status').get(stored.payload.orderId)).toMatchObject({ status: 'pending' });
    // The true copy still applies afterwards.
    await publish(test, stored);
    expect(test.getStateStore('order-status').get(stored.payload.orderId)).toMatchObject({ status: 'confirmed' });
  });

  it('isolates the one record whose commit the database refuses; the rest of its batch commits', async () => {
    const orders = Array.from({ length: 7 }, () => order(BLUETOOTH_MOUSE, 1));
    const refused = orders[4]!.payload.orderId;
    const attempts: Array<[bigint, bigint]> = [];
    const topology = buildReferenceTopology({ applicationId: 'shop', topics: TOPICS, stores: memoryStores() });
    const test = new TopologyTestDriver(topology, {
      batchMaxRecords: 100,
      initialState: { inventory: [[BLUETOOTH_MOUSE, { quantity: 100, version: 0 }]], 'order-status': pendingOrders(orders), 'order-contents': orderContents(orders) },
      // Like a constraint the database checks at commit: any batch deciding that order fails.
      checkCommit: (batch) => {
        attempts.push([batch.firstOffset, batch.lastOffset]);
        if ((batch.storeChanges.get('order-status') ?? []).some(({ key: orderId }) => orderId === refused)) {
          throw Object.assign(new Error('new row for relation "orders" violates check constraint "test_refuses"'), { code: '23514' });
        }
      },
    });
    for (const event of orders) await test.pipeInput('orders', '4', event, { partition: 0 });
    await test.flush();
    await test.close();

    expect(test.deadLetters().map((letter) => [letter.offset, letter.node, letter.message])).toEqual([[4n, 'commit', expect.stringMatching(/test_refuses/)]]);
    // Halves, recursively, in offset order: 0..6 fails, 0..3 commits, 4..6 fails, 4..5 fails, 4 fails alone, 5 and 6 commit.
    expect(attempts).toEqual([
      [0n, 6n],
      [0n, 3n],
      [4n, 6n],
      [4n, 5n],
      [4n, 4n],
      [4n, 4n],
      [5n, 5n],
      [6n, 6n],
    ]);
    const decisions = test.getStateStore<string, { status: string }>('order-status');
    expect(orders.map((event) => decisions.get(event.payload.orderId)!.status)).toEqual(['confirmed', 'confirmed', 'confirmed', 'confirmed', 'pending', 'confirmed', 'confirmed']);
    // Run again from the committed state: versions follow on without a gap, stock counts only the six.
    const updates = test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload);
    expect(updates.map((u) => [u.version, u.quantity, u.delta])).toEqual([
      [1, 96, -4],
      [2, 95, -1],
      [3, 94, -1],
    ]);
    expect(test.getStateStore<number, ProductStock>('inventory').get(BLUETOOTH_MOUSE)).toEqual({ quantity: 94, version: 3 });
    expect(test.committedOffset('orders', 0)).toBe(7n);
  });
});

describe('one micro-batch of orders through the reference topology', () => {
  const KEYBOARD = 2;
  const UNKNOWN = 999;

  /** Publishes `orders` (each stored first, unless `decided` already holds it) and commits them as one batch. */
  async function decideOneBatch(stock: Array<[number, ProductStock]>, orders: OrderCreated[], decided: Array<[string, OrderProgress]> = []) {
    const topology = buildReferenceTopology({ applicationId: 'shop', topics: TOPICS, stores: memoryStores() });
    const test = new TopologyTestDriver(topology, { batchMaxRecords: 100, initialState: { inventory: stock, 'order-status': [...pendingOrders(orders), ...decided], 'order-contents': orderContents(orders) } });
    for (const event of orders) await test.pipeInput('orders', orderKey(event.payload), event, { partition: 0 });
    await test.flush();
    await test.close();
    const decisions = test.getStateStore<string, OrderProgress>('order-status');
    return {
      test,
      statusOf: (event: OrderCreated) => decisions.get(event.payload.orderId),
      updates: test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload),
    };
  }

  it('Monitor Stand with stock 1: of two orders of 1 the first is confirmed, the second out_of_stock, one new version', async () => {
    const [first, second] = [order(MONITOR_STAND), order(MONITOR_STAND)];
    const { test, statusOf, updates } = await decideOneBatch([[MONITOR_STAND, { quantity: 1, version: 4 }]], [first!, second!]);
    expect([statusOf(first!), statusOf(second!)]).toEqual([
      { status: 'confirmed', lineResults: [{ productId: MONITOR_STAND, quantity: 1, outcome: 'reserved' }] },
      { status: 'rejected', reason: 'out_of_stock', lineResults: [{ productId: MONITOR_STAND, quantity: 1, outcome: 'refused', reason: 'out_of_stock' }] },
    ]);
    expect(updates).toEqual([
      { productId: MONITOR_STAND, quantity: 0, delta: -1, version: 5, reserved: 1, refused: 1, released: 0, restocked: 0, source: { topic: 'orders', partition: 0, fromOffset: '0', toOffset: '1' } },
    ]);
    expect(test.getStateStore<number, ProductStock>('inventory').get(MONITOR_STAND)).toEqual({ quantity: 0, version: 5 });
  });

  it('rejects orders of an unknown product without an InventoryUpdated or an inventory row', async () => {
    const orders = [order(UNKNOWN, 1), order(UNKNOWN, 2)];
    const { test, statusOf, updates } = await decideOneBatch([], orders);
    expect(orders.map((event) => statusOf(event))).toMatchObject([
      { status: 'rejected', reason: 'unknown_product' },
      { status: 'rejected', reason: 'unknown_product' },
    ]);
    expect(updates).toEqual([]);
    expect(test.getStateStore('inventory').size).toBe(0);
  });

  it('rejects a quantity bigger than the stock but still confirms a later smaller one', async () => {
    const [big, small] = [order(KEYBOARD, 5), order(KEYBOARD, 3)];
    const { statusOf, updates } = await decideOneBatch([[KEYBOARD, { quantity: 3, version: 0 }]], [big!, small!]);
    expect([statusOf(big!)!.status, statusOf(small!)!.status]).toEqual(['rejected', 'confirmed']);
    expect(updates).toMatchObject([{ quantity: 0, version: 1, delta: -3, reserved: 1, refused: 1 }]);
  });

  it('gives a product whose orders were all rejected a new version with delta 0', async () => {
    const { test, updates } = await decideOneBatch([[KEYBOARD, { quantity: 0, version: 7 }]], [order(KEYBOARD)]);
    expect(updates).toMatchObject([{ quantity: 0, version: 8, delta: 0, reserved: 0, refused: 1 }]);
    expect(test.getStateStore<number, ProductStock>('inventory').get(KEYBOARD)).toEqual({ quantity: 0, version: 8 });
  });

  it('keeps products apart: one InventoryUpdated per product in order of first appearance, each with its own offset range', async () => {
    const orders = [order(MONITOR_STAND, 2), order(KEYBOARD), order(UNKNOWN), order(KEYBOARD), order(UNKNOWN)];
    const { statusOf, updates } = await decideOneBatch(
      [
        [MONITOR_STAND, { quantity: 2, version: 0 }],
        [KEYBOARD, { quantity: 1, version: 0 }],
      ],
      orders,
    );
    expect(updates.map((u) => [u.productId, u.delta, u.reserved, u.refused, u.source.fromOffset, u.source.toOffset])).toEqual([
      [MONITOR_STAND, -2, 1, 0, '0', '0'],
      [KEYBOARD, -1, 1, 1, '1', '3'],
    ]);
    expect(statusOf(orders[3]!)).toMatchObject({ status: 'rejected', reason: 'out_of_stock' });
  });

  it('skips an order seen earlier in the batch or decided in an earlier one', async () => {
    const [fresh, old] = [order(KEYBOARD), order(KEYBOARD, 4)];
    const { test, statusOf, updates } = await decideOneBatch([[KEYBOARD, { quantity: 10, version: 0 }]], [fresh!, fresh!, old!], [[old!.payload.orderId, { status: 'confirmed', lineResults: [{ productId: KEYBOARD, quantity: 4, outcome: 'reserved' }] }]]);
    expect(statusOf(fresh!)).toMatchObject({ status: 'confirmed' });
    expect(updates).toMatchObject([{ quantity: 9, version: 1, delta: -1, reserved: 1, refused: 0, source: { fromOffset: '0', toOffset: '0' } }]);
    expect(test.getStateStore<number, ProductStock>('inventory').get(KEYBOARD)).toEqual({ quantity: 9, version: 1 });
    expect(test.committedOffset('orders', 0)).toBe(3n);
  });

  it('does not mutate the stock it was given', async () => {
    const stock = { quantity: 5, version: 1 };
    const { test } = await decideOneBatch([[KEYBOARD, stock]], [order(KEYBOARD, 2)]);
    expect(stock).toEqual({ quantity: 5, version: 1 });
    expect(test.getStateStore<number, ProductStock>('inventory').get(KEYBOARD)).toEqual({ quantity: 3, version: 2 });
  });

  it('commits nothing for an empty batch', async () => {
    const { test, updates } = await decideOneBatch([[KEYBOARD, { quantity: 5, version: 0 }]], []);
    expect(updates).toEqual([]);
    expect(test.commits()).toEqual([]);
    expect(test.getStateStore<number, ProductStock>('inventory').get(KEYBOARD)).toEqual({ quantity: 5, version: 0 });
  });
});
