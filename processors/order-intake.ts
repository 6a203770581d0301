/**
 * Where an order enters the flow: its OrderCreated, at the partition of its lead product (the
 * orders topic is keyed by it). The record must describe a stored order exactly (the
 * `order-contents` store, its lines as `order_lines` holds them), or it is a dead letter that
 * moves no stock; a copy of one already seen changes nothing (order-flow.ts). A one-line order is
 * decided here against the `inventory` store, as ever; a multi-line order's lines go out to be
 * reserved at their products' partitions (the `product-commands` repartition).
 */
import { StreamError } from '../core/errors.ts';
import type { InputRecord, Processor, ProcessorContext } from '../topology/processor-api.ts';
import type { ProductCommand } from './commands.ts';
import type { OrderCreated, OrderLine } from './events.ts';
import { applyDecision, decideOrder, type ProductStock } from './inventory.ts';
import { InventoryChangelog } from './inventory-changelog.ts';
import { type OrderProgress, orderArrived } from './order-flow.ts';
import { forwardOutcomes, type OutcomeSinks } from './order-outcomes.ts';
import type { LineOutcome } from './outcome-events.ts';

export const ORDER_INTAKE_STORES = { inventory: 'inventory', status: 'order-status', contents: 'order-contents' } as const;

/** An order's lines as stored. */
export interface OrderContents {
  lines: OrderLine[];
}

export interface OrderIntakeSinks extends OutcomeSinks {
  inventoryUpdated: string;
  productCommands: string;
}

/** An OrderCreated for an order id the `orders` table does not hold: nothing stored asked for that stock. */
export class OrderNotStoredError extends StreamError {
  readonly errorClass = 'OrderNotStoredError';
  constructor(orderId: string) {
    super('RECORD_INVALID', `order ${orderId} is not stored in the orders table: an OrderCreated must describe a stored order; not applied`, { context: { orderId } });
  }
}

/** An OrderCreated whose lines differ from the stored order of that id. */
export class OrderMismatchError extends StreamError {
  readonly errorClass = 'OrderMismatchError';
  constructor(orderId: string, record: readonly OrderLine[], stored: readonly OrderLine[]) {
    super('RECORD_INVALID', `order ${orderId} is stored with lines ${shown(stored)}, but the record says ${shown(record)}; not applied`, {
      context: { orderId, recordLines: shown(record), storedLines: shown(stored) },
    });
  }
}

const shown = (lines: readonly OrderLine[]) => lines.map((line) => `${line.quantity}x${line.productId}`).join(', ');
const sameLines = (a: readonly OrderLine[], b: readonly OrderLine[]) =>
  a.length === b.length && a.every((line, i) => line.productId === b[i]!.productId && line.quantity === b[i]!.quantity);

/** The store keys one order needs loaded before its batch runs: the stock only where it is decided here. */
export function orderIntakePrefetch(order: OrderCreated) {
  const { orderId, lines } = order.payload;
  return {
    [ORDER_INTAKE_STORES.inventory]: lines.length === 1 ? [lines[0]!.productId] : [],
    [ORDER_INTAKE_STORES.status]: [orderId],
    [ORDER_INTAKE_STORES.contents]: [orderId],
  };
}

export function createOrderIntake(sinks: OrderIntakeSinks): () => Processor<OrderCreated, unknown> {
  return () => {
    const changelog = new InventoryChangelog();
    const stores = (context: ProcessorContext<unknown>) => ({
      inventory: context.getStateStore<number, ProductStock>(ORDER_INTAKE_STORES.inventory),
      status: context.getStateStore<string, OrderProgress>(ORDER_INTAKE_STORES.status),
      contents: context.getStateStore<string, OrderContents>(ORDER_INTAKE_STORES.contents),
    });
    return {
      init() {
        changelog.clear();
      },

      process(record: InputRecord<OrderCreated>, context) {
        const { orderId, lines } = record.value.payload;
        const { inventory, status, contents } = stores(context);
        const stored = contents.get(orderId);
        const progress = status.get(orderId);
        if (stored === undefined || progress === undefined) throw new OrderNotStoredError(orderId);
        if (!sameLines(lines, stored.lines)) throw new OrderMismatchError(orderId, lines, stored.lines);

        const reserveHere = (line: OrderLine): LineOutcome => {
          const stock = inventory.get(line.productId) ?? null;
          const decision = decideOrder(stock, line.quantity);
          if (stock !== null) {
            changelog.record(line.productId, stock, decision.status === 'confirmed' ? 'reserved' : 'refused', context.recordMetadata());
            inventory.put(line.productId, applyDecision(stock, line.quantity, decision));
          }
          return decision.status === 'confirmed' ? { ...line, outcome: 'reserved' } : { ...line, outcome: 'refused', reason: decision.reason };
        };
        const step = orderArrived(orderId, lines, progress, reserveHere);
        if (step.progress !== undefined) status.put(orderId, step.progress);
        for (const command of step.effects.reserve) {
          context.forward({ key: String(command.productId), value: command satisfies ProductCommand }, sinks.productCommands);
        }
        forwardOutcomes(orderId, step.effects, context, sinks);
      },

      flush(context) {
        changelog.flush(stores(context).inventory, context, sinks.inventoryUpdated);
      },
    };
  };
}
