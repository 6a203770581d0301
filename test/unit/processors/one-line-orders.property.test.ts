/**
 * Properties of the one-line order rule as it ships: the reference topology (one-line orders are
 * decided by the order intake at their product's partition, on its stores, with the
 * InventoryUpdated sink) run by the TopologyTestDriver, one micro-batch per generated batch. The expected decisions come from a model written here, one order at a time,
 * sharing no code with the processor.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { InventoryUpdated, InventoryUpdatedPayload, OrderCreated } from '../../../processors/events.ts';
import { orderCreated, orderKey } from '../../../processors/events.ts';
import type { ProductStock } from '../../../processors/inventory.ts';
import type { OrderProgress } from '../../../processors/order-flow.ts';
import type { OrderContents } from '../../../processors/order-intake.ts';
import { buildReferenceTopology, memoryStores } from '../../../processors/reference-pipeline.ts';
import { TopologyTestDriver } from '../../../topology/testing/test-driver.ts';
import { DRIVER_TOPICS as TOPICS } from '../../support/driver-topics.ts';

const ORDERS = 'orders';
const INVENTORY_UPDATED = 'inventory-updated';
/** Larger than any generated batch: batches close only when the test flushes. */
const BATCH_MAX_RECORDS = 1_000;

/** Products 1..4 are in the catalogue, 5 is not, so unknown products appear in generated batches. */
const KNOWN_PRODUCTS = [1, 2, 3, 4];
const UNKNOWN_PRODUCT = 5;
const productIds = fc.integer({ min: 1, max: 5 });

const initialStock: fc.Arbitrary<Record<number, number>> = fc.record({
  1: fc.integer({ min: 0, max: 20 }),
  2: fc.integer({ min: 0, max: 20 }),
  3: fc.integer({ min: 0, max: 20 }),
  4: fc.integer({ min: 0, max: 20 }),
});

const orderId = (sequence: number) => `01928f4e-5b6a-7c3d-8e9f-${sequence.toString(16).padStart(12, '0')}`;

/** Batches of distinct orders, in the order they are published (one partition, so offset order). */
const batches: fc.Arbitrary<OrderCreated[][]> = fc
  .array(fc.array(fc.record({ productId: productIds, quantity: fc.integer({ min: 1, max: 8 }) }), { maxLength: 25 }), { maxLength: 6 })
  .map((raw) => {
    let sequence = 0;
    return raw.map((batch) => batch.map((line) => orderCreated({ orderId: orderId(sequence++), customerId: 'customer-1', lines: [line] }, 0)));
  });

/** The order's lead line: all there is of the one-line orders these properties are about. */
const lead = (order: OrderCreated) => order.payload.lines[0]!;

interface Run {
  /** The InventoryUpdated payloads each batch committed, in order. */
  perBatch: InventoryUpdatedPayload[][];
  inventory: Map<number, ProductStock>;
  decisions: Map<string, OrderProgress>;
  committedOffset: bigint | undefined;
  deadLetters: number;
  /** Every committed output as the sink encoded it. */
  encodedOutputs: string[];
}

interface RunOptions {
  batchMaxRecords?: number;
  /** Committed store contents to start from (a restart); default the catalogue with every order stored and pending. */
  initialState?: { inventory: Iterable<[number, ProductStock]>; 'order-status': Iterable<[string, OrderProgress]> };
}

function catalogue(stock: Record<number, number>): Array<[number, ProductStock]> {
  return KNOWN_PRODUCTS.map((id) => [id, { quantity: stock[id]!, version: 0 }]);
}

/** The orders as the order source stores them: pending, with their lines. */
const pending = (orders: OrderCreated[]): Array<[string, OrderProgress]> => orders.map((order) => [order.payload.orderId, { status: 'pending' }]);
const contents = (orders: OrderCreated[]): Array<[string, OrderContents]> => orders.map((order) => [order.payload.orderId, { lines: order.payload.lines }]);

/** Publishes each batch (keyed by product, as the order source does) and closes it as one micro-batch. */
async function runTopology(stock: Record<number, number>, orderBatches: OrderCreated[][], options: RunOptions = {}): Promise<Run> {
  const topology = buildReferenceTopology({ applicationId: 'shop', topics: TOPICS, stores: memoryStores() });
  const initialState = { ...(options.initialState ?? { inventory: catalogue(stock), 'order-status': pending(orderBatches.flat()) }), 'order-contents': contents(orderBatches.flat()) };
  const test = new TopologyTestDriver(topology, { batchMaxRecords: options.batchMaxRecords ?? BATCH_MAX_RECORDS, initialState });
  const perBatch: InventoryUpdatedPayload[][] = [];
  try {
    for (const batch of orderBatches) {
      for (const event of batch) await test.pipeInput(ORDERS, orderKey(event.payload), event, { partition: 0 });
      await test.flush();
      perBatch.push(test.readOutput<InventoryUpdated>(INVENTORY_UPDATED).map((record) => record.value.payload));
    }
  } finally {
    await test.close();
  }
  return {
    perBatch,
    inventory: new Map(test.getStateStore<number, ProductStock>('inventory')),
    decisions: new Map(test.getStateStore<string, OrderProgress>('order-status')),
    committedOffset: test.committedOffset(ORDERS, 0),
    deadLetters: test.deadLetters().length,
    encodedOutputs: test.commits().flatMap((batch) => batch.outputs.map((output) => `${output.topic}:${output.key}:${output.value.toString('utf8')}`)),
  };
}

type ModelDecision = { status: 'confirmed' } | { status: 'rejected'; reason: 'out_of_stock' | 'unknown_product' };

interface ModelEvent {
  productId: number;
  quantity: number;
  delta: number;
  version: number;
  reserved: number;
  refused: number;
  fromOffset: string;
  toOffset: string;
}

/**
 * The rule, restated from its specification one order at a time: an order already decided is
 * skipped; an unknown product is rejected and moves nothing; otherwise the order is confirmed
 * if the stock left covers it. A product with decided orders in a batch gets one event.
 */
function model(stock: Record<number, number>, orderBatches: OrderCreated[][]) {
  const remaining = new Map(KNOWN_PRODUCTS.map((id) => [id, stock[id]!]));
  const versions = new Map(KNOWN_PRODUCTS.map((id) => [id, 0]));
  const decisions = new Map<string, ModelDecision>();
  let offset = 0;
  const perBatch = orderBatches.map((batch) => {
    const events = new Map<number, ModelEvent>();
    for (const { payload } of batch) {
      const { productId, quantity } = payload.lines[0]!;
      const at = String(offset++);
      if (decisions.has(payload.orderId)) continue;
      const left = remaining.get(productId);
      if (left === undefined) {
        decisions.set(payload.orderId, { status: 'rejected', reason: 'unknown_product' });
        continue;
      }
      const event = events.get(productId) ?? {
        productId,
        quantity: left,
        delta: 0,
        version: versions.get(productId)! + 1,
        reserved: 0,
        refused: 0,
        fromOffset: at,
        toOffset: at,
      };
      events.set(productId, event);
      event.toOffset = at;
      if (quantity <= left) {
        remaining.set(productId, left - quantity);
        event.quantity -= quantity;
        event.delta -= quantity;
        event.reserved++;
        decisions.set(payload.orderId, { status: 'confirmed' });
      } else {
        event.refused++;
        decisions.set(payload.orderId, { status: 'rejected', reason: 'out_of_stock' });
      }
    }
    for (const productId of events.keys()) versions.set(productId, versions.get(productId)! + 1);
    return [...events.values()];
  });
  return { perBatch, remaining, versions, decisions };
}

const asModelEvent = (payload: InventoryUpdatedPayload): ModelEvent => ({
  productId: payload.productId,
  quantity: payload.quantity,
  delta: payload.delta,
  version: payload.version,
  reserved: payload.reserved,
  refused: payload.refused,
  // One-line orders only reserve and refuse.
  ...(payload.released + payload.restocked === 0 ? {} : { released: payload.released, restocked: payload.restocked }),
  fromOffset: payload.source.fromOffset,
  toOffset: payload.source.toOffset,
});

const decisionOf = (state: OrderProgress | undefined): ModelDecision | OrderProgress | undefined =>
  state?.status === 'confirmed' ? { status: 'confirmed' } : state?.status === 'rejected' ? { status: 'rejected', reason: state.reason } : state;

const confirmedQuantity = (run: Run, orders: OrderCreated[], productId: number) =>
  orders.filter((o) => lead(o).productId === productId && run.decisions.get(o.payload.orderId)?.status === 'confirmed').reduce((total, o) => total + lead(o).quantity, 0);

describe('one-line order properties', () => {
  it('never lets stock go below zero, in any committed event or store row', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, batches, async (stock, orderBatches) => {
        const run = await runTopology(stock, orderBatches);
        for (const payload of run.perBatch.flat()) expect(payload.quantity).toBeGreaterThanOrEqual(0);
        for (const value of run.inventory.values()) expect(value.quantity).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('decreases stock by exactly the sum of confirmed quantities, per product and batch and overall', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, batches, async (stock, orderBatches) => {
        const run = await runTopology(stock, orderBatches);
        const before = new Map(KNOWN_PRODUCTS.map((id) => [id, stock[id]!]));
        run.perBatch.forEach((events, i) => {
          for (const payload of events) {
            const orders = orderBatches[i]!.filter((o) => lead(o).productId === payload.productId);
            const confirmed = orders.filter((o) => run.decisions.get(o.payload.orderId)?.status === 'confirmed');
            const sum = confirmedQuantity(run, orderBatches[i]!, payload.productId);
            expect(payload.delta).toBe(0 - sum);
            expect(before.get(payload.productId)! - payload.quantity).toBe(sum);
            expect([payload.reserved, payload.refused]).toEqual([confirmed.length, orders.length - confirmed.length]);
            before.set(payload.productId, payload.quantity);
          }
        });
        for (const id of KNOWN_PRODUCTS) expect(run.inventory.get(id)!.quantity).toBe(stock[id]! - confirmedQuantity(run, orderBatches.flat(), id));
      }),
    );
  });

  it('raises each known product version by exactly one per batch in which it had orders, one event per such batch', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, batches, async (stock, orderBatches) => {
        const run = await runTopology(stock, orderBatches);
        for (const id of KNOWN_PRODUCTS) {
          const batchesWithOrders = orderBatches.filter((batch) => batch.some((o) => lead(o).productId === id)).length;
          expect(run.inventory.get(id)!.version).toBe(batchesWithOrders);
          const versions = run.perBatch.flat().filter((payload) => payload.productId === id).map((payload) => payload.version);
          expect(versions).toEqual(Array.from({ length: batchesWithOrders }, (_, i) => i + 1));
        }
        run.perBatch.forEach((events) => {
          expect(new Set(events.map((payload) => payload.productId)).size).toBe(events.length);
        });
      }),
    );
  });

  it('decides and reports like a one-order-at-a-time model in offset order, and rejects unknown products without an event', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, batches, async (stock, orderBatches) => {
        const run = await runTopology(stock, orderBatches);
        const expected = model(stock, orderBatches);
        for (const event of orderBatches.flat()) expect([event.payload.orderId, decisionOf(run.decisions.get(event.payload.orderId))]).toEqual([event.payload.orderId, expected.decisions.get(event.payload.orderId)]);
        expect(run.perBatch.map((events) => events.map(asModelEvent))).toEqual(expected.perBatch);
        expect(run.perBatch.flat().some((payload) => payload.productId === UNKNOWN_PRODUCT)).toBe(false);
        expect(run.inventory.has(UNKNOWN_PRODUCT)).toBe(false);
        for (const id of KNOWN_PRODUCTS) expect(run.inventory.get(id)).toEqual({ quantity: expected.remaining.get(id), version: expected.versions.get(id) });
        expect([run.committedOffset ?? 0n, run.deadLetters]).toEqual([BigInt(orderBatches.flat().length), 0]);
      }),
    );
  });

  it('rejects an order for out_of_stock only when its quantity exceeds the stock left at its turn', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, batches, async (stock, orderBatches) => {
        const run = await runTopology(stock, orderBatches);
        const remaining = new Map(KNOWN_PRODUCTS.map((id) => [id, stock[id]!]));
        for (const order of orderBatches.flat()) {
          const decision = run.decisions.get(order.payload.orderId)!;
          const { productId, quantity } = lead(order);
          const left = remaining.get(productId);
          if (left === undefined) {
            expect(decision).toMatchObject({ status: 'rejected', reason: 'unknown_product' });
          } else if (decision.status === 'confirmed') {
            expect(quantity).toBeLessThanOrEqual(left);
            remaining.set(productId, left - quantity);
          } else {
            expect(decision).toMatchObject({ status: 'rejected', reason: 'out_of_stock' });
            expect(quantity).toBeGreaterThan(left);
          }
        }
        for (const id of KNOWN_PRODUCTS) expect(run.inventory.get(id)!.quantity).toBe(remaining.get(id));
      }),
    );
  });

  it('is deterministic: the same input commits the same bytes and the same state, and batching changes no decision', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, batches, async (stock, orderBatches) => {
        const first = await runTopology(stock, orderBatches);
        const second = await runTopology(stock, orderBatches);
        expect(second.encodedOutputs).toEqual(first.encodedOutputs);
        expect(second.inventory).toEqual(first.inventory);
        expect(second.decisions).toEqual(first.decisions);
        // One record per batch: more versions, but every order decided alike and the same stock left.
        const recordByRecord = await runTopology(stock, orderBatches, { batchMaxRecords: 1 });
        expect(recordByRecord.decisions).toEqual(first.decisions);
        for (const id of KNOWN_PRODUCTS) expect(recordByRecord.inventory.get(id)!.quantity).toBe(first.inventory.get(id)!.quantity);
      }),
      { numRuns: 50 },
    );
  });

  it('applies each order once when its OrderCreated is redelivered, in the same batch or a later one', async () => {
    // Each batch may carry copies of orders published before it or earlier in it, as a producer retry or a replay puts them on the topic.
    const withRedeliveries = batches.chain((orderBatches) =>
      fc
        .array(fc.array(fc.nat(), { maxLength: 8 }), { minLength: orderBatches.length, maxLength: orderBatches.length })
        .map((picks) => {
          const published: OrderCreated[] = [];
          const delivered = orderBatches.map((batch, i) => {
            const out: OrderCreated[] = [];
            for (const event of batch) {
              out.push(event);
              published.push(event);
            }
            for (const pick of picks[i]!) if (published.length > 0) out.splice(pick % (out.length + 1), 0, published[pick % published.length]!);
            return out;
          });
          return { orderBatches, delivered };
        }),
    );
    await fc.assert(
      fc.asyncProperty(initialStock, withRedeliveries, async (stock, { orderBatches, delivered }) => {
        const run = await runTopology(stock, delivered, { initialState: { inventory: catalogue(stock), 'order-status': pending(orderBatches.flat()) } });
        const expected = model(stock, delivered);
        expect(run.perBatch.map((events) => events.map(asModelEvent))).toEqual(expected.perBatch);
        for (const id of KNOWN_PRODUCTS) expect(run.inventory.get(id)!.quantity).toBe(expected.remaining.get(id));
        for (const { payload } of orderBatches.flat()) expect(decisionOf(run.decisions.get(payload.orderId))).toEqual(expected.decisions.get(payload.orderId));
        // Every copy was consumed (the offset moved past it), none dead-lettered.
        expect([run.committedOffset ?? 0n, run.deadLetters]).toEqual([BigInt(delivered.flat().length), 0]);
      }),
    );
  });

  it('changes nothing when every record is replayed onto the committed state (a restart that lost its offsets)', async () => {
    await fc.assert(
      fc.asyncProperty(initialStock, batches, async (stock, orderBatches) => {
        const run = await runTopology(stock, orderBatches);
        const replay = await runTopology(stock, orderBatches, { initialState: { inventory: run.inventory, 'order-status': run.decisions } });
        expect(replay.perBatch.flat()).toEqual([]);
        expect(replay.inventory).toEqual(run.inventory);
        expect(replay.decisions).toEqual(run.decisions);
        expect(replay.deadLetters).toBe(0);
      }),
    );
  });
});
