import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { OrderCreated } from '../../../processors/events.ts';
import { decodeInventoryUpdated, encodeEvent, orderCreated, orderKey } from '../../../processors/events.ts';
import type { ProductStock } from '../../../processors/inventory.ts';
import { MultiLineOrderError, OrderMismatchError, OrderNotStoredError, type OrderState } from '../../../processors/inventory.ts';
import type { InventoryProcessorOutput } from '../../../processors/inventory-processor.ts';
import { createInventoryProcessor, INVENTORY_STORE, ORDER_DECISIONS_STORE, prefetchKeys } from '../../../processors/inventory-processor.ts';
import type { ForwardedRecord, KeyValueStore, ProcessorContext, RecordMetadata } from '../../../topology/processor-api.ts';

const NOW = Date.parse('2026-11-03T12:00:00Z');
const MONITOR_STAND = 3;
const KEYBOARD = 4;

/** Exposes the Map for assertions and the store API for the processor. */
class MapStore<K, V> extends Map<K, V> implements KeyValueStore<K, V> {
  put(key: K, value: V): void {
    this.set(key, value);
  }

  getAll(keys: Iterable<K>): Map<K, V> {
    return new Map([...keys].flatMap((key) => (this.has(key) ? [[key, this.get(key)!] as [K, V]] : [])));
  }
}

/** A tiny in-memory stand-in for the runtime: Map-backed stores, a settable current record, captured forwards. */
function fakeRuntime(inventory: Record<number, ProductStock>, decided: Record<string, OrderState> = {}) {
  const stores = {
    [INVENTORY_STORE]: new MapStore<number, ProductStock>(Object.entries(inventory).map(([id, stock]) => [Number(id), stock])),
    [ORDER_DECISIONS_STORE]: new MapStore<string, OrderState>(Object.entries(decided)),
  };
  const forwarded: Array<ForwardedRecord<InventoryProcessorOutput> & { childName?: string }> = [];
  let metadata: RecordMetadata = { topic: 'orders', partition: 0, offset: 0n, timestamp: NOW };
  const context: ProcessorContext<InventoryProcessorOutput> = {
    forward: (record, childName) => forwarded.push(childName === undefined ? record : { ...record, childName }),
    getStateStore<K, V>(name: string): KeyValueStore<K, V> {
      const store = stores[name as keyof typeof stores];
      if (store === undefined) throw new Error(`no store ${name}`);
      return store as unknown as KeyValueStore<K, V>;
    },
    recordMetadata: () => metadata,
    currentTimeMs: () => NOW,
    schedule: () => {
      throw new Error('the inventory processor schedules no punctuator');
    },
  };
  const processor = createInventoryProcessor();
  processor.init?.(context);
  let nextOffset = 0n;
  return {
    stores,
    forwarded,
    reinit: () => processor.init?.(context),
    /** Processes one order as the record at the next offset (or at `offset`); stores it first, as the order source does, unless `stored` is false. */
    send(event: OrderCreated, offset = nextOffset, { stored = true } = {}) {
      const { orderId, lines } = event.payload;
      // The orders row holds the lead line.
      if (stored && !stores[ORDER_DECISIONS_STORE].has(orderId)) stores[ORDER_DECISIONS_STORE].set(orderId, { ...lines[0]!, status: 'pending' });
      metadata = { topic: 'orders', partition: 0, offset, timestamp: NOW };
      nextOffset = offset + 1n;
      processor.process({ key: orderKey(event.payload), value: event, headers: {} }, context);
    },
    flush: () => processor.flush?.(context),
    /** Decisions made by this runtime (pre-seeded ones excluded), in the order they were made. */
    decisions: () =>
      [...stores[ORDER_DECISIONS_STORE]]
        .filter(([orderId, state]) => !(orderId in decided) && state.status !== 'pending')
        .map(([orderId, decision]) => ({ orderId, status: decision.status, reason: decision.status === 'rejected' ? decision.reason : undefined })),
    updates: () => forwarded,
  };
}

let orderSeq = 0;
function order(productId: number, quantity: number): OrderCreated {
  orderSeq += 1;
  const orderId = `01928f4e-5b6a-7c3d-8e9f-${orderSeq.toString(16).padStart(12, '0')}`;
  return orderCreated({ orderId, customerId: 'customer-1', lines: [{ productId, quantity }] }, NOW);
}

describe('inventory processor', () => {
  it('Monitor Stand with stock 1: confirms the first order of 1, rejects the second, one InventoryUpdated on flush', () => {
    const runtime = fakeRuntime({ [MONITOR_STAND]: { quantity: 1, version: 4 } });
    const first = order(MONITOR_STAND, 1);
    const second = order(MONITOR_STAND, 1);
    runtime.send(first, 10n);
    runtime.send(second, 11n);

    expect(runtime.decisions()).toEqual([
      { orderId: first.payload.orderId, status: 'confirmed', reason: undefined },
      { orderId: second.payload.orderId, status: 'rejected', reason: 'out_of_stock' },
    ]);
    expect(runtime.updates()).toEqual([]);

    runtime.flush();
    const [update, ...more] = runtime.updates();
    expect(more).toEqual([]);
    expect(update!.key).toBe(String(MONITOR_STAND));
    expect(update!.headers).toEqual({ 'event-type': 'InventoryUpdated', 'event-id': `inventory-updated:${MONITOR_STAND}:5`, 'content-type': 'application/json' });
    const event = update!.value;
    expect(event).toEqual({
      eventId: `inventory-updated:${MONITOR_STAND}:5`,
      type: 'InventoryUpdated',
      schemaVersion: 3,
      occurredAt: new Date(NOW).toISOString(),
      payload: {
        productId: MONITOR_STAND,
        quantity: 0,
        delta: -1,
        version: 5,
        reserved: 1,
        refused: 1,
        released: 0,
        restocked: 0,
        source: { topic: 'orders', partition: 0, fromOffset: '10', toOffset: '11' },
      },
    });
    // What the processor emits passes the consumer-side validation.
    expect(decodeInventoryUpdated(encodeEvent(event!))).toEqual(event);
    expect(runtime.stores[INVENTORY_STORE].get(MONITOR_STAND)).toEqual({ quantity: 0, version: 5 });
    expect(runtime.stores[ORDER_DECISIONS_STORE].get(first.payload.orderId)).toEqual({ productId: MONITOR_STAND, quantity: 1, status: 'confirmed' });
    expect(runtime.stores[ORDER_DECISIONS_STORE].get(second.payload.orderId)).toEqual({ productId: MONITOR_STAND, quantity: 1, status: 'rejected', reason: 'out_of_stock' });
  });

  it('rejects an unknown product without touching the inventory or emitting InventoryUpdated', () => {
    const runtime = fakeRuntime({});
    const unknown = order(999, 1);
    runtime.send(unknown);
    runtime.flush();
    expect(runtime.decisions().map((d) => [d.status, d.reason])).toEqual([['rejected', 'unknown_product']]);
    expect(runtime.updates()).toEqual([]);
    expect(runtime.stores[INVENTORY_STORE].size).toBe(0);
    expect(runtime.stores[ORDER_DECISIONS_STORE].get(unknown.payload.orderId)).toEqual({ productId: 999, quantity: 1, status: 'rejected', reason: 'unknown_product' });
  });

  it('skips an order already decided, in this batch or an earlier one', () => {
    const earlier = order(KEYBOARD, 1);
    const runtime = fakeRuntime({ [KEYBOARD]: { quantity: 5, version: 0 } }, { [earlier.payload.orderId]: { productId: KEYBOARD, quantity: 1, status: 'confirmed' } });
    const fresh = order(KEYBOARD, 2);
    runtime.send(earlier);
    runtime.send(fresh);
    runtime.send(fresh);
    runtime.flush();
    expect(runtime.decisions().map((d) => d.orderId)).toEqual([fresh.payload.orderId]);
    expect(runtime.stores[INVENTORY_STORE].get(KEYBOARD)).toEqual({ quantity: 3, version: 1 });
    const [update] = runtime.updates();
    expect(update!.value.payload).toMatchObject({ reserved: 1, refused: 0, delta: -2 });
  });

  it('refuses an order of more than one line as RECORD_INVALID, before reading any store, and decides the next one-line order', () => {
    const runtime = fakeRuntime({ [KEYBOARD]: { quantity: 5, version: 0 }, [MONITOR_STAND]: { quantity: 5, version: 0 } });
    const threeLines = order(KEYBOARD, 1);
    threeLines.payload.lines.push({ productId: MONITOR_STAND, quantity: 1 }, { productId: 9, quantity: 2 });
    const error = (() => {
      try {
        runtime.send(threeLines);
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(MultiLineOrderError);
    expect(error).toMatchObject({
      code: 'RECORD_INVALID',
      errorClass: 'MultiLineOrderError',
      message: `order ${threeLines.payload.orderId} has 3 lines; this processor decides one-line orders only`,
      context: { orderId: threeLines.payload.orderId, lines: 3 },
    });
    const next = order(KEYBOARD, 2);
    runtime.send(next);
    runtime.flush();
    expect(runtime.decisions().map((d) => d.orderId)).toEqual([next.payload.orderId]);
    // Stored (by the fake source) but never decided: it stays pending.
    expect(runtime.stores[ORDER_DECISIONS_STORE].get(threeLines.payload.orderId)).toMatchObject({ status: 'pending' });
    expect(runtime.updates().map((u) => [u.value.payload.productId, u.value.payload.delta])).toEqual([[KEYBOARD, -2]]);
  });

  it('refuses an order that is not stored, and one stored with another product or quantity, before touching any store', () => {
    const runtime = fakeRuntime({ [KEYBOARD]: { quantity: 5, version: 0 }, [MONITOR_STAND]: { quantity: 5, version: 0 } });
    const unstored = order(KEYBOARD, 1);
    expect(() => runtime.send(unstored, 0n, { stored: false })).toThrow(OrderNotStoredError);
    const stored = order(KEYBOARD, 2);
    runtime.send(stored);
    expect(() => runtime.send({ ...stored, payload: { ...stored.payload, lines: [{ productId: KEYBOARD, quantity: 3 }] } })).toThrow(OrderMismatchError);
    expect(() => runtime.send({ ...stored, payload: { ...stored.payload, lines: [{ productId: MONITOR_STAND, quantity: 2 }] } })).toThrow(
      /is stored for product 4, quantity 2, but the record says product 3, quantity 2/,
    );
    runtime.flush();
    expect(runtime.decisions().map((d) => d.orderId)).toEqual([stored.payload.orderId]);
    expect(runtime.stores[ORDER_DECISIONS_STORE].has(unstored.payload.orderId)).toBe(false);
    expect(runtime.updates().map((u) => [u.value.payload.productId, u.value.payload.delta, u.value.payload.reserved])).toEqual([[KEYBOARD, -2, 1]]);
  });

  it('emits one InventoryUpdated per changed product per flush, with the version moving once per batch', () => {
    const runtime = fakeRuntime({ [MONITOR_STAND]: { quantity: 10, version: 0 }, [KEYBOARD]: { quantity: 0, version: 2 } });
    runtime.send(order(MONITOR_STAND, 2));
    runtime.send(order(KEYBOARD, 1));
    runtime.send(order(MONITOR_STAND, 3));
    runtime.flush();
    runtime.flush(); // an empty batch emits nothing
    runtime.send(order(MONITOR_STAND, 1));
    runtime.flush();

    const events = runtime.updates().map((r) => r.value.payload);
    expect(events.map((p) => [p!.productId, p!.version, p!.quantity, p!.delta, p!.source.fromOffset, p!.source.toOffset])).toEqual([
      [MONITOR_STAND, 1, 5, -5, '0', '2'],
      [KEYBOARD, 3, 0, 0, '1', '1'],
      [MONITOR_STAND, 2, 4, -1, '3', '3'],
    ]);
    expect(runtime.stores[INVENTORY_STORE].get(KEYBOARD)).toEqual({ quantity: 0, version: 3 });
  });

  it('emits an InventoryUpdated of the same few hundred bytes whatever the batch size (100,000 orders of one product)', () => {
    const sizeAfter = (orders: number) => {
      const runtime = fakeRuntime({ [KEYBOARD]: { quantity: orders / 2, version: 41 } });
      for (let i = 0; i < orders; i++) runtime.send(order(KEYBOARD, 1));
      runtime.flush();
      const [update, ...more] = runtime.updates();
      expect(more).toEqual([]);
      expect(update!.value.payload).toMatchObject({ reserved: orders / 2, refused: orders / 2, delta: -orders / 2, version: 42 });
      return encodeEvent(update!.value).length;
    };
    const large = sizeAfter(100_000);
    // The broker's default limit is about 1 MB per request; the pipeline's bound is 16 KB per event.
    expect(large).toBeLessThan(16 * 1024);
    // Only the digits of the counts and offsets grow: 2 orders and 100,000 differ by a few bytes.
    expect(large - sizeAfter(2)).toBeLessThan(32);
  });

  it('forgets an unflushed batch on init(), so a retried batch starts clean', () => {
    const runtime = fakeRuntime({ [KEYBOARD]: { quantity: 5, version: 0 } });
    runtime.send(order(KEYBOARD, 1));
    runtime.reinit();
    runtime.flush();
    expect(runtime.updates()).toEqual([]);
  });

  it('names the keys to prefetch for an order', () => {
    const event = order(KEYBOARD, 1);
    expect(prefetchKeys(event)).toEqual({ inventory: [KEYBOARD], 'order-decisions': [event.payload.orderId] });
  });

  it('agrees with a one-order-at-a-time model, written here, on any batch', () => {
    const orders = fc.array(fc.record({ productId: fc.integer({ min: 1, max: 4 }), quantity: fc.integer({ min: 1, max: 6 }) }), { maxLength: 30 });
    const stocks = fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(orders, stocks, (drawn, [s1, s2, s3]) => {
        // Product 4 is not in the catalogue.
        const initial: Record<number, ProductStock> = { 1: { quantity: s1!, version: 0 }, 2: { quantity: s2!, version: 3 }, 3: { quantity: s3!, version: 1 } };
        const runtime = fakeRuntime(structuredClone(initial));
        const events = drawn.map(({ productId, quantity }) => order(productId, quantity));
        for (const event of events) runtime.send(event);
        runtime.flush();

        const left = new Map(Object.entries(initial).map(([id, stock]) => [Number(id), stock.quantity]));
        const changed = new Map<number, { confirmed: number; rejected: number }>();
        const expectedDecisions = events.map(({ payload: { orderId, lines } }) => {
          const { productId, quantity } = lines[0]!;
          const stock = left.get(productId);
          if (stock === undefined) return [orderId, 'rejected', 'unknown_product'];
          const counts = changed.get(productId) ?? { confirmed: 0, rejected: 0 };
          changed.set(productId, counts);
          if (quantity > stock) {
            counts.rejected++;
            return [orderId, 'rejected', 'out_of_stock'];
          }
          left.set(productId, stock - quantity);
          counts.confirmed++;
          return [orderId, 'confirmed', undefined];
        });
        expect(runtime.decisions().map((d) => [d.orderId, d.status, d.reason])).toEqual(expectedDecisions);
        const emitted = runtime.updates().map((r) => r.value.payload);
        expect(emitted.map((p) => [p.productId, p.quantity, p.delta, p.version, p.reserved, p.refused])).toEqual(
          [...changed].map(([id, counts]) => [id, left.get(id), left.get(id)! - initial[id]!.quantity, initial[id]!.version + 1, counts.confirmed, counts.rejected]),
        );
      }),
    );
  });
});
