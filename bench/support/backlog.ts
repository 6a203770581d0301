/**
 * Builds the catch-up backlog: a database holding N pending one-line orders over a seeded
 * catalogue, and a fresh topic holding their N OrderCreated events keyed by product (orderKey).
 * Rows and events are made chunk by chunk (insert and produce in parallel), so memory stays flat
 * at 1M orders.
 */
import type { Sequelize } from 'sequelize';
import type { Logger } from '../../core/logger.ts';
import { createRandom, createUuidV7Source } from '../../core/random.ts';
import { BROKER_DEFAULT_REPLICATION_FACTOR, type KafkaClient, type OutgoingMessage } from '../../kafka/port.ts';
import { encodeEvent, eventHeaders, orderCreated, orderKey } from '../../processors/events.ts';
import { insertOrders, type NewOrder } from '../../state/commerce/order-store.ts';
import { seed } from '../../state/commerce/seed.ts';

export interface BacklogSpec {
  orders: number;
  products: number;
  /** Units per product: large enough that nearly every order is confirmed (the costlier path). */
  stock: number;
  topic: string;
  partitions: number;
  chunkSize?: number;
  seed?: number;
}

export interface BacklogStats {
  orders: number;
  products: number;
  insertMs: number;
  totalMs: number;
}

/** Seeds the catalogue, stores the orders and produces their events into a new topic. */
export async function buildBacklog(spec: BacklogSpec, deps: { sequelize: Sequelize; kafka: KafkaClient; logger: Logger }): Promise<BacklogStats> {
  const startedAt = performance.now();
  await seed(deps.sequelize, { products: spec.products, stock: spec.stock });
  const admin = await deps.kafka.admin();
  const producer = await deps.kafka.producer({ clientId: 'bench-backlog' });
  let insertMs = 0;
  try {
    await admin.createTopics([{ topic: spec.topic, partitions: spec.partitions, replicationFactor: BROKER_DEFAULT_REPLICATION_FACTOR }]);
    const random = createRandom(spec.seed ?? 42);
    // Time-ordered ids, as the order source makes them: consecutive orders sit side by side in the primary key.
    const nextOrderId = createUuidV7Source(createRandom((spec.seed ?? 42) + 1));
    const chunkSize = spec.chunkSize ?? 10_000;
    const occurredAt = new Date();
    for (let done = 0; done < spec.orders; done += chunkSize) {
      const orders = generateOrders(done, Math.min(chunkSize, spec.orders - done), spec.products, { nextInt: random.nextInt, nextOrderId });
      const insertStarted = performance.now();
      await Promise.all([
        insertOrders(deps.sequelize, orders).then(() => {
          insertMs += performance.now() - insertStarted;
        }),
        producer.send(orders.map((order) => orderMessage(order, spec.topic, occurredAt))),
      ]);
      if ((done / chunkSize) % 20 === 0) deps.logger.info('backlog progress', { stored: done + orders.length, of: spec.orders });
    }
  } finally {
    await producer.close();
    await admin.close();
  }
  // Fresh statistics so the processor's first look-ups plan against a 1M-row table, not an empty one.
  await deps.sequelize.query('VACUUM ANALYZE orders');
  return { orders: spec.orders, products: spec.products, insertMs: Math.round(insertMs), totalMs: Math.round(performance.now() - startedAt) };
}

/** Orders `from..from+count-1` of the bench's single source, products uniformly at random. */
export function generateOrders(
  from: number,
  count: number,
  products: number,
  { nextInt, nextOrderId }: { nextInt: (bound: number) => number; nextOrderId: (nowMs: number) => string },
): NewOrder[] {
  const now = Date.now();
  const orders: NewOrder[] = new Array(count);
  for (let i = 0; i < count; i++) {
    orders[i] = {
      orderId: nextOrderId(now),
      lines: [{ productId: 1 + nextInt(products), quantity: 1 + nextInt(3) }],
      customerId: `customer-${(from + i) % 10_000}`,
      sourceId: 'bench',
      sourceSeq: from + i + 1,
    };
  }
  return orders;
}

export function orderMessage(order: NewOrder, topic: string, occurredAt: Date): OutgoingMessage {
  const event = orderCreated(
    { orderId: order.orderId, customerId: order.customerId ?? 'anonymous', lines: [...order.lines] },
    occurredAt,
  );
  return { topic, key: orderKey(event.payload), value: encodeEvent(event), headers: eventHeaders(event) };
}
