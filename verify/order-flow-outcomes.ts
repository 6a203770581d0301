/**
 * Every order decided exactly once, and its decision published exactly once: a confirmed order
 * has one OrderConfirmed and no OrderRejected, a rejected one the reverse, a cancelled one no
 * OrderRejected and at most one OrderConfirmed (it may have been cancelled after it was
 * confirmed); each event carries the order's lines and is keyed and named by its order.
 * Cancellations have checks of their own (order-flow-cancellations.ts).
 */
import type { OrderConfirmed, OrderRejected } from '../processors/outcome-events.ts';
import type { Published, StoredOrder } from './order-flow-model.ts';
import { describeLines, sameLines } from './order-lines.ts';

/** The distinct decision events (one copy per event id). */
export interface Decisions {
  confirmed: Array<Published<OrderConfirmed>>;
  rejected: Array<Published<OrderRejected>>;
}

/** How many OrderConfirmed and OrderRejected each status allows. */
const DECISIONS_BY_STATUS: Record<string, { confirmed: [number, number]; rejected: [number, number] } | undefined> = {
  confirmed: { confirmed: [1, 1], rejected: [0, 0] },
  rejected: { confirmed: [0, 0], rejected: [1, 1] },
  cancelled: { confirmed: [0, 1], rejected: [0, 0] },
};

export function findOutcomeViolations(orders: readonly StoredOrder[], decisions: Decisions): string[] {
  const violations: string[] = [];
  const stored = new Map(orders.map((order) => [order.id, order]));
  for (const [type, events] of [
    ['confirmed', decisions.confirmed],
    ['rejected', decisions.rejected],
  ] as const) {
    for (const { key, event } of events) {
      const { orderId } = event.payload;
      if (event.eventId !== `order-${type}:${orderId}`) violations.push(`${event.eventId} is an ${event.type} of order ${orderId}, whose id is order-${type}:${orderId}`);
      if (key !== orderId) violations.push(`${event.eventId} has key ${key}, not its order id`);
      if (!stored.has(orderId)) violations.push(`${event.eventId} names order ${orderId}, which is not stored`);
    }
  }

  const confirmations = Map.groupBy(decisions.confirmed, ({ event }) => event.payload.orderId);
  const rejections = Map.groupBy(decisions.rejected, ({ event }) => event.payload.orderId);
  for (const order of orders) {
    const allowed = DECISIONS_BY_STATUS[order.status];
    if (allowed === undefined) {
      violations.push(order.status === 'pending' || order.status === 'reserving' ? `order ${order.id} is still ${order.status}` : `order ${order.id} has status ${order.status}, which is not an order status`);
      continue;
    }
    const confirmed = confirmations.get(order.id) ?? [];
    const rejected = rejections.get(order.id) ?? [];
    const expect = (type: string, count: number, [min, max]: [number, number]) => {
      if (count < min || count > max) violations.push(`order ${order.id} is ${order.status}, but has ${count} ${type} (expected ${min === max ? min : `${min} to ${max}`})`);
    };
    expect('OrderConfirmed', confirmed.length, allowed.confirmed);
    expect('OrderRejected', rejected.length, allowed.rejected);

    for (const { event } of confirmed) {
      if (!sameLines(event.payload.lines, order.lines)) violations.push(`${event.eventId} confirms ${describeLines(event.payload.lines)}, but the order's lines are ${describeLines(order.lines)}`);
    }
    for (const { event } of rejected) {
      if (!sameLines(event.payload.lines, order.lines)) violations.push(`${event.eventId} rejects ${describeLines(event.payload.lines)}, but the order's lines are ${describeLines(order.lines)}`);
      const refused = event.payload.lines.find((line) => line.outcome === 'refused');
      if (refused === undefined) violations.push(`${event.eventId} refuses none of its lines`);
      // The order is stored with the reason of its first refused line, the event lists its lines in the order they reported.
      else if (order.status === 'rejected' && order.reason !== refused.reason) {
        violations.push(`order ${order.id} is stored as rejected for ${order.reason}, but the first refused line of ${event.eventId} says ${refused.reason}`);
      }
    }
  }
  return violations;
}
