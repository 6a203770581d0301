import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from '@jest/globals';
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { referenceAsyncApi } from '../../../app/asyncapi.ts';
import { referenceTopology } from '../../../app/processor-app.ts';
import { loadConfig } from '../../../core/config.ts';
import { CANCEL_ORDER_SCHEMA, cancelOrder, LINE_RESULT_SCHEMA, PRODUCT_COMMAND_SCHEMA, RESTOCK_INVENTORY_SCHEMA, restockInventory } from '../../../processors/commands.ts';
import { encodeEvent, eventHeaders } from '../../../processors/event-json.ts';
import { INVENTORY_UPDATED_SCHEMA, inventoryUpdated, ORDER_CREATED_SCHEMA, orderCreated } from '../../../processors/events.ts';
import {
  INVENTORY_RESTOCKED_SCHEMA,
  inventoryRestocked,
  ORDER_CANCELLED_SCHEMA,
  ORDER_CONFIRMED_SCHEMA,
  ORDER_REJECTED_SCHEMA,
  orderCancelled,
  orderConfirmed,
  orderRejected,
} from '../../../processors/outcome-events.ts';
import { memoryStores } from '../../../processors/reference-pipeline.ts';
import { describeTopology } from '../../../topology/describe/index.ts';
import { topicsOf } from '../../../topology/describe/format-asyncapi.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const COMMITTED = path.join(ROOT, 'docs/asyncapi.json');

// The defaults: what docs/asyncapi.json documents, whatever the environment of the test run.
const config = loadConfig({}, {});
const text = referenceAsyncApi(config);
const document = JSON.parse(text) as {
  channels: Record<string, { address: string; messages: Record<string, { payload: unknown; headers: unknown; bindings: { kafka: { key: unknown } } }> }>;
  operations: Record<string, { action: string; channel: { $ref: string } }>;
};

const AT = '2026-12-03T12:00:00.000Z';
const ORDER_ID = '0190f5b4-6a3e-7c1d-9b2a-3f4e5d6c7b8a';
const REQUEST_ID = '0190f5b4-6a3e-7c1d-9b2a-000000000001';
const lines = [
  { productId: 17, quantity: 2 },
  { productId: 23, quantity: 1 },
];

/** For every message of the document: the schema the decoders check, and a record as the pipeline's own code produces it. */
const SAMPLES: Record<string, { schema: TSchema; value: unknown; headers?: Record<string, string> }> = {
  OrderCreated: event(ORDER_CREATED_SCHEMA, orderCreated({ orderId: ORDER_ID, customerId: 'customer-42', lines }, AT)),
  RestockInventory: event(RESTOCK_INVENTORY_SCHEMA, restockInventory({ restockId: REQUEST_ID, productId: 17, quantity: 5, requestedBy: 'ops' }, AT)),
  CancelOrder: event(CANCEL_ORDER_SCHEMA, cancelOrder({ requestId: REQUEST_ID, orderId: ORDER_ID, requestedBy: 'ops' }, AT)),
  ProductCommand: { schema: PRODUCT_COMMAND_SCHEMA, value: { kind: 'release', orderId: ORDER_ID, productId: 17, quantity: 2, cause: 'order_cancelled' } },
  LineResult: { schema: LINE_RESULT_SCHEMA, value: { orderId: ORDER_ID, productId: 23, quantity: 1, lineCount: 2, outcome: 'refused', reason: 'out_of_stock' } },
  InventoryUpdated: event(
    INVENTORY_UPDATED_SCHEMA,
    inventoryUpdated({ productId: 17, quantity: 3, delta: 2, version: 4, reserved: 1, refused: 0, released: 1, restocked: 1, source: { topic: 'orders', partition: 0, fromOffset: 10n, toOffset: 12n } }, AT),
  ),
  OrderConfirmed: event(ORDER_CONFIRMED_SCHEMA, orderConfirmed({ orderId: ORDER_ID, lines }, AT)),
  OrderRejected: event(
    ORDER_REJECTED_SCHEMA,
    orderRejected({ orderId: ORDER_ID, lines: [{ ...lines[0]!, outcome: 'reserved' }, { ...lines[1]!, outcome: 'refused', reason: 'out_of_stock' }] }, AT),
  ),
  OrderCancelled: event(ORDER_CANCELLED_SCHEMA, orderCancelled({ orderId: ORDER_ID, requestId: REQUEST_ID, result: 'cancelled', releasedLines: lines }, AT)),
  InventoryRestocked: event(INVENTORY_RESTOCKED_SCHEMA, inventoryRestocked({ restockId: REQUEST_ID, productId: 17, quantity: 5, stockAfter: 8 }, AT)),
};

function event(schema: TSchema, value: Parameters<typeof encodeEvent>[0]) {
  // Through the encoder's bytes, as a consumer sees it.
  return { schema, value: JSON.parse(encodeEvent(value).toString('utf8')) as unknown, headers: eventHeaders(value) };
}

describe('the AsyncAPI document', () => {
  it('is a valid AsyncAPI 3.0 document: the parser reports no error', async () => {
    const { document: parsed, diagnostics } = await new Parser().parse(text);
    expect(diagnostics.filter((diagnostic) => diagnostic.severity === 0)).toEqual([]);
    expect(parsed).toBeDefined();
    expect(parsed!.version()).toBe('3.0.0');
  }, 60_000);

  it('has a channel for every topic the topology description lists, and for the dead-letter topic', () => {
    const topics = topicsOf(describeTopology(referenceTopology(config, memoryStores())));
    expect(topics.length).toBeGreaterThanOrEqual(10);
    const addresses = Object.values(document.channels).map((channel) => channel.address);
    expect(addresses).toEqual(expect.arrayContaining([...topics, config.dlqTopic]));
    expect(addresses).toHaveLength(topics.length + 1);
  });

  it('names who sends on every topic, and the roles that send and receive', () => {
    for (const [id, channel] of Object.entries(document.channels)) {
      const actions = Object.values(document.operations)
        .filter((operation) => operation.channel.$ref === `#/channels/${id}`)
        .map((operation) => operation.action);
      expect({ topic: channel.address, sent: actions.includes('send') }).toEqual({ topic: channel.address, sent: true });
    }
    expect(Object.keys(document.operations)).toEqual(expect.arrayContaining(['source-sends-orders', 'processor-receives-orders', 'relay-sends-orders_dlq']));
  });

  it("publishes as each message's payload the very schema the decoders check, and it accepts what the encoders produce", () => {
    const messages = Object.values(document.channels).flatMap((channel) => Object.entries(channel.messages));
    expect(messages.map(([name]) => name).sort()).toEqual([...Object.keys(SAMPLES), 'DeadLetter'].sort());
    for (const [name, message] of messages) {
      const sample = SAMPLES[name];
      if (sample === undefined) continue;
      expect({ name, payload: message.payload }).toEqual({ name, payload: JSON.parse(JSON.stringify(sample.schema)) });
      expect({ name, accepted: Value.Check(sample.schema, sample.value) }).toEqual({ name, accepted: true });
    }
  });

  it('gives every event its headers (traceparent optional) and its key', () => {
    const orders = document.channels.orders!.messages.OrderCreated!;
    expect(orders.headers).toMatchObject({ required: ['event-type', 'event-id', 'content-type'], properties: { 'event-type': { const: 'OrderCreated' }, traceparent: { type: 'string' } } });
    expect(orders.bindings.kafka.key).toMatchObject({ type: 'string', pattern: '^[1-9][0-9]*$' });
    expect(Object.keys(SAMPLES.OrderCreated!.headers!).sort()).toEqual(['content-type', 'event-id', 'event-type']);
  });

  it('is committed as docs/asyncapi.json, up to date (regenerate: npm run topology -- describe --format asyncapi --out docs/asyncapi.json)', () => {
    expect(readFileSync(COMMITTED, 'utf8')).toBe(text);
  });
});
