/**
 * One process per source id: seqs are assigned in memory by the single writer, so a second
 * writer with the same id would hand out the same seqs (and break "seqs commit in order").
 * A session-level PostgreSQL advisory lock enforces it. It lives on a dedicated connection
 * (not the pool, whose sessions come and go) for as long as the source runs, and PostgreSQL
 * drops it when that session ends — also when the process is SIGKILLed.
 *
 * Losing that session (server restart, pg_terminate_backend, a network path that keepalive
 * found dead) loses the lock: another process may take the source id at once. So the lock
 * tells its holder right away (`lost` aborts with SourceLockLostError) and never quietly
 * re-acquires: the source stops writing, its run fails with that error, and whoever supervises
 * the role starts it again from the database (recover), under a freshly taken lock.
 */
import pg from 'pg';
import { ServiceUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { pgClientConfig, type SessionSettings } from '../../state/pg-session.ts';
import type { SourceOwnership } from './ports.ts';

/** Namespace (first key) of the order source's advisory locks; the second key is hashtext(source id). */
const LOCK_NAMESPACE = 0x4f_53_52_43;

/**
 * Another process holds the lock of this source id. A ServiceUnavailableError so the CLI
 * prints one line and exits 1; not retriable, because waiting would only hide the misuse.
 */
export class SourceLockHeldError extends ServiceUnavailableError {
  override readonly retriable = false;
  constructor(sourceId: string) {
    super(`order source "${sourceId}"`, 'another process is already running it (its advisory lock is held); stop it or pass another --source-id');
  }
}

/**
 * The session holding the lock ended while the source ran. Not retriable in place (retrying a
 * write cannot bring the lock back, and must not: another process may hold it now); restarting
 * the role takes the lock again, or finds it held by the process that took over.
 */
export class SourceLockLostError extends ServiceUnavailableError {
  override readonly retriable = false;
  constructor(sourceId: string, detail: string | undefined) {
    super(`order source "${sourceId}"`, `lost its advisory lock session${detail ? ` (${detail})` : ''}; stopped writing, the role must be restarted`);
  }
}

export interface SourceLock extends SourceOwnership {
  /** Aborts, with SourceLockLostError as its reason, when the lock session ends unasked. */
  readonly lost: AbortSignal;
  /** Resolves false while the lock is held; throws SourceLockLostError once it is lost. */
  ensureHeld(): Promise<boolean>;
  release(): Promise<void>;
}

async function tryLock(client: pg.Client, sourceId: string): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked', [LOCK_NAMESPACE, sourceId]);
  return result.rows[0]?.locked === true;
}

/** Takes the lock or throws SourceLockHeldError (or the connection error when the database is down). */
export async function acquireSourceLock(databaseUrl: string, sourceId: string, logger: Logger, session?: SessionSettings): Promise<SourceLock> {
  const client = new pg.Client(pgClientConfig(databaseUrl, session));
  const lost = new AbortController();
  let released = false;
  const onLost = (error?: Error) => {
    if (released || lost.signal.aborted) return;
    const reason = new SourceLockLostError(sourceId, error?.message ?? 'the server closed the session');
    logger.error('lost the source lock session; stopping the source', { sourceId, error: reason.message });
    lost.abort(reason);
  };
  // Before connect: an error event without a listener would crash the process.
  client.on('error', onLost);
  client.on('end', () => onLost());
  try {
    await client.connect();
    if (!(await tryLock(client, sourceId))) throw new SourceLockHeldError(sourceId);
  } catch (error) {
    released = true;
    await client.end().catch(() => undefined);
    throw error;
  }
  return {
    lost: lost.signal,
    async ensureHeld() {
      if (lost.signal.aborted) throw lost.signal.reason;
      return false;
    },
    async release() {
      if (released) return;
      released = true;
      await client.end().catch(() => undefined);
    },
  };
}
