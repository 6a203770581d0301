/**
 * Every restock applied exactly once and reported exactly once: one `restocks` row per applied
 * restock id, one InventoryRestocked for each, saying what the row says; every restock the run
 * sent applied, or, for a product that does not exist, a dead letter instead.
 */
import type { InventoryRestocked } from '../processors/outcome-events.ts';
import type { AppliedRestock, OrderFlowRun, Published } from './order-flow-model.ts';

const describeRestock = ({ productId, quantity }: { productId: number; quantity: number }) => `product ${productId} +${quantity}`;

export function findRestockViolations(
  run: Pick<OrderFlowRun, 'initialStock' | 'restocksSent' | 'deadLetteredRestockIds'>,
  restocks: readonly AppliedRestock[],
  restocked: ReadonlyArray<Published<InventoryRestocked>>,
): string[] {
  const violations: string[] = [];
  const applied = Map.groupBy(restocks, (row) => row.restockId);
  for (const [restockId, rows] of applied) {
    if (rows.length > 1) violations.push(`restock ${restockId} is applied ${rows.length} times`);
    const productId = rows[0]!.productId;
    if (!run.initialStock.has(productId)) violations.push(`restock ${restockId} is applied to unknown product ${productId}`);
  }

  for (const { key, event } of restocked) {
    const { restockId, productId } = event.payload;
    if (event.eventId !== `inventory-restocked:${restockId}`) violations.push(`${event.eventId} reports restock ${restockId}, whose id is inventory-restocked:${restockId}`);
    if (key !== String(productId)) violations.push(`${event.eventId} has key ${key}, not its product id`);
  }
  const reports = Map.groupBy(restocked, ({ event }) => event.payload.restockId);
  for (const [restockId, rows] of applied) {
    const reported = reports.get(restockId) ?? [];
    if (reported.length !== 1) violations.push(`restock ${restockId} is applied, but has ${reported.length} InventoryRestocked (expected 1)`);
    for (const { event } of reported) {
      if (event.payload.productId !== rows[0]!.productId || event.payload.quantity !== rows[0]!.quantity) {
        violations.push(`${event.eventId} reports ${describeRestock(event.payload)}, but the restock applied ${describeRestock(rows[0]!)}`);
      }
    }
  }
  for (const [restockId, reported] of reports) {
    if (!applied.has(restockId)) violations.push(`${reported[0]!.event.eventId} reports restock ${restockId}, which is not applied`);
  }

  for (const sent of run.restocksSent) {
    const rows = applied.get(sent.restockId);
    if (!run.initialStock.has(sent.productId)) {
      if (!run.deadLetteredRestockIds.has(sent.restockId)) violations.push(`restock ${sent.restockId} of unknown product ${sent.productId} is not a dead letter`);
    } else if (rows === undefined) {
      violations.push(`restock ${sent.restockId} (${describeRestock(sent)}) was sent, but is not applied`);
    } else if (rows[0]!.productId !== sent.productId || rows[0]!.quantity !== sent.quantity) {
      violations.push(`restock ${sent.restockId} was sent as ${describeRestock(sent)}, but applied as ${describeRestock(rows[0]!)}`);
    }
  }
  return violations;
}
