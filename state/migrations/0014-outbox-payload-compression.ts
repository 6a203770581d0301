import { type MigrationContext, runStatements } from './context.ts';

/**
 * Outbox payloads are compressed with lz4 instead of PostgreSQL's default pglz. A commit's row
 * frames hundreds of records (tens to hundreds of kilobytes of JSON), so every commit compressed
 * it and every relay fetch decompressed it again, and pglz is the slow one of the two. A server
 * built without lz4 keeps pglz: the statement is skipped rather than failing the migration.
 * Only rows written from now on are affected; nothing is rewritten.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    `DO $$ BEGIN
       ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4;
     EXCEPTION WHEN feature_not_supported THEN
       RAISE NOTICE 'lz4 is not supported by this server; outbox payloads stay compressed with pglz';
     END $$`,
  ]);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION default']);
}
