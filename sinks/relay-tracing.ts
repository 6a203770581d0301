/**
 * The relay's spans, when a tracing SDK is installed (core/trace-context.ts activeTracer): a
 * `publish <topic>` PRODUCER span per record sent, a child of the `traceparent` its outbox row
 * keeps (the span of the processing that produced it), and the record goes out with the publish
 * span's context instead, so whoever consumes it continues the same trace. Records without a
 * trace get no span. Without an SDK the rows go out with the headers they were stored with.
 */
import type { Span } from '@opentelemetry/api';
import { endSpan, startSendSpan } from '../core/messaging-spans.ts';
import { activeTracer, parentContextOf, traceHeadersOf, withTraceHeaders } from '../core/trace-context.ts';
import type { OutgoingMessage } from '../kafka/port.ts';
import type { OutboxRecord } from '../state/outbox-store.ts';

/** The instrumentation scope of the relay's spans. */
export const RELAY_TRACER = 'kstream/outbox-relay';

/** A send's messages, and what ends their spans once the broker answered. */
export interface TracedSend {
  messages: OutgoingMessage[];
  /** Ends the send's spans: acknowledged, or failed with `error`. */
  end(error?: unknown): void;
}

const untraced = (): void => {};

export function tracedSend(rows: readonly OutboxRecord[]): TracedSend {
  const tracer = activeTracer(RELAY_TRACER);
  if (tracer === undefined) return { messages: rows.map(toMessage), end: untraced };
  const spans: Span[] = [];
  const messages = rows.map((row) => {
    const parent = parentContextOf(row.headers);
    if (parent === undefined) return toMessage(row);
    const span = startSendSpan(tracer, 'publish', row, parent);
    spans.push(span);
    return { ...toMessage(row), headers: withTraceHeaders(row.headers, traceHeadersOf(span) ?? {}) };
  });
  return {
    messages,
    end: (error) => {
      for (const span of spans) endSpan(span, error);
    },
  };
}

function toMessage(row: OutboxRecord): OutgoingMessage {
  return { topic: row.topic, key: row.key, value: row.payload, headers: row.headers };
}
