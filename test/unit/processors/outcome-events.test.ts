import { describe, expect, it } from '@jest/globals';
import { SchemaError } from '../../../core/codec.ts';
import { encodeEvent, ORDER_MAX_LINES, PG_INTEGER_MAX, REJECTION_REASONS } from '../../../processors/events.ts';
import {
  CANCELLATION_RESULTS,
  inventoryRestocked,
  inventoryRestockedCodec,
  orderCancelled,
  orderCancelledCodec,
  orderConfirmed,
  orderConfirmedCodec,
  orderRejected,
  orderRejectedCodec,
} from '../../../processors/outcome-events.ts';

const ORDER_ID = '01928f4e-5b6a-7c3d-8e9f-0a1b2c3d4e5f';
const REQUEST_ID = '11928f4e-5b6a-7c3d-8e9f-0a1b2c3d4e5f';
const LATEST = '9999-12-31T23:59:59.999Z';
const SIXTEEN_KB = 16 * 1024;

/** An order with every line its largest: ORDER_MAX_LINES lines, ids and quantities at the int4 bound. */
const largestLines = Array.from({ length: ORDER_MAX_LINES }, (_, i) => ({ productId: PG_INTEGER_MAX - i, quantity: PG_INTEGER_MAX }));
const longestReason = REJECTION_REASONS.reduce((a, b) => (b.length > a.length ? b : a));
const longestResult = CANCELLATION_RESULTS.reduce((a, b) => (b.length > a.length ? b : a));

describe('outcome events', () => {
  // No event of the pipeline may exceed 16 KB (the relay's sends and every consumer rely on it):
  // an outcome's size is set by its order alone, and an order holds at most ORDER_MAX_LINES lines.
  const largest = [
    ['OrderConfirmed', orderConfirmed({ orderId: ORDER_ID, lines: largestLines }, LATEST), orderConfirmedCodec],
    [
      'OrderRejected',
      orderRejected({ orderId: ORDER_ID, lines: largestLines.map((line) => ({ ...line, outcome: 'refused' as const, reason: longestReason })) }, LATEST),
      orderRejectedCodec,
    ],
    ['OrderCancelled', orderCancelled({ orderId: ORDER_ID, requestId: REQUEST_ID, result: longestResult, releasedLines: largestLines }, LATEST), orderCancelledCodec],
    ['InventoryRestocked', inventoryRestocked({ restockId: REQUEST_ID, productId: PG_INTEGER_MAX, quantity: PG_INTEGER_MAX, stockAfter: PG_INTEGER_MAX }, LATEST), inventoryRestockedCodec],
  ] as const;

  it.each(largest)('%s stays under 16 KB with every field at its largest, and decodes to itself', (_type, event, codec) => {
    const bytes = encodeEvent(event);
    expect(bytes.length).toBeLessThan(SIXTEEN_KB);
    expect((codec as { decode(bytes: Uint8Array): unknown }).decode(bytes)).toEqual(event);
  });

  it('drops fields a line carries beside its product and quantity, so a caller cannot grow an event', () => {
    const line = { productId: 1, quantity: 2, note: 'x'.repeat(SIXTEEN_KB) };
    const event = orderConfirmed({ orderId: ORDER_ID, lines: [line] }, LATEST);
    expect(event.payload.lines).toEqual([{ productId: 1, quantity: 2 }]);
    expect(encodeEvent(event).length).toBeLessThan(1024);
  });

  it('refuses a confirmed or rejected order without lines, naming the path', () => {
    const empty = encodeEvent(orderConfirmed({ orderId: ORDER_ID, lines: [] }, LATEST));
    expect(() => orderConfirmedCodec.decode(empty)).toThrow(SchemaError);
    expect(() => orderConfirmedCodec.decode(empty)).toThrow(/payload\.lines/);
  });
});
