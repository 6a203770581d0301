/**
 * The exactly-once invariants of the multi-line order flow, as a pure check over what a run did
 * and what it left behind (order-flow-model.ts): every order decided once and its decision
 * published once, every restock and cancellation applied at most once and answered once, and
 * the stock and its changelog agreeing with all of it. Used by the verifier (`npm run verify`)
 * and the exactly-once suites; pure, so a failure shows every violation at once.
 */
import { distinctById } from './distinct-events.ts';
import { findCancellationViolations } from './order-flow-cancellations.ts';
import { findChangelogViolations } from './order-flow-changelog.ts';
import type { OrderFlowSnapshot } from './order-flow-model.ts';
import { findOutcomeViolations } from './order-flow-outcomes.ts';
import { findRestockViolations } from './order-flow-restocks.ts';
import { findStockViolations, tallyProducts } from './order-flow-stock.ts';

export type * from './order-flow-model.ts';

/** Every violation, one readable line each; empty when the run was exactly-once. Call it at quiescence. */
export function findOrderFlowViolations(snapshot: OrderFlowSnapshot): string[] {
  const violations: string[] = [];
  // A copy the relay sent twice is one event; an id with two contents is a violation of its own.
  const confirmed = distinctById(snapshot.confirmed, (event) => event.eventId, violations);
  const rejected = distinctById(snapshot.rejected, (event) => event.eventId, violations);
  const cancelled = distinctById(snapshot.cancelled, (event) => event.eventId, violations);
  const restocked = distinctById(snapshot.restocked, (event) => event.eventId, violations);
  const updates = distinctById(snapshot.inventoryUpdates, (update) => `inventory-updated:${update.productId}:${update.version}`, violations);

  const tallies = tallyProducts(snapshot.orders, snapshot.restocks);
  return [
    ...violations,
    ...findOutcomeViolations(snapshot.orders, { confirmed, rejected }),
    ...findCancellationViolations(snapshot.orders, snapshot.cancellationsSent, cancelled, confirmed),
    ...findRestockViolations(snapshot, snapshot.restocks, restocked),
    ...findStockViolations(snapshot.initialStock, snapshot.orders, snapshot.inventory, tallies),
    ...findChangelogViolations(snapshot.initialStock, snapshot.inventory, tallies, updates),
  ];
}
