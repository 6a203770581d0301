/**
 * Per product, the stock is what the run's decisions and restocks make of it: initial + the
 * restocks applied − the quantities of the lines of confirmed orders (a rejected order released
 * what it reserved, a cancelled one gave it back), and never negative.
 */
import type { AppliedRestock, StockRow, StoredOrder } from './order-flow-model.ts';

/** What the database says each product's stock went through. */
export interface ProductTally {
  /** Lines of confirmed orders: the reservations that stand. */
  confirmedLines: number;
  confirmedUnits: number;
  restocks: number;
  restockedUnits: number;
}

const emptyTally = (): ProductTally => ({ confirmedLines: 0, confirmedUnits: 0, restocks: 0, restockedUnits: 0 });

export function tallyProducts(orders: readonly StoredOrder[], restocks: readonly AppliedRestock[]): Map<number, ProductTally> {
  const tallies = new Map<number, ProductTally>();
  const tallyOf = (productId: number) => tallies.get(productId) ?? tallies.set(productId, emptyTally()).get(productId)!;
  for (const order of orders.filter((candidate) => candidate.status === 'confirmed')) {
    for (const line of order.lines) {
      const tally = tallyOf(line.productId);
      tally.confirmedLines += 1;
      tally.confirmedUnits += line.quantity;
    }
  }
  for (const restock of restocks) {
    const tally = tallyOf(restock.productId);
    tally.restocks += 1;
    tally.restockedUnits += restock.quantity;
  }
  return tallies;
}

export function findStockViolations(
  initialStock: ReadonlyMap<number, number>,
  orders: readonly StoredOrder[],
  inventory: readonly StockRow[],
  tallies: ReadonlyMap<number, ProductTally>,
): string[] {
  const violations: string[] = [];
  for (const order of orders.filter((candidate) => candidate.status === 'confirmed')) {
    for (const line of order.lines) {
      if (!initialStock.has(line.productId)) violations.push(`order ${order.id} is confirmed with a line of unknown product ${line.productId}`);
    }
  }
  const rows = new Map(inventory.map((row) => [row.productId, row]));
  for (const [productId, initial] of initialStock) {
    const row = rows.get(productId);
    if (row === undefined) {
      violations.push(`product ${productId} has no inventory row`);
      continue;
    }
    if (row.quantity < 0) violations.push(`product ${productId} has negative stock ${row.quantity}`);
    const { confirmedUnits, restockedUnits } = tallies.get(productId) ?? emptyTally();
    const expected = initial + restockedUnits - confirmedUnits;
    if (row.quantity !== expected) {
      violations.push(`product ${productId}: stock ${row.quantity}, but initial ${initial} + restocked ${restockedUnits} - confirmed ${confirmedUnits} = ${expected}`);
    }
  }
  return violations;
}
