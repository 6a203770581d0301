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
  lines: Array<{ productId: number; quantity: number }>;
  /** The record's value as it is on the topic: a re-publish must repeat it byte for byte. */
  value: Buffer;
}

export interface StoredOrderLines {
  id: string;
  source_seq: string;
  /** `productId x quantity` of each line, in line_no order. */
  lines: string[];
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
    const event = JSON.parse(record.value!.toString('utf8')) as { payload: { orderId: string; lines: Array<{ productId: number; quantity: number }> } };
    return {
      partition: record.partition,
      key: record.key?.toString('utf8') ?? null,
      eventId: record.headers['event-id'],
      orderId: event.payload.orderId,
      lines: event.payload.lines,
      value: record.value!,
    };
  });
}

/** The stored orders with their lines, of one source id or of all. */
export async function storedOrders(sequelize: Sequelize, sourceId?: string): Promise<StoredOrderLines[]> {
  return selectRows(
    sequelize,
    `SELECT o.id, o.source_seq, array_agg(l.product_id || ' x ' || l.quantity ORDER BY l.line_no) AS lines
     FROM orders o JOIN order_lines l ON l.order_id = o.id
     WHERE $sourceId::text IS NULL OR o.source_id = $sourceId::text
     GROUP BY o.id ORDER BY o.source_seq`,
    { sourceId: sourceId ?? null },
  );
}

/**
 * Stored == published as sets of orders, each record under its deterministic event id, with the
 * stored lines in line order, keyed by its lead product id, on the partition Java's producer
 * picks for that key (the generated vectors); a record published twice is the same bytes twice.
 * Returns the duplicates.
 */
export function auditTopic(stored: StoredOrderLines[], records: TopicRecord[], partitions: number): { duplicates: number } {
  const problems: string[] = [];
  const storedLines = new Map(stored.map((order) => [order.id, order.lines.join(', ')]));
  const seen = new Map<string, Buffer>();
  let duplicates = 0;
  for (const record of records) {
    const lines = record.lines.map((line) => `${line.productId} x ${line.quantity}`).join(', ');
    if (!storedLines.has(record.orderId)) problems.push(`on the topic but not stored: ${record.orderId}`);
    else if (storedLines.get(record.orderId) !== lines) problems.push(`order ${record.orderId} published with lines ${lines}, stored with ${storedLines.get(record.orderId)}`);
    if (record.eventId !== orderCreatedEventId(record.orderId)) problems.push(`event id ${record.eventId} for order ${record.orderId}`);
    const leadProductId = record.lines[0]!.productId;
    if (record.key !== String(leadProductId)) problems.push(`key ${record.key} for lead product ${leadProductId}`);
    const partition = javaPartition(String(leadProductId), partitions);
    if (record.partition !== partition) problems.push(`lead product ${leadProductId} on partition ${record.partition}, expected ${partition}`);
    const first = seen.get(record.orderId);
    if (first !== undefined) {
      duplicates++;
      if (!first.equals(record.value)) problems.push(`order ${record.orderId} published twice with different bytes`);
    }
    seen.set(record.orderId, record.value);
  }
  for (const order of stored) if (!seen.has(order.id)) problems.push(`stored but not on the topic: ${order.id}`);
  if (problems.length > 0) throw new Error(`${problems.length} problem(s), first: ${problems.slice(0, 5).join('; ')}`);
  return { duplicates };
}
