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
 */
import pg from 'pg';
import type { Sequelize } from 'sequelize';
import type { Logger } from '../core/logger.ts';
import { withRetry, sleep } from '../core/retry.ts';
import { errorMessage } from '../core/errors.ts';
import type { KafkaProducer, OutgoingMessage } from '../kafka/port.ts';
import { deletePublishedBefore, fetchUnpublished, markPublished, type OutboxRow } from '../state/outbox-store.ts';

export interface RelayOptions {
  sequelize: Sequelize;
  databaseUrl: string;
  producer: KafkaProducer;
  logger: Logger;
  batchSize?: number;
  /** How long to wait before looking again when the outbox is empty. */
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
}

export class OutboxRelay {
  readonly stats: RelayStats = { published: 0, batches: 0, retries: 0, leader: false, lastPublishAt: undefined };
  private readonly options: Required<Omit<RelayOptions, 'sequelize' | 'producer' | 'logger' | 'databaseUrl'>> & RelayOptions;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private lockClient: pg.Client | undefined;

  constructor(options: RelayOptions) {
    this.options = { batchSize: 2000, idlePollMs: 20, lockName: 'outbox-relay', retentionMs: 10 * 60_000, ...options };
  }

  start(): void {
    this.loop ??= this.run().catch((error: unknown) => {
      this.options.logger.error('relay stopped on an unrecoverable error', { error: errorMessage(error) });
      throw error;
    });
  }

  /** Publishes what is pending right now, then returns: for tests and for draining at shutdown. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const sent = await this.publishOnce();
      total += sent;
      if (sent === 0) return total;
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => {});
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
      const sent = await withRetry(() => this.publishOnce(), {
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
      if (sent === 0) await sleep(this.options.idlePollMs, signal);
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
    try {
      const client = new pg.Client({ connectionString: this.options.databaseUrl });
      client.on('error', () => {
        // Losing the lock connection loses leadership: stop publishing until it is taken again.
        this.stats.leader = false;
        this.lockClient = undefined;
      });
      await client.connect();
      const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [this.options.lockName]);
      if (result.rows[0]?.locked) {
        this.lockClient = client;
        this.stats.leader = true;
        this.options.logger.info('relay is the leader; publishing the outbox', { lock: this.options.lockName });
        return true;
      }
      await client.end();
      return false;
    } catch (error) {
      this.options.logger.warn('relay cannot reach PostgreSQL for its lock; retrying', { error: errorMessage(error) });
      return false;
    }
  }

  private async publishOnce(): Promise<number> {
    const rows = await fetchUnpublished(this.options.sequelize, this.options.batchSize);
    if (rows.length === 0) return 0;
    await this.options.producer.send(rows.map(toMessage));
    await markPublished(
      this.options.sequelize,
      rows.map((row) => row.id),
    );
    this.stats.published += rows.length;
    this.stats.batches++;
    this.stats.lastPublishAt = Date.now();
    return rows.length;
  }
}

function toMessage(row: OutboxRow): OutgoingMessage {
  return { topic: row.topic, key: row.key, value: row.payload, headers: row.headers };
}
