/**
 * What the order-flow checks (order-flow-invariants.ts) look at: what the run did, which the
 * verifier knows because it did it, and what the run left behind in the database and on the
 * topics, which order-flow-snapshot.ts reads.
 */
import type { OrderLine } from '../processors/events.ts';
import type { InventoryRestocked, OrderCancelled, OrderConfirmed, OrderRejected } from '../processors/outcome-events.ts';
import type { InventoryUpdate } from './inventory-update.ts';

/** A row of `orders` with its `order_lines` (in line order). */
export interface StoredOrder {
  id: string;
  status: string;
  reason: string | null;
  cancelRequest: string | null;
  lines: OrderLine[];
}

/** A row of `inventory`. */
export interface StockRow {
  productId: number;
  quantity: number;
  version: number;
}

/** A row of `restocks`: one per restock applied. */
export interface AppliedRestock {
  restockId: string;
  productId: number;
  quantity: number;
}

/** An event as it was read from its topic: the raw key and value, so copies can be compared byte for byte. */
export interface Published<E> {
  key: string | null;
  value: string;
  event: E;
}

/** A RestockInventory command the run published. */
export interface RestockSent {
  restockId: string;
  productId: number;
  quantity: number;
}

/** A CancelOrder command the run published. */
export interface CancellationSent {
  requestId: string;
  orderId: string;
}

/** What the verifier did and saw apart from the tables and the outcome topics. */
export interface OrderFlowRun {
  /** Every known product's stock before the run (an absent product is unknown). */
  initialStock: ReadonlyMap<number, number>;
  restocksSent: RestockSent[];
  cancellationsSent: CancellationSent[];
  /** The restock ids of the dead letters (a restock of an unknown product is one). */
  deadLetteredRestockIds: ReadonlySet<string>;
}

/** What the run left behind, read at quiescence. */
export interface OrderFlowState {
  orders: StoredOrder[];
  inventory: StockRow[];
  restocks: AppliedRestock[];
  inventoryUpdates: Array<Published<InventoryUpdate>>;
  confirmed: Array<Published<OrderConfirmed>>;
  rejected: Array<Published<OrderRejected>>;
  cancelled: Array<Published<OrderCancelled>>;
  restocked: Array<Published<InventoryRestocked>>;
}

export type OrderFlowSnapshot = OrderFlowRun & OrderFlowState;
