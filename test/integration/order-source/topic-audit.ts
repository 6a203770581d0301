/**
 * Reads a whole orders topic with the partition reader and compares it with the orders
 * table: the two sides of the order source's guarantee.
 */
import type { Sequelize } from 'sequelize';
import type { ConsumedRecord, KafkaClient } from '../../../kafka/port.ts';
import { orderCreatedEventId } from '../../../processors/events.ts';
import { selectRows } from '../../../state/sql.ts';
import { javaPartition } from '../../support/java-partitions.ts';
import { waitFor } from '../../support/kafka.ts';

export interface TopicRecord {
  partition: number;
  key: string | null;
  eventId: string | undefined;
  orderId: string;
  /** The product of its lead line: what the record must be keyed and partitioned by. */
  leadProductId: number;
}

/** Every record on the topic up to its current end, read from offset 0 of each partition. */
export async function readWholeTopic(kafka: KafkaClient, topic: string): Promise<TopicRecord[]> {
  const admin = await kafka.admin();
  let ends: Map<number, bigint>;
  try {
    ends = await admin.highWatermarks(topic);
  } finally {
    await admin.close();
  }
  const expected = [...ends.values()].reduce((sum, end) => sum + Number(end), 0);
  const records: ConsumedRecord[] = [];
  const reader = kafka.partitionReader();
  try {
    await reader.start(
      [...ends.keys()].map((partition) => ({ topic, partition, offset: 0n })),
      (batch) => records.push(...batch.records),
    );
    await waitFor(() => records.length >= expected, { timeoutMs: 60_000, message: `${expected} records of ${topic}` });
  } finally {
    await reader.close();
  }
  return records.map((record) => {
    const event = JSON.parse(record.value!.toString('utf8')) as { payload: { orderId: string; lines: Array<{ productId: number }> } };
    return {
      partition: record.partition,
      key: record.key?.toString('utf8') ?? null,
      eventId: record.headers['event-id'],
      orderId: event.payload.orderId,
      leadProductId: event.payload.lines[0]!.productId,
    };
  });
}

export async function storedOrders(sequelize: Sequelize): Promise<Array<{ id: string; product_id: number; source_seq: string }>> {
  return selectRows(sequelize, 'SELECT id, product_id, source_seq FROM orders ORDER BY source_seq');
}

/**
 * Stored == published as sets of orders, each record under its deterministic event id,
 * keyed by its lead product id, on the partition Java's producer picks for that key (the generated vectors). Returns the duplicates.
 */
export function auditTopic(stored: Array<{ id: string; product_id: number }>, records: TopicRecord[], partitions: number): { duplicates: number } {
  const problems: string[] = [];
  const storedIds = new Set(stored.map((order) => order.id));
  const seen = new Set<string>();
  let duplicates = 0;
  for (const record of records) {
    if (!storedIds.has(record.orderId)) problems.push(`on the topic but not stored: ${record.orderId}`);
    if (record.eventId !== orderCreatedEventId(record.orderId)) problems.push(`event id ${record.eventId} for order ${record.orderId}`);
    if (record.key !== String(record.leadProductId)) problems.push(`key ${record.key} for lead product ${record.leadProductId}`);
    const partition = javaPartition(String(record.leadProductId), partitions);
    if (record.partition !== partition) problems.push(`lead product ${record.leadProductId} on partition ${record.partition}, expected ${partition}`);
    if (seen.has(record.orderId)) duplicates++;
    seen.add(record.orderId);
  }
  for (const order of stored) if (!seen.has(order.id)) problems.push(`stored but not on the topic: ${order.id}`);
  if (problems.length > 0) throw new Error(`${problems.length} problem(s), first: ${problems.slice(0, 5).join('; ')}`);
  return { duplicates };
}
