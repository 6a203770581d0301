/**
 * What the run left behind besides the order flow's tables and topics (order-flow-snapshot.ts),
 * read once the pipeline is quiet: every record of the orders and dead-letter topics and the
 * state of the outbox; and the stock the run started from.
 */
import pg from 'pg';
import { silentLogger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { ConsumedRecord, KafkaAdmin, KafkaClient } from '../kafka/port.ts';
import type { OutboxState, TopicRecord } from './checks.ts';
import { countUnpublished, hasParkingColumns } from './monitor.ts';

export interface RunSnapshot {
  orderRecords: TopicRecord[];
  dlqRecords: TopicRecord[];
  outbox: OutboxState;
}

/** Every product's stock, by product id. */
export async function readStock(databaseUrl: string): Promise<Map<number, number>> {
  const rows = await withPool(databaseUrl, async (pool) => (await pool.query<{ product_id: number; quantity: number }>('SELECT product_id, quantity FROM inventory ORDER BY product_id')).rows);
  return new Map(rows.map((row) => [row.product_id, row.quantity]));
}

export async function takeRunSnapshot(databaseUrl: string, brokers: string[], topics: { ordersTopic: string; dlqTopic: string }): Promise<RunSnapshot> {
  const outbox = await withPool(databaseUrl, async (pool): Promise<OutboxState> => {
    const unpublished = await countUnpublished(pool);
    const parked = (await hasParkingColumns(pool))
      ? (await pool.query<{ id: string; event_id: string; park_error: string | null }>('SELECT id, event_id, park_error FROM outbox WHERE published_at IS NULL AND parked_at IS NOT NULL ORDER BY id')).rows.map(
          (row) => ({ id: row.id, eventId: row.event_id, reason: row.park_error }),
        )
      : undefined;
    return { unpublished, parked };
  });
  const kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokers }, silentLogger);
  const admin = await kafka.admin();
  try {
    const orderRecords = await readTopic(kafka, admin, topics.ordersTopic);
    const dlqRecords = await readTopic(kafka, admin, topics.dlqTopic);
    return { orderRecords: orderRecords.map(toTopicRecord), dlqRecords: dlqRecords.map(toTopicRecord), outbox };
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
