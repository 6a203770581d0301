/**
 * The spans of a record's way through Kafka, named and attributed after OpenTelemetry's
 * messaging semantic conventions (`{operation} {destination}`, `messaging.*` and `kafka.*`
 * attributes). The attribute names are the conventions' incubating ones, copied here as the
 * conventions advise rather than imported from their unstable entry point.
 */
import { type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';

export const ATTR_MESSAGING_SYSTEM_NAME = 'messaging.system.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_DESTINATION_PARTITION_ID = 'messaging.destination.partition.id';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
export const ATTR_KAFKA_MESSAGE_KEY = 'kafka.message.key';
export const ATTR_KAFKA_OFFSET = 'kafka.offset';

/** A record's own `event-id` header: the message id its spans name. */
const EVENT_ID = 'event-id';

interface RecordOnTopic {
  topic: string;
  key: string | null;
  headers: Readonly<Record<string, string>>;
}

/**
 * A PRODUCER span for sending one record (the conventions' `send`), named `<name> <topic>`: a
 * child of `parent` when given, else the root of a new trace. Its context is what the record
 * carries in `traceparent`; end it once the broker acknowledged the record (endSpan).
 */
export function startSendSpan(tracer: Tracer, name: string, record: RecordOnTopic, parent: Context = ROOT_CONTEXT): Span {
  const eventId = record.headers[EVENT_ID];
  return tracer.startSpan(
    `${name} ${record.topic}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR_MESSAGING_SYSTEM_NAME]: 'kafka',
        [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
        [ATTR_MESSAGING_OPERATION_NAME]: name,
        [ATTR_MESSAGING_DESTINATION_NAME]: record.topic,
        ...(eventId === undefined ? {} : { [ATTR_MESSAGING_MESSAGE_ID]: eventId }),
        ...(record.key === null ? {} : { [ATTR_KAFKA_MESSAGE_KEY]: record.key }),
      },
    },
    parent,
  );
}

/** A CONSUMER span for processing one consumed record, a child of the span that sent it. */
export function startProcessSpan(
  tracer: Tracer,
  record: { topic: string; partition: number; offset: bigint; headers: Readonly<Record<string, string>> },
  parent: Context,
  links: Link[],
): Span {
  const eventId = record.headers[EVENT_ID];
  return tracer.startSpan(
    `process ${record.topic}`,
    {
      kind: SpanKind.CONSUMER,
      links,
      attributes: {
        [ATTR_MESSAGING_SYSTEM_NAME]: 'kafka',
        [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
        [ATTR_MESSAGING_OPERATION_NAME]: 'process',
        [ATTR_MESSAGING_DESTINATION_NAME]: record.topic,
        [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(record.partition),
        [ATTR_KAFKA_OFFSET]: Number(record.offset),
        ...(eventId === undefined ? {} : { [ATTR_MESSAGING_MESSAGE_ID]: eventId }),
      },
    },
    parent,
  );
}

/** Ends a span, marked failed with `error` when there was one. */
export function endSpan(span: Span, error?: unknown): void {
  if (error !== undefined) {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  }
  span.end();
}
