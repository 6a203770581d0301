/**
 * Poison records written raw into the orders topic, between good orders of the same
 * partition: each lands on the dead-letter topic with its original bytes and headers naming
 * where it came from and why it failed; the good orders around it are processed, and the
 * stored offset moves past it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { partitionForKey } from '../../../kafka/murmur2.ts';
import type { KafkaProducer, OutgoingMessage } from '../../../kafka/port.ts';
import { encodeEvent, orderCreated, orderKey } from '../../../processors/events.ts';
import { NODE_NAMES } from '../../../processors/reference-pipeline.ts';
import { DLQ_HEADERS } from '../../../sinks/dead-letter.ts';
import { seed } from '../../../state/commerce/seed.ts';
import {
  createPipelineFixture,
  findOrderFlowViolations,
  orderRecord,
  type PipelineFixture,
  readTopic,
  storeOrders,
  type TestOrder,
  takeSnapshot,
  waitUntilCaughtUp,
} from '../../support/pipeline.ts';

const PARTITIONS = 3;
const PRODUCTS = 12;
const STOCK = 1000;

interface Poison {
  name: string;
  value: Buffer;
  /** The record's key, when not the poisoned partition's product (a key that agrees with the payload). */
  key?: string;
  errorClass: 'DecodeError' | 'SchemaError' | 'UnsupportedVersionError';
  message: RegExp;
}

/** An OrderCreated of one line as JSON, its envelope or payload changed as given (`line`: the line's fields). */
function validOrderJson(overrides: { schemaVersion?: number; orderId?: string; line?: Record<string, unknown>; lines?: unknown[] }): Buffer {
  const event = orderCreated({ orderId: '0190f5b2-7c1e-7a00-8000-000000000001', customerId: 'c-1', lines: [{ productId: 1, quantity: 1 }] }, Date.now());
  const json = JSON.parse(encodeEvent(event).toString('utf8')) as Record<string, unknown> & { payload: Record<string, unknown> & { lines: unknown[] } };
  if (overrides.schemaVersion !== undefined) json.schemaVersion = overrides.schemaVersion;
  if (overrides.orderId !== undefined) json.payload.orderId = overrides.orderId;
  if (overrides.line !== undefined) json.payload.lines = [{ ...(json.payload.lines[0] as object), ...overrides.line }];
  if (overrides.lines !== undefined) json.payload.lines = overrides.lines;
  return Buffer.from(JSON.stringify(json), 'utf8');
}

const POISONS: Poison[] = [
  { name: 'not JSON', value: Buffer.from('order #42: {oops', 'utf8'), errorClass: 'DecodeError', message: /not valid JSON/ },
  { name: 'not UTF-8', value: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0xc3]), errorClass: 'DecodeError', message: /not valid UTF-8/ },
  { name: 'JSON of another shape', value: Buffer.from('{"hello":"world"}', 'utf8'), errorClass: 'SchemaError', message: /schemaVersion/ },
  { name: 'schemaVersion 99', value: validOrderJson({ schemaVersion: 99 }), errorClass: 'UnsupportedVersionError', message: /schemaVersion 99/ },
  { name: 'quantity 0', value: validOrderJson({ line: { quantity: 0 } }), errorClass: 'SchemaError', message: /payload\.lines\[0\]\.quantity/ },
  { name: 'quantity -3', value: validOrderJson({ line: { quantity: -3 } }), errorClass: 'SchemaError', message: /payload\.lines\[0\]\.quantity/ },
  { name: 'no lines', value: validOrderJson({ lines: [] }), errorClass: 'SchemaError', message: /payload\.lines must have 1 to 100 lines, got 0/ },
  {
    name: 'a product twice',
    value: validOrderJson({ lines: [{ productId: 1, quantity: 1 }, { productId: 1, quantity: 2 }] }),
    errorClass: 'SchemaError',
    message: /payload\.lines must not repeat product 1 \(lines 0 and 1\)/,
  },
  // Well-formed, but beyond what the orders and products columns hold: the batch's SQL cast would fail.
  {
    name: 'productId 2^31 (int4)',
    value: validOrderJson({ line: { productId: 2 ** 31 } }),
    key: String(2 ** 31),
    errorClass: 'SchemaError',
    message: /payload\.lines\[0\]\.productId must be at most 2147483647/,
  },
  { name: 'quantity 2^31 (int4)', value: validOrderJson({ line: { quantity: 2 ** 31 } }), errorClass: 'SchemaError', message: /payload\.lines\[0\]\.quantity must be at most 2147483647/ },
  { name: 'orderId not a UUID', value: validOrderJson({ orderId: 'order-42' }), errorClass: 'SchemaError', message: /payload\.orderId must be a UUID/ },
];

describe('poison records on the orders topic', () => {
  let fixture: PipelineFixture;
  let producer: KafkaProducer;

  beforeAll(async () => {
    fixture = await createPipelineFixture('eo-poison', { partitions: PARTITIONS });
    producer = await fixture.kafka.producer();
    await seed(fixture.db.sequelize, { products: PRODUCTS, stock: STOCK });
  });

  afterAll(async () => {
    await producer?.close();
    await fixture?.cleanup();
  });

  it('dead-letters each poison record with its original bytes and headers while the partition keeps flowing', () =>
    fixture.diagnose(
      (async () => {
        const { ordersTopic, dlqTopic } = fixture.names;
        const processor = fixture.spawnRole('processor');
        const relay = fixture.spawnRole('relay');

        // Good orders of products in the poisoned partition, one before and after every poison record.
        const poisoned = partitionForKey('1', PARTITIONS);
        const productsHere = Array.from({ length: PRODUCTS }, (_, index) => index + 1).filter((id) => partitionForKey(String(id), PARTITIONS) === poisoned);
        const good = await storeOrders(
          fixture,
          Array.from({ length: POISONS.length + 1 }, (_, index) => ({ lines: [{ productId: productsHere[index % productsHere.length]!, quantity: 1 + (index % 3) }] })),
          1,
        );
        const elsewhere = await storeOrders(
          fixture,
          Array.from({ length: PRODUCTS }, (_, index) => ({ lines: [{ productId: index + 1, quantity: 2 }] })).filter((order) => partitionForKey(orderKey(order), PARTITIONS) !== poisoned),
          good.length + 1,
        );
        const poisonKey = String(productsHere[0]);
        const messages: OutgoingMessage[] = [orderRecord(ordersTopic, good[0]!)];
        POISONS.forEach((poison, index) => {
          messages.push({ topic: ordersTopic, partition: poisoned, key: poison.key ?? poisonKey, value: poison.value, headers: { 'test-poison': poison.name } });
          messages.push(orderRecord(ordersTopic, good[index + 1]!));
        });
        messages.push(...elsewhere.map((order: TestOrder) => orderRecord(ordersTopic, order)));
        await producer.send(messages);

        await waitUntilCaughtUp(fixture, 60_000);
        const records = (await readTopic(fixture, ordersTopic)).filter((record) => record.partition === poisoned);
        const offsetOf = (poison: Poison) => records.find((record) => record.headers['test-poison'] === poison.name)!.offset;
        // Each poison record sits between good orders of its partition.
        for (const poison of POISONS) {
          const at = records.findIndex((record) => record.offset === offsetOf(poison));
          expect(records[at - 1]?.headers['test-poison']).toBeUndefined();
          expect(records[at + 1]?.headers['test-poison']).toBeUndefined();
        }

        const deadLetters = await readTopic(fixture, dlqTopic);
        const byOffset = new Map(deadLetters.map((letter) => [letter.headers[DLQ_HEADERS.offset], letter]));
        expect([...byOffset.keys()].sort()).toEqual(POISONS.map((poison) => offsetOf(poison).toString()).sort());
        for (const poison of POISONS) {
          const letter = byOffset.get(offsetOf(poison).toString())!;
          expect({ poison: poison.name, value: letter.value }).toEqual({ poison: poison.name, value: poison.value });
          expect(letter.key?.toString('utf8')).toBe(poison.key ?? poisonKey);
          expect(letter.headers).toMatchObject({
            [DLQ_HEADERS.topic]: ordersTopic,
            [DLQ_HEADERS.partition]: String(poisoned),
            [DLQ_HEADERS.offset]: offsetOf(poison).toString(),
            [DLQ_HEADERS.errorClass]: poison.errorClass,
            [DLQ_HEADERS.node]: NODE_NAMES.ordersSource,
            // The original record's own header, kept as it was (a replay sends it back).
            'test-poison': poison.name,
          });
          expect({ poison: poison.name, message: letter.headers[DLQ_HEADERS.message] }).toEqual({ poison: poison.name, message: expect.stringMatching(poison.message) });
          const failedAt = Date.parse(letter.headers[DLQ_HEADERS.timestamp] ?? '');
          expect(Math.abs(failedAt - Date.now())).toBeLessThan(5 * 60_000);
        }

        // Every good order was decided, including those after the last poison record.
        const initialStock = new Map(Array.from({ length: PRODUCTS }, (_, index) => [index + 1, STOCK]));
        const snapshot = await takeSnapshot(fixture, initialStock);
        expect(findOrderFlowViolations(snapshot)).toEqual([]);
        const statuses = new Map(snapshot.orders.map((order) => [order.id, order.status]));
        expect([...good, ...elsewhere].map((order) => statuses.get(order.orderId))).toEqual([...good, ...elsewhere].map(() => 'confirmed'));

        for (const role of [processor, relay]) expect((await role.interrupt()).code).toBe(0);
      })(),
    ), 120_000);
});
