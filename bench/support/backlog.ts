/**
 * Builds the catch-up backlog: a database holding N pending orders over a seeded catalogue, and
 * a fresh topic holding their N OrderCreated events keyed by lead product (orderKey). The orders
 * come from the order source's own generator (uniform popularity, a fixed seed, line counts from
 * `lines`) and are stored and published the way the source does it (its ledger's insert, its
 * orderMessage), so a backlog is what a source would have left behind. Rows and events are made
 * chunk by chunk (insert and produce in parallel), so memory stays flat at 1M orders.
 */
import type { Sequelize } from 'sequelize';
import { orderMessage } from '../../app/order-source/order-messages.ts';
import type { SourceOrder } from '../../app/order-source/ports.ts';
import { createPostgresLedger } from '../../app/order-source/postgres-ledger.ts';
import type { CountDistribution } from '../../core/count-distribution.ts';
import type { Logger } from '../../core/logger.ts';
import { BROKER_DEFAULT_REPLICATION_FACTOR, type KafkaClient } from '../../kafka/port.ts';
import { createOrderGenerator, type OrderGenerator } from '../../processors/order-generator.ts';
import { seed } from '../../state/commerce/seed.ts';

export interface BacklogSpec {
  orders: number;
  products: number;
  /** Units per product: large enough that nearly every order is confirmed (the costlier path). */
  stock: number;
  /** How many lines each order has (default: one). */
  lines?: CountDistribution;
  topic: string;
  partitions: number;
  chunkSize?: number;
  seed?: number;
}

export interface BacklogStats {
  orders: number;
  /** Lines of all the orders together. */
  lines: number;
  products: number;
  insertMs: number;
  totalMs: number;
}

/** The source id the backlog's orders are stored under. */
export const BACKLOG_SOURCE_ID = 'bench';

/** Seeds the catalogue, stores the orders and produces their events into a new topic. */
export async function buildBacklog(spec: BacklogSpec, deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger }): Promise<BacklogStats> {
  const startedAt = performance.now();
  await seed(deps.sequelize, { products: spec.products, stock: spec.stock });
  const admin = await deps.kafka.admin();
  const producer = await deps.kafka.producer({ clientId: 'bench-backlog' });
  const ledger = createPostgresLedger(deps.sequelize, BACKLOG_SOURCE_ID);
  let insertMs = 0;
  let lines = 0;
  try {
    await admin.createTopics([{ topic: spec.topic, partitions: spec.partitions, replicationFactor: BROKER_DEFAULT_REPLICATION_FACTOR }]);
    const generator = backlogGenerator(spec);
    const chunkSize = spec.chunkSize ?? 10_000;
    for (let done = 0; done < spec.orders; done += chunkSize) {
      const orders = drawOrders(generator, done, Math.min(chunkSize, spec.orders - done), Date.now());
      for (const order of orders) lines += order.lines.length;
      const insertStarted = performance.now();
      await Promise.all([
        ledger.insert(orders).then(() => {
          insertMs += performance.now() - insertStarted;
        }),
        producer.send(orders.map((order) => orderMessage(spec.topic, order))),
      ]);
      if ((done / chunkSize) % 20 === 0) deps.logger.info('backlog progress', { stored: done + orders.length, of: spec.orders });
    }
  } finally {
    await producer.close();
    await admin.close();
  }
  // Fresh statistics so the processor's first look-ups plan against a 1M-row table, not an empty one.
  await deps.sequelize.query('VACUUM ANALYZE orders');
  await deps.sequelize.query('VACUUM ANALYZE order_lines');
  return { orders: spec.orders, lines, products: spec.products, insertMs: Math.round(insertMs), totalMs: Math.round(performance.now() - startedAt) };
}

/** The generator of a backlog: products 1..N drawn uniformly, the same sequence for the same spec and seed. */
export function backlogGenerator(spec: Pick<BacklogSpec, 'products' | 'lines' | 'seed'>): OrderGenerator {
  return createOrderGenerator({
    productIds: Array.from({ length: spec.products }, (_, index) => index + 1),
    popularity: { kind: 'uniform' },
    seed: spec.seed ?? 42,
    ...(spec.lines ? { lineCounts: spec.lines } : {}),
  });
}

/** Orders `from+1..from+count` of the backlog's source, all made at `nowMs`. */
export function drawOrders(generator: OrderGenerator, from: number, count: number, nowMs: number): SourceOrder[] {
  const orders: SourceOrder[] = new Array(count);
  for (let i = 0; i < count; i++) orders[i] = { ...generator.next(nowMs), seq: from + i + 1, createdAtMs: nowMs };
  return orders;
}
