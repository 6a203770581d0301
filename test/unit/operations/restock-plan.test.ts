import { describe, expect, it } from '@jest/globals';
import { MAX_RESTOCKS_PER_TICK, planRestocks, unconsumedRecords } from '../../../app/restock-plan.ts';

const POLICY = { below: 20, quantity: 25 };
const stock = (...levels: Array<[number, number]>) => levels.map(([productId, quantity]) => ({ productId, quantity }));

describe('the restock plan', () => {
  it('restocks each product below the threshold by the quantity, and none at or above it', () => {
    expect(planRestocks(stock([1, 0], [2, 19], [3, 20], [4, 500]), POLICY, 0n)).toEqual({
      kind: 'restock',
      restocks: [
        { productId: 1, quantity: 25 },
        { productId: 2, quantity: 25 },
      ],
    });
  });

  it('nothing low: an empty plan', () => {
    expect(planRestocks(stock([1, 20], [2, 21]), POLICY, 0n)).toEqual({ kind: 'restock', restocks: [] });
    expect(planRestocks([], POLICY, 0n)).toEqual({ kind: 'restock', restocks: [] });
  });

  it('waits while earlier restock commands are not consumed, however low the stock', () => {
    expect(planRestocks(stock([1, 0], [2, 0]), POLICY, 1n)).toEqual({ kind: 'wait', unconsumedCommands: 1n });
  });

  it(`the lowest stock first, then by product id, at most ${MAX_RESTOCKS_PER_TICK} per tick`, () => {
    const many = Array.from({ length: MAX_RESTOCKS_PER_TICK + 5 }, (_, i) => ({ productId: i + 1, quantity: 5 }));
    const plan = planRestocks([...many, { productId: 9999, quantity: 0 }], POLICY, 0n);
    if (plan.kind !== 'restock') throw new Error('expected restocks');
    expect(plan.restocks).toHaveLength(MAX_RESTOCKS_PER_TICK);
    expect(plan.restocks.slice(0, 3).map((restock) => restock.productId)).toEqual([9999, 1, 2]);
  });
});

describe('records of a topic not consumed', () => {
  it('sums each partition\'s end offset past the stored next offset; a partition never stored counts from 0', () => {
    expect(unconsumedRecords(new Map([[0, 5n], [1, 3n], [2, 7n]]), new Map([[0, 5n], [1, 1n]]))).toBe(9n);
  });

  it('a stored offset past the end (a recreated topic) counts as consumed', () => {
    expect(unconsumedRecords(new Map([[0, 2n]]), new Map([[0, 10n]]))).toBe(0n);
  });
});
