import { describe, expect, it } from '@jest/globals';
import { createRandom, isUuidV7, uuidV7Timestamp } from '../../../core/random.ts';
import { createCdfSampler, geometricWeights, zipfWeights } from '../../../processors/distributions.ts';
import type { GeneratedOrder, OrderGeneratorOptions } from '../../../processors/order-generator.ts';
import { createOrderGenerator } from '../../../processors/order-generator.ts';

const NOW = Date.parse('2026-11-03T10:00:00Z');
const catalogue = (n: number) => Array.from({ length: n }, (_, i) => 1000 + i);

function drawMany(options: OrderGeneratorOptions, count: number, startMs = NOW) {
  const generator = createOrderGenerator(options);
  return Array.from({ length: count }, (_, i) => generator.next(startMs + Math.floor(i / 10)));
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

  it('draws fast over 100k products', () => {
    const generator = createOrderGenerator({ productIds: catalogue(100_000), popularity: { kind: 'zipf', skew: 1.1 }, seed: 1 });
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) generator.next(NOW + (i >> 8));
    // Generous for a loaded CI machine; measured well under 200 ms on a 2-core box.
    expect(performance.now() - started).toBeLessThan(2000);
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
