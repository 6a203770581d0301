/**
 * Samples the pipeline every second from the outside: the database (orders, offsets, outbox)
 * and the broker (high watermarks), over every topic the topology consumes. Samples feed the progress line, the recovery measurements
 * and the wait for quiescence. Every look has a timeout: during an outage a sample just lacks
 * the fields of the service that is away.
 *
 * The wait for quiescence trusts one sample that shows no lag and an empty outbox, so a sample
 * reads the offsets and the outbox in one statement (one snapshot), and the high watermarks only
 * after it. Then work in flight always shows: a row not yet marked published is in the outbox; one
 * marked was acknowledged before the snapshot, so it is under the later high watermark, and lag
 * unless the snapshot's offsets had consumed it, in which case the rows its consumer wrote are in
 * the same snapshot. Read in parallel, a record acknowledged after the high watermarks were read
 * and marked before the outbox count was in neither, and the verifier could declare quiet — and
 * read back an order still reserving — while it was on its way.
 */
import pg from 'pg';
import { silentLogger } from '../core/logger.ts';
import { createKafkaClient } from '../kafka/index.ts';
import type { KafkaAdmin } from '../kafka/port.ts';
import type { Sample } from './recovery.ts';

export interface MonitorTarget {
  databaseUrl: string;
  brokers: string[];
  group: string;
  /** Every topic the topology's sources read (pipeline-topics.ts). */
  consumedTopics: string[];
  /** Every topic the relay publishes to. */
  publishedTopics: string[];
}

const LOOK_TIMEOUT_MS = 3_000;
const KEPT_SAMPLES = 3_600;

export class Monitor {
  readonly samples: Sample[] = [];
  readonly #target: MonitorTarget;
  readonly #pool: pg.Pool;
  readonly #clock: () => number;
  #admin: KafkaAdmin | undefined;
  #adminFailures = 0;
  #timer: NodeJS.Timeout | undefined;
  #sampling: Promise<void> | undefined;

  /** `admin`: the broker look (tests pass their own); by default a platformatic admin on `target.brokers`. */
  constructor(target: MonitorTarget, clock: () => number, admin?: KafkaAdmin) {
    this.#target = target;
    this.#clock = clock;
    this.#admin = admin;
    this.#pool = new pg.Pool({ connectionString: target.databaseUrl, max: 2, connectionTimeoutMillis: LOOK_TIMEOUT_MS, query_timeout: LOOK_TIMEOUT_MS });
    // A restart or pg_terminate_backend kills idle pooled connections: the pool drops them, no crash.
    this.#pool.on('error', () => {});
  }

  start(intervalMs = 1000): void {
    const tick = () => {
      this.#sampling = this.sample().then(() => {
        if (this.#timer !== undefined) this.#timer = setTimeout(tick, intervalMs);
      });
    };
    this.#timer = setTimeout(tick, 0);
  }

  get latest(): Sample | undefined {
    return this.samples[this.samples.length - 1];
  }

  /** Takes one sample now (also used outside the timer, e.g. to settle). */
  async sample(): Promise<Sample> {
    const sample: Sample = { atMs: this.#clock() };
    // In this order, never in parallel (see the header).
    await this.#database(sample);
    await this.#broker(sample);
    this.samples.push(sample);
    if (this.samples.length > KEPT_SAMPLES) this.samples.splice(0, this.samples.length - KEPT_SAMPLES);
    return sample;
  }

  async #database(sample: Sample): Promise<void> {
    try {
      const parkable = await hasParkingColumns(this.#pool);
      const result = await this.#pool.query<{ stored: string; decided: string; unpublished: string; offsets: Array<{ topic: string; partition: number; next_offset: string }> | null }>(
        `SELECT
           (SELECT count(*) FROM orders) AS stored,
           (SELECT count(*) FROM orders WHERE status NOT IN ('pending', 'reserving')) AS decided,
           (SELECT count(*) FROM outbox WHERE ${unpublishedRows(parkable)}) AS unpublished,
           (SELECT json_agg(json_build_object('topic', topic, 'partition', partition, 'next_offset', next_offset::text))
              FROM stream_offsets WHERE group_id = $1 AND topic = ANY($2)) AS offsets`,
        [this.#target.group, this.#target.consumedTopics],
      );
      const row = result.rows[0]!;
      sample.storedOrders = Number(row.stored);
      sample.decidedOrders = Number(row.decided);
      sample.offsets = new Map((row.offsets ?? []).map((offset) => [partitionName(offset.topic, offset.partition), BigInt(offset.next_offset)]));
      sample.unpublishedOutbox = Number(row.unpublished);
    } catch {
      // The database is away: this sample has no database fields.
    }
  }

  async #broker(sample: Sample): Promise<void> {
    try {
      this.#admin ??= await createKafkaClient({ kafkaClient: 'platformatic', kafkaBrokers: this.#target.brokers }, silentLogger).admin();
      const admin = this.#admin;
      const marksOf = (topics: string[]) => Promise.all(topics.map(async (topic) => [topic, await admin.highWatermarks(topic)] as const));
      const [consumed, published] = await withTimeout(Promise.all([marksOf(this.#target.consumedTopics), marksOf(this.#target.publishedTopics)]), LOOK_TIMEOUT_MS);
      sample.highWatermarks = new Map(consumed.flatMap(([topic, marks]) => [...marks].map(([partition, mark]) => [partitionName(topic, partition), mark] as const)));
      sample.publishedEvents = published.reduce((sum, [, marks]) => sum + [...marks.values()].reduce((total, mark) => total + Number(mark), 0), 0);
      this.#adminFailures = 0;
    } catch {
      // After a broker restart a client may keep a dead connection: start afresh after a few misses.
      if (++this.#adminFailures >= 3) {
        const stale = this.#admin;
        this.#admin = undefined;
        this.#adminFailures = 0;
        void stale?.close().catch(() => {});
      }
    }
  }

  async stop(): Promise<void> {
    const timer = this.#timer;
    this.#timer = undefined;
    clearTimeout(timer);
    await this.#sampling?.catch(() => {});
    await this.#admin?.close().catch(() => {});
    await this.#pool.end().catch(() => {});
  }
}

/** How samples name a partition: `orders[3]`. */
export function partitionName(topic: string, partition: number): string {
  return `${topic}[${partition}]`;
}

/** The outbox rows still to publish: neither published nor, where the schema has the column, parked. */
function unpublishedRows(parkable: boolean): string {
  return `published_at IS NULL${parkable ? ' AND parked_at IS NULL' : ''}`;
}

/** Rows neither published nor parked (the parking columns may not exist in this schema). */
export async function countUnpublished(pool: pg.Pool): Promise<number> {
  const parkable = await hasParkingColumns(pool);
  const result = await pool.query<{ count: string }>(`SELECT count(*) AS count FROM outbox WHERE ${unpublishedRows(parkable)}`);
  return Number(result.rows[0]!.count);
}

let parkingColumns: boolean | undefined;

export async function hasParkingColumns(pool: pg.Pool): Promise<boolean> {
  if (parkingColumns === undefined) {
    const result = await pool.query<{ count: string }>(
      "SELECT count(*) AS count FROM information_schema.columns WHERE table_name = 'outbox' AND column_name IN ('parked_at', 'park_error')",
    );
    parkingColumns = Number(result.rows[0]!.count) === 2;
  }
  return parkingColumns;
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  promise.catch(() => {});
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
