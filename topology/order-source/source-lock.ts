/**
 * One process per source id: seqs are assigned in memory by the single writer, so a second
 * writer with the same id would hand out the same seqs (and break "seqs commit in order").
 * A session-level PostgreSQL advisory lock enforces it. It lives on a dedicated connection
 * (not the pool, whose sessions come and go) for as long as the source runs, and PostgreSQL
 * drops it when that session ends — also when the process is SIGKILLed.
 */
import pg from 'pg';
import { ServiceUnavailableError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
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

export interface SourceLock extends SourceOwnership {
  /** Resolves true when this call (re-)acquired the lock, false when it was already held. */
  ensureHeld(): Promise<boolean>;
  release(): Promise<void>;
}

async function tryLock(client: pg.Client, sourceId: string): Promise<boolean> {
  const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked', [LOCK_NAMESPACE, sourceId]);
  return result.rows[0]?.locked === true;
}

/** Takes the lock or throws SourceLockHeldError (or the connection error when the database is down). */
export async function acquireSourceLock(databaseUrl: string, sourceId: string, logger: Logger): Promise<SourceLock> {
  let client: pg.Client | undefined;
  let lost = false;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl });
    // A dead session means a released lock: remember it, so the next write re-acquires first.
    const markLost = (error?: Error) => {
      if (client !== next || lost) return;
      lost = true;
      logger.warn('lost the source lock session; will re-acquire before the next write', { sourceId, error: error?.message });
    };
    next.on('error', markLost);
    next.on('end', () => markLost());
    try {
      await next.connect();
      if (!(await tryLock(next, sourceId))) throw new SourceLockHeldError(sourceId);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    client = next;
    lost = false;
  };

  await connect();
  return {
    async ensureHeld() {
      if (!lost) return false;
      await connect();
      logger.info('re-acquired the source lock', { sourceId });
      return true;
    },
    async release() {
      const current = client;
      client = undefined;
      await current?.end().catch(() => undefined);
    },
  };
}
