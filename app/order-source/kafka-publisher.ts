import type { KafkaProducer, OutgoingMessage } from '../../kafka/port.ts';
import { orderMessage } from './order-messages.ts';
import type { OrderPublisher, SourceOrder } from './ports.ts';

/**
 * Publishes a batch with one producer send (acks=all, idempotent) and resolves once the
 * broker acknowledged all of it. A batch's records are encoded once, even if the send is retried.
 */
export function createKafkaPublisher(producer: Pick<KafkaProducer, 'send'>, topic: string): OrderPublisher {
  const encoded = new WeakMap<readonly SourceOrder[], OutgoingMessage[]>();
  return {
    async publish(orders) {
      let messages = encoded.get(orders);
      if (!messages) {
        messages = orders.map((order) => orderMessage(topic, order));
        encoded.set(orders, messages);
      }
      await producer.send(messages);
    },
  };
}
