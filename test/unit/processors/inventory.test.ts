import { describe, expect, it } from '@jest/globals';
import type { OrderToDecide, ProductStock } from '../../../processors/inventory.ts';
import { applyDecision, decideOrder, reduceOrders } from '../../../processors/inventory.ts';

const MONITOR_STAND = 3;
const KEYBOARD = 4;
const UNKNOWN = 999;

function catalogue(stock: Record<number, ProductStock>) {
  const asked: number[] = [];
  const stockOf = (productId: number): ProductStock | null => {
    asked.push(productId);
    return stock[productId] ?? null;
  };
  return { stockOf, asked };
}

const order = (orderId: string, productId: number, quantity: number, offset: bigint): OrderToDecide => ({ orderId, productId, quantity, offset });

describe('decideOrder', () => {
  it('confirms when stock covers the quantity, exactly or more', () => {
    expect(decideOrder({ quantity: 2, version: 0 }, 2)).toEqual({ status: 'confirmed' });
    expect(decideOrder({ quantity: 5, version: 0 }, 2)).toEqual({ status: 'confirmed' });
  });

  it('rejects out_of_stock when the quantity is bigger than the stock', () => {
    expect(decideOrder({ quantity: 1, version: 3 }, 2)).toEqual({ status: 'rejected', reason: 'out_of_stock' });
    expect(decideOrder({ quantity: 0, version: 0 }, 1)).toEqual({ status: 'rejected', reason: 'out_of_stock' });
  });

  it('rejects unknown_product when there is no stock record', () => {
    expect(decideOrder(null, 1)).toEqual({ status: 'rejected', reason: 'unknown_product' });
  });

  it('treats a non-positive or fractional quantity as a programmer error', () => {
    expect(() => decideOrder({ quantity: 5, version: 0 }, 0)).toThrow(RangeError);
    expect(() => decideOrder({ quantity: 5, version: 0 }, -1)).toThrow('order quantity must be a positive integer, got -1');
    expect(() => decideOrder(null, 1.5)).toThrow(RangeError);
  });

  it('applies only confirmed decisions, leaving the version alone', () => {
    const stock = { quantity: 5, version: 2 };
    expect(applyDecision(stock, 2, { status: 'confirmed' })).toEqual({ quantity: 3, version: 2 });
    expect(applyDecision(stock, 9, { status: 'rejected', reason: 'out_of_stock' })).toBe(stock);
  });
});

describe('reduceOrders', () => {
  it('Monitor Stand with stock 1: of two orders of 1 the first is confirmed, the second out_of_stock', () => {
    const { stockOf } = catalogue({ [MONITOR_STAND]: { quantity: 1, version: 4 } });
    const result = reduceOrders([order('a', MONITOR_STAND, 1, 10n), order('b', MONITOR_STAND, 1, 11n)], stockOf);
    expect(result.outcomes).toEqual([
      { orderId: 'a', productId: MONITOR_STAND, quantity: 1, status: 'confirmed', offset: 10n },
      { orderId: 'b', productId: MONITOR_STAND, quantity: 1, status: 'rejected', reason: 'out_of_stock', offset: 11n },
    ]);
    expect(result.changes.get(MONITOR_STAND)).toEqual({
      productId: MONITOR_STAND,
      before: { quantity: 1, version: 4 },
      after: { quantity: 0, version: 5 },
      delta: -1,
      accepted: ['a'],
      rejected: [{ orderId: 'b', reason: 'out_of_stock' }],
      fromOffset: 10n,
      toOffset: 11n,
    });
  });

  it('rejects orders of an unknown product without a change entry', () => {
    const { stockOf } = catalogue({});
    const result = reduceOrders([order('a', UNKNOWN, 1, 0n), order('b', UNKNOWN, 2, 1n)], stockOf);
    expect(result.outcomes.map((o) => [o.orderId, o.status, o.reason])).toEqual([
      ['a', 'rejected', 'unknown_product'],
      ['b', 'rejected', 'unknown_product'],
    ]);
    expect(result.changes.size).toBe(0);
  });

  it('rejects a quantity bigger than the stock but still confirms a later smaller one', () => {
    const { stockOf } = catalogue({ [KEYBOARD]: { quantity: 3, version: 0 } });
    const result = reduceOrders([order('big', KEYBOARD, 5, 0n), order('small', KEYBOARD, 3, 1n)], stockOf);
    expect(result.outcomes.map((o) => o.status)).toEqual(['rejected', 'confirmed']);
    expect(result.changes.get(KEYBOARD)).toMatchObject({ after: { quantity: 0, version: 1 }, delta: -3, accepted: ['small'] });
  });

  it('gives a product whose orders were all rejected a new version with delta 0', () => {
    const { stockOf } = catalogue({ [KEYBOARD]: { quantity: 0, version: 7 } });
    const change = reduceOrders([order('a', KEYBOARD, 1, 0n)], stockOf).changes.get(KEYBOARD);
    expect(change).toMatchObject({ before: { quantity: 0, version: 7 }, after: { quantity: 0, version: 8 }, delta: 0, accepted: [] });
  });

  it('decides in offset order whatever order the orders arrive in', () => {
    const { stockOf } = catalogue({ [MONITOR_STAND]: { quantity: 1, version: 0 } });
    const result = reduceOrders([order('late', MONITOR_STAND, 1, 20n), order('early', MONITOR_STAND, 1, 5n)], stockOf);
    expect(result.outcomes.map((o) => [o.orderId, o.status])).toEqual([
      ['early', 'confirmed'],
      ['late', 'rejected'],
    ]);
    expect(result.changes.get(MONITOR_STAND)).toMatchObject({ fromOffset: 5n, toOffset: 20n });
  });

  it('keeps products apart and asks for each product stock once', () => {
    const { stockOf, asked } = catalogue({ [MONITOR_STAND]: { quantity: 2, version: 0 }, [KEYBOARD]: { quantity: 1, version: 0 } });
    const result = reduceOrders(
      [order('a', MONITOR_STAND, 2, 0n), order('b', KEYBOARD, 1, 1n), order('c', UNKNOWN, 1, 2n), order('d', KEYBOARD, 1, 3n), order('e', UNKNOWN, 1, 4n)],
      stockOf,
    );
    expect(asked.sort()).toEqual([MONITOR_STAND, KEYBOARD, UNKNOWN].sort());
    expect([...result.changes.keys()]).toEqual([MONITOR_STAND, KEYBOARD]);
    expect(result.changes.get(KEYBOARD)).toMatchObject({ accepted: ['b'], rejected: [{ orderId: 'd', reason: 'out_of_stock' }], fromOffset: 1n, toOffset: 3n });
  });

  it('skips an order id seen earlier in the batch or already decided', () => {
    const { stockOf } = catalogue({ [KEYBOARD]: { quantity: 10, version: 0 } });
    const result = reduceOrders([order('a', KEYBOARD, 1, 0n), order('a', KEYBOARD, 1, 1n), order('old', KEYBOARD, 4, 2n)], stockOf, {
      alreadyDecided: (id) => id === 'old',
    });
    expect(result.outcomes.map((o) => o.orderId)).toEqual(['a']);
    expect(result.skipped.map((o) => [o.orderId, o.offset])).toEqual([
      ['a', 1n],
      ['old', 2n],
    ]);
    expect(result.changes.get(KEYBOARD)).toMatchObject({ after: { quantity: 9, version: 1 }, toOffset: 0n });
  });

  it('does not mutate the stock it was given', () => {
    const stock = { quantity: 5, version: 1 };
    reduceOrders([order('a', KEYBOARD, 2, 0n)], () => stock);
    expect(stock).toEqual({ quantity: 5, version: 1 });
  });

  it('returns nothing for an empty batch', () => {
    const result = reduceOrders([], () => null);
    expect(result).toEqual({ outcomes: [], changes: new Map(), skipped: [] });
  });
});
