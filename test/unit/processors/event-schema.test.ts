import { describe, expect, it } from '@jest/globals';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import fc from 'fast-check';
import { SchemaError } from '../../../core/codec.ts';
import { lineResultCodec, PRODUCT_COMMAND_SCHEMA, productCommandCodec } from '../../../processors/commands.ts';
import { firstSchemaError } from '../../../processors/event-schema.ts';
import { decodeOrderCreated, ORDER_CREATED_SCHEMA, orderCreated } from '../../../processors/events.ts';
import { orderRejected, orderRejectedCodec } from '../../../processors/outcome-events.ts';

const ORDER_ID = '01928f4e-5b6a-7c3d-8e9f-0a1b2c3d4e5f';
const AT = '2026-11-03T10:15:30.000Z';
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
type Json = Record<string, unknown>;
const validOrder = () => JSON.parse(JSON.stringify(orderCreated({ orderId: ORDER_ID, customerId: 'c-1', lines: [{ productId: 1, quantity: 2 }] }, AT))) as Json;

function errorOf(decode: () => unknown): SchemaError {
  try {
    decode();
  } catch (error) {
    if (error instanceof SchemaError) return error;
    throw error;
  }
  throw new Error('expected a SchemaError');
}

describe('firstSchemaError', () => {
  it('names the first failing field in the order the schema declares them, not a missing field further on', () => {
    // TypeBox's own error iterator would report the missing customerId first.
    const event = validOrder();
    event.payload = { orderId: 42 };
    expect(errorOf(() => decodeOrderCreated(bytes(event)))).toMatchObject({ path: 'payload.orderId', message: 'payload.orderId must be a non-empty string, got 42' });
  });

  it('names the root when the record is not an object at all', () => {
    expect(errorOf(() => productCommandCodec.decode(bytes([1])))).toMatchObject({ path: 'product command', message: 'product command must be an object, got an array' });
  });

  it('agrees with the compiled check on any value: an error exactly when the check fails', () => {
    const check = TypeCompiler.Compile(ORDER_CREATED_SCHEMA);
    const mutated = fc.record({ path: fc.constantFrom('eventId', 'occurredAt', 'type', 'payload', 'payload.orderId', 'payload.customerId', 'payload.lines', 'payload.lines.0', 'payload.lines.0.productId', 'payload.lines.0.quantity'), value: fc.jsonValue() });
    fc.assert(
      fc.property(mutated, ({ path, value }) => {
        const event = validOrder();
        const keys = path.split('.');
        let at = event;
        for (const key of keys.slice(0, -1)) at = at[key] as Json;
        at[keys.at(-1)!] = value;
        const passes = check.Check(event);
        expect({ passes, error: firstSchemaError(ORDER_CREATED_SCHEMA, event, 'event')?.message }).toEqual(passes ? { passes, error: undefined } : { passes, error: expect.any(String) });
      }),
      { numRuns: 500 },
    );
  });

  it('keeps its wording out of the JSON form of a schema', () => {
    const json = JSON.stringify(ORDER_CREATED_SCHEMA);
    expect(json).not.toMatch(/wording|must be/);
    expect(JSON.parse(json).properties.payload.properties.orderId).toEqual(expect.objectContaining({ type: 'string', minLength: 1, pattern: expect.any(String) }));
  });
});

describe('a union told apart by a field (kind, outcome)', () => {
  const reserve = { kind: 'reserve', productId: 1, quantity: 2, orderId: ORDER_ID, lineCount: 2 };

  it.each([
    ['an unknown kind', { ...reserve, kind: 'borrow' }, 'kind', 'kind must be one of reserve, release, restock, got "borrow"'],
    ['no kind', { ...reserve, kind: undefined }, 'kind', 'kind must be one of reserve, release, restock, got undefined'],
    ['a field common to all kinds', { ...reserve, quantity: 0 }, 'quantity', 'quantity must be a positive integer, got 0'],
    ["a field of the kind's own", { ...reserve, orderId: 'x' }, 'orderId', 'orderId must be a UUID, got "x"'],
    ['a release without its cause', { ...reserve, kind: 'release' }, 'cause', 'cause must be one of order_rejected, order_cancelled, got undefined'],
  ])('names the field within the variant for %s', (_name, value, path, message) => {
    expect(errorOf(() => productCommandCodec.decode(bytes(value)))).toMatchObject({ path, message });
  });

  it('reads the fields before the tag first, as the variants share them', () => {
    expect(errorOf(() => lineResultCodec.decode(bytes({ orderId: ORDER_ID, productId: 1, quantity: 1, lineCount: 0, outcome: 'lost' })))).toMatchObject({
      path: 'lineCount',
      message: 'lineCount must be a positive integer, got 0',
    });
    expect(errorOf(() => lineResultCodec.decode(bytes({ orderId: ORDER_ID, productId: 1, quantity: 1, lineCount: 1, outcome: 'refused' })))).toMatchObject({
      path: 'reason',
      message: 'reason must be one of out_of_stock, unknown_product, got undefined',
    });
  });

  it('names a failure inside an array of variants by its index', () => {
    const event = JSON.parse(JSON.stringify(orderRejected({ orderId: ORDER_ID, lines: [{ productId: 1, quantity: 1, outcome: 'refused', reason: 'out_of_stock' }] }, AT)));
    event.payload.lines.push({ productId: 2, quantity: 1, outcome: 'maybe' });
    expect(errorOf(() => orderRejectedCodec.decode(bytes(event)))).toMatchObject({ path: 'payload.lines[1].outcome', message: 'payload.lines[1].outcome must be one of reserved, refused, got "maybe"' });
  });

  it('decodes each kind to its own shape, dropping fields the kind does not have', () => {
    expect(productCommandCodec.decode(bytes({ kind: 'restock', productId: 3, quantity: 4, restockId: ORDER_ID.toUpperCase(), orderId: ORDER_ID, extra: 1 }))).toEqual({
      kind: 'restock',
      productId: 3,
      quantity: 4,
      restockId: ORDER_ID,
    });
    expect(TypeCompiler.Compile(PRODUCT_COMMAND_SCHEMA).Check({ kind: 'restock', productId: 3, quantity: 4 })).toBe(false);
  });
});
