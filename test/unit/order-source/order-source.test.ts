import { describe, expect, it } from '@jest/globals';
import { OrderSource, SourceSequenceConflictError } from '../../../app/order-source/order-source.ts';
import type { OrderLedger, OrderPublisher, SourceOrder } from '../../../app/order-source/ports.ts';
import { type CountDistribution, isCountDistribution, parseCountDistribution } from '../../../core/count-distribution.ts';
import { StreamError } from '../../../core/errors.ts';
import { silentLogger } from '../../../core/logger.ts';
import { createOrderGenerator } from '../../../processors/order-generator.ts';

/** A connection reset as the adapters report it (translated into a retriable StreamError). */
const transient = (what: string) => new StreamError('SERVICE_UNAVAILABLE', `${what}: connection reset`, { retriable: true });

/**
 * An in-memory ledger that enforces what PostgreSQL would (unique seqs, all-or-nothing
 * batches) and checks the watermark invariant on every advance.
 */
class FakeLedger implements OrderLedger {
  readonly rows = new Map<number, SourceOrder>();
  watermark = 0;
  /** Next inserts that fail before committing. */
  failBeforeCommit = 0;
  /** Next inserts that commit, then lose the connection (the caller sees an error). */
  failAfterCommit = 0;
  insertDelayMs = 0;
  readonly published: Set<string>;

  constructor(published: Set<string>) {
    this.published = published;
  }

  async nextSeq() {
    return Math.max(0, ...this.rows.keys()) + 1;
  }
  async publishedSeq() {
    return this.watermark;
  }
  async insert(orders: readonly SourceOrder[]) {
    if (this.insertDelayMs) await new Promise((resolve) => setTimeout(resolve, this.insertDelayMs));
    if (this.failBeforeCommit > 0) {
      this.failBeforeCommit--;
      throw transient('insert');
    }
    for (const order of orders) if (this.rows.has(order.seq)) throw new Error(`duplicate key (source_id, source_seq)=${order.seq}`);
    for (const order of orders) this.rows.set(order.seq, order);
    if (this.failAfterCommit > 0) {
      this.failAfterCommit--;
      throw transient('commit acknowledgement');
    }
  }
  async readUnpublished(afterSeq: number, limit: number) {
    return [...this.rows.values()].filter((o) => o.seq > afterSeq).sort((a, b) => a.seq - b.seq).slice(0, limit);
  }
  async advancePublished(seq: number) {
    for (const order of this.rows.values()) {
      if (order.seq <= seq && !this.published.has(order.orderId)) throw new Error(`watermark ${seq} passes unpublished seq ${order.seq}`);
    }
    this.watermark = Math.max(this.watermark, seq);
  }
}

/** Refuses to publish anything that is not stored; remembers what reached the "topic". */
class FakePublisher implements OrderPublisher {
  readonly topic: SourceOrder[] = [];
  readonly published = new Set<string>();
  failSends = 0;
  /** Per-send delays, consumed in order (to make acknowledgements arrive out of order). */
  delays: number[] = [];
  hangs = false;
  ledger: FakeLedger | undefined;

  async publish(orders: readonly SourceOrder[]) {
    for (const order of orders) {
      if (this.ledger?.rows.get(order.seq)?.orderId !== order.orderId) throw new Error(`order ${order.seq} published before it was stored`);
    }
    const delay = this.delays.shift() ?? 0;
    if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
    if (this.hangs || this.failSends > 0) {
      this.failSends--;
      throw transient('produce');
    }
    for (const order of orders) {
      this.topic.push(order);
      this.published.add(order.orderId);
    }
  }
}

function setup(seed = 1, lineCounts?: CountDistribution) {
  const publisher = new FakePublisher();
  const ledger = new FakeLedger(publisher.published);
  publisher.ledger = ledger;
  const source = (maxBatch = 500) =>
    new OrderSource({
      ledger,
      publisher,
      generator: createOrderGenerator({ productIds: [1, 2, 3, 4, 5], seed, ...(lineCounts ? { lineCounts } : {}) }),
      logger: silentLogger,
      maxBatch,
      retry: { initialDelayMs: 1, maxDelayMs: 5, jitter: 0 },
      watermarkIntervalMs: 0,
    });
  return { ledger, publisher, source };
}

function expectStoredEqualsPublished(ledger: FakeLedger, publisher: FakePublisher) {
  const stored = new Set([...ledger.rows.values()].map((order) => order.orderId));
  expect(new Set(publisher.topic.map((order) => order.orderId))).toEqual(stored);
  expect(ledger.watermark).toBe(Math.max(0, ...ledger.rows.keys()));
}

describe('OrderSource', () => {
  it('stores and publishes every order once, numbering seqs without gaps', async () => {
    const { ledger, publisher, source } = setup();
    const s = source(300);
    await s.recover();
    const result = await s.run({ ratePerSecond: 200_000, count: 3_000 });
    expect(result).toMatchObject({ offered: 3_000, scheduled: 3_000, stored: 3_000, published: 3_000, errors: 0, stopped: false });
    expect([...ledger.rows.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 3_000 }, (_, i) => i + 1));
    expect(publisher.topic).toHaveLength(3_000);
    expect(result.latency.count).toBe(3_000);
    expect(s.counters()).toMatchObject({ backlog: 0, watermark: 3_000 });
    expectStoredEqualsPublished(ledger, publisher);
  });

  it('counts the lines of the orders it published', async () => {
    const lines = parseCountDistribution('1-3', { min: 1, max: 100, noun: 'line count' });
    if (!isCountDistribution(lines)) throw new Error(lines.problem);
    const { publisher, source } = setup(1, lines);
    const s = source(300);
    await s.recover();
    const result = await s.run({ ratePerSecond: 200_000, count: 1_000 });
    const published = publisher.topic.reduce((sum, order) => sum + order.lines.length, 0);
    expect(published).toBeGreaterThan(1_500);
    expect(result.publishedLines).toBe(published);
    expect(s.counters().publishedLines).toBe(published);
  });

  it('retries failed inserts and sends, and never stores a batch twice after an unacknowledged commit', async () => {
    const { ledger, publisher, source } = setup();
    ledger.failBeforeCommit = 2;
    ledger.failAfterCommit = 2;
    publisher.failSends = 3;
    const s = source(200);
    await s.recover();
    const result = await s.run({ ratePerSecond: 100_000, count: 2_000 });
    expect(result.stored).toBe(2_000);
    expect(ledger.rows.size).toBe(2_000);
    expect(result.errors).toBe(7);
    expectStoredEqualsPublished(ledger, publisher);
  });

  it('keeps the watermark behind a batch whose acknowledgement is late, while later batches complete', async () => {
    const { ledger, publisher, source } = setup();
    publisher.delays = [150, 0, 0, 0];
    const s = source(100);
    await s.recover();
    const result = await s.run({ ratePerSecond: 50_000, count: 400 });
    // The fake ledger refuses (and the source counts as an error) an advance past the late first batch.
    expect(result.errors).toBe(0);
    expectStoredEqualsPublished(ledger, publisher);
  });

  it('after a crash with stored but unpublished orders, a new process publishes them first', async () => {
    const { ledger, publisher, source } = setup();
    const first = source(100);
    await first.recover();
    await first.run({ ratePerSecond: 100_000, count: 500 });
    // The broker goes away; the process gives up (as if killed) with orders stored, not published.
    publisher.hangs = true;
    const abort = new AbortController();
    const crashed = first.run({ ratePerSecond: 100_000, count: 1_000 }, { abort: abort.signal });
    while (ledger.rows.size <= 500) await new Promise((resolve) => setTimeout(resolve, 5));
    abort.abort();
    await expect(crashed).rejects.toThrow(/connection reset/);
    const unpublished = [...ledger.rows.values()].filter((order) => !publisher.published.has(order.orderId));
    expect(unpublished.length).toBeGreaterThan(0);

    publisher.hangs = false;
    const second = source(100);
    const recovered = await second.recover();
    expect(recovered).toBeGreaterThanOrEqual(unpublished.length);
    expectStoredEqualsPublished(ledger, publisher);
    // Continues the sequence after the recovered orders.
    const before = ledger.rows.size;
    await second.run({ ratePerSecond: 100_000, count: 100 });
    expect(Math.min(...[...ledger.rows.keys()].slice(before))).toBe(before + 1);
    expectStoredEqualsPublished(ledger, publisher);
  });

  it('measures latency from the intended send time, so a stall shows up instead of lowering the load', async () => {
    const { ledger, publisher, source } = setup();
    const s = source(5_000);
    await s.recover();
    ledger.insertDelayMs = 200;
    const result = await s.run({ ratePerSecond: 10_000, durationMs: 300 });
    // Orders kept coming due while the insert stalled: all 3000 were offered and stored...
    expect(result.scheduled).toBe(3_000);
    // ...and the first of them waited at least the 200 ms stall.
    expect(result.latency.max).toBeGreaterThanOrEqual(200);
    expect(result.latency.p50).toBeGreaterThan(100);
    expectStoredEqualsPublished(ledger, publisher);
  });

  it('stops scheduling on stop and still publishes what it stored', async () => {
    const { ledger, publisher, source } = setup();
    const s = source(100);
    await s.recover();
    const stop = new AbortController();
    const run = s.run({ ratePerSecond: 5_000, durationMs: 60_000 }, { stop: stop.signal });
    while (ledger.rows.size < 200) await new Promise((resolve) => setTimeout(resolve, 5));
    stop.abort();
    const result = await run;
    expect(result.stopped).toBe(true);
    expect(result.scheduled).toBeLessThan(10_000);
    expectStoredEqualsPublished(ledger, publisher);
  });

  it('fails rather than continue when another writer moved the sequence', async () => {
    const { ledger, source } = setup();
    const s = source(100);
    await s.recover();
    ledger.failBeforeCommit = 1;
    const intruder = { seq: 1, orderId: '00000000-0000-7000-8000-000000000000', customerId: 'x', lines: [{ productId: 1, quantity: 1 }], createdAtMs: 0 };
    const originalInsert = ledger.insert.bind(ledger);
    ledger.insert = async (orders) => {
      if (!ledger.rows.has(1)) ledger.rows.set(1, intruder);
      return originalInsert(orders);
    };
    await expect(s.run({ ratePerSecond: 100_000, count: 10 })).rejects.toBeInstanceOf(SourceSequenceConflictError);
  });
});
