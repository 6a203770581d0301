/**
 * The outbox relay's lease: one row per relay lock name, whose token a relay bumps when it becomes
 * the leader. Every send locks the row FOR SHARE with the token it expects, so a bump (an UPDATE)
 * waits for the sends in flight and a send after a bump sees that it is no longer the leader.
 */
import type { Transaction } from 'sequelize';
import { selectRows } from './sql.ts';

/**
 * Bumps the token of lease `$1` for holder `$2` and returns it (as text). Run on the leader's lock
 * session once it holds the advisory lock; it waits until the previous leader's in-flight sends
 * have committed or rolled back.
 */
export const BUMP_LEASE_SQL = `INSERT INTO outbox_relay_leases (name, token, holder) VALUES ($1, 1, $2)
  ON CONFLICT (name) DO UPDATE SET token = outbox_relay_leases.token + 1, holder = EXCLUDED.holder, acquired_at = now()
  RETURNING token::text AS token`;

/**
 * Locks the lease FOR SHARE until the caller's transaction ends; false when its token is no longer
 * `token`. `idleTimeout` (e.g. '120s') becomes the transaction's idle-in-transaction timeout, in
 * the same round trip: the transaction waits idle while the broker answers and must outlive that.
 */
export async function holdLease(transaction: Transaction, name: string, token: bigint, idleTimeout: string): Promise<boolean> {
  const [row] = await selectRows<{ token: string }>(
    transaction,
    `SELECT token::text AS token, set_config('idle_in_transaction_session_timeout', $idleTimeout, true) AS idle_timeout
     FROM outbox_relay_leases WHERE name = $name FOR SHARE`,
    { name, idleTimeout },
  );
  return row !== undefined && BigInt(row.token) === token;
}
