/**
 * The stock rule, pure: the lines of one product are decided in the order they reach its
 * partition; a line is reserved only if the stock at its turn covers it, otherwise refused with
 * a reason. Stock never goes below zero. Versions move once per batch (inventory-changelog.ts:
 * one InventoryUpdated per product per batch).
 */
import type { RejectionReason } from './events.ts';

export type { RejectionReason } from './events.ts';

export interface ProductStock {
  quantity: number;
  version: number;
}

export type OrderDecision = { status: 'confirmed' } | { status: 'rejected'; reason: RejectionReason };

function assertOrderQuantity(quantity: number): void {
  // Decoding already rejects these; reaching here with one is a programmer error, not bad data.
  if (!Number.isSafeInteger(quantity) || quantity <= 0) throw new RangeError(`order quantity must be a positive integer, got ${quantity}`);
}

/** `stock` null means the product is unknown. */
export function decideOrder(stock: ProductStock | null, quantity: number): OrderDecision {
  assertOrderQuantity(quantity);
  if (stock === null) return { status: 'rejected', reason: 'unknown_product' };
  if (stock.quantity >= quantity) return { status: 'confirmed' };
  return { status: 'rejected', reason: 'out_of_stock' };
}

/** The stock after a decision (same object when nothing changes). Versions move per batch, not here. */
export function applyDecision(stock: ProductStock, quantity: number, decision: OrderDecision): ProductStock {
  return decision.status === 'confirmed' ? { quantity: stock.quantity - quantity, version: stock.version } : stock;
}
