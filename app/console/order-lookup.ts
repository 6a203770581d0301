/**
 * GET /api/orders/:orderId: an order as PostgreSQL holds it (status, lines and what became of
 * each) and its events on Kafka: the OrderCreated (keyed by its lead line's product) and its
 * outcomes (keyed by the order id), each found in its key's partition from the order's times
 * (key-events.ts), with the trace it belongs to when a record carries a W3C traceparent.
 */
import type { Sequelize } from 'sequelize';
import type { KafkaAdmin, KafkaClient } from '../../kafka/port.ts';
import { orderCreatedEventId } from '../../processors/events.ts';
import { selectRows } from '../../state/sql.ts';
import { HttpError } from './http-server.ts';
import { keyRecordsSince } from './key-events.ts';

export interface OrderTopics {
  ordersTopic: string;
  ordersConfirmedTopic: string;
  ordersRejectedTopic: string;
  ordersCancelledTopic: string;
}

export interface OrderLookupDeps {
  sequelize: Sequelize;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  topics: OrderTopics;
}

export interface OrderEvent {
  topic: string;
  type: string;
  eventId: string;
  at: string;
  traceparent: string | null;
}

export interface OrderView {
  order: { id: string; customerId: string | null; status: string; createdAt: string; decidedAt: string | null; reason: string | null; sourceId: string; sourceSeq: string; cancelRequest: string | null };
  lines: Array<{ productId: number; quantity: number; status?: string; reason?: string }>;
  events: OrderEvent[];
  traceId: string | null;
}

/** Records are stamped when sent, after the order was stored or decided; this much earlier covers clocks apart. */
const CLOCK_SLACK_MS = 5_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** `:orderId`: a UUID, lower-cased. Pure. */
export function parseOrderId(raw: string): string {
  const id = raw.trim().toLowerCase();
  if (!UUID.test(id)) throw new HttpError(400, `order id: expected a UUID such as 0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b, got ${JSON.stringify(raw)}`);
  return id;
}

/** The trace id of a W3C traceparent (`00-<trace id>-<span id>-<flags>`), or null. Pure. */
export function traceIdOf(traceparent: string | null | undefined): string | null {
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent?.trim() ?? '');
  return match && !/^0+$/.test(match[1]!) ? match[1]! : null;
}

interface OrderRow {
  id: string;
  customer_id: string | null;
  status: string;
  reason: string | null;
  created_at: Date;
  decided_at: Date | null;
  source_id: string;
  source_seq: string;
  cancel_request: string | null;
  line_results: Array<{ productId: number; outcome?: string; reason?: string }> | null;
}

export async function lookUpOrder(deps: OrderLookupDeps, orderId: string): Promise<OrderView> {
  const [row] = await selectRows<OrderRow>(
    deps.sequelize,
    'SELECT id, customer_id, status, reason, created_at, decided_at, source_id, source_seq, cancel_request, line_results FROM orders WHERE id = $orderId',
    { orderId },
  );
  if (row === undefined) throw new HttpError(404, `no order ${orderId}`);
  const lines = await selectRows<{ product_id: number; quantity: number }>(deps.sequelize, 'SELECT product_id, quantity FROM order_lines WHERE order_id = $orderId ORDER BY line_no', { orderId });
  const results = new Map((row.line_results ?? []).map((result) => [result.productId, result]));
  const events = await orderEvents(deps, row, lines[0]?.product_id);
  return {
    order: {
      id: row.id,
      customerId: row.customer_id,
      status: row.status,
      createdAt: row.created_at.toISOString(),
      decidedAt: row.decided_at?.toISOString() ?? null,
      reason: row.reason,
      sourceId: row.source_id,
      sourceSeq: String(row.source_seq),
      cancelRequest: row.cancel_request,
    },
    lines: lines.map((line) => {
      const result = results.get(line.product_id);
      return { productId: line.product_id, quantity: line.quantity, ...(result?.outcome ? { status: result.outcome } : {}), ...(result?.reason ? { reason: result.reason } : {}) };
    }),
    events,
    traceId: events.map((event) => traceIdOf(event.traceparent)).find((id) => id !== null) ?? null,
  };
}

async function orderEvents(deps: OrderLookupDeps, row: OrderRow, leadProductId: number | undefined): Promise<OrderEvent[]> {
  const createdMs = row.created_at.getTime() - CLOCK_SLACK_MS;
  const decidedMs = (row.decided_at ?? row.created_at).getTime() - CLOCK_SLACK_MS;
  const search = (topic: string, key: string, sinceMs: number) => keyRecordsSince({ kafka: deps.kafka, admin: deps.admin, topic, key }, sinceMs).then((records) => records.map((record) => ({ topic, record })));
  const found = await Promise.all([
    leadProductId === undefined
      ? []
      : search(deps.topics.ordersTopic, String(leadProductId), createdMs).then((records) => records.filter(({ record }) => record.headers['event-id'] === orderCreatedEventId(row.id))),
    search(deps.topics.ordersConfirmedTopic, row.id, decidedMs),
    search(deps.topics.ordersRejectedTopic, row.id, decidedMs),
    // A cancellation may come long after the decision: its window starts with the order.
    search(deps.topics.ordersCancelledTopic, row.id, createdMs),
  ]);
  return found
    .flat()
    .sort((a, b) => a.record.timestamp - b.record.timestamp)
    .map(({ topic, record }) => ({
      topic,
      type: record.headers['event-type'] ?? 'unknown',
      eventId: record.headers['event-id'] ?? '',
      at: new Date(record.timestamp).toISOString(),
      traceparent: record.headers.traceparent ?? null,
    }));
}
