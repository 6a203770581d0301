import { type MigrationContext, runStatements } from './context.ts';

/**
 * The id of the last batch committed on each partition. A batch that moves no offset (a
 * punctuation of an idle task) cannot tell from the offset whether an earlier attempt whose
 * acknowledgement was lost had committed; its id can (sinks/transactional-sink.ts).
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['ALTER TABLE stream_offsets ADD COLUMN last_commit_id TEXT']);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['ALTER TABLE stream_offsets DROP COLUMN IF EXISTS last_commit_id']);
}
