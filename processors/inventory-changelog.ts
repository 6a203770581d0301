/**
 * The compact InventoryUpdated changelog: whatever moved a product's stock in a batch (lines
 * reserved or refused, lines released, restocks), one event per changed product per batch, with
 * the product's new version (+1 per event), the counts of each kind of move and the offset range
 * of the records behind them. Counts, never ids, so an event's size does not grow with the batch.
 *
 * The processors that move stock record each move here as they process and flush it at the end
 * of their batch; the batch's last value of the product is the event's quantity.
 */
import type { KeyValueStore, ProcessorContext, RecordMetadata } from '../topology/processor-api.ts';
import { eventHeaders, type InventoryUpdated, inventoryUpdated } from './events.ts';
import type { ProductStock } from './inventory.ts';

export type StockMove = 'reserved' | 'refused' | 'released' | 'restocked';

interface PendingChange {
  before: ProductStock;
  moves: Record<StockMove, number>;
  topic: string;
  partition: number;
  fromOffset: bigint;
  toOffset: bigint;
}

export class InventoryChangelog {
  // Map keeps insertion order, so flush() emits products in the order they first moved.
  #pending = new Map<number, PendingChange>();

  clear(): void {
    this.#pending = new Map();
  }

  /** A move of `productId`, whose stock was `before` just ahead of it, made by the record at `at`. */
  record(productId: number, before: ProductStock, move: StockMove, at: Pick<RecordMetadata, 'topic' | 'partition' | 'offset'>): void {
    const change = this.#pending.get(productId);
    if (change === undefined) {
      // The stock before the product's first move of the batch: flush() derives delta and version from it.
      const moves = { reserved: 0, refused: 0, released: 0, restocked: 0 };
      moves[move] = 1;
      this.#pending.set(productId, { before: { ...before }, moves, topic: at.topic, partition: at.partition, fromOffset: at.offset, toOffset: at.offset });
      return;
    }
    change.moves[move] += 1;
    if (at.offset < change.fromOffset) change.fromOffset = at.offset;
    if (at.offset > change.toOffset) change.toOffset = at.offset;
  }

  /** Bumps each changed product's version and forwards its InventoryUpdated to `sink`. */
  flush(inventory: KeyValueStore<number, ProductStock>, context: ProcessorContext<unknown>, sink: string): void {
    const occurredAt = context.currentTimeMs();
    for (const [productId, change] of this.#pending) {
      const current = inventory.get(productId)!;
      const version = change.before.version + 1;
      inventory.put(productId, { quantity: current.quantity, version });
      const event: InventoryUpdated = inventoryUpdated(
        {
          productId,
          quantity: current.quantity,
          delta: current.quantity - change.before.quantity,
          version,
          ...change.moves,
          source: { topic: change.topic, partition: change.partition, fromOffset: change.fromOffset, toOffset: change.toOffset },
        },
        occurredAt,
      );
      context.forward({ key: String(productId), value: event, headers: eventHeaders(event) }, sink);
    }
    this.#pending = new Map();
  }
}
