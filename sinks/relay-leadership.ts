/**
 * Who may publish the outbox: the relay holding a session advisory lock on a dedicated connection
 * (the lock session), with a fencing token in `outbox_relay_leases` bumped when it took the lock.
 *
 * The advisory lock alone is not enough: when the lock session is lost (terminated, network
 * gone) PostgreSQL releases the lock at once, a standby takes it, and the old leader — whose pool
 * connections still work — would go on publishing next to the new one. So every send runs in a
 * transaction that first locks the lease row FOR SHARE with the token this leader got
 * (state/relay-lease-store.ts `holdLease`), and the new leader's bump (an UPDATE of that row)
 * waits until the old leader's send in flight has settled; after it, the old leader's next send
 * sees a foreign token and stops. Losing the lock session also aborts `lost` at once, so the loop
 * stops without waiting for its next send to find out.
 *
 * Residual window: the fence holds as long as the send's transaction outlives the send. A new
 * leader needs the advisory lock (the old lock session gone) AND a bump that does not wait (the
 * old send's transaction gone). Both connections dying while one produce request is in flight —
 * a PostgreSQL restart, every backend terminated — lets a standby in another process take over
 * before that request has landed; at most that one request's rows can then land after rows the
 * new leader sent (it re-sends them too: identical event ids). A relay re-acquiring after its
 * own loss never overlaps itself: its loop awaits the send before it tries again. Kafka's
 * transactional producer would fence this at the broker; the relay uses the idempotent one.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { errorMessage } from '../core/errors.ts';
import type { Logger } from '../core/logger.ts';
import { type LockSession, tryLockSession } from '../state/lock-session.ts';
import { OUTBOX_CHANNEL } from '../state/outbox-store.ts';
import type { SessionSettings } from '../state/pg-session.ts';
import { BUMP_LEASE_SQL } from '../state/relay-lease-store.ts';

export interface Lease {
  readonly name: string;
  readonly token: bigint;
  /** Aborted as soon as the lock session is lost. */
  readonly lost: AbortSignal;
}

export class RelayLeadership {
  readonly #databaseUrl: string;
  readonly #session: SessionSettings | undefined;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #onNotification: () => void;
  readonly #holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #locked: LockSession | undefined;
  #lease: Lease | undefined;

  constructor(options: { databaseUrl: string; session?: SessionSettings; lockName: string; logger: Logger; onNotification: () => void }) {
    this.#databaseUrl = options.databaseUrl;
    this.#session = options.session;
    this.#name = options.lockName;
    this.#logger = options.logger;
    this.#onNotification = options.onNotification;
  }

  /** The lease while this relay leads and its lock session is alive. */
  get lease(): Lease | undefined {
    return this.#lease?.lost.aborted ? undefined : this.#lease;
  }

  /**
   * Takes the lock if it is free and bumps the lease token (waiting for the previous leader's
   * sends in flight). Resolves to the lease, or undefined when another relay leads.
   */
  async tryAcquire(): Promise<Lease | undefined> {
    if (this.lease) return this.lease;
    await this.release();
    let locked: LockSession | undefined;
    try {
      locked = await tryLockSession(this.#databaseUrl, { name: this.#name }, {
        ...(this.#session ? { session: this.#session } : {}),
        onLost: (error) => {
          if (this.#locked === locked) this.#logger.warn('relay lost its lock session; it stops publishing at once', { lock: this.#name, error: error?.message });
        },
      });
      if (!locked) return undefined;
      const bumped = await locked.client.query<{ token: string }>(BUMP_LEASE_SQL, [this.#name, this.#holder]);
      locked.client.on('notification', () => this.#onNotification());
      await locked.client.query(`LISTEN ${OUTBOX_CHANNEL}`);
      if (locked.ended.aborted) throw new Error('the lock session ended while taking the lease');
      this.#locked = locked;
      this.#lease = { name: this.#name, token: BigInt(bumped.rows[0]!.token), lost: locked.ended };
      this.#logger.info('relay is the leader; publishing the outbox', { lock: this.#name, token: String(this.#lease.token) });
      return this.#lease;
    } catch (error) {
      // Ending the session also releases a lock it may hold (e.g. when LISTEN failed after it).
      await locked?.release();
      this.#logger.warn('relay cannot take its lock; retrying', { lock: this.#name, error: errorMessage(error) });
      return undefined;
    }
  }

  /** Gives up the lock (ending its session); a standby may take it. */
  async release(): Promise<void> {
    const locked = this.#locked;
    this.#locked = undefined;
    this.#lease = undefined;
    await locked?.release();
  }
}
