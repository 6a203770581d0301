import { type MigrationContext, runStatements } from './context.ts';

/**
 * Parking: a row the broker can never accept (larger than the topic's limit on its own, or refused
 * for good) is set aside with its error instead of blocking every row behind it. The relay fetches
 * rows neither published nor parked; `topology outbox --retry` clears the mark.
 *
 * The relay lease: one row per relay lock name whose token the relay bumps when it becomes the
 * leader, and which every send locks FOR SHARE with the token it expects (sinks/relay-lease.ts).
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    // Nullable columns without a default: no table rewrite, however large the outbox.
    'ALTER TABLE outbox ADD COLUMN parked_at TIMESTAMPTZ, ADD COLUMN park_error TEXT',
    // What the relay polls: pending rows in id order, as small as the backlog.
    'DROP INDEX outbox_unpublished_idx',
    'CREATE INDEX outbox_pending_idx ON outbox (id) WHERE published_at IS NULL AND parked_at IS NULL',
    // What `topology outbox --parked`, status and metrics read.
    'CREATE INDEX outbox_parked_idx ON outbox (id) WHERE published_at IS NULL AND parked_at IS NOT NULL',
    `CREATE TABLE outbox_relay_leases (
       name        TEXT PRIMARY KEY,
       token       BIGINT NOT NULL,
       holder      TEXT NOT NULL,
       acquired_at TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
  ]);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    'DROP TABLE IF EXISTS outbox_relay_leases',
    'DROP INDEX IF EXISTS outbox_parked_idx',
    'DROP INDEX IF EXISTS outbox_pending_idx',
    'ALTER TABLE outbox DROP COLUMN IF EXISTS park_error, DROP COLUMN IF EXISTS parked_at',
    'CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL',
  ]);
}
