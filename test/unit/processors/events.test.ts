import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DecodeError, isEventError, SchemaError, UnsupportedVersionError } from '../../../core/codec.ts';
import { StreamError } from '../../../core/errors.ts';
import type { OrderCreatedPayload } from '../../../processors/events.ts';
import {
  decodeInventoryUpdated,
  decodeOrderCreated,
  encodeEvent,
  eventHeaders,
  inventoryUpdated,
  inventoryUpdatedCodec,
  ORDER_MAX_LINES,
  orderCreated,
  orderCreatedCodec,
  orderKey,
  PG_INTEGER_MAX,
} from '../../../processors/events.ts';

const ORDER_ID = '01928f4e-5b6a-7c3d-8e9f-0a1b2c3d4e5f';
const AT = '2026-11-03T10:15:30.000Z';

const order: OrderCreatedPayload = {
  orderId: ORDER_ID,
  customerId: 'customer-42',
  lines: [
    { productId: 7, quantity: 2 },
    { productId: 3, quantity: 1 },
    { productId: 11, quantity: 5 },
  ],
};

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A valid OrderCreated as plain JSON, with `patch` applied to the envelope or payload. */
function orderJson(patch: { envelope?: Record<string, unknown>; payload?: Record<string, unknown> } = {}): Record<string, unknown> {
  const event = JSON.parse(JSON.stringify(orderCreated(order, AT))) as Record<string, unknown>;
  return { ...event, ...patch.envelope, payload: { ...(event.payload as object), ...patch.payload } };
}

/** The JSON of `order` with line `index` patched. */
function lineJson(index: number, patch: Record<string, unknown>): Record<string, unknown> {
  return orderJson({ payload: { lines: order.lines.map((line, i) => (i === index ? { ...line, ...patch } : line)) } });
}

/** An OrderCreated as version 1 wrote it: one product and quantity in the payload, no lines. */
function v1Json(payload: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: `order-created:${ORDER_ID}`,
    type: 'OrderCreated',
    schemaVersion: 1,
    occurredAt: AT,
    payload: { orderId: ORDER_ID, productId: 7, quantity: 2, customerId: 'customer-42', ...payload },
  };
}

function withoutKey(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy = { ...object };
  delete copy[key];
  return copy;
}

function errorOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('OrderCreated', () => {
  it('has an envelope with a deterministic event id derived from the order id', () => {
    const event = orderCreated(order, new Date(AT));
    expect(event).toEqual({ eventId: `order-created:${ORDER_ID}`, type: 'OrderCreated', schemaVersion: 2, occurredAt: AT, payload: order });
    expect(orderCreated({ ...order, lines: [{ productId: 7, quantity: 9 }] }, '2027-01-01T00:00:00Z').eventId).toBe(event.eventId);
    expect(orderCreated({ ...order, orderId: '01928f4e-5b6a-7c3d-8e9f-0a1b2c3d4e60' }, AT).eventId).not.toBe(event.eventId);
  });

  it('is schema version 2: order id, customer id and the lines in their order', () => {
    expect(encodeEvent(orderCreated(order, AT)).toString('utf8')).toBe(
      `{"eventId":"order-created:${ORDER_ID}","type":"OrderCreated","schemaVersion":2,"occurredAt":"${AT}",` +
        `"payload":{"orderId":"${ORDER_ID}","customerId":"customer-42","lines":[{"productId":7,"quantity":2},{"productId":3,"quantity":1},{"productId":11,"quantity":5}]}}`,
    );
  });

  it('is keyed by its lead product: the first line', () => {
    expect(orderKey(order)).toBe('7');
    expect(orderKey(orderCreated({ ...order, lines: [...order.lines].reverse() }, AT).payload)).toBe('11');
    expect(orderKey(decodeOrderCreated(jsonBytes(v1Json({ productId: 42 }))).payload)).toBe('42');
  });

  it('round-trips through encode and decode', () => {
    const event = orderCreated(order, AT);
    expect(orderCreatedCodec.decode(orderCreatedCodec.encode(event))).toEqual(event);
    expect(decodeOrderCreated(encodeEvent(event))).toEqual(event);
  });

  it('round-trips any valid order', () => {
    const line = fc.record({ productId: fc.integer({ min: 1, max: PG_INTEGER_MAX }), quantity: fc.integer({ min: 1, max: PG_INTEGER_MAX }) });
    const payloads = fc.record({
      orderId: fc.uuid(),
      customerId: fc.string({ minLength: 1 }),
      lines: fc.uniqueArray(line, { minLength: 1, maxLength: ORDER_MAX_LINES, selector: (drawn) => drawn.productId }),
    });
    fc.assert(
      fc.property(payloads, fc.date({ min: new Date(0), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }), (payload, at) => {
        const event = orderCreated(payload, at);
        expect(decodeOrderCreated(encodeEvent(event))).toEqual(event);
      }),
    );
  });

  it('ignores unknown extra fields, and lower-cases the order id', () => {
    const json = orderJson({ envelope: { traceId: 'abc' }, payload: { orderId: ORDER_ID.toUpperCase(), note: 'gift', lines: [{ ...order.lines[0], note: 'wrapped' }] } });
    const decoded = decodeOrderCreated(jsonBytes(json));
    expect(decoded.payload).toEqual({ ...order, lines: [order.lines[0]] });
    expect(decoded).not.toHaveProperty('traceId');
  });

  it('is one event per order, its size set by that order alone: under 16 KB with every field at its largest', () => {
    // The order source publishes one OrderCreated per stored order, so no batch size enters it;
    // its lines are bounded by ORDER_MAX_LINES, and the customer id comes from the orders row.
    const lines = Array.from({ length: ORDER_MAX_LINES }, (_, i) => ({ productId: PG_INTEGER_MAX - i, quantity: PG_INTEGER_MAX }));
    const largest = orderCreated({ orderId: ORDER_ID, customerId: `customer-${Number.MAX_SAFE_INTEGER}`, lines }, '9999-12-31T23:59:59.999Z');
    expect(encodeEvent(largest).length).toBeLessThan(5 * 1024);
    expect(decodeOrderCreated(encodeEvent(largest))).toEqual(largest);
  });

  it('refuses an invalid occurredAt when building', () => {
    expect(() => orderCreated(order, 'yesterday')).toThrow(RangeError);
  });

  describe('version 1 (one product per order), still readable', () => {
    it('decodes to the version 2 shape, its product and quantity the one line, the event id unchanged', () => {
      expect(decodeOrderCreated(jsonBytes(v1Json()))).toEqual({
        eventId: `order-created:${ORDER_ID}`,
        type: 'OrderCreated',
        schemaVersion: 2,
        occurredAt: AT,
        payload: { orderId: ORDER_ID, customerId: 'customer-42', lines: [{ productId: 7, quantity: 2 }] },
      });
    });

    it.each([
      ['a string product id', { productId: '7' }, 'payload.productId', 'payload.productId must be a positive integer, got "7"'],
      ['a zero product id', { productId: 0 }, 'payload.productId', 'payload.productId must be a positive integer, got 0'],
      ['a product id above int4', { productId: 2 ** 31 }, 'payload.productId', 'payload.productId must be at most 2147483647 (a PostgreSQL integer), got 2147483648'],
      ['a missing quantity', { quantity: undefined }, 'payload.quantity', 'payload.quantity is missing'],
      ['a quantity above int4', { quantity: 2 ** 31 }, 'payload.quantity', 'payload.quantity must be at most 2147483647'],
      ['a missing customer id', { customerId: undefined }, 'payload.customerId', 'payload.customerId is missing'],
    ])('still validates its fields: %s', (_name, payloadPatch, path, message) => {
      const error = errorOf(() => decodeOrderCreated(jsonBytes(v1Json(payloadPatch))));
      expect(error).toBeInstanceOf(SchemaError);
      expect(error).toMatchObject({ path });
      expect((error as Error).message).toContain(message);
    });

    it('is not read as version 2, nor version 2 as version 1', () => {
      expect(errorOf(() => decodeOrderCreated(jsonBytes({ ...v1Json(), schemaVersion: 2 })))).toMatchObject({ path: 'payload.lines', message: 'payload.lines is missing' });
      expect(errorOf(() => decodeOrderCreated(jsonBytes(orderJson({ envelope: { schemaVersion: 1 } }))))).toMatchObject({ path: 'payload.productId', message: 'payload.productId is missing' });
    });
  });
});

describe('decodeOrderCreated failures', () => {
  it.each([
    ['a null value (tombstone)', null, /record value is null/],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), /not valid UTF-8/],
    ['text that is not JSON', Buffer.from('{"eventId": '), /not valid JSON/],
    ['an empty value', Buffer.alloc(0), /not valid JSON/],
  ])('throws DecodeError for %s', (_name, bytes, message) => {
    const error = errorOf(() => decodeOrderCreated(bytes));
    expect(error).toBeInstanceOf(DecodeError);
    expect(error).toBeInstanceOf(StreamError);
    expect(error).toMatchObject({ code: 'DECODE_FAILED', errorClass: 'DecodeError', name: 'DecodeError', retriable: false });
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    ['JSON that is not an object', [1, 2], 'event', 'event must be an object, got an array'],
    ['a missing payload', withoutKey(orderJson(), 'payload'), 'payload', 'payload is missing'],
    ['a missing eventId', withoutKey(orderJson(), 'eventId'), 'eventId', 'eventId is missing'],
    ['another event type', orderJson({ envelope: { type: 'InventoryUpdated' } }), 'type', 'type must be "OrderCreated", got "InventoryUpdated"'],
    ['a bad occurredAt', orderJson({ envelope: { occurredAt: 'last tuesday' } }), 'occurredAt', 'occurredAt must be an ISO-8601 timestamp'],
    ['a non-UUID order id', orderJson({ payload: { orderId: 'order-1' } }), 'payload.orderId', 'payload.orderId must be a UUID, got "order-1"'],
    ['a missing customer id', orderJson({ payload: { customerId: undefined } }), 'payload.customerId', 'payload.customerId is missing'],
    ['an empty customer id', orderJson({ payload: { customerId: '' } }), 'payload.customerId', 'payload.customerId must be a non-empty string'],
    ['a missing schemaVersion', withoutKey(orderJson(), 'schemaVersion'), 'schemaVersion', 'schemaVersion is missing'],
    ['a string schemaVersion', orderJson({ envelope: { schemaVersion: '2' } }), 'schemaVersion', 'schemaVersion must be an integer'],
    ['missing lines', orderJson({ payload: { lines: undefined } }), 'payload.lines', 'payload.lines is missing'],
    ['lines that are not an array', orderJson({ payload: { lines: { productId: 7, quantity: 2 } } }), 'payload.lines', 'payload.lines must be an array, got an object'],
    ['no lines', orderJson({ payload: { lines: [] } }), 'payload.lines', 'payload.lines must have 1 to 100 lines, got 0'],
    [
      'more than ORDER_MAX_LINES lines',
      orderJson({ payload: { lines: Array.from({ length: 101 }, (_, i) => ({ productId: i + 1, quantity: 1 })) } }),
      'payload.lines',
      'payload.lines must have 1 to 100 lines, got 101',
    ],
    ['a line that is not an object', orderJson({ payload: { lines: [order.lines[0], 7] } }), 'payload.lines[1]', 'payload.lines[1] must be an object, got 7'],
    ['a string product id', lineJson(2, { productId: '7' }), 'payload.lines[2].productId', 'payload.lines[2].productId must be a positive integer, got "7"'],
    ['a zero product id', lineJson(0, { productId: 0 }), 'payload.lines[0].productId', 'payload.lines[0].productId must be a positive integer, got 0'],
    ['a missing quantity', lineJson(1, { quantity: undefined }), 'payload.lines[1].quantity', 'payload.lines[1].quantity is missing'],
    [
      'a product twice',
      orderJson({ payload: { lines: [...order.lines, { productId: 7, quantity: 1 }] } }),
      'payload.lines',
      'payload.lines must not repeat product 7 (lines 0 and 3)',
    ],
    // Valid-looking values that the orders and order_lines tables cannot hold: the batch's SQL would fail.
    [
      'a product id above int4 (order_lines.product_id)',
      lineJson(2, { productId: 2 ** 31 }),
      'payload.lines[2].productId',
      'payload.lines[2].productId must be at most 2147483647 (a PostgreSQL integer), got 2147483648',
    ],
    ['a product id of 2^53', lineJson(0, { productId: 2 ** 53 }), 'payload.lines[0].productId', 'payload.lines[0].productId must be a positive integer'],
    [
      'a quantity above int4 (order_lines.quantity)',
      lineJson(1, { quantity: 2 ** 31 }),
      'payload.lines[1].quantity',
      'payload.lines[1].quantity must be at most 2147483647 (a PostgreSQL integer), got 2147483648',
    ],
    ['a UUID with a stray character (orders.id)', orderJson({ payload: { orderId: `${ORDER_ID}0` } }), 'payload.orderId', 'payload.orderId must be a UUID'],
    ['a UUID without dashes', orderJson({ payload: { orderId: ORDER_ID.replaceAll('-', '') } }), 'payload.orderId', 'payload.orderId must be a UUID'],
    ['a numeric order id', orderJson({ payload: { orderId: 42 } }), 'payload.orderId', 'payload.orderId must be a non-empty string, got 42'],
    ['a customer id with U+0000 (orders.customer_id text)', orderJson({ payload: { customerId: 'c\u00001' } }), 'payload.customerId', 'payload.customerId must not contain U+0000'],
  ])('throws SchemaError naming the field for %s', (_name, json, path, message) => {
    const error = errorOf(() => decodeOrderCreated(jsonBytes(json)));
    expect(error).toBeInstanceOf(SchemaError);
    expect(error).toMatchObject({ code: 'SCHEMA_INVALID', errorClass: 'SchemaError', path, context: { path } });
    expect((error as Error).message).toContain(message);
  });

  it.each([0, -3, 1.5, '2', null])('rejects quantity %p: "quantity must be a positive integer"', (quantity) => {
    const error = errorOf(() => decodeOrderCreated(jsonBytes(lineJson(1, { quantity }))));
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).path).toBe('payload.lines[1].quantity');
    expect((error as Error).message).toContain('quantity must be a positive integer');
  });

  it('throws UnsupportedVersionError for a version it does not read, before looking at the payload', () => {
    const error = errorOf(() => decodeOrderCreated(jsonBytes(orderJson({ envelope: { schemaVersion: 3, payload: { totally: 'different' } } }))));
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect(error).toMatchObject({ code: 'SCHEMA_INVALID', errorClass: 'UnsupportedVersionError', schemaVersion: 3 });
    expect((error as Error).message).toBe('unsupported schemaVersion 3 for OrderCreated (supported: 1, 2)');
  });

  it('classifies its errors as event errors, and nothing else', () => {
    expect(isEventError(errorOf(() => decodeOrderCreated(null)))).toBe(true);
    expect(isEventError(new StreamError('DECODE_FAILED', 'other'))).toBe(false);
  });
});

describe('InventoryUpdated', () => {
  const update = {
    productId: 7,
    quantity: 3,
    delta: -2,
    version: 5,
    reserved: 1,
    refused: 1,
    released: 2,
    restocked: 1,
    source: { topic: 'orders', partition: 2, fromOffset: 10n, toOffset: 9_007_199_254_740_993n },
  };

  it('derives its event id from product and version, and carries offsets as decimal strings', () => {
    const event = inventoryUpdated(update, AT);
    expect(event.eventId).toBe('inventory-updated:7:5');
    expect(inventoryUpdated({ ...update, quantity: 1, delta: -4 }, '2030-01-01T00:00:00Z').eventId).toBe(event.eventId);
    expect(inventoryUpdated({ ...update, version: 6 }, AT).eventId).toBe('inventory-updated:7:6');
    expect(event.payload.source).toEqual({ topic: 'orders', partition: 2, fromOffset: '10', toOffset: '9007199254740993' });
  });

  it('is schema version 3: move counts and the offset range, no order ids', () => {
    expect(JSON.parse(encodeEvent(inventoryUpdated(update, AT)).toString('utf8'))).toEqual({
      eventId: 'inventory-updated:7:5',
      type: 'InventoryUpdated',
      schemaVersion: 3,
      occurredAt: AT,
      payload: {
        productId: 7,
        quantity: 3,
        delta: -2,
        version: 5,
        reserved: 1,
        refused: 1,
        released: 2,
        restocked: 1,
        source: { topic: 'orders', partition: 2, fromOffset: '10', toOffset: '9007199254740993' },
      },
    });
  });

  it('round-trips through its codec', () => {
    const event = inventoryUpdated(update, AT);
    expect(inventoryUpdatedCodec.decode(inventoryUpdatedCodec.encode(event))).toEqual(event);
  });

  it('stays far below 16 KB with every field at its largest', () => {
    const largest = inventoryUpdated(
      {
        productId: PG_INTEGER_MAX,
        quantity: PG_INTEGER_MAX,
        delta: -PG_INTEGER_MAX,
        version: Number.MAX_SAFE_INTEGER,
        reserved: Number.MAX_SAFE_INTEGER,
        refused: Number.MAX_SAFE_INTEGER,
        released: Number.MAX_SAFE_INTEGER,
        restocked: Number.MAX_SAFE_INTEGER,
        // Kafka topic names are at most 249 characters, partitions int32, offsets int64.
        source: { topic: 't'.repeat(249), partition: PG_INTEGER_MAX, fromOffset: 2n ** 63n - 1n, toOffset: 2n ** 63n - 1n },
      },
      '9999-12-31T23:59:59.999Z',
    );
    expect(encodeEvent(largest).length).toBeLessThan(1024);
    expect(decodeInventoryUpdated(encodeEvent(largest))).toEqual(largest);
  });

  describe('version 1 (order id lists), still readable', () => {
    const REJECTED_ID = '01928f4e-5b6a-7c3d-8e9f-0a1b2c3d4e60';
    const v1 = {
      eventId: 'inventory-updated:7:5',
      type: 'InventoryUpdated',
      schemaVersion: 1,
      occurredAt: AT,
      payload: {
        productId: 7,
        quantity: 3,
        delta: -2,
        version: 5,
        acceptedOrderIds: [ORDER_ID, '01928f4e-5b6a-7c3d-8e9f-0a1b2c3d4e61'],
        rejectedOrders: [{ orderId: REJECTED_ID, reason: 'out_of_stock' }],
        source: { topic: 'orders', partition: 2, fromOffset: '10', toOffset: '12' },
      },
    };

    it('decodes to the version 3 shape, the lists counted as lines reserved and refused, the event id unchanged', () => {
      expect(decodeInventoryUpdated(jsonBytes(v1))).toEqual({
        eventId: 'inventory-updated:7:5',
        type: 'InventoryUpdated',
        schemaVersion: 3,
        occurredAt: AT,
        payload: { productId: 7, quantity: 3, delta: -2, version: 5, reserved: 2, refused: 1, released: 0, restocked: 0, source: v1.payload.source },
      });
    });

    it.each([
      ['an unknown reason', { rejectedOrders: [{ orderId: 'x', reason: 'lost' }] }, 'payload.rejectedOrders[0].reason', 'must be one of out_of_stock, unknown_product'],
      ['a numeric order id', { acceptedOrderIds: ['a', 5] }, 'payload.acceptedOrderIds[1]', 'payload.acceptedOrderIds[1] must be a non-empty string'],
      ['missing lists', { acceptedOrderIds: undefined }, 'payload.acceptedOrderIds', 'payload.acceptedOrderIds is missing'],
    ])('still validates its lists: %s', (_name, payloadPatch, path, message) => {
      const error = errorOf(() => decodeInventoryUpdated(jsonBytes({ ...v1, payload: { ...v1.payload, ...payloadPatch } })));
      expect(error).toBeInstanceOf(SchemaError);
      expect((error as SchemaError).path).toBe(path);
      expect((error as Error).message).toContain(message);
    });

    it('does not accept version 2 without its counts', () => {
      const error = errorOf(() => decodeInventoryUpdated(jsonBytes({ ...v1, schemaVersion: 2 })));
      expect(error).toMatchObject({ path: 'payload.ordersConfirmed', message: 'payload.ordersConfirmed is missing' });
    });
  });

  describe('version 2 (order counts), still readable', () => {
    const v2 = {
      eventId: 'inventory-updated:7:5',
      type: 'InventoryUpdated',
      schemaVersion: 2,
      occurredAt: AT,
      payload: { productId: 7, quantity: 3, delta: -2, version: 5, ordersConfirmed: 2, ordersRejected: 1, source: { topic: 'orders', partition: 2, fromOffset: '10', toOffset: '12' } },
    };

    it('decodes to the version 3 shape: confirmed orders as lines reserved, rejected ones as refused, nothing released or restocked', () => {
      expect(decodeInventoryUpdated(jsonBytes(v2)).payload).toEqual({ productId: 7, quantity: 3, delta: -2, version: 5, reserved: 2, refused: 1, released: 0, restocked: 0, source: v2.payload.source });
    });

    it('still refuses a positive delta, which version 2 could not carry', () => {
      const error = errorOf(() => decodeInventoryUpdated(jsonBytes({ ...v2, payload: { ...v2.payload, delta: 1 } })));
      expect(error).toMatchObject({ path: 'payload.delta', message: 'payload.delta must be negative or 0, got 1' });
    });

    it('does not accept version 3 without its counts', () => {
      const error = errorOf(() => decodeInventoryUpdated(jsonBytes({ ...v2, schemaVersion: 3 })));
      expect(error).toMatchObject({ path: 'payload.reserved', message: 'payload.reserved is missing' });
    });
  });

  it('carries a positive delta: releases and restocks give stock back', () => {
    const event = inventoryUpdated({ ...update, delta: 25, restocked: 1 }, AT);
    expect(decodeInventoryUpdated(encodeEvent(event)).payload.delta).toBe(25);
  });

  it('refuses a version it does not know, naming the ones it reads', () => {
    const json = JSON.parse(encodeEvent(inventoryUpdated(update, AT)).toString()) as object;
    const error = errorOf(() => decodeInventoryUpdated(jsonBytes({ ...json, schemaVersion: 4 })));
    expect(error).toBeInstanceOf(UnsupportedVersionError);
    expect((error as Error).message).toBe('unsupported schemaVersion 4 for InventoryUpdated (supported: 1, 2, 3)');
  });

  it.each([
    ['a delta above int4', { delta: 2 ** 31 }, 'payload.delta', 'payload.delta must be at most 2147483647'],
    ['a negative quantity', { quantity: -1 }, 'payload.quantity', 'payload.quantity must be a non-negative integer'],
    ['a quantity above int4 (inventory.quantity)', { quantity: 2 ** 31 }, 'payload.quantity', 'payload.quantity must be at most 2147483647'],
    ['a product id above int4 (inventory.product_id)', { productId: 2 ** 31 }, 'payload.productId', 'payload.productId must be at most 2147483647'],
    ['version 0', { version: 0 }, 'payload.version', 'payload.version must be a positive integer'],
    ['a negative count', { reserved: -1 }, 'payload.reserved', 'payload.reserved must be a non-negative integer'],
    ['a fractional count', { refused: 0.5 }, 'payload.refused', 'payload.refused must be a non-negative integer'],
    ['a missing release count', { released: undefined }, 'payload.released', 'payload.released is missing'],
    ['a negative restock count', { restocked: -2 }, 'payload.restocked', 'payload.restocked must be a non-negative integer'],
    ['a numeric offset', { source: { topic: 'orders', partition: 0, fromOffset: 1, toOffset: '2' } }, 'payload.source.fromOffset', 'must be a non-empty string'],
    ['an inverted offset range', { source: { topic: 'orders', partition: 0, fromOffset: '5', toOffset: '4' } }, 'payload.source.toOffset', 'must not be below fromOffset'],
  ])('throws SchemaError for %s', (_name, payloadPatch, path, message) => {
    const json = JSON.parse(encodeEvent(inventoryUpdated(update, AT)).toString()) as { payload: object };
    const error = errorOf(() => decodeInventoryUpdated(jsonBytes({ ...json, payload: { ...json.payload, ...payloadPatch } })));
    expect(error).toBeInstanceOf(SchemaError);
    expect((error as SchemaError).path).toBe(path);
    expect((error as Error).message).toContain(message);
  });
});

describe('eventHeaders', () => {
  it('names type, id and content type of any event', () => {
    expect(eventHeaders(orderCreated(order, AT))).toEqual({
      'event-type': 'OrderCreated',
      'event-id': `order-created:${ORDER_ID}`,
      'content-type': 'application/json',
    });
    const updated = inventoryUpdated(
      { productId: 1, quantity: 0, delta: 0, version: 1, reserved: 0, refused: 1, released: 0, restocked: 0, source: { topic: 't', partition: 0, fromOffset: '0', toOffset: '0' } },
      AT,
    );
    expect(eventHeaders(updated)).toEqual({ 'event-type': 'InventoryUpdated', 'event-id': 'inventory-updated:1:1', 'content-type': 'application/json' });
  });
});
