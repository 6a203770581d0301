/**
 * The exactly-once suites are only as strict as findInvariantViolations: this checks, with
 * no services involved, that it accepts a consistent run and names each kind of breakage.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeInventoryUpdated, encodeEvent, inventoryUpdated } from '../../../processors/events.ts';
import { findInvariantViolations, type PipelineSnapshot, type PublishedInventoryEvent } from '../../support/pipeline.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';
const D = '00000000-0000-4000-8000-00000000000d';

/** Product 7's InventoryUpdated at `version`, covering orders at offsets from..to of orders[0] (by default just `version`). */
function published(
  version: number,
  quantity: number,
  delta: number,
  counts: { confirmed: number; rejected: number },
  offsets: { from: number; to: number } = { from: version, to: version },
  productId = 7,
): PublishedInventoryEvent {
  const event = inventoryUpdated(
    {
      productId,
      quantity,
      delta,
      version,
      reserved: counts.confirmed,
      refused: counts.rejected,
      released: 0,
      restocked: 0,
      source: { topic: 'orders', partition: 0, fromOffset: BigInt(offsets.from), toOffset: BigInt(offsets.to) },
    },
    '2026-01-01T00:00:00.000Z',
  );
  return { key: String(productId), value: encodeEvent(event).toString('utf8'), event };
}

const ONE_CONFIRMED = { confirmed: 1, rejected: 0 };
const ONE_REJECTED = { confirmed: 0, rejected: 1 };

/** Product 7, 5 units: A takes 3 (v1), B takes 2 (v2), C is rejected (v3); D is for product 99, which does not exist. */
function consistentRun(): PipelineSnapshot {
  return {
    initialStock: new Map([[7, 5]]),
    orders: [
      { id: A, product_id: 7, quantity: 3, status: 'confirmed', reason: null },
      { id: B, product_id: 7, quantity: 2, status: 'confirmed', reason: null },
      { id: C, product_id: 7, quantity: 1, status: 'rejected', reason: 'out_of_stock' },
      { id: D, product_id: 99, quantity: 1, status: 'rejected', reason: 'unknown_product' },
    ],
    inventory: [{ product_id: 7, quantity: 0, version: '3' }],
    events: [published(1, 2, -3, ONE_CONFIRMED), published(2, 0, -2, ONE_CONFIRMED), published(3, 0, 0, ONE_REJECTED)],
  };
}

describe('findInvariantViolations', () => {
  it('accepts a consistent run, including a re-published identical event', () => {
    const run = consistentRun();
    run.events.push(run.events[1]!);
    expect(findInvariantViolations(run)).toEqual([]);
  });

  it('accepts a topic written partly by version 1 (order id lists)', () => {
    const run = consistentRun();
    const v1 = {
      eventId: 'inventory-updated:7:1',
      type: 'InventoryUpdated',
      schemaVersion: 1,
      occurredAt: '2026-01-01T00:00:00.000Z',
      payload: { productId: 7, quantity: 2, delta: -3, version: 1, acceptedOrderIds: [A], rejectedOrders: [], source: { topic: 'orders', partition: 0, fromOffset: '1', toOffset: '1' } },
    };
    const value = JSON.stringify(v1);
    run.events[0] = { key: '7', value, event: decodeInventoryUpdated(Buffer.from(value)) };
    expect(findInvariantViolations(run)).toEqual([]);
  });

  const breakages: Array<[string, (run: PipelineSnapshot) => void, RegExp]> = [
    ['an undecided order', (run) => (run.orders[2]!.status = 'pending'), /still pending/],
    ['stock that does not match the confirmed orders', (run) => (run.inventory[0]!.quantity = 1), /stock 1, but initial 5 - confirmed 5/],
    ['a gap in the versions', (run) => run.events.splice(1, 1), /versions on the topic are \[1,3\]/],
    ['a stored version ahead of the topic', (run) => (run.inventory[0]!.version = '4'), /stored version 4, but 3 versions/],
    ['one version with two contents', (run) => run.events.push(published(2, 0, -2, { confirmed: 2, rejected: 0 })), /published twice with different contents/],
    // An order counted in two events: the counts exceed the stored orders, and the ranges overlap.
    ['an order decided in two events (counts)', (run) => run.events.splice(2, 1, published(3, 0, 0, { confirmed: 0, rejected: 2 })), /2 orders rejected in its events, but 1 stored as rejected/],
    ['an order decided in two events (offsets)', (run) => run.events.splice(2, 1, published(3, 0, 0, ONE_REJECTED, { from: 2, to: 3 })), /v3: source offsets orders\[0\] 2\.\.3 do not follow v2's orders\[0\] 2\.\.2/],
    ['a confirmed order no event counts', (run) => run.events.splice(1, 1, published(2, 0, -2, { confirmed: 0, rejected: 0 })), /1 orders confirmed in its events, but 2 stored as confirmed/],
    ['a rejected order no event counts', (run) => run.events.splice(2, 1, published(3, 0, 0, { confirmed: 0, rejected: 0 })), /0 orders rejected in its events, but 1 stored as rejected/],
    ['a delta without a confirmed order', (run) => run.events.splice(1, 1, published(2, 0, -2, ONE_REJECTED)), /v2: delta -2 with 0 orders confirmed/],
    ['confirmed orders that took no stock', (run) => run.events.splice(2, 1, published(3, 0, 0, { confirmed: 1, rejected: 0 })), /v3: delta 0 with 1 orders confirmed/],
    ['a changelog that does not replay to the stock', (run) => run.events.splice(0, 1, published(1, 3, -3, ONE_CONFIRMED)), /v1: quantity 3, replayed 2/],
    ['an event keyed by something else', (run) => (run.events[0]!.key = '8'), /has key 8/],
    ['an event for an unknown product', (run) => run.events.push(published(1, 0, 0, ONE_REJECTED, undefined, 99)), /unknown product 99 has 1 InventoryUpdated versions/],
    ['a confirmed order of an unknown product', (run) => Object.assign(run.orders[3]!, { status: 'confirmed', reason: null }), /order .* of unknown product 99 is confirmed/],
  ];

  it.each(breakages)('reports %s', (_name, breakRun, expected) => {
    const run = consistentRun();
    breakRun(run);
    expect(findInvariantViolations(run)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });
});
