import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { spanContextOf, TRACEPARENT, TRACESTATE } from '../../../core/trace-context.ts';
import { installTracing, type Tracing } from '../../../core/tracing.ts';
import { TopologyBuilder } from '../../../topology/builder.ts';
import type { Processor } from '../../../topology/processor-api.ts';
import { TopologyTestDriver } from '../../../topology/testing/test-driver.ts';
import { jsonCodec } from './fixtures.ts';

const UPSTREAM = `00-${'4bf92f3577b34da6a3ce929d0e0e4736'}-${'00f067aa0ba902b7'}-01`;

/** Forwards each record with headers of its own (as the pipeline's processors do), and one summary per batch at flush. */
function relabel(): Processor<{ n: number }, unknown> {
  let seen = 0;
  return {
    process(record, context) {
      seen++;
      context.forward({ key: record.key, value: { n: record.value.n * 10 }, headers: { 'event-id': `out-${record.value.n}` } }, 'each');
    },
    flush(context) {
      if (seen > 0) context.forward({ key: 'summary', value: { seen }, headers: { 'event-id': `summary-${seen}` } }, 'summary');
      seen = 0;
    },
  };
}

function failingProcessor(): Processor<unknown, unknown> {
  return {
    process() {
      throw new TypeError('cannot');
    },
  };
}

function topology() {
  return new TopologyBuilder()
    .addSource('in', { topics: ['in'], codec: jsonCodec })
    .addProcessor('relabel', { supplier: relabel }, 'in')
    .addSink('each', { topic: 'out', codec: jsonCodec }, 'relabel')
    .addSink('summary', { topic: 'summaries', codec: jsonCodec }, 'relabel')
    .build();
}

describe('trace context through a task (untraced here)', () => {
  it("passes a record's traceparent and tracestate on to its outputs, whatever headers its processor set", async () => {
    const driver = new TopologyTestDriver(topology());
    await driver.pipeInput('in', 'k', { n: 1 }, { headers: { [TRACEPARENT]: UPSTREAM, [TRACESTATE]: 'vendor=1' } });
    await driver.pipeInput('in', 'k', { n: 2 });
    const [traced, untraced] = driver.readOutput('out');
    expect(traced!.headers).toEqual({ 'event-id': 'out-1', [TRACEPARENT]: UPSTREAM, [TRACESTATE]: 'vendor=1' });
    expect(untraced!.headers).toEqual({ 'event-id': 'out-2' });
    // A flush's output belongs to no one record: untraced, it carries no trace.
    expect(driver.readOutput('summaries').map((output) => output.headers)).toEqual([{ 'event-id': 'summary-1' }, { 'event-id': 'summary-1' }]);
    await driver.close();
  });
});

describe('trace context through a task, traced', () => {
  let tracing: Tracing;
  let exporter: InMemorySpanExporter;
  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    tracing = installTracing({ serviceName: 'unit', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  });
  afterEach(() => tracing.shutdown());

  const spans = (name: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.name === name);

  it("processes each traced record in a child span of its traceparent, and its outputs carry that span's context", async () => {
    const driver = new TopologyTestDriver(topology(), { batchMaxRecords: 2 });
    await driver.pipeInput('in', 'k', { n: 1 }, { headers: { [TRACEPARENT]: UPSTREAM } });
    await driver.pipeInput('in', 'k', { n: 2 });
    const [traced, untraced] = driver.readOutput('out');

    const [process] = spans('process in');
    expect(spans('process in')).toHaveLength(1); // none for the record without a trace
    expect(process!.kind).toBe(SpanKind.CONSUMER);
    expect(process!.spanContext().traceId).toBe(spanContextOf({ [TRACEPARENT]: UPSTREAM })!.traceId);
    expect(process!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(process!.attributes).toMatchObject({ 'messaging.destination.name': 'in', 'messaging.operation.type': 'process', 'kafka.offset': 0 });
    expect(spanContextOf(traced!.headers)).toMatchObject({ traceId: process!.spanContext().traceId, spanId: process!.spanContext().spanId });
    expect(untraced!.headers[TRACEPARENT]).toBeUndefined();
    await driver.close();
  });

  it('runs a batch in a span of its own that links to its records, with prefetch and commit as children; its flush outputs carry it', async () => {
    const driver = new TopologyTestDriver(topology(), { batchMaxRecords: 2 });
    await driver.pipeInput('in', 'k', { n: 1 }, { headers: { [TRACEPARENT]: UPSTREAM } });
    await driver.pipeInput('in', 'k', { n: 2 });

    const [batch] = spans('batch in');
    expect(spans('batch in')).toHaveLength(1);
    expect(batch!.parentSpanContext).toBeUndefined();
    expect(batch!.links.map((link) => link.context.spanId)).toEqual(['00f067aa0ba902b7']);
    expect(batch!.attributes['messaging.batch.message_count']).toBe(2);
    for (const child of ['prefetch in', 'commit in']) {
      expect(spans(child).map((span) => span.parentSpanContext?.spanId)).toEqual([batch!.spanContext().spanId]);
    }
    const [process] = spans('process in');
    expect(process!.links.map((link) => link.context.spanId)).toEqual([batch!.spanContext().spanId]);
    const [summary] = driver.readOutput('summaries');
    expect(spanContextOf(summary!.headers)?.spanId).toBe(batch!.spanContext().spanId);
    await driver.close();
  });

  it('traces no batch of wall-clock punctuations alone: an idle task adds no empty traces', async () => {
    let fired = 0;
    const ticking = new TopologyBuilder()
      .addSource('in', { topics: ['in'], codec: jsonCodec })
      .addProcessor(
        'tick',
        {
          supplier: () => ({
            init: (context) => {
              context.schedule(1_000, 'wall-clock', () => {
                fired++;
              });
            },
            process: () => {},
          }),
        },
        'in',
      )
      .build();
    const driver = new TopologyTestDriver(ticking);
    await driver.advanceTime(5_000);
    expect(fired).toBeGreaterThan(0);
    expect(exporter.getFinishedSpans()).toEqual([]);
    await driver.close();
  });

  it('marks the process span of a record that fails (a dead letter) as failed', async () => {
    const failing = new TopologyBuilder()
      .addSource('in', { topics: ['in'], codec: jsonCodec })
      .addProcessor('fail', { supplier: failingProcessor }, 'in')
      .addSink('each', { topic: 'out', codec: jsonCodec }, 'fail')
      .build();
    const driver = new TopologyTestDriver(failing);
    await driver.pipeInput('in', 'k', { n: 1 }, { headers: { [TRACEPARENT]: UPSTREAM } });
    expect(driver.deadLetters()).toHaveLength(1);
    expect(spans('process in').map((span) => span.status)).toEqual([{ code: 2, message: 'cannot' }]);
    await driver.close();
  });
});
