import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigError } from '../../../core/errors.ts';
import { activeTracer, spanContextOf, TRACEPARENT, TRACESTATE, traceHeadersOf, traceLinksOf, withTraceHeaders } from '../../../core/trace-context.ts';
import { installTracing, readTracingSettings, type Tracing } from '../../../core/tracing.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const TRACEPARENT_VALUE = `00-${TRACE_ID}-${SPAN_ID}-01`;

describe('trace headers', () => {
  it('reads the span context a traceparent names, with its tracestate', () => {
    const context = spanContextOf({ [TRACEPARENT]: TRACEPARENT_VALUE, [TRACESTATE]: 'vendor=abc', 'event-id': 'x' });
    expect(context).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1, isRemote: true });
    expect(context?.traceState?.get('vendor')).toBe('abc');
  });

  it.each([
    ['no traceparent', {}],
    ['garbage', { [TRACEPARENT]: 'not-a-traceparent' }],
    ['an all-zero trace id', { [TRACEPARENT]: `00-${'0'.repeat(32)}-${SPAN_ID}-01` }],
    ['an all-zero span id', { [TRACEPARENT]: `00-${TRACE_ID}-${'0'.repeat(16)}-01` }],
  ])('finds no span context in headers with %s', (_name, headers: Record<string, string>) => {
    expect(spanContextOf(headers)).toBeUndefined();
    expect(traceLinksOf([{ headers }])).toEqual([]);
  });

  it('writes a span context back as the same traceparent and tracestate', () => {
    const context = spanContextOf({ [TRACEPARENT]: TRACEPARENT_VALUE, [TRACESTATE]: 'vendor=abc' })!;
    expect(traceHeadersOf(context)).toEqual({ [TRACEPARENT]: TRACEPARENT_VALUE, [TRACESTATE]: 'vendor=abc' });
    expect(traceHeadersOf({ ...context, traceId: '0'.repeat(32) })).toBeUndefined();
  });

  it("sets another record's trace on a copy of the headers, dropping the old tracestate, and keeps every other header", () => {
    const headers = { 'event-id': 'e-1', [TRACEPARENT]: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, [TRACESTATE]: 'old=1' };
    const carried = withTraceHeaders(headers, { [TRACEPARENT]: TRACEPARENT_VALUE, 'event-id': 'not copied' });
    expect(carried).toEqual({ 'event-id': 'e-1', [TRACEPARENT]: TRACEPARENT_VALUE });
    expect(headers[TRACEPARENT]).toBe(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`);
    expect(withTraceHeaders({ 'event-id': 'e-2' }, { [TRACEPARENT]: TRACEPARENT_VALUE, [TRACESTATE]: 'vendor=abc' })).toEqual({
      'event-id': 'e-2',
      [TRACEPARENT]: TRACEPARENT_VALUE,
      [TRACESTATE]: 'vendor=abc',
    });
  });

  it('leaves the headers as they are when the other record carries no trace', () => {
    const headers = { 'event-id': 'e-1' };
    expect(withTraceHeaders(headers, { 'event-id': 'other' })).toBe(headers);
  });

  it('links to the first records that carry a trace, at most the cap', () => {
    const records = [{ headers: {} }, ...Array.from({ length: 5 }, (_, i) => ({ headers: { [TRACEPARENT]: `00-${TRACE_ID}-${String(i + 1).padStart(16, '0')}-01` } }))];
    const links = traceLinksOf(records, 3);
    expect(links.map((link) => link.context.spanId)).toEqual(['0000000000000001', '0000000000000002', '0000000000000003']);
  });
});

describe('tracing setup', () => {
  let tracing: Tracing | undefined;
  afterEach(async () => {
    await tracing?.shutdown();
    tracing = undefined;
  });

  it('has no tracer to hand out until an SDK is installed, and none after its shutdown', async () => {
    expect(activeTracer('test')).toBeUndefined();
    tracing = installTracing({ serviceName: 'test', spanProcessors: [] });
    expect(activeTracer('test')?.startSpan('probe').isRecording()).toBe(true);
    await tracing.shutdown();
    expect(activeTracer('test')).toBeUndefined();
  });

  it('refuses to install a second provider over one that is installed', () => {
    tracing = installTracing({ serviceName: 'first', spanProcessors: [] });
    expect(() => installTracing({ serviceName: 'second', spanProcessors: [] })).toThrow('a tracer provider is registered already');
  });

  it('gives up on exporting the last spans after its timeout, uninstalled all the same', async () => {
    const stuck = { onStart() {}, onEnd() {}, forceFlush: () => new Promise<void>(() => {}), shutdown: () => new Promise<void>(() => {}) };
    tracing = installTracing({ serviceName: 'test', spanProcessors: [stuck] });
    await expect(tracing.shutdown(50)).rejects.toThrow('the last spans were not exported within 50 ms');
    expect(activeTracer('test')).toBeUndefined();
    tracing = undefined;
  });

  it('is off unless an OTLP endpoint is set', () => {
    expect(readTracingSettings('source', {})).toEqual({ tracesUrl: undefined, serviceName: 'kstream-commerce-source' });
    expect(readTracingSettings('relay', { OTEL_EXPORTER_OTLP_ENDPOINT: '  ' }).tracesUrl).toBeUndefined();
    expect(readTracingSettings('relay', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' }).tracesUrl).toBeUndefined();
  });

  it('exports to <endpoint>/v1/traces, or to the traces endpoint as it is, under OTEL_SERVICE_NAME when set', () => {
    expect(readTracingSettings('processor', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toEqual({
      tracesUrl: 'http://collector:4318/v1/traces',
      serviceName: 'kstream-commerce-processor',
    });
    expect(readTracingSettings('all', { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c.example/otlp/traces', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318', OTEL_SERVICE_NAME: 'shop' })).toEqual({
      tracesUrl: 'https://c.example/otlp/traces',
      serviceName: 'shop',
    });
  });

  it.each(['collector:4318', 'grpc://collector:4317', 'http://'])('refuses the endpoint %s as a bad setting naming the variable', (endpoint) => {
    expect(() => readTracingSettings('source', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toThrow(ConfigError);
    expect(() => readTracingSettings('source', { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint })).toThrow(/^invalid setting OTEL_EXPORTER_OTLP_ENDPOINT: expected an http:\/\/ or https:\/\/ URL/);
  });

  it('never shows the password of an endpoint that has one', () => {
    expect(() => readTracingSettings('source', { OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://user:s3cret@collector' })).toThrow(/user:\*\*\*@collector/);
  });
});
