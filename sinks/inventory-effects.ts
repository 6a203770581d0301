/**
 * The reference pipeline's domain effects, written by the transactional sink's commit statement:
 * order statuses from the `order-decisions` store, and the inventory rows from the batch's
 * InventoryUpdated events (the events are the inventory table's changelog: one per product per
 * batch, a summed delta and a version one above the stored one).
 */
import { inventoryUpdatedCodec } from '../core/events.ts';
import type { OrderDecision } from '../processors/inventory.ts';
import { inventoryChangesCtes } from '../state/inventory-store.ts';
import { decideOrdersCte, type OrderOutcome } from '../state/order-store.ts';
import type { BatchToCommit, EffectsStatement, StatementEffects } from './transactional-sink.ts';

export interface InventoryEffectsOptions {
  inventoryTopic: string;
  decisionsStore: string;
}

export function inventoryEffects(options: InventoryEffectsOptions): StatementEffects {
  return {
    statement(batch: BatchToCommit, guard: string): EffectsStatement {
      const decisions = (batch.storeChanges.get(options.decisionsStore) ?? []) as Array<[string, OrderDecision]>;
      const outcomes = decisions.map(([orderId, decision]): OrderOutcome =>
        decision.status === 'rejected' ? { orderId, status: 'rejected', reason: decision.reason } : { orderId, status: 'confirmed' },
      );
      const changes = batch.outputs
        .filter((output) => output.topic === options.inventoryTopic)
        .map((output) => inventoryUpdatedCodec.decode(output.value).payload)
        .map((event) => ({ productId: event.productId, delta: event.delta, version: event.version }));
      const decide = outcomes.length > 0 ? decideOrdersCte('decided', outcomes, guard) : undefined;
      const inventory = inventoryChangesCtes('inventory', changes, guard);
      return {
        ctes: [...(decide ? [decide.cte] : []), ...inventory.ctes],
        bind: { ...decide?.bind, ...inventory.bind },
        result: inventory.after,
        check: (after) => void inventory.readAfter(after),
      };
    },
  };
}
