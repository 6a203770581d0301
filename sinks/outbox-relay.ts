/**
 * Publishes outbox rows to Kafka after their transaction committed, then marks them published.
 *
 * - Polls `published_at IS NULL ORDER BY id`, never `id > lastId`: ids are taken at INSERT and
 *   become visible at COMMIT, so a high-water mark would skip rows that commit out of order.
 * - One relay publishes at a time (a PostgreSQL advisory lock held on a dedicated connection);
 *   others wait as hot standbys. Rows of one key are published in id order, which is per-product
 *   version order, because a product's rows are written by one partition's serial commits.
 * - A crash between publish and mark re-publishes rows on restart: duplicates can only be
 *   identical event ids, which consumers deduplicate.
 * - Wakes on `NOTIFY outbox` (sent by every outbox write, delivered on COMMIT), LISTENed on the
 *   lock connection; the poll every `idlePollMs` remains the fallback for a lost notification.
 * - Pipelined: while batch n is on its way to the broker, batch n+1 is fetched (leaving out
 *   rows sent but not yet marked) and batch n-1 is marked. Sends stay one at a time and in id
 *   order, so a failed send is retried before anything after it is sent; marks go in order.
 */
import pg from 'pg';
import type { Sequelize } from 'sequelize';
import type { Logger } from '../core/logger.ts';
import { withRetry, sleep } from '../core/retry.ts';
import { errorMessage } from '../core/errors.ts';
import type { KafkaProducer, OutgoingMessage } from '../kafka/port.ts';
import { deletePublishedBefore, fetchUnpublished, markPublished, OUTBOX_CHANNEL, type OutboxRow } from '../state/outbox-store.ts';
import { WakeSignal } from './wake-signal.ts';

export interface RelayOptions {
  sequelize: Sequelize;
  databaseUrl: string;
  producer: KafkaProducer;
  logger: Logger;
  batchSize?: number;
  /** How long to wait for a notification before looking again when the outbox is empty. */
  idlePollMs?: number;
  /** Relays with the same lock name exclude each other. */
  lockName?: string;
  /** Published rows older than this are deleted, so the table stays the size of the recent past. */
  retentionMs?: number;
}

export interface RelayStats {
  published: number;
  batches: number;
  retries: number;
  leader: boolean;
  lastPublishAt: number | undefined;
  /** True while the leader waits for a notification (or its poll interval) on an empty outbox. */
  waiting: boolean;
}

export class OutboxRelay {
  readonly stats: RelayStats = { published: 0, batches: 0, retries: 0, leader: false, lastPublishAt: undefined, waiting: false };
  private readonly options: Required<Omit<RelayOptions, 'sequelize' | 'producer' | 'logger' | 'databaseUrl'>> & RelayOptions;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lockClient: pg.Client | undefined;
  private readonly wake = new WakeSignal();

  constructor(options: RelayOptions) {
    this.options = { batchSize: 2000, idlePollMs: 200, lockName: 'outbox-relay', retentionMs: 10 * 60_000, ...options };
  }

  /** Starts the loop; the promise settles when it ends (rejects on an error it cannot recover from). */
  start(): Promise<void> {
    this.loop ??= this.run().catch((error: unknown) => {
      this.options.logger.error('relay stopped on an unrecoverable error', { error: errorMessage(error) });
      throw error;
    });
    return this.loop;
  }

  /** Publishes what is pending right now, then returns: for tests and for draining at shutdown. */
  drain(): Promise<number> {
    return this.publishAll();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => {});
    // The processor stops before the relay and commits its last batches meanwhile: the leader
    // publishes them before letting go, or they would wait for the next start.
    if (this.stats.leader) {
      await this.drain().catch((error: unknown) =>
        this.options.logger.warn('could not publish the outbox at shutdown; it is published on the next start', { error: errorMessage(error) }),
      );
    }
    await this.lockClient?.end().catch(() => {});
    this.lockClient = undefined;
    this.stats.leader = false;
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (!(await this.acquireLeadership())) {
        await sleep(1000, signal);
        continue;
      }
      const sent = await withRetry(() => this.publishAll(), {
        policy: { maxAttempts: Number.POSITIVE_INFINITY, initialDelayMs: 100, maxDelayMs: 5000 },
        signal,
        onRetry: (error, failures, delayMs) => {
          this.stats.retries++;
          logger.warn('relay publish failed; retrying', { error: errorMessage(error), failures, delayMs });
        },
      }).catch((error: unknown) => {
        if (signal.aborted) return 0;
        throw error;
      });
      if (sent === 0) {
        this.stats.waiting = true;
        await this.wake.wait(this.options.idlePollMs, signal);
        this.stats.waiting = false;
      }
      await this.pruneNowAndThen();
    }
  }

  private lastPruneAt = Date.now();

  private async pruneNowAndThen(): Promise<void> {
    if (Date.now() - this.lastPruneAt < 30_000) return;
    this.lastPruneAt = Date.now();
    try {
      const deleted = await deletePublishedBefore(this.options.sequelize, new Date(Date.now() - this.options.retentionMs));
      if (deleted > 0) this.options.logger.debug('pruned published outbox rows', { deleted });
    } catch (error) {
      this.options.logger.warn('could not prune the outbox; will try again', { error: errorMessage(error) });
    }
  }

  private async acquireLeadership(): Promise<boolean> {
    if (this.stats.leader && this.lockClient) return true;
    const client = new pg.Client({ connectionString: this.options.databaseUrl });
    try {
      client.on('error', () => {
        // Losing the lock connection loses leadership: stop publishing until it is taken again.
        this.stats.leader = false;
        this.lockClient = undefined;
      });
      await client.connect();
      const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [this.options.lockName]);
      if (result.rows[0]?.locked) {
        client.on('notification', () => this.wake.ring());
        await client.query(`LISTEN ${OUTBOX_CHANNEL}`);
        this.lockClient = client;
        this.stats.leader = true;
        this.options.logger.info('relay is the leader; publishing the outbox', { lock: this.options.lockName });
        return true;
      }
      await client.end();
      return false;
    } catch (error) {
      // Ending the session also releases a lock it may hold (e.g. when LISTEN failed after it).
      await client.end().catch(() => {});
      this.options.logger.warn('relay cannot reach PostgreSQL for its lock; retrying', { error: errorMessage(error) });
      return false;
    }
  }

  /** Publishes until a fetch finds nothing; returns how many rows it published. */
  private async publishAll(): Promise<number> {
    const { sequelize, producer, batchSize } = this.options;
    const unmarked = new Set<bigint>();
    let marking: Promise<number> = Promise.resolve(0);
    let published = 0;
    try {
      let rows = await fetchUnpublished(sequelize, batchSize);
      while (rows.length > 0) {
        for (const row of rows) unmarked.add(row.id);
        const sending = producer.send(rows.map(toMessage));
        const fetching = fetchUnpublished(sequelize, batchSize, [...unmarked]);
        fetching.catch(() => undefined); // awaited below, unless the send fails first
        await sending;
        published += await marking;
        marking = this.markSent(rows, unmarked);
        marking.catch(() => undefined); // awaited on the next turn or after the loop
        rows = await fetching;
      }
    } catch (error) {
      await marking.catch(() => undefined);
      throw error;
    }
    return published + (await marking);
  }

  private async markSent(rows: OutboxRow[], unmarked: Set<bigint>): Promise<number> {
    const ids = rows.map((row) => row.id);
    await markPublished(this.options.sequelize, ids);
    for (const id of ids) unmarked.delete(id);
    this.stats.published += rows.length;
    this.stats.batches++;
    this.stats.lastPublishAt = Date.now();
    return rows.length;
  }
}

function toMessage(row: OutboxRow): OutgoingMessage {
  return { topic: row.topic, key: row.key, value: row.payload, headers: row.headers };
}
