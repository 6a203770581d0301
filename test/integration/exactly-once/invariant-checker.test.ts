/**
 * The exactly-once suites are only as strict as findInvariantViolations: this checks, with
 * no services involved, that it accepts a consistent run and names each kind of breakage.
 */
import { describe, expect, it } from '@jest/globals';
import { encodeEvent, inventoryUpdated } from '../../../core/events.ts';
import { type PipelineSnapshot, type PublishedInventoryEvent, findInvariantViolations } from '../../support/pipeline.ts';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const C = '00000000-0000-4000-8000-00000000000c';

function published(version: number, quantity: number, delta: number, accepted: string[], rejected: string[]): PublishedInventoryEvent {
  const event = inventoryUpdated(
    {
      productId: 7,
      quantity,
      delta,
      version,
      acceptedOrderIds: accepted,
      rejectedOrders: rejected.map((orderId) => ({ orderId, reason: 'out_of_stock' as const })),
      source: { topic: 'orders', partition: 0, fromOffset: BigInt(version), toOffset: BigInt(version) },
    },
    '2026-01-01T00:00:00.000Z',
  );
  return { key: '7', value: encodeEvent(event).toString('utf8'), event };
}

/** Product 7, 5 units: A takes 3 (v1), B takes 2 (v2), C is rejected (v3). */
function consistentRun(): PipelineSnapshot {
  return {
    initialStock: new Map([[7, 5]]),
    orders: [
      { id: A, product_id: 7, quantity: 3, status: 'confirmed', reason: null },
      { id: B, product_id: 7, quantity: 2, status: 'confirmed', reason: null },
      { id: C, product_id: 7, quantity: 1, status: 'rejected', reason: 'out_of_stock' },
    ],
    inventory: [{ product_id: 7, quantity: 0, version: '3' }],
    events: [published(1, 2, -3, [A], []), published(2, 0, -2, [B], []), published(3, 0, 0, [], [C])],
  };
}

describe('findInvariantViolations', () => {
  it('accepts a consistent run, including a re-published identical event', () => {
    const run = consistentRun();
    run.events.push(run.events[1]!);
    expect(findInvariantViolations(run)).toEqual([]);
  });

  const breakages: Array<[string, (run: PipelineSnapshot) => void, RegExp]> = [
    ['an undecided order', (run) => (run.orders[2]!.status = 'pending'), /still pending/],
    ['stock that does not match the confirmed orders', (run) => (run.inventory[0]!.quantity = 1), /stock 1, but initial 5 - confirmed 5/],
    ['a gap in the versions', (run) => run.events.splice(1, 1), /versions on the topic are \[1,3\]/],
    ['a stored version ahead of the topic', (run) => (run.inventory[0]!.version = '4'), /stored version 4, but 3 versions/],
    ['one version with two contents', (run) => run.events.push(published(2, 0, -2, [B, C], [])), /published twice with different contents/],
    ['an order decided in two events', (run) => run.events.splice(2, 1, published(3, 0, 0, [], [A])), /appears in 2 distinct/],
    ['a changelog that does not replay to the stock', (run) => run.events.splice(0, 1, published(1, 3, -3, [A], [])), /v1: quantity 3, replayed 2/],
    ['an event keyed by something else', (run) => (run.events[0]!.key = '8'), /has key 8/],
  ];

  it.each(breakages)('reports %s', (_name, breakRun, expected) => {
    const run = consistentRun();
    breakRun(run);
    expect(findInvariantViolations(run)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });
});
