import { type MigrationContext, runStatements } from './context.ts';

/**
 * A repartition topic's offset row also keeps, per upstream partition, the highest position its
 * task has processed (topology/runtime/repartition-origin.ts), written with the offset in the
 * same statement: a copy of a record the relay sent twice is then skipped after any restart.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['ALTER TABLE stream_offsets ADD COLUMN origin_watermarks JSONB']);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['ALTER TABLE stream_offsets DROP COLUMN IF EXISTS origin_watermarks']);
}
