/**
 * The inventory rule as a per-record processor for the topology runtime.
 *
 * Stores (the runtime prefetches the keys of `prefetchKeys` before a batch and writes the
 * stores back in the batch's transaction):
 * - `inventory`: productId (number) -> ProductStock. A missing key means an unknown product;
 *   a catalogue product without stock is {quantity: 0, version: 0}.
 * - `order-decisions`: orderId (string) -> OrderState ({productId, quantity, status, reason?}),
 *   the stored orders. A record whose order is not stored, or is stored for another product or
 *   quantity, is refused (OrderNotStoredError, OrderMismatchError: a dead letter, never applied
 *   nor counted); an order already decided is skipped, so a duplicate OrderCreated on the topic
 *   never applies twice. The sink writes the batch's new decisions to the orders table.
 *
 * It decides one-line orders only: an order of several lines is refused before any store is read
 * (MultiLineOrderError, a dead letter), since its lead line alone is not the order.
 *
 * Output: InventoryUpdated events (key productId), one per changed product per batch,
 * forwarded from flush() with the product's new version, how many of its orders were
 * confirmed and rejected, and the offset range of its orders in the batch: counts, never ids,
 * so an event's size does not grow with the batch. Per-order outcomes travel through the
 * `order-decisions` store, not as records: they are table updates, not messages.
 *
 * The processor keeps per-batch state between process() and flush(). init() clears it, so a
 * runtime that retries a failed batch must call init() again (or build a new processor).
 */

import type { InputRecord, Processor, ProcessorContext } from '../topology/processor-api.ts';
import type { InventoryUpdated, OrderCreated } from './events.ts';
import { eventHeaders, inventoryUpdated } from './events.ts';
import type { OrderState, ProductStock } from './inventory.ts';
import { applyDecision, checkAgainstStored, decideOrder, oneLineOrder } from './inventory.ts';

export const INVENTORY_STORE = 'inventory';
export const ORDER_DECISIONS_STORE = 'order-decisions';

export type InventoryProcessorOutput = InventoryUpdated;

export interface InventoryPrefetchKeys {
  [INVENTORY_STORE]: number[];
  [ORDER_DECISIONS_STORE]: string[];
}

/** The store keys one order needs loaded before its batch runs. */
export function prefetchKeys(order: OrderCreated): InventoryPrefetchKeys {
  return { [INVENTORY_STORE]: [order.payload.lines[0]!.productId], [ORDER_DECISIONS_STORE]: [order.payload.orderId] };
}

interface PendingProductChange {
  before: ProductStock;
  confirmed: number;
  rejected: number;
  topic: string;
  partition: number;
  fromOffset: bigint;
  toOffset: bigint;
}

export function createInventoryProcessor(): Processor<OrderCreated, InventoryProcessorOutput> {
  // Map keeps insertion order, so flush() emits products in the order they first appeared.
  let pending = new Map<number, PendingProductChange>();

  const stores = (context: ProcessorContext<InventoryProcessorOutput>) => ({
    inventory: context.getStateStore<number, ProductStock>(INVENTORY_STORE),
    decisions: context.getStateStore<string, OrderState>(ORDER_DECISIONS_STORE),
  });

  return {
    init() {
      pending = new Map();
    },

    process(record: InputRecord<OrderCreated>, context) {
      const { orderId, productId, quantity } = oneLineOrder(record.value.payload);
      const { inventory, decisions } = stores(context);
      const stored = decisions.get(orderId);
      checkAgainstStored({ orderId, productId, quantity }, stored);
      if (stored.status !== 'pending') return;

      const { topic, partition, offset } = context.recordMetadata();
      const stock = inventory.get(productId) ?? null;
      const decision = decideOrder(stock, quantity);
      decisions.put(orderId, { productId, quantity, ...decision });

      if (stock !== null) {
        inventory.put(productId, applyDecision(stock, quantity, decision));
        const change = trackChange(pending, productId, stock, { topic, partition, offset });
        if (decision.status === 'confirmed') change.confirmed += 1;
        else change.rejected += 1;
      }
    },

    flush(context) {
      const { inventory } = stores(context);
      const occurredAt = context.currentTimeMs();
      for (const [productId, change] of pending) {
        const current = inventory.get(productId)!;
        const version = change.before.version + 1;
        inventory.put(productId, { quantity: current.quantity, version });
        const event = inventoryUpdated(
          {
            productId,
            quantity: current.quantity,
            delta: current.quantity - change.before.quantity,
            version,
            reserved: change.confirmed,
            refused: change.rejected,
            released: 0,
            restocked: 0,
            source: { topic: change.topic, partition: change.partition, fromOffset: change.fromOffset, toOffset: change.toOffset },
          },
          occurredAt,
        );
        context.forward({ key: String(productId), value: event, headers: eventHeaders(event) });
      }
      pending = new Map();
    },
  };
}

function trackChange(
  pending: Map<number, PendingProductChange>,
  productId: number,
  stockBefore: ProductStock,
  at: { topic: string; partition: number; offset: bigint },
): PendingProductChange {
  const change = pending.get(productId);
  if (change === undefined) {
    // The stock before the product's first order of the batch: flush() derives delta and version from it.
    const created = { before: { ...stockBefore }, confirmed: 0, rejected: 0, topic: at.topic, partition: at.partition, fromOffset: at.offset, toOffset: at.offset };
    pending.set(productId, created);
    return created;
  }
  if (at.offset < change.fromOffset) change.fromOffset = at.offset;
  if (at.offset > change.toOffset) change.toOffset = at.offset;
  return change;
}
