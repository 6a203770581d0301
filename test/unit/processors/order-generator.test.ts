import { describe, expect, it } from '@jest/globals';
import { type CountDistribution, isCountDistribution, parseCountDistribution } from '../../../core/count-distribution.ts';
import { createRandom, isUuidV7, uuidV7Timestamp } from '../../../core/random.ts';
import { createCdfSampler, geometricWeights, zipfWeights } from '../../../processors/distributions.ts';
import type { GeneratedOrder, OrderGeneratorOptions } from '../../../processors/order-generator.ts';
import { createOrderGenerator, largestOrder } from '../../../processors/order-generator.ts';
import { encodeEvent, orderCreated } from '../../../processors/events.ts';

const NOW = Date.parse('2026-11-03T10:00:00Z');
const catalogue = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i);

function drawMany(options: OrderGeneratorOptions, count: number, startMs = NOW) {
  const generator = createOrderGenerator(options);
  return Array.from({ length: count }, (_, i) => generator.next(startMs + Math.floor(i / 10)));
}

function lineCounts(spec: string): CountDistribution {
  const parsed = parseCountDistribution(spec, { min: 1, max: 100, noun: 'line count' });
  if (!isCountDistribution(parsed)) throw new Error(parsed.problem);
  return parsed;
}

function frequencies(values: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

describe('createOrderGenerator', () => {
  it('repeats the same (lines, customer) sequence for a seed, whatever the clock', () => {
    const options: OrderGeneratorOptions = { productIds: catalogue(50), popularity: { kind: 'zipf', skew: 1.1 }, seed: 12345 };
    const strip = ({ lines, customerId }: GeneratedOrder) => ({ lines, customerId });
    const first = drawMany(options, 500).map(strip);
    expect(drawMany(options, 500, NOW + 86_400_000).map(strip)).toEqual(first);
    expect(drawMany({ ...options, seed: 12346 }, 500).map(strip)).not.toEqual(first);
  });

  it('gives every order one line by default, and with lines "1" the very orders it drew without a line count', () => {
    const options: OrderGeneratorOptions = { productIds: catalogue(50), popularity: { kind: 'zipf', skew: 1.1 }, seed: 99 };
    const plain = drawMany(options, 1_000);
    expect(plain.every((order) => order.lines.length === 1)).toBe(true);
    expect(drawMany({ ...options, lineCounts: lineCounts('1') }, 1_000)).toEqual(plain);
  });

  it('draws the number of lines from its distribution: always N, uniform A-B, or weighted', () => {
    const countsOf = (spec: string, draws = 20_000) => frequencies(drawMany({ productIds: catalogue(200), seed: 4, lineCounts: lineCounts(spec) }, draws).map((o) => o.lines.length));
    expect([...countsOf('3', 500)]).toEqual([[3, 500]]);
    const uniform = countsOf('2-4');
    expect([...uniform.keys()].sort()).toEqual([2, 3, 4]);
    for (const count of uniform.values()) expect(Math.abs(count - 20_000 / 3)).toBeLessThan(0.05 * 20_000);
    const weighted = countsOf('1:30,2:30,3:20,4:10,5:10');
    expect([...weighted.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
    const share = (count: number) => weighted.get(count)! / 20_000;
    expect([share(1), share(2), share(3), share(4), share(5)].map((value) => Math.round(value * 20) / 20)).toEqual([0.3, 0.3, 0.2, 0.1, 0.1]);
    const mean = [...weighted].reduce((sum, [count, times]) => sum + count * times, 0) / 20_000;
    expect(mean).toBeCloseTo(2.4, 1);
  });

  it('gives each line another product, drawn by popularity, and a quantity of its own', () => {
    const orders = drawMany({ productIds: catalogue(1000), popularity: { kind: 'zipf', skew: 1.1 }, seed: 6, lineCounts: lineCounts('5') }, 5_000);
    for (const order of orders) expect(new Set(order.lines.map((line) => line.productId)).size).toBe(5);
    // The most popular product is in most orders, but never twice in one.
    expect(orders.filter((order) => order.lines.some((line) => line.productId === 1000)).length / orders.length).toBeGreaterThan(0.5);
    const quantities = frequencies(orders.flatMap((order) => order.lines.map((line) => line.quantity)));
    expect([...quantities.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('caps the line count at the catalogue, since an order holds each product once, even under a steep skew', () => {
    const orders = drawMany({ productIds: catalogue(4), popularity: { kind: 'zipf', skew: 10 }, seed: 2, lineCounts: lineCounts('3-9') }, 2_000);
    expect(Math.max(...orders.map((order) => order.lines.length))).toBe(4);
    for (const order of orders) expect(new Set(order.lines.map((line) => line.productId)).size).toBe(order.lines.length);
    const full = orders.filter((order) => order.lines.length === 4);
    expect(full.length).toBeGreaterThan(1_000);
    for (const order of full) expect(order.lines.map((line) => line.productId).sort()).toEqual(catalogue(4));
  });

  it('gives every order a valid, strictly increasing UUIDv7 id stamped with the clock', () => {
    const orders = drawMany({ productIds: catalogue(10), seed: 1 }, 2000);
    for (const order of orders) expect(isUuidV7(order.orderId)).toBe(true);
    expect(new Set(orders.map((o) => o.orderId)).size).toBe(orders.length);
    expect(orders.map((o) => o.orderId)).toEqual([...orders.map((o) => o.orderId)].sort());
    expect(uuidV7Timestamp(orders[0]!.orderId)).toBe(NOW);
    // Another run (later clock) with the same seed yields other ids.
    const later = drawMany({ productIds: catalogue(10), seed: 1 }, 10, NOW + 1);
    expect(later[0]!.orderId).not.toBe(orders[0]!.orderId);
  });

  it('draws quantities in 1..maxQuantity, mostly 1-3', () => {
    const quantities = drawMany({ productIds: catalogue(5), seed: 3, maxQuantity: 5 }, 20_000).map((o) => o.lines[0]!.quantity);
    expect(Math.min(...quantities)).toBe(1);
    expect(Math.max(...quantities)).toBe(5);
    const smallShare = quantities.filter((q) => q <= 3).length / quantities.length;
    expect(smallShare).toBeGreaterThan(0.85);
    const counts = frequencies(quantities);
    expect(counts.get(1)!).toBeGreaterThan(counts.get(2)!);
    expect(counts.get(2)!).toBeGreaterThan(counts.get(3)!);
    expect(drawMany({ productIds: catalogue(5), quantityDecay: 1, maxQuantity: 9 }, 500).every((o) => o.lines[0]!.quantity === 1)).toBe(true);
  });

  it('draws customers customer-1..customer-<n>', () => {
    const ids = new Set(drawMany({ productIds: catalogue(3), customers: 4 }, 2000).map((o) => o.customerId));
    expect([...ids].sort()).toEqual(['customer-1', 'customer-2', 'customer-3', 'customer-4']);
  });

  it('spreads uniform popularity roughly flat over the catalogue', () => {
    const n = 20;
    const draws = 40_000;
    const counts = frequencies(drawMany({ productIds: catalogue(n), popularity: { kind: 'uniform' }, seed: 5 }, draws).map((o) => o.lines[0]!.productId));
    expect(counts.size).toBe(n);
    for (const count of counts.values()) expect(Math.abs(count - draws / n)).toBeLessThan(0.1 * (draws / n));
  });

  it('concentrates zipf popularity on the first ranks, more so with a larger skew', () => {
    const ids = catalogue(1000);
    const topTenShare = (skew: number) => {
      const orders = drawMany({ productIds: ids, popularity: { kind: 'zipf', skew }, seed: 8 }, 30_000);
      return orders.filter((o) => o.lines[0]!.productId < ids[10]!).length / orders.length;
    };
    const flat = topTenShare(0);
    const skewed = topTenShare(1.1);
    const steep = topTenShare(2);
    expect(flat).toBeLessThan(0.02); // ~1% of 1000 products
    expect(skewed).toBeGreaterThan(0.4);
    expect(steep).toBeGreaterThan(skewed);
    // Rank 1 vs rank 2 under skew 1: about 2:1.
    const counts = frequencies(drawMany({ productIds: ids, popularity: { kind: 'zipf', skew: 1 }, seed: 9 }, 60_000).map((o) => o.lines[0]!.productId));
    const ratio = counts.get(ids[0]!)! / counts.get(ids[1]!)!;
    expect(ratio).toBeGreaterThan(1.7);
    expect(ratio).toBeLessThan(2.3);
  });

  it.each([
    ['no products', { productIds: [] }, 'order generator: productIds is empty; it needs at least one product id'],
    ['a non-integer product id', { productIds: [1, 2.5] }, 'productIds[1] must be a positive integer, got 2.5'],
    ['a negative skew', { productIds: [1], popularity: { kind: 'zipf', skew: -1 } }, 'popularity.skew must be a finite number >= 0, got -1'],
    ['an unknown popularity', { productIds: [1], popularity: { kind: 'pareto' } }, "popularity.kind must be 'uniform' or 'zipf'"],
    ['maxQuantity 0', { productIds: [1], maxQuantity: 0 }, 'maxQuantity must be an integer >= 1, got 0'],
    ['no customers', { productIds: [1], customers: 0 }, 'customers must be an integer >= 1, got 0'],
    ['quantityDecay 0', { productIds: [1], quantityDecay: 0 }, 'quantityDecay must be in (0, 1], got 0'],
    ['an infinite seed', { productIds: [1], seed: Number.POSITIVE_INFINITY }, 'seed must be a finite number'],
    ['a product listed twice', { productIds: [1, 2, 1] }, 'productIds[2] repeats product 1; an order holds each product once'],
    [
      'more lines than an OrderCreated holds',
      { productIds: [1], lineCounts: { spec: '1:1,101:1', weights: [{ count: 1, weight: 1 }, { count: 101, weight: 1 }], mean: 51 } },
      'lineCounts.weights[1].count must be an integer from 1 to 100, got 101',
    ],
  ])('refuses %s with a RangeError that says what is wrong', (_name, options, message) => {
    expect(() => createOrderGenerator(options as OrderGeneratorOptions)).toThrow(RangeError);
    expect(() => createOrderGenerator(options as OrderGeneratorOptions)).toThrow(message);
  });
});

describe('distributions', () => {
  it('never draws a zero-weight index and follows the weights', () => {
    const sample = createCdfSampler([0, 3, 0, 1, 0]);
    const random = createRandom(4);
    const counts = frequencies(Array.from({ length: 20_000 }, () => sample(random)));
    expect([...counts.keys()].sort()).toEqual([1, 3]);
    expect(counts.get(1)! / counts.get(3)!).toBeCloseTo(3, 0);
  });

  it('builds zipf and geometric weights', () => {
    expect([...zipfWeights(3, 0)]).toEqual([1, 1, 1]);
    expect([...zipfWeights(3, 1)]).toEqual([1, 1 / 2, 1 / 3]);
    expect([...geometricWeights(3, 0.5)]).toEqual([1, 0.5, 0.25]);
    expect(() => createCdfSampler([])).toThrow(RangeError);
    expect(() => createCdfSampler([0, 0])).toThrow('positive total weight');
  });
});

describe('largestOrder', () => {
  const encodedSize = (order: GeneratedOrder) => encodeEvent(orderCreated(order, 0)).length;

  it('is at least as large, encoded, as every order the generator draws', () => {
    const options: OrderGeneratorOptions = { productIds: [3, 50, 7, 1000, 999, 12], lineCounts: lineCounts('1:5,2:3,4:1'), maxQuantity: 9, customers: 500, seed: 7 };
    const largest = largestOrder(options);
    expect(largest.lines).toEqual([
      { productId: 1000, quantity: 9 },
      { productId: 999, quantity: 9 },
      { productId: 50, quantity: 9 },
      { productId: 12, quantity: 9 },
    ]);
    const generator = createOrderGenerator(options);
    const bound = encodedSize(largest);
    for (let i = 0; i < 5_000; i++) expect(encodedSize(generator.next(1_700_000_000_000 + i))).toBeLessThanOrEqual(bound);
  });

  it('caps its lines at the catalogue, as the generator does', () => {
    expect(largestOrder({ productIds: [1, 2], lineCounts: lineCounts('100') }).lines).toHaveLength(2);
    expect(largestOrder({ productIds: [1, 2] }).lines).toHaveLength(1);
  });
});
