/**
 * The naive baseline, the way the original Elixir project processed orders: each record on
 * its own, in its own transaction —
 *
 *   BEGIN; SELECT stock FOR UPDATE; UPDATE inventory; UPDATE orders SET status;
 *   UPDATE stream_offsets (the consumed offset); COMMIT
 *
 * — serially per partition, partitions concurrently (one connection each). It reads the same
 * topic and database copy as the pipeline, through the same Kafka client port, with plain `pg`
 * (no ORM overhead) and no outbox write, so every simplification favours the baseline.
 */
import pg from 'pg';
import type { KafkaClientName } from '../core/config.ts';
import type { Logger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { ConsumedRecord, GroupConsumer, TopicPartition } from '../kafka/port.ts';
import { tpKey } from '../kafka/port.ts';
import { decodeOrderCreated } from '../processors/events.ts';
import { decideOrder } from '../processors/inventory.ts';
import { databaseName } from '../state/database-url.ts';
import { connectDatabase } from '../state/db.ts';
import { claimPartitions } from '../state/offset-store.ts';
import { timeout } from './support/catch-up.ts';
import { measureCpu } from './support/machine-load.ts';

export interface BaselineOptions {
  databaseUrl: string;
  kafkaBrokers: string[];
  client: KafkaClientName;
  topic: string;
  group: string;
  /** Stop after this many orders... */
  sampleOrders: number;
  /** ...or after this long, whichever comes first. */
  maxDurationMs: number;
}

export interface BaselineResult {
  orders: number;
  /** From the first record's transaction to the last one's COMMIT. */
  elapsedMs: number;
  ordersPerSecond: number;
  concurrency: number;
  /** CPU per order (µs) of this process and of the database's backends, as for the pipeline runs. */
  cpuMicrosPerOrder: Record<string, number>;
}

const QUEUE_PAUSE_AT = 500;
const QUEUE_RESUME_AT = 100;

export async function runNaiveBaseline(options: BaselineOptions, logger: Logger): Promise<BaselineResult> {
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 16 });
  // An idle client whose server session ends (the database is dropped after the run) must not crash the bench.
  pool.on('error', (error) => logger.debug('idle baseline connection closed', { error: error.message }));
  const sequelize = await connectDatabase(options.databaseUrl, logger.child('db'), { poolMax: 2 });
  const kafka = createKafkaClient({ kafkaClient: options.client, kafkaBrokers: options.kafkaBrokers }, logger);
  const consumer = kafka.groupConsumer({ groupId: options.group, topics: [options.topic], clientId: 'naive-baseline' });
  const workers = new Map<string, PartitionWorker>();
  /** Every worker ever made, replaced ones included, so none is still in a transaction when the pool ends. */
  const allWorkers: PartitionWorker[] = [];
  let processed = 0;
  let firstAt: number | undefined;
  let lastAt = 0;
  let resolveDone!: () => void;
  let rejectDone!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  const onProcessed = () => {
    processed++;
    lastAt = performance.now();
    if (processed >= options.sampleOrders) resolveDone();
  };
  try {
    await consumer.start({
      onAssigned: async (partitions) => {
        const claims = await claimPartitions(sequelize, options.group, 'naive-baseline', partitions);
        for (const claim of claims) {
          const worker = new PartitionWorker(claim, options.group, pool, consumer, {
            onStart: () => {
              firstAt ??= performance.now();
            },
            onProcessed,
            onError: rejectDone,
          });
          workers.get(tpKey(claim))?.stop();
          workers.set(tpKey(claim), worker);
          allWorkers.push(worker);
        }
        return claims.map((claim) => ({ topic: claim.topic, partition: claim.partition, offset: claim.nextOffset }));
      },
      onRevoked: (partitions) => {
        for (const tp of partitions) workers.get(tpKey(tp))?.stop();
      },
      onBatch: (batch) => workers.get(tpKey(batch))?.push(batch.records),
      onError: rejectDone,
    });
    const startedAt = performance.now();
    const cpu = measureCpu(databaseName(options.databaseUrl));
    await Promise.race([done, timeout(options.maxDurationMs + 30_000, 'naive baseline'), stopAfter(options.maxDurationMs, () => firstAt, resolveDone)]);
    for (const worker of allWorkers) worker.stop();
    await Promise.all(allWorkers.map((worker) => worker.idle()));
    const elapsedMs = lastAt - (firstAt ?? startedAt);
    const used = cpu();
    const wallMs = performance.now() - startedAt;
    return {
      orders: processed,
      elapsedMs: Math.round(elapsedMs),
      ordersPerSecond: Math.round(processed / (elapsedMs / 1000)),
      concurrency: workers.size,
      cpuMicrosPerOrder: Object.fromEntries(Object.entries(used.byGroup).map(([group, cores]) => [group, Math.round(((cores * wallMs * 1000) / processed) * 10) / 10])),
    };
  } finally {
    for (const worker of allWorkers) worker.stop();
    await consumer.close().catch(() => undefined);
    await Promise.all(allWorkers.map((worker) => worker.idle()));
    await pool.end();
    await sequelize.close();
  }
}

/** Resolves the run `durationMs` after the first record started (not after the group formed). */
async function stopAfter(durationMs: number, firstAt: () => number | undefined, stop: () => void): Promise<void> {
  for (;;) {
    const first = firstAt();
    if (first !== undefined && performance.now() - first >= durationMs) return stop();
    await new Promise((resolve) => setTimeout(resolve, 100).unref());
  }
}

interface WorkerHooks {
  onStart(): void;
  onProcessed(): void;
  onError(error: unknown): void;
}

/** One partition's records, one transaction each, strictly in order. */
class PartitionWorker {
  readonly #tp: TopicPartition;
  readonly #group: string;
  readonly #epoch: bigint;
  readonly #pool: pg.Pool;
  readonly #consumer: GroupConsumer;
  readonly #hooks: WorkerHooks;
  readonly #queue: ConsumedRecord[] = [];
  #head = 0;
  #paused = false;
  #stopped = false;
  #running: Promise<void> = Promise.resolve();
  #draining = false;

  constructor(claim: TopicPartition & { epoch: bigint | number }, group: string, pool: pg.Pool, consumer: GroupConsumer, hooks: WorkerHooks) {
    this.#tp = { topic: claim.topic, partition: claim.partition };
    this.#group = group;
    this.#epoch = BigInt(claim.epoch);
    this.#pool = pool;
    this.#consumer = consumer;
    this.#hooks = hooks;
  }

  push(records: ConsumedRecord[]): void {
    if (this.#stopped) return;
    this.#queue.push(...records);
    if (!this.#paused && this.#queue.length - this.#head > QUEUE_PAUSE_AT) {
      this.#paused = true;
      this.#consumer.pause([this.#tp]);
    }
    if (!this.#draining) {
      this.#draining = true;
      this.#running = this.#drain().catch((error: unknown) => {
        if (!this.#stopped) this.#hooks.onError(error);
      });
    }
  }

  stop(): void {
    this.#stopped = true;
  }

  idle(): Promise<void> {
    return this.#running;
  }

  async #drain(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      while (!this.#stopped && this.#head < this.#queue.length) {
        const record = this.#queue[this.#head++]!;
        this.#hooks.onStart();
        await this.#processOne(client, record);
        this.#hooks.onProcessed();
        if (this.#paused && this.#queue.length - this.#head < QUEUE_RESUME_AT) {
          this.#paused = false;
          this.#consumer.resume([this.#tp]);
        }
      }
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    } finally {
      client.release();
      this.#draining = false;
    }
  }

  async #processOne(client: pg.PoolClient, record: ConsumedRecord): Promise<void> {
    // The original project's orders had one product: the bench's backlog has one-line orders only.
    const { orderId, lines } = decodeOrderCreated(record.value).payload;
    const { productId, quantity } = lines[0]!;
    await client.query('BEGIN');
    try {
      const stock = await client.query<{ quantity: number }>('SELECT quantity FROM inventory WHERE product_id = $1 FOR UPDATE', [productId]);
      const row = stock.rows[0];
      const decision = decideOrder(row === undefined ? null : { quantity: row.quantity, version: 0 }, quantity);
      if (decision.status === 'confirmed') {
        await client.query('UPDATE inventory SET quantity = quantity - $2, version = version + 1, updated_at = now() WHERE product_id = $1', [productId, quantity]);
      }
      await client.query("UPDATE orders SET status = $2, reason = $3, decided_at = now(), updated_at = now() WHERE id = $1 AND status = 'pending'", [
        orderId,
        decision.status,
        decision.status === 'rejected' ? decision.reason : null,
      ]);
      const offset = await client.query(
        'UPDATE stream_offsets SET next_offset = $4, updated_at = now() WHERE group_id = $1 AND topic = $2 AND partition = $3 AND epoch = $5',
        [this.#group, this.#tp.topic, this.#tp.partition, String(record.offset + 1n), String(this.#epoch)],
      );
      if (offset.rowCount !== 1) throw new Error(`${tpKey(this.#tp)}: offset row fenced`);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }
}
