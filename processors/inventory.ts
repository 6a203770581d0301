/**
 * The inventory business rule, pure: orders of one product are decided in offset order; an
 * order is confirmed only if the stock at its turn covers it, otherwise rejected with a
 * reason. Stock never goes below zero. Each product with at least one decided order in a
 * batch gets exactly one new version (one InventoryUpdated per product per batch).
 */
import { StreamError } from '../core/errors.ts';
import type { RejectedOrder, RejectionReason } from './events.ts';

export type { RejectedOrder, RejectionReason } from './events.ts';

export interface ProductStock {
  quantity: number;
  version: number;
}

export type OrderStatus = 'confirmed' | 'rejected';

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

export interface OrderToDecide {
  orderId: string;
  productId: number;
  quantity: number;
  offset: bigint;
}

export interface OrderOutcome {
  orderId: string;
  productId: number;
  quantity: number;
  status: OrderStatus;
  reason?: RejectionReason;
  offset: bigint;
}

export interface ProductChange {
  productId: number;
  before: ProductStock;
  /** `version` is `before.version + 1`. */
  after: ProductStock;
  /** after.quantity - before.quantity: negative, or 0 when every order was rejected. */
  delta: number;
  accepted: string[];
  rejected: RejectedOrder[];
  /** Offsets of the first and last order of this product in the batch. */
  fromOffset: bigint;
  toOffset: bigint;
}

export interface ReduceResult {
  /** One per decided order, in offset order. */
  outcomes: OrderOutcome[];
  /** One per known product that had orders, in order of first appearance. */
  changes: Map<number, ProductChange>;
  /** Orders not decided again: already decided earlier, or repeated within the batch (the first wins). */
  skipped: OrderToDecide[];
}

export interface ReduceOptions {
  /** Orders decided in an earlier batch (e.g. by a look-up of the order statuses); duplicates on the topic must not apply twice. */
  alreadyDecided?: (orderId: string) => boolean;
}

function byOffset(a: OrderToDecide, b: OrderToDecide): number {
  return a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0;
}

/**
 * Decides a batch of orders. `stockOf` is asked once per product, for the stock before the
 * batch (null = unknown product). Unknown products give rejections but no change entry.
 * Orders are taken in offset order whatever order they arrive in (Array#sort is stable, so
 * equal offsets keep their arrival order).
 */
export function reduceOrders(
  orders: readonly OrderToDecide[],
  stockOf: (productId: number) => ProductStock | null,
  options: ReduceOptions = {},
): ReduceResult {
  const outcomes: OrderOutcome[] = [];
  const changes = new Map<number, ProductChange>();
  const skipped: OrderToDecide[] = [];
  const unknownProducts = new Set<number>();
  const seenOrderIds = new Set<string>();

  for (const order of [...orders].sort(byOffset)) {
    if (seenOrderIds.has(order.orderId) || options.alreadyDecided?.(order.orderId)) {
      skipped.push(order);
      continue;
    }
    seenOrderIds.add(order.orderId);

    let change = changes.get(order.productId);
    if (change === undefined && !unknownProducts.has(order.productId)) {
      const before = stockOf(order.productId);
      if (before === null) unknownProducts.add(order.productId);
      else {
        change = {
          productId: order.productId,
          before: { quantity: before.quantity, version: before.version },
          after: { quantity: before.quantity, version: before.version + 1 },
          delta: 0,
          accepted: [],
          rejected: [],
          fromOffset: order.offset,
          toOffset: order.offset,
        };
        changes.set(order.productId, change);
      }
    }

    const decision = decideOrder(change?.after ?? null, order.quantity);
    const { orderId, productId, quantity, offset } = order;
    if (decision.status === 'confirmed') {
      outcomes.push({ orderId, productId, quantity, status: 'confirmed', offset });
    } else {
      outcomes.push({ orderId, productId, quantity, status: 'rejected', reason: decision.reason, offset });
    }
    if (change === undefined) continue;

    change.after = applyDecision(change.after, quantity, decision);
    change.delta = change.after.quantity - change.before.quantity;
    if (decision.status === 'confirmed') change.accepted.push(orderId);
    else change.rejected.push({ orderId, reason: decision.reason });
    change.toOffset = offset;
  }
  return { outcomes, changes, skipped };
}
