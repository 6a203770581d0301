/**
 * The reference pipeline's domain effects, written by the transactional sink's commit statement:
 * order statuses from the `order-decisions` store, and the inventory rows from the batch's
 * InventoryUpdated events (the events are the inventory table's changelog: one per product per
 * batch, a summed delta and a version one above the stored one).
 */
import type { StoreChange } from '../core/batch.ts';
import { inventoryUpdatedCodec } from '../processors/events.ts';
import type { OrderState } from '../processors/inventory.ts';
import type { BatchToCommit, EffectsStatement, StatementEffects } from '../sinks/transactional-sink.ts';
import { inventoryChangesCtes } from '../state/commerce/inventory-store.ts';
import { decideOrdersCte, type OrderOutcome } from '../state/commerce/order-store.ts';

export interface InventoryEffectsOptions {
  inventoryTopic: string;
  decisionsStore: string;
  /** The store a stale inventory row is reported against; default `inventory`. */
  inventoryStore?: string;
}

export function inventoryEffects(options: InventoryEffectsOptions): StatementEffects {
  return {
    statement(batch: BatchToCommit, guard: string): EffectsStatement {
      const decisions = (batch.storeChanges.get(options.decisionsStore) ?? []) as Array<StoreChange<string, Pick<OrderState, 'status'> & { reason?: string }>>;
      const outcomes = decisions.flatMap(({ key: orderId, after: decision }): OrderOutcome[] =>
        decision === undefined || decision.status === 'pending' ? [] : [decision.status === 'rejected' ? { orderId, status: 'rejected', reason: decision.reason } : { orderId, status: 'confirmed' }],
      );
      // Each change names the quantity it was computed from (after minus delta): the write is a
      // compare-and-set on it, so a hand-edited row is reported stale instead of overwritten.
      const changes = batch.outputs
        .filter((output) => output.topic === options.inventoryTopic)
        .map((output) => inventoryUpdatedCodec.decode(output.value).payload)
        .map((event) => ({ productId: event.productId, delta: event.delta, version: event.version, quantityBefore: event.quantity - event.delta }));
      const decide = outcomes.length > 0 ? decideOrdersCte('decided', outcomes, guard) : undefined;
      const inventory = inventoryChangesCtes('inventory', changes, guard, options.inventoryStore ?? 'inventory');
      return {
        ctes: [...(decide ? [decide.cte] : []), ...inventory.ctes],
        bind: { ...decide?.bind, ...inventory.bind },
        result: inventory.after,
        check: (after) => void inventory.readAfter(after),
      };
    },
  };
}
