import type { OutgoingMessage } from '../../kafka/port.ts';
import { encodeEvent, eventHeaders, orderCreated, orderKey } from '../../processors/events.ts';
import type { SourceOrder } from './ports.ts';

/**
 * The OrderCreated record of a stored order: key = its lead product id (orderKey), event id
 * derived from the order id. Built only from stored columns, so a re-publish after a crash is
 * the same event.
 */
export function orderMessage(topic: string, order: SourceOrder): OutgoingMessage {
  const event = orderCreated({ orderId: order.orderId, customerId: order.customerId, lines: order.lines }, order.createdAtMs);
  return { topic, key: orderKey(event.payload), value: encodeEvent(event), headers: eventHeaders(event) };
}
