/**
 * Turns a step's effects (order-flow.ts) into the outcome events and sends each to its sink.
 * Both places that decide orders use it: the intake for a one-line order, the saga for the rest.
 */
import type { ProcessorContext } from '../topology/processor-api.ts';
import { eventHeaders } from './events.ts';
import type { FlowEffects } from './order-flow.ts';
import { orderCancelled, orderConfirmed, orderRejected } from './outcome-events.ts';

/** The sink node names of the three order outcome topics, in the sub-topology that forwards. */
export interface OutcomeSinks {
  confirmed: string;
  rejected: string;
  cancelled: string;
}

export function forwardOutcomes(orderId: string, effects: FlowEffects, context: ProcessorContext<unknown>, sinks: OutcomeSinks): void {
  const now = context.currentTimeMs();
  const send = (event: Parameters<typeof eventHeaders>[0], sink: string) => context.forward({ key: orderId, value: event, headers: eventHeaders(event) }, sink);
  if (effects.confirmed) send(orderConfirmed({ orderId, lines: effects.confirmed.lines }, now), sinks.confirmed);
  if (effects.rejected) send(orderRejected({ orderId, lines: effects.rejected.lines }, now), sinks.rejected);
  if (effects.cancelled) send(orderCancelled({ orderId, ...effects.cancelled }, now), sinks.cancelled);
}
