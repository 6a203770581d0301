/**
 * Helpers for end-to-end tests of the whole pipeline as separate OS processes (the way it
 * runs in production): a fixture with its own database, topics and consumer group; role
 * processes spawned with `app/cli.ts run` whose JSON log lines can be awaited; SIGKILL,
 * SIGSTOP and SIGINT; reading back every record of a topic; and the exactly-once invariants
 * as a pure check over a snapshot of the database and the inventory topic.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import type { ConsumedRecord, KafkaAdmin, KafkaClient, KafkaProducer } from '../../kafka/port.ts';
import { decodeInventoryUpdated, encodeEvent, eventHeaders, type OrderLine, orderCreated, orderKey } from '../../processors/events.ts';
import { insertOrders } from '../../state/commerce/order-store.ts';
import { readOffsets } from '../../state/offset-store.ts';
import { countUnpublished } from '../../state/outbox-store.ts';
import { selectRows } from '../../state/sql.ts';
import type { InventoryRow, PipelineSnapshot, StoredOrderRow } from '../../verify/invariants.ts';
import { RoleProcess } from './child-process.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { brokersFromEnv, TopicPool, uniqueName, waitFor } from './kafka.ts';
import { orderFlowTopics } from './order-flow-topics.ts';

export { findInvariantViolations, type InventoryRow, type PipelineSnapshot, type PublishedInventoryEvent, type StoredOrderRow } from '../../verify/invariants.ts';
export { type LogLine, type ProcessExit, RoleProcess } from './child-process.ts';

const CLI = fileURLToPath(new URL('../../app/cli.ts', import.meta.url));

export type Role = 'all' | 'source' | 'processor' | 'relay';

export interface PipelineNames {
  ordersTopic: string;
  inventoryTopic: string;
  dlqTopic: string;
  group: string;
  partitions: number;
}

export interface PipelineFixture {
  names: PipelineNames;
  db: TestDatabase;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  /** The environment a role process of this fixture runs with. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Spawns `app/cli.ts run --role <role> --no-status [...args]`; killed by `cleanup` if still running. */
  spawnRole(role: Role, options?: { name?: string; args?: string[]; env?: Record<string, string> }): RoleProcess;
  /** Awaits `work`; if it fails, the error also shows the last log lines of every process spawned. */
  diagnose<T>(work: Promise<T>): Promise<T>;
  /** SIGKILLs what still runs, deletes the topics, drops the database. */
  cleanup(): Promise<void>;
}

export async function createPipelineFixture(label: string, options: { partitions: number }): Promise<PipelineFixture> {
  const db = await createTestDatabase(label);
  const kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
  const admin = await kafka.admin();
  const topics = new TopicPool(admin);
  const names: PipelineNames = {
    ordersTopic: await topics.create(`${label}-orders`, options.partitions),
    inventoryTopic: await topics.create(`${label}-inventory`, options.partitions),
    dlqTopic: await topics.create(`${label}-dlq`, 1),
    group: uniqueName(`${label}-group`),
    partitions: options.partitions,
  };
  // Created by the roles themselves (connectServices): names of this fixture's own, deleted by cleanup.
  const flowTopics = orderFlowTopics(label);
  const processes: RoleProcess[] = [];

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokersFromEnv().join(','),
    ORDERS_TOPIC: names.ordersTopic,
    INVENTORY_TOPIC: names.inventoryTopic,
    DLQ_TOPIC: names.dlqTopic,
    ...flowTopics,
    CONSUMER_GROUP: names.group,
    PARTITIONS: String(names.partitions),
    // The whole suite runs against either adapter: KAFKA_CLIENT=kafkajs npm test -- test/integration/exactly-once
    KAFKA_CLIENT: process.env.KAFKA_CLIENT ?? 'platformatic',
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    // No periodic restocks unless a test asks: they would change the stock the invariants check.
    RESTOCK_INTERVAL: 'off',
    ...extra,
  });

  return {
    names,
    db,
    kafka,
    admin,
    env,
    spawnRole(role, spawnOptions = {}) {
      const name = spawnOptions.name ?? `${role}-${processes.length + 1}`;
      const args = [CLI, 'run', '--role', role, '--no-status', ...(spawnOptions.args ?? [])];
      const child = spawn(process.execPath, args, {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env({ REPLICA_ID: name, ...spawnOptions.env }) },
      });
      const roleProcess = new RoleProcess(name, child);
      processes.push(roleProcess);
      return roleProcess;
    },
    async diagnose(work) {
      try {
        return await work;
      } catch (error) {
        const logs = processes.map((each) => `--- ${each.name} (pid ${each.pid}, ${each.running ? 'running' : 'exited'}):\n${each.problems()}\n${each.tail(15)}`).join('\n');
        if (error instanceof Error) error.message = `${error.message}\n${logs}`;
        throw error;
      }
    },
    async cleanup() {
      await Promise.all(processes.filter((each) => each.running).map((each) => each.kill9()));
      await topics.cleanup().catch(() => {});
      await admin.deleteTopics(Object.values(flowTopics)).catch(() => {});
      await admin.close().catch(() => {});
      await db.drop();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Progress, lag and outbox.

/** Sum of the stored next offsets of the group: grows with every committed batch. */
export async function committedTotal(fixture: PipelineFixture): Promise<bigint> {
  const offsets = await readOffsets(fixture.db.sequelize, fixture.names.group, fixture.names.ordersTopic);
  return offsets.reduce((sum, offset) => sum + offset.nextOffset, 0n);
}

/** Partitions whose stored next offset is below the high watermark (a missing row counts as 0). */
export async function partitionsWithLag(fixture: PipelineFixture): Promise<Array<{ partition: number; stored: bigint; highWatermark: bigint }>> {
  const [offsets, highWatermarks] = await Promise.all([
    readOffsets(fixture.db.sequelize, fixture.names.group, fixture.names.ordersTopic),
    fixture.admin.highWatermarks(fixture.names.ordersTopic),
  ]);
  const stored = new Map(offsets.map((offset) => [offset.partition, offset.nextOffset]));
  return [...highWatermarks]
    .map(([partition, highWatermark]) => ({ partition, stored: stored.get(partition) ?? 0n, highWatermark }))
    .filter((entry) => entry.stored !== entry.highWatermark);
}

/** Waits until every partition is consumed up to its high watermark and the outbox is published. */
export async function waitUntilCaughtUp(fixture: PipelineFixture, timeoutMs = 60_000): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      const lagging = await partitionsWithLag(fixture);
      const unpublished = await countUnpublished(fixture.db.sequelize);
      last = `lagging ${JSON.stringify(lagging, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))}, unpublished outbox rows ${unpublished}`;
      return lagging.length === 0 && unpublished === 0;
    },
    { timeoutMs, intervalMs: 250, message: 'lag 0 on every partition and an empty outbox' },
  ).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: ${last}`);
  });
}

// ---------------------------------------------------------------------------------------
// Reading topics back.

/** Every record of every partition of `topic`, up to the high watermarks at the time of the call. */
export async function readTopic(fixture: Pick<PipelineFixture, 'kafka' | 'admin'>, topic: string, timeoutMs = 30_000): Promise<ConsumedRecord[]> {
  const highWatermarks = await fixture.admin.highWatermarks(topic);
  const wanted = [...highWatermarks].filter(([, end]) => end > 0n);
  const records = new Map<number, ConsumedRecord[]>(wanted.map(([partition]) => [partition, []]));
  if (wanted.length === 0) return [];
  const reader = fixture.kafka.partitionReader();
  try {
    await reader.start(
      wanted.map(([partition]) => ({ topic, partition, offset: 0n })),
      (batch) => records.get(batch.partition)?.push(...batch.records),
    );
    await waitFor(() => wanted.every(([partition, end]) => (records.get(partition) ?? []).some((record) => record.offset >= end - 1n)), {
      timeoutMs,
      message: `every record of ${topic} up to ${JSON.stringify(wanted.map(([partition, end]) => [partition, end.toString()]))}`,
    });
  } finally {
    await reader.close();
  }
  return wanted.flatMap(([partition, end]) => (records.get(partition) ?? []).filter((record) => record.offset < end));
}

// ---------------------------------------------------------------------------------------
// Orders written directly (for tests that control every record of the orders topic).

export interface TestOrder {
  orderId: string;
  lines: OrderLine[];
}

/** Stores the orders (as the source would) and returns them with their new ids. */
export async function storeOrders(fixture: PipelineFixture, orders: Array<{ lines: OrderLine[] }>, firstSeq: number): Promise<TestOrder[]> {
  const stored = orders.map((order) => ({ orderId: randomUUID(), lines: order.lines }));
  await insertOrders(
    fixture.db.sequelize,
    stored.map((order, index) => ({ ...order, customerId: 'customer-test', sourceId: 'test', sourceSeq: firstSeq + index })),
  );
  return stored;
}

/** The order's OrderCreated record, keyed as the source keys it (orderKey). */
export function orderRecord(topic: string, order: TestOrder): { topic: string; key: string; value: Buffer; headers: Record<string, string> } {
  const event = orderCreated({ ...order, customerId: 'customer-test' }, Date.now());
  return { topic, key: orderKey(order), value: encodeEvent(event), headers: eventHeaders(event) };
}

export async function publishOrders(producer: KafkaProducer, topic: string, orders: TestOrder[]): Promise<void> {
  if (orders.length > 0) await producer.send(orders.map((order) => orderRecord(topic, order)));
}

// ---------------------------------------------------------------------------------------
// The exactly-once invariants.

export async function takeSnapshot(fixture: PipelineFixture, initialStock: Map<number, number>): Promise<PipelineSnapshot> {
  const orders = await selectRows<StoredOrderRow>(fixture.db.sequelize, 'SELECT id, product_id, quantity, status, reason FROM orders');
  const inventory = await selectRows<InventoryRow>(fixture.db.sequelize, 'SELECT product_id, quantity, version FROM inventory');
  const events = (await readTopic(fixture, fixture.names.inventoryTopic)).map((record) => ({
    key: record.key?.toString('utf8') ?? null,
    value: record.value?.toString('utf8') ?? '',
    event: decodeInventoryUpdated(record.value),
  }));
  return { initialStock, orders, inventory, events };
}

