/**
 * Draws synthetic orders for load tests and demos: how many lines (a count distribution), which
 * distinct products (uniform or Zipf popularity over the catalogue), how many of each, which
 * customer. Pure: the clock comes in as an argument.
 *
 * Reproducibility: the (lines, customerId) sequence depends only on the seed. Order ids come
 * from a separate stream derived from the same seed, so how many random numbers an id consumes
 * never shifts the order sequence; their timestamp part keeps them unique across runs. Two
 * generators running at the same time should get different seeds. A line count that is always
 * the same draws no random number, so one-line orders are the sequence the generator drew when
 * every order had one product.
 */
import type { CountDistribution } from '../core/count-distribution.ts';
import { createRandom, createUuidV7Source, deriveRandom, type Random } from '../core/random.ts';
import type { IndexSampler } from './distributions.ts';
import { createCdfSampler, geometricWeights, zipfWeights } from './distributions.ts';
import { ORDER_MAX_LINES, type OrderLine } from './events.ts';

export type Popularity = { kind: 'uniform' } | { kind: 'zipf'; skew: number };

export interface OrderGeneratorOptions {
  /** The catalogue. Under Zipf, the first id is the most popular (rank 1), and so on. */
  productIds: readonly number[];
  popularity?: Popularity;
  seed?: number;
  /** Largest quantity of one order (default 5). */
  maxQuantity?: number;
  /**
   * Success probability of the truncated geometric quantity distribution (default 0.5):
   * P(q) ∝ (1 - p)^(q - 1). 1 makes every quantity 1.
   */
  quantityDecay?: number;
  /** Size of the customer population (default 10 000): ids `customer-1` .. `customer-<n>`. */
  customers?: number;
  /**
   * How many lines an order has (default: always 1), at most ORDER_MAX_LINES. A count above the
   * catalogue's size is capped at it: an order holds each product once.
   */
  lineCounts?: CountDistribution;
}

export interface GeneratedOrder {
  orderId: string;
  customerId: string;
  lines: OrderLine[];
}

export interface OrderGenerator {
  /** The next order, its id stamped with `nowMs` (ids strictly increase, even within one millisecond). */
  next(nowMs: number): GeneratedOrder;
}

export const DEFAULT_ORDER_GENERATOR = {
  popularity: { kind: 'uniform' } as Popularity,
  seed: 1,
  maxQuantity: 5,
  quantityDecay: 0.5,
  customers: 10_000,
};

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`order generator: ${name} must be an integer >= ${min}, got ${value}`);
  }
}

/**
 * Redraws of a product already in the order before taking the next free one in popularity order
 * instead: under a steep skew the last free products can be too rare to draw in reasonable time.
 */
const MAX_REDRAWS = 32;

function lineCountSampler(lineCounts: CountDistribution | undefined): (random: Random) => number {
  if (lineCounts === undefined) return () => 1;
  const counts = lineCounts.weights.map((entry) => entry.count);
  counts.forEach((count, i) => {
    if (!Number.isSafeInteger(count) || count < 1 || count > ORDER_MAX_LINES) {
      throw new RangeError(`order generator: lineCounts.weights[${i}].count must be an integer from 1 to ${ORDER_MAX_LINES}, got ${count}`);
    }
  });
  if (counts.length === 1) return () => counts[0]!;
  const drawIndex = createCdfSampler(lineCounts.weights.map((entry) => entry.weight));
  return (random) => counts[drawIndex(random)]!;
}

function popularitySampler(productCount: number, popularity: Popularity): IndexSampler {
  if (popularity.kind === 'uniform') return (random) => random.nextInt(productCount);
  if (popularity.kind === 'zipf') {
    if (!Number.isFinite(popularity.skew) || popularity.skew < 0) {
      throw new RangeError(`order generator: popularity.skew must be a finite number >= 0, got ${popularity.skew}`);
    }
    return createCdfSampler(zipfWeights(productCount, popularity.skew));
  }
  throw new RangeError(`order generator: popularity.kind must be 'uniform' or 'zipf', got ${JSON.stringify((popularity as { kind: unknown }).kind)}`);
}

export function createOrderGenerator(options: OrderGeneratorOptions): OrderGenerator {
  const productIds = [...options.productIds];
  if (productIds.length === 0) throw new RangeError('order generator: productIds is empty; it needs at least one product id');
  const seen = new Set<number>();
  productIds.forEach((id, i) => {
    if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`order generator: productIds[${i}] must be a positive integer, got ${id}`);
    if (seen.has(id)) throw new RangeError(`order generator: productIds[${i}] repeats product ${id}; an order holds each product once`);
    seen.add(id);
  });
  const seed = options.seed ?? DEFAULT_ORDER_GENERATOR.seed;
  if (!Number.isFinite(seed)) throw new RangeError(`order generator: seed must be a finite number, got ${seed}`);
  const maxQuantity = options.maxQuantity ?? DEFAULT_ORDER_GENERATOR.maxQuantity;
  requireInteger('maxQuantity', maxQuantity, 1);
  const customers = options.customers ?? DEFAULT_ORDER_GENERATOR.customers;
  requireInteger('customers', customers, 1);
  const quantityDecay = options.quantityDecay ?? DEFAULT_ORDER_GENERATOR.quantityDecay;
  if (!(quantityDecay > 0 && quantityDecay <= 1)) {
    throw new RangeError(`order generator: quantityDecay must be in (0, 1], got ${quantityDecay}`);
  }

  const drawLineCount = lineCountSampler(options.lineCounts);
  const drawProduct = popularitySampler(productIds.length, options.popularity ?? DEFAULT_ORDER_GENERATOR.popularity);
  const drawQuantityIndex = createCdfSampler(geometricWeights(maxQuantity, quantityDecay));
  const random = createRandom(seed);
  const nextOrderId = createUuidV7Source(deriveRandom(seed, 'order-ids'));

  /** A product index not in `taken`: drawn by popularity, or after MAX_REDRAWS the next free one from a draw on. */
  const drawFreeProduct = (taken: ReadonlySet<number>): number => {
    let index = drawProduct(random);
    for (let redraw = 0; redraw < MAX_REDRAWS && taken.has(index); redraw++) index = drawProduct(random);
    while (taken.has(index)) index = (index + 1) % productIds.length;
    return index;
  };

  return {
    next(nowMs) {
      const count = Math.min(drawLineCount(random), productIds.length);
      const taken = new Set<number>();
      const lines = new Array<OrderLine>(count);
      for (let line = 0; line < count; line++) {
        const index = drawFreeProduct(taken);
        taken.add(index);
        lines[line] = { productId: productIds[index]!, quantity: drawQuantityIndex(random) + 1 };
      }
      const customerId = `customer-${random.nextInt(customers) + 1}`;
      return { orderId: nextOrderId(nowMs), customerId, lines };
    },
  };
}

/**
 * An order at least as large, encoded, as any `createOrderGenerator(options)` can draw: the most
 * lines it may draw, on the products with the longest ids, each at the largest quantity, for the
 * last customer. A source checks that its topic can take one before it starts (a broker refuses
 * a larger record for good, and the order could never be published).
 */
export function largestOrder(options: OrderGeneratorOptions): GeneratedOrder {
  const counts = options.lineCounts?.weights.map((entry) => entry.count) ?? [1];
  const byIdLength = [...options.productIds].sort((a, b) => b - a);
  const lineCount = Math.min(Math.max(...counts), byIdLength.length);
  const quantity = options.maxQuantity ?? DEFAULT_ORDER_GENERATOR.maxQuantity;
  return {
    // Every UUID has the same length; this one only stands for the size.
    orderId: 'ffffffff-ffff-7fff-bfff-ffffffffffff',
    customerId: `customer-${options.customers ?? DEFAULT_ORDER_GENERATOR.customers}`,
    lines: byIdLength.slice(0, lineCount).map((productId) => ({ productId, quantity })),
  };
}
