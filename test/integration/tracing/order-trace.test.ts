/**
 * One order, one trace: the source, the processor and the relay run in this process against the
 * shared broker and a database of the test's own, with an in-memory span exporter installed the
 * way core/tracing.ts installs the OTLP one. One order goes in; once its outcome event is on its
 * topic, the records' traceparents and the finished spans must form one trace from the source's
 * send to the relay's publish of the outcome, every span the child of the one before.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { createKafkaPublisher } from '../../../app/order-source/kafka-publisher.ts';
import { OrderSource } from '../../../app/order-source/order-source.ts';
import { createPostgresLedger } from '../../../app/order-source/postgres-ledger.ts';
import { startProcessor } from '../../../app/processor-app.ts';
import { type AppConfig, loadConfig, readSetting, SETTINGS } from '../../../core/config.ts';
import { silentLogger } from '../../../core/logger.ts';
import { spanContextOf, TRACEPARENT } from '../../../core/trace-context.ts';
import { installTracing, type Tracing } from '../../../core/tracing.ts';
import type { ConsumedRecord, KafkaProducer } from '../../../kafka/port.ts';
import { createOrderGenerator } from '../../../processors/order-generator.ts';
import { seed } from '../../../state/commerce/seed.ts';
import type { ProcessorApp } from '../../../streams/processor.ts';
import { startRelay } from '../../../streams/relay.ts';
import { waitFor } from '../../support/kafka.ts';
import { createPipelineFixture, type PipelineFixture, readTopic } from '../../support/pipeline.ts';

const PRODUCTS = [1, 2, 3, 4];

describe('tracing: one order is one trace from the source to its outcome event', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;
  let fixture: PipelineFixture;
  let config: AppConfig;
  let processor: ProcessorApp | undefined;
  let relay: { stop(): Promise<void> } | undefined;
  let producer: KafkaProducer | undefined;

  beforeAll(async () => {
    exporter = new InMemorySpanExporter();
    tracing = installTracing({ serviceName: 'order-trace-test', spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    fixture = await createPipelineFixture('order-trace', { partitions: 2 });
    await seed(fixture.db.sequelize, { products: PRODUCTS.length, stock: 1_000 });
    config = loadConfig(fixture.env({ COMMIT_INTERVAL_MS: '20' }));
    const deps = { sequelize: fixture.db.sequelize, kafka: fixture.kafka, logger: silentLogger };
    processor = await startProcessor(config, { ...deps, admin: fixture.admin, partitionCount: 2 });
    relay = await startRelay(config, deps);
    producer = await fixture.kafka.producer();
  }, 60_000);

  afterAll(async () => {
    await processor?.stop();
    await relay?.stop();
    await producer?.close();
    await fixture?.cleanup();
    await tracing?.shutdown();
  });

  /** Outcome records (confirmed or rejected) on their topics so far. */
  async function outcomes(): Promise<ConsumedRecord[]> {
    const records: ConsumedRecord[] = [];
    for (const topic of [config.ordersConfirmedTopic, config.ordersRejectedTopic]) {
      const ends = [...(await fixture.admin.highWatermarks(topic)).values()];
      if (ends.some((end) => end > 0n)) records.push(...(await readTopic(fixture, topic)));
    }
    return records;
  }

  /** The spans from `spanId` up to its trace's root, each the parent of the one before; waits until all of them ended. */
  async function ancestry(spanId: string): Promise<ReadableSpan[]> {
    let chain: ReadableSpan[] = [];
    await waitFor(
      () => {
        const byId = new Map(exporter.getFinishedSpans().map((span) => [span.spanContext().spanId, span]));
        chain = [];
        for (let span = byId.get(spanId); span !== undefined; span = span.parentSpanContext ? byId.get(span.parentSpanContext.spanId) : undefined) {
          chain.push(span);
          if (span.parentSpanContext === undefined) return true;
        }
        return false;
      },
      { timeoutMs: 15_000, message: `the spans from ${spanId} to its trace's root to end` },
    );
    return chain;
  }

  it('links the OrderCreated, the outcome and every span between them in one trace, with correct parentage', async () => {
    const source = new OrderSource({
      ledger: createPostgresLedger(fixture.db.sequelize, 'trace-source'),
      publisher: createKafkaPublisher(producer!, config.ordersTopic, fixture.admin),
      // Two lines: the order goes through both repartitions (lines to their products, results back to the order).
      generator: createOrderGenerator({ productIds: PRODUCTS, seed: 7, lineCounts: readSetting(SETTINGS.orderLines, { ORDER_LINES: '2' }) }),
      logger: silentLogger,
    });
    await source.recover();
    expect(await source.run({ ratePerSecond: 100, count: 1 })).toMatchObject({ published: 1 });

    let outcome: ConsumedRecord | undefined;
    await fixture.diagnose(
      waitFor(
        async () => {
          [outcome] = await outcomes();
          return outcome !== undefined;
        },
        { timeoutMs: 60_000, message: 'the order outcome event' },
      ),
    );
    const [created] = await readTopic(fixture, config.ordersTopic);
    const createdContext = spanContextOf(created!.headers);
    const outcomeContext = spanContextOf(outcome!.headers);
    expect(createdContext).toBeDefined();
    expect(outcomeContext?.traceId).toBe(createdContext!.traceId);

    // From the relay's publish of the outcome back to the source's send, child after parent.
    const chain = await ancestry(outcomeContext!.spanId);
    const repartitions = [...new Set(chain.map((span) => span.attributes['messaging.destination.name'] as string))].filter((topic) => topic.includes('repartition'));
    expect(repartitions).toHaveLength(2);
    const [lineResults, lines] = repartitions;
    expect(chain.map((span) => span.name)).toEqual([
      `publish ${outcome!.topic}`,
      `process ${lineResults}`,
      `publish ${lineResults}`,
      `process ${lines}`,
      `publish ${lines}`,
      `process ${config.ordersTopic}`,
      `send ${config.ordersTopic}`,
    ]);
    expect(chain.map((span) => span.kind)).toEqual([SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.PRODUCER, SpanKind.CONSUMER, SpanKind.PRODUCER]);
    expect(new Set(chain.map((span) => span.spanContext().traceId))).toEqual(new Set([createdContext!.traceId]));
    // The OrderCreated on the topic names the source's send span: the root of the trace.
    expect(chain.at(-1)!.spanContext().spanId).toBe(createdContext!.spanId);
    expect(chain.at(-1)!.attributes).toMatchObject({ 'messaging.destination.name': config.ordersTopic, 'messaging.operation.type': 'send', 'messaging.message.id': created!.headers['event-id'] });

    // InventoryUpdated is the changelog of a batch, not of one order: it is published in its
    // batch's trace, and that batch links to the order's trace.
    const inventory = await readTopic(fixture, config.inventoryTopic);
    expect(inventory.length).toBeGreaterThan(0);
    for (const record of inventory) {
      const [publish, batch] = await ancestry(spanContextOf(record.headers)!.spanId);
      expect(publish!.name).toBe(`publish ${config.inventoryTopic}`);
      expect(batch!.name).toBe(`batch ${lines}`);
      expect(batch!.links.map((link) => link.context.traceId)).toContain(createdContext!.traceId);
    }
    // Every record on the way carried the trace: no record of the order left it.
    expect(outcome!.headers[TRACEPARENT]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  }, 120_000);
});
