import type { OutgoingMessage } from '../../kafka/port.ts';
import { encodeEvent, eventHeaders, orderCreated } from '../../processors/events.ts';
import type { SourceOrder } from './ports.ts';

/**
 * The OrderCreated record of a stored order: key = productId (as a decimal string, so every
 * order of a product lands on one partition), event id derived from the order id. Built only
 * from stored columns, so a re-publish after a crash is the same event.
 */
export function orderMessage(topic: string, order: SourceOrder): OutgoingMessage {
  const event = orderCreated(
    { orderId: order.orderId, productId: order.productId, quantity: order.quantity, customerId: order.customerId },
    order.createdAtMs,
  );
  return { topic, key: String(order.productId), value: encodeEvent(event), headers: eventHeaders(event) };
}
