/**
 * What the run left behind, read once the pipeline is quiet: every row the checks need from
 * the database and every record of the orders, inventory and dead-letter topics.
 */
import pg from 'pg';
import { silentLogger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { ConsumedRecord, KafkaAdmin, KafkaClient } from '../kafka/port.ts';
import { decodeInventoryUpdated } from '../processors/events.ts';
import type { OutboxState, TopicRecord } from './checks.ts';
import type { InventoryRow, PublishedInventoryEvent, StoredOrderRow } from './invariants.ts';
import { countUnpublished, hasParkingColumns } from './monitor.ts';

export interface Topics {
  orders: string;
  inventory: string;
  dlq: string;
}

export interface RunSnapshot {
  orders: StoredOrderRow[];
  inventory: InventoryRow[];
  events: PublishedInventoryEvent[];
  undecodableEvents: string[];
  orderRecords: TopicRecord[];
  dlqRecords: TopicRecord[];
  outbox: OutboxState;
}

export async function readInventory(databaseUrl: string): Promise<InventoryRow[]> {
  return withPool(databaseUrl, async (pool) => (await pool.query<InventoryRow>('SELECT product_id, quantity, version FROM inventory ORDER BY product_id')).rows);
}

export async function takeRunSnapshot(databaseUrl: string, brokers: string[], topics: Topics): Promise<RunSnapshot> {
  const database = await withPool(databaseUrl, async (pool) => {
    const orders = (await pool.query<StoredOrderRow>('SELECT id, product_id, quantity, status, reason FROM orders')).rows;
    const inventory = (await pool.query<InventoryRow>('SELECT product_id, quantity, version FROM inventory ORDER BY product_id')).rows;
    const unpublished = await countUnpublished(pool);
    const parked = (await hasParkingColumns(pool))
      ? (await pool.query<{ id: string; event_id: string; park_error: string | null }>('SELECT id, event_id, park_error FROM outbox WHERE published_at IS NULL AND parked_at IS NOT NULL ORDER BY id')).rows.map(
          (row) => ({ id: row.id, eventId: row.event_id, reason: row.park_error }),
        )
      : undefined;
    return { orders, inventory, outbox: { unpublished, parked } };
  });
  const kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokers }, silentLogger);
  const admin = await kafka.admin();
  try {
    const [inventoryRecords, orderRecords, dlqRecords] = [await readTopic(kafka, admin, topics.inventory), await readTopic(kafka, admin, topics.orders), await readTopic(kafka, admin, topics.dlq)];
    const events: PublishedInventoryEvent[] = [];
    const undecodableEvents: string[] = [];
    for (const record of inventoryRecords) {
      try {
        events.push({ key: record.key?.toString('utf8') ?? null, value: record.value?.toString('utf8') ?? '', event: decodeInventoryUpdated(record.value) });
      } catch (error) {
        undecodableEvents.push(`${topics.inventory}[${record.partition}]@${record.offset} is not an InventoryUpdated: ${(error as Error).message}`);
      }
    }
    return { ...database, events, undecodableEvents, orderRecords: orderRecords.map(toTopicRecord), dlqRecords: dlqRecords.map(toTopicRecord) };
  } finally {
    await admin.close().catch(() => {});
  }
}

function toTopicRecord(record: ConsumedRecord): TopicRecord {
  return { partition: record.partition, offset: record.offset, key: record.key?.toString('utf8') ?? null, value: record.value, headers: record.headers };
}

/** Every record of every partition of `topic`, up to the high watermarks at the time of the call. */
export async function readTopic(kafka: KafkaClient, admin: KafkaAdmin, topic: string, timeoutMs = 120_000): Promise<ConsumedRecord[]> {
  const highWatermarks = await admin.highWatermarks(topic);
  const wanted = [...highWatermarks].filter(([, end]) => end > 0n);
  if (wanted.length === 0) return [];
  const records = new Map<number, ConsumedRecord[]>(wanted.map(([partition]) => [partition, []]));
  const reader = kafka.partitionReader();
  try {
    await reader.start(
      wanted.map(([partition]) => ({ topic, partition, offset: 0n })),
      (batch) => records.get(batch.partition)?.push(...batch.records),
    );
    const deadline = Date.now() + timeoutMs;
    const complete = () => wanted.every(([partition, end]) => (records.get(partition) ?? []).some((record) => record.offset >= end - 1n));
    while (!complete()) {
      if (Date.now() > deadline) throw new Error(`could not read ${topic} to its end within ${timeoutMs / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await reader.close();
  }
  return wanted.flatMap(([partition, end]) => (records.get(partition) ?? []).filter((record) => record.offset < end));
}

async function withPool<T>(url: string, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  try {
    return await work(pool);
  } finally {
    await pool.end().catch(() => {});
  }
}
