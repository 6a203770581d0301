import { type MigrationContext, runStatements } from './context.ts';

export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    // Consumed offsets live here, written in the sink's transaction. `epoch` goes up with
    // each claim of the partition, so a replica that lost it fails its compare-and-set.
    `CREATE TABLE stream_offsets (
       group_id    TEXT NOT NULL,
       topic       TEXT NOT NULL,
       partition   INTEGER NOT NULL,
       next_offset BIGINT NOT NULL,
       epoch       BIGINT NOT NULL DEFAULT 0,
       owner       TEXT,
       updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
       PRIMARY KEY (group_id, topic, partition)
     )`,
  ]);
}

export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['DROP TABLE IF EXISTS stream_offsets']);
}
