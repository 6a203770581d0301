/**
 * Helpers for end-to-end tests of the whole pipeline as separate OS processes (the way it
 * runs in production): a fixture with its own database, topics and consumer group; role
 * processes spawned with `app/cli.ts run` whose JSON log lines can be awaited; SIGKILL,
 * SIGSTOP and SIGINT; reading back every record of a topic; restocks and cancellations sent
 * as the verifier sends them; and the order flow's exactly-once invariants (the verifier's
 * findOrderFlowViolations) over a snapshot of the database, the topics and what the test sent.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../core/logger.ts';
import { createKafkaClient } from '../../kafka/index.ts';
import type { ConsumedRecord, KafkaAdmin, KafkaClient, KafkaProducer } from '../../kafka/port.ts';
import { encodeEvent, eventHeaders, type OrderLine, orderCreated, orderKey } from '../../processors/events.ts';
import { insertOrders } from '../../state/commerce/order-store.ts';
import { readOffsets } from '../../state/offset-store.ts';
import { countUnpublished } from '../../state/outbox-store.ts';
import { CommandLoad, type CommandLoadOptions } from '../../verify/command-load.ts';
import { deadLetteredRestockIds } from '../../verify/order-commands.ts';
import type { CancellationSent, OrderFlowSnapshot, RestockSent } from '../../verify/order-flow-model.ts';
import { takeOrderFlowSnapshot } from '../../verify/order-flow-snapshot.ts';
import { consumedTopics, internalTopics, namesEnv, type PipelineNames } from '../../verify/pipeline-topics.ts';
import { RoleProcess } from './child-process.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';
import { brokersFromEnv, TopicPool, uniqueName, waitFor } from './kafka.ts';
import { orderFlowTopics } from './order-flow-topics.ts';

export { sendCancellations, sendRestocks } from '../../verify/order-commands.ts';
export { findOrderFlowViolations, type OrderFlowSnapshot, type StoredOrder } from '../../verify/order-flow-invariants.ts';
export { type LogLine, type ProcessExit, RoleProcess } from './child-process.ts';

const CLI = fileURLToPath(new URL('../../app/cli.ts', import.meta.url));

export type Role = 'all' | 'source' | 'processor' | 'relay';

/** The fixture's consumer group and topics, as the app's settings name them, and the partitions of its keyed topics. */
export type FixtureNames = PipelineNames & { partitions: number };

export interface PipelineFixture {
  names: FixtureNames;
  db: TestDatabase;
  kafka: KafkaClient;
  admin: KafkaAdmin;
  /** The environment a role process of this fixture runs with. */
  env(extra?: Record<string, string>): Record<string, string>;
  /** Spawns `app/cli.ts run --role <role> --no-status [...args]`; killed by `cleanup` if still running. */
  spawnRole(role: Role, options?: { name?: string; args?: string[]; env?: Record<string, string> }): RoleProcess;
  /** Awaits `work`; if it fails, the error also shows the last log lines of every process spawned. */
  diagnose<T>(work: Promise<T>): Promise<T>;
  /** SIGKILLs what still runs, deletes the topics (the processor's internal ones too), drops the database. */
  cleanup(): Promise<void>;
}

export async function createPipelineFixture(label: string, options: { partitions: number }): Promise<PipelineFixture> {
  const db = await createTestDatabase(label);
  const kafka = createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: brokersFromEnv() }, silentLogger);
  const admin = await kafka.admin();
  const topics = new TopicPool(admin);
  const flow = orderFlowTopics(label);
  // Every topic before any process runs: a command sent before the app created its topic must not make the broker create it with its own partition count.
  const keyed = (topic: string) => topics.create(topic, options.partitions);
  const names: FixtureNames = {
    consumerGroup: uniqueName(`${label}-group`),
    ordersTopic: await keyed(`${label}-orders`),
    inventoryTopic: await keyed(`${label}-inventory`),
    dlqTopic: await topics.create(`${label}-dlq`, 1),
    restockCommandsTopic: await keyed(flow.RESTOCK_COMMANDS_TOPIC),
    cancelCommandsTopic: await keyed(flow.CANCEL_COMMANDS_TOPIC),
    ordersConfirmedTopic: await keyed(flow.ORDERS_CONFIRMED_TOPIC),
    ordersRejectedTopic: await keyed(flow.ORDERS_REJECTED_TOPIC),
    ordersCancelledTopic: await keyed(flow.ORDERS_CANCELLED_TOPIC),
    inventoryRestockedTopic: await keyed(flow.INVENTORY_RESTOCKED_TOPIC),
    partitions: options.partitions,
  };
  const { partitions, ...pipelineNames } = names;
  const processes: RoleProcess[] = [];

  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: db.url,
    KAFKA_BROKERS: brokersFromEnv().join(','),
    ...namesEnv(pipelineNames),
    PARTITIONS: String(partitions),
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
      await admin.deleteTopics(internalTopics(pipelineNames)).catch(() => {});
      await admin.close().catch(() => {});
      await db.drop();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Progress, lag and outbox.

/** Sum of the stored next offsets of the group on the orders topic: grows with every committed batch of orders. */
export async function committedTotal(fixture: PipelineFixture): Promise<bigint> {
  const offsets = await readOffsets(fixture.db.sequelize, fixture.names.consumerGroup, fixture.names.ordersTopic);
  return offsets.reduce((sum, offset) => sum + offset.nextOffset, 0n);
}

/** Partitions of every topic the topology consumes whose stored next offset is below the high watermark (a missing row counts as 0). */
export async function partitionsWithLag(fixture: PipelineFixture): Promise<Array<{ topic: string; partition: number; stored: bigint; highWatermark: bigint }>> {
  const topics = consumedTopics(fixture.names);
  const [offsets, highWatermarks] = await Promise.all([
    readOffsets(fixture.db.sequelize, fixture.names.consumerGroup),
    Promise.all(topics.map(async (topic) => [topic, await fixture.admin.highWatermarks(topic)] as const)),
  ]);
  const stored = new Map(offsets.map((offset) => [`${offset.topic}[${offset.partition}]`, offset.nextOffset]));
  return highWatermarks
    .flatMap(([topic, marks]) => [...marks].map(([partition, highWatermark]) => ({ topic, partition, stored: stored.get(`${topic}[${partition}]`) ?? 0n, highWatermark })))
    .filter((entry) => entry.stored !== entry.highWatermark);
}

/** Waits until every partition of every consumed topic is consumed up to its high watermark and the outbox is published. */
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
// Commands and the exactly-once invariants.

/** The commands a test sent, which the invariants hold it to. */
export interface CommandsSent {
  restocks?: RestockSent[];
  cancellations?: CancellationSent[];
}

/**
 * The verifier's rounds of restocks and cancellations (verify/command-load.ts) on the fixture's
 * topics, cancelling orders of the source `sourceId` (the role's default, source-1); stop it
 * before the snapshot and pass what it sent.
 */
export function startCommandLoad(fixture: PipelineFixture, options: Pick<CommandLoadOptions, 'productIds' | 'everyMs'> & Partial<Pick<CommandLoadOptions, 'sourceId' | 'seed' | 'mix'>>): CommandLoad {
  const load = new CommandLoad({
    databaseUrl: fixture.db.url,
    kafka: fixture.kafka,
    restockCommandsTopic: fixture.names.restockCommandsTopic,
    cancelCommandsTopic: fixture.names.cancelCommandsTopic,
    sourceId: 'source-1',
    seed: 1,
    ...options,
  });
  load.start();
  return load;
}

/** What the pipeline left behind, with the initial stock and what the test sent: the input of findOrderFlowViolations. */
export async function takeSnapshot(fixture: PipelineFixture, initialStock: Map<number, number>, sent: CommandsSent = {}): Promise<OrderFlowSnapshot> {
  const { undecodable, ...state } = await takeOrderFlowSnapshot(fixture.db.url, brokersFromEnv(), fixture.names);
  if (undecodable.length > 0) throw new Error(`the pipeline published records that are not the event of their topic: ${undecodable.join('; ')}`);
  const deadLetters = await readTopic(fixture, fixture.names.dlqTopic);
  return {
    initialStock,
    restocksSent: sent.restocks ?? [],
    cancellationsSent: sent.cancellations ?? [],
    deadLetteredRestockIds: deadLetteredRestockIds(deadLetters),
    ...state,
  };
}
