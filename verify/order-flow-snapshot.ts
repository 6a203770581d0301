/**
 * What a run of the order flow left behind, read once the pipeline is quiet: the orders with
 * their lines, the stock and the restocks applied from the database, and every record of the
 * InventoryUpdated and the four outcome topics, decoded. What the run sent and the initial
 * stock are the caller's: together they make an OrderFlowSnapshot.
 */
import pg from 'pg';
import type { Codec } from '../core/codec.ts';
import { silentLogger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { ConsumedRecord, KafkaAdmin, KafkaClient } from '../kafka/port.ts';
import { inventoryRestockedCodec, orderCancelledCodec, orderConfirmedCodec, orderRejectedCodec } from '../processors/outcome-events.ts';
import { decodeInventoryUpdate } from './inventory-update.ts';
import type { AppliedRestock, OrderFlowState, Published, StockRow, StoredOrder } from './order-flow-model.ts';
import type { PipelineNames } from './pipeline-topics.ts';
import { readTopic } from './snapshot.ts';

/** The topics it reads, by their settings' names. */
export type OrderFlowTopics = Pick<PipelineNames, 'inventoryTopic' | 'ordersConfirmedTopic' | 'ordersRejectedTopic' | 'ordersCancelledTopic' | 'inventoryRestockedTopic'>;

export interface OrderFlowReading extends OrderFlowState {
  /** Records of the topics that are not the event their topic carries, one line each (topic, partition, offset, why). */
  undecodable: string[];
}

const ORDERS = `
  SELECT o.id, o.status, o.reason, o.cancel_request::text AS cancel_request,
         COALESCE(json_agg(json_build_object('productId', l.product_id, 'quantity', l.quantity) ORDER BY l.line_no)
                  FILTER (WHERE l.order_id IS NOT NULL), '[]') AS lines
    FROM orders o LEFT JOIN order_lines l ON l.order_id = o.id
   GROUP BY o.id
   ORDER BY o.id`;

export async function takeOrderFlowSnapshot(databaseUrl: string, brokers: string[], topics: OrderFlowTopics): Promise<OrderFlowReading> {
  const tables = await readTables(databaseUrl);
  const kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokers }, silentLogger);
  const admin = await kafka.admin();
  try {
    const undecodable: string[] = [];
    const read = <E>(topic: string, type: string, codec: Pick<Codec<E>, 'decode'>) => readEvents(kafka, admin, topic, type, codec, undecodable);
    return {
      ...tables,
      inventoryUpdates: await read(topics.inventoryTopic, 'InventoryUpdated', { decode: decodeInventoryUpdate }),
      confirmed: await read(topics.ordersConfirmedTopic, 'OrderConfirmed', orderConfirmedCodec),
      rejected: await read(topics.ordersRejectedTopic, 'OrderRejected', orderRejectedCodec),
      cancelled: await read(topics.ordersCancelledTopic, 'OrderCancelled', orderCancelledCodec),
      restocked: await read(topics.inventoryRestockedTopic, 'InventoryRestocked', inventoryRestockedCodec),
      undecodable,
    };
  } finally {
    await admin.close().catch(() => {});
  }
}

async function readTables(databaseUrl: string): Promise<Pick<OrderFlowState, 'orders' | 'inventory' | 'restocks'>> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  pool.on('error', () => {});
  try {
    const orders = (await pool.query<{ id: string; status: string; reason: string | null; cancel_request: string | null; lines: StoredOrder['lines'] }>(ORDERS)).rows;
    const inventory = (await pool.query<{ product_id: number; quantity: number; version: string }>('SELECT product_id, quantity, version FROM inventory ORDER BY product_id')).rows;
    const restocks = (await pool.query<{ restock_id: string; product_id: number; quantity: number }>('SELECT restock_id::text, product_id, quantity FROM restocks ORDER BY applied_at, restock_id')).rows;
    return {
      orders: orders.map((row): StoredOrder => ({ id: row.id, status: row.status, reason: row.reason, cancelRequest: row.cancel_request, lines: row.lines })),
      inventory: inventory.map((row): StockRow => ({ productId: row.product_id, quantity: row.quantity, version: Number(row.version) })),
      restocks: restocks.map((row): AppliedRestock => ({ restockId: row.restock_id, productId: row.product_id, quantity: row.quantity })),
    };
  } finally {
    await pool.end().catch(() => {});
  }
}

/** Every record of `topic` decoded; one that does not decode is listed in `undecodable`, not thrown. */
async function readEvents<E>(kafka: KafkaClient, admin: KafkaAdmin, topic: string, type: string, codec: Pick<Codec<E>, 'decode'>, undecodable: string[]): Promise<Array<Published<E>>> {
  const events: Array<Published<E>> = [];
  for (const record of await readTopic(kafka, admin, topic)) {
    try {
      events.push({ key: record.key?.toString('utf8') ?? null, value: record.value?.toString('utf8') ?? '', event: codec.decode(record.value) });
    } catch (error) {
      undecodable.push(`${where(record)} is not an ${type}: ${(error as Error).message}`);
    }
  }
  return events;
}

const where = (record: ConsumedRecord) => `${record.topic}[${record.partition}]@${record.offset}`;
