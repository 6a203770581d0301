/**
 * The reference pipeline's domain effects, written inside the transactional sink's transaction:
 * order statuses from the `order-decisions` store, and the inventory rows from the batch's
 * InventoryUpdated events (the events are the inventory table's changelog: one per product per
 * batch, a summed delta and a version one above the stored one).
 */
import type { Transaction } from 'sequelize';
import { inventoryUpdatedCodec } from '../core/events.ts';
import type { OrderDecision } from '../processors/inventory.ts';
import { applyInventoryChanges } from '../state/inventory-store.ts';
import { decideOrders } from '../state/order-store.ts';
import type { BatchEffects, BatchToCommit } from './transactional-sink.ts';

export interface InventoryEffectsOptions {
  inventoryTopic: string;
  decisionsStore: string;
}

export function inventoryEffects(options: InventoryEffectsOptions): BatchEffects {
  return async (transaction: Transaction, batch: BatchToCommit) => {
    const decisions = (batch.storeChanges.get(options.decisionsStore) ?? []) as Array<[string, OrderDecision]>;
    await decideOrders(
      transaction,
      decisions.map(([orderId, decision]) => (decision.status === 'rejected' ? { orderId, status: 'rejected', reason: decision.reason } : { orderId, status: 'confirmed' })),
    );
    const changes = batch.outputs
      .filter((output) => output.topic === options.inventoryTopic)
      .map((output) => inventoryUpdatedCodec.decode(output.value).payload)
      .map((event) => ({ productId: event.productId, delta: event.delta, version: event.version }));
    await applyInventoryChanges(transaction, changes);
  };
}
