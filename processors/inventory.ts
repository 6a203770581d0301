/**
 * The inventory business rule, pure: orders of one product are decided in offset order; an
 * order is confirmed only if the stock at its turn covers it, otherwise rejected with a
 * reason. Stock never goes below zero. Versions move once per batch, in the inventory
 * processor (one InventoryUpdated per product per batch).
 */
import { StreamError } from '../core/errors.ts';
import type { OrderCreatedPayload, RejectionReason } from './events.ts';

export type { RejectionReason } from './events.ts';

export interface ProductStock {
  quantity: number;
  version: number;
}

export type OrderDecision = { status: 'confirmed' } | { status: 'rejected'; reason: RejectionReason };

/**
 * An order as the `orders` table holds it: what it is for, and its decision once made. An
 * OrderCreated moves stock only if it describes a stored, still pending order.
 */
export type OrderState = { productId: number; quantity: number } & ({ status: 'pending' } | OrderDecision);

export interface OrderFacts {
  orderId: string;
  productId: number;
  quantity: number;
}

/** An OrderCreated for an order id the `orders` table does not hold: nothing stored asked for that stock. */
export class OrderNotStoredError extends StreamError {
  readonly errorClass = 'OrderNotStoredError';
  constructor(order: OrderFacts) {
    super('RECORD_INVALID', `order ${order.orderId} is not stored in the orders table: an OrderCreated must describe a stored order; not applied`, {
      context: { ...order },
    });
  }
}

/** An OrderCreated whose product or quantity differs from the stored order of that id. */
export class OrderMismatchError extends StreamError {
  readonly errorClass = 'OrderMismatchError';
  constructor(order: OrderFacts, stored: OrderState) {
    super(
      'RECORD_INVALID',
      `order ${order.orderId} is stored for product ${stored.productId}, quantity ${stored.quantity}, but the record says product ${order.productId}, quantity ${order.quantity}; not applied`,
      { context: { ...order, storedProductId: stored.productId, storedQuantity: stored.quantity } },
    );
  }
}

/**
 * An order of more than one line reached this processor, which decides one line against one
 * product's stock: deciding the lead line alone would confirm part of an order. A dead letter
 * until the multi-line processor replaces this rule.
 */
export class MultiLineOrderError extends StreamError {
  readonly errorClass = 'MultiLineOrderError';
  constructor(orderId: string, lines: number) {
    super('RECORD_INVALID', `order ${orderId} has ${lines} lines; this processor decides one-line orders only`, { context: { orderId, lines } });
  }
}

/** The facts of a one-line order (its lead line, the one the orders row holds); throws MultiLineOrderError for more lines. */
export function oneLineOrder(order: OrderCreatedPayload): OrderFacts {
  if (order.lines.length !== 1) throw new MultiLineOrderError(order.orderId, order.lines.length);
  const { productId, quantity } = order.lines[0]!;
  return { orderId: order.orderId, productId, quantity };
}

/** Throws unless `order` describes `stored` exactly (decided or not). */
export function checkAgainstStored(order: OrderFacts, stored: OrderState | undefined): asserts stored is OrderState {
  if (stored === undefined) throw new OrderNotStoredError(order);
  if (stored.productId !== order.productId || stored.quantity !== order.quantity) throw new OrderMismatchError(order, stored);
}

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
