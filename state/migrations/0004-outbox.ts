import { type MigrationContext, runStatements } from './context.ts';

export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    `CREATE TABLE outbox (
       id           BIGSERIAL PRIMARY KEY,
       event_id     TEXT NOT NULL CONSTRAINT outbox_event_id_unique UNIQUE,
       topic        TEXT NOT NULL,
       key          TEXT,
       -- Bytes, not text: dead letters keep the exact bytes of undecodable records.
       payload      BYTEA NOT NULL,
       headers      JSONB NOT NULL DEFAULT '{}'::jsonb,
       created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
       published_at TIMESTAMPTZ
     )`,
    // The relay polls "unpublished, in id order"; this index stays as small as the backlog.
    'CREATE INDEX outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL',
  ]);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['DROP TABLE IF EXISTS outbox']);
}
