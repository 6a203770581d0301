/**
 * The inventory processor inside the reference topology, run by the TopologyTestDriver: the
 * real execution path (decode, prefetch, micro-batch, flush, commit) with no broker and no database.
 */
import { describe, expect, it } from '@jest/globals';
import { type InventoryUpdated, orderCreated } from '../../../core/events.ts';
import type { ProductStock } from '../../../processors/inventory.ts';
import { buildReferenceTopology, memoryStores } from '../../../topology/reference-pipeline.ts';
import { TopologyTestDriver } from '../../../topology/test-driver.ts';

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
  return orderCreated({ orderId: `01928f4e-5b6a-7c3d-8e9f-${sequence.toString(16).padStart(12, '0')}`, productId, quantity, customerId: `customer-${sequence}` }, 0);
}

function driver(options: { batchMaxRecords?: number; commitIntervalMs?: number } = {}) {
  const topology = buildReferenceTopology({ ordersTopic: 'orders', inventoryTopic: 'inventory-updated', stores: memoryStores() });
  return new TopologyTestDriver(topology, { ...options, initialState: { inventory: CATALOGUE } });
}

describe('reference topology through the test driver', () => {
  it('decides orders in offset order against stock and emits InventoryUpdated per product per batch', async () => {
    const test = driver();
    const orders = [order(MONITOR_STAND), order(MONITOR_STAND), order(BLUETOOTH_MOUSE, 2), order(WIRELESS_KEYBOARD), order(99)];
    for (const event of orders) await test.pipeInput('orders', String(event.payload.productId), event, { partition: 0 });

    const updates = test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload);
    expect(updates.map((u) => [u.productId, u.quantity, u.delta, u.version, u.ordersConfirmed, u.ordersRejected])).toEqual([
      [MONITOR_STAND, 0, -1, 1, 1, 0],
      [MONITOR_STAND, 0, 0, 2, 0, 1],
      [BLUETOOTH_MOUSE, 0, -2, 1, 1, 0],
      [WIRELESS_KEYBOARD, 0, 0, 1, 0, 1],
    ]);
    const decisions = test.getStateStore<string, { status: string; reason?: string }>('order-decisions');
    expect(orders.map((o) => decisions.get(o.payload.orderId))).toEqual([
      { status: 'confirmed' },
      { status: 'rejected', reason: 'out_of_stock' },
      { status: 'confirmed' },
      { status: 'rejected', reason: 'out_of_stock' },
      { status: 'rejected', reason: 'unknown_product' },
    ]);
    expect(test.getStateStore<number, ProductStock>('inventory').get(MONITOR_STAND)).toEqual({ quantity: 0, version: 2 });
  });

  it('closes a micro-batch by time: one InventoryUpdated for the whole batch', async () => {
    const test = driver({ batchMaxRecords: 100, commitIntervalMs: 50 });
    await test.pipeInput('orders', '4', order(BLUETOOTH_MOUSE), { partition: 0 });
    await test.pipeInput('orders', '4', order(BLUETOOTH_MOUSE), { partition: 0 });
    await test.pipeInput('orders', '4', order(BLUETOOTH_MOUSE), { partition: 0 });
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
    await test.pipeInput('orders', '4', event, { partition: 0 });
    await test.pipeInput('orders', '4', event, { partition: 0 });
    expect(test.getStateStore<number, ProductStock>('inventory').get(BLUETOOTH_MOUSE)).toEqual({ quantity: 1, version: 1 });
    expect(test.readOutput('inventory-updated')).toHaveLength(1);
  });

  it('commits one InventoryUpdated under 16 KB for a batch of 20,000 orders of one product', async () => {
    const orders = 20_000;
    const topology = buildReferenceTopology({ ordersTopic: 'orders', inventoryTopic: 'inventory-updated', stores: memoryStores() });
    const test = new TopologyTestDriver(topology, { batchMaxRecords: orders, initialState: { inventory: [[BLUETOOTH_MOUSE, { quantity: orders, version: 0 }]] } });
    for (let i = 0; i < orders; i++) await test.pipeInput('orders', '4', order(BLUETOOTH_MOUSE), { partition: 0 });
    const outputs = test.commits().flatMap((batch) => batch.outputs);
    expect(outputs.map((output) => [output.topic, output.value.length < 16 * 1024])).toEqual([['inventory-updated', true]]);
    expect(test.readOutput<InventoryUpdated>('inventory-updated')[0]!.value.payload).toMatchObject({ ordersConfirmed: orders, delta: -orders });
  });

  it('dead-letters orders whose ids or quantity the database cannot hold, naming the field', async () => {
    const test = driver();
    const raw = (patch: Record<string, unknown>) => {
      const event = order(MONITOR_STAND);
      return Buffer.from(JSON.stringify({ ...event, payload: { ...event.payload, ...patch } }));
    };
    await test.pipeInput('orders', String(2 ** 31), raw({ productId: 2 ** 31 }), { partition: 0 });
    await test.pipeInput('orders', '3', raw({ quantity: 2 ** 31 }), { partition: 0 });
    await test.pipeInput('orders', '3', raw({ orderId: 'order-17' }), { partition: 0 });
    await test.pipeInput('orders', '3', order(MONITOR_STAND), { partition: 0 });
    expect(test.deadLetters().map((letter) => [letter.offset, letter.errorClass, letter.message])).toEqual([
      [0n, 'SchemaError', expect.stringContaining('payload.productId must be at most 2147483647')],
      [1n, 'SchemaError', expect.stringContaining('payload.quantity must be at most 2147483647')],
      [2n, 'SchemaError', expect.stringContaining('payload.orderId must be a UUID')],
    ]);
    expect(test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload.ordersConfirmed)).toEqual([1]);
    expect(test.committedOffset('orders', 0)).toBe(4n);
  });

  it('sends poison records to the dead-letter path and keeps the partition flowing', async () => {
    const test = driver();
    await test.pipeInput('orders', '3', Buffer.from('not json'), { partition: 0 });
    await test.pipeInput('orders', '3', Buffer.from(JSON.stringify({ ...order(MONITOR_STAND), schemaVersion: 99 })), { partition: 0 });
    await test.pipeInput('orders', '3', Buffer.from(JSON.stringify(order(MONITOR_STAND, 0))), { partition: 0 });
    await test.pipeInput('orders', '3', order(MONITOR_STAND), { partition: 0 });
    expect(test.deadLetters().map((letter) => [letter.offset, letter.errorClass])).toEqual([
      [0n, 'DecodeError'],
      [1n, 'UnsupportedVersionError'],
      [2n, 'SchemaError'],
    ]);
    expect(test.readOutput<InventoryUpdated>('inventory-updated').map((record) => record.value.payload.ordersConfirmed)).toEqual([1]);
    expect(test.committedOffset('orders', 0)).toBe(4n);
  });
});
