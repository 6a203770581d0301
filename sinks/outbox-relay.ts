/**
 * Publishes outbox rows to Kafka after their transaction committed, then marks them published.
 *
 * - Polls pending rows (`published_at IS NULL AND parked_at IS NULL ORDER BY id`), never
 *   `id > lastId`: ids are taken at INSERT and become visible at COMMIT, so a high-water mark
 *   would skip rows that commit out of order.
 * - One relay publishes at a time, fenced: a lock plus a lease token checked by every send
 *   (relay-leadership.ts). Others wait as hot standbys. Rows of one key are published in id order,
 *   which is per-product version order, because a product's rows are written by one partition's
 *   serial commits.
 * - A row holds one record or several of one topic (state/outbox-frame.ts). Sends are of records,
 *   so a row's records may go out in several; the row is marked once every record of it was
 *   acknowledged (or parked).
 * - Sends are cut by bytes under each topic's limit (send-limits.ts). A record the broker can never
 *   accept — larger than its topic's limit on its own, or refused for good (SendRefusedError) — is
 *   parked with its error and never blocks the records behind it: a row of one record is parked
 *   as it is, a record of a row of several is copied into a parked row of its own. A refused send
 *   of several records is split in halves until the refused ones are found, so no innocent record
 *   is parked.
 * - Anything else (broker down, leader moving, timeouts, PostgreSQL restarting, an error nobody
 *   classified) is retried with backoff, forever: the loop never throws and the process never
 *   exits because of the relay.
 * - A crash between publish and mark re-publishes rows on restart: duplicates can only be
 *   identical event ids, which consumers deduplicate. So can a refused send split in halves:
 *   partitions of it the broker had accepted are sent again.
 * - Wakes on `NOTIFY outbox` (sent by every outbox write, delivered on COMMIT), LISTENed on the
 *   lock session; the poll every `idlePollMs` remains the fallback for a lost notification.
 * - While a page of rows is being sent, the next page is fetched (leaving out the rows of this
 *   one). Sends are one at a time and in id order; while send n+1 is on its way, send n is marked,
 *   and marks commit in order, so a failed send or mark is retried before anything after it is
 *   marked, and a re-send repeats a suffix of what was sent, in order.
 */
import type { Sequelize, Transaction } from 'sequelize';
import { EventChannel } from '../core/diagnostics.ts';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { checkOptions } from '../core/options.ts';
import { backoffDelay, RETRY_POLICIES, type RetryPolicy, sleep } from '../core/retry.ts';
import type { KafkaAdmin, KafkaProducer } from '../kafka/port.ts';
import { SendRefusedError } from '../kafka/send-refused.ts';
import { deletePublishedBefore, fetchUnpublished, markPublished, type OutboxRecord, parkRecords, parkRows } from '../state/outbox-store.ts';
import type { SessionSettings } from '../state/pg-session.ts';
import { holdLease } from '../state/relay-lease-store.ts';
import { inTransaction } from '../state/sql.ts';
import { type Lease, RelayLeadership } from './relay-leadership.ts';
import { tracedSend } from './relay-tracing.ts';
import { recordSizeBound, splitBySize, TopicLimits } from './send-limits.ts';
import { WakeSignal } from './wake-signal.ts';

export interface RelayOptions {
  sequelize: Sequelize;
  databaseUrl: string;
  /** Keepalive and timeouts of the relay's lock session (state/pg-session.ts); the defaults otherwise. */
  session?: SessionSettings;
  /** Every send must end (failed or acknowledged): give it a DeadlineProducer (kafka/send-deadline.ts). */
  producer: KafkaProducer;
  /** Reads each destination topic's size limit (KafkaAdmin.maxMessageBytes). */
  admin: Pick<KafkaAdmin, 'maxMessageBytes'>;
  logger: Logger;
  /** Records fetched per page at most (a page's first row comes whole, whatever its count). */
  batchSize?: number;
  /** Payload bytes fetched per page at most (a page's first row comes whatever its size). */
  fetchMaxBytes?: number;
  /** How long to wait for a notification before looking again when the outbox is empty. */
  idlePollMs?: number;
  /** How often a standby tries to take the lock. */
  standbyPollMs?: number;
  /** Relays with the same lock name exclude each other. */
  lockName?: string;
  /** Published rows older than this are deleted, so the table stays the size of the recent past. */
  retentionMs?: number;
  /** Backoff after a failed round (retriable or not): it is retried forever. */
  retry?: Partial<RetryPolicy>;
}

export interface RelayStats {
  published: number;
  batches: number;
  /** Rounds that failed and were retried after a backoff. */
  retries: number;
  /** Rows this relay parked. */
  parked: number;
  leader: boolean;
  lastPublishAt: number | undefined;
  /** The last failure that made the relay back off, until a round succeeds again. */
  lastError: string | undefined;
  /** True while the leader waits for a notification (or its poll interval) on an empty outbox. */
  waiting: boolean;
}

/** The sends of one publishAll round: their marks commit in order, and the first failure stops the rest. */
interface SendChain {
  marked: Promise<void>;
  failure: unknown;
  /** Rows sent (or on their way) whose mark has not committed yet: a fetch ahead must leave them out. */
  unmarked: Set<bigint>;
  /**
   * Per row of the round, its records neither acknowledged nor parked yet. A row is marked
   * published by the transaction that brings it to 0. Dropped with the round when it fails: the
   * next round fetches the rows again.
   */
  remaining: Map<bigint, number>;
}

/** What a relay publishes on its diagnostics channel: metrics count from these. */
export type RelayDiagnostic =
  | { type: 'published'; lockName: string; rows: number }
  | { type: 'parked'; lockName: string; rows: number }
  | { type: 'retry'; lockName: string; error: string }
  | { type: 'leadership'; lockName: string; leader: boolean };

export const relayDiagnostics = new EventChannel<RelayDiagnostic>('kstream:relay');

/** This relay no longer leads: its lock session is gone or another relay bumped the lease. */
class LeadershipLostError extends Error {}


/**
 * A send's transaction may sit idle while the broker answers. It must outlive the send (its share
 * lock on the lease is the fence), so it gets longer than the pool's idle-in-transaction timeout:
 * longer than the producer's own timeouts and retries take.
 */
const SEND_TRANSACTION_IDLE_TIMEOUT = '120s';

export class OutboxRelay {
  readonly stats: RelayStats = { published: 0, batches: 0, retries: 0, parked: 0, leader: false, lastPublishAt: undefined, lastError: undefined, waiting: false };
  private readonly options: Required<Omit<RelayOptions, 'sequelize' | 'producer' | 'admin' | 'logger' | 'databaseUrl' | 'session' | 'retry'>> & RelayOptions;
  private readonly abort = new AbortController();
  private readonly wake = new WakeSignal();
  private readonly leadership: RelayLeadership;
  private readonly limits: TopicLimits;
  private loop: Promise<void> | undefined;
  private lastPruneAt = Date.now();

  constructor(options: RelayOptions) {
    checkOptions(
      'OutboxRelay',
      options,
      {
        sequelize: 'object',
        databaseUrl: 'non-empty-string',
        producer: 'object',
        admin: 'object',
        logger: 'object',
        batchSize: 'positive-integer',
        fetchMaxBytes: 'positive-integer',
        idlePollMs: 'positive-integer',
        standbyPollMs: 'positive-integer',
        lockName: 'non-empty-string',
        retentionMs: 'positive-integer',
      },
      ['sequelize', 'databaseUrl', 'producer', 'admin', 'logger'],
    );
    this.options = {
      // Sends are serial, each a broker round trip: larger pages mean fewer, larger sends, and
      // downstream tasks meet larger batches (a 3-line catch-up committed ~30% fewer batches than at 2,000).
      batchSize: 10_000,
      fetchMaxBytes: 16 * 1024 * 1024,
      idlePollMs: 200,
      standbyPollMs: 1000,
      lockName: 'outbox-relay',
      retentionMs: 10 * 60_000,
      ...options,
    };
    this.leadership = new RelayLeadership({ databaseUrl: options.databaseUrl, session: options.session, lockName: this.options.lockName, logger: options.logger, onNotification: () => this.wake.ring() });
    this.limits = new TopicLimits(options.admin);
  }

  /** Starts the loop; the promise settles when it ends (rejects on an error it cannot recover from). */
  start(): Promise<void> {
    this.loop ??= this.run().catch((error: unknown) => {
      // run() catches everything it meets; this is only a last word should that ever fail.
      this.options.logger.error('relay loop ended unexpectedly', { error: errorMessage(error) });
    });
    return this.loop;
  }

  /** Publishes what is pending right now (if this relay leads), then returns: for tests and for draining at shutdown. */
  async drain(): Promise<number> {
    const lease = await this.leadership.tryAcquire();
    this.#setLeader(lease !== undefined);
    return lease ? this.publishAll(lease) : 0;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    // The processor stops before the relay and commits its last batches meanwhile: the leader
    // publishes them before letting go, or they would wait for the next start.
    const lease = this.leadership.lease;
    if (lease) {
      await this.publishAll(lease).catch((error: unknown) =>
        this.options.logger.warn('could not publish the outbox at shutdown; it is published on the next start', { error: errorMessage(error) }),
      );
    }
    await this.leadership.release();
    this.#setLeader(false);
  }

  #setLeader(leader: boolean): void {
    if (this.stats.leader === leader) return;
    this.stats.leader = leader;
    relayDiagnostics.publish({ type: 'leadership', lockName: this.options.lockName, leader });
  }

  private async run(): Promise<void> {
    const { logger } = this.options;
    const signal = this.abort.signal;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const lease = await this.leadership.tryAcquire();
        this.#setLeader(lease !== undefined);
        if (!lease) {
          await sleep(this.options.standbyPollMs, signal);
          continue;
        }
        const sent = await this.publishAll(lease);
        failures = 0;
        this.stats.lastError = undefined;
        if (sent === 0) {
          this.stats.waiting = true;
          await this.wake.wait(this.options.idlePollMs, this.stopOrLost(lease));
          this.stats.waiting = false;
        }
        await this.pruneNowAndThen();
      } catch (error) {
        this.stats.waiting = false;
        if (error instanceof LeadershipLostError) {
          this.#setLeader(false);
          logger.warn('relay is no longer the leader; stopped publishing', { error: error.message });
          await this.leadership.release();
          continue;
        }
        if (signal.aborted) break;
        failures++;
        this.stats.retries++;
        this.stats.lastError = errorMessage(error);
        relayDiagnostics.publish({ type: 'retry', lockName: this.options.lockName, error: this.stats.lastError });
        const delayMs = backoffDelay({ ...RETRY_POLICIES.relay, ...this.options.retry }, failures);
        logger.warn('relay publish failed; retrying', { error: errorMessage(error), failures, delayMs });
        await sleep(delayMs, signal);
      }
    }
  }

  private waitSignal: { lease: Lease; signal: AbortSignal } | undefined;

  /** Aborts on stop() or when the lease's lock session is lost; one per lease, not one per idle wait. */
  private stopOrLost(lease: Lease): AbortSignal {
    if (this.waitSignal?.lease !== lease) this.waitSignal = { lease, signal: AbortSignal.any([this.abort.signal, lease.lost]) };
    return this.waitSignal.signal;
  }

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

  /** Publishes until a fetch finds nothing; returns how many records it published. */
  private async publishAll(lease: Lease): Promise<number> {
    const { sequelize, batchSize, fetchMaxBytes } = this.options;
    const publishedBefore = this.stats.published;
    const chain: SendChain = { marked: Promise.resolve(), failure: undefined, unmarked: new Set(), remaining: new Map() };
    try {
      let page = await fetchUnpublished(sequelize, batchSize, [], fetchMaxBytes);
      while (page.length > 0) {
        for (const record of page) chain.remaining.set(record.id, record.recordsInRow);
        // Leaves out this page and rows of earlier ones sent but not marked yet.
        const next = fetchUnpublished(sequelize, batchSize, [...new Set(page.map((record) => record.id)), ...chain.unmarked], fetchMaxBytes);
        next.catch(() => undefined); // awaited below, unless this page fails first
        await this.publishPage(lease, chain, page);
        page = await next;
      }
      await chain.marked;
    } catch (error) {
      // Nothing is retried before every send's transaction has settled.
      await chain.marked.catch(() => undefined);
      throw error;
    }
    return this.stats.published - publishedBefore;
  }

  /** Sends a page in id order, cut by size; records too large for their topic on their own are parked. */
  private async publishPage(lease: Lease, chain: SendChain, rows: OutboxRecord[], limitsFresh = false): Promise<void> {
    const topics = new Set(rows.map((row) => row.topic));
    await this.limits.load(topics);
    const { sends, oversized } = splitBySize(rows, this.limits.roomOf);
    if (oversized.length > 0 && !limitsFresh && this.limits.invalidateStale(oversized.map((row) => row.topic))) {
      // Before parking for size, make sure of the limit: an operator may just have raised it.
      return this.publishPage(lease, chain, rows, true);
    }
    if (oversized.length > 0) {
      await this.park(
        lease,
        chain,
        oversized.map((row) => ({
          row,
          error: `${recordSizeBound(row)} bytes as a record, more than topic ${row.topic} takes in a batch (max.message.bytes ${this.limits.limitOf(row.topic)})`,
        })),
      );
    }
    for (const send of sends) await this.publishSend(lease, chain, send);
  }

  /** Sends one size-bounded send; on a refusal, finds the refused rows by splitting and parks them. */
  private async publishSend(lease: Lease, chain: SendChain, rows: OutboxRecord[]): Promise<void> {
    try {
      await this.sendFenced(lease, chain, rows);
    } catch (error) {
      if (!(error instanceof SendRefusedError)) throw error;
      if (rows.length === 1) return this.park(lease, chain, [{ row: rows[0]!, error: error.message }]);
      if (error.tooLarge) {
        // The limit may have been lowered since it was read: read it again and cut anew.
        const topics = new Set(rows.map((row) => row.topic));
        this.limits.invalidate(topics);
        await this.limits.load(topics);
        const { sends, oversized } = splitBySize(rows, this.limits.roomOf);
        if (sends.length > 1 || oversized.length > 0) return this.publishPage(lease, chain, rows, true);
      }
      const half = Math.ceil(rows.length / 2);
      await this.publishSend(lease, chain, rows.slice(0, half));
      await this.publishSend(lease, chain, rows.slice(half));
    }
  }

  /**
   * Sends rows in a fenced transaction (lease FOR SHARE, send, mark, commit) and resolves once the
   * broker acknowledged them; the mark and commit go on while the next send starts. Marks stay in
   * order: a send's transaction marks only after the previous one committed, and rolls back if
   * that failed. So after any failure the rows not marked are a suffix of what was sent, and
   * re-sending them repeats it in order (the last copy of each key is still its newest version).
   */
  private async sendFenced(lease: Lease, chain: SendChain, rows: OutboxRecord[]): Promise<void> {
    if (chain.failure !== undefined) throw chain.failure;
    const previous = chain.marked;
    for (const row of rows) chain.unmarked.add(row.id);
    let done: bigint[] = [];
    let acknowledged = false;
    let onAcknowledged!: () => void;
    const sent = new Promise<void>((resolve) => {
      onAcknowledged = resolve;
    });
    const marked = this.fenced(lease, async (transaction) => {
      const send = tracedSend(rows);
      try {
        await this.options.producer.send(send.messages);
      } catch (error) {
        send.end(error);
        throw error;
      }
      send.end();
      acknowledged = true;
      onAcknowledged();
      done = settle(chain, rows);
      await previous;
      await markPublished(transaction, done);
    });
    const settled = marked.then(
      () => {
        for (const id of done) chain.unmarked.delete(id);
        this.stats.published += rows.length;
        relayDiagnostics.publish({ type: 'published', lockName: this.options.lockName, rows: rows.length });
        this.stats.batches++;
        this.stats.lastPublishAt = Date.now();
      },
      (error: unknown) => {
        // A send that failed is the caller's to handle (split, park, retry); a failure after the
        // broker acknowledged (the mark, an earlier mark) leaves rows sent but unmarked: stop sending.
        if (acknowledged) chain.failure ??= error;
        throw error;
      },
    );
    settled.catch(() => undefined); // awaited by the next send or at the end of publishAll
    // Resolves when the broker acknowledged; rejects when the transaction failed before that.
    await Promise.race([sent, marked]);
    chain.marked = settled;
  }

  /**
   * Parks records: a row of one record is set aside as it is; a record of a row of several is
   * copied into a parked row of its own, and its row, once every other record of it went out, is
   * marked published. Waits for the marks in flight first, so marks still commit in order.
   */
  private async park(lease: Lease, chain: SendChain, parked: Array<{ row: OutboxRecord; error: string }>): Promise<void> {
    await chain.marked;
    const alone = parked.filter(({ row }) => row.recordsInRow === 1);
    const framed = parked.filter(({ row }) => row.recordsInRow > 1);
    let done: bigint[] = [];
    await this.fenced(lease, async (transaction) => {
      await parkRows(transaction, alone.map(({ row, error }) => ({ id: row.id, error })));
      await parkRecords(transaction, framed.map(({ row, error }) => ({ record: row, error })));
      done = settle(chain, framed.map(({ row }) => row));
      await markPublished(transaction, done);
    });
    for (const id of done) chain.unmarked.delete(id);
    this.stats.parked += parked.length;
    relayDiagnostics.publish({ type: 'parked', lockName: this.options.lockName, rows: parked.length });
    for (const { row, error } of parked) {
      this.options.logger.warn('parked an outbox row the broker cannot accept; the rows behind it go on (npm run topology -- outbox --parked)', {
        id: String(row.id),
        topic: row.topic,
        key: row.key,
        error,
      });
    }
  }

  /**
   * Runs `work` in a transaction that first locks the lease FOR SHARE with this leader's token, so
   * a new leader's token bump waits until `work` (a send and its mark) has settled.
   */
  private async fenced(lease: Lease, work: (transaction: Transaction) => Promise<unknown>): Promise<void> {
    if (lease.lost.aborted) throw new LeadershipLostError('the lock session was lost');
    await inTransaction(this.options.sequelize, async (transaction) => {
      if (!(await holdLease(transaction, lease.name, lease.token, SEND_TRANSACTION_IDLE_TIMEOUT))) throw new LeadershipLostError('another relay took the lease');
      // Checked again after the lock: the session may have gone while waiting for it.
      if (lease.lost.aborted) throw new LeadershipLostError('the lock session was lost');
      await work(transaction);
    });
  }
}

/** Counts records off their rows' remaining; returns the rows that now have none left. */
function settle(chain: SendChain, records: readonly OutboxRecord[]): bigint[] {
  const done: bigint[] = [];
  for (const record of records) {
    const left = (chain.remaining.get(record.id) ?? 1) - 1;
    chain.remaining.set(record.id, left);
    if (left === 0) done.push(record.id);
  }
  return done;
}
