/** Comparing and printing the lines of an order (product and quantity), whatever their order. */
import type { OrderLine } from '../processors/events.ts';

const byProduct = (lines: readonly OrderLine[]) => [...lines].sort((a, b) => a.productId - b.productId);

/** The same products with the same quantities: lines report at the order's partition in any order. */
export function sameLines(actual: readonly OrderLine[], expected: readonly OrderLine[]): boolean {
  if (actual.length !== expected.length) return false;
  const wanted = byProduct(expected);
  return byProduct(actual).every((line, i) => line.productId === wanted[i]!.productId && line.quantity === wanted[i]!.quantity);
}

/** `[product 3 × 2, product 5 × 1]` */
export function describeLines(lines: readonly OrderLine[]): string {
  return `[${byProduct(lines).map((line) => `product ${line.productId} × ${line.quantity}`).join(', ')}]`;
}
