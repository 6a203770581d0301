import { type MigrationContext, runStatements } from './context.ts';

/**
 * Every dead letter replayed from the console, once: its row is written in the transaction that
 * writes the replayed record's outbox row, so a letter replayed twice (two clicks, two operators)
 * is replayed once, and a replay that failed left neither.
 */
export async function up({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, [
    `CREATE TABLE dead_letter_replays (
       dlq_topic     TEXT NOT NULL,
       dlq_partition INTEGER NOT NULL,
       dlq_offset    BIGINT NOT NULL,
       replayed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
       PRIMARY KEY (dlq_topic, dlq_partition, dlq_offset)
     )`,
  ]);
}

/** The replay history goes; the replayed records stay on their topics. */
export async function down({ context }: { context: MigrationContext }): Promise<void> {
  await runStatements(context, ['DROP TABLE IF EXISTS dead_letter_replays']);
}
