/**
 * InventoryUpdated is the inventory table's changelog, one event per product per committed
 * batch: per product, versions 1..n without a gap, n the stored version; replaying the deltas
 * from the initial stock gives every event's quantity and the stored stock; and the counts add
 * up to the database: the reservations that stand (reserved − released) are the lines of
 * confirmed orders, the restocks counted are the restocks applied.
 */
import type { InventoryUpdate } from './inventory-update.ts';
import type { Published, StockRow } from './order-flow-model.ts';
import type { ProductTally } from './order-flow-stock.ts';

export function findChangelogViolations(
  initialStock: ReadonlyMap<number, number>,
  inventory: readonly StockRow[],
  tallies: ReadonlyMap<number, ProductTally>,
  updates: ReadonlyArray<Published<InventoryUpdate>>,
): string[] {
  const violations: string[] = [];
  for (const { key, event } of updates) {
    if (key !== String(event.productId)) violations.push(`inventory-updated:${event.productId}:${event.version} has key ${key}, not its product id`);
  }
  const byProduct = Map.groupBy(
    updates.map(({ event }) => event),
    (event) => event.productId,
  );
  for (const [productId, events] of byProduct) {
    if (!initialStock.has(productId)) violations.push(`unknown product ${productId} has ${events.length} InventoryUpdated versions`);
  }

  for (const row of inventory) {
    const { productId } = row;
    const initial = initialStock.get(productId);
    if (initial === undefined) continue;
    const events = (byProduct.get(productId) ?? []).sort((a, b) => a.version - b.version);
    const versions = events.map((event) => event.version);
    if (!versions.every((version, index) => version === index + 1)) violations.push(`product ${productId}: versions on the topic are ${summarize(versions)}, not 1..${versions.length}`);
    if (row.version !== versions.length) violations.push(`product ${productId}: stored version ${row.version}, but ${versions.length} versions on the topic`);

    let quantity = initial;
    const counted = { reserved: 0, released: 0, restocked: 0 };
    for (const event of events) {
      const at = `product ${productId} v${event.version}`;
      quantity += event.delta;
      counted.reserved += event.reserved;
      counted.released += event.released;
      counted.restocked += event.restocked;
      if (event.quantity !== quantity) violations.push(`${at}: quantity ${event.quantity}, replayed ${quantity}`);
      if (event.quantity < 0) violations.push(`${at}: negative quantity ${event.quantity}`);
      // Only reservations take stock; only releases and restocks give it back.
      if (event.delta < 0 && event.reserved === 0) violations.push(`${at}: delta ${event.delta} with no line reserved`);
      if (event.delta > 0 && event.released + event.restocked === 0) violations.push(`${at}: delta +${event.delta} with no line released and no restock`);
    }
    if (quantity !== row.quantity) violations.push(`product ${productId}: its InventoryUpdated events replay to ${quantity}, but the stock is ${row.quantity}`);
    const tally = tallies.get(productId) ?? { confirmedLines: 0, restocks: 0 };
    const standing = counted.reserved - counted.released;
    if (standing !== tally.confirmedLines) {
      violations.push(`product ${productId}: its InventoryUpdated reserved ${counted.reserved} and released ${counted.released} lines, but ${tally.confirmedLines} lines of confirmed orders hold stock`);
    }
    if (counted.restocked !== tally.restocks) violations.push(`product ${productId}: its InventoryUpdated count ${counted.restocked} restocks, but ${tally.restocks} are applied`);
  }
  return violations;
}

function summarize(versions: number[]): string {
  return versions.length <= 12 ? `[${versions.join(',')}]` : `[${versions.slice(0, 6).join(',')},...,${versions.slice(-6).join(',')}] (${versions.length})`;
}
