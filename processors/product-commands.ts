/**
 * The product's partition applying what the rest of the flow asks of its stock, in the order the
 * commands arrive (ProductCommand, commands.ts):
 *
 * - reserve a line of a multi-line order if the stock covers it, otherwise refuse it
 *   (`out_of_stock`, `unknown_product`), and report the result to the order's partition;
 * - release a line reserved earlier (its order was rejected or cancelled): the stock goes back;
 * - apply a restock, once per restock id (the `applied-restocks` store), and publish
 *   InventoryRestocked.
 *
 * Every move is in the batch's InventoryUpdated for the product (inventory-changelog.ts). A
 * release or restock of a product without a stock row, or one that would take the stock past
 * what the column holds, is refused as a dead letter: nothing is applied.
 */
import { StreamError } from '../core/errors.ts';
import type { InputRecord, Processor, ProcessorContext } from '../topology/processor-api.ts';
import type { LineResult, ProductCommand } from './commands.ts';
import { eventHeaders, PG_INTEGER_MAX } from './events.ts';
import { applyDecision, decideOrder, type ProductStock } from './inventory.ts';
import { InventoryChangelog } from './inventory-changelog.ts';
import { inventoryRestocked } from './outcome-events.ts';

export const PRODUCT_COMMAND_STORES = { inventory: 'inventory', restocks: 'applied-restocks' } as const;

/** A restock applied: the product and the units it added. */
export interface AppliedRestock {
  productId: number;
  quantity: number;
}

export interface ProductCommandSinks {
  inventoryUpdated: string;
  lineResults: string;
  restocked: string;
}

/** A release or restock that cannot be applied to the product's stock. */
export class StockCommandRefusedError extends StreamError {
  readonly errorClass = 'StockCommandRefusedError';
  constructor(command: ProductCommand, why: string) {
    super('RECORD_INVALID', `${command.kind} of ${command.quantity} for product ${command.productId}: ${why}; not applied`, {
      context: { kind: command.kind, productId: command.productId, quantity: command.quantity },
    });
  }
}

export function productCommandPrefetch(command: ProductCommand) {
  return {
    [PRODUCT_COMMAND_STORES.inventory]: [command.productId],
    [PRODUCT_COMMAND_STORES.restocks]: command.kind === 'restock' ? [command.restockId] : [],
  };
}

export function createProductCommands(sinks: ProductCommandSinks): () => Processor<ProductCommand, unknown> {
  return () => {
    const changelog = new InventoryChangelog();
    const inventoryOf = (context: ProcessorContext<unknown>) => context.getStateStore<number, ProductStock>(PRODUCT_COMMAND_STORES.inventory);

    /** The stock with `units` added, or a refusal when there is no stock row or the sum would not fit. */
    const added = (command: ProductCommand, stock: ProductStock | undefined, units: number): ProductStock => {
      if (stock === undefined) throw new StockCommandRefusedError(command, 'the product has no stock row');
      if (stock.quantity + units > PG_INTEGER_MAX) throw new StockCommandRefusedError(command, `the stock would exceed ${PG_INTEGER_MAX}`);
      return { quantity: stock.quantity + units, version: stock.version };
    };

    return {
      init() {
        changelog.clear();
      },

      process(record: InputRecord<ProductCommand>, context) {
        const command = record.value;
        const inventory = inventoryOf(context);
        const stock = inventory.get(command.productId);
        const at = context.recordMetadata();
        switch (command.kind) {
          case 'reserve': {
            const decision = decideOrder(stock ?? null, command.quantity);
            if (stock !== undefined) {
              changelog.record(command.productId, stock, decision.status === 'confirmed' ? 'reserved' : 'refused', at);
              inventory.put(command.productId, applyDecision(stock, command.quantity, decision));
            }
            const line = { orderId: command.orderId, productId: command.productId, quantity: command.quantity, lineCount: command.lineCount };
            const result: LineResult = decision.status === 'confirmed' ? { ...line, outcome: 'reserved' } : { ...line, outcome: 'refused', reason: decision.reason };
            context.forward({ key: command.orderId, value: result }, sinks.lineResults);
            return;
          }
          case 'release': {
            inventory.put(command.productId, added(command, stock, command.quantity));
            changelog.record(command.productId, stock!, 'released', at);
            return;
          }
          case 'restock': {
            const restocks = context.getStateStore<string, AppliedRestock>(PRODUCT_COMMAND_STORES.restocks);
            if (restocks.get(command.restockId) !== undefined) return;
            const after = added(command, stock, command.quantity);
            inventory.put(command.productId, after);
            restocks.put(command.restockId, { productId: command.productId, quantity: command.quantity });
            changelog.record(command.productId, stock!, 'restocked', at);
            const event = inventoryRestocked({ restockId: command.restockId, productId: command.productId, quantity: command.quantity, stockAfter: after.quantity }, context.currentTimeMs());
            context.forward({ key: String(command.productId), value: event, headers: eventHeaders(event) }, sinks.restocked);
            return;
          }
        }
      },

      flush(context) {
        changelog.flush(inventoryOf(context), context, sinks.inventoryUpdated);
      },
    };
  };
}
