/**
 * The restocker's policy, apart from its I/O: given every product's stock and how many restock
 * commands the processor has not consumed yet, which products to restock, and by how much. Pure.
 */
import { partitionLag } from '../core/partitions.ts';

export interface RestockPolicy {
  /** A product is restocked while its stock is below this... */
  below: number;
  /** ...by this many units. */
  quantity: number;
}

/** A product's stock as the inventory table holds it: what the processor decided so far. */
export interface StockLevel {
  productId: number;
  quantity: number;
}

export interface PlannedRestock {
  productId: number;
  quantity: number;
}

/** At most this many restocks per tick (one send): a catalogue of 100,000 products all low waits for later ticks. */
export const MAX_RESTOCKS_PER_TICK = 1000;

export type RestockPlan = { kind: 'restock'; restocks: PlannedRestock[] } | { kind: 'wait'; unconsumedCommands: bigint };

/**
 * One restock of `policy.quantity` for each product below `policy.below`, the lowest stock first
 * (then by product id), at most MAX_RESTOCKS_PER_TICK. None while restock commands wait to be
 * consumed: the stock read is the processor's, and a restock not applied yet is not in it, so
 * restocking again would add the same units twice over (every tick of a processor outage would
 * pile up another round).
 */
export function planRestocks(stock: readonly StockLevel[], policy: RestockPolicy, unconsumedCommands: bigint): RestockPlan {
  if (unconsumedCommands > 0n) return { kind: 'wait', unconsumedCommands };
  const restocks = stock
    .filter((product) => product.quantity < policy.below)
    .sort((a, b) => a.quantity - b.quantity || a.productId - b.productId)
    .slice(0, MAX_RESTOCKS_PER_TICK)
    .map((product) => ({ productId: product.productId, quantity: policy.quantity }));
  return { kind: 'restock', restocks };
}

/**
 * The records of a topic the consumer group has not consumed: per partition, its end offset
 * minus the group's stored next offset (0 when the group never stored one for that partition).
 */
export function unconsumedRecords(endOffsets: ReadonlyMap<number, bigint>, consumed: ReadonlyMap<number, bigint>): bigint {
  let total = 0n;
  for (const [partition, end] of endOffsets) total += partitionLag(end, consumed.get(partition) ?? 0n);
  return total;
}
