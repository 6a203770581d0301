import type { Span } from '@opentelemetry/api';
import { ConfigError } from '../../core/errors.ts';
import { endSpan, startSendSpan } from '../../core/messaging-spans.ts';
import { activeTracer, traceHeadersOf, withTraceHeaders } from '../../core/trace-context.ts';
import type { KafkaAdmin, KafkaProducer, OutgoingMessage } from '../../kafka/port.ts';
import { SendRefusedError } from '../../kafka/send-refused.ts';
import type { GeneratedOrder } from '../../processors/order-generator.ts';
import { BATCH_OVERHEAD_BYTES, recordRoom, recordSizeBound, SAFETY_MARGIN_BYTES, type SizedMessage, splitBySize, TopicLimits } from '../../sinks/send-limits.ts';
import { orderMessage } from './order-messages.ts';
import type { OrderPublisher, SourceOrder } from './ports.ts';

/**
 * Publishes a batch (acks=all, idempotent) and resolves once the broker acknowledged all of it.
 * The batch goes out in consecutive sends, each under the topic's `max.message.bytes` as read
 * from the broker (sinks/send-limits.ts): one send puts a partition's records in one record batch,
 * and a batch of a few thousand multi-line orders on few partitions would exceed the limit and be
 * refused for good, every time it is retried. Sends go one after the other, so a partition's
 * records keep their order. A batch's records are encoded once, even if the publish is retried.
 *
 * Tracing (when an SDK is installed, core/tracing.ts): each order starts a trace with a `send`
 * span whose context its OrderCreated carries in `traceparent`; the span ends once the broker
 * acknowledged the send that carried it, and a failed attempt is an exception event on it (the
 * retry sends the same record, same traceparent). Without an SDK, no header and no span work.
 */
export function createKafkaPublisher(producer: Pick<KafkaProducer, 'send'>, topic: string, admin: Pick<KafkaAdmin, 'maxMessageBytes'>): OrderPublisher {
  const limits = new TopicLimits(admin);
  const encoded = new WeakMap<readonly SourceOrder[], OutgoingMessage[]>();
  const spans = new WeakMap<OutgoingMessage, Span>();
  return {
    async publish(orders) {
      let messages = encoded.get(orders);
      if (!messages) {
        const tracer = activeTracer(SOURCE_TRACER);
        messages = orders.map((order) => {
          const message = orderMessage(topic, order);
          if (tracer === undefined) return message;
          const span = startSendSpan(tracer, 'send', { topic, key: message.key === null ? null : message.key.toString(), headers: message.headers ?? {} });
          const traced = { ...message, headers: withTraceHeaders(message.headers ?? {}, traceHeadersOf(span) ?? {}) };
          spans.set(traced, span);
          return traced;
        });
        encoded.set(orders, messages);
      }
      await limits.load([topic]);
      let sending: OutgoingMessage[] = [];
      try {
        for (sending of sendsOf(messages, limits.roomOf)) {
          await producer.send(sending);
          for (const message of sending) {
            const span = spans.get(message);
            if (span === undefined) continue;
            endSpan(span);
            spans.delete(message);
          }
        }
      } catch (error) {
        for (const message of sending) spans.get(message)?.recordException(error instanceof Error ? error : String(error));
        // The limit may have been lowered since it was read: the retry reads it again and cuts anew.
        if (error instanceof SendRefusedError && error.tooLarge) limits.invalidate([topic]);
        throw error;
      }
    },
  };
}

/** The instrumentation scope of the source's spans. */
export const SOURCE_TRACER = 'kstream-commerce/order-source';

/**
 * Refuses to start a source whose largest possible order would not fit in a record batch of its
 * topic: the broker would refuse that order for good, and the source, which publishes in order,
 * would retry it forever. One line naming the topic's setting, instead of a source stuck later.
 */
export async function checkLargestOrderFits(admin: Pick<KafkaAdmin, 'maxMessageBytes'>, topic: string, largest: GeneratedOrder, linesSpec: string): Promise<void> {
  const limit = await admin.maxMessageBytes(topic);
  const [message] = sized([orderMessage(topic, { ...largest, seq: Number.MAX_SAFE_INTEGER, createdAtMs: Date.UTC(9999, 11, 31, 23, 59, 59, 999) })]);
  const needed = recordSizeBound(message!);
  if (needed <= recordRoom(limit)) return;
  throw new ConfigError(
    `max.message.bytes of topic ${topic}`,
    `at least ${needed + BATCH_OVERHEAD_BYTES + SAFETY_MARGIN_BYTES} bytes, for its largest order (${largest.lines.length} lines, --lines ${linesSpec})`,
    String(limit),
  );
}

function sized(messages: readonly OutgoingMessage[]): Array<SizedMessage & { message: OutgoingMessage }> {
  return messages.map((message) => ({
    topic: message.topic,
    key: message.key === null ? null : message.key.toString(),
    payload: Buffer.isBuffer(message.value) ? message.value : Buffer.from(message.value),
    headers: message.headers ?? {},
    message,
  }));
}

/** Cuts messages into sends under the room of their topic; one too large on its own goes alone, last, for the broker to judge. */
function sendsOf(messages: readonly OutgoingMessage[], roomOf: (topic: string) => number): OutgoingMessage[][] {
  const { sends, oversized } = splitBySize(sized(messages), roomOf);
  return [...sends, ...oversized.map((entry) => [entry])].map((send) => send.map((entry) => entry.message));
}
