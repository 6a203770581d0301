/**
 * The spans of one micro-batch, when a tracing SDK is installed (core/trace-context.ts
 * activeTracer; otherwise `BatchTrace.start` gives undefined and the runner does no span work).
 *
 * A batch holds records of many traces, so it cannot be a child of all of them: it is a span of
 * its own (`batch <topic>`) with LINKS to the first MAX_TRACE_LINKS records' contexts, and its
 * `prefetch` and `commit` are its children. Each record that carries a `traceparent` gets a
 * `process <topic>` span, a child of that traceparent (the span that sent the record) with a
 * link back to the batch; the record's outputs carry the process span's context on, so the
 * relay's send of them, and whoever consumes them next, stay in the record's trace. A flush's
 * outputs belong to no one record: they carry the batch span's context.
 */
import { type Context, type Link, ROOT_CONTEXT, type Span, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import {
  ATTR_MESSAGING_BATCH_MESSAGE_COUNT,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_PARTITION_ID,
  ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE,
  ATTR_MESSAGING_SYSTEM_NAME,
  endSpan,
  startProcessSpan,
} from '../../core/messaging-spans.ts';
import { activeTracer, parentContextOf, type TraceHeaders, traceHeadersOf, traceLinksOf } from '../../core/trace-context.ts';
import type { ConsumedRecord, TopicPartition } from '../../kafka/port.ts';

/** The instrumentation scope of the runtime's spans. */
export const RUNTIME_TRACER = 'kstream/runtime';

/** A record's process span and the trace headers its outputs carry. */
export interface ProcessSpan {
  span: Span;
  headers: TraceHeaders;
}

export class BatchTrace {
  /** The batch span's trace headers: what a flush's outputs carry. */
  readonly headers: TraceHeaders | undefined;
  readonly #tracer: Tracer;
  readonly #tp: TopicPartition;
  readonly #span: Span;
  readonly #context: Context;
  /** Every process span links to the batch it ran in. */
  readonly #toBatch: Link[];

  private constructor(tracer: Tracer, tp: TopicPartition, records: readonly ConsumedRecord[]) {
    this.#tracer = tracer;
    this.#tp = tp;
    const attributes = {
      [ATTR_MESSAGING_SYSTEM_NAME]: 'kafka',
      [ATTR_MESSAGING_OPERATION_TYPE]: 'process',
      [ATTR_MESSAGING_OPERATION_NAME]: 'batch',
      [ATTR_MESSAGING_DESTINATION_NAME]: tp.topic,
      [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(tp.partition),
      [ATTR_MESSAGING_BATCH_MESSAGE_COUNT]: records.length,
    };
    this.#span = tracer.startSpan(`batch ${tp.topic}`, { kind: SpanKind.CONSUMER, links: traceLinksOf(records), attributes }, ROOT_CONTEXT);
    this.#context = trace.setSpan(ROOT_CONTEXT, this.#span);
    this.#toBatch = [{ context: this.#span.spanContext() }];
    this.headers = traceHeadersOf(this.#span);
  }

  /** The batch's spans, or undefined when no tracing SDK is installed. */
  static start(tp: TopicPartition, records: readonly ConsumedRecord[]): BatchTrace | undefined {
    const tracer = activeTracer(RUNTIME_TRACER);
    return tracer === undefined ? undefined : new BatchTrace(tracer, tp, records);
  }

  /** A record's process span, or undefined when the record carries no trace. */
  startProcess(record: ConsumedRecord): ProcessSpan | undefined {
    const parent = parentContextOf(record.headers);
    if (parent === undefined) return undefined;
    const span = startProcessSpan(this.#tracer, record, parent, this.#toBatch);
    const headers = traceHeadersOf(span);
    if (headers !== undefined) return { span, headers };
    span.end();
    return undefined;
  }

  /** A child of the batch span: `prefetch` (loading the stores' keys) or `commit` (the transaction). */
  startChild(name: string): Span {
    return this.#tracer.startSpan(
      `${name} ${this.#tp.topic}`,
      { kind: name === 'commit' ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes: { [ATTR_MESSAGING_DESTINATION_PARTITION_ID]: String(this.#tp.partition) } },
      this.#context,
    );
  }

  end(error?: unknown): void {
    endSpan(this.#span, error);
  }
}
