import { type MigrationContext, runStatements } from './context.ts';

/**
 * An outbox row may carry several records of one topic (state/outbox-frame.ts): a commit writes
 * one row per topic instead of one per record. `record_count` says how many; a row of one record
 * keeps the plain layout (its payload is the record's value), so rows written before this
 * migration, dead letters and parked records read as they always did.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  // A constant default: no table rewrite, however large the outbox.
  await runStatements(context, ['ALTER TABLE outbox ADD COLUMN record_count INTEGER NOT NULL DEFAULT 1 CONSTRAINT outbox_record_count_positive CHECK (record_count > 0)']);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  // Rows of several records cannot be read without the column: refuse rather than lose them.
  await runStatements(context, [
    `DO $$ BEGIN
       IF EXISTS (SELECT FROM outbox WHERE record_count > 1 AND published_at IS NULL) THEN
         RAISE EXCEPTION 'the outbox holds unpublished rows of several records; publish them before rolling back';
       END IF;
     END $$`,
    'DELETE FROM outbox WHERE record_count > 1',
    'ALTER TABLE outbox DROP COLUMN record_count',
  ]);
}
