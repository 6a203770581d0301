import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { OrderToDecide, ProductStock } from '../../../processors/inventory.ts';
import { reduceOrders } from '../../../processors/inventory.ts';

/** Products 1..4 are in the catalogue, 5 is not, so unknown products appear in generated batches. */
const KNOWN_PRODUCTS = [1, 2, 3, 4];
const productIds = fc.integer({ min: 1, max: 5 });

const initialStock: fc.Arbitrary<Record<number, number>> = fc.record({
  1: fc.integer({ min: 0, max: 20 }),
  2: fc.integer({ min: 0, max: 20 }),
  3: fc.integer({ min: 0, max: 20 }),
  4: fc.integer({ min: 0, max: 20 }),
});

/** Batches of orders with unique ids and increasing offsets across batches (as on a partition). */
const batches = fc
  .array(fc.array(fc.record({ productId: productIds, quantity: fc.integer({ min: 1, max: 8 }) }), { maxLength: 25 }), { maxLength: 6 })
  .map((raw) => {
    let offset = 0n;
    return raw.map((batch) =>
      batch.map(({ productId, quantity }): OrderToDecide => {
        const id = `order-${offset}`;
        return { orderId: id, productId, quantity, offset: offset++ };
      }),
    );
  });

function startingState(stock: Record<number, number>): Map<number, ProductStock> {
  return new Map(KNOWN_PRODUCTS.map((id) => [id, { quantity: stock[id]!, version: 0 }]));
}

/** Runs batches one after the other, feeding each batch's "after" into the next like a committed store. */
function runBatches(state: Map<number, ProductStock>, orderBatches: OrderToDecide[][]) {
  return orderBatches.map((batch) => {
    const result = reduceOrders(batch, (id) => state.get(id) ?? null);
    for (const [id, change] of result.changes) state.set(id, change.after);
    return result;
  });
}

describe('reduceOrders properties', () => {
  it('never lets stock go below zero', () => {
    fc.assert(
      fc.property(initialStock, batches, (stock, orderBatches) => {
        const state = startingState(stock);
        for (const result of runBatches(state, orderBatches)) {
          for (const change of result.changes.values()) expect(change.after.quantity).toBeGreaterThanOrEqual(0);
        }
        for (const value of state.values()) expect(value.quantity).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('decreases stock by exactly the sum of confirmed quantities, per product and batch', () => {
    fc.assert(
      fc.property(initialStock, batches, (stock, orderBatches) => {
        const state = startingState(stock);
        const results = runBatches(state, orderBatches);
        for (const result of results) {
          for (const change of result.changes.values()) {
            const confirmed = result.outcomes.filter((o) => o.productId === change.productId && o.status === 'confirmed');
            const sum = confirmed.reduce((total, o) => total + o.quantity, 0);
            expect(change.before.quantity - change.after.quantity).toBe(sum);
            expect(change.delta).toBe(0 - sum);
            expect(change.accepted).toEqual(confirmed.map((o) => o.orderId));
          }
        }
        const confirmedOverall = results.flatMap((r) => r.outcomes).filter((o) => o.status === 'confirmed');
        for (const id of KNOWN_PRODUCTS) {
          const sold = confirmedOverall.filter((o) => o.productId === id).reduce((total, o) => total + o.quantity, 0);
          expect(state.get(id)!.quantity).toBe(stock[id]! - sold);
        }
      }),
    );
  });

  it('raises each known product version by exactly one per batch in which it had orders', () => {
    fc.assert(
      fc.property(initialStock, batches, (stock, orderBatches) => {
        const state = startingState(stock);
        runBatches(state, orderBatches);
        for (const id of KNOWN_PRODUCTS) {
          const batchesWithOrders = orderBatches.filter((batch) => batch.some((o) => o.productId === id)).length;
          expect(state.get(id)!.version).toBe(batchesWithOrders);
        }
      }),
    );
  });

  it('decides like a one-order-at-a-time model in offset order, and rejects unknown products', () => {
    fc.assert(
      fc.property(initialStock, batches, fc.boolean(), (stock, orderBatches, shuffle) => {
        const state = startingState(stock);
        const model = new Map(KNOWN_PRODUCTS.map((id) => [id, stock[id]!]));
        // Arrival order must not matter: the reducer sorts by offset.
        const fed = shuffle ? orderBatches.map((batch) => [...batch].reverse()) : orderBatches;
        const results = runBatches(state, fed);
        results.forEach((result, i) => {
          const expected = orderBatches[i]!.map((o) => {
            const remaining = model.get(o.productId);
            if (remaining === undefined) return { orderId: o.orderId, status: 'rejected', reason: 'unknown_product' };
            if (o.quantity <= remaining) {
              model.set(o.productId, remaining - o.quantity);
              return { orderId: o.orderId, status: 'confirmed' };
            }
            return { orderId: o.orderId, status: 'rejected', reason: 'out_of_stock' };
          });
          expect(result.outcomes.map(({ orderId, status, reason }) => (reason ? { orderId, status, reason } : { orderId, status }))).toEqual(expected);
          expect(result.outcomes.map((o) => o.offset)).toEqual([...result.outcomes.map((o) => o.offset)].sort((a, b) => (a < b ? -1 : 1)));
          expect(result.changes.has(5)).toBe(false);
        });
      }),
    );
  });

  it('rejects an order for out_of_stock only when its quantity exceeds the stock left at its turn', () => {
    fc.assert(
      fc.property(initialStock, batches, (stock, orderBatches) => {
        const state = startingState(stock);
        for (const result of runBatches(state, orderBatches)) {
          for (const change of result.changes.values()) {
            let remaining = change.before.quantity;
            for (const outcome of result.outcomes.filter((o) => o.productId === change.productId)) {
              if (outcome.status === 'confirmed') {
                expect(outcome.quantity).toBeLessThanOrEqual(remaining);
                remaining -= outcome.quantity;
              } else {
                expect(outcome.reason).toBe('out_of_stock');
                expect(outcome.quantity).toBeGreaterThan(remaining);
              }
            }
            expect(remaining).toBe(change.after.quantity);
          }
        }
      }),
    );
  });
});
