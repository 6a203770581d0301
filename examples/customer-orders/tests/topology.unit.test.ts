/** The customer-orders example on the broker-free test driver: its graph, and what it counts. */
import { describe, expect, it } from '@jest/globals';
import { describeTopology } from '../../../topology/describe/description.ts';
import { formatText } from '../../../topology/describe/format-text.ts';
import { MemoryStore } from '../../../topology/testing/memory-store.ts';
import { TopologyTestDriver } from '../../../topology/testing/test-driver.ts';
import type { CustomerOrderCount, PlacedOrder } from '../events.ts';
import { COUNTS_STORE, ORDER_COUNTS, ORDER_IDS } from '../stores.ts';
import { buildCustomerOrdersTopology } from '../topology.ts';

const topology = () =>
  buildCustomerOrdersTopology({
    applicationId: 'customer-orders',
    ordersTopic: 'orders',
    countsTopic: 'customer-order-counts',
    stores: { orderIds: new MemoryStore(ORDER_IDS), counts: new MemoryStore(ORDER_COUNTS) },
  });

const order = (orderId: string, customerId: string | null): PlacedOrder => ({ orderId, customerId });

describe('customer-orders example', () => {
  it('describes itself as two sub-topologies joined by the repartition topic', () => {
    expect(formatText(describeTopology(topology()))).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: orders-source (topics: [orders])',
        '      --> key-by-customer',
        '    Processor: key-by-customer (stores: [])',
        '      --> orders-by-customer-repartition-sink',
        '      <-- orders-source',
        '    Sink: orders-by-customer-repartition-sink (topic: customer-orders-orders-by-customer-repartition)',
        '      <-- key-by-customer',
        '',
        '  Sub-topology: 1',
        '    Source: orders-by-customer-repartition-source (topics: [customer-orders-orders-by-customer-repartition])',
        '      --> count-orders',
        '    Processor: count-orders (stores: [customer-order-ids, customer-order-counts])',
        '      --> customer-order-counts-sink',
        '      <-- orders-by-customer-repartition-source',
        '    Sink: customer-order-counts-sink (topic: customer-order-counts)',
        '      <-- count-orders',
        '',
        '',
      ].join('\n'),
    );
  });

  it("counts each customer's orders in the customer's partition, whatever partition each order came from", async () => {
    const driver = new TopologyTestDriver(topology(), { partitions: 3 });
    // The orders topic is keyed by product: one customer's orders arrive on every partition.
    await driver.pipeInput('orders', '1', order('o-1', 'ada'), { partition: 0 });
    await driver.pipeInput('orders', '2', order('o-2', 'ada'), { partition: 1 });
    await driver.pipeInput('orders', '3', order('o-3', 'grace'), { partition: 2 });
    await driver.pipeInput('orders', '1', order('o-4', 'ada'), { partition: 2 });

    expect(Object.fromEntries(driver.getStateStore<string, { orders: number }>(COUNTS_STORE))).toEqual({ ada: { orders: 3 }, grace: { orders: 1 } });
    const counts = driver.readOutput<CustomerOrderCount>('customer-order-counts');
    expect(counts.filter((record) => record.key === 'ada').map((record) => record.value.orders)).toEqual([1, 2, 3]);
    // Every count of a customer comes from the one partition that owns the customer.
    expect(new Set(counts.filter((record) => record.key === 'ada').map((record) => record.partition)).size).toBe(1);
    expect(counts.map((record) => record.headers['event-id'])).toEqual(expect.arrayContaining(['customer-order-count:ada:3', 'customer-order-count:grace:1']));
  });

  it('counts a duplicate of an order once, and guest orders not at all', async () => {
    const driver = new TopologyTestDriver(topology(), { partitions: 2 });
    await driver.pipeInput('orders', '1', order('o-1', 'ada'), { partition: 0 });
    // The order source published o-1 again (it was not sure the first send landed), on another partition.
    await driver.pipeInput('orders', '1', order('o-1', 'ada'), { partition: 1 });
    await driver.pipeInput('orders', '2', order('o-2', null), { partition: 1 });
    await driver.pipeInput('orders', '2', order('o-3', 'ada'), { partition: 1 });

    expect(Object.fromEntries(driver.getStateStore<string, { orders: number }>(COUNTS_STORE))).toEqual({ ada: { orders: 2 } });
    expect(driver.readOutput<CustomerOrderCount>('customer-order-counts').map((record) => record.value)).toEqual([
      { customerId: 'ada', orders: 1 },
      { customerId: 'ada', orders: 2 },
    ]);
  });

  it('dead-letters an order it cannot read and goes on', async () => {
    const driver = new TopologyTestDriver(topology());
    await driver.pipeInput('orders', '1', Buffer.from('{"payload":{"customerId":"ada"}}'));
    await driver.pipeInput('orders', '1', order('o-1', 'ada'));
    expect(driver.deadLetters().map((letter) => ({ node: letter.node, errorClass: letter.errorClass }))).toEqual([{ node: 'orders-source', errorClass: 'SchemaError' }]);
    expect(Object.fromEntries(driver.getStateStore<string, { orders: number }>(COUNTS_STORE))).toEqual({ ada: { orders: 1 } });
  });
});
