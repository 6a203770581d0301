/**
 * W3C trace context on Kafka records: the `traceparent` (and `tracestate`) headers a record
 * carries, read into an OpenTelemetry context and written from a span, plus the one check every
 * traced place makes first — is an SDK installed at all? Without one (no exporter configured:
 * core/tracing.ts installs nothing) `activeTracer` answers undefined and callers do no span work,
 * only pass the headers along. Only `@opentelemetry/api` and the W3C propagator: no SDK here.
 */
import { type Context, type Link, ProxyTracerProvider, ROOT_CONTEXT, type Span, type SpanContext, type TextMapGetter, type TextMapSetter, type Tracer, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

export const TRACEPARENT = 'traceparent';
export const TRACESTATE = 'tracestate';

/** The trace headers of a record: what an output, a send or a re-send carries on. */
export interface TraceHeaders {
  traceparent: string;
  tracestate?: string;
}

/** Span links a batch span keeps at most: a batch of thousands of records links to the first ones. */
export const MAX_TRACE_LINKS = 128;

// The propagator itself, not the global one: the header format is this project's contract
// (DESIGN.md, Contracts), whatever propagator an embedding application registers.
const propagator = new W3CTraceContextPropagator();

const headerGetter: TextMapGetter<Readonly<Record<string, string>>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

const headerSetter: TextMapSetter<Record<string, string | undefined>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

/**
 * The tracer of `scope` when an SDK's provider is registered globally, else undefined: the API's
 * default no-op provider would hand out spans that record nothing but still cost an allocation
 * per record, so the hot path asks this once per batch and skips span work entirely.
 */
export function activeTracer(scope: string): Tracer | undefined {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider ? provider.getDelegateTracer(scope) : provider.getTracer(scope);
}

/** The remote span context `headers` carry, or undefined when they carry no valid `traceparent`. */
export function spanContextOf(headers: Readonly<Record<string, string>>): SpanContext | undefined {
  if (headers[TRACEPARENT] === undefined) return undefined;
  return trace.getSpanContext(propagator.extract(ROOT_CONTEXT, headers, headerGetter));
}

/** A context whose parent is the span `headers` name (for a child span), or undefined when they name none. */
export function parentContextOf(headers: Readonly<Record<string, string>>): Context | undefined {
  const spanContext = spanContextOf(headers);
  return spanContext === undefined ? undefined : trace.setSpanContext(ROOT_CONTEXT, spanContext);
}

/** The trace headers naming `span` (or a span context) as the parent of whatever carries them; undefined for an invalid one. */
export function traceHeadersOf(span: Span | SpanContext): TraceHeaders | undefined {
  const spanContext = 'spanContext' in span ? span.spanContext() : span;
  const headers: Partial<TraceHeaders> = {};
  propagator.inject(trace.setSpanContext(ROOT_CONTEXT, spanContext), headers, headerSetter);
  return headers.traceparent === undefined ? undefined : (headers as TraceHeaders);
}

/**
 * `headers` with the trace headers of `from` (a TraceHeaders, or a record's own headers: only
 * their trace headers are taken): a copy, the original is left alone. A `tracestate` of the old
 * parent does not outlive it. Returns `headers` itself when `from` names no trace.
 */
export function withTraceHeaders(headers: Readonly<Record<string, string>>, from: Readonly<Record<string, string>> | TraceHeaders): Record<string, string> {
  const traceparent = from.traceparent;
  if (traceparent === undefined) return headers as Record<string, string>;
  // A spread and plain assignments: once per output on the hot path, where a rest pattern
  // (to leave the old tracestate out) cost more than the rest of the output's handling.
  const carried: Record<string, string> = { ...headers, [TRACEPARENT]: traceparent };
  const tracestate = from.tracestate;
  if (tracestate !== undefined) carried[TRACESTATE] = tracestate;
  else if (carried[TRACESTATE] !== undefined) delete carried[TRACESTATE];
  return carried;
}

/** Links to the span contexts of the first `max` records that carry one. */
export function traceLinksOf(records: Iterable<{ headers: Readonly<Record<string, string>> }>, max = MAX_TRACE_LINKS): Link[] {
  const links: Link[] = [];
  for (const record of records) {
    if (links.length >= max) break;
    const context = spanContextOf(record.headers);
    if (context !== undefined) links.push({ context });
  }
  return links;
}
