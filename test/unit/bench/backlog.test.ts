import { describe, expect, it } from '@jest/globals';
import { backlogGenerator, drawOrders } from '../../../bench/support/backlog.ts';
import { isCountDistribution, parseCountDistribution } from '../../../core/count-distribution.ts';

const lines = (spec: string) => {
  const parsed = parseCountDistribution(spec, { min: 1, max: 100, noun: 'line count' });
  if (!isCountDistribution(parsed)) throw new Error(parsed.problem);
  return parsed;
};

describe('the catch-up backlog', () => {
  it('gives every order as many lines as its spec says, each a distinct product of the catalogue', () => {
    for (const [spec, count] of [['1', 1], ['3', 3]] as const) {
      const orders = drawOrders(backlogGenerator({ products: 50, lines: lines(spec) }), 0, 200, 1_000);
      for (const order of orders) {
        expect(order.lines).toHaveLength(count);
        expect(new Set(order.lines.map((line) => line.productId)).size).toBe(count);
        for (const line of order.lines) {
          expect(line.productId).toBeGreaterThanOrEqual(1);
          expect(line.productId).toBeLessThanOrEqual(50);
          expect(line.quantity).toBeGreaterThanOrEqual(1);
        }
      }
    }
  });

  it('without a lines spec, one line per order', () => {
    const orders = drawOrders(backlogGenerator({ products: 10 }), 0, 50, 1_000);
    expect(orders.every((order) => order.lines.length === 1)).toBe(true);
  });

  it('a weighted spec: the mean of the drawn line counts is the spec mean', () => {
    const spec = lines('1:30,2:30,3:20,4:10,5:10');
    const orders = drawOrders(backlogGenerator({ products: 1000, lines: spec }), 0, 20_000, 1_000);
    const mean = orders.reduce((sum, order) => sum + order.lines.length, 0) / orders.length;
    expect(mean).toBeCloseTo(spec.mean, 1);
  });

  it('numbers the orders of a chunk on from the ones before it, all made at the given time', () => {
    const generator = backlogGenerator({ products: 10, lines: lines('2') });
    const first = drawOrders(generator, 0, 3, 5_000);
    const second = drawOrders(generator, 3, 2, 6_000);
    expect([...first, ...second].map((order) => order.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(first.map((order) => order.createdAtMs)).toEqual([5_000, 5_000, 5_000]);
    expect(second.map((order) => order.createdAtMs)).toEqual([6_000, 6_000]);
  });

  it('the same spec and seed draw the same orders, so every client runs on the same backlog', () => {
    const draw = () => drawOrders(backlogGenerator({ products: 100, lines: lines('1-5'), seed: 7 }), 0, 100, 1_000).map((order) => [order.customerId, order.lines]);
    expect(draw()).toEqual(draw());
  });
});
