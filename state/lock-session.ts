/**
 * A session-level PostgreSQL advisory lock on a dedicated connection (not the pool, whose
 * sessions come and go): held for as long as the session lives, and dropped by the server when
 * it ends — also when the process is SIGKILLed. Used where one process at a time may do a job:
 * the order source (one writer per source id) and the outbox relay (one publisher).
 *
 * Losing the session (server restart, pg_terminate_backend, a network path that keepalive
 * found dead) loses the lock, and another process may take it at once. So the holder hears of
 * it right away: `ended` aborts, and `onLost` is called once when the session ended unasked.
 */
import type pg from 'pg';
import { translatePgError } from './pg-errors.ts';
import { guardedPg, pgClientConfig, type SessionSettings } from './pg-session.ts';

/** The lock's key: `hashtext(name)`, or the pair (namespace, hashtext(name)). */
export interface AdvisoryLockKey {
  name: string;
  namespace?: number;
}

export interface LockSession {
  /** The session itself, for statements that must run on it (LISTEN, a token bump). */
  readonly client: pg.Client;
  /** Aborted once the session has ended, asked (release) or not. */
  readonly ended: AbortSignal;
  /** Ends the session, which releases the lock. */
  release(): Promise<void>;
}

export interface LockSessionOptions {
  session?: SessionSettings;
  /** Called once if the session ends without release() (with the error, when there was one). */
  onLost?: (error: Error | undefined) => void;
}

/**
 * Opens a session and takes the lock if it is free. Resolves to the session holding it, or
 * undefined when another session holds it; rejects when the database cannot be reached.
 */
export async function tryLockSession(databaseUrl: string, key: AdvisoryLockKey, options: LockSessionOptions = {}): Promise<LockSession | undefined> {
  // Keepalive and timeouts as on every app session, so a dead server is noticed, not waited on.
  const client: pg.Client = new guardedPg.Client(pgClientConfig(databaseUrl, options.session));
  const ended = new AbortController();
  let released = false;
  const end = (error?: Error) => {
    if (ended.signal.aborted) return;
    ended.abort(error);
    if (!released) options.onLost?.(error);
  };
  client.on('error', end);
  client.on('end', () => end());
  const release = async () => {
    released = true;
    end();
    await client.end().catch(() => undefined);
  };
  try {
    await client.connect();
    const sql = key.namespace === undefined ? 'SELECT pg_try_advisory_lock(hashtext($1)) AS locked' : 'SELECT pg_try_advisory_lock($2::int, hashtext($1)) AS locked';
    const result = await client.query<{ locked: boolean }>(sql, key.namespace === undefined ? [key.name] : [key.name, key.namespace]);
    if (result.rows[0]?.locked !== true) {
      await release();
      return undefined;
    }
  } catch (error) {
    await release();
    throw translatePgError(error, { lock: key.name });
  }
  return { client, ended: ended.signal, release };
}
