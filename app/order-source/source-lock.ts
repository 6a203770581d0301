/**
 * One process per source id: seqs are assigned in memory by the single writer, so a second
 * writer with the same id would hand out the same seqs (and break "seqs commit in order").
 * A session-level PostgreSQL advisory lock enforces it (state/lock-session.ts), held for as
 * long as the source runs.
 *
 * Losing that session (server restart, pg_terminate_backend, a network path that keepalive
 * found dead) loses the lock: another process may take the source id at once. So the lock
 * tells its holder right away (`lost` aborts with SourceLockLostError) and never quietly
 * re-acquires: the source stops writing, its run fails with that error, and whoever supervises
 * the role starts it again from the database (recover), under a freshly taken lock.
 */
import { ServiceUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import { tryLockSession } from '../../state/lock-session.ts';
import type { SessionSettings } from '../../state/pg-session.ts';
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
    super(`order source "${sourceId}"`, 'another process is already running it (its advisory lock is held); stop it or pass another --source-id', undefined, 'LOCK_HELD');
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
    super(`order source "${sourceId}"`, `lost its advisory lock session${detail ? ` (${detail})` : ''}; stopped writing, the role must be restarted`, undefined, 'LOCK_LOST');
  }
}

export interface SourceLock extends SourceOwnership {
  /** Aborts, with SourceLockLostError as its reason, when the lock session ends unasked. */
  readonly lost: AbortSignal;
  /** Resolves false while the lock is held; throws SourceLockLostError once it is lost. */
  ensureHeld(): Promise<boolean>;
  release(): Promise<void>;
}

/** Takes the lock or throws SourceLockHeldError (or the connection error when the database is down). */
export async function acquireSourceLock(databaseUrl: string, sourceId: string, logger: Logger, session?: SessionSettings): Promise<SourceLock> {
  const lost = new AbortController();
  const locked = await tryLockSession(
    databaseUrl,
    { namespace: LOCK_NAMESPACE, name: sourceId },
    {
      ...(session ? { session } : {}),
      onLost: (error) => {
        const reason = new SourceLockLostError(sourceId, error?.message ?? 'the server closed the session');
        logger.error('lost the source lock session; stopping the source', { sourceId, error: reason.message });
        lost.abort(reason);
      },
    },
  );
  if (!locked) throw new SourceLockHeldError(sourceId);
  return {
    lost: lost.signal,
    async ensureHeld() {
      if (lost.signal.aborted) throw lost.signal.reason;
      return false;
    },
    release: () => locked.release(),
  };
}
