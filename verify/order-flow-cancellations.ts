/**
 * Every cancellation request answered exactly once, and applied at most once: one OrderCancelled
 * per request the run sent, named by its order and request; a `cancelled` result only for an
 * order now cancelled, and exactly one for each; every other result one the order's final status
 * explains; the stock released exactly what the order held.
 */
import type { CancellationResult, OrderCancelled, OrderConfirmed } from '../processors/outcome-events.ts';
import type { CancellationSent, Published, StoredOrder } from './order-flow-model.ts';
import { describeLines, sameLines } from './order-lines.ts';

/**
 * The statuses an order may end in after each result (statuses past reserving are final). An
 * order is stored before anyone can know its id, so `unknown_order` names no stored order.
 */
const STATUSES_AFTER: Record<CancellationResult, readonly string[]> = {
  cancelled: ['cancelled'],
  already_cancelled: ['cancelled'],
  // The request before it decided the order: cancelled, or rejected all the same.
  already_requested: ['cancelled', 'rejected'],
  order_rejected: ['rejected'],
  unknown_order: [],
};

export function findCancellationViolations(
  orders: readonly StoredOrder[],
  sent: readonly CancellationSent[],
  cancelled: ReadonlyArray<Published<OrderCancelled>>,
  confirmed: ReadonlyArray<Published<OrderConfirmed>>,
): string[] {
  const violations: string[] = [];
  const stored = new Map(orders.map((order) => [order.id, order]));
  for (const { key, event } of cancelled) {
    const { orderId, requestId, result, releasedLines } = event.payload;
    const expectedId = `order-cancelled:${orderId}:${requestId}`;
    if (event.eventId !== expectedId) violations.push(`${event.eventId} answers request ${requestId} for order ${orderId}, whose id is ${expectedId}`);
    if (key !== orderId) violations.push(`${event.eventId} has key ${key}, not its order id`);
    const order = stored.get(orderId);
    if (order === undefined) {
      if (result !== 'unknown_order') violations.push(`${event.eventId} says ${result}, but order ${orderId} is not stored`);
    } else if (!STATUSES_AFTER[result].includes(order.status)) {
      violations.push(`${event.eventId} says ${result}, but order ${orderId} is ${order.status}`);
    }
    // Only a cancellation releases stock, and then everything the order held or nothing (cancelled before it reserved).
    const releasedAsExpected = releasedLines.length === 0 || (result === 'cancelled' && order !== undefined && sameLines(releasedLines, order.lines));
    if (!releasedAsExpected) violations.push(`${event.eventId} says ${result} and releases ${describeLines(releasedLines)}${order ? `, but the order's lines are ${describeLines(order.lines)}` : ''}`);
  }

  const cancellations = Map.groupBy(
    cancelled.filter(({ event }) => event.payload.result === 'cancelled'),
    ({ event }) => event.payload.orderId,
  );
  const confirmations = Map.groupBy(confirmed, ({ event }) => event.payload.orderId);
  for (const order of orders.filter((candidate) => candidate.status === 'cancelled')) {
    const applied = cancellations.get(order.id) ?? [];
    if (applied.length !== 1) {
      violations.push(`order ${order.id} is cancelled, but has ${applied.length} OrderCancelled with result cancelled (expected 1)`);
      continue;
    }
    const cancellation = applied[0]!.event;
    if (order.cancelRequest !== cancellation.payload.requestId) {
      violations.push(`order ${order.id} is stored as cancelled by request ${order.cancelRequest}, but ${cancellation.eventId} cancelled it`);
    }
    // A confirmation before the cancellation took the order's stock, so the cancellation gave all of it back.
    for (const { event: confirmation } of confirmations.get(order.id) ?? []) {
      if (Date.parse(confirmation.occurredAt) > Date.parse(cancellation.occurredAt)) {
        violations.push(`order ${order.id} was confirmed (${confirmation.occurredAt}) after it was cancelled (${cancellation.occurredAt})`);
      }
      if (!sameLines(cancellation.payload.releasedLines, order.lines)) {
        violations.push(`order ${order.id} was confirmed, but ${cancellation.eventId} releases ${describeLines(cancellation.payload.releasedLines)}, not its lines ${describeLines(order.lines)}`);
      }
    }
  }

  const answers = Map.groupBy(cancelled, ({ event }) => event.payload.requestId);
  for (const request of sent) {
    const answered = answers.get(request.requestId) ?? [];
    if (answered.length !== 1) violations.push(`cancellation ${request.requestId} of order ${request.orderId} has ${answered.length} OrderCancelled (expected 1)`);
    else if (answered[0]!.event.payload.orderId !== request.orderId) {
      violations.push(`cancellation ${request.requestId} was sent for order ${request.orderId}, but ${answered[0]!.event.eventId} answers it for order ${answered[0]!.event.payload.orderId}`);
    }
  }
  return violations;
}
